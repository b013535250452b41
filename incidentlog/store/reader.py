"""Reading the store: lazy scans pruned by day partition, time and service; its totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from incidentlog.store.layout import DATASETS, UNDATED, Layout


@dataclass
class DatasetInfo:
    rows: int = 0
    files: int = 0
    bytes: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    services: dict[str, int] = field(default_factory=dict)


@dataclass
class StoreInfo:
    path: Path
    logs: DatasetInfo
    events: DatasetInfo


def scan(
    layout: Layout,
    dataset: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Iterable[str] = (),
) -> pl.LazyFrame:
    """A lazy frame of one dataset, pruned by day partition, time and service.

    Naive `since`/`until` are taken as UTC (as `--since` is); aware ones are
    converted, so the day partitions (UTC days) prune correctly.
    """
    since, until = _as_utc(since), _as_utc(until)
    days = layout.days(dataset)
    if since or until:
        lo = since.strftime("%Y-%m-%d") if since else ""
        hi = until.strftime("%Y-%m-%d") if until else "9999"
        days = [d for d in days if d != UNDATED and lo <= d <= hi]
    files = [f for d in days for f in layout.day_files(dataset, d)]
    if not files:
        return pl.LazyFrame(schema=DATASETS[dataset])
    frame = pl.scan_parquet(files, schema=DATASETS[dataset], hive_partitioning=False)
    if since:
        frame = frame.filter(pl.col("ts") >= since)
    if until:
        frame = frame.filter(pl.col("ts") <= until)
    wanted = list(services)
    if wanted:
        frame = frame.filter(pl.col("service").is_in(wanted))
    return frame


def dataset_info(layout: Layout, dataset: str) -> DatasetInfo:
    """Files, bytes, rows, time span and rows per service of one dataset."""
    files = layout.dataset_files(dataset)
    info = DatasetInfo(files=len(files), bytes=sum(f.stat().st_size for f in files))
    if not files:
        return info
    frame = scan(layout, dataset)
    totals = frame.select(
        pl.len(), pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
    ).collect()
    info.rows, info.first_ts, info.last_ts = totals.row(0)
    per_service = frame.group_by("service").len().sort("service").collect()
    info.services = dict(per_service.iter_rows())
    return info


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
