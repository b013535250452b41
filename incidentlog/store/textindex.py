"""Grep's text index: which row groups of a store file may hold a piece of text.

Per logs file, per block of `ROW_GROUP_ROWS` rows in file order (the file's
row groups), a hashed set (`BITS` bits) of the byte trigrams of its messages,
ASCII letters lower-cased and the messages joined by newlines. A text of three
bytes or more is only in a block whose set holds all of its trigrams, so a
literal search (or a regex's required literal) reads only those row groups; a
hash collision costs a read, never a result, and a block that holds the text
is never skipped. A trigram set is a few thousand bits set out of 65,536, 8 KiB
per row group of ~2 MB (under 1 % of the store).

The index is a `FileCache` (store/rollups.py), named after its store file and
that file's size, so a file rewritten or compacted away never meets a stale
index. It is opt-in: building it costs about as much CPU as ingest's own
parse of the same lines (+17 % ingest time on an idle 2-core machine, +45 %
on a loaded one, measured by benchmarks/bench_index.py), which a store that is rarely searched for rare
text should not pay. A writer that calls `write_with(TEXT_INDEX)` writes it
with each store file; once a store holds the index folder, a search builds
the index of any file that lacks one (compaction's output) and keeps it. A
file without an index (no folder, or a read-only store) is scanned whole:
the answer never depends on the index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

import polars as pl

from incidentlog.store.layout import DATASETS, Layout
from incidentlog.store.reader import close_pinned, pin_files, window_days, window_filter
from incidentlog.store.rollups import FileCache, cache_file, read_caches
from incidentlog.store.writer import ROW_GROUP_ROWS

__all__ = ["BITS", "TEXT_INDEX", "block_mask", "scan_containing", "trigram_keys"]

BITS: Final = 16
"""Bits of a block's hashed trigram set (2**16 = 8 KiB)."""
_MULTIPLIER: Final = 2654435761
"""Knuth's multiplicative hash: the top `BITS` bits of trigram * this mod 2**32."""
_CASE_FOLDED: Final = frozenset(b"ksKS")
"""ASCII letters that Unicode case-insensitive matching also matches with a non-ASCII
character (K: the Kelvin sign, s: the long s), so an -i search cannot count on them."""


def _block_bits(messages: pl.Series) -> bytes:
    """The hashed trigram set of one block's messages (Polars over the bytes of
    the joined messages: no Python loop per byte, no numpy)."""
    codes = messages.fill_null("").str.join("\n").cast(pl.Binary).cast(pl.List(pl.UInt8))
    byte = pl.col("b").cast(pl.UInt64)
    lower = pl.when(byte.is_between(ord("A"), ord("Z"))).then(byte + 32).otherwise(byte)
    trigram = pl.col("b") * 65536 + pl.col("b").shift(-1) * 256 + pl.col("b").shift(-2)
    hashed = (trigram * _MULTIPLIER % (1 << 32)) // (1 << (32 - BITS))
    held = (
        pl.LazyFrame({"b": codes.explode()})
        .select(lower.alias("b"))
        .select(hashed.alias("h"))
        .drop_nulls()
        .unique()
        .group_by((pl.col("h") // 8).alias("byte"))
        .agg(pl.lit(2, pl.UInt64).pow(pl.col("h") % 8).sum().alias("bits"))
        .collect()
    )
    bits = bytearray(1 << (BITS - 3))
    for at, value in held.iter_rows():  # (at most 8,192 bytes)
        bits[at] = value
    return bytes(bits)


def _build(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per block of a store file's rows: its offset, rows and trigram set."""
    messages = rows.get_column("message")
    offsets = list(range(0, rows.height, ROW_GROUP_ROWS))
    return pl.DataFrame(
        {
            "offset": offsets,
            "rows": [min(ROW_GROUP_ROWS, rows.height - o) for o in offsets],
            "bits": [_block_bits(messages.slice(o, ROW_GROUP_ROWS)) for o in offsets],
        },
        schema={"offset": pl.UInt64, "rows": pl.UInt64, "bits": pl.Binary},
    )


TEXT_INDEX: Final = FileCache(f"grep-trigrams-{BITS}-1", build=_build, columns=("message",))


def trigram_keys(texts: Sequence[str], *, ignore_case: bool) -> list[int]:
    """The trigram hashes every block holding all of `texts` has (empty: the index
    cannot help). With `ignore_case`, trigrams with a byte Unicode folding may
    match differently (non-ASCII, k, s) are left out. (Pure Python: a search
    does not read the index with numpy.)"""
    keys: set[int] = set()
    shift = 32 - BITS
    for text in texts:
        raw = text.encode()
        data = raw.lower()  # ASCII letters only, as the index
        for i in range(len(data) - 2):
            if ignore_case and any(b >= 0x80 or b in _CASE_FOLDED for b in raw[i : i + 3]):
                continue
            trigram = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
            keys.add(((trigram * _MULTIPLIER) & 0xFFFFFFFF) >> shift)
    return sorted(keys)


def block_mask(index: pl.DataFrame, keys: Sequence[int]) -> list[bool]:
    """Per block of `index` (a file's `TEXT_INDEX`): may it hold every key?"""
    if not keys:
        return [True] * index.height
    return [all(bits[k >> 3] >> (k & 7) & 1 for k in keys) for bits in index.get_column("bits")]


def scan_containing(
    layout: Layout,
    keys: Sequence[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Iterable[str] = (),
) -> pl.LazyFrame:
    """`reader.scan` of the logs (same days, time and services), reading only the
    row groups that may hold every trigram of `keys`; a file without a usable
    index is read whole."""
    since, until = _as_utc(since), _as_utc(until)
    schema = DATASETS["logs"]
    pinned = pin_files(
        layout, "logs", window_days(layout, "logs", since, until)
    )  # as reader.scan does
    pieces: list[pl.LazyFrame] = []
    try:
        files = [f if isinstance(f, Path) else Path(f.name) for f in pinned]
        indexed = dict(_indexes(layout, files))
        sources: list[Path | IO[bytes]] = list(pinned)
        for source, data in zip(sources, files, strict=True):
            index = indexed.get(data)
            whole = pl.scan_parquet(source, schema=schema, hive_partitioning=False)
            mask = [True] if index is None else block_mask(index, keys)
            if all(mask):
                pieces.append(whole)
            elif index is not None:
                pieces += [whole.slice(offset, length) for offset, length in _runs(index, mask)]
    finally:  # Polars holds its own descriptors of them now
        close_pinned(pinned)
    if not pieces:
        return pl.LazyFrame(schema=schema)
    return window_filter(pl.concat(pieces, how="vertical"), since, until, services)


def _runs(index: pl.DataFrame, mask: list[bool]) -> list[tuple[int, int]]:
    """(offset, rows) of each run of adjacent kept blocks."""
    runs: list[tuple[int, int]] = []
    for (offset, rows), keep in zip(index.select("offset", "rows").iter_rows(), mask, strict=True):
        if not keep:
            continue
        if runs and runs[-1][0] + runs[-1][1] == offset:
            runs[-1] = (runs[-1][0], runs[-1][1] + rows)
        else:
            runs.append((offset, rows))
    return runs


def _indexes(layout: Layout, files: Sequence[Path]) -> list[tuple[Path, pl.DataFrame]]:
    """The index of each of `files` that has one or can be given one: in a writable
    store holding the index folder, built and kept when missing; else only those
    already there (none without the folder)."""
    folder = layout.cache_dir(TEXT_INDEX.name)
    if not folder.is_dir():
        return []
    if os.access(layout.root, os.W_OK):
        return read_caches(layout, TEXT_INDEX, "logs", files)
    found: list[tuple[Path, pl.DataFrame]] = []
    for data in files:
        try:
            found.append((data, pl.read_parquet(cache_file(layout, TEXT_INDEX, "logs", data))))
        except (OSError, pl.exceptions.PolarsError):
            continue
    return found


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
