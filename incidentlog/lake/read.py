"""Reading the lake: lazy scans through `pl.scan_iceberg`, the files a scan plans, totals.

A scan filters on the table's own `ts` (microseconds) and `service`, so
Polars pushes the window and the services down to the Iceberg planner: day
partitions and file statistics prune time (and host, in grep's filter
further down the same lazy frame), row-group statistics prune service. The
window is then applied again, exactly, to the nanosecond `ts` that
`from_lake` gives back, so a lake answers as the store does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from incidentlog.lake.schema import DATASETS, from_lake

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

    from incidentlog.lake import Lake

__all__ = ["PlannedFile", "plan", "scan", "table_info"]


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def scan_table(
    table: Table,
    dataset: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Iterable[str] = (),
    snapshot_id: int | None = None,
) -> pl.LazyFrame:
    """`table` as the store's frame, pruned by time and service (see the module docstring)."""
    since, until = _as_utc(since), _as_utc(until)
    if table.current_snapshot() is None:
        return pl.LazyFrame(schema=DATASETS[dataset])
    frame = pl.scan_iceberg(table, snapshot_id=snapshot_id)
    if since is not None:
        frame = frame.filter(pl.col("ts") >= since)
    if until is not None:
        frame = frame.filter(pl.col("ts") <= until)
    wanted = list(services)
    if wanted:
        frame = frame.filter(pl.col("service").is_in(wanted))
    out = from_lake(frame, dataset)
    if since is not None:
        out = out.filter(pl.col("ts") >= since)
    if until is not None:
        out = out.filter(pl.col("ts") <= until)
    return out


def scan(
    lake: Lake,
    dataset: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Iterable[str] = (),
) -> pl.LazyFrame:
    """A lazy frame of one lake table, in the store's schema, pruned as the store's scan."""
    return scan_table(lake.table(dataset), dataset, since=since, until=until, services=services)


@dataclass(frozen=True)
class PlannedFile:
    path: str
    rows: int
    row_groups: int
    """Row groups in the file."""
    row_groups_read: int
    """Row groups whose statistics may hold the wanted services (all without a service filter)."""


def _row_filter(
    since: datetime | None,
    until: datetime | None,
    services: Sequence[str],
    hosts: Sequence[str],
) -> BooleanExpression:
    from pyiceberg.expressions import (
        AlwaysTrue,
        And,
        GreaterThanOrEqual,
        In,
        LessThanOrEqual,
    )

    parts: list[BooleanExpression] = []
    if since is not None:
        parts.append(iceberg_predicate(GreaterThanOrEqual, "ts", since.isoformat()))
    if until is not None:
        parts.append(iceberg_predicate(LessThanOrEqual, "ts", until.isoformat()))
    if services:
        parts.append(iceberg_predicate(In, "service", set(services)))
    if hosts:
        parts.append(iceberg_predicate(In, "host", set(hosts)))
    expression: BooleanExpression = AlwaysTrue()
    for part in parts:
        expression = And(expression, part)
    return expression


def iceberg_predicate(kind: Any, *args: Any) -> BooleanExpression:
    """`kind(*args)`: pyiceberg's predicates take plain names and values at run
    time, which their pydantic-typed signatures do not tell mypy."""
    made: BooleanExpression = kind(*args)
    return made


def plan(
    lake: Lake,
    dataset: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Sequence[str] = (),
    hosts: Sequence[str] = (),
) -> list[PlannedFile]:
    """The data files a scan with these filters reads (day partitions and file
    statistics pruned by the Iceberg planner), and in each the row groups
    whose service statistics can match."""
    import pyarrow.parquet as pq

    table = lake.table(dataset)
    if table.current_snapshot() is None:
        return []
    row_filter = _row_filter(_as_utc(since), _as_utc(until), services, hosts)
    planned: list[PlannedFile] = []
    for task in table.scan(row_filter=row_filter).plan_files():
        path = task.file.file_path
        with table.io.new_input(path).open() as stream:
            metadata = pq.ParquetFile(stream).metadata
        groups = metadata.num_row_groups
        read = groups if not services else _groups_with(metadata, set(services))
        planned.append(PlannedFile(path, task.file.record_count, groups, read))
    return sorted(planned, key=lambda item: item.path)


def _groups_with(metadata: object, services: set[str]) -> int:
    """Row groups whose `service` min/max range can hold one of `services`."""
    schema = metadata.schema  # type: ignore[attr-defined]
    column = schema.names.index("service")
    count = 0
    for index in range(metadata.num_row_groups):  # type: ignore[attr-defined]
        stats = metadata.row_group(index).column(column).statistics  # type: ignore[attr-defined]
        if (
            stats is None
            or not stats.has_min_max
            or any(stats.min <= name <= stats.max for name in services)
        ):
            count += 1
    return count


def table_info(lake: Lake, dataset: str) -> dict[str, object]:
    """Rows, data files, bytes, time span and rows per service of one table."""
    table = lake.table(dataset)
    files = bytes_ = 0
    if table.current_snapshot() is not None:
        for task in table.scan().plan_files():
            files += 1
            bytes_ += task.file.file_size_in_bytes
    frame = scan_table(table, dataset)
    totals = frame.select(
        pl.len(), pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
    ).collect()
    rows, first, last = totals.row(0)
    per_service = frame.group_by("service").len().sort("service").collect()
    return {
        "rows": rows,
        "files": files,
        "bytes": bytes_,
        "first_ts": first,
        "last_ts": last,
        "services": dict(per_service.iter_rows()),
    }
