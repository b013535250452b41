"""Retention: whole old days removed from the store, with their caches.

`prune` removes every day partition (logs and events) that ends at or before
the cutoff, so a day is never cut in half unless `partial` asks for it: then
the day holding the cutoff is rewritten without its earlier rows, the way a
compaction replaces files (compact.py: a journal, the new file renamed in,
the old files unlinked), so a kill at any step leaves the day whole or done.
The records without a time (`day=undated`) belong to no day and are kept.

Caches derived from a day go with it: under `<store>/cache/`, a folder named
`day=<day>` or a file whose name starts with the day (`2025-08-01.json`,
`2025-08-01T13.<key>.parquet`) is the day's (layout.py). Readers pin the
files they read (reader.py), so a running query is not disturbed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from incidentlog.store.compact import recover, replace_day
from incidentlog.store.layout import DATASETS, UNDATED, Layout


@dataclass
class Pruned:
    """What a prune removed (or, with dry_run, would remove)."""

    cutoff: datetime
    days: list[str] = field(default_factory=list)
    """The days removed whole (logs or events)."""
    files: int = 0
    rows: int = 0
    bytes: int = 0
    cache_bytes: int = 0
    partial_rows: int = 0
    """Rows removed from the day holding the cutoff (with `partial`)."""
    kept_days: int = 0
    """Dated days left in the store."""

    def describe(self, *, dry_run: bool = False) -> str:
        """One line: what was removed (or would be)."""
        verb = "would remove" if dry_run else "removed"
        span = f" ({self.days[0]} .. {self.days[-1]})" if self.days else ""
        text = (
            f"{verb} {len(self.days)} days before {self.cutoff:%Y-%m-%d %H:%M:%S} UTC{span}: "
            f"{self.rows} rows in {self.files} files, "
            f"{(self.bytes + self.cache_bytes) / 1e6:.1f} MB freed "
            f"({self.cache_bytes / 1e6:.1f} MB of caches); {self.kept_days} days kept"
        )
        if self.partial_rows:
            text += f"; {self.partial_rows} earlier rows of the day holding the cutoff"
        return text


def prune(
    layout: Layout, cutoff: datetime, *, partial: bool = False, dry_run: bool = False
) -> Pruned:
    """Remove the days that end at or before `cutoff` (aware); with `partial`, also
    the rows before `cutoff` of the day holding it. The caller holds the lock."""
    cutoff = cutoff.astimezone(UTC)
    result = Pruned(cutoff)
    if not dry_run:
        recover(layout)
    boundary = cutoff.date().isoformat()  # the day holding the cutoff
    whole = {
        day
        for dataset in DATASETS
        for day in layout.days(dataset)
        if day != UNDATED and (day < boundary or (day == boundary and _at_midnight(cutoff)))
    }
    for day in sorted(whole):
        _remove_day(layout, day, result, dry_run=dry_run)
    result.days = sorted(whole)
    if partial and not _at_midnight(cutoff):
        for dataset, schema in DATASETS.items():
            result.partial_rows += _cut_day(layout, dataset, boundary, cutoff, schema, dry_run)
    result.kept_days = len(
        {d for dataset in DATASETS for d in layout.days(dataset) if d != UNDATED} - set(whole)
        if dry_run
        else {d for dataset in DATASETS for d in layout.days(dataset) if d != UNDATED}
    )
    return result


def _at_midnight(moment: datetime) -> bool:
    return moment == datetime.combine(moment.date(), datetime.min.time(), UTC)


def _remove_day(layout: Layout, day: str, result: Pruned, *, dry_run: bool) -> None:
    for dataset in DATASETS:
        folder = layout.day_dir(dataset, day)
        files = layout.day_files(dataset, day)
        if files:
            result.rows += _rows(files)
        result.files += len(files)
        result.bytes += sum(_size(f) for f in files)
        if not dry_run and folder.is_dir():
            # the folder is renamed away first: a reader lists the day whole or not at all
            doomed = folder.with_name(f".pruning-{folder.name}")
            folder.replace(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
    for path in day_caches(layout, day):
        result.cache_bytes += _tree_size(path)
        if not dry_run:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def day_caches(layout: Layout, day: str) -> list[Path]:
    """The cache folders (`day=<day>`) and files (`<day>…`) derived from one day."""
    root = layout.cache_dir("")
    if not root.is_dir():
        return []
    found: list[Path] = []
    folder_name = f"day={day}"
    for path in root.rglob("*"):
        if (path.is_dir() and path.name == folder_name) or (
            path.is_file()
            and path.name.startswith(day)
            and path.name[len(day) : len(day) + 1] in (".", "T")
        ):
            found.append(path)
    return [p for p in found if not any(parent in found for parent in p.parents)]


def _cut_day(
    layout: Layout, dataset: str, day: str, cutoff: datetime, schema: pl.Schema, dry_run: bool
) -> int:
    """Drop the rows before `cutoff` from one day; returns how many."""
    files = layout.day_files(dataset, day)
    if not files:
        return 0
    early = (
        pl.scan_parquet(files, schema=schema, hive_partitioning=False)
        .filter(pl.col("ts") < cutoff)
        .select(pl.len())
        .collect()
        .item()
    )
    if early and not dry_run:
        replace_day(layout, dataset, day, files, schema, keep=pl.col("ts") >= cutoff)
        for path in day_caches(layout, day):  # stale now: rebuilt from the new file
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return int(early)


def _rows(files: list[Path]) -> int:
    try:
        return int(
            pl.scan_parquet(files, hive_partitioning=False).select(pl.len()).collect().item()
        )
    except (pl.exceptions.PolarsError, OSError):
        return 0  # (a bad file: its rows are unknown, the day goes anyway)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tree_size(path: Path) -> int:
    if path.is_file():
        return _size(path)
    return sum(_size(p) for p in path.rglob("*") if p.is_file())


def days_cutoff(keep_days: int, now: datetime) -> datetime:
    """The cutoff that keeps `keep_days` days back from `now` (whole days go)."""
    return now.astimezone(UTC) - timedelta(days=keep_days)
