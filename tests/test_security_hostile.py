"""The hostile corpus (tests/hostile/) against every command and every format.

What a stack under attack (or a careless one) prints goes through `grep`,
`detect`, `report`, `digest`, `patterns`, `ingest`, `store info` and `status`,
in each of their formats, and:

- no secret of any family is shown, nor a line of a private key printed one
  line per record (redaction is on by default);
- no human-readable output carries a raw control character (escape
  sequences, C1 controls, bidirectional overrides), and JSON carries them
  escaped, the exact text kept;
- no command the tool prints can be made to run something by a service name
  (each is run through bash with no PATH: an injection would create a file);
- no log text becomes Markdown or HTML markup, and no table gains a column.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hostile.corpus import ESCAPES, MARKER, NAMES, key_material, secrets, write_evidence
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.live.status import StatusReport, judge, render_json, render_text
from incidentlog.redact.terminal import CONTROLS

pytestmark = pytest.mark.slow

_CONTROL_RE = re.compile("[" + re.escape("".join(CONTROLS)) + "]")
_OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
HUMAN = {"text", "md", "html"}


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1), (args, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    return result.stdout


def _status_documents() -> list[dict[str, Any]]:
    """Inspect documents of containers named by the hostile names, probes printing secrets."""
    probes = [s.line for s in secrets()] + list(ESCAPES.values())
    documents = []
    for n, name in enumerate(NAMES):
        probe = probes[n % len(probes)] + "\n" + probes[(n + 7) % len(probes)]
        documents.append(
            {
                "Id": f"{n:064x}",
                "Name": f"/shop-{name}-1",
                "RestartCount": 2,
                "State": {
                    "Status": "running",
                    "ExitCode": 0,
                    "OOMKilled": False,
                    "Health": {
                        "Status": "unhealthy",
                        "FailingStreak": 3,
                        "Log": [{"ExitCode": 1, "Output": probe}],
                    },
                },
                "Config": {
                    "Labels": {
                        "com.docker.compose.project": "shop\x1b]0;P\x07",
                        "com.docker.compose.service": name,
                    }
                },
            }
        )
    return documents


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Every command in every format over the corpus: {(command, format): stdout}."""
    root = tmp_path_factory.mktemp("hostile")
    paths = [str(p) for p in write_evidence(root / "evidence")]
    store = str(root / "store")
    out: dict[tuple[str, str], str] = {}
    out["ingest", "text"] = _cli("ingest", *paths, "--store", store)
    out["ingest", "json"] = _cli(
        "ingest", *paths, "--store", str(root / "store2"), "--format", "json"
    )
    for fmt in ("text", "json", "jsonl"):
        out["grep", fmt] = _cli("grep", ".", *paths, "--format", fmt, "--color", "never")
        out["detect", fmt] = _cli("detect", *paths, "--format", fmt)
        out["patterns", fmt] = _cli("patterns", *paths, "--format", fmt)
    out["grep", "text-colour"] = _cli("grep", "Connection", *paths, "--color", "always")
    out["grep", "text-store"] = _cli("grep", ".", "--store", store, "--color", "never")
    for fmt in ("md", "html", "json"):
        out["report", fmt] = _cli("report", *paths, "--format", fmt)
        hour = ("--hour", "2025-08-01T12", "--tz", "UTC")
        out["digest", fmt] = _cli("digest", "--store", store, *hour, "--format", fmt)
    for fmt in ("text", "json"):
        out["store info", fmt] = _cli("store", "info", "--store", store, "--format", fmt)
    status = StatusReport(host="h\x9b2J", project="shop", services=judge(_status_documents()))
    out["status", "text"] = render_text(status)
    out["status", "json"] = render_json(status)
    return out


KEYS = [
    (command, fmt)
    for command, formats in (
        ("ingest", ("text", "json")),
        ("grep", ("text", "json", "jsonl", "text-colour", "text-store")),
        ("detect", ("text", "json", "jsonl")),
        ("patterns", ("text", "json", "jsonl")),
        ("report", ("md", "html", "json")),
        ("digest", ("md", "html", "json")),
        ("store info", ("text", "json")),
        ("status", ("text", "json")),
    )
    for fmt in formats
]


def _readable(text: str, fmt: str) -> str:
    """The text as a reader gets it: JSON strings decoded, HTML entities and Markdown
    escapes undone (a secret split by `\\_` is still shown)."""
    if fmt in ("json", "jsonl"):
        values: list[str] = []
        for line in [text] if fmt == "json" else text.splitlines():
            if line.strip():
                values.extend(_strings(json.loads(line)))
        return "\n".join(values)
    return html.unescape(text).replace("\\", "")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize(("command", "fmt"), KEYS)
def test_no_secret_is_shown(outputs: dict[tuple[str, str], str], command: str, fmt: str) -> None:
    text = _readable(outputs[command, fmt], fmt.split("-")[0])
    leaked = [s.family for s in secrets() if s.secret in text]
    leaked += [f"private key line {line[:12]}…" for line in key_material() if line in text]
    assert not leaked, f"{command} --format {fmt} shows: {leaked}"


@pytest.mark.parametrize(("command", "fmt"), KEYS)
def test_no_raw_control_character(
    outputs: dict[tuple[str, str], str], command: str, fmt: str
) -> None:
    """Human output shows control characters visibly; JSON escapes them (`\\u001b`)."""
    text = outputs[command, fmt]
    if fmt == "text-colour":
        text = _OUR_COLOURS.sub("", text)
    raw = sorted({f"U+{ord(c):04X}" for c in _CONTROL_RE.findall(text)})
    assert not raw, f"{command} --format {fmt} prints raw {raw}"


def test_the_corpus_reached_every_output(outputs: dict[tuple[str, str], str]) -> None:
    """The checks above mean something: the hostile text is there, made harmless."""
    grep = outputs["grep", "text"]
    assert "^[]0;PWNED-TITLE^G" in grep and "<U+009B>31mred" in grep
    assert "***" in grep and "-----BEGIN RSA PRIVATE KEY-----" in grep
    assert "INFO tick 5" in grep  # the other container's lines between the key's stay
    for command, fmt in (("detect", "text"), ("digest", "md"), ("report", "md")):
        shown = _readable(outputs[command, fmt], fmt)
        assert "^[]0;PWNED-TITLE^G" in shown or "^[]0;NAME-TITLE^G" in shown, (command, fmt)
    messages = [json.loads(line)["message"] for line in outputs["grep", "jsonl"].splitlines()]
    assert any("\x1b]52;c;ZWNobyBwd25lZA==\x07" in m for m in messages)  # exact, in JSON
    assert any("\u202egnp.exe" in m for m in messages)
    assert "w$(echo pwned >pwned)" in outputs["detect", "text"]


# ---- printed commands --------------------------------------------------------------------

_SPAN = re.compile(r"`([^`\n]+)`")


def _md_code(markdown: str) -> Iterator[str]:
    """Code spans, and each shell fence whole (a quoted word may span lines)."""
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type == "fence" and token.info.strip() in ("bash", "sh", "shell"):
            yield token.content
        for child in token.children or []:
            if child.type == "code_inline":
                yield child.content


def _printed_commands(outputs: dict[tuple[str, str], str]) -> dict[str, list[str]]:
    """Every code span or command each output prints, by where it comes from."""
    detect = [json.loads(line) for line in outputs["detect", "jsonl"].splitlines()]
    report = json.loads(outputs["report", "json"])
    html_code = [
        code
        for kind, code in re.findall(r"<code([^>]*)>(.*?)</code>", outputs["report", "html"], re.S)
        if kind in ("", ' class="language-bash"')
    ]
    return {
        "detect text": [
            c
            for line in outputs["detect", "text"].splitlines()
            if line.startswith("      fix (")
            for c in _SPAN.findall(line)
        ],
        "detect json": [c for d in detect for c in _SPAN.findall(d["remediation"])],
        "report fix": [c for i in report["issues"] for c in _SPAN.findall(i["fix"])],
        "report md": list(_md_code(outputs["report", "md"])),
        "report html": [html.unescape(c) for c in html_code],
        "report plan": [
            c for p in report["action_plan"] for s in p["steps"] for c in s["commands"]
        ],
    }


_SHOW_ARGUMENTS = "command_not_found_handle() { printf '%s\\0' \"$@\"; printf '\\n'; }\n"
"""Every command bash cannot find (all of them: PATH is empty) prints its words instead."""


def _run(script: str, cwd: Path) -> list[list[str]] | None:
    """The words of each command of `script` as bash runs it with an empty PATH (only
    builtins could run, and an injection would create a file), or None when bash rejects
    the script."""
    empty = cwd / "no-path"
    empty.mkdir(exist_ok=True)
    done = subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-c", _SHOW_ARGUMENTS + script],
        cwd=cwd,
        env={"PATH": str(empty), "HOME": str(cwd)},
        capture_output=True,
        timeout=10,
        check=False,
    )
    if b"syntax error" in done.stderr or b"unexpected EOF" in done.stderr:
        return None
    lines = done.stdout.decode("utf-8", "surrogateescape").split("\0\n")
    return [line.split("\0") for line in lines if line]


def test_no_printed_command_can_be_injected(
    outputs: dict[tuple[str, str], str], tmp_path: Path
) -> None:
    commands = _printed_commands(outputs)
    hostile = [n for n in NAMES if MARKER in n]
    checked = 0
    for origin, spans in commands.items():
        for span in spans:
            if MARKER not in span:
                continue
            runs = _run(span, tmp_path)
            checked += 1
            assert not (tmp_path / MARKER).exists(), f"{origin} runs {span!r}"
            assert runs is not None, f"{origin}: bash rejects {span!r}"
            carried = [w for words in runs for w in words if MARKER in w]
            assert carried and all(w in hostile for w in carried), f"{origin}: {span!r} -> {runs}"
    assert checked >= len(hostile), f"only {checked} printed commands named a hostile service"
    assert any(MARKER in s for s in commands["detect text"])
    assert any(MARKER in s for s in commands["report fix"])


def test_option_like_names_are_not_printed_as_arguments(
    outputs: dict[tuple[str, str], str],
) -> None:
    commands = _printed_commands(outputs)
    for origin in ("detect text", "detect json", "report fix"):
        assert not [c for c in commands[origin] if " -rf" in c or "'-rf'" in c], origin
    assert any("'<service>'" in c for c in commands["detect text"])


# ---- markup ------------------------------------------------------------------------------


def _html_tokens(markdown: str) -> list[str]:
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    found = []
    for token in parser.parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_block", "html_inline"):
                found.append(t.content)
    return found


@pytest.mark.parametrize("command", ["report", "digest"])
def test_markdown_has_no_markup_from_logs(
    outputs: dict[tuple[str, str], str], command: str
) -> None:
    markdown = outputs[command, "md"]
    assert _html_tokens(markdown) == []
    for table in re.findall(r"(?:^\|.*\|\n)+", markdown, re.M):
        rows = table.splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, f"a {command} table row has extra cells:\n{table}"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img"):
            self.bad.append(tag)
        self.bad.extend(f"{tag} {k}" for k, _v in attrs if k.startswith("on"))
        self.bad.extend(
            f"{tag} {k}" for k, v in attrs if v and v.strip().lower().startswith("javascript:")
        )


@pytest.mark.parametrize("command", ["report", "digest"])
def test_html_has_no_markup_from_logs(outputs: dict[tuple[str, str], str], command: str) -> None:
    parser = _Tags()
    parser.feed(outputs[command, "html"])
    assert parser.bad == []
    assert "&lt;svg onload=alert(1)&gt;" in outputs["report", "html"]


def test_a_private_key_printed_line_by_line_is_masked_as_a_block(
    outputs: dict[tuple[str, str], str],
) -> None:
    lines = [ln for ln in outputs["grep", "text"].splitlines() if ln.startswith("keys-1 ")]
    body = [re.sub(r"^\S+\s+\| \S+ ", "", ln) for ln in lines]
    start = body.index("-----BEGIN RSA PRIVATE KEY-----***")
    end = next(i for i, b in enumerate(body) if b.endswith("-----END RSA PRIVATE KEY-----"))
    assert set(body[start + 1 : end]) == {"***"} and body[end].startswith("***")
    assert body[end + 1].startswith("ERROR tls: Connection refused")
