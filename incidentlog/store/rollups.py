"""Caches derived from each store file: written beside the data, rebuilt when missing.

A `FileCache` turns the rows of one store file (in file order) into a small
frame: the digest's per-bucket rollups, grep's token index. Its files live
in the store's cache folder, one per store file and named after it (and its
size), so they never go stale: store files are immutable, compaction writes
new names and deletes the old files, and a cache file whose store file is
gone is an orphan that the next reader deletes. Writers that know a cache
(`write_with`: ingest and collect turn on the digest's and grep's) write it
when they write the store file, from the frame already in memory; any other
reader builds what is missing from the data and keeps it when the store is
writable. Deleting the cache folder loses nothing but time.

    <store>/cache/<name>/<dataset>/day=<day>/<store file stem>.<bytes>.parquet
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from incidentlog.store.layout import DATASETS, Layout

__all__ = ["FileCache", "cache_file", "read_caches", "registered", "write_cache", "write_with"]


@dataclass(frozen=True)
class FileCache:
    """One kind of per-file cache: its folder name (bump it when `build` changes)
    and how to make it from a store file's rows."""

    name: str
    build: Callable[[pl.DataFrame], pl.DataFrame]
    columns: tuple[str, ...]
    """The store columns `build` reads (a rebuild reads only these)."""
    datasets: tuple[str, ...] = ("logs",)


_EAGER: dict[str, FileCache] = {}


def write_with(cache: FileCache) -> None:
    """Write `cache` along with every store file this process writes from now on."""
    _EAGER[cache.name] = cache


def registered() -> list[FileCache]:
    return list(_EAGER.values())


def cache_file(layout: Layout, cache: FileCache, dataset: str, data: Path) -> Path:
    """Where the cache of store file `data` lives (its size in the name: a
    rewritten file of the same name has another cache)."""
    day = data.parent.name
    size = data.stat().st_size
    return layout.cache_dir(cache.name) / dataset / day / f"{data.stem}.{size}.parquet"


def write_cache(
    layout: Layout, cache: FileCache, dataset: str, data: Path, frame: pl.DataFrame
) -> Path | None:
    """Build and write the cache of `data` from its rows `frame`; None when it cannot
    be written (a read-only store: readers then build it in memory)."""
    temporary: Path | None = None
    try:
        path = cache_file(layout, cache, dataset, data)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        cache.build(frame).write_parquet(temporary, compression="zstd", statistics=False)
        temporary.replace(path)
    except OSError:  # a cache: the disk is full or the store read-only; readers rebuild it
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        return None
    return path


def write_registered(layout: Layout, dataset: str, data: Path, frame: pl.DataFrame) -> None:
    """Write every eager cache of `dataset` for a store file just written."""
    for cache in registered():
        if dataset in cache.datasets:
            write_cache(layout, cache, dataset, data, frame)


def read_caches(
    layout: Layout, cache: FileCache, dataset: str, files: Sequence[Path]
) -> list[tuple[Path, pl.DataFrame]]:
    """(store file, its cache) for each of `files` (store files of `dataset`),
    building the missing ones from the data. A file that vanished meanwhile
    (compacted away) is left out."""
    out: list[tuple[Path, pl.DataFrame]] = []
    for data in files:
        try:
            path = cache_file(layout, cache, dataset, data)
        except FileNotFoundError:
            continue
        frame = _read(path)
        if frame is None:
            frame = _rebuild(layout, cache, dataset, data)
            if frame is None:
                continue
        out.append((data, frame))
    _drop_orphans(layout, cache, dataset, files)
    return out


def _read(path: Path) -> pl.DataFrame | None:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None


def _rebuild(layout: Layout, cache: FileCache, dataset: str, data: Path) -> pl.DataFrame | None:
    try:
        rows = pl.read_parquet(data, columns=list(cache.columns))
    except FileNotFoundError:  # compacted away meanwhile
        return None
    except (OSError, pl.exceptions.PolarsError) as exc:  # damaged: name it, lose nothing
        from incidentlog.store.reader import check_file, raise_if_bad

        raise_if_bad(data, check_file(data, DATASETS[dataset]) or " ".join(str(exc).split()))
        raise
    written = write_cache(layout, cache, dataset, data, rows)
    if written is not None:
        kept = _read(written)
        if kept is not None:
            return kept
    return cache.build(rows)


def _drop_orphans(layout: Layout, cache: FileCache, dataset: str, files: Sequence[Path]) -> None:
    """Delete the caches of store files that are gone from the days of `files`."""
    root = layout.cache_dir(cache.name) / dataset
    for day in {f.parent.name for f in files}:
        folder = layout.day_dir(dataset, day.removeprefix("day="))
        present = {f.stem for f in folder.glob("*.parquet")}
        for path in (root / day).glob("*.parquet"):
            if path.name.removesuffix(".parquet").rsplit(".", 1)[0] not in present:
                with contextlib.suppress(OSError):
                    path.unlink()
