"""Untrusted text made safe to show: secrets masked, terminal controls made visible,
values quoted as shell words.

Redaction is one Polars expression (`redact_expr`): every family of
`families.FAMILIES` joined into one regex, so a column is scanned once
whatever the number of families, plus an anchored test for a record that is
nothing but a run of base64 (a line of a PEM body printed on its own).
`redact_records_expr` adds what one record cannot show: the body lines of a
private key printed one record per line, between its BEGIN and END records
in one container. `redact` applies the same expression to one string so both
paths can never disagree; `redact_series` skips the text that holds none of
the families' literals.

`terminal` (control characters shown as `cat -v` and `less` show them) and
`shell` (values as shell words) live beside it: the same job, for terminals
and shells instead of readers.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

from incidentlog.redact.families import CODE_REFERENCE, FAMILIES, Family
from incidentlog.redact.shell import shell_word, shell_word_expr
from incidentlog.redact.terminal import json_safe, one_line, visible, visible_expr

__all__ = [
    "FAMILIES",
    "HINTS",
    "MASK",
    "REDACTIONS",
    "REDACTION_HINTS",
    "Family",
    "json_safe",
    "mask_key_blocks_expr",
    "one_line",
    "redact",
    "redact_expr",
    "redact_records_expr",
    "redact_series",
    "shell_word",
    "shell_word_expr",
    "visible",
    "visible_expr",
]

MASK: Final = "***"

_GROUP: Final = re.compile(r"\(\?P<(pre|post)>")


def _replacement(pattern: str, suffix: str = "") -> str:
    """`${pre}***${post}` for the groups `pattern` names (with `suffix` on the names)."""
    names = set(_GROUP.findall(pattern))
    pre = f"${{pre{suffix}}}" if "pre" in names else ""
    post = f"${{post{suffix}}}" if "post" in names else ""
    return pre + MASK + post


REDACTIONS: Final[tuple[tuple[str, str, str], ...]] = tuple(
    (f.name, f.pattern, _replacement(f.pattern)) for f in FAMILIES
)
"""(name, Rust regex, replacement) per family, in order: what `redact_expr` applies."""

REDACTION_HINTS: Final[dict[str, tuple[str, ...]]] = {f.name: f.hints for f in FAMILIES}
"""For each family, literals (ASCII case-insensitive) that every match contains."""

HINTS: Final = tuple(sorted({hint for f in FAMILIES for hint in f.hints}))


def _combined() -> tuple[str, str]:
    """All families as one regex (leftmost-first: earlier families win at a position)
    and its replacement: every branch's `pre` groups, the mask, every `post` group."""
    branches = []
    replacement_pre = []
    replacement_post = []
    for i, family in enumerate(FAMILIES):
        branches.append("(?:" + _GROUP.sub(rf"(?P<\g<1>{i}>", family.pattern) + ")")
        names = set(_GROUP.findall(family.pattern))
        if "pre" in names:
            replacement_pre.append(f"${{pre{i}}}")
        if "post" in names:
            replacement_post.append(f"${{post{i}}}")
    return "|".join(branches), "".join(replacement_pre) + MASK + "".join(replacement_post)


_PATTERN, _REPLACEMENT = _combined()

_BASE64_LINE: Final = r"^[ \t]*[A-Za-z0-9+/]{40,}={0,2}[ \t]*$"
"""A record that is only base64: a line of a PEM body (64 characters, RFC 7468) or a
bare key."""
_NOT_MIXED: Final = r"^[ \t]*(?:[a-z0-9+/]+|[A-Z0-9+/]+|[A-Za-z+/]+)={0,2}[ \t]*$"
"""... unless it lacks upper case, lower case or digits: hex digests, words."""


def _base64_line(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_BASE64_LINE) & ~text.str.contains(_NOT_MIXED)


_HOLD: Final = "\ue0ff\ue0fe"
"""Put between a key and the code that follows it (`CODE_REFERENCE`) while the families
run, taken out after: two private-use characters no log holds together (where one does,
they are dropped first, so they cannot hold a secret apart from its key)."""


def redact_expr(column: str | pl.Expr = "message") -> pl.Expr:
    """`column` with every secret masked as `***` (keeps its output name)."""
    text = pl.col(column) if isinstance(column, str) else column
    held = text.str.replace_all(_HOLD, "", literal=True).str.replace_all(
        CODE_REFERENCE, "${1}${3}" + _HOLD + "${2}${4}"
    )
    masked = held.str.replace_all(_PATTERN, _REPLACEMENT).str.replace_all(_HOLD, "", literal=True)
    return pl.when(~_base64_line(text).fill_null(False)).then(masked).otherwise(pl.lit(MASK))


# ---- private keys printed one line per record ----------------------------------------

_PEM_MARK: Final = r"-----(?:BEGIN|END) [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END: Final = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_BODY: Final = (
    r"^[ \t]*(?:[A-Za-z0-9+/=]*|(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset): .*)[ \t]*$"
)
"""A record that can be inside a PEM block: base64 (or nothing), or an armour header."""


def _inside_key(text: pl.Expr, over: list[str]) -> pl.Expr:
    """Whether a record comes after a `BEGIN … PRIVATE KEY` record of its group, with only
    body lines since (a record that is neither body nor END closes the block)."""
    last_mark = text.str.extract(rf"(?s).*({_PEM_MARK})", 1)
    body = text.str.contains(_PEM_BODY)
    state = (
        pl.when(last_mark.str.starts_with("-----BEGIN"))
        .then(pl.lit(True))
        .when(last_mark.is_not_null() | ~body)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )
    entering = state.forward_fill().shift(1).fill_null(False)
    return entering.over(over) if over else entering


def mask_key_blocks_expr(
    column: str = "message", *, over: tuple[str, ...] = ("host", "container")
) -> pl.Expr:
    """`column` with the body of every private key printed one record per line masked:
    each record between `BEGIN … PRIVATE KEY` and its END in the same `over` group (one
    container) is `***` up to the END line. Evaluate on records in arrival order."""
    text = pl.col(column)
    inside = _inside_key(text, list(over))
    in_block = inside & (text.str.contains(_PEM_BODY) | text.str.contains(_PEM_END))
    body_masked = text.str.replace(rf"(?s)^.*?({_PEM_END}|\z)", MASK + "${1}")
    shown = pl.when(in_block & (text.str.strip_chars() != "")).then(body_masked).otherwise(text)
    return shown.alias(column)


def redact_records_expr(
    column: str = "message", *, over: tuple[str, ...] = ("host", "container")
) -> pl.Expr:
    """`redact_expr` over records in arrival order, with the body lines of a private key
    printed one record per line masked as a block (`mask_key_blocks_expr`).

    Records cut from their BEGIN line by a filter are still masked when they look like
    key material (a line of 40 or more base64 characters).
    """
    return redact_expr(mask_key_blocks_expr(column, over=over)).alias(column)


def redact(text: str) -> str:
    """`text` with every secret masked, through the same expression as `redact_expr`."""
    frame = pl.DataFrame({"text": [text]}, schema={"text": pl.String})
    value = frame.select(redact_expr("text")).item()
    return str(value)


def redact_series(messages: pl.Series) -> pl.Series:
    """`messages` redacted as `redact_expr` does, running the regex only on the messages
    that contain a family's literal or could be key material (few do)."""
    text = messages.cast(pl.String)
    candidates = (
        text.to_frame("m")
        .select(
            pl.col("m").str.contains_any(list(HINTS), ascii_case_insensitive=True)
            | _base64_line(pl.col("m"))
        )
        .to_series()
        .fill_null(False)
    )
    rows = candidates.arg_true()
    if rows.len() == 0:
        return text
    fixed = text.gather(rows).to_frame("m").select(redact_expr("m")).to_series()
    return text.clone().scatter(rows, fixed)
