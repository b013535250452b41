"""Reading the store: lazy scans pruned by day partition, time and service; its totals.

A scan pins the files it lists: it opens each one and hands Polars the open
files, which Polars keeps (as its own descriptors) for the life of the lazy
frame. A compaction that unlinks them meanwhile (compact.py) takes nothing
away from a running query; a file that vanished between listing and opening
(its compaction finished in between) makes the scan list the day again.
Each file's ends are checked when it is opened, so a truncated or foreign
file is one error naming it, not a Parquet error deep in a query.
"""

from __future__ import annotations

import os
import resource
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.store.layout import DATASETS, UNDATED, Layout

MAGIC = b"PAR1"
LIST_ATTEMPTS = 20
"""Times a day is listed again when a file vanished before it could be opened
(each time means a compaction finished in between: a handful at most)."""
SPARE_DESCRIPTORS = 256
"""File descriptors kept free when pinning: beyond that, files are read by name."""


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
    pinned = pin_files(layout, dataset, window_days(layout, dataset, since, until))
    if not pinned:
        return pl.LazyFrame(schema=DATASETS[dataset])
    try:
        frame = pl.scan_parquet(pinned, schema=DATASETS[dataset], hive_partitioning=False)
    finally:  # Polars holds its own descriptors of them now
        close_pinned(pinned)
    return window_filter(frame, since, until, services)


def dataset_info(layout: Layout, dataset: str) -> DatasetInfo:
    """Files, bytes, rows, time span and rows per service of one dataset."""
    pinned = pin_files(layout, dataset, layout.days(dataset))
    info = DatasetInfo(files=len(pinned), bytes=sum(_size(f) for f in pinned))
    if not pinned:
        return info
    try:
        frame = pl.scan_parquet(pinned, schema=DATASETS[dataset], hive_partitioning=False)
    finally:
        close_pinned(pinned)
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


_scanned: dict[Path, str] = {}
"""Every store file this process handed to Polars, with its dataset: when a
query then fails on damaged Parquet, `damaged_scanned_file` finds which."""


def forget_scans() -> None:
    """Start a new command: files scanned before are no longer its suspects."""
    _scanned.clear()


def damaged_scanned_file() -> tuple[Path, str] | None:
    """(file, what is wrong) for the first file scanned in this process that
    cannot be read whole (reads each one: only for naming the file after a
    Parquet error); None if all read."""
    for file, dataset in list(_scanned.items()):
        problem = check_file(file, DATASETS[dataset])
        if problem:
            return file, problem
    return None


def window_filter(
    frame: pl.LazyFrame, since: datetime | None, until: datetime | None, services: Iterable[str]
) -> pl.LazyFrame:
    """`frame`'s rows from `since` to `until` (UTC) of `services` (all when empty)."""
    if since:
        frame = frame.filter(pl.col("ts") >= since)
    if until:
        frame = frame.filter(pl.col("ts") <= until)
    wanted = list(services)
    if wanted:
        frame = frame.filter(pl.col("service").is_in(wanted))
    return frame


def window_days(
    layout: Layout, dataset: str, since: datetime | None, until: datetime | None
) -> list[str]:
    """The days of `dataset` a window from `since` to `until` (UTC) may touch; the
    undated records only when there is no window."""
    since, until = _as_utc(since), _as_utc(until)  # (naive ones are UTC)
    days = layout.days(dataset)
    if since or until:
        lo = since.date().isoformat() if since else ""  # (strftime does not pad year 656)
        hi = until.date().isoformat() if until else "9999"
        days = [d for d in days if d != UNDATED and lo <= d <= hi]
    return days


def pin_files(layout: Layout, dataset: str, days: Iterable[str]) -> list[IO[bytes]] | list[Path]:
    """The store files of `days`, open (by path when there are more than the
    process may hold open), each checked at both ends; a truncated or foreign
    one is a StoreError naming it."""
    days = list(days)
    for day in days:
        _scanned.update(dict.fromkeys(layout.day_files(dataset, day), dataset))
    listed = sum(len(layout.day_files(dataset, day)) for day in days)
    if listed > _descriptor_budget():
        paths = [f for day in days for f in layout.day_files(dataset, day)]
        for file in paths:
            raise_if_bad(file, check_footer(file))
        return paths
    pinned: list[IO[bytes]] = []
    try:
        for day in days:
            pinned.extend(_pin_day(layout, dataset, day))
    except BaseException:
        close_pinned(pinned)
        raise
    return pinned


def _pin_day(layout: Layout, dataset: str, day: str) -> list[IO[bytes]]:
    """One day's files, open; listed again when one vanished before it was opened."""
    for _ in range(LIST_ATTEMPTS):
        opened: list[IO[bytes]] = []
        try:
            for file in layout.day_files(dataset, day):
                stream = file.open("rb")
                opened.append(stream)
                raise_if_bad(file, _footer_problem(stream))
        except FileNotFoundError:  # a compaction finished meanwhile: list again
            close_pinned(opened)
            time.sleep(0.01)
            continue
        except BaseException:
            close_pinned(opened)
            raise
        return opened
    raise StoreError(f"{layout.day_dir(dataset, day)}: its files keep changing; try again")


def close_pinned(files: list[IO[bytes]] | list[Path]) -> None:
    """Close the open ones (Polars keeps its own descriptors of what it scans)."""
    for file in files:
        if not isinstance(file, Path):
            file.close()


def raise_if_bad(file: Path, problem: str | None) -> None:
    if problem:
        raise StoreError(
            f"{file}: {problem}; `incidentlog store check --repair` moves it aside "
            "(re-ingest its input to restore its rows)"
        )


_budget: int | None = None


def _descriptor_budget() -> int:
    """How many files a process may hold open (raising the soft limit to the hard one)."""
    global _budget
    if _budget is None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
            except (OSError, ValueError):
                pass
        _budget = max(0, (soft - SPARE_DESCRIPTORS) // 2)  # Polars duplicates each one
    return _budget


def check_footer(file: Path) -> str | None:
    """What is wrong with the ends of the Parquet file `file` (None: they look right)."""
    try:
        with file.open("rb") as stream:
            return _footer_problem(stream)
    except FileNotFoundError:
        return None  # gone (compacted): nothing wrong with it
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _footer_problem(stream: IO[bytes]) -> str | None:
    size = os.fstat(stream.fileno()).st_size
    if size < 12:
        return f"not a Parquet file ({size} bytes: truncated or empty)"
    head = stream.read(4)
    stream.seek(size - 8)
    tail = stream.read(8)
    stream.seek(0)
    (footer,) = struct.unpack("<I", tail[:4])
    if head != MAGIC:
        return "not a Parquet file (it does not start with PAR1)"
    if tail[4:] != MAGIC or footer + 12 > size:
        return "truncated or corrupt Parquet file (no valid footer)"
    return None


def check_file(file: Path, schema: pl.Schema) -> str | None:
    """What is wrong with store file `file` (None when the store's reader reads it
    whole): its ends, then its columns against `schema` and every value decoded."""
    problem = check_footer(file)
    if problem:
        return problem
    try:
        pl.scan_parquet(file, schema=schema, hive_partitioning=False).select(
            pl.all().null_count()
        ).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        return f"cannot be read as a store file ({_first_line(exc)})"
    except BaseException as exc:  # Polars may panic on damaged bytes (not an Exception)
        if not is_panic(exc):
            raise
        return f"cannot be read as a store file ({_first_line(exc)})"
    return None


def is_panic(exc: BaseException) -> bool:
    """A Rust panic inside Polars (pyo3's PanicException derives from BaseException)."""
    return type(exc).__name__ == "PanicException"


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


def _size(file: IO[bytes] | Path) -> int:
    if isinstance(file, Path):
        try:
            return file.stat().st_size
        except OSError:
            return 0
    return os.fstat(file.fileno()).st_size
