"""The history store: plain hive-partitioned Parquet, append-only and idempotent.

The store owns its whole directory; layout.py documents it and builds every
path in it (data, marker, lock, caches, collect's checkpoints). Files are
immutable and named by their writer, written under a temporary name and
renamed into place (writer.py). Ingesting the same input again adds nothing:
rows whose `id` is already stored are skipped (under a lock file, so
concurrent ingests on one machine cannot both add the same row).

    store/__init__.py   `Store`: open, create, lock; the face of the package
    store/layout.py     the on-disk layout: every path inside the store
    store/writer.py     append (the id check) and the file writer
    store/reader.py     scan (pinning the files it reads) and totals
    store/compact.py    merging a day's files into one, crash-safe; recovery after a kill
    store/check.py      finding bad files and moving them aside (`store check --repair`)
    store/prune.py      retention: whole old days removed, with their caches
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.schema import id_fingerprint
from incidentlog.store import reader, writer
from incidentlog.store.check import CheckResult
from incidentlog.store.check import check as _check
from incidentlog.store.compact import Compaction, Recovery, recover
from incidentlog.store.compact import compact as _compact
from incidentlog.store.layout import (
    CACHE,
    CHECKPOINTS,
    DATASETS,
    LOCK,
    MARKER,
    QUARANTINE,
    UNDATED,
    Layout,
)
from incidentlog.store.prune import Pruned
from incidentlog.store.prune import prune as _prune
from incidentlog.store.reader import DatasetInfo, StoreInfo
from incidentlog.store.writer import FILE_ROWS, ROW_GROUP_ROWS, ZSTD_LEVEL, AppendResult

__all__ = [
    "CACHE",
    "CHECKPOINTS",
    "DATASETS",
    "FILE_ROWS",
    "FORMAT_VERSION",
    "LOCK",
    "MARKER",
    "QUARANTINE",
    "ROW_GROUP_ROWS",
    "STORE_ENV",
    "UNDATED",
    "ZSTD_LEVEL",
    "AppendResult",
    "CheckResult",
    "Compaction",
    "DatasetInfo",
    "Layout",
    "Pruned",
    "Recovery",
    "Store",
    "StoreInfo",
    "default_store_path",
]

STORE_ENV = "INCIDENTLOG_STORE"
FORMAT_VERSION = 2
"""2: record ids are Polars row hashes (1 hashed a struct); a store of another
format is refused rather than mixed, so re-ingesting never duplicates."""


def default_store_path() -> Path:
    """`$INCIDENTLOG_STORE`, else the user's data directory."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("incidentlog")) / "store"


class Store:
    """A history store directory; `Store.open` checks it (and with `create`,
    makes it on the first write, so a failed ingest leaves nothing behind)."""

    def __init__(self, root: Path, *, exists: bool = True) -> None:
        self.root = root
        self.layout = Layout(root)
        self._exists = exists
        self._stored_ids = writer.StoredIds(self.layout)
        """Ids of the files already read, so a long-running writer (`collect`
        appends every second) reads each file once."""
        self.recovery: Recovery | None = None
        """What this writer cleaned up after killed ones (once, at its first lock)."""

    @classmethod
    def open(cls, root: Path | None = None, *, create: bool = False) -> Store:
        path = root or default_store_path()
        marker = Layout(path).marker
        if marker.is_file():
            version = _read_marker(path).get("format")
            if version != FORMAT_VERSION:
                hint = (
                    " (written by an older incidentlog: ingest into a new --store)"
                    if isinstance(version, int) and version < FORMAT_VERSION
                    else ""
                )
                version = json.dumps(version)
                raise StoreError(
                    f"{path}: store format {version}, this incidentlog reads {FORMAT_VERSION}{hint}"
                )
            return cls(path)
        if not create:
            raise StoreError(
                f"{path}: no incidentlog store here (ingest something first, or pass --store)"
            )
        if path.exists() and (not path.is_dir() or not _empty_or_unborn(path)):
            raise StoreError(
                f"{path}: exists and is not an incidentlog store; choose another --store"
            )
        return cls(path, exists=False)

    # ---- the layout ----------------------------------------------------------

    def day_files(self, dataset: str, day: str) -> list[Path]:
        """The store files of one (dataset, day partition), by name."""
        return self.layout.day_files(dataset, day)

    def cache_dir(self, name: str) -> Path:
        """`<root>/cache/<name>`, the folder of one cache of data derived from
        the store (not created: its writer makes it; deleting it loses nothing)."""
        return self.layout.cache_dir(name)

    def checkpoints_dir(self) -> Path:
        """`<root>/checkpoints`, where `collect` keeps its checkpoints (not created)."""
        return self.layout.checkpoints_dir()

    # ---- the marker ----------------------------------------------------------

    def ensure_created(self) -> None:
        """Make the store directory and marker if `open(create=True)` deferred them."""
        if self._exists:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            marker = {"format": FORMAT_VERSION, "ids": id_fingerprint(), "polars": pl.__version__}
            _atomic_write_bytes(self.layout.marker, json.dumps(marker).encode())
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create store ({_why(exc)})") from None
        self._exists = True

    def _check_ids(self) -> None:
        """Refuse to add to a store whose record ids this Polars would compute
        differently (Polars keeps its row hash only within a version), which
        would store re-ingested records a second time. Call under the lock; a
        store from before ids were recorded adopts this Polars'."""
        path = self.layout.marker
        marker = _read_marker(self.root)
        current = id_fingerprint()
        if marker.get("ids") is None:
            marker |= {"ids": current, "polars": pl.__version__}
            try:
                _atomic_write_bytes(path, json.dumps(marker).encode())
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot write to the store ({_why(exc)})") from None
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
        """Hold the store's lock (every writer does); the first time, clean up
        after writers that were killed (see compact.py)."""
        try:
            lock = self.layout.lock.open("a")
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot write to the store ({_why(exc)})") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.recovery is None:
                    self._recover()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _recover(self) -> Recovery:
        try:
            self.recovery = recover(self.layout)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot write to the store ({_why(exc)})") from None
        return self.recovery

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Create the store if need be, hold its lock, check its ids."""
        self.ensure_created()
        with self._locked():
            self._check_ids()
            yield

    def append(self, batches: Iterable[tuple[str, pl.DataFrame]]) -> AppendResult:
        """Write (dataset, frame) batches, skipping rows whose id is already stored
        (see `writer.append`); the store is created and locked at the first rows."""
        return writer.append(
            batches, layout=self.layout, known=self._stored_ids, begin=self._writing
        )

    def compact(self) -> Compaction:
        """Merge each day's files into one (dropping duplicate ids); returns the
        file counts before and after, and the days left alone for a bad file.
        Streamed: memory stays that of a few row groups and one service's ids,
        whatever the size of the day. Crash-safe, and readers never see it half
        done (compact.py)."""
        with self._locked():
            try:
                return _compact(self.layout)
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot compact ({_why(exc)})") from None

    def prune(self, before: datetime, *, partial: bool = False, dry_run: bool = False) -> Pruned:
        """Remove the days that end at or before `before` (whole days; with
        `partial`, the earlier rows of the day holding it too) and their caches."""
        if dry_run:
            return _prune(self.layout, before, partial=partial, dry_run=True)
        with self._locked():
            try:
                return _prune(self.layout, before, partial=partial)
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot prune ({_why(exc)})") from None

    def check(self, *, repair: bool = False) -> CheckResult:
        """Every store file read whole; with `repair`, the bad ones moved to the
        quarantine folder and what killed writers left cleaned up (check.py)."""
        if not repair:
            return _check(self.layout)
        with self._locked():
            try:
                return _check(self.layout, recovery=self.recovery or self._recover())
            except OSError as exc:
                raise StoreError(f"{self.root}: cannot repair ({_why(exc)})") from None

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
        return reader.scan(self.layout, dataset, since=since, until=until, services=services)

    def info(self) -> StoreInfo:
        return StoreInfo(
            self.root,
            reader.dataset_info(self.layout, "logs"),
            reader.dataset_info(self.layout, "events"),
        )


def _read_marker(root: Path) -> dict[str, object]:
    """The store marker's fields; anything but a JSON object is an unreadable marker."""
    try:
        marker = json.loads(Layout(root).marker.read_text("utf-8"))
    except (OSError, ValueError):
        marker = None
    if not isinstance(marker, dict):
        raise StoreError(
            f"{root}: unreadable store marker {MARKER} (it should hold a JSON object "
            f'such as {{"format": {FORMAT_VERSION}}})'
        )
    return marker


def _empty_or_unborn(path: Path) -> bool:
    """An empty folder, or one holding only what a store's creation writes before
    its marker is renamed into place (an ingest killed right then): a store to be."""
    return all(p.name in (f".{MARKER}.tmp", LOCK) for p in path.iterdir())


def _why(exc: OSError) -> str:
    """An OS error in a few words (`read-only file system`, `disk full`)."""
    return (exc.strerror or str(exc)).lower().replace("no space left on device", "disk full")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
