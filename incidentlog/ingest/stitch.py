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
    r"^(?:\t|[ \t]+(?:at |File \"|\.\.\. \d+ (?:more|common frames omitted)|\^+[ \t]*$)"
    r"|Caused by: |Suppressed: |During handling of the above exception"
    r"|The above exception was the direct cause|goroutine \d+ \[|\[signal |created by "
    r"|Require stack:|- /|Node\.js v\d)"
)
"""Lines that only ever continue a record: stack frames and chain markers."""

_CONTEXT = (
    r"^(?:Traceback \(most recent call last\)|Exception in thread|panic: |fatal error: "
    r"|goroutine \d+ \[|\[signal |Caused by: |Suppressed: |During handling|The above exception"
    r"|Require stack:|created by |[{\[]$|[}\]],?$|(?:/|node:|file:)\S+:\d+$|\S+\.py:\d+: \w*Warning: "
    r"|(?:[A-Za-z_$][\w$]*\.)*(?:[A-Za-z_$][\w$]*)?(?:Error|Exception|Throwable|Warning|Exit)\b"
    r"|[\w./*()\[\]-]+\(.*\)$"
    r"|.*:$)"
)
"""Unindented lines after which indented lines (and blank lines) belong to
the same record: traceback heads, exception lines, Go frames, `Key:` lines."""

_CHAIN = r"^(?:During handling of the above exception|The above exception was|[ \t]+\^+[ \t]*$)"
_HEAD_AFTER_CHAIN = r"^(?:Traceback \(most recent call last\)|(?:[A-Za-z_$][\w$.]*)?Error\b)"
_LOGGED_TRACEBACK_PREV = r"(?:\b(?:ERROR|CRITICAL|FATAL|Exception|exception|error)\b|:$)"
_JAVA_EXCEPTION = r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|$)"
"""`org.example.FooException: ...`, which a logger prints on the line after its message."""
_CLOSE = r"^[}\]]\)?[,;]?$"
"""The closing brace of an object printed after a stack (Node's `{ code: ... }`)."""
_PY_TAIL = r"^[A-Za-z_][\w.]*(?::|$)"
_GO_FRAME = r"^[\w./*()\[\]-]+\(.*\)$"


_CANDIDATE = "|".join(
    f"(?:{pattern})"
    for pattern in (_STRONG, _HEAD_AFTER_CHAIN, _JAVA_EXCEPTION, _GO_FRAME, r"^Traceback ")
)
"""Any line that could continue a record for a reason other than layout."""


def _mark_continuations(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `_start` (True where a line begins a record) to a frame sorted by key, seq.

    Most lines are plain single-line records, so one cheap pass picks the few
    candidates (indented, blank, after an indented line, or shaped like a
    stack line); the detailed rules then run on those rows and the
    neighbours they need, gathered by position. Nothing crosses a key.
    """
    key = list(KEY)
    text = frame.get_column("text")
    n = frame.height
    same = frame.select(
        pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in key).fill_null(False)
    ).to_series()
    indented = text.str.contains(r"^[ \t]")
    blank = text.str.len_bytes() == 0
    layout = indented | blank
    candidate = same & (layout | layout.shift(1).fill_null(False) | text.str.contains(_CANDIDATE))
    if not candidate.any():
        return frame.with_columns(_start=pl.repeat(True, n, eager=True))
    position = pl.int_range(n, eager=True)
    # the latest unindented, non-blank line before each row (its "anchor")
    # (Node's `- /path` require-stack entries are part of the record, not anchors)
    anchorable = ~layout & ~text.str.starts_with("- /")
    anchor = (
        pl.select(pl.when(anchorable).then(position).otherwise(None).forward_fill().shift(1))
        .to_series()
        .fill_null(0)
    )
    block = (~same).cum_sum()  # key blocks: an anchor in another block does not count
    rows = pl.DataFrame(
        {
            "pos": position,
            "same2": same & same.shift(1).fill_null(False),
            "anchor_ok": block == block.gather(anchor),
            "text": text,
            "prev": text.shift(1),
            "prev2": text.shift(2),
            "anchor": text.gather(anchor),
        }
    ).filter(candidate)
    t, p, p2, a = pl.col("text"), pl.col("prev"), pl.col("prev2"), pl.col("anchor")
    t_layout = t.str.contains(r"^[ \t]") | (t.str.len_bytes() == 0)
    p_indented = p.str.contains(r"^[ \t]")
    a_ok = pl.col("anchor_ok")
    chained = p.str.contains(_CHAIN) | (
        (p.str.len_bytes() == 0) & pl.col("same2") & p2.str.contains(_CHAIN)
    )
    cont = (
        t.str.contains(_STRONG)
        | (t_layout & a_ok & a.str.contains(_CONTEXT))
        | ((t.str.len_bytes() == 0) & p_indented)
        | (t.str.contains(_CLOSE) & p_indented & a_ok & a.str.contains(_CONTEXT))
        | (t.str.contains(_PY_TAIL) & p_indented & a_ok & a.str.starts_with("Traceback"))
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
    ).fill_null(False)
    continued = rows.filter(cont).get_column("pos")
    start = pl.repeat(True, n, eager=True).scatter(continued, False)
    return frame.with_columns(_start=start)


def stitch_records(lines: pl.DataFrame, *, final: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join continuation lines into records.

    `lines` holds one row per input line with a `text` column, `seq` (arrival
    order), the key columns and per-record attributes (`ts`, ...). Returns
    (records, carry): each record takes the attributes of its first line and
    `message` = its lines joined by `\\n`. Unless `final`, the last record of
    every key may still grow, so its lines are returned as `carry` to be
    prepended to the next batch.
    """
    key = list(KEY)
    order = lines.select(
        pl.arg_sort_by(
            [*(pl.col(k).cast(pl.Categorical).to_physical() for k in key), pl.col("seq")]
        )
    ).to_series()
    ordered = _mark_continuations(lines[order])
    start = pl.col("_start")
    ordered = ordered.with_columns(_record=start.cum_sum())
    # cut runaway records
    # position of each line within its record, without a window per record
    index = pl.int_range(pl.len(), dtype=pl.UInt32)
    position = index - pl.when(start).then(index).forward_fill()
    ordered = ordered.with_columns(_start=start | (position % MAX_RECORD_LINES == 0))
    ordered = ordered.with_columns(_record=start.cum_sum())
    if final:
        closed, carry = ordered, ordered.clear()
    else:
        key_end = ~pl.all_horizontal(pl.col(k) == pl.col(k).shift(-1) for k in key).fill_null(False)
        last_record = pl.when(key_end).then(pl.col("_record")).backward_fill()
        ordered = ordered.with_columns(_open=pl.col("_record") == last_record)
        closed, carry = ordered.filter(~pl.col("_open")), ordered.filter(pl.col("_open"))
        closed, carry = closed.drop("_open"), carry.drop("_open")
    single = start & start.shift(-1).fill_null(True)
    closed = closed.with_columns(_single=single)
    attrs = [c for c in lines.columns if c != "text"]
    singles = closed.filter(pl.col("_single")).select(*attrs, pl.col("text").alias("message"))
    multis = (
        closed.filter(~pl.col("_single"))
        .group_by("_record", maintain_order=True)
        .agg(
            *(pl.col(c).first() for c in attrs),
            pl.col("text").str.join("\n").str.strip_chars_end("\n").alias("message"),
        )
        .drop("_record")
    )
    records = pl.concat([singles, multis]).sort("seq")
    return records, carry.select(lines.columns)
