"""Stitch continuation lines into multi-line records, per container and stream.

Compose interleaves containers line by line, so a traceback from `api-1` may
have `web-1` lines between its frames. Every decision here is an expression
evaluated `.over(container, stream)`: the previous line and the latest
unindented line of the *same* container decide whether a line continues the
record before it. No Python runs per line.

Shapes handled: Python tracebacks (chained with `During handling ...`),
Java stacks (`at`, `Caused by:`, `... N more`), Go panics with goroutine
dumps, Node.js stacks and uncaught-error banners, and indented continuations
of a line that announces them (`Config:`).
"""

from __future__ import annotations

import polars as pl

MAX_RECORD_LINES = 2000
"""A record longer than this is cut, so a runaway indented stream cannot
grow one record (and the batch carry-over) without bound."""

KEY = ("container", "stream")

_STRONG = (
    r"^(?:[ \t]+(?:at |File \"|\.\.\. \d+ (?:more|common frames omitted)|\^+[ \t]*$)"
    r"|Caused by: |Suppressed: |During handling of the above exception"
    r"|The above exception was the direct cause|goroutine \d+ \[|\[signal |created by "
    r"|Require stack:|- /|Node\.js v\d)"
)
"""Lines that only ever continue a record: stack frames and chain markers."""

_CONTEXT = (
    r"^(?:Traceback \(most recent call last\)|Exception in thread|panic: |fatal error: "
    r"|goroutine \d+ \[|\[signal |Caused by: |Suppressed: |During handling|The above exception"
    r"|Require stack:|[{\[]$|[}\]],?$|/\S+:\d+$"
    r"|(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*(?:Error|Exception|Throwable|Warning|Exit)\b"
    r"|[\w./*()\[\]-]+\(.*\)$"
    r"|.*:$)"
)
"""Unindented lines after which indented lines (and blank lines) belong to
the same record: traceback heads, exception lines, Go frames, `Key:` lines."""

_CHAIN = r"^(?:During handling of the above exception|The above exception was|[ \t]+\^+[ \t]*$)"
_HEAD_AFTER_CHAIN = r"^(?:Traceback \(most recent call last\)|(?:[A-Za-z_$][\w$.]*)?Error\b)"
_LOGGED_TRACEBACK_PREV = r"(?:\b(?:ERROR|CRITICAL|FATAL|Exception|exception|error)\b|:$)"
_PY_TAIL = r"^[A-Za-z_][\w.]*(?::|$)"
_GO_FRAME = r"^[\w./*()\[\]-]+\(.*\)$"


def continuation_expr(text: pl.Expr) -> pl.Expr:
    """True where a line continues the record of the line before it (same key)."""
    key = list(KEY)
    prev = text.shift(1).over(key)
    prev2 = text.shift(2).over(key)
    indented = text.str.contains(r"^[ \t]")
    blank = text.str.len_bytes() == 0
    # the latest unindented, non-blank line strictly before this one
    anchor = pl.when(~indented & ~blank).then(text).forward_fill().shift(1).over(key)
    anchor_is_context = anchor.str.contains(_CONTEXT).fill_null(False)
    prev_indented = prev.str.contains(r"^[ \t]").fill_null(False)
    has_prev = prev.is_not_null()
    chained = prev.str.contains(_CHAIN).fill_null(False) | (
        (prev.str.len_bytes() == 0) & prev2.str.contains(_CHAIN).fill_null(False)
    )
    return has_prev & (
        text.str.contains(_STRONG)
        | ((indented | blank) & (anchor_is_context | prev_indented & blank))
        | (text.str.contains(_PY_TAIL) & prev_indented & anchor.str.starts_with("Traceback"))
        | (text.str.contains(_HEAD_AFTER_CHAIN) & chained)
        | (
            text.str.starts_with("Traceback (most recent call last)")
            & prev.str.contains(_LOGGED_TRACEBACK_PREV).fill_null(False)
        )
        | (
            text.str.contains(_GO_FRAME)
            & (prev.str.contains(r"^goroutine \d+ \[") | prev.str.starts_with("\t")).fill_null(
                False
            )
        )
    ).fill_null(False)


def stitch_records(lines: pl.DataFrame, *, final: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join continuation lines into records.

    `lines` holds one row per input line in arrival order with a `text`
    column, `seq`, the key columns and per-record attributes (`ts`, ...).
    Returns (records, carry): each record takes the attributes of its first
    line and `message` = its lines joined by `\\n`. Unless `final`, the last
    record of every key may still grow, so its lines are returned as `carry`
    to be prepended to the next batch.
    """
    key = list(KEY)
    marked = lines.with_columns(_cont=continuation_expr(pl.col("text")))
    marked = marked.with_columns(_record=(~pl.col("_cont")).cum_sum().over(key))
    # cut runaway records
    marked = marked.with_columns(
        _cont=pl.col("_cont")
        & (pl.int_range(pl.len()).over([*key, "_record"]) % MAX_RECORD_LINES != 0)
    ).with_columns(_record=(~pl.col("_cont")).cum_sum().over(key))
    if final:
        closed, carry = marked, marked.clear()
    else:
        is_last = pl.col("_record") == pl.col("_record").max().over(key)
        closed, carry = marked.filter(~is_last), marked.filter(is_last)
    attrs = [c for c in lines.columns if c not in (*key, "text")]
    records = (
        closed.group_by([*key, "_record"], maintain_order=True)
        .agg(
            *(pl.col(c).first() for c in attrs),
            pl.col("text").str.join("\n").str.strip_chars_end("\n").alias("message"),
        )
        .drop("_record")
        .sort("seq")
    )
    return records, carry.drop("_cont", "_record")
