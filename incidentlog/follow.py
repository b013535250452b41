"""`grep --tail` and `grep --follow`: the last N matches, and new matches as store files land.

The store's files are immutable and appear whole (written under a temporary
name, renamed into place), so following is bookkeeping on file names: every
poll lists the files of the window, runs the query on the ones not read yet
and yields what matched. A record is never yielded twice, even when the
store is compacted underneath (the merged file holds records already
shown): the ids of every match so far are kept, and a match whose id was
seen is dropped. A file compacted away before it was read is not lost
either, since the merged file holding its records is new and is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.schema import LOGS_SCHEMA
from incidentlog.search import GrepQuery, GrepResult, grep_history
from incidentlog.sources import EvidenceSource, Request
from incidentlog.store import Store
from incidentlog.store.reader import window_days

__all__ = ["POLL_SECONDS", "StoreFiles", "follow_matches", "last_matches"]

POLL_SECONDS = 0.5
"""How often the store is listed while following (a listing is a few `stat`s per day)."""
_RETRIES = 5
"""Attempts at reading a set of files while compaction or pruning removes some."""


def last_matches(result: GrepResult, count: int, *, before: int = 0, after: int = 0) -> GrepResult:
    """The last `count` matches of `result` (by time) with their -B/-A context.

    `result`'s rows are the matches and every record within `before`/`after`
    of one in its container, so all records between a match and its context
    are there: the same windows taken over the kept matches, within these
    rows, give exactly their context. An earlier match inside such a window
    stays, as context.
    """
    if count < 1:
        raise UsageError(f"--tail {count}: must be 1 or more")
    records = result.records
    from_end = pl.col("match").cast(pl.UInt32).reverse().cum_sum().reverse()
    kept = pl.col("match") & (from_end <= count)
    frame = records.with_columns(kept.alias("match"))
    if before or after:
        frame = _near_kept(frame.with_row_index("_row"), before, after)
    else:
        frame = frame.filter("match")
    counts = frame.filter("match").group_by("service").agg(pl.len().alias("count"))
    return replace(result, records=frame, counts=counts.sort("service"))


def _near_kept(frame: pl.DataFrame, before: int, after: int) -> pl.DataFrame:
    """Rows within `before`/`after` rows of a kept match in their container, in order."""
    stream = ["host", "container"]
    hit = pl.col("match").cast(pl.UInt8)
    near = [pl.col("match")]
    if after:
        near.append(hit.rolling_max(after + 1, min_samples=1).over(stream) > 0)
    if before:
        near.append(hit.reverse().rolling_max(before + 1, min_samples=1).reverse().over(stream) > 0)
    return frame.filter(pl.any_horizontal(near)).sort("_row").drop("_row")


class StoreFiles(EvidenceSource):
    """The store's evidence restricted to some of its log files (the ones not read yet)."""

    def __init__(self, request: Request, files: list[Path]) -> None:
        super().__init__(request)
        self.files = files

    def logs(self, *, select: bool = True, text_keys: Sequence[int] = ()) -> pl.LazyFrame:
        """The records of the files not read yet (read whole: `text_keys` is no help here)."""
        services = self.services() if select else None
        if not self.files or services == []:
            return pl.LazyFrame(schema=LOGS_SCHEMA)
        frame = pl.scan_parquet(self.files, schema=LOGS_SCHEMA, hive_partitioning=False)
        since, until = self.request.since, self.request.until
        if since is not None:
            frame = frame.filter(pl.col("ts") >= since)
        if until is not None:
            frame = frame.filter(pl.col("ts") <= until)
        return frame if services is None else frame.filter(pl.col("service").is_in(services))


def _listing(store: Store, request: Request) -> set[Path]:
    """The log files of the window's days (undated ones only without a window)."""
    layout = store.layout
    days = window_days(layout, "logs", request.since, request.until)
    return {f for d in days for f in layout.day_files("logs", d)}


class _Matches:
    """Runs the query on sets of files, dropping matches already yielded."""

    def __init__(self, query: GrepQuery, request: Request, store: Store) -> None:
        self.query = query
        self.request = request
        self.store = store
        self.seen_ids: list[pl.Series] = []

    def run(self, files: set[Path]) -> GrepResult:
        """Matches among `files` not yielded before; files removed meanwhile
        (compaction, prune) are left out: the files that replaced them are new
        and come next time."""
        query = replace(self.query, limit=None)  # (capped after repeats are dropped)
        wanted = sorted(files)
        for _ in range(_RETRIES):
            try:
                result = grep_history(query, StoreFiles(self.request, wanted))
                break
            except (OSError, pl.exceptions.ComputeError):
                wanted = [f for f in wanted if f.exists()]
        else:  # still failing on files that exist: let the error speak
            result = grep_history(query, StoreFiles(self.request, wanted))
        return self._unseen(result)

    def _unseen(self, result: GrepResult) -> GrepResult:
        records = result.records
        if self.seen_ids and not records.is_empty():
            known = pl.concat(self.seen_ids)
            records = records.filter(~pl.col("id").is_in(known.implode()))
        self.seen_ids.append(records.filter("match").get_column("id"))
        if len(self.seen_ids) > 64:  # (collect lands a file a second: keep one series)
            self.seen_ids = [pl.concat(self.seen_ids)]
        counts = records.filter("match").group_by("service").agg(pl.len().alias("count"))
        return replace(result, records=records, counts=counts.sort("service"))


def follow_matches(
    query: GrepQuery,
    request: Request,
    *,
    tail: int | None = None,
    poll: Callable[[], None] = lambda: time.sleep(POLL_SECONDS),
) -> Iterator[GrepResult]:
    """Matches in the store now (the last `tail` of them, if given), then new
    matches as files land, forever (the caller stops: Ctrl-C, a closed pipe,
    or enough matches). Each result holds only records not yielded before;
    `query.limit` caps the total."""
    if query.before or query.after:
        raise UsageError("--follow prints records as they land: -A/-B/-C do not apply")
    if query.limit is not None and query.limit < 1:
        raise UsageError(f"--limit {query.limit}: must be 1 or more")
    store = Store.open(request.store)
    matches = _Matches(query, request, store)
    read = _listing(store, request)
    first = matches.run(read)
    first = last_matches(first, tail) if tail is not None else _first(first, query.limit)
    left = None if query.limit is None else query.limit - first.matched
    yield first
    while left is None or left > 0:
        poll()
        present = _listing(store, request)
        new = present - read
        read = (read & present) | new
        if not new:
            continue
        result = _first(matches.run(new), left)
        if left is not None:
            left -= result.matched
        yield result


def _first(result: GrepResult, count: int | None) -> GrepResult:
    """The first `count` matches of `result` (all with None); no context rows here."""
    if count is None or result.matched <= count:
        return result
    records = result.records.head(count)
    counts = records.group_by("service").agg(pl.len().alias("count")).sort("service")
    return replace(result, records=records, counts=counts)
