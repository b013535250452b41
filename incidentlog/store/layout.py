"""The on-disk layout of a history store: every path inside it is built here.

    <store>/incidentlog-store.json                  marker (format version, id fingerprint)
    <store>/.lock                                   held while appending or compacting
    <store>/logs/day=2025-08-01/<writer>.parquet    records, one folder per UTC day
    <store>/events/day=2025-08-01/<writer>.parquet  events and inspect snapshots
    <store>/logs/day=undated/<writer>.parquet       records whose input had no time
    <store>/<dataset>/day=<day>/.<name>.parquet.tmp a file being written (renamed into place)
    <store>/<dataset>/day=<day>/.<name>.compact.json what a compaction replaces (compact.py)
    <store>/quarantine/<dataset>/day=<day>/<file>   files `store check --repair` moved aside
    <store>/cache/<name>/                           derived data, e.g. the digest's
                                                    `finding-signatures` (safe to delete)
    <store>/checkpoints/                            where `collect` got to (live/checkpoint.py)

Only the store's own files (marker, lock, datasets) are made here; a cache or
the checkpoints folder is made by whoever writes into it.

A compaction's journal names the files its merged file replaces: while both
are on disk (a compaction under way, or killed between its rename and its
unlinks), `day_files` leaves the replaced ones out, so nobody counts a row twice.
"""

from __future__ import annotations

import json
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
QUARANTINE = "quarantine"
JOURNAL_SUFFIX = ".compact.json"
TEMPORARY_SUFFIX = ".tmp"
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
        """The store files of one (dataset, day partition), by name: those a
        finished compaction replaced are left out (see `replaced`)."""
        folder = self.day_dir(dataset, day)
        try:
            names = [p.name for p in folder.iterdir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        files = {n for n in names if n.endswith(".parquet") and not n.startswith(".")}
        for name in names:
            if name.endswith(JOURNAL_SUFFIX):
                merged, old = read_journal(folder / name)
                if merged in files:
                    files -= old
        return [folder / n for n in sorted(files)]

    def dataset_files(self, dataset: str) -> list[Path]:
        """Every store file of `dataset`, in no particular order."""
        return [f for day in self.days(dataset) for f in self.day_files(dataset, day)]

    def journals(self, dataset: str, day: str) -> list[Path]:
        """The compaction journals of one day (normally none)."""
        return sorted(self.day_dir(dataset, day).glob(f".*{JOURNAL_SUFFIX}"))

    def journal(self, dataset: str, day: str, name: str) -> Path:
        """The journal of the compaction writing store file `name`."""
        return self.day_dir(dataset, day) / f".{name}{JOURNAL_SUFFIX}"

    def temporaries(self, dataset: str, day: str) -> list[Path]:
        """Files being written in one day (or left by a writer that was killed)."""
        return sorted(self.day_dir(dataset, day).glob(f".*{TEMPORARY_SUFFIX}"))

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

    def quarantined(self, file: Path) -> Path:
        """Where `store check --repair` moves the bad store file `file`."""
        return self.root / QUARANTINE / file.relative_to(self.root)


def read_journal(path: Path) -> tuple[str, set[str]]:
    """(merged file name, names of the files it replaces) of a compaction journal;
    an unreadable journal (a compaction killed while writing it) replaces nothing."""
    try:
        data = json.loads(path.read_text("utf-8"))
        merged, old = data["merged"], data["replaces"]
        if isinstance(merged, str) and isinstance(old, list):
            return merged, {str(n) for n in old}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return "", set()
