"""The hostile corpus: secrets of every family, terminal escapes and injections, as evidence.

`write_evidence(folder)` writes what a stack under attack could print: a
`compose.log` (one service per secret or escape, each line an error a rule
matches, so it becomes evidence in detect, the report and the digest; a
private key printed one line per record, interleaved with another
container's lines) and an `events.jsonl` whose compose labels name services
like `w$(echo pwned >pwned)`. Secrets are made here from the recipes in
`secrets.toml` with a fixed seed: no real token is stored in the repository.
"""

from __future__ import annotations

import json
import random
import re
import string
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).parent
START: Final = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)

_ALPHABETS: Final = {
    "A": string.ascii_letters + string.digits,
    "L": string.ascii_lowercase + string.digits,
    "U": string.ascii_uppercase + string.digits,
    "H": "0123456789abcdef",
    "D": string.digits,
    "T": string.ascii_letters + string.digits + "_-",
    "B": string.ascii_letters + string.digits + "+/",
}


def fill(recipe: str, rng: random.Random) -> str:
    """A recipe (`sk-{A:20}`) with each `{X:n}` replaced by n characters of alphabet X."""

    def one(match: re.Match[str]) -> str:
        alphabet = _ALPHABETS[match.group(1)]
        while True:  # mixed: at least one upper, lower and digit where the alphabet has them
            text = "".join(rng.choice(alphabet) for _ in range(int(match.group(2))))
            classes = [
                c
                for c in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
                if set(c) & set(alphabet)
            ]
            if len(text) < 6 or all(set(text) & set(c) for c in classes):
                return text

    return re.sub(r"\{([A-Z]):(\d+)\}", one, recipe)


@dataclass(frozen=True)
class Secret:
    family: str
    line: str
    secret: str
    kept: str | None = None


def secrets(seed: int = 14) -> list[Secret]:
    """Every entry of `secrets.toml`, filled (the same values for the same seed)."""
    rng = random.Random(seed)
    data = tomllib.loads((HERE / "secrets.toml").read_text(encoding="utf-8"))
    out = []
    for entry in data["secret"]:
        value = fill(entry["secret"], rng)
        out.append(
            Secret(
                entry["family"], entry["text"].replace("{secret}", value), value, entry.get("kept")
            )
        )
    return out


def private_key_lines(seed: int = 7, *, kind: str = "RSA", width: int = 64) -> list[str]:
    """A private key as a tool prints it: BEGIN, full base64 lines, a short last line, END."""
    rng = random.Random(seed)
    body = [fill(f"{{B:{width}}}", rng) for _ in range(12)] + [fill("{B:20}", rng) + "=="]
    return [f"-----BEGIN {kind} PRIVATE KEY-----", *body, f"-----END {kind} PRIVATE KEY-----"]


ESCAPES: Final = {
    "osc-title": "\x1b]0;PWNED-TITLE\x07",
    "osc-clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "osc-hyperlink": "\x1b]8;;http://evil.test/\x1b\\click here\x1b]8;;\x1b\\",
    "dcs": "\x1bP1$r0m\x1b\\",
    "csi-clear": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b31mred\x9b0m",
    "c1-osc": "\x9d0;c1-title\x9c",
    "carriage-return": "real text\rSPOOFED",
    "backspace": "abc\x08\x08\x08XYZ",
    "bell-del": "ring\x07 del\x7f",
    "bidi": "invoice\u202egnp.exe",
}
"""Terminal control sequences a log line can carry, each in a line of its own service."""

MARKER: Final = "pwned"
"""What an injected command would create (a file of this name in the working directory)."""

NAMES: Final = (
    f"w$(echo {MARKER} >{MARKER})",
    f"x`echo {MARKER} >{MARKER}`",
    f"a;echo {MARKER} >{MARKER}",
    f"b'; echo {MARKER} >{MARKER}; '",
    f"c|echo {MARKER} >{MARKER}",
    "--><svg onload=alert(1)>",
    "<script>alert(1)</script>",
    "-rf",
    "{binary}",
    "pipe|cell|",
    "esc\x1b]0;NAME-TITLE\x07",
    "new\nline",
    "tick`s",
)
"""Service names an event label can carry: shell, Markdown/HTML and terminal injections."""


def _compose_line(container: str, at: datetime, text: str) -> str:
    return f"{container}  | {at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {text}\n"


def compose_log() -> str:
    """The compose log: a service per secret and per escape, and a key printed line by line."""
    lines: list[str] = []
    at = START
    for n, s in enumerate(secrets()):
        lines.append(
            _compose_line(f"s{n:02d}-1", at, f"ERROR upstream: Connection refused; {s.line}")
        )
        at += timedelta(seconds=1)
    for n, (_name, seq) in enumerate(ESCAPES.items()):
        lines.append(
            _compose_line(f"e{n:02d}-1", at, f"ERROR upstream: Connection refused {seq} end")
        )
        at += timedelta(seconds=1)
    key = private_key_lines()
    other = private_key_lines(seed=8, kind="OPENSSH", width=70)
    lines.append(_compose_line("keys-1", at, "loading TLS key from environment"))
    for n, text in enumerate(key):
        at += timedelta(milliseconds=10)
        lines.append(_compose_line("keys-1", at, text))
        lines.append(_compose_line("chatty-1", at, f"INFO tick {n}"))
    for text in other:
        at += timedelta(milliseconds=10)
        lines.append(_compose_line("keys-2", at, text))
    at += timedelta(seconds=1)
    lines.append(_compose_line("keys-1", at, "ERROR tls: Connection refused by 10.0.0.7:443"))
    lines.append(_compose_line("keys-2", at, "ERROR sshd: Connection refused by 10.0.0.8:22"))
    return "".join(lines)


def events() -> str:
    """Docker events: each hostile name's container dies three times (a crash loop)."""
    out = []
    at = START + timedelta(minutes=5)
    for n, name in enumerate(NAMES):
        for action in ("start", "die", "start", "die", "start", "die"):
            attributes = {
                "com.docker.compose.project": "shop",
                "com.docker.compose.service": name,
                "name": f"shop-h{n}-1",
            }
            if action == "die":
                attributes["exitCode"] = "1"
            at += timedelta(seconds=2)
            ns = int(at.timestamp()) * 10**9
            out.append(
                json.dumps(
                    {
                        "status": action,
                        "id": f"{n:064x}",
                        "Type": "container",
                        "Action": action,
                        "Actor": {"ID": f"{n:064x}", "Attributes": attributes},
                        "time": ns // 10**9,
                        "timeNano": ns,
                    }
                )
            )
    return "\n".join(out) + "\n"


def write_evidence(folder: Path) -> list[Path]:
    """`compose.log` and `events.jsonl` in `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "compose.log"
    log.write_text(compose_log(), encoding="utf-8")
    ev = folder / "events.jsonl"
    ev.write_text(events(), encoding="utf-8")
    return [log, ev]


def key_material() -> list[str]:
    """The body lines of the corpus's private keys: none may be shown."""
    return [
        line
        for line in (
            *private_key_lines()[1:-1],
            *private_key_lines(seed=8, kind="OPENSSH", width=70)[1:-1],
        )
    ]
