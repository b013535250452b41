"""Control characters from log text shown visibly, as `cat -v` and `less` show them.

A log line can carry what a terminal obeys: ESC sequences (OSC window titles,
OSC 52 clipboard writes, OSC 8 hyperlinks, DCS, CSI), the 8-bit C1 controls
(`\\x9b` is a CSI on its own), carriage returns and backspaces that overwrite
what was printed, and bidirectional overrides that reorder it. Every
human-readable output passes its untrusted text through `visible` (or
`visible_expr` on a column): C0 controls and DEL become caret notation
(`^[`, `^M`, `^H`, `^?`), C1 and Unicode format controls `<U+009B>`. Tabs and
(where a record may span lines) newlines stay. JSON keeps the exact text:
`json_safe` only escapes, in an already encoded document, the characters
`json.dumps(ensure_ascii=False)` leaves raw that a terminal may still obey.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import polars as pl

__all__ = ["CONTROLS", "json_safe", "one_line", "visible", "visible_expr"]

_FORMAT_CONTROLS: Final = (
    "\u061c\u200e\u200f\u2028\u2029"
    + "".join(chr(c) for c in range(0x202A, 0x202F))
    + "".join(chr(c) for c in range(0x2066, 0x206A))
)
"""Bidirectional marks, embeddings, overrides and isolates; line and paragraph separators."""


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def _controls() -> Iterator[str]:
    yield from (chr(c) for c in range(0x20) if chr(c) not in "\t\n")
    yield "\x7f"
    yield from (chr(c) for c in range(0x80, 0xA0))
    yield from _FORMAT_CONTROLS


CONTROLS: Final = tuple(_controls())
"""What `visible` rewrites (tab and newline are not among them)."""

_TABLE: Final = str.maketrans({c: _shown(c) for c in CONTROLS})
_ONE_LINE: Final = str.maketrans({c: _shown(c) for c in (*CONTROLS, "\n")})
_JSON: Final = str.maketrans(
    {c: f"\\u{ord(c):04x}" for c in CONTROLS if ord(c) >= 0x7F or c in _FORMAT_CONTROLS}
)


def visible(text: str) -> str:
    """`text` with every control character but tab and newline shown as `^X` / `<U+XXXX>`."""
    return text.translate(_TABLE)


def one_line(text: object) -> str:
    """`text` as one printable line: controls and newlines shown (`^J`), tabs kept."""
    return str(text).translate(_ONE_LINE)


def visible_expr(expr: pl.Expr | str, *, newlines: bool = True) -> pl.Expr:
    """`visible` on a String column (one Aho-Corasick pass); `newlines=False` is `one_line`."""
    column = pl.col(expr) if isinstance(expr, str) else expr
    chars = CONTROLS if newlines else (*CONTROLS, "\n")
    return column.str.replace_many(list(chars), [_shown(c) for c in chars])


def json_safe(document: str) -> str:
    """A JSON document with DEL, C1 and Unicode format controls escaped as `\\uXXXX`
    (still the same JSON: those characters only occur inside strings)."""
    return document.translate(_JSON)
