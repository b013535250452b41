"""Plain English shared by models and views: counts, durations, lists, and prose
with code in it (`Prose`: raw words and `Code` segments). No markup here: views
escape and mark up."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "SIGNALS",
    "Code",
    "Prose",
    "clock",
    "code_span",
    "exit_codes_words",
    "format_duration",
    "iso",
    "join_names",
    "join_prose",
    "plural",
    "to_plain",
]


def plural(count: int, noun: str) -> str:
    """`1 restart`, `3 restarts`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_duration(seconds: float | None) -> str:
    """`45 s`, `3 min 07 s`, `2 h 00 min`: how long, as people say it."""
    if seconds is None:
        return "unknown"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    h, rest = divmod(s, 3600)
    m = rest // 60
    return f"{h} h {m:02d} min" if h else f"{m} min {rest % 60:02d} s"


def join_names(names: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def clock(ts: datetime | None) -> str:
    """`12:31:43`, or `an unknown time`."""
    return ts.strftime("%H:%M:%S") if ts else "an unknown time"


SIGNALS: Final = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    5: "SIGTRAP",
    6: "SIGABRT",
    7: "SIGBUS",
    8: "SIGFPE",
    9: "SIGKILL",
    10: "SIGUSR1",
    11: "SIGSEGV",
    12: "SIGUSR2",
    13: "SIGPIPE",
    14: "SIGALRM",
    15: "SIGTERM",
}
"""Linux signal numbers (x86 and ARM): a process killed by signal N exits with 128 + N."""


def exit_codes_words(codes: Iterable[int]) -> str:
    """`1`, `137: killed by SIGKILL`, `1; 139: killed by SIGSEGV`: exit codes, those above
    128 with the signal that caused them (the shell's and Docker's 128 + N)."""
    words = [f"{c}: killed by {SIGNALS[c - 128]}" if c - 128 in SIGNALS else str(c) for c in codes]
    return ("; " if any(":" in w for w in words) else ", ").join(words)


# --------------------------------------------------------------------------- prose

_CODE_SPAN: Final = re.compile(r"(`[^`\n]+`)")


@dataclass(frozen=True)
class Code:
    """Literal text shown as code (a command, a path, a log line), never interpreted."""

    text: str


@dataclass(frozen=True)
class Prose:
    """Words with code in between, raw: each view decides how to mark it up and escape it.

    `str()` is the plain form (JSON, terminals): the words as they are, code in
    backtick spans long enough for any backticks inside.
    """

    segments: tuple[str | Code, ...] = ()

    @classmethod
    def of(cls, *parts: str | Code | Prose) -> Prose:
        """Prose from words, code and other prose (adjacent words merged, empty words dropped)."""
        segments: list[str | Code] = []
        for part in parts:
            for segment in part.segments if isinstance(part, Prose) else (part,):
                last = segments[-1] if segments else None
                if isinstance(segment, str) and isinstance(last, str):
                    segments[-1] = last + segment
                elif segment != "":
                    segments.append(segment)
        return cls(tuple(segments))

    @classmethod
    def join(cls, items: Iterable[str | Code | Prose], separator: str) -> Prose:
        """The items with `separator` (words) between them."""
        parts: list[str | Code | Prose] = []
        for n, item in enumerate(items):
            parts.extend((separator, item) if n else (item,))
        return cls.of(*parts)

    @classmethod
    def markup(cls, text: str) -> Prose:
        """Rule text with `code` spans (rule packs, built-in advice), whitespace collapsed."""
        parts = _CODE_SPAN.split(" ".join(text.split()))
        return cls.of(*(Code(p[1:-1]) if i % 2 else p for i, p in enumerate(parts)))

    def with_code(self, change: Callable[[str], str]) -> Prose:
        """The same words, each code segment's text through `change`."""
        return Prose(
            tuple(Code(change(s.text)) if isinstance(s, Code) else s for s in self.segments)
        )

    def capitalized(self) -> Prose:
        """The first letter upper-case (when the prose starts with words)."""
        match self.segments:
            case (str() as first, *rest):
                return Prose((first[:1].upper() + first[1:], *rest))
        return self

    def __str__(self) -> str:
        return "".join(s if isinstance(s, str) else code_span(s.text) for s in self.segments)


def code_span(text: str) -> str:
    """`text` between backticks, fenced longer than any backtick run inside (no escaping)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def join_prose(items: Sequence[str | Code | Prose]) -> Prose:
    """`join_names` for prose: `a`, `a and b`, `a, b and c` (the items may be code)."""
    if len(items) <= 1:
        return Prose.of(*items)
    return Prose.of(Prose.join(items[:-1], ", "), " and ", items[-1])


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z` (None stays None)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def to_plain(value: Any) -> Any:
    """Models as JSON-ready values: dataclasses, dicts and lists as such, times as
    `iso`, prose as its plain text (every JSON document of the tool is built here)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Prose):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value
