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

    live/collector.py   the main thread: engine, containers, segments, the loop
    live/streams.py     containers, their streams and the segments readers fill
    live/events.py      the engine's event stream, read on a thread
    live/flushing.py    lines to records to the store, then checkpoints
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentlog.errors import EngineError
from incidentlog.live.checkpoint import Checkpoints, Cursor
from incidentlog.live.client import (
    compose_filters,
    connect,
    engine_error,
    open_logs,
    unknown_project,
)
from incidentlog.live.events import EventFeed
from incidentlog.live.flushing import Flusher
from incidentlog.live.frames import Blob, events_frame, inspect_frame
from incidentlog.live.streams import Container, Registry, Segment, Stream, refusal
from incidentlog.timespec import unix_ns

__all__ = ["CollectOptions", "CollectStats", "run_collect", "stop_on_signals"]

TICK = 0.2
"""Seconds the main thread sleeps when nothing wakes it."""
FLUSH_EVERY = 1.0
"""Seconds between store writes while data arrives."""
RECONCILE_EVERY = 2.0
"""Seconds between container listings (a safety net under the events)."""
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
"""Seconds between attempts to reach an engine that went away."""
STUCK_AFTER = 10.0
"""Seconds after the engine went away before a reader still blocked is given up."""
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


class Collector:
    """The main thread of `collect`: it alone changes state; reader threads only fill buffers."""

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
        self.checkpoints = Checkpoints(self.store)
        self.scope = options.project or "*"
        self.checkpoints.lock(self.scope)
        self.stats = CollectStats(store=self.store.root, project=options.project)
        self.wake = threading.Event()
        self.events = EventFeed(self.wake)
        self.registry = Registry()
        self.flusher = Flusher(self.store, self.checkpoints, self.scope, self.registry, self.stats)
        self.last_reconcile = 0.0
        self.engine_down = False
        self.down_since = 0.0
        self.retry_at = 0.0
        self.attempt = 0

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
        for stream in self.registry.streams:
            if stream.segment is not None:
                stream.segment.abandon()
        self.events.close()

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
        stuck = [s.segment for s in self.registry.streams if s.segment is not None]
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
        for container in self.registry.containers.values():
            container.needs_read = True
        self._start_events()
        self.last_reconcile = 0.0

    # ---- events ------------------------------------------------------------------

    def _events_since(self) -> float | None:
        events_ts = self.flusher.events_ts
        if events_ts is not None:
            return float(events_ts // 1_000_000_000)
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
        self.events.open(self.api, since=since, until=until, filters=filters)

    def _drain_events(self) -> None:
        raw, ended = self.events.drain()
        if raw:
            self._handle_events(raw)
        healthy = ended and self.options.follow and not self.engine_down and not self.stop.is_set()
        if healthy and self._call(self.api.ping) is not None:
            self._start_events()

    def _handle_events(self, raw: list[dict[str, Any]]) -> None:
        frame = events_frame(raw, self.engine.name, self.flusher.next_seq(len(raw)))
        self.flusher.add_events(frame, newest=max(int(e.get("timeNano") or 0) for e in raw))
        snapshot: list[str] = []
        for event in raw:
            if event.get("Type", "container") != "container":
                continue
            action = str(event.get("Action") or event.get("status") or "").split(":")[0]
            container_id = str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")
            if not container_id:
                continue
            if action == "destroy":
                self.registry.forget(container_id)
                continue
            known = self.registry.containers.get(container_id)
            if action in ("create", "start") and known is None and self.options.follow:
                self._register_by_id(container_id)
                known = self.registry.containers.get(container_id)
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
            known = self.registry.containers.get(container_id)
            if known is None:
                self._register(item)
                continue
            running = item.get("State") == "running"
            if running and not known.running:
                known.needs_read = True
            known.running = running
        for container_id in list(self.registry.containers):
            if container_id not in present:
                self.registry.forget(container_id)

    def _register_by_id(self, container_id: str) -> None:
        listed = self._call(lambda: self.api.containers(all=True, filters={"id": [container_id]}))
        for item in listed or []:
            self._register(item)

    def _register(self, item: dict[str, Any]) -> None:
        container = Container.from_listing(item)
        saved = self.checkpoints.load(container.id)
        if saved is not None:
            self.flusher.resume_seen(container.name, saved.seen)
        self.registry.add(container, saved.streams if saved else {})
        self._snapshot(container.id, first=True)

    def _snapshot(
        self, container_id: str, *, first: bool = False, probes_only: bool = False
    ) -> None:
        """Health-probe log, OOM and state of a container from `inspect`, into the store."""
        document = self._call(lambda: self.api.inspect_container(container_id))
        container = self.registry.containers.get(container_id)
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
            [document], self.engine.name, self.flusher.next_seq(16), probes_only=probes_only
        )
        if frame.height:
            self.flusher.add_events(frame)

    def _sweep_probes(self) -> None:
        now = time.monotonic()
        for container in self.registry.containers.values():
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
        for container in list(self.registry.containers.values()):
            if container.removed or not container.needs_read:
                continue
            streams = container.streams.values()
            if any(s.segment is not None or s.open_record for s in streams):
                continue  # the previous run is still being read or closed
            container.needs_read = False
            for stream in streams:
                self._start_segment(stream, follow=self.options.follow and container.running)

    def _start_segment(self, stream: Stream, *, follow: bool) -> None:
        since_ns: int | None = None
        if stream.cursor is not None:
            since_ns = stream.cursor.ts
            stream.skip = stream.cursor
        elif self.options.since is not None:
            since_ns = unix_ns(self.options.since)
            stream.skip = Cursor(since_ns, 0)
        else:
            stream.skip = None
        stream.skipped = 0
        stream.tail = b""
        stream.ending = None
        segment = Segment(follow)
        stream.segment = segment
        since = max(1, since_ns // 1_000_000_000) if since_ns is not None else None
        engine = self.engine
        tty = stream.container.tty
        container_id = stream.container.id
        name = stream.name
        segment.read_in_background(
            lambda: open_logs(
                engine, container_id, stream=name, follow=follow, since=since, tty=tty
            ),
            self.wake,
            name=f"incidentlog-logs-{stream.container.name}-{stream.name}",
        )

    def _collect_blobs(self, *, closing_all: bool) -> list[Blob]:
        """Whole lines read since the last flush; decide how ended segments end."""
        blobs: list[Blob] = []
        for stream in self.registry.streams:
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

    def _how_it_ended(self, stream: Stream, segment: Segment) -> str:
        if segment.abandoned or self.engine_down:
            return "drop"
        refused = refusal(segment.failed)
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

    def _flush(self, *, closing_all: bool = False) -> None:
        blobs = self._collect_blobs(closing_all=closing_all)
        self.flusher.flush(blobs, self.engine.name, closing_all=closing_all)

    # ---- the loop ----------------------------------------------------------------

    def _update_stats(self) -> None:
        live = [c for c in self.registry.containers.values() if not c.removed]
        self.stats.containers = len(self.registry.containers)
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

    def run(self) -> CollectStats:
        try:
            self._reconcile()
            if self.options.follow:
                self._start_events()
            else:
                self._start_events(until=time.time())
            self._drain_events()
            while not self._step():
                self._update_stats()
        finally:
            self.events.close()
            for stream in self.registry.streams:
                if stream.segment is not None:
                    stream.segment.abandon()
            self.checkpoints.unlock()
            self.engine.close()
        self._update_stats()
        return self.stats

    def _step(self) -> bool:
        """One turn of the loop: read, watch the engine, flush when due. True when
        collecting is over (stopped, or without follow everything read), all flushed."""
        self._attach()
        self.wake.wait(TICK)
        self.wake.clear()
        if self.engine_down:
            self._try_reconnect()
        else:
            self._watch()
        ended = any(s.segment is not None and s.segment.done for s in self.registry.streams)
        if self.stop.is_set():
            self._flush(closing_all=True)
            return True
        if ended or time.monotonic() - self.flusher.last_flush >= FLUSH_EVERY:
            self._flush()
        if not self.options.follow and self.registry.settled():
            self._flush(closing_all=True)
            return True
        return False

    def _watch(self) -> None:
        """Events, and while following, the container list and health probes."""
        self._drain_events()
        if self.options.follow and time.monotonic() - self.last_reconcile >= RECONCILE_EVERY:
            self._reconcile()
        if self.options.follow:
            self._sweep_probes()


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
