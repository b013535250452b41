"""Compaction: each day's files merged into one, duplicate ids dropped, streamed.

Crash-safe, and invisible to readers half-done. For each day, in this order:

1. the journal `.<merged>.compact.json` is written (atomically): the merged
   file's name and the files it replaces;
2. the merged file is written under a temporary name, flushed, renamed in;
3. the replaced files are unlinked, then the journal.

Readers (`Layout.day_files`) leave out the files a journal names as soon as
its merged file is there, so they see either the old files or the merged one,
never both. A compaction killed before step 2's rename leaves the old files
and a journal whose merged file is absent (ignored, and removed later);
killed after it, a journal that the next writer (`recover`) completes by
unlinking what it names. Readers pin the files they list (reader.py), so the
unlinks of step 3 never pull a file from under a running query.

`recover` runs under the store's lock, where no other writer can be half-way:
it completes or drops journals and deletes temporary files left by writers
that were killed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.progress import track
from incidentlog.store.layout import CACHE, DATASETS, TEMPORARY_SUFFIX, Layout, read_journal
from incidentlog.store.reader import check_file, check_footer
from incidentlog.store.writer import write_file


@dataclass(frozen=True)
class Compaction:
    """What a compaction did: file counts, and days left alone because of a bad file."""

    before: int
    after: int
    skipped: tuple[str, ...] = field(default=())
    """One line per day not compacted: its bad file and what is wrong with it."""


@dataclass(frozen=True)
class Recovery:
    """What `recover` cleaned up."""

    completed: int = 0
    """Compactions killed after their rename, whose replaced files are now gone."""
    abandoned: int = 0
    """Compactions killed before their rename, whose journal is now gone."""
    temporaries: int = 0
    """Temporary files of killed writers, deleted."""


def compact(layout: Layout) -> Compaction:
    """Merge each day's files into one (dropping duplicate ids). Streamed: memory
    stays that of a few row groups and one service's ids, whatever the size of the
    day. The caller holds the store's lock."""
    recover(layout)
    before = after = 0
    skipped: list[str] = []
    for dataset, schema in DATASETS.items():
        for day in track(layout.days(dataset), f"{dataset} days"):
            files = layout.day_files(dataset, day)
            before += len(files)
            problem = _first_problem(files)
            if len(files) <= 1 or problem:
                after += len(files)
                if problem:
                    skipped.append(problem)
                continue
            problem = _compact_day(layout, dataset, day, files, schema)
            after += len(files) if problem else 1
            if problem:
                skipped.append(problem)
    return Compaction(before, after, tuple(skipped))


def _first_problem(files: list[Path]) -> str | None:
    for file in files:
        problem = check_footer(file)
        if problem:
            return f"{file}: {problem}"
    return None


def _compact_day(
    layout: Layout, dataset: str, day: str, files: list[Path], schema: pl.Schema
) -> str | None:
    """Merge one day's files (the steps in the module's docstring); a file that
    cannot be decoded leaves the day as it was and is returned as a problem."""
    return replace_day(layout, dataset, day, files, schema)


def replace_day(
    layout: Layout,
    dataset: str,
    day: str,
    files: list[Path],
    schema: pl.Schema,
    *,
    keep: pl.Expr | None = None,
) -> str | None:
    """Replace `files` of one day by one file of their rows (each id once; only
    the rows `keep` selects, when given: prune's partial day), crash-safe as the
    module's docstring says; a file that cannot be decoded leaves the day as it
    was and is returned as a problem."""
    name = f"compact-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    journal = layout.journal(dataset, day, name)
    record = {"merged": f"{name}.parquet", "replaces": [f.name for f in files]}
    _write_atomically(journal, json.dumps(record).encode())
    try:
        rows = _merged(files, schema)
        if keep is not None:
            rows = rows.filter(keep)
        merged = write_file(layout, dataset, day, rows, name, durable=True)
    except (StoreError, pl.exceptions.PolarsError) as exc:
        journal.unlink(missing_ok=True)
        bad = next(((f, p) for f in files if (p := check_file(f, schema))), None)
        if bad is None:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{layout.day_dir(dataset, day)}: cannot compact ({exc})") from None
        return f"{bad[0]}: {bad[1]}"
    except BaseException:
        journal.unlink(missing_ok=True)
        raise
    for old in files:
        old.unlink(missing_ok=True)
    journal.unlink()
    _sync_dir(merged.parent)
    return None


def recover(layout: Layout) -> Recovery:
    """Finish or drop the journals of killed compactions and delete temporary files
    (call under the store's lock: then no writer is half-way)."""
    completed = abandoned = temporaries = 0
    for dataset in DATASETS:
        for day in layout.days(dataset):
            for journal in layout.journals(dataset, day):
                merged, old = read_journal(journal)
                folder = journal.parent
                if merged and (folder / merged).is_file():
                    for name in sorted(old):
                        (folder / name).unlink(missing_ok=True)
                    completed += 1
                else:
                    abandoned += 1
                journal.unlink(missing_ok=True)
            for temporary in layout.temporaries(dataset, day):
                temporary.unlink(missing_ok=True)
                temporaries += 1
        for doomed in layout.dataset_dir(dataset).glob(".pruning-day=*"):  # a killed prune
            shutil.rmtree(doomed, ignore_errors=True)
    temporaries += _drop_dead_cache_temporaries(layout)
    return Recovery(completed, abandoned, temporaries)


def _drop_dead_cache_temporaries(layout: Layout) -> int:
    """Caches are written by readers too, without the lock: `drop_dead_temporaries`."""
    return drop_dead_temporaries(layout.root / CACHE)


def drop_dead_temporaries(folder: Path) -> int:
    """Delete the temporary files (`.<name>.<pid>.tmp`) below `folder` whose writer is
    gone (a process killed while it wrote); a live pid's file is left to its writer."""
    dropped = 0
    for temporary in folder.rglob(f".*{TEMPORARY_SUFFIX}") if folder.is_dir() else ():
        pid = temporary.name.removesuffix(TEMPORARY_SUFFIX).rpartition(".")[2]
        if pid.isdigit() and not _alive(int(pid)):
            temporary.unlink(missing_ok=True)
            dropped += 1
    return dropped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f"{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StoreError(f"{path.parent}: cannot write ({exc.strerror or exc})") from None


def _sync_dir(folder: Path) -> None:
    """Make the renames and unlinks in `folder` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
