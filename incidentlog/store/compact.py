"""Compaction: each day's files merged into one, duplicate ids dropped, streamed."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import polars as pl

from incidentlog.progress import track
from incidentlog.store.layout import DATASETS, Layout
from incidentlog.store.writer import write_file


def compact(layout: Layout) -> tuple[int, int]:
    """Merge each day's files into one (dropping duplicate ids); returns (before, after)
    file counts. Streamed: memory stays that of a few row groups and one
    service's ids, whatever the size of the day. The caller holds the store's lock."""
    before = after = 0
    for dataset, schema in DATASETS.items():
        for day in track(layout.days(dataset), f"{dataset} days"):
            files = layout.day_files(dataset, day)
            before += len(files)
            if len(files) <= 1:
                after += len(files)
                continue
            name = f"compact-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
            write_file(layout, dataset, day, _merged(files, schema), name)
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
