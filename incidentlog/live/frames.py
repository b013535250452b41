"""What the engine says, turned into the frames of schema.py by the ingest code.

Log text from the logs API (`timestamps=true`: `2025-08-01T12:30:00.123456789Z
text`) is split into lines and parsed with the same functions `ingest` uses
for files, so stitching, levels and ids are the same whichever way a record
arrived. Engine events and `inspect` documents go through the ingest parsers
of `docker events` JSON and `docker inspect` output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

# The ingest stage's own record finishing (levels, content ids with occurrence
# numbers) is reused on purpose: a record read live must get the id it gets
# when the same container's json-file log is ingested.
from incidentlog.ingest import IngestOptions, Occurrences, finish_events, finish_logs
from incidentlog.ingest.compose import strip_ansi, with_timestamp
from incidentlog.ingest.events import parse_event_lines
from incidentlog.ingest.snapshots import inspect_rows, rows_to_frame
from incidentlog.live.checkpoint import Cursor
from incidentlog.schema import EVENTS_SCHEMA, TS_DTYPE, EventAction, empty

__all__ = [
    "LINE_COLUMNS",
    "Blob",
    "advance_cursors",
    "drop_covered",
    "events_frame",
    "finish_records",
    "inspect_frame",
    "lines_frame",
    "new_seen",
]

SPLIT_STAMP = r"(.)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "
"""The engine stamps each 16 KiB piece of a long line: the pieces are rejoined."""
_PIECE_BYTES = 16 * 1024

LINE_COLUMNS = pl.Schema(
    {
        "key": pl.UInt32(),
        "seq": pl.UInt64(),
        "lineno": pl.UInt64(),
        "ts": TS_DTYPE,
        "container": pl.String(),
        "service": pl.String(),
        "project": pl.String(),
        "stream": pl.String(),
        "text": pl.String(),
    }
)
"""One row per log line; `key` numbers the (container, stream) it came from.
`stream` stays a string until the record is finished: the content id hashes it
as ingest does."""


@dataclass(frozen=True)
class Blob:
    """Whole lines (UTF-8 bytes ending in a newline) read from one stream."""

    key: int
    data: bytes


def lines_frame(blobs: Sequence[Blob], keys: pl.DataFrame, seq0: int) -> pl.DataFrame:
    """Lines of every blob, in order, with their stream's identity from `keys`.

    `keys` has `key`, `container`, `service`, `project`, `stream`. Each blob is
    decoded once (invalid UTF-8 replaced) and split by Polars, not per line.
    """
    if not blobs:
        return empty(LINE_COLUMNS)
    texts = pl.DataFrame(
        {
            "key": [b.key for b in blobs],
            "line": [b.data.decode("utf-8", errors="replace").removesuffix("\n") for b in blobs],
        },
        schema={"key": pl.UInt32, "line": pl.String},
    )
    lines = texts.with_columns(pl.col("line").str.split("\n")).explode("line")
    lines = lines.with_columns(pl.col("line").str.strip_suffix("\r"))
    lines = with_timestamp(lines, "line")
    line = pl.col("line")
    long_line = line.str.len_bytes() > _PIECE_BYTES
    text = strip_ansi(
        pl.when(long_line).then(line.str.replace_all(SPLIT_STAMP, "$1")).otherwise(line)
    )
    n = lines.height
    frame = lines.with_columns(
        text=text,
        seq=pl.int_range(seq0, seq0 + n, dtype=pl.UInt64),
    ).with_columns(lineno=pl.col("seq"))
    frame = frame.join(keys, on="key", how="left", maintain_order="left")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in LINE_COLUMNS.items())


def new_seen(rows: Sequence[tuple[int, str, int, int]] = ()) -> Occurrences:
    """Occurrence state for record ids, seeded from checkpoints: (content, container, ts, seen)."""
    seen = Occurrences()
    if rows:
        seen.latest = pl.DataFrame(
            {
                "_content": [r[0] for r in rows],
                "container": [r[1] for r in rows],
                "ts": pl.Series([r[2] for r in rows], dtype=pl.Int64).cast(TS_DTYPE),
                "_seen": [r[3] for r in rows],
            },
            schema=seen.latest.schema,
        )
    return seen


def seen_rows(seen: Occurrences, container: str) -> list[tuple[int, int, int]]:
    """The occurrence state of one container: (content, ts ns, seen)."""
    mine = seen.latest.filter(pl.col("container") == container)
    return [
        (int(c), int(t), int(s))
        for c, t, s in mine.select("_content", pl.col("ts").dt.epoch("ns"), "_seen").iter_rows()
    ]


def finish_records(records: pl.DataFrame, host: str, seen: Occurrences) -> pl.DataFrame:
    """Stitched records to the `logs` schema: host, level and content id, as ingest does."""
    return finish_logs(records, IngestOptions(host=host), seen)


def events_frame(raw: Sequence[dict[str, Any]], host: str, seq0: int) -> pl.DataFrame:
    """Engine events (decoded `/events` objects) kept as ingest keeps `docker events` JSON."""
    if not raw:
        return empty(EVENTS_SCHEMA)
    lines = pl.DataFrame(
        {"line": [json.dumps(event) for event in raw]}, schema={"line": pl.String}
    ).with_columns(seq=pl.int_range(seq0, seq0 + len(raw), dtype=pl.UInt64))
    parsed = parse_event_lines(lines)
    kept = parsed.filter(pl.col("reject").is_null()).drop("reject")
    return finish_events(kept, IngestOptions(host=host))


def inspect_frame(
    documents: Sequence[dict[str, Any]], host: str, seq0: int, *, probes_only: bool = False
) -> pl.DataFrame:
    """Probe results (`.State.Health.Log`), OOM and state snapshots from `inspect` documents."""
    if not documents:
        return empty(EVENTS_SCHEMA)
    rows = inspect_rows(json.dumps(list(documents)), "engine")
    if probes_only:
        rows = [r for r in rows if r["action"] == EventAction.PROBE.value]
    if not rows:
        return empty(EVENTS_SCHEMA)
    frame = rows_to_frame(rows).with_columns(
        seq=pl.int_range(seq0, seq0 + len(rows), dtype=pl.UInt64)
    )
    return finish_events(frame, IngestOptions(host=host))


def drop_covered(
    lines: pl.DataFrame, covered: dict[int, Cursor]
) -> tuple[pl.DataFrame, dict[int, tuple[bool, int]]]:
    """Drop the lines a re-read delivers again: per key, every line before the
    cursor's time and the first `n` lines at it. Once a key yields a line past
    the cursor, all its later lines are kept.

    Returns the kept lines and, per covered key, (whether a line was kept,
    how many lines at the cursor's time were dropped), so the caller can
    carry the count into the next batch.
    """
    if not covered or lines.is_empty():
        return lines, {}
    cursors = pl.DataFrame(
        {
            "key": list(covered),
            "_skip_ts": [c.ts for c in covered.values()],
            "_skip_n": [c.n for c in covered.values()],
        },
        schema={"key": pl.UInt32, "_skip_ts": pl.Int64, "_skip_n": pl.Int64},
    )
    ts = pl.col("ts").dt.epoch("ns")
    at = (ts == pl.col("_skip_ts")).fill_null(False)
    marked = lines.join(cursors, on="key", how="left", maintain_order="left").with_columns(
        _at=at, _rank=at.cast(pl.Int64).cum_sum().over("key")
    )
    fresh = (
        pl.col("_skip_ts").is_null()
        | (ts > pl.col("_skip_ts")).fill_null(True)
        | (pl.col("_at") & (pl.col("_rank") > pl.col("_skip_n")))
    )
    marked = marked.with_columns(_keep=fresh.cast(pl.UInt8).cum_max().over("key") == 1)
    tally = (
        marked.filter(pl.col("_skip_ts").is_not_null())
        .group_by("key")
        .agg(pl.col("_keep").any().alias("kept"), (pl.col("_at") & ~pl.col("_keep")).sum())
    )
    result = {int(key): (bool(kept), int(dropped)) for key, kept, dropped in tally.iter_rows()}
    return marked.filter(pl.col("_keep")).select(lines.columns), result


def advance_cursors(
    consumed: pl.DataFrame, unstored: pl.DataFrame, previous: dict[int, Cursor]
) -> dict[int, Cursor]:
    """New cursors for the keys whose stored lines moved on.

    `consumed` are the lines handled in this flush (the previous open records
    and the new lines), `unstored` those of them still in open records. A
    key's cursor becomes its last stored line's time and the number of lines
    at that time, counting those an earlier cursor already covered.
    """
    stored = consumed.join(unstored.select("seq"), on="seq", how="anti")
    if stored.is_empty():
        return {}
    ts = pl.col("ts").dt.epoch("ns")
    last = (
        stored.sort("seq")
        .group_by("key")
        .agg(ts.last().alias("last_ts"), (ts == ts.last()).sum().alias("at_last"))
    )
    cursors: dict[int, Cursor] = {}
    for key, last_ts, at_last in last.iter_rows():
        if last_ts is None:
            continue
        before = previous.get(key)
        carried = before.n if before is not None and before.ts == last_ts else 0
        cursors[int(key)] = Cursor(int(last_ts), carried + int(at_last))
    return cursors
