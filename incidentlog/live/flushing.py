"""The collector's writes: lines to records, records and events to the store, then checkpoints.

Each flush splits what the readers delivered into lines, drops those a
re-read delivers again, stitches records (a stream's last record stays open
in the carry until a later line or the stream's end closes it), appends the
closed records and the pending events to the store, and only then moves the
streams' cursors and writes the checkpoints.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from incidentlog.errors import StoreError
from incidentlog.ingest.stitch import stitch_records
from incidentlog.live.checkpoint import Checkpoints, ContainerCheckpoint, Cursor
from incidentlog.live.frames import (
    LINE_COLUMNS,
    Blob,
    advance_cursors,
    drop_covered,
    finish_records,
    lines_frame,
    new_seen,
    seen_rows,
)
from incidentlog.live.streams import Registry
from incidentlog.schema import empty

if TYPE_CHECKING:
    from incidentlog.live.collector import CollectStats
    from incidentlog.store import Store

IDLE_CLOSE = 0.5
"""A stream's open record is closed when no line came for this long."""
COMPACT_AFTER_FILES = 600
"""Store files written before the collector compacts the store (about 5 minutes)."""


@dataclass
class Pending:
    """Events and snapshots waiting for the next flush, and the newest event's time."""

    events: list[pl.DataFrame] = field(default_factory=list)
    events_ts: int | None = None


def _key_series(keys: set[int]) -> pl.Series:
    return pl.Series("key", sorted(keys), dtype=pl.UInt32)


class Flusher:
    """What waits to be stored (the carry, pending events), numbered in arrival
    order (`seq`), and how far each stream's records are stored."""

    def __init__(
        self,
        store: Store,
        checkpoints: Checkpoints,
        scope: str,
        registry: Registry,
        stats: CollectStats,
    ) -> None:
        from incidentlog.digest.rollups import DIGEST_ROLLUPS
        from incidentlog.store.rollups import write_with

        write_with(DIGEST_ROLLUPS)  # the digest's rollups, written with each store file
        self.store = store
        self.checkpoints = checkpoints
        self.scope = scope
        self.registry = registry
        self.stats = stats
        self.carry = empty(LINE_COLUMNS)
        self.seen = new_seen()
        self.seq = 0
        self.pending = Pending()
        self.events_ts = checkpoints.events_since(scope)
        """Time (ns) of the last engine event stored."""
        self.last_flush = time.monotonic()
        self.rates: list[tuple[float, int]] = []
        self.files_written = 0

    def next_seq(self, n: int) -> int:
        first = self.seq
        self.seq += n
        return first

    def resume_seen(self, container: str, rows: Sequence[tuple[int, int, int]]) -> None:
        """Take up a container's checkpointed occurrence counts (content, ts, seen)."""
        self.seen.latest = pl.concat(
            [self.seen.latest, new_seen([(c, container, t, s) for c, t, s in rows]).latest]
        )

    def add_events(self, frame: pl.DataFrame, newest: int | None = None) -> None:
        """Queue events (the newest read at `newest` ns) or snapshots for the next flush."""
        self.pending.events.append(frame)
        if newest is not None:
            self.pending.events_ts = max(self.pending.events_ts or 0, newest)

    def flush(self, blobs: list[Blob], host: str, *, closing_all: bool = False) -> None:
        """Store what `blobs` and the pending events complete; then save checkpoints."""
        lines = lines_frame(blobs, self.registry.keys, self.seq)
        self.seq += lines.height
        lines = self._skip_seen(lines)
        records, open_keys = self._stitch(lines, closing_all=closing_all)
        logs = finish_records(records, host, self.seen) if records.height else None
        self._store(logs)
        for stream in self.registry.streams:
            stream.open_record = stream.key in open_keys
            if stream.ending is not None and stream.segment is not None and stream.segment.done:
                stream.segment = None
                stream.ending = None
        self._save_checkpoints()
        if self.pending.events_ts is not None:
            self.events_ts = self.pending.events_ts
            self.checkpoints.save_events(self.scope, self.events_ts)
        self.pending = Pending()
        self.last_flush = time.monotonic()
        self._rate(written_now=logs.height if logs is not None else 0)

    def _skip_seen(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Drop lines that the cursor of a re-read stream already covers."""
        skipping = {s.key: s for s in self.registry.streams if s.skip is not None}
        if not skipping or lines.is_empty():
            return lines
        covered = {
            key: Cursor(s.skip.ts, s.skip.n - s.skipped)
            for key, s in skipping.items()
            if s.skip is not None
        }
        kept, tally = drop_covered(lines, covered)
        for key, (fresh, dropped_at) in tally.items():
            stream = skipping[key]
            if fresh:
                stream.skip = None
            else:
                stream.skipped += dropped_at
        return kept

    def _stitch(self, lines: pl.DataFrame, *, closing_all: bool) -> tuple[pl.DataFrame, set[int]]:
        """(records closed by `lines`, keys of streams whose last record is still open).

        A stream that ended, or has been quiet for IDLE_CLOSE, closes its open
        record; one whose segment was dropped forgets it (it is read again).
        """
        streams = self.registry.streams
        now = time.monotonic()
        final_keys = {
            s.key
            for s in streams
            if s.ending == "final"
            or closing_all
            or (s.open_record and now - s.last_line >= IDLE_CLOSE)
        }
        drop_keys = {s.key for s in streams if s.ending == "drop"}
        consumed = pl.concat([self.carry, lines])
        records = empty(LINE_COLUMNS).drop("text").with_columns(message=pl.lit("", pl.String))
        carry = empty(LINE_COLUMNS)
        if consumed.height:
            records, carry = stitch_records(consumed, final=False)
            closing = carry.filter(pl.col("key").is_in(_key_series(final_keys)))
            if closing.height:
                closed, _ = stitch_records(closing, final=True)
                records = pl.concat([records, closed]).sort("seq")
            unstored = carry.filter(~pl.col("key").is_in(_key_series(final_keys)))
            carry = unstored.filter(~pl.col("key").is_in(_key_series(drop_keys)))
            self._advance_cursors(consumed, unstored)
        self.carry = carry
        return records, set(carry.get_column("key").to_list())

    def _store(self, logs: pl.DataFrame | None) -> None:
        """Append `logs` and the pending events; compact now and then."""
        events = pl.concat(self.pending.events) if self.pending.events else None
        batches: list[tuple[str, pl.DataFrame]] = []
        if logs is not None:
            batches.append(("logs", logs))
        if events is not None and events.height:
            batches.append(("events", events))
        if not batches:
            return
        try:
            written = self.store.append(batches)
        except OSError as exc:
            raise StoreError(f"{self.store.root}: cannot write ({exc.strerror})") from None
        self.stats.records += written.written["logs"]
        self.stats.events += written.written["events"]
        self.stats.already_stored += written.duplicates
        self.files_written += written.files
        if self.files_written >= COMPACT_AFTER_FILES:
            # a file a second per dataset: merge them before the id checks of
            # later appends (which read every file of the day) slow down
            self.store.compact()
            self.files_written = 0

    def _advance_cursors(self, consumed: pl.DataFrame, unstored: pl.DataFrame) -> None:
        """Move each stream's cursor to the last line whose record is now stored."""
        streams = self.registry.streams
        previous = {s.key: s.cursor for s in streams if s.cursor is not None}
        for key, cursor in advance_cursors(consumed, unstored, previous).items():
            stream = streams[key]
            stream.cursor = cursor
            stream.container.needs_checkpoint = True

    def _save_checkpoints(self) -> None:
        for container in self.registry.containers.values():
            idle = all(s.segment is None and not s.open_record for s in container.streams.values())
            if container.removed and idle and not container.forgotten:
                # its logs went with it: nothing is left to resume
                self.checkpoints.forget(container.id)
                container.forgotten = True
                continue
            if not container.needs_checkpoint or container.forgotten:
                continue
            container.needs_checkpoint = False
            self.checkpoints.save(
                ContainerCheckpoint(
                    container_id=container.id,
                    name=container.name,
                    streams={
                        n: s.cursor for n, s in container.streams.items() if s.cursor is not None
                    },
                    seen=seen_rows(self.seen, container.name),
                )
            )

    def _rate(self, written_now: int) -> None:
        now = time.monotonic()
        self.rates.append((now, written_now))
        self.rates = [(t, n) for t, n in self.rates if now - t <= 5.0]
        span = max(1.0, now - self.rates[0][0]) if self.rates else 1.0
        self.stats.rate = sum(n for _, n in self.rates) / span
