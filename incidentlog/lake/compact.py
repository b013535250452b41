"""`lake compact`: closed days rewritten sorted by (service, ts) without duplicates.

For each closed day (before the current UTC day; undated rows too) that
has more than one data file, or a file still in the landing prefix: the
day's rows as of one snapshot, each (host, id) once, sorted by (service,
ts), written as new data files (row groups of ROW_GROUP_ROWS rows, so a
service filter reads that service's row groups only) and swapped in by an
overwrite filtered to the day, committed on that same snapshot. A conflict
(the committer added files meanwhile) discards the rewrite and starts the
day again, so nothing is lost or doubled; pushes never conflict (they only
land files). Then snapshots beyond `keep` expire, and files that no
remaining snapshot references are deleted: landing files only once their
batch is committed, data files only after a grace period (a compaction
running elsewhere may be about to commit them); a batch whose files are
all gone is deleted last (commit.py relies on that order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

import polars as pl

from incidentlog.lake.commit import WATERMARK, expire_snapshots, watermark
from incidentlog.lake.objects import BATCHES, LANDING, announcement
from incidentlog.lake.read import iceberg_predicate
from incidentlog.lake.schema import DATASETS

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.io import FileIO
    from pyiceberg.table import Table

    from incidentlog.lake import Lake

__all__ = ["ATTEMPTS", "CompactResult", "compact"]

ATTEMPTS: Final = 20
"""Tries per day when the committer keeps adding to it."""
_EPOCH = date(1970, 1, 1)


@dataclass
class CompactResult:
    days: int = 0
    files_before: int = 0
    files_after: int = 0
    duplicates: int = 0
    conflicts: int = 0
    deleted: int = 0
    """Files no snapshot references any more, deleted."""


def compact(
    lake: Lake,
    *,
    today: date | None = None,
    keep: int = 50,
    grace: timedelta = timedelta(hours=1),
    say: Callable[[str], None] = lambda _: None,
) -> CompactResult:
    """Compact the closed days of both tables, expire old snapshots, delete unreferenced files."""
    result = CompactResult()
    closed = today or datetime.now(UTC).date()
    for dataset in DATASETS:
        for day in _days_to_compact(lake.table(dataset), closed):
            _compact_day(lake, dataset, day, result)
            say(f"{dataset} {day or 'undated'}: compacted")
        table = lake.table(dataset)
        expire_snapshots(table, keep)
        result.deleted += _delete_unreferenced(lake, dataset, grace)
    return result


def _day_of(partition_value: object) -> date | None:
    return None if partition_value is None else _EPOCH + timedelta(days=int(str(partition_value)))


def _days_to_compact(table: Table, before: date) -> list[date | None]:
    """Closed days with several data files or a landing file (None: undated rows)."""
    if table.current_snapshot() is None:
        return []
    files: dict[date | None, list[str]] = {}
    for task in table.scan().plan_files():
        day = _day_of(task.file.partition[0])
        files.setdefault(day, []).append(task.file.file_path)
    return sorted(
        (
            day
            for day, paths in files.items()
            if (day is None or day < before)
            and (len(paths) > 1 or any(f"/{LANDING}/" in p for p in paths))
        ),
        key=lambda d: (d is None, d or _EPOCH),
    )


def _day_filter(day: date | None) -> tuple[BooleanExpression, pl.Expr]:
    """The day as an Iceberg filter (for the overwrite) and a Polars one (for the read)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, IsNull, LessThan

    if day is None:
        return iceberg_predicate(IsNull, "ts"), pl.col("ts").is_null()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return (
        And(
            iceberg_predicate(GreaterThanOrEqual, "ts", start.isoformat()),
            iceberg_predicate(LessThan, "ts", end.isoformat()),
        ),
        (pl.col("ts") >= start) & (pl.col("ts") < end),
    )


def _compact_day(lake: Lake, dataset: str, day: date | None, result: CompactResult) -> None:
    from pyiceberg.exceptions import CommitFailedException

    iceberg_filter, polars_filter = _day_filter(day)
    for _ in range(ATTEMPTS):
        table = lake.table(dataset)
        snapshot = table.current_snapshot()
        assert snapshot is not None
        before = sum(1 for _ in table.scan(row_filter=iceberg_filter).plan_files())
        rows = pl.scan_iceberg(table, snapshot_id=snapshot.snapshot_id).filter(polars_filter)
        total = rows.select(pl.len()).collect().item()
        unique = (
            rows.unique(["host", "id"], keep="first", maintain_order=True)
            .sort("service", "ts", "ts_ns", nulls_last=True)
            .collect()
        )
        try:
            table.overwrite(
                unique.to_arrow(),
                overwrite_filter=iceberg_filter,
                snapshot_properties={WATERMARK: str(watermark(table))},
            )
        except CommitFailedException:
            result.conflicts += 1
            continue
        after = lake.table(dataset).scan(row_filter=iceberg_filter).plan_files()
        result.days += 1
        result.files_before += before
        result.files_after += sum(1 for _ in after)
        result.duplicates += total - unique.height
        return
    from incidentlog.errors import LakeError

    raise LakeError(
        f"{dataset} {day}: the table kept changing; compaction gave up after {ATTEMPTS} tries"
    )


def referenced_files(table: Table) -> set[str]:
    """Data files that any snapshot of `table` references."""
    io: FileIO = table.io
    seen: set[str] = set()
    paths: set[str] = set()
    for snapshot in table.snapshots():
        for manifest in snapshot.manifests(io):
            if manifest.manifest_path in seen:
                continue
            seen.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                paths.add(entry.data_file.file_path)
    return paths


def _delete_unreferenced(lake: Lake, dataset: str, grace: timedelta) -> int:
    """Delete landing files of committed batches and old data files that no
    snapshot references, then batches whose files are all gone."""
    import json

    table = lake.table(dataset)
    objects = lake.objects(dataset)
    referenced = {objects.relative(p) for p in referenced_files(table)}
    mark = watermark(table)
    batches: dict[str, list[str]] = {}
    for item in objects.list(BATCHES):
        number = int(item.path.rsplit("/", 1)[-1].removesuffix(".json"))
        data = objects.get(item.path) if number <= mark else None
        if data is not None:
            batches[item.path] = json.loads(data)["files"]
    committed = {path for paths in batches.values() for path in paths}
    landed = {item.path for item in objects.list(LANDING)}
    old = datetime.now(UTC) - grace
    gone = [p for p in landed if p in committed and p not in referenced]
    gone += [
        item.path
        for item in objects.list("data")
        if item.path.endswith(".parquet") and item.path not in referenced and item.modified < old
    ]
    objects.delete([announcement(p) for p in gone if p.startswith(LANDING)])  # before the batches
    objects.delete(gone)
    remaining = landed - set(gone)
    objects.delete([b for b, paths in batches.items() if not remaining.intersection(paths)])
    return len(gone)
