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
    store/reader.py     scan and totals
    store/compact.py    merging a day's files into one
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.schema import id_fingerprint
from incidentlog.store import reader, writer
from incidentlog.store.compact import compact as _compact
from incidentlog.store.layout import CACHE, CHECKPOINTS, DATASETS, LOCK, MARKER, UNDATED, Layout
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
    "ROW_GROUP_ROWS",
    "STORE_ENV",
    "UNDATED",
    "ZSTD_LEVEL",
    "AppendResult",
    "DatasetInfo",
    "Layout",
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

    @classmethod
    def open(cls, root: Path | None = None, *, create: bool = False) -> Store:
        path = root or default_store_path()
        marker = Layout(path).marker
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
            raise StoreError(f"{self.root}: cannot create store ({exc.strerror})") from None
        self._exists = True

    def _check_ids(self) -> None:
        """Refuse to add to a store whose record ids this Polars would compute
        differently (Polars keeps its row hash only within a version), which
        would store re-ingested records a second time. Call under the lock; a
        store from before ids were recorded adopts this Polars'."""
        path = self.layout.marker
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
        with self.layout.lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

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

    def compact(self) -> tuple[int, int]:
        """Merge each day's files into one (dropping duplicate ids); returns (before, after)
        file counts. Streamed: memory stays that of a few row groups and one
        service's ids, whatever the size of the day."""
        with self._locked():
            return _compact(self.layout)

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


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
