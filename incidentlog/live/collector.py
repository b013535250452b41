"""`collect`: follow a live compose project's logs and events into the history store.

Threads only read: one per (container, stream) follows `/containers/ID/logs`
(engine timestamps, stdout and stderr as separate requests so they stay
apart), one follows `/events`. Each appends raw bytes or event objects to a
buffer and wakes the main thread, which does everything else about once a
second: split the bytes into lines, drop lines a re-read delivers again,
stitch multi-line records, give them ids (frames.py, the ingest code),
append logs, events and health-probe snapshots to the store, then write
the checkpoints of what it stored.

Exactly once: a stream's checkpoint cursor (checkpoint.py) only moves past
lines whose records are in the store; a record still open (the last one of
a stream, which the next line might continue) is not stored until it
closes, and is read again after a restart. Re-reading starts at the second
of the cursor and skips the lines the cursor covers, so the records and
their ids come out as they would have without the interruption, and the
store's id check absorbs a crash between a store write and its checkpoint.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from incidentlog.errors import EngineError, StoreError
from incidentlog.ingest.compose import services_of
from incidentlog.ingest.stitch import stitch_records
from incidentlog.live.checkpoint import Checkpoints, ContainerCheckpoint, Cursor
from incidentlog.live.client import (
    PROJECT_LABEL,
    SERVICE_LABEL,
    compose_filters,
    connect,
    engine_error,
    open_logs,
    unknown_project,
)
from incidentlog.live.frames import (
    LINE_COLUMNS,
    Blob,
    advance_cursors,
    drop_covered,
    events_frame,
    finish_records,
    inspect_frame,
    lines_frame,
    new_seen,
    seen_rows,
)
from incidentlog.schema import empty

__all__ = ["CollectOptions", "CollectStats", "run_collect", "stop_on_signals"]

TICK = 0.2
"""Seconds the main thread sleeps when nothing wakes it."""
FLUSH_EVERY = 1.0
"""Seconds between store writes while data arrives."""
IDLE_CLOSE = 0.5
"""A stream's open record is closed when no line came for this long."""
RECONCILE_EVERY = 2.0
"""Seconds between container listings (a safety net under the events)."""
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
"""Seconds between attempts to reach an engine that went away."""
COMPACT_AFTER_FILES = 600
"""Store files written before the collector compacts the store (about 5 minutes)."""
STUCK_AFTER = 10.0
"""Seconds after the engine went away before a reader still blocked is given up."""
STREAMS = ("stdout", "stderr")
_HEALTH_EVENT = "health_status"
_SNAPSHOT_ACTIONS = {"start", "die", "oom", "restart", "kill", _HEALTH_EVENT}


@dataclass(frozen=True)
class CollectOptions:
    project: str | None = None
    store: Path | None = None
    since: datetime | None = None
    follow: bool = True
    docker_host: str | None = None
    wait: bool = False
    """With `project`: start even when it has no containers yet (they are
    picked up as they are created), instead of refusing a mistyped name."""


@dataclass
class CollectStats:
    store: Path
    project: str | None
    records: int = 0
    events: int = 0
    already_stored: int = 0
    containers: int = 0
    services: int = 0
    unhealthy: int = 0
    rate: float = 0.0
    """Records per second over the last few seconds."""
    reconnects: int = 0
    engine_down: bool = False
    retry_in: float = 0.0
    warnings: list[str] = field(default_factory=list)
    """Containers whose logs the engine would not give (a logging driver without reads)."""

    def status_line(self) -> str:
        """The one-line live status shown on a terminal."""
        scope = f"project {self.project}" if self.project else "all containers"
        if self.engine_down:
            state = f"engine unreachable, retrying in {self.retry_in:.0f} s"
        else:
            state = f"{self.rate:.0f} records/s"
        return (
            f"collect {scope}: {state}, {self.records} records, {self.events} events, "
            f"{self.services} services, {self.unhealthy} unhealthy"
        )

    def summary(self) -> str:
        scope = f"project {self.project}" if self.project else "all containers"
        return (
            f"collected {self.records} records and {self.events} events from "
            f"{self.containers} containers ({scope}) into {self.store}"
            + (f"; engine reconnected {self.reconnects} times" if self.reconnects else "")
            + "".join(f"\nwarning: {w}" for w in self.warnings)
        )


# ---- what the reader threads fill ----------------------------------------------------


class _Segment:
    """One logs request of one stream, filled by its reader thread."""

    def __init__(self, follow: bool) -> None:
        self.follow = follow
        self.lock = threading.Lock()
        self.chunks: list[bytes] = []
        self.done = False
        self.failed: BaseException | None = None
        self.abandoned = False
        self.last_data = time.monotonic()
        self.handle: Any = None

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.chunks.append(chunk)
            self.last_data = time.monotonic()

    def take(self) -> bytes:
        with self.lock:
            data = b"".join(self.chunks)
            self.chunks = []
        return data

    def abandon(self) -> None:
        """Stop reading (the engine went away): what arrives later is read again."""
        self.abandoned = True
        handle = self.handle
        if handle is not None:
            try:
                handle.close()
            except Exception:  # a dead connection may refuse to close; the thread ends anyway
                self.failed = self.failed or RuntimeError("closed")


@dataclass
class _Container:
    id: str
    name: str
    service: str
    project: str | None
    running: bool = False
    health: str | None = None
    exit_code: int = 0
    tty: bool | None = None
    """Whether its output has no stdout/stderr frames (None: not known yet)."""
    probe_every: float | None = None
    """Seconds between health-probe snapshots (None: no health check)."""
    last_probe_snapshot: float = 0.0
    needs_read: bool = True
    """Logs may exist that no segment has read to the end yet."""
    removed: bool = False
    forgotten: bool = False
    needs_checkpoint: bool = False
    streams: dict[str, _Stream] = field(default_factory=dict)


@dataclass
class _Stream:
    key: int
    container: _Container
    name: str
    cursor: Cursor | None
    """Lines up to here are in the store."""
    skip: Cursor | None = None
    """While set, lines of the current segment up to this cursor are dropped."""
    skipped: int = 0
    """Lines at `skip.ts` dropped so far."""
    segment: _Segment | None = None
    tail: bytes = b""
    last_line: float = 0.0
    open_record: bool = False
    ending: str | None = None
    """`final` (the segment ended: close the open record) or `drop` (read it again)."""


@dataclass
class _Pending:
    events: list[pl.DataFrame] = field(default_factory=list)
    events_ts: int | None = None


class _EventsEnded:
    pass


def _refusal(failure: BaseException | None) -> str | None:
    """The engine's own words when it refused to give logs (4xx, 501), else None."""
    response = getattr(failure, "response", None)
    status = getattr(response, "status_code", None)
    if failure is None or status is None or status == 404 or status > 501:
        return None
    if status == 500:  # the engine failing, not refusing
        return None
    explanation = getattr(failure, "explanation", None) or str(failure)
    return " ".join(str(explanation).split())[:200]


def _key_series(keys: set[int]) -> pl.Series:
    return pl.Series("key", sorted(keys), dtype=pl.UInt32)


# ---- the collector -------------------------------------------------------------------


class Collector:
    def __init__(
        self,
        options: CollectOptions,
        stop: threading.Event,
        on_status: Callable[[CollectStats], None] | None = None,
    ) -> None:
        from incidentlog.store import Store

        self.options = options
        self.stop = stop
        self.on_status = on_status
        self.engine = connect(options.docker_host)
        try:
            if (
                options.project
                and not (options.wait and options.follow)
                and not self.api.containers(all=True, filters=compose_filters(options.project))
            ):
                raise unknown_project(self.engine, options.project)
        except EngineError:
            self.engine.close()
            raise
        except Exception as exc:
            self.engine.close()
            raise engine_error(exc, self.engine.host) from None
        self.store = Store.open(options.store, create=True)
        self.store.ensure_created()  # the checkpoints live inside it from the start
        self.checkpoints = Checkpoints(self.store.root)
        self.scope = options.project or "*"
        self.checkpoints.lock(self.scope)
        self.stats = CollectStats(store=self.store.root, project=options.project)
        self.wake = threading.Event()
        self.events_queue: queue.Queue[dict[str, Any] | _EventsEnded] = queue.Queue()
        self.events_handle: Any = None
        self.containers: dict[str, _Container] = {}
        self.streams: list[_Stream] = []
        self.keys = pl.DataFrame(
            schema={
                "key": pl.UInt32,
                "container": pl.String,
                "service": pl.String,
                "project": pl.String,
                "stream": pl.String,
            }
        )
        self.carry = empty(LINE_COLUMNS)
        self.seen = new_seen()
        self.seq = 0
        self.pending = _Pending()
        self.events_ts = self.checkpoints.events_since(self.scope)
        self.last_flush = time.monotonic()
        self.last_reconcile = 0.0
        self.engine_down = False
        self.down_since = 0.0
        self.retry_at = 0.0
        self.attempt = 0
        self.rates: list[tuple[float, int]] = []
        self.files_written = 0

    # ---- engine ------------------------------------------------------------------

    @property
    def api(self) -> Any:
        return self.engine.api

    def _call(self, what: Callable[[], Any]) -> Any:
        """An API call; None when the container is gone; engine loss noted and None."""
        import docker.errors

        try:
            return what()
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.response is not None and exc.response.status_code < 500:
                return None
            self._lost(exc)
            return None
        except Exception as exc:
            self._lost(exc)
            return None

    def _lost(self, exc: BaseException) -> None:
        if self.engine_down:
            return
        if not self.options.follow:
            raise engine_error(exc, self.engine.host)
        self.engine_down = True
        self.down_since = time.monotonic()
        self.attempt = 0
        self.retry_at = time.monotonic() + BACKOFF[0]
        for stream in self.streams:
            if stream.segment is not None:
                stream.segment.abandon()
        self._close_events()

    def _try_reconnect(self) -> None:
        if time.monotonic() < self.retry_at:
            self.stats.retry_in = self.retry_at - time.monotonic()
            return
        try:
            engine = connect(self.options.docker_host, timeout=10)
        except EngineError:
            self.attempt += 1
            self.retry_at = time.monotonic() + BACKOFF[min(self.attempt, len(BACKOFF) - 1)]
            return
        # segments of the old connection must all have ended before reading again;
        # one stuck on a half-open connection is given up (what it held is re-read)
        stuck = [s.segment for s in self.streams if s.segment is not None]
        if stuck and time.monotonic() - self.down_since < STUCK_AFTER:
            engine.close()
            self.retry_at = time.monotonic() + TICK
            return
        for segment in stuck:
            segment.abandoned = segment.done = True
        if stuck:
            self._flush()
        self.engine.close()
        self.engine = engine
        self.engine_down = False
        self.stats.reconnects += 1
        for container in self.containers.values():
            container.needs_read = True
        self._start_events()
        self.last_reconcile = 0.0

    # ---- events ------------------------------------------------------------------

    def _events_since(self) -> float | None:
        if self.events_ts is not None:
            return float(self.events_ts // 1_000_000_000)
        if self.options.since is not None:
            return self.options.since.timestamp()
        return None

    def _start_events(self, *, until: float | None = None) -> None:
        try:
            self._open_events(until)
        except Exception as exc:
            self._lost(exc)

    def _open_events(self, until: float | None) -> None:
        since = self._events_since()
        if since is None:
            # never collected here: the engine's recent history of these containers
            created = [
                c.get("Created", 0)
                for c in self.api.containers(
                    all=True, filters=compose_filters(self.options.project)
                )
            ]
            since = float(min(created)) - 1 if created else time.time() - 1
        filters = {"type": ["container"], **compose_filters(self.options.project)}
        handle = self.api.events(
            since=max(1, int(since)), until=until, filters=filters, decode=True
        )
        self.events_handle = handle

        def read() -> None:
            try:
                for event in handle:
                    self.events_queue.put(event)
                    self.wake.set()
            except Exception:  # the engine went away: the main thread checks and resumes
                pass
            finally:
                self.events_queue.put(_EventsEnded())
                self.wake.set()

        if until is not None:
            read()
        else:
            threading.Thread(target=read, name="incidentlog-events", daemon=True).start()

    def _close_events(self) -> None:
        handle, self.events_handle = self.events_handle, None
        if handle is not None:
            with contextlib.suppress(Exception):  # already broken
                handle.close()

    def _drain_events(self) -> None:
        raw: list[dict[str, Any]] = []
        ended = False
        while True:
            try:
                item = self.events_queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _EventsEnded):
                ended = True
                continue
            raw.append(item)
        if raw:
            self._handle_events(raw)
        healthy = ended and self.options.follow and not self.engine_down and not self.stop.is_set()
        if healthy and self._call(self.api.ping) is not None:
            self._start_events()

    def _handle_events(self, raw: list[dict[str, Any]]) -> None:
        frame = events_frame(raw, self.engine.name, self._next_seq(len(raw)))
        self.pending.events.append(frame)
        newest = max(int(e.get("timeNano") or 0) for e in raw)
        self.pending.events_ts = max(self.pending.events_ts or 0, newest)
        snapshot: list[str] = []
        for event in raw:
            if event.get("Type", "container") != "container":
                continue
            action = str(event.get("Action") or event.get("status") or "").split(":")[0]
            container_id = str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")
            if not container_id:
                continue
            if action == "destroy":
                self._forget(container_id)
                continue
            known = self.containers.get(container_id)
            if action in ("create", "start") and known is None and self.options.follow:
                self._register_by_id(container_id)
                known = self.containers.get(container_id)
            if known is None:
                continue
            if action == "start":
                known.running = True
                known.needs_read = True
            if action in _SNAPSHOT_ACTIONS:
                snapshot.append(container_id)
        for container_id in dict.fromkeys(snapshot):
            self._snapshot(container_id)

    # ---- containers --------------------------------------------------------------

    def _reconcile(self) -> None:
        self.last_reconcile = time.monotonic()
        listed = self._call(
            lambda: self.api.containers(all=True, filters=compose_filters(self.options.project))
        )
        if listed is None:
            return
        present = set()
        for item in listed:
            container_id = str(item["Id"])
            present.add(container_id)
            known = self.containers.get(container_id)
            if known is None:
                self._register(item)
                continue
            running = item.get("State") == "running"
            if running and not known.running:
                known.needs_read = True
            known.running = running
        for container_id in list(self.containers):
            if container_id not in present:
                self._forget(container_id)

    def _register_by_id(self, container_id: str) -> None:
        listed = self._call(lambda: self.api.containers(all=True, filters={"id": [container_id]}))
        for item in listed or []:
            self._register(item)

    def _register(self, item: dict[str, Any]) -> None:
        container_id = str(item["Id"])
        labels = item.get("Labels") or {}
        name = str((item.get("Names") or [f"/{container_id[:12]}"])[0]).lstrip("/")
        project = labels.get(PROJECT_LABEL)
        service = labels.get(SERVICE_LABEL) or str(services_of(pl.Series([name])).item())
        container = _Container(
            id=container_id,
            name=name,
            service=service,
            project=project,
            running=item.get("State") == "running",
        )
        saved = self.checkpoints.load(container_id)
        if saved is not None:
            self.seen.latest = pl.concat(
                [
                    self.seen.latest,
                    new_seen([(c, name, t, s) for c, t, s in saved.seen]).latest,
                ]
            )
        self.containers[container_id] = container
        for stream_name in STREAMS:
            stream = _Stream(
                key=len(self.streams),
                container=container,
                name=stream_name,
                cursor=saved.streams.get(stream_name) if saved else None,
            )
            container.streams[stream_name] = stream
            self.streams.append(stream)
            self.keys = pl.concat(
                [
                    self.keys,
                    pl.DataFrame(
                        {
                            "key": [stream.key],
                            "container": [name],
                            "service": [service],
                            "project": [project],
                            "stream": [stream_name],
                        },
                        schema=self.keys.schema,
                    ),
                ]
            )
        self._snapshot(container_id, first=True)

    def _forget(self, container_id: str) -> None:
        container = self.containers.get(container_id)
        if container is not None:
            container.removed = True
            container.running = False

    def _snapshot(
        self, container_id: str, *, first: bool = False, probes_only: bool = False
    ) -> None:
        """Health-probe log, OOM and state of a container from `inspect`, into the store."""
        document = self._call(lambda: self.api.inspect_container(container_id))
        container = self.containers.get(container_id)
        if document is None or container is None:
            return
        state = document.get("State") or {}
        container.running = bool(state.get("Running"))
        container.exit_code = int(state.get("ExitCode") or 0)
        container.health = (state.get("Health") or {}).get("Status")
        if first:
            container.tty = bool((document.get("Config") or {}).get("Tty"))
            check = (document.get("Config") or {}).get("Healthcheck") or {}
            if check.get("Test") and check["Test"] != ["NONE"]:
                interval = (check.get("Interval") or 30_000_000_000) / 1e9
                # the engine keeps the last five probe results: look well before they roll over
                container.probe_every = max(1.0, 2.0 * interval)
        container.last_probe_snapshot = time.monotonic()
        frame = inspect_frame(
            [document], self.engine.name, self._next_seq(16), probes_only=probes_only
        )
        if frame.height:
            self.pending.events.append(frame)

    def _sweep_probes(self) -> None:
        now = time.monotonic()
        for container in self.containers.values():
            if (
                container.running
                and not container.removed
                and container.probe_every is not None
                and now - container.last_probe_snapshot >= container.probe_every
            ):
                self._snapshot(container.id, probes_only=True)

    # ---- log segments ------------------------------------------------------------

    def _attach(self) -> None:
        """Start reading every stream that may have unread logs and has no reader."""
        for container in list(self.containers.values()):
            if container.removed or not container.needs_read:
                continue
            streams = container.streams.values()
            if any(s.segment is not None or s.open_record for s in streams):
                continue  # the previous run is still being read or closed
            container.needs_read = False
            for stream in streams:
                self._start_segment(stream, follow=self.options.follow and container.running)

    def _start_segment(self, stream: _Stream, *, follow: bool) -> None:
        since_ns: int | None = None
        if stream.cursor is not None:
            since_ns = stream.cursor.ts
            stream.skip = stream.cursor
        elif self.options.since is not None:
            since_ns = int(self.options.since.timestamp() * 1e9)
            stream.skip = Cursor(since_ns, 0)
        else:
            stream.skip = None
        stream.skipped = 0
        stream.tail = b""
        stream.ending = None
        segment = _Segment(follow)
        stream.segment = segment
        since = max(1, since_ns // 1_000_000_000) if since_ns is not None else None
        engine = self.engine
        tty = stream.container.tty
        container_id = stream.container.id
        wake = self.wake

        def read() -> None:
            try:
                handle = open_logs(
                    engine,
                    container_id,
                    stream=stream.name,
                    follow=follow,
                    since=since,
                    tty=tty,
                )
                segment.handle = handle
                for chunk in handle:
                    if segment.abandoned:
                        break
                    segment.add(chunk)
            except Exception as exc:
                segment.failed = exc
            finally:
                segment.done = True
                wake.set()

        threading.Thread(
            target=read, name=f"incidentlog-logs-{stream.container.name}-{stream.name}", daemon=True
        ).start()

    def _collect_blobs(self, *, closing_all: bool) -> list[Blob]:
        """Whole lines read since the last flush; decide how ended segments end."""
        blobs: list[Blob] = []
        for stream in self.streams:
            segment = stream.segment
            if segment is None:
                continue
            done = segment.done
            data = stream.tail + segment.take()
            if done:
                stream.ending = self._how_it_ended(stream, segment)
                whole = data if stream.ending == "final" else data[: data.rfind(b"\n") + 1]
                if stream.ending == "final" and whole and not whole.endswith(b"\n"):
                    whole += b"\n"
                stream.tail = b""
            else:
                cut = data.rfind(b"\n") + 1
                whole, stream.tail = data[:cut], data[cut:]
                if closing_all:
                    stream.ending = "final"
            if whole:
                blobs.append(Blob(stream.key, whole))
                stream.last_line = time.monotonic()
        return blobs

    def _how_it_ended(self, stream: _Stream, segment: _Segment) -> str:
        if segment.abandoned or self.engine_down:
            return "drop"
        refused = _refusal(segment.failed)
        if refused is not None:
            warning = f"{stream.container.name}: the engine gives no logs ({refused})"
            if warning not in self.stats.warnings:
                self.stats.warnings.append(warning)
        if segment.follow:
            # a follow ends when the container stops, or when the engine goes away
            self._snapshot(stream.container.id)
            if self.engine_down:
                return "drop"
        elif stream.container.running and self.options.follow:
            stream.container.needs_read = True  # it started while we read its past
        return "final"

    # ---- flushing ----------------------------------------------------------------

    def _next_seq(self, n: int) -> int:
        first = self.seq
        self.seq += n
        return first

    def _skip_seen(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Drop lines that the cursor of a re-read stream already covers."""
        skipping = {s.key: s for s in self.streams if s.skip is not None}
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

    def _flush(self, *, closing_all: bool = False) -> None:
        blobs = self._collect_blobs(closing_all=closing_all)
        lines = lines_frame(blobs, self.keys, self.seq)
        self.seq += lines.height
        lines = self._skip_seen(lines)
        now = time.monotonic()
        final_keys = {
            s.key
            for s in self.streams
            if s.ending == "final"
            or closing_all
            or (s.open_record and now - s.last_line >= IDLE_CLOSE)
        }
        drop_keys = {s.key for s in self.streams if s.ending == "drop"}
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
        open_keys = set(carry.get_column("key").to_list())
        logs = finish_records(records, self.engine.name, self.seen) if records.height else None
        events = pl.concat(self.pending.events) if self.pending.events else None
        batches: list[tuple[str, pl.DataFrame]] = []
        if logs is not None:
            batches.append(("logs", logs))
        if events is not None and events.height:
            batches.append(("events", events))
        if batches:
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
        for stream in self.streams:
            stream.open_record = stream.key in open_keys
            if stream.ending is not None and stream.segment is not None and stream.segment.done:
                stream.segment = None
                stream.ending = None
        self._save_checkpoints()
        if self.pending.events_ts is not None:
            self.events_ts = self.pending.events_ts
            self.checkpoints.save_events(self.scope, self.events_ts)
        self.pending = _Pending()
        self.last_flush = time.monotonic()
        self._rate(written_now=logs.height if logs is not None else 0)

    def _advance_cursors(self, consumed: pl.DataFrame, unstored: pl.DataFrame) -> None:
        """Move each stream's cursor to the last line whose record is now stored."""
        previous = {s.key: s.cursor for s in self.streams if s.cursor is not None}
        for key, cursor in advance_cursors(consumed, unstored, previous).items():
            stream = self.streams[key]
            stream.cursor = cursor
            stream.container.needs_checkpoint = True

    def _save_checkpoints(self) -> None:
        for container in self.containers.values():
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

    def _update_stats(self) -> None:
        live = [c for c in self.containers.values() if not c.removed]
        self.stats.containers = len(self.containers)
        self.stats.services = len({(c.project, c.service) for c in live})
        self.stats.unhealthy = len(
            {
                (c.project, c.service)
                for c in live
                if c.health == "unhealthy" or (not c.running and c.exit_code != 0)
            }
        )
        self.stats.engine_down = self.engine_down
        if self.on_status is not None:
            self.on_status(self.stats)

    # ---- the loop ----------------------------------------------------------------

    def _settled(self) -> bool:
        """Nothing left to read (for --no-follow)."""
        return all(s.segment is None for s in self.streams) and not any(
            c.needs_read and not c.removed for c in self.containers.values()
        )

    def run(self) -> CollectStats:
        try:
            self._reconcile()
            if self.options.follow:
                self._start_events()
            else:
                self._start_events(until=time.time())
            self._drain_events()
            while True:
                self._attach()
                self.wake.wait(TICK)
                self.wake.clear()
                if self.engine_down:
                    self._try_reconnect()
                else:
                    self._drain_events()
                    if self.options.follow and (
                        time.monotonic() - self.last_reconcile >= RECONCILE_EVERY
                    ):
                        self._reconcile()
                    if self.options.follow:
                        self._sweep_probes()
                ended = any(s.segment is not None and s.segment.done for s in self.streams)
                if self.stop.is_set():
                    self._flush(closing_all=True)
                    break
                if ended or time.monotonic() - self.last_flush >= FLUSH_EVERY:
                    self._flush()
                if not self.options.follow and self._settled():
                    self._flush(closing_all=True)
                    break
                self._update_stats()
        finally:
            self._close_events()
            for stream in self.streams:
                if stream.segment is not None:
                    stream.segment.abandon()
            self.checkpoints.unlock()
            self.engine.close()
        self._update_stats()
        return self.stats


def run_collect(
    options: CollectOptions,
    *,
    stop: threading.Event | None = None,
    on_status: Callable[[CollectStats], None] | None = None,
) -> CollectStats:
    """Collect until `stop` is set (or, without follow, until everything was read)."""
    collector = Collector(options, stop or threading.Event(), on_status)
    return collector.run()


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the collector then flushes and exits)."""

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
