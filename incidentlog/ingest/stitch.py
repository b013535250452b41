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

import re
from datetime import timedelta

import polars as pl

from incidentlog.ingest.levels import DOTNET_LEVELS

MAX_RECORD_LINES = 2000
"""A record longer than this is cut, so a runaway indented stream cannot
grow one record (and the batch carry-over) without bound."""

KEY = ("container", "stream")

RECORD_GAP = timedelta(seconds=5)
"""Lines of one record are written together: a line this much later than the line before
it starts a record, whatever it looks like (a traceback an hour after an error line)."""

_STRONG = (
    r"^(?:\t|[ \t]+(?:at |File \"|\.\.\. [0-9]+ (?:more|common frames omitted)|\^+[ \t]*$)"
    r"|Caused by: |Suppressed: |During handling of the above exception"
    r"|The above exception was the direct cause|goroutine [0-9]+ \[|\[signal |created by "
    r"|Require stack:|- /|Node\.js v[0-9]"
    r"|Stack trace:$|#[0-9]+ (?:/|\{main\}|\[internal function\])|[ \t]+thrown in "
    r"|Next [A-Z][[:word:]\\]*(?:Exception|Error)(?::| in )"
    r"|STATEMENT:  )"
)
"""Lines that only ever continue a record: stack frames and chain markers (PHP's
`Stack trace:`, `#0 /var/www/...`, `#1 {main}`, `  thrown in ...`, and `Next
FooException: …` that chains the next exception, too), and a PostgreSQL server's
`STATEMENT:  …` printed without a log_line_prefix: the statement its error was about."""

_CONTEXT = (
    r"^(?:Traceback \(most recent call last\)|Exception in thread|panic: |fatal error: "
    r"|goroutine [0-9]+ \[|\[signal |Caused by: |Suppressed: |During handling|The above exception"
    r"|Require stack:|created by |[{\[]$|[}\]],?$|(?:/|node:|file:)\S+:[0-9]+$|\S+\.py:[0-9]+: [[:word:]]*Warning: "
    r"|(?:[A-Za-z_$][[:word:]$]*\.)*(?:[A-Za-z_$][[:word:]$]*)?(?:Error|Exception|Throwable|Warning|Exit)(?-u:\b)"
    r"|[[:word:]./*()\[\]-]+\(.*\)$"
    rf"|(?:{DOTNET_LEVELS}): [[:word:].`]+\[[0-9]+\]$"
    r"|.*:$)"
)
"""Unindented lines after which indented lines (and blank lines) belong to
the same record: traceback heads, exception lines, Go frames, `Key:` lines, and
.NET's console logger's header (`fail: Microsoft.AspNetCore.Server.Kestrel[13]`,
its message indented on the lines below)."""

_CHAIN = r"^(?:During handling of the above exception|The above exception was|[ \t]+\^+[ \t]*$)"
_HEAD_AFTER_CHAIN = (
    r"^(?:Traceback \(most recent call last\)|(?:[A-Za-z_$][[:word:]$.]*)?Error(?-u:\b))"
)
_LOGGED_TRACEBACK_PREV = (
    r"(?:(?-u:\b)(?:ERROR|CRITICAL|FATAL|Exception|exception|error)(?-u:\b)|:$)"
)
_JAVA_EXCEPTION = (
    r"^(?:[a-z_$][[:word:]$]*\.)+[A-Z][[:word:]$]*(?:Exception|Error|Throwable)(?::|$)"
)
"""`org.example.FooException: ...`, which a logger prints on the line after its message."""
_OPENS = r"^[ \t].*[{\[]$"
"""An indented line that opens an object (`    at TLSSocket._finishInit (node:_tls_wrap:1085:8) {`)."""
_PROPERTY = r"^[ \t]+[\w$'\"]+: "
"""An indented `key: value` line (an object's property) after another indented line."""
_CLOSE = r"^[}\]]\)?[,;]?$"
"""The closing brace of an object printed after a stack (Node's `{ code: ... }`)."""
_PY_TAIL = r"^[A-Za-z_][[:word:].]*(?::|$)"
_TRACEBACK_HEAD = r"^Traceback |Traceback \(most recent call last\):$"
"""A traceback's head, also behind a logger's prefix (uvicorn's `ERROR:    Traceback
(most recent call last):`, a whole `format_exc()` logged as one message)."""
_GO_FRAME = r"^[[:word:]./*()\[\]-]+\(.*\)$"
_PYDANTIC = (
    r"[0-9]+ validation errors? for [A-Za-z0-9_.\[\], ]+$"
    r"|^[ \t]+(?:.*\[type=[a-z_]+|For further information visit https://errors\.pydantic\.dev)"
)
_BARE_NAME = r"^[A-Za-z_][A-Za-z0-9_.]*$"
"""pydantic's `ValidationError`: after its head (`2 validation errors for
Settings`), each failing field's name unindented, then indented details
(`Field required [type=missing, ...]`, `For further information visit ...`)."""
_RUST_PANIC = r"^thread '[^']*' panicked at "
"""Rust 1.73+ prints the panic message on the line after `panicked at FILE:L:C:`."""
_RUST_NOTE = "note: run with `RUST_BACKTRACE="


_CANDIDATE = "|".join(
    f"(?:{pattern})"
    for pattern in (
        _STRONG,
        _HEAD_AFTER_CHAIN,
        _JAVA_EXCEPTION,
        _GO_FRAME,
        r"^Traceback ",
        _BARE_NAME,
        _RUST_PANIC,
        "^" + re.escape(_RUST_NOTE),
    )
)
"""Any line that could continue a record for a reason other than layout."""


def _mark_continuations(text: pl.Series, order: pl.Series, same: pl.Series) -> pl.Series:
    """`_start` flags (True where a line begins a record), in key order.

    `text` is in arrival order; `order` lists its rows grouped by key (in seq
    order within a key) and `same[i]` says whether ordered row i has the key
    of ordered row i-1. Text is never reordered: cheap per-line tests run in arrival order and only their
    booleans are gathered. Most lines are plain single-line records, so the
    detailed rules run only on the few candidates (indented, blank, after an
    indented line, or shaped like a stack line) and the neighbours they need.
    """
    n = text.len()
    # one pass finds the few lines that are indented or shaped like stack lines
    unusual = text.str.contains(f"{_CANDIDATE}|^[ \t]").arg_true()
    flags = (
        text.gather(unusual)
        .to_frame("text")
        .select(
            indented=pl.col("text").str.contains(r"^[ \t]"),
            shaped=pl.col("text").str.contains(_CANDIDATE),
        )
    )
    none = pl.repeat(False, n, eager=True)
    indented = none.clone().scatter(unusual, flags.get_column("indented")).gather(order)
    shaped = none.clone().scatter(unusual, flags.get_column("shaped")).gather(order)
    blank = (text.str.len_bytes() == 0).gather(order)
    layout = indented | blank
    after_shaped = shaped.shift(1).fill_null(False)  # (the line after a Rust panic head)
    candidate = same & (layout | layout.shift(1).fill_null(False) | shaped | after_shaped)
    if not candidate.any():
        return pl.repeat(True, n, eager=True)
    position = pl.int_range(n, eager=True)
    # the latest unindented, non-blank line before each row (its "anchor")
    # (Node's `- /path` require-stack entries are part of the record, not anchors)
    # (those lines are all `shaped`, so only shaped lines are looked at)
    shaped_rows = shaped.arg_true()
    require_entry = text.gather(order.gather(shaped_rows)).str.starts_with("- /")
    anchorable = ~layout.clone().scatter(shaped_rows.filter(require_entry), True)
    anchor = (
        pl.select(pl.when(anchorable).then(position).otherwise(None).forward_fill().shift(1))
        .to_series()
        .fill_null(0)
    )
    block = (~same).cum_sum()  # key blocks: an anchor in another block does not count
    picked = position.filter(candidate)

    def text_at(ordered_rows: pl.Series) -> pl.Series:
        return text.gather(order.gather(ordered_rows))

    prev_rows = (picked - 1).clip(lower_bound=0)
    prev2_rows = (picked - 2).clip(lower_bound=0)
    anchor_rows = anchor.gather(picked)
    rows = pl.DataFrame(
        {
            "pos": picked,
            "same2": same.gather(picked) & same.gather(prev_rows) & (picked >= 2),
            "anchor_ok": block.gather(picked) == block.gather(anchor_rows),
            "text": text_at(picked),
            "prev": text_at(prev_rows),
            "prev2": text_at(prev2_rows),
            "anchor": text_at(anchor_rows),
        }
    )
    continued = rows.filter(_continues()).get_column("pos")
    return pl.repeat(True, n, eager=True).scatter(continued, False)


def _continues() -> pl.Expr:
    """True where a candidate line continues the record before it: on the
    columns `text`, `prev`, `prev2` (the lines before it), `anchor` (the
    latest unindented line), `anchor_ok` and `same2` of `_mark_continuations`."""
    t, p, p2, a = pl.col("text"), pl.col("prev"), pl.col("prev2"), pl.col("anchor")
    t_layout = t.str.contains(r"^[ \t]") | (t.str.len_bytes() == 0)
    p_indented = p.str.contains(r"^[ \t]")
    a_ok = pl.col("anchor_ok")
    chained = p.str.contains(_CHAIN) | (
        (p.str.len_bytes() == 0) & pl.col("same2") & p2.str.contains(_CHAIN)
    )
    return (
        t.str.contains(_STRONG)
        | (t_layout & a_ok & a.str.contains(_CONTEXT))
        | ((t.str.len_bytes() == 0) & (p_indented | p.str.contains(r"^#[0-9]+ ")))
        | (t.str.contains(_CLOSE) & p_indented & a_ok & a.str.contains(_CONTEXT))
        | (t.str.contains(_PY_TAIL) & p_indented & a_ok & a.str.contains(_TRACEBACK_HEAD))
        | (t.str.contains(_HEAD_AFTER_CHAIN) & chained)
        | (t.str.contains(_JAVA_EXCEPTION) & p.str.contains(_LOGGED_TRACEBACK_PREV))
        | (
            t.str.starts_with("Traceback (most recent call last)")
            & p.str.contains(_LOGGED_TRACEBACK_PREV)
        )
        | (
            t.str.contains(_GO_FRAME)
            & (p.str.contains(r"^goroutine \d+ \[") | p.str.starts_with("\t"))
        )
        | (t.str.contains(_BARE_NAME) & p.str.contains(_PYDANTIC))
        | (
            t_layout
            & (
                p.str.contains(_PYDANTIC)
                | (p.str.contains(_BARE_NAME) & p2.str.contains(_PYDANTIC))
            )
        )
        | (p.str.contains("panicked at ", literal=True) & p.str.ends_with(":"))
        | t.str.starts_with(_RUST_NOTE)
        # an object a stack line opens (Node's `at … {`, then `  code: 'X'`, then `}`),
        # whatever the line that announced the error looked like
        | (t_layout & p.str.contains(_OPENS))
        | (t.str.contains(_PROPERTY) & p_indented)
        | (t.str.contains(_CLOSE) & p_indented & pl.col("same2") & p2.str.contains(r"^[ \t]"))
    ).fill_null(False)


def stitch_records(lines: pl.DataFrame, *, final: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join continuation lines into records.

    `lines` holds one row per input line with a `text` column, `seq` (arrival
    order, ascending), the key columns and per-record attributes (`ts`, ...).
    Returns (records, carry): each record takes the attributes of its first
    line and `message` = its lines joined by `\\n`; records keep arrival
    order. Unless `final`, the last record of every key may still grow, so its
    lines are returned as `carry` to be prepended to the next batch.

    Record boundaries are computed on integers in key order (each key's rows
    together, in seq order); rows are never reordered, and only multi-line
    records are grouped.
    """
    keys = lines.select(KEY).hash_rows().alias("k")
    if lines.get_column("seq").is_sorted():  # rows in arrival order (the usual case):
        # each key's rows, keys in order of appearance: a stable grouping, no sort
        order = (
            keys.to_frame()
            .with_row_index("row")
            .group_by("k", maintain_order=True)
            .agg("row")
            .get_column("row")
            .explode()
        )
    else:
        by_key = pl.DataFrame({"k": keys, "seq": lines.get_column("seq")})
        order = by_key.select(pl.arg_sort_by("k", "seq")).to_series()
    ordered_keys = keys.gather(order)
    same = (ordered_keys == ordered_keys.shift(1)).fill_null(False)
    start = _mark_continuations(lines.get_column("text"), order, same)
    if "joined" in lines.columns:  # lines that lost their prefix continue the record before
        start = start & ~(lines.get_column("joined").gather(order) & same)
    if "ts" in lines.columns:  # one record is one write: lines far apart in time are two
        joins = (~start).arg_true()  # (few: only continuation lines are looked at)
        if joins.len():
            stamps = lines.get_column("ts")
            gap = stamps.gather(order.gather(joins)) - stamps.gather(order.gather(joins - 1))
            start = start.scatter(joins, (gap > RECORD_GAP).fill_null(False))
    flags = pl.DataFrame({"start": start, "same_next": same.shift(-1).fill_null(False)})
    index = pl.int_range(pl.len(), dtype=pl.UInt32)
    # cut runaway records: position of each line within its record
    position = index - pl.when(pl.col("start")).then(index).forward_fill()
    flags = flags.with_columns(start=pl.col("start") | (position % MAX_RECORD_LINES == 0))
    flags = flags.with_columns(record=pl.col("start").cum_sum())
    flags = flags.with_columns(
        single=pl.col("start") & pl.col("start").shift(-1).fill_null(True),
        open=pl.lit(False)
        if final
        else pl.col("record")
        == pl.when(~pl.col("same_next")).then(pl.col("record")).backward_fill(),
    )
    # back to arrival order (the inverse permutation of `order`)
    n = order.len()
    arrival = pl.zeros(n, dtype=pl.UInt32, eager=True).scatter(
        order, pl.int_range(n, dtype=pl.UInt32, eager=True)
    )
    flags_by_row = flags.select("start", "record", "single", "open")[arrival]
    marked = pl.concat([lines, flags_by_row], how="horizontal").with_row_index("_row")
    carry = marked.filter(pl.col("open")).select(lines.columns)
    message = marked.get_column("text")
    multi = marked.filter(~pl.col("single") & ~pl.col("open"))
    if multi.height:  # a record's first line comes first in arrival order too
        # (the rest of a line a terminal wrapped goes on without a line break)
        wrapped = pl.col("wrapped") & ~pl.col("start") if "wrapped" in lines.columns else False
        separated = pl.when(wrapped).then(pl.lit("")).otherwise(pl.lit("\n")) + pl.col("text")
        joined = multi.group_by("record", maintain_order=True).agg(
            pl.col("_row").first(),
            separated.str.join("").str.slice(1).str.strip_chars_end("\n").alias("message"),
        )
        message = message.scatter(joined.get_column("_row"), joined.get_column("message"))
    records = (
        marked.with_columns(message=message)
        .filter(pl.col("start") & ~pl.col("open"))
        .select(*(c for c in lines.columns if c != "text"), "message")
    )
    return records, carry
