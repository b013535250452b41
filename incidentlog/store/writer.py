"""Appending to the store: the id check that makes it idempotent, and the file writer.

Files are immutable and named by their writer (host, pid, random), so
several writers never edit the same file. Each file is written under a
temporary name and renamed into place, so a crash never leaves a half file
visible. Rows are grouped by service, each service's rows in arrival (time)
order, so Parquet row-group statistics prune service and time queries.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.schema import conform
from incidentlog.store import rollups
from incidentlog.store.layout import DATASETS, UNDATED, Layout
from incidentlog.store.reader import check_file

ROW_GROUP_ROWS = 64 * 1024
ZSTD_LEVEL = 1
"""Level 3 costs a quarter more CPU for 7 % smaller files."""
FILE_ROWS = 512 * 1024
"""Rows per store file written by one ingest (smaller files come from small inputs)."""


@dataclass
class AppendResult:
    written: dict[str, int] = field(default_factory=lambda: {"logs": 0, "events": 0})
    duplicates: int = 0
    files: int = 0


_Key = tuple[str, str]
"""(dataset, day partition)."""


class _KnownIds:
    """Record ids of one (dataset, day), in chunks (one per batch added), with an
    index of each chunk's time range per container.

    A record can only repeat one of its own container at the same instant
    (both are part of its id), so a batch is probed only against the chunks
    where one of its containers has a time range overlapping its own.
    Time-ordered input and `docker compose logs` dumping one container after
    another both probe a few recent chunks, where probing everything known
    would grow with the square of the input. The index is a frame, joined
    with the batch's ranges: the cost follows lines, not distinct names (a
    million containers are a million index rows, not a million Python objects).
    """

    COLUMNS = ("container", "ts", "id")

    def __init__(self) -> None:
        self.chunks: list[pl.DataFrame] = []
        self.index = _spans(pl.DataFrame(schema=_ID_SCHEMA), 0)

    def clear(self) -> None:
        self.chunks = []
        self.index = _spans(pl.DataFrame(schema=_ID_SCHEMA), 0)

    def add(self, rows: pl.DataFrame) -> None:
        """Remember the ids of `rows` (columns COLUMNS)."""
        if rows.is_empty():
            return
        self.index = pl.concat([self.index, _spans(rows, len(self.chunks))], rechunk=False)
        self.chunks.append(rows.select("id"))

    def seen(self, rows: pl.DataFrame) -> pl.DataFrame:
        """The ids of `rows` (columns COLUMNS) that are already known."""
        if not self.chunks or rows.is_empty():
            return pl.DataFrame(schema={"id": pl.UInt64})
        wanted = _spans(rows, 0).drop("chunk")
        overlapping = (
            self.index.join(wanted, on="container", nulls_equal=True, suffix="_new")
            .filter(
                pl.col("lo").is_null()
                | pl.col("lo_new").is_null()
                | ((pl.col("lo") <= pl.col("hi_new")) & (pl.col("lo_new") <= pl.col("hi")))
            )
            .get_column("chunk")
            .unique()
            .sort()
        )
        if overlapping.is_empty():
            return pl.DataFrame(schema={"id": pl.UInt64})
        known: pl.DataFrame = pl.concat(
            [self.chunks[i] for i in overlapping.to_list()], rechunk=False
        )
        return known.join(rows.select("id"), on="id", how="semi")


_ID_SCHEMA = pl.Schema(
    {"container": pl.String(), "ts": pl.Datetime("ns", "UTC"), "id": pl.UInt64()}
)


def _spans(rows: pl.DataFrame, chunk: int) -> pl.DataFrame:
    """Per container of `rows`: first and last time (both null when any row is
    undated: it overlaps everything), tagged with `chunk`."""
    ts = pl.col("ts")
    undated = ts.null_count() > 0
    return rows.group_by("container").agg(
        pl.when(undated).then(None).otherwise(ts.min()).alias("lo"),
        pl.when(undated).then(None).otherwise(ts.max()).alias("hi"),
        pl.lit(chunk, dtype=pl.UInt32).alias("chunk"),
    )


class StoredIds:
    """Ids of the files of a (dataset, day) already read, so a long-running
    writer (`collect` appends every second) reads each file once."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._cache: dict[_Key, tuple[set[Path], _KnownIds]] = {}

    def of(self, dataset: str, day: str) -> _KnownIds:
        """Ids stored for one day: files read before are served from the cache,
        new ones (another writer's, or this store's earlier appends) are read."""
        files, known = self._cache.setdefault((dataset, day), (set(), _KnownIds()))
        present = set(self.layout.day_files(dataset, day))
        if files - present:  # compaction replaced files: start over for this day
            files.clear()
            known.clear()
        new = sorted(present - files)
        if new:
            known.add(_read_ids(new, DATASETS[dataset]))
            files.update(new)
        return known


def _read_ids(files: list[Path], schema: pl.Schema) -> pl.DataFrame:
    """The id columns of `files`; a file that cannot be read is a StoreError naming it."""
    try:
        return pl.scan_parquet(files).select(_KnownIds.COLUMNS).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        for file in files:
            problem = check_file(file, schema)
            if problem:
                raise StoreError(
                    f"{file}: {problem}; `incidentlog store check --repair` moves it aside"
                ) from None
        raise StoreError(f"{files[0].parent}: cannot read the stored ids ({exc})") from None


def write_file(
    layout: Layout,
    dataset: str,
    day: str,
    rows: pl.DataFrame | pl.LazyFrame,
    name: str,
    *,
    durable: bool = False,
) -> Path:
    """Write `rows` as one file of the day (a frame is grouped by service
    first; a lazy frame comes grouped and is streamed to disk). The file
    appears whole or not at all: on any failure its temporary file is removed
    and a StoreError says why (the disk is full, the store is read-only).
    `durable` flushes it to disk before it is renamed in (compaction deletes
    the files it replaces right after)."""
    target, temporary = layout.file(dataset, day, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(rows, pl.LazyFrame):
            rows.sink_parquet(
                temporary,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                statistics=True,
                row_group_size=ROW_GROUP_ROWS,
            )
        else:  # (a frame's own writer: 4 % less CPU than sinking it)
            rows = _clustered_by_service(rows)
            rows.write_parquet(
                temporary,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                statistics=True,
                row_group_size=ROW_GROUP_ROWS,
            )
        if durable:
            _fsync(temporary)
        temporary.replace(target)
    except BaseException as exc:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        problem = write_problem(exc)
        if problem is None:
            raise
        raise StoreError(f"{target.parent}: cannot write a store file ({problem})") from None
    if isinstance(rows, pl.DataFrame):  # caches of a compacted file are built when read
        rollups.write_registered(layout, dataset, target, rows)
    return target


def write_problem(exc: BaseException) -> str | None:
    """What an exception raised while writing says, when it is about the disk
    (None for anything else, such as a row that cannot be decoded)."""
    if isinstance(exc, OSError):
        code = exc.errno
        text = exc.strerror or str(exc)
    elif isinstance(exc, pl.exceptions.PolarsError) and "os error" in str(exc):
        match = re.search(r"\(os error (\d+)\)", str(exc))
        code = int(match.group(1)) if match else None
        text = str(exc)
    else:
        return None
    if code == errno.ENOSPC:
        return "disk full"
    if code == errno.EDQUOT:
        return "disk quota exceeded"
    if code == errno.EROFS:
        return "read-only file system"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return " ".join(text.split())[:160]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clustered_by_service(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows grouped by service (alphabetically), each service's rows in arrival order.

    That is what row-group statistics need to prune service and time queries
    (arrival order is time order up to compose's interleaving); a full
    (service, ts) sort costs three times as much for no better pruning.
    """
    frame = frame.rechunk()
    rows = (
        frame.select("service")
        .with_row_index("row")
        .group_by("service")  # each group's rows stay in frame order
        .agg("row")
        .sort("service", nulls_last=True)
        .get_column("row")
        .explode()
    )
    return frame[rows]


def _by_day(frame: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """(day partition name, rows) pairs; a frame within one day is not copied."""
    day = frame.get_column("ts").dt.date()
    first, last = day.min(), day.max()
    if day.null_count() == 0 and first == last:
        assert isinstance(first, date)
        yield first.isoformat(), frame
        return
    for (value,), part in frame.with_columns(day=day).partition_by("day", as_dict=True).items():
        assert value is None or isinstance(value, date)
        yield (value.isoformat() if value is not None else UNDATED), part.drop("day")


class _FileWriter:
    """Groups (by service) and writes store files on one background thread
    (Polars releases the GIL), at most two files behind the caller so memory
    stays bounded."""

    def __init__(self, layout: Layout, writer: str) -> None:
        self.layout = layout
        self.writer = writer
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="incidentlog-store")
        self.queue: deque[Future[Path]] = deque()
        self.count = 0
        self.stored = {name: 0 for name in DATASETS}
        """Rows in the files renamed into place so far (what an error leaves stored)."""

    def submit(self, key: _Key, frame: pl.DataFrame) -> None:
        dataset, day = key
        name = f"{self.writer}-{self.count}"
        self.count += 1
        self.queue.append(self.pool.submit(self._write, dataset, day, frame, name))
        while len(self.queue) > 2:
            self.queue.popleft().result()

    def _write(self, dataset: str, day: str, frame: pl.DataFrame, name: str) -> Path:
        path = write_file(self.layout, dataset, day, frame, name)
        self.stored[dataset] += frame.height
        return path

    def finish(self) -> int:
        while self.queue:
            self.queue.popleft().result()
        return self.count

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Appending:
    """One `append`: the ids known per (dataset, day) (on disk, and written by
    this run) and the new rows waiting to fill a file."""

    def __init__(self, known: StoredIds, files: _FileWriter) -> None:
        self.known = known
        self.files = files
        self.result = AppendResult()
        self.stored: dict[_Key, _KnownIds] = {}
        self.written: dict[_Key, _KnownIds] = {}
        self.pending: dict[_Key, list[pl.DataFrame]] = {}

    def add(self, dataset: str, frame: pl.DataFrame) -> None:
        frame = conform(frame, DATASETS[dataset], "store")
        for name, part in _by_day(frame):
            self._add_day((dataset, name), part)

    def _add_day(self, key: _Key, part: pl.DataFrame) -> None:
        if key not in self.written:
            self.written[key] = _KnownIds()
            self.stored[key] = self.known.of(*key)
        rows = part.height
        if part.get_column("id").n_unique() < rows:
            part = part.unique("id", keep="first", maintain_order=True)
        parts = part.select(_KnownIds.COLUMNS)
        seen = pl.concat([self.stored[key].seen(parts), self.written[key].seen(parts)])
        fresh = part.join(seen, on="id", how="anti") if seen.height else part
        self.result.duplicates += rows - fresh.height
        if fresh.is_empty():
            return
        self.written[key].add(fresh.select(_KnownIds.COLUMNS) if seen.height else parts)
        self.result.written[key[0]] += fresh.height
        buffer = self.pending.setdefault(key, [])
        buffer.append(fresh)
        if sum(f.height for f in buffer) >= FILE_ROWS:
            self.files.submit(key, pl.concat(self.pending.pop(key)))

    def finish(self) -> AppendResult:
        for key, buffer in self.pending.items():
            self.files.submit(key, pl.concat(buffer))
        self.result.files = self.files.finish()
        return self.result


def append(
    batches: Iterable[tuple[str, pl.DataFrame]],
    *,
    layout: Layout,
    known: StoredIds,
    begin: Callable[[], AbstractContextManager[None]],
) -> AppendResult:
    """Write (dataset, frame) batches, skipping rows whose id is already stored.

    `begin` is entered at the first rows (it creates and locks the store).
    Ids on disk are loaded once per day touched, ids this run wrote are
    remembered; both as `_KnownIds`, which a batch probes only where a
    repeat could be (same container, overlapping time), so the check stays
    linear in the input. New rows are buffered per (dataset, day) into
    files of about FILE_ROWS rows, grouped and written on a second thread
    while the caller parses the next batch.
    """
    writer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    files = _FileWriter(layout, writer)
    try:
        with ExitStack() as held:
            held.callback(files.shutdown)  # on an error, stop writing; on success, flushed below
            appending = _Appending(known, files)
            started = False
            for dataset, frame in batches:
                if frame.is_empty():
                    continue
                if not started:
                    held.enter_context(begin())
                    held.callback(files.shutdown)  # (before the lock is released)
                    started = True
                appending.add(dataset, frame)
            return appending.finish()
    except StoreError as exc:
        if not files.count:
            raise
        raise StoreError(
            f"{exc}; {files.stored['logs']} records and {files.stored['events']} events "
            "were stored before that; once it is fixed, running the same command again "
            "adds the rest (rows already stored are skipped)"
        ) from None
