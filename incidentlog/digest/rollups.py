"""The digest's rollups: per store file, records and error patterns per 15-minute bucket.

For every store file of `logs` the store keeps (`incidentlog.store.rollups`)
one small frame, written with the file by ingest and collect, or built from
the data the first time a digest needs it:

- count rows (`masked` null): records per (bucket, service, level), with the
  first and last time in the bucket;
- pattern rows (`level` null): error and fatal records per (bucket, service,
  masked text), the masked text being the first step of template mining
  (`incidentlog.patterns.masked_texts`), the step that touches every record.

The digest then reads the period's own records and these rows: per-service
counts, the sparkline, last-seen and the history's span come from count rows;
error patterns are merged from the masked texts of the lookback's pattern
rows, the same batch (same texts, same counts) that mining the records
themselves would see, so templates and ids are the same. Rollups only
serve windows whose bounds fall on bucket boundaries (the hourly digest in
any zone); any other window reads the records as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from incidentlog.schema import TS_DTYPE, Level
from incidentlog.store.layout import UNDATED
from incidentlog.store.rollups import FileCache, read_caches

if TYPE_CHECKING:
    from incidentlog.store import Store

__all__ = [
    "BUCKET",
    "DIGEST_ROLLUPS",
    "aligned",
    "build_rollup",
    "history_span",
    "load_rollups",
]

BUCKET: Final = timedelta(minutes=15)
"""Rollup granularity: every zone's whole hours fall on it (offsets are multiples of 15 min)."""
_ERROR_LEVELS: Final = [Level.ERROR.value, Level.FATAL.value]

ROLLUP_SCHEMA: Final = pl.Schema(
    {
        "bucket": TS_DTYPE,
        "service": pl.String(),
        "level": pl.String(),
        "masked": pl.String(),
        "n": pl.UInt32(),
        "first_ts": TS_DTYPE,
        "last_ts": TS_DTYPE,
    }
)


def build_rollup(rows: pl.DataFrame) -> pl.DataFrame:
    """The rollup rows of one store file (`ts`, `service`, `level`, `message`)."""
    from incidentlog.patterns import masked_texts

    bucket_ns = int(BUCKET.total_seconds()) * 10**9
    bucket = (pl.col("ts").dt.epoch("ns") // bucket_ns).alias("bucket")
    span = [
        pl.len().cast(pl.UInt32).alias("n"),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
    ]
    timed = rows.lazy().filter(pl.col("ts").is_not_null())
    counts = timed.group_by(bucket, "service", "level").agg(span)
    errors = timed.filter(pl.col("level").is_in(_ERROR_LEVELS)).select("ts", "service", "message")
    found = errors.collect()
    patterns = (
        found.lazy()
        .select(bucket, "service", "ts")
        .with_columns(masked_texts(found.get_column("message")).alias("masked"))
        .group_by("bucket", "service", "masked")
        .agg(span)
    )
    out = pl.concat([counts, patterns], how="diagonal_relaxed").with_columns(
        (pl.col("bucket") * bucket_ns).cast(TS_DTYPE)
    )
    return (
        out.select(pl.col(n).cast(t) for n, t in ROLLUP_SCHEMA.items())
        .sort("bucket", "service", "level", "masked", nulls_last=True)
        .collect()
    )


DIGEST_ROLLUPS: Final = FileCache(
    name="digest-rollups-1",
    build=build_rollup,
    columns=("ts", "service", "level", "message"),
)
"""The store cache of the digest's rollups (the number is the format's)."""


def aligned(*moments: datetime) -> bool:
    """Every moment falls on a bucket boundary (so rollups can answer for it)."""
    step = int(BUCKET.total_seconds())
    return all(m.microsecond == 0 and int(m.timestamp()) % step == 0 for m in moments)


def _days(start: datetime, end: datetime) -> list[str]:
    """UTC day partitions touching [start, end)."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def load_rollups(store: Store, start: datetime, end: datetime) -> pl.DataFrame:
    """Rollup rows of the buckets in [start, end), with `file` (the store file's
    name and size, for keys of caches made from them)."""
    present = set(store.layout.days("logs"))
    files = [f for day in _days(start, end) if day in present for f in store.day_files("logs", day)]
    return _frames(store, files).filter((pl.col("bucket") >= start) & (pl.col("bucket") < end))


def _frames(store: Store, files: Sequence[Path]) -> pl.DataFrame:
    parts = [
        frame.with_columns(pl.lit(f"{data.name}:{size}").alias("file"))
        for data, frame, size in _with_sizes(
            read_caches(store.layout, DIGEST_ROLLUPS, "logs", files)
        )
    ]
    if not parts:
        return pl.DataFrame(schema={**ROLLUP_SCHEMA, "file": pl.String()})
    return pl.concat(parts)


def _with_sizes(
    pairs: list[tuple[Path, pl.DataFrame]],
) -> list[tuple[Path, pl.DataFrame, int]]:
    out = []
    for data, frame in pairs:
        try:
            out.append((data, frame, data.stat().st_size))
        except OSError:
            continue
    return out


def history_span(store: Store) -> tuple[datetime | None, datetime | None]:
    """First and last record time of `logs`, from the rollups of its first and
    last dated day (a day partition holds that UTC day's records only)."""
    days = [d for d in store.layout.days("logs") if d != UNDATED]
    if not days:
        return None, None
    lo = _frames(store, store.day_files("logs", days[0])).get_column("first_ts").min()
    hi = _frames(store, store.day_files("logs", days[-1])).get_column("last_ts").max()
    assert lo is None or isinstance(lo, datetime)
    assert hi is None or isinstance(hi, datetime)
    return lo, hi
