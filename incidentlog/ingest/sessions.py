"""A terminal session or an issue pasted whole: the outputs of several commands in one file.

People paste what their terminal showed: `$ docker compose ps` and its table,
then `$ docker compose logs web` and the logs, maybe `docker inspect`. Each
command's output has its own format; read as one input, everything but the
majority format would be rejected line by line. A small file whose head holds
a prompt line running docker or podman is cut at those lines into sections,
each read as an input of its own; the prompt lines themselves are counted in
a note, and `docker logs NAME` names the service of a section without
`name |` prefixes.

An issue or a chat message is Markdown: prose, then code blocks (the compose file,
the logs, a session). A small file with a code fence is cut at its fences first; each
block is read like a file of its own (a session in it cut again), and the prose
between blocks is no log.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from incidentlog.ingest.names import NAMELESS

__all__ = [
    "BARE_PROMPT",
    "FENCE",
    "LOG_VIEWERS",
    "MAX_SESSION_BYTES",
    "PROMPT",
    "PS_TABLE",
    "READ_VERBS",
    "Block",
    "Cut",
    "Section",
    "cut_markdown",
    "cut_session",
    "cut_tables",
    "looks_logged",
    "named_service",
    "viewer",
]

MAX_SESSION_BYTES: Final = 16 * 1024 * 1024
"""Only inputs up to this size are cut (a paste is small; a larger file is streamed)."""

_VERBS: Final = "logs|ps|inspect|events|up|start|restart|run|exec|top|stats|version|info|ls"
_GLYPH: Final = (
    rb"(?:\xe2\x9e\x9c +\S+(?: git:\([^)\r\n]{0,80}\))?(?: \xe2\x9c\x97)?"
    rb"|[^\r\n|]{0,160}?\xe2\x9d\xaf)"
)
"""A prompt that ends with a glyph (zsh's pure and starship `~/shop main* ❯`, oh-my-zsh's
`➜  shop git:(main)`): a directory and a branch with spaces before it."""
_BRACKETED: Final = rb"\[[\w.-]+@[\w.-]+(?: [^\]\r\n]{0,160})?\] ?[$#%]"
"""The prompt of RHEL, Fedora, CentOS, Rocky, Alma and Amazon Linux: `[admin@bi-01 bi]$`."""
PROMPT: Final = re.compile(
    rb"^(?:\([^)\r\n]{0,60}\) +)?"  # a virtualenv or conda name
    # user@host:~/dir$, pi@host:~ $ (Raspberry Pi OS, many themes), C:\dir>, PS C:\>
    rb"(?:[^\s$#%>]{0,160} ?[$#%>] *|\++ +|"  # (`+ `: a shell's trace, `set -x` in CI)
    + _BRACKETED
    + rb" *|PS [^\r\n>]{0,240}> *|"
    + _GLYPH
    + rb" +)?"
    rb"(?:sudo +)?"
    rb"(?P<command>(?:docker|podman)(?:-compose)?(?: +(?:compose|container))?"
    rb"(?: +-{1,2}[\w-]+(?:[ =][^\s-]\S*)?)*"  # global options: -p shop, --context prod
    rb" +(?P<verb>" + _VERBS.encode() + rb")\b[^\r\n]*?)\r?$",
    re.MULTILINE,
)
"""A prompt line (optional prompt, then a docker or podman command); a log line
never starts like this."""
BARE_PROMPT: Final = re.compile(
    rb"^(?:\([^)\r\n]{0,60}\) +)?(?:[\w.-]+@[\w.-]+(?::\S*)? ?[$#%]|PS [^\r\n>]{0,240}>|"
    + _BRACKETED
    + rb"|"
    + _GLYPH
    + rb") *\r?$",
    re.MULTILINE,
)
"""A prompt with no command (`me@box:~/shop$`, `PS C:\\shop>`), as a paste often ends."""
OTHER_PROMPT: Final = re.compile(
    rb"^(?:\([^)\r\n]{0,60}\) +)?(?:[\w.-]+@[\w.-]+(?::\S*)? ?[$#%]|PS [^\r\n>]{0,240}>|"
    + _BRACKETED
    + rb"|"
    + _GLYPH
    + rb") +"
    rb"(?P<command>(?P<verb>[\w./-]+)(?: [^\r\n]*)?)\r?$",
    re.MULTILINE,
)
"""A `user@host:dir$` prompt running another program (`sudo ss -ltnp`, `df -h`): in a
session, the end of the output before it; what it prints is no log (its verb, the
program, is never one of `READ_VERBS`), unless it runs docker in a way `PROMPT` does
not read (`docker compose pull && docker compose up -d`)."""
_PLAIN_OTHER: Final = re.compile(
    rb"^(?P<prompt>[$%]|\++) +(?P<command>(?P<verb>[\w./-]+)(?: [^\r\n]*)?)\r?$", re.MULTILINE
)
"""A bare `$ ` (or zsh's `% `) prompt running another program (`$ ls -ld ./pgdata`,
`$ cat docker-compose.yml`): a prompt only in a paste whose docker commands have that
same bare prompt (`$ docker compose logs db`); `#` and `>` never, as a log's comment or a
build step starts so."""
READ_VERBS: Final = frozenset({"logs", "ps", "inspect", "events", "up", "start", "restart", "run"})
"""Commands whose output is logs, events, inspect or ps (not `version`, `info`, `top`, ...)."""
_RUNS_DOCKER: Final = re.compile(
    rb"(?:^|&&|\|\||[;|(`])\s*(?:sudo\s+)?(?:docker|podman)(?:-compose)?(?:\s|$)"
)
"""A command line that runs docker or podman as one of its commands (`cd shop && docker
compose up`), not one that only names a docker file (`grep -n BROKER docker-compose.yml`)."""
INTERRUPT: Final = re.compile(rb"^\^C[ \t]*\r?(?:\n|\Z)", re.MULTILINE)
"""The `^C` a terminal echoes when `logs -f` is stopped: no output of the command."""


_PODMAN_COMPOSE: Final = re.compile(
    rb"^(?:podman-composer? version:? \S|using podman version: |\['podman', |exit code: -?\d+\s*$)",
    re.MULTILINE,
)
"""podman-compose's own lines: its banners, a command it ran as a Python list, the code
each returned."""


def _echoed(match: re.Match[bytes]) -> bool:
    """A prompt line without a prompt running podman (not podman-compose), or
    podman-compose's version banner: in podman-compose's output, its own lines."""
    command = match.group("command")
    bare = match.start("command") == match.start()
    return bare and (command.startswith(b"podman ") or _BANNER.match(command) is not None)


_BANNER: Final = re.compile(rb"podman-composer? version:? \d")


@dataclass(frozen=True)
class Cut:
    """One command's output in a pasted session."""

    command: str | None
    """The command that printed it (None: text before the first prompt, or after
    a prompt with no command)."""
    verb: str | None
    first_line: int
    """1-based line of the paste where the output starts."""
    data: bytes
    named: str | None = None
    """What a header line before the output names: a file (`==> logs/api.log <==`, `tail`
    of several files) or a service (`api logs:`, `=== db ===`, as people label what they
    paste)."""


def _name(group: str) -> bytes:
    return rb"`?(?P<" + group.encode() + rb">[A-Za-z0-9][\w.-]{0,62})`?"


_KIND: Final = rb"(?: (?i:container|service))?"
HEADER: Final = re.compile(
    rb"^(?:==> (?P<file>[^\r\n]+?) <=="
    # `=== api ===`, `--- db logs ---`: a lower-case name between two rules
    rb"|[=#*-]{2,} *`?(?P<ruled>[a-z0-9][a-z0-9_.-]{0,62})`?"
    + _KIND
    + rb"(?: (?i:logs?|output))? *:? *[=#*-]{2,}"
    # `api logs:`, `Logs from db:`, `### db container logs`, `**worker output:**`
    rb"|(?:#{1,6} +|\*\*)?(?:(?i:(?:the )?(?:logs?|output) (?:of|from|for) (?:the )?)"
    + _name("of")
    + _KIND
    + rb"|"
    + _name("label")
    + _KIND
    + rb" (?i:logs?|output))(?: *:)?(?:\*\*)?(?: *:)?"
    rb")[ \t]*\r?$",
    re.MULTILINE,
)
"""A line naming what follows it: the header `tail` and `head` print before each file's
lines when given several files (`tail -n 50 logs/*.log`), or the label a person writes
above each service's lines when pasting several (`api logs:`, `=== db ===`)."""


def _header_name(match: re.Match[bytes]) -> str | None:
    """The file or service a header names; None for a label that names none (`Full logs:`,
    `Error output:`)."""
    file = match["file"]
    if file is not None:
        return file.decode("utf-8", errors="replace")
    name = (match["ruled"] or match["of"] or match["label"] or b"").decode()
    return name if name.lower() not in NAMELESS | _NOT_SERVICES else None


_NOT_SERVICES: Final = frozenset(
    {"my", "some", "relevant", "more", "recent", "last", "other", "these", "those", "following"}
    | {"here", "below", "above", "complete", "entire", "whole", "sample", "example", "the"}
)
"""Words a label uses that name no service (`Relevant logs:`)."""


def cut_headers(part: Cut) -> tuple[list[Cut], int]:
    """A part holding the output of several files or services under header lines
    (`HEADER`), one part per header (blank ones dropped), and how many header lines cut
    it; a part without headers as it is. Rules around a lower-case name (`=== api ===`)
    cut only where two of them name two services: one alone is an application's banner."""
    headers = list(HEADER.finditer(part.data))
    ruled = {m["ruled"] for m in headers if m["ruled"] is not None}
    if len(ruled) < 2:
        headers = [m for m in headers if m["ruled"] is None]
    if not headers:
        return [part], 0
    data = part.data
    pieces = [Cut(part.command, part.verb, part.first_line, data[: headers[0].start()])]
    for header, after in zip(headers, [*headers[1:], None], strict=True):
        start = header.end() + 1
        end = after.start() if after is not None else len(data)
        line = part.first_line + data.count(b"\n", 0, start)
        output = data[start:end]
        if after is not None:  # (the blank line tail prints before the next header)
            output = re.sub(rb"\r?\n\r?\n\Z", b"\n", output)
        pieces.append(Cut(part.command, part.verb, line, output, _header_name(header)))
    return [p for p in pieces if p.data.strip()], len(headers)


def label_of(prose: bytes) -> str | None:
    """The service the last line of a paste's prose names (`**api logs:**` above a code
    block), if it is a label."""
    lines = [line for line in prose.splitlines() if line.strip()]
    match = HEADER.match(lines[-1].strip()) if lines else None
    return _header_name(match) if match is not None and match["file"] is None else None


FENCE: Final = re.compile(rb"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^\r\n`]*\r?$", re.MULTILINE)
"""A Markdown code fence (```` ``` ````, ```` ```yaml ````, `~~~`), as issues and chats
wrap what was pasted."""


_LOGGED: Final = re.compile(
    rb"^\s*(?:[\[(]?\d{4}[-/.]\d{2}[-/.]\d{2}|[\[(]?\d{2}:\d{2}:\d{2}|\[?\d{2}/[A-Z][a-z]{2}/\d{4}"
    rb"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}|\{\s*\"|[\[<]?(?:TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR"
    rb"|FATAL|CRITICAL|PANIC)\b|\[\s*\d+\.\d+\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} "
    rb"|(?:\d+:[A-Z] )?\d{1,2}[ -][A-Z][a-z]{2}[ -]\d{4}|[IWEF]\d{4} \d{2}:\d{2})",
    re.MULTILINE,
)
"""A line as a program logs it: a date or time first (`05 Dec 2026` too, after Redis's
`1:M `; glog's `E1205 09:14`), a JSON object, a level word, the kernel's `[ 1234.567890]`
(`dmesg`) or `[Tue Jun  2 08:00:12 2026]` (`dmesg -T`)."""
LOG_VIEWERS: Final = frozenset(
    {"dmesg", "journalctl", "tail", "head", "cat", "less", "more", "grep", "egrep", "zcat", "zgrep"}
)
"""Programs whose output, in a pasted session, is a log when it looks like one (`sudo
dmesg -T | tail`, `tail -n 50 /var/log/nginx/error.log`, `journalctl -u docker`)."""


def looks_logged(data: bytes) -> bool:
    """Text outside a paste's code blocks that is a log, not prose (`docker logs app`
    output whose application printed a fence of its own): most lines start as logs do."""
    lines = [line for line in data.splitlines() if line.strip()]
    return sum(1 for line in lines if _LOGGED.match(line)) * 2 >= len(lines) > 0


@dataclass(frozen=True)
class Block:
    """A code block of a Markdown paste, or the prose between two."""

    first_line: int
    """1-based line of the paste where it starts."""
    data: bytes
    fenced: bool


def cut_markdown(data: bytes) -> tuple[list[Block], int]:
    """The code blocks and the prose of a Markdown paste, in order, blank ones dropped,
    and how many fence lines cut it. A block ends at a fence of its own kind (backticks or
    tildes) at least as long as the one that opened it, or at the end of the paste."""
    blocks: list[Block] = []
    fences = 0
    start, opened = 0, b""
    for match in [*FENCE.finditer(data), None]:
        fence = match.group("fence") if match is not None else b""
        if match is not None and opened:
            closes = fence[:1] == opened[:1] and len(fence) >= len(opened)
            if not closes or data[match.start() : match.end()].strip() != fence:
                continue  # (a fence of another kind, or one with a language, inside a block)
        end = match.start() if match is not None else len(data)
        body = data[start:end]
        if body.strip():
            blank = body[: len(body) - len(body.lstrip(b"\r\n"))]  # (blank lines before it)
            line = data.count(b"\n", 0, start) + blank.count(b"\n") + 1
            kept = body[len(blank) :].rstrip(b"\r\n") + b"\n"  # (and none after it)
            blocks.append(Block(line, kept, fenced=bool(opened)))
        if match is not None:
            fences += 1
            opened = b"" if opened else fence
            start = min(match.end() + 1, len(data))  # after the fence line's newline
    return blocks, fences


PS_TABLE: Final = re.compile(
    rb"^(?:(?:CONTAINER ID|NAMES?)[ \t]{2,}\S.*\b(?:STATUS|IMAGE)\b|[ \t]*Name[ \t]+Command[ \t]+State"
    rb"[ \t]+Ports)[^\r\n]*\r?$",
    re.MULTILINE,
)
"""The header of a `docker ps` / `docker compose ps` table (or v1's `docker-compose ps`),
pasted without the prompt line that ran it."""
_TABLE_ENDS: Final = re.compile(
    rb"^(?:[ \t]*\r?$|\[?[A-Za-z0-9][\w.@-]*\]?[ \t]*\|[ \t]|\S+ exited with code |"
    rb"[$#%>] |[\w.-]+@[\w.-]+)",
    re.MULTILINE,
)
"""Where a ps table pasted with other output ends: a blank line, a `name | …` log line,
compose's exit line, a prompt."""


def cut_tables(data: bytes) -> list[Cut] | None:
    """A paste holding `docker ps` tables without their prompt lines, cut around each
    table (its header to the first line that is no row: `_TABLE_ENDS`), the logs before
    and after it read as inputs of their own (None: no table, or only the table)."""
    headers = list(PS_TABLE.finditer(data))
    if not headers:
        return None
    cuts: list[Cut] = []
    start = 0
    for header in headers:
        if header.start() < start:
            continue  # (a header inside the table before: not one)
        if data[start : header.start()].strip():
            cuts.append(
                Cut(None, None, data.count(b"\n", 0, start) + 1, data[start : header.start()])
            )
        after = min(header.end() + 1, len(data))
        ends = _TABLE_ENDS.search(data, after)
        end = ends.start() if ends is not None else len(data)
        line = data.count(b"\n", 0, header.start()) + 1
        cuts.append(Cut(None, "ps", line, data[header.start() : end]))
        start = end
    if data[start:].strip():
        cuts.append(Cut(None, None, data.count(b"\n", 0, start) + 1, data[start:]))
    return cuts if len(cuts) > 1 else None


class Section(io.BytesIO):
    """A section's bytes as an input stream, with the service its command names and the
    file it was cut from (whose name, not the command's text, may name a service)."""

    def __init__(
        self, data: bytes, service: str | None, origin: str, command: str | None = None
    ) -> None:
        super().__init__(data)
        self.service = service
        self.origin = origin
        self.command = command
        """The command that printed it, as pasted (`podman-compose logs api`)."""
        self.size = len(data)


def cut_session(data: bytes) -> tuple[list[Cut], int] | None:
    """The sections of a pasted session and how many prompt lines cut it, a `^C` line
    counted as one (None: no prompt line, not a session). Blank sections are dropped."""
    commands = list(PROMPT.finditer(data))
    if commands and _PODMAN_COMPOSE.search(data):
        # podman-compose echoes each podman command it runs: a line with no prompt there
        # is its echo (its own line, in its output), not a command someone typed
        commands = [m for m in commands if not _echoed(m)]
    steps = list(CI_STEP.finditer(data))
    if not commands and not steps and not _viewer_prompts(data):
        return None
    docker = {m.start() for m in commands}
    others = [m for m in OTHER_PROMPT.finditer(data) if m.start() not in docker]
    plain = {data[m.start() : m.start("command")].strip() for m in commands}
    others += [
        m
        for m in _PLAIN_OTHER.finditer(data)
        if m.start() not in docker and m.group("prompt") in plain
    ]
    prompts = sorted(
        [*commands, *BARE_PROMPT.finditer(data), *others, *steps], key=lambda m: m.start()
    )
    cuts: list[Cut] = []
    start, command, verb = 0, None, None
    interrupts = headers = 0
    for match in [*prompts, None]:
        end = match.start() if match is not None else len(data)
        output, stopped = INTERRUPT.subn(b"", data[start:end])
        interrupts += stopped
        if output.strip():
            line = data.count(b"\n", 0, start) + 1
            cuts.append(Cut(command, verb, line, output))
        if match is not None:
            named = match.re is not BARE_PROMPT
            command = _text(match.group("command")).strip() if named else None
            verb = _text(match.group("verb")) if named else None
            other = match.re in (OTHER_PROMPT, _PLAIN_OTHER, CI_STEP)
            if other and _RUNS_DOCKER.search(match.group("command")):
                verb = _object_verb(command)  # (`docker compose pull && docker compose up`:
                # read, whatever it is; `docker image inspect`: not a container's)
            start = min(match.end() + 1, len(data))  # after the prompt line's newline
            if match.re is CI_STEP:  # (the step's script, shell and env, to `##[endgroup]`)
                start, skipped = _after_step_header(data, start)
                headers += skipped
    return cuts, len(prompts) + interrupts + headers


CI_STEP: Final = re.compile(
    rb"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z )?##\[group\]Run "
    rb"(?P<command>(?:sudo +)?(?P<verb>[\w./@-]+)[^\r\n]*?)[ \t]*\r?$",
    re.MULTILINE,
)
"""A GitHub Actions step in a job's log (`##[group]Run docker compose logs db`): what
follows is that command's output, as after a prompt."""
_STEP_HEADER_END: Final = re.compile(
    rb"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z )?##\[endgroup\][ \t]*\r?$", re.MULTILINE
)


def _after_step_header(data: bytes, start: int) -> tuple[int, int]:
    """Where a step's output starts: after the `##[endgroup]` that closes the header the
    runner prints below `##[group]Run …` (the script again, its shell, its env), when it
    comes before the next step; and how many lines that header held."""
    end = _STEP_HEADER_END.search(data, start)
    following = CI_STEP.search(data, start)
    if end is None or (following is not None and following.start() < end.start()):
        return start, 0
    after = min(end.end() + 1, len(data))
    return after, data.count(b"\n", start, after)


def _viewer_prompts(data: bytes) -> list[re.Match[bytes]]:
    """`user@host:dir$` prompts running a log viewer (`tail -n 50 logs/*.log`,
    `sudo journalctl -u shop`): a session even with no docker command in it."""
    return [m for m in OTHER_PROMPT.finditer(data) if viewer(_text(m.group("command")))]


_COLOUR: Final = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def without_colours(data: bytes) -> bytes:
    """A paste without its terminal colours (a CI job's log colours its prompt lines:
    `ESC[32;1m$ docker compose logs worker ESC[0;m`), so its prompts and commands read
    as typed; the parsers drop colours from logs anyway."""
    return _COLOUR.sub(b"", data) if b"\x1b[" in data else data


def is_paste(head: bytes) -> bool:
    """Whether the start of an input is a paste to cut before reading: a terminal session
    (a docker or log viewer's prompt), Markdown (a fence), a `docker ps` table pasted
    without its prompt, or `tail` of several files."""
    return bool(
        PROMPT.search(head)
        or CI_STEP.search(head)
        or FENCE.search(head)
        or PS_TABLE.search(head)
        or HEADER.search(head)
        or _viewer_prompts(head)
    )


_NOT_CONTAINERS: Final = frozenset(
    {"image", "images", "volume", "network", "system", "buildx", "builder", "context", "plugin"}
)
"""docker's management commands about something else than containers: what `docker image
inspect` or `docker network ls` prints is no container's log, state or inspect."""


def _object_verb(command: str | None) -> str | None:
    """`image` for `docker image inspect …` (not read), else None (read)."""
    words = _first_command(command or "")
    if words and words[0] == "sudo":
        words = words[1:]
    if len(words) > 1 and words[0] in ("docker", "podman") and words[1] in _NOT_CONTAINERS:
        return words[1]
    return None


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def viewer(command: str | None) -> str | None:
    """The log viewer (LOG_VIEWERS) that printed a session's output, if one did."""
    words = _first_command(command or "")
    program = words[1] if words[:1] == ["sudo"] and len(words) > 1 else words[0] if words else ""
    return program if program in LOG_VIEWERS else None


def _viewed_service(command: str) -> str | None:
    """Whose log a viewer showed: the kernel's (`dmesg`), else the one file it read, by
    its name or, when that says nothing (`error.log`), its folder's (`nginx`)."""
    program = viewer(command)
    if program == "dmesg":
        return "kernel"
    paths = [w for w in _first_command(command) if not w.startswith("-") and ("/" in w or "." in w)]
    if len(paths) != 1 or program is None:
        return None
    return file_service(paths[0])


def file_service(file: str) -> str | None:
    """The service a log file's path names: its name (`logs/api.log`: api) or, when that
    says nothing (`error.log`), its folder's (`nginx`); None for a glob (`*.log`)."""
    if any(ch in file for ch in "*?["):
        return None
    path = PurePosixPath(file)
    for name in (path.name.split(".")[0], path.parent.name):
        if name and name.lower() not in NAMELESS:
            return name
    return None


def named_service(command: str | None) -> str | None:
    """The container or service `docker logs NAME` / `docker compose logs SERVICE` (or
    `docker inspect NAME --format …`, or a log viewer: `_viewed_service`) names, when
    it names exactly one."""
    if command is None:
        return None
    if viewer(command):
        return _viewed_service(command)
    words = _first_command(command)
    verb = next((v for v in ("logs", "inspect") if v in words), None)
    if verb is None:
        return None
    after = words[words.index(verb) + 1 :]
    names, skip = [], False
    for word in after:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _OPTION_VALUES[verb]
        else:
            names.append(word)
    return names[0] if len(names) == 1 else None


_OPTION_VALUES: Final = {
    "logs": frozenset({"--tail", "-n", "--since", "--until", "--index"}),
    "inspect": frozenset({"--format", "-f", "--type"}),
}
"""Options followed by their value (`--tail 50`, `inspect -f '{{json .State}}'`; `logs -f`
follows and takes none)."""


def _first_command(command: str) -> list[str]:
    """The words of the command that printed the output, before any pipe or `;`, without
    redirections: `docker logs web 2>&1 | tail -n 50` -> `docker logs web`."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # (an unclosed quote)
        return []
    words: list[str] = []
    redirect = False
    for token in tokens:
        if token in ("|", "||", "&&", ";", "&", "|&"):
            break
        if set(token) <= set("<>&"):  # `>`, `>&`, `2>&1` (its `2` is taken back below)
            if words and words[-1].isdigit():
                words.pop()
            redirect = True
        elif redirect:
            redirect = False  # (the redirection's target)
        else:
            words.append(token)
    return words
