"""Values as shell words, for every command the tool prints.

A service, container, binary or host name comes from the evidence (a compose
label, a log line) and may hold anything: `shell_word` makes it one word that
the shell passes through unchanged. Plain names stay as they are (the
characters `shlex.quote` leaves alone); others are single-quoted; values
holding control characters, newlines or backticks use ANSI-C quoting
(`$'…\\x1b…'`, understood by bash, zsh, ksh and dash 0.5.12+) so the word is
printable, on one line, and never ends a Markdown code span.
`shell_word_expr` is the same on a String column.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

from incidentlog.redact.terminal import CONTROLS

__all__ = ["shell_word", "shell_word_expr"]

_SAFE: Final = r"^[A-Za-z0-9_@%+=:,./-]+$"
_UNSAFE_TO_SHOW: Final = ("\n", "\t", "`", *CONTROLS)
"""Characters that make `$'…'` quoting necessary (escaped as bytes `\\xHH`)."""


def _ansi_c(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == "'":
        return "\\'"
    return "".join(f"\\x{b:02x}" for b in char.encode("utf-8"))


_ANSI_KEYS: Final = ("\\", "'", *_UNSAFE_TO_SHOW)
_ANSI_VALUES: Final = tuple(_ansi_c(c) for c in _ANSI_KEYS)
_ANSI_TABLE: Final = str.maketrans(dict(zip(_ANSI_KEYS, _ANSI_VALUES, strict=True)))
_NEEDS_ANSI: Final = re.compile("[" + re.escape("".join(_UNSAFE_TO_SHOW)) + "]")
_NEEDS_ANSI_RUST: Final = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _UNSAFE_TO_SHOW) + "]"


def shell_word(value: str) -> str:
    """`value` as one shell word: as is when plain, else quoted (`'…'` or `$'…'`)."""
    if value == "":
        return "''"
    if re.fullmatch(_SAFE[1:-1], value):
        return value
    if _NEEDS_ANSI.search(value):
        return "$'" + value.translate(_ANSI_TABLE) + "'"
    return "'" + value.replace("'", "'\\''") + "'"


def shell_word_expr(expr: pl.Expr) -> pl.Expr:
    """`shell_word` on every value of a String column (nulls stay null)."""
    needs_ansi = expr.str.contains(_NEEDS_ANSI_RUST)
    ansi = pl.lit("$'") + expr.str.replace_many(list(_ANSI_KEYS), list(_ANSI_VALUES)) + pl.lit("'")
    single = pl.lit("'") + expr.str.replace_all("'", "'\\''", literal=True) + pl.lit("'")
    return (
        pl.when(expr == "")
        .then(pl.lit("''"))
        .when(expr.str.contains(_SAFE))
        .then(expr)
        .when(needs_ansi)
        .then(ansi)
        .otherwise(single)
    )
