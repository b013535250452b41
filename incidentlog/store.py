"""The history store: plain hive-partitioned Parquet, append-only and idempotent.

    <store>/incidentlog-store.json       marker (format version)
    <store>/logs/day=2025-08-01/<writer>.parquet
    <store>/events/day=2025-08-01/<writer>.parquet
    <store>/logs/day=undated/...         records whose input had no time

Files are immutable and named by their writer (host, pid, random), so
several writers — later several Docker hosts on shared object storage —
never edit the same file. Each file is written under a temporary name and
renamed into place, so a crash never leaves a half file visible. Rows are
grouped by service, each service's rows in arrival (time) order, so Parquet
row-group statistics prune service and time queries. Ingesting the same input
again adds nothing: rows whose `id` is already stored are skipped (under a
lock file, so concurrent ingests on one machine cannot both add the same row).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA, conform, id_fingerprint

STORE_ENV = "INCIDENTLOG_STORE"
MARKER = "incidentlog-store.json"
FORMAT_VERSION = 2
"""2: record ids are Polars row hashes (1 hashed a struct); a store of another
format is refused rather than mixed, so re-ingesting never duplicates."""
UNDATED = "undated"
ROW_GROUP_ROWS = 64 * 1024
ZSTD_LEVEL = 1
"""Level 3 costs a quarter more CPU for 7 % smaller files."""
FILE_ROWS = 512 * 1024
"""Rows per store file written by one ingest (smaller files come from small inputs)."""
DATASETS: dict[str, pl.Schema] = {"logs": LOGS_SCHEMA, "events": EVENTS_SCHEMA}


def default_store_path() -> Path:
    """`$INCIDENTLOG_STORE`, else the user's data directory."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("incidentlog")) / "store"


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


@dataclass
class AppendResult:
    written: dict[str, int] = field(default_factory=lambda: {"logs": 0, "events": 0})
    duplicates: int = 0
    files: int = 0


class _KnownIds:
    """Record ids of one (dataset, day), kept per container in chunks with their time range.

    A record can only repeat one of its own container at the same instant
    (both are part of its id), so a batch is probed only against its
    containers' chunks whose time range overlaps its own. Time-ordered input
    and `docker compose logs` dumping one container after another both probe
    a few recent chunks per container, where probing everything known would
    grow with the square of the input.
    """

    COLUMNS = ("container", "ts", "id")

    def __init__(self) -> None:
        self.chunks: dict[str | None, list[tuple[_Span | None, pl.DataFrame]]] = {}

    def clear(self) -> None:
        self.chunks.clear()

    def add(self, parts: list[_Part]) -> None:
        """Remember the ids of `parts` (from `_parts`)."""
        for container, span, ids in parts:
            self.chunks.setdefault(container, []).append((span, ids))

    def seen(self, parts: list[_Part]) -> pl.DataFrame:
        """The ids of `parts` (from `_parts`) that are already known."""
        hits = [pl.DataFrame(schema={"id": pl.UInt64})]
        for container, span, ids in parts:
            candidates = [
                known
                for known_span, known in self.chunks.get(container, ())
                if _overlap(span, known_span)
            ]
            if candidates:
                hits.append(pl.concat(candidates, rechunk=False).join(ids, on="id", how="semi"))
        return pl.concat(hits)


_Span = tuple[datetime, datetime]
"""First and last time of some rows; None instead when any is undated (overlaps everything)."""
_Part = tuple[str | None, _Span | None, pl.DataFrame]
"""One container's rows of a batch: container, time span, ids."""


def _parts(rows: pl.DataFrame) -> list[_Part]:
    """`rows` (columns `_KnownIds.COLUMNS`) split per container, once per batch."""
    if rows.is_empty():
        return []
    parts: list[_Part] = []
    for (container,), part in rows.partition_by("container", as_dict=True).items():
        assert container is None or isinstance(container, str)
        parts.append((container, _span(part), part.select("id")))
    return parts


def _span(rows: pl.DataFrame) -> _Span | None:
    ts = rows.get_column("ts")
    if ts.null_count():
        return None
    lo, hi = ts.min(), ts.max()
    assert isinstance(lo, datetime) and isinstance(hi, datetime)
    return lo, hi


def _overlap(a: _Span | None, b: _Span | None) -> bool:
    return a is None or b is None or (a[0] <= b[1] and b[0] <= a[1])


class _FileWriter:
    """Groups (by service) and writes store files on one background thread
    (Polars releases the GIL), at most two files behind the caller so memory
    stays bounded."""

    def __init__(self, store: Store, writer: str) -> None:
        self.store = store
        self.writer = writer
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="incidentlog-store")
        self.queue: deque[Future[Path]] = deque()
        self.count = 0

    def submit(self, key: tuple[str, str], frame: pl.DataFrame) -> None:
        dataset, day = key
        name = f"{self.writer}-{self.count}"
        self.count += 1
        self.queue.append(self.pool.submit(self.store._write, dataset, day, frame, name))
        while len(self.queue) > 2:
            self.queue.popleft().result()

    def finish(self) -> int:
        while self.queue:
            self.queue.popleft().result()
        return self.count

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Store:
    """A history store directory; `Store.open` checks it (and with `create`,
    makes it on the first write, so a failed ingest leaves nothing behind)."""

    def __init__(self, root: Path, *, exists: bool = True) -> None:
        self.root = root
        self._exists = exists
        self._id_cache: dict[tuple[str, str], tuple[set[Path], _KnownIds]] = {}
        """Ids of the files of a (dataset, day) already read, so a long-running
        writer (`collect` appends every second) reads each file once."""

    @classmethod
    def open(cls, root: Path | None = None, *, create: bool = False) -> Store:
        path = root or default_store_path()
        marker = path / MARKER
        if marker.is_file():
            try:
                version = json.loads(marker.read_text()).get("format")
            except (OSError, ValueError):
                raise StoreError(f"{path}: unreadable store marker {MARKER}") from None
            if version != FORMAT_VERSION:
                hint = (
                    " (written by an older incidentlog: ingest into a new --store)"
                    if isinstance(version, int) and version < FORMAT_VERSION
                    else ""
                )
                raise StoreError(
                    f"{path}: store format {version}, this incidentlog reads {FORMAT_VERSION}{hint}"
                )
            return cls(path)
        if not create:
            raise StoreError(
                f"{path}: no incidentlog store here (ingest something first, or pass --store)"
            )
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(
                f"{path}: exists and is not an incidentlog store; choose another --store"
            )
        return cls(path, exists=False)

    def ensure_created(self) -> None:
        """Make the store directory and marker if `open(create=True)` deferred them."""
        if self._exists:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            marker = {"format": FORMAT_VERSION, "ids": id_fingerprint(), "polars": pl.__version__}
            _atomic_write_bytes(self.root / MARKER, json.dumps(marker).encode())
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create store ({exc.strerror})") from None
        self._exists = True

    def _check_ids(self) -> None:
        """Refuse to add to a store whose record ids this Polars would compute
        differently (Polars keeps its row hash only within a version), which
        would store re-ingested records a second time. Call under the lock; a
        store from before ids were recorded adopts this Polars'."""
        path = self.root / MARKER
        try:
            marker = json.loads(path.read_text())
        except (OSError, ValueError):
            raise StoreError(f"{self.root}: unreadable store marker {MARKER}") from None
        current = id_fingerprint()
        if marker.get("ids") is None:
            marker |= {"ids": current, "polars": pl.__version__}
            _atomic_write_bytes(path, json.dumps(marker).encode())
        elif marker["ids"] != current:
            made_by = marker.get("polars", "another version")
            raise StoreError(
                f"{self.root}: its record ids were made by Polars {made_by}, whose row hash "
                f"differs from this Polars {pl.__version__}; adding to it would store "
                f"re-ingested records twice (install polars=={made_by} to add to this "
                "store, or ingest into a new --store)"
            )

    # ---- writing -------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, batches: Iterable[tuple[str, pl.DataFrame]]) -> AppendResult:
        """Write (dataset, frame) batches, skipping rows whose id is already stored.

        Ids on disk are loaded once per day touched, ids this run wrote are
        remembered; both as `_KnownIds`, which a batch probes only where a
        repeat could be (same container, overlapping time), so the check stays
        linear in the input. New rows are buffered per (dataset, day) into
        files of about FILE_ROWS rows, grouped and written on a second thread
        while the caller parses the next batch.
        """
        result = AppendResult()
        stored: dict[tuple[str, str], _KnownIds] = {}
        written: dict[tuple[str, str], _KnownIds] = {}
        pending: dict[tuple[str, str], list[pl.DataFrame]] = {}
        writer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        with ExitStack() as held:
            files = _FileWriter(self, writer)
            held.callback(files.shutdown)  # on an error, stop writing; on success, flushed below
            locked = False
            for dataset, frame in batches:
                if frame.is_empty():
                    continue
                if not locked:  # the first rows: create the store if need be, then lock
                    self.ensure_created()
                    held.enter_context(self._locked())
                    self._check_ids()
                    locked = True
                frame = conform(frame, DATASETS[dataset], "store")
                for name, part in _by_day(frame):
                    key = (dataset, name)
                    if key not in written:
                        written[key] = _KnownIds()
                        stored[key] = self._stored_ids(dataset, name)
                    rows = part.height
                    if part.get_column("id").n_unique() < rows:
                        part = part.unique("id", keep="first", maintain_order=True)
                    parts = _parts(part.select(_KnownIds.COLUMNS))
                    seen = pl.concat([stored[key].seen(parts), written[key].seen(parts)])
                    fresh = part.join(seen, on="id", how="anti") if seen.height else part
                    result.duplicates += rows - fresh.height
                    if fresh.is_empty():
                        continue
                    written[key].add(
                        _parts(fresh.select(_KnownIds.COLUMNS)) if seen.height else parts
                    )
                    result.written[dataset] += fresh.height
                    buffer = pending.setdefault(key, [])
                    buffer.append(fresh)
                    if sum(f.height for f in buffer) >= FILE_ROWS:
                        files.submit(key, pl.concat(pending.pop(key)))
            for key, buffer in pending.items():
                files.submit(key, pl.concat(buffer))
            result.files = files.finish()
        return result

    def day_files(self, dataset: str, day: str) -> list[Path]:
        """The store files of one (dataset, day partition), by name."""
        return sorted((self.root / dataset / f"day={day}").glob("*.parquet"))

    def cache_dir(self, name: str) -> Path:
        """`<root>/cache/<name>`: where a reader keeps its cache (not created)."""
        return self.root / "cache" / name

    def _stored_ids(self, dataset: str, day: str) -> _KnownIds:
        """Ids stored for one day: files read before are served from the cache,
        new ones (another writer's, or this store's earlier appends) are read."""
        files, known = self._id_cache.setdefault((dataset, day), (set(), _KnownIds()))
        present = set(self.day_files(dataset, day))
        if files - present:  # compaction replaced files: start over for this day
            files.clear()
            known.clear()
        new = sorted(present - files)
        if new:
            known.add(_parts(pl.scan_parquet(new).select(_KnownIds.COLUMNS).collect()))
            files.update(new)
        return known

    def _write(self, dataset: str, day: str, rows: pl.DataFrame | pl.LazyFrame, name: str) -> Path:
        """Write `rows` as one file of the day (a frame is grouped by service
        first; a lazy frame comes grouped and is streamed to disk)."""
        folder = self.root / dataset / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.parquet"
        temporary = folder / f".{name}.parquet.tmp"
        if isinstance(rows, pl.LazyFrame):
            rows.sink_parquet(
                temporary,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                statistics=True,
                row_group_size=ROW_GROUP_ROWS,
            )
        else:  # (a frame's own writer: 4 % less CPU than sinking it)
            _clustered_by_service(rows).write_parquet(
                temporary,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                statistics=True,
                row_group_size=ROW_GROUP_ROWS,
            )
        temporary.replace(target)
        return target

    # ---- reading -------------------------------------------------------------

    def scan(
        self,
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
        folder = self.root / dataset
        days = sorted(p.name.removeprefix("day=") for p in folder.glob("day=*") if p.is_dir())
        if since or until:
            lo = since.strftime("%Y-%m-%d") if since else ""
            hi = until.strftime("%Y-%m-%d") if until else "9999"
            days = [d for d in days if d != UNDATED and lo <= d <= hi]
        files = [f for d in days for f in sorted((folder / f"day={d}").glob("*.parquet"))]
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

    def info(self) -> StoreInfo:
        return StoreInfo(self.root, self._dataset_info("logs"), self._dataset_info("events"))

    def _dataset_info(self, dataset: str) -> DatasetInfo:
        files = list((self.root / dataset).glob("day=*/*.parquet"))
        info = DatasetInfo(files=len(files), bytes=sum(f.stat().st_size for f in files))
        if not files:
            return info
        frame = self.scan(dataset)
        totals = frame.select(
            pl.len(), pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
        ).collect()
        info.rows, info.first_ts, info.last_ts = totals.row(0)
        per_service = frame.group_by("service").len().sort("service").collect()
        info.services = dict(per_service.iter_rows())
        return info

    def compact(self) -> tuple[int, int]:
        """Merge each day's files into one (dropping duplicate ids); returns (before, after)
        file counts. Streamed: memory stays that of a few row groups and one
        service's ids, whatever the size of the day."""
        before = after = 0
        with self._locked():
            for dataset in DATASETS:
                for folder in sorted((self.root / dataset).glob("day=*")):
                    files = sorted(folder.glob("*.parquet"))
                    before += len(files)
                    if len(files) <= 1:
                        after += len(files)
                        continue
                    name = f"compact-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
                    day = folder.name.removeprefix("day=")
                    self._write(dataset, day, _merged(files, DATASETS[dataset]), name)
                    for old in files:
                        old.unlink()
                    after += 1
        return before, after


def _merged(files: list[Path], schema: pl.Schema) -> pl.LazyFrame:
    """The rows of `files` grouped by service like a written file, each
    service's rows in file order (files by their earliest time, then name)
    and each id once (ids repeat only within a container, so within a
    service: the streaming dedup holds one service's ids at a time)."""
    timed = (
        pl.scan_parquet(files, schema=schema, hive_partitioning=False, include_file_paths="_file")
        .group_by("_file")
        .agg(pl.col("ts").min())
        .collect(engine="streaming")
    )
    earliest = dict(zip(timed.get_column("_file"), timed.get_column("ts"), strict=True))
    ordered = sorted(
        files, key=lambda f: (earliest.get(str(f)) is not None, earliest.get(str(f)) or 0, f.name)
    )
    rows = pl.scan_parquet(ordered, schema=schema, hive_partitioning=False)
    services = rows.select(pl.col("service").unique()).collect().get_column("service")
    parts = [
        rows.filter(
            pl.col("service").is_null() if service is None else pl.col("service") == service
        ).unique("id", keep="first", maintain_order=True)
        for service in services.sort(nulls_last=True).to_list()
    ]
    return pl.concat(parts)


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


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
