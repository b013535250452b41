"""The on-disk layout of a history store: every path inside it is built here.

    <store>/incidentlog-store.json                  marker (format version, id fingerprint)
    <store>/.lock                                   held while appending or compacting
    <store>/logs/day=2025-08-01/<writer>.parquet    records, one folder per UTC day
    <store>/events/day=2025-08-01/<writer>.parquet  events and inspect snapshots
    <store>/logs/day=undated/<writer>.parquet       records whose input had no time
    <store>/<dataset>/day=<day>/.<name>.parquet.tmp a file being written (renamed into place)
    <store>/cache/<name>/                           derived data, e.g. the digest's
                                                    `finding-signatures` (safe to delete)
    <store>/checkpoints/                            where `collect` got to (live/checkpoint.py)

Only the store's own files (marker, lock, datasets) are made here; a cache or
the checkpoints folder is made by whoever writes into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA

MARKER = "incidentlog-store.json"
LOCK = ".lock"
UNDATED = "undated"
"""The day partition of records without a time."""
CACHE = "cache"
CHECKPOINTS = "checkpoints"
DATASETS: dict[str, pl.Schema] = {"logs": LOGS_SCHEMA, "events": EVENTS_SCHEMA}


@dataclass(frozen=True)
class Layout:
    """The paths of the store at `root` (none is created here)."""

    root: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / dataset

    def day_dir(self, dataset: str, day: str) -> Path:
        """The folder of one day partition (`day` is `YYYY-MM-DD` or UNDATED)."""
        return self.root / dataset / f"day={day}"

    def days(self, dataset: str) -> list[str]:
        """The day partitions of `dataset` present on disk, by name."""
        folder = self.dataset_dir(dataset)
        return sorted(p.name.removeprefix("day=") for p in folder.glob("day=*") if p.is_dir())

    def day_files(self, dataset: str, day: str) -> list[Path]:
        """The store files of one (dataset, day partition), by name."""
        return sorted(self.day_dir(dataset, day).glob("*.parquet"))

    def dataset_files(self, dataset: str) -> list[Path]:
        """Every store file of `dataset`, in no particular order."""
        return list(self.dataset_dir(dataset).glob("day=*/*.parquet"))

    def file(self, dataset: str, day: str, name: str) -> tuple[Path, Path]:
        """(path, temporary path it is written under) of store file `name`."""
        folder = self.day_dir(dataset, day)
        return folder / f"{name}.parquet", folder / f".{name}.parquet.tmp"

    def cache_dir(self, name: str) -> Path:
        """`<root>/cache/<name>`: a cache's own folder."""
        return self.root / CACHE / name

    def checkpoints_dir(self) -> Path:
        """`<root>/checkpoints`: where `collect` keeps its checkpoints."""
        return self.root / CHECKPOINTS
