"""Recognise an input's format from its first bytes."""

from __future__ import annotations

import json
import re
from enum import StrEnum

from incidentlog.ingest.compose import COMPOSE_OWN, LEADING_STAMP
from incidentlog.ingest.events import TEXT_EVENT
from incidentlog.ingest.journal import looks_like_journal
from incidentlog.ingest.jsontext import loads
from incidentlog.ingest.snapshots import is_bare_state

SNIFF_BYTES = 64 * 1024
_SAMPLE_LINES = 200
_PREFIXED = re.compile(
    r"^(?:(?:\x1b|\u2190|\^\[)\[[0-9;]*m)*\[?[A-Za-z0-9][A-Za-z0-9_.@-]*?\]?[ \t]*"
    r"(?:(?:\x1b|\u2190|\^\[)\[[0-9;]*m)*\|"
    # (compose v1 resets the colour after the bar: `\e[32mredis_1  |\e[0m msg`)
    r"(?:(?:\x1b|\u2190|\^\[)\[[0-9;]*m)* "
)
_OWN = re.compile(COMPOSE_OWN)
_LEADING_STAMP = re.compile(LEADING_STAMP)
_TEXT_EVENT = re.compile(TEXT_EVENT)
_PS_HEADER = re.compile(r"^(?:NAME|NAMES|CONTAINER ID)\s{2,}|^\s*Name\s+Command\s+State\s+Ports")


class InputFormat(StrEnum):
    COMPOSE = "compose"
    RAW = "raw"
    JSONFILE = "json-file"
    JOURNAL = "journal"
    EVENTS = "events"
    INSPECT = "inspect"
    PS = "ps"


def _json_kind(obj: object) -> InputFormat | None:
    if not isinstance(obj, dict):
        return None
    keys = set(obj)
    if "log" in keys and ({"stream", "time"} & keys):
        return InputFormat.JSONFILE
    if {"Type", "Action"} <= keys or {"status", "id"} <= keys:
        return InputFormat.EVENTS
    if {"type", "action", "id"} <= keys or {"event", "container", "service"} <= keys:
        return InputFormat.EVENTS  # `docker compose events --json` (v2; v1)
    if "State" in keys and ("Id" in keys or "Config" in keys):
        return InputFormat.INSPECT
    if is_bare_state(obj):  # `docker inspect NAME --format '{{json .State}}'`
        return InputFormat.INSPECT
    if ({"Names", "Name"} & keys) and ({"Status", "State"} & keys):
        return InputFormat.PS
    return None


_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
"""Control bytes that text logs do not contain (tab, newlines and ESC are allowed)."""
BINARY_SHARE = 0.1
"""Control bytes above this share of the head: not text."""
UNDECODABLE_SHARE = 0.4
"""Control bytes and invalid UTF-8 above this share: not text. Text in a legacy
8-bit encoding (Windows-1252, Latin-1: a French or German log from a Windows
program) has no control bytes and at most about a quarter of its bytes
invalid as UTF-8; random or compressed bytes have about 10 % control bytes and
half invalid."""


def looks_binary(head: bytes) -> bool:
    """True when `head` is not a text log: too many control bytes, or too much
    that is neither text nor UTF-8.

    A log with a stray NUL or in another 8-bit encoding stays text; its lines
    are ingested (invalid UTF-8 replaced and counted).
    """
    if not head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    text = head.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - head.count("\ufffd".encode())
    return control > BINARY_SHARE * len(head) or control + invalid > UNDECODABLE_SHARE * len(head)


_LEADING = re.compile(rb"[ \t>]*")


def paste_margin(head: bytes) -> bytes:
    """What every non-blank line of `head` starts with when the text was pasted
    as an indented or quoted block (a Markdown code block indented by four
    spaces, an issue or e-mail quote `> `): the reader removes it from every
    line. Empty when some line starts at its first column."""
    margins = [
        m.group()
        for line in head.split(b"\n")[:_SAMPLE_LINES]
        if line.strip(b" \t\r>")
        for m in [_LEADING.match(line)]
        if m is not None
    ]
    if not margins:
        return b""
    common = margins[0]
    for margin in margins[1:]:
        while not margin.startswith(common):
            common = common[:-1]
    return common


def without_margin(head: bytes) -> bytes:
    """`head` without its `paste_margin` on each line."""
    margin = paste_margin(head)
    if not margin:
        return head
    return re.sub(rb"(?m)^" + re.escape(margin), b"", head)


def sniff_format(head: bytes) -> InputFormat | None:
    """The format of an input starting with `head` (its paste margin removed),
    or None when nothing fits."""
    text = without_margin(head).decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    if not lines:
        return None
    first = lines[0].strip()
    if first.startswith(("{", "[")):
        kind = _json_format(first, text)
        if kind is not None:
            return kind
    if _PS_HEADER.match(lines[0]):
        return InputFormat.PS
    compose_like = sum(1 for line in lines if _compose_line(line))
    if compose_like * 2 >= len(lines):
        return InputFormat.COMPOSE
    if sum(1 for line in lines if looks_like_journal(line)) * 2 >= len(lines):
        return InputFormat.JOURNAL  # `journalctl`, syslog: the journald or syslog driver
    if sum(1 for line in lines if _TEXT_EVENT.match(line)) * 2 >= len(lines):
        return InputFormat.EVENTS  # `docker events` without --format
    if _opens_json_document(first):
        return None  # a JSON document of a shape we do not know: better an error than raw text
    return InputFormat.RAW  # plain or structured (JSON lines) application output


_BUILD_OUTPUT = re.compile(
    r"^(?:Step \d+/\d+ : | ---> |\s*\d+ \| |-{6,}\s*$|#\d+ |Dockerfile(?:\.\S+)?:\d+\s*$"
    r"|\d+\.\d+ )"
)
"""Lines of an image build between compose's: classic builder steps, BuildKit step output
(`4.117 npm error ...`, `#12 ...`) and its Dockerfile excerpt."""


def _compose_line(line: str) -> bool:
    """A `name | …` line, one of compose's own (maybe after a time a viewer put first),
    or a line of an image build compose ran."""
    line = _LEADING_STAMP.sub("", line, count=1)
    return bool(_PREFIXED.match(line) or _OWN.match(line) or _BUILD_OUTPUT.match(line))


def _opens_json_document(first: str) -> bool:
    """The first line opens a JSON document, not a log line that starts with a
    bracket (gunicorn's `[2025-08-01 10:00:01 +0000] [1] [INFO]`, dmesg's
    `[  12.345678]`, `[main] INFO` of Java loggers)."""
    if first in ("[", "{"):
        return True
    if first.startswith("[") and first[1:].lstrip()[:1] in ("{", "[", '"', "]"):
        return True
    if not first.startswith("["):
        return False
    try:
        loads(first)
    except json.JSONDecodeError:
        return False
    return True


def _json_format(first: str, text: str) -> InputFormat | None:
    """The format of a head whose first line starts a JSON object or list, if known."""
    try:
        kind = _json_kind(loads(first))
    except json.JSONDecodeError:
        kind = None
    if kind is None and first.startswith("["):
        try:
            items = loads(text)
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list) and items:
            kind = _json_kind(items[0])
        elif '"State"' in text and '"Id"' in text:
            kind = InputFormat.INSPECT  # a list longer than the sniffed head
    if kind is None and first == "{" and '"State"' in text:
        kind = InputFormat.INSPECT
    return kind
