"""The collector's bookkeeping of containers and their (container, stream) readers.

Each container has one `Stream` per output stream (stdout, stderr), numbered
by a `key` that the line frames carry; a `Segment` is one logs request of a
stream, filled by its reader thread and emptied by the main thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from incidentlog.ingest.compose import services_of
from incidentlog.live.checkpoint import Cursor
from incidentlog.live.client import PROJECT_LABEL, SERVICE_LABEL

STREAMS = ("stdout", "stderr")
KEY_SCHEMA = pl.Schema(
    {
        "key": pl.UInt32(),
        "container": pl.String(),
        "service": pl.String(),
        "project": pl.String(),
        "stream": pl.String(),
    }
)
"""What a line's `key` stands for."""


class Segment:
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

    def read_in_background(
        self, open_handle: Callable[[], Iterable[bytes]], wake: threading.Event, name: str
    ) -> None:
        """Read what `open_handle()` gives on a thread named `name`; `wake` at the end."""

        def read() -> None:
            try:
                handle = open_handle()
                self.handle = handle
                for chunk in handle:
                    if self.abandoned:
                        break
                    self.add(chunk)
            except Exception as exc:
                self.failed = exc
            finally:
                self.done = True
                wake.set()

        threading.Thread(target=read, name=name, daemon=True).start()


@dataclass
class Container:
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
    streams: dict[str, Stream] = field(default_factory=dict)

    @classmethod
    def from_listing(cls, item: dict[str, Any]) -> Container:
        """A container as `GET /containers/json` lists it (compose labels name its service)."""
        container_id = str(item["Id"])
        labels = item.get("Labels") or {}
        name = str((item.get("Names") or [f"/{container_id[:12]}"])[0]).lstrip("/")
        return cls(
            id=container_id,
            name=name,
            service=labels.get(SERVICE_LABEL) or str(services_of(pl.Series([name])).item()),
            project=labels.get(PROJECT_LABEL),
            running=item.get("State") == "running",
        )


@dataclass
class Stream:
    key: int
    container: Container
    name: str
    cursor: Cursor | None
    """Lines up to here are in the store."""
    skip: Cursor | None = None
    """While set, lines of the current segment up to this cursor are dropped."""
    skipped: int = 0
    """Lines at `skip.ts` dropped so far."""
    segment: Segment | None = None
    tail: bytes = b""
    last_line: float = 0.0
    open_record: bool = False
    ending: str | None = None
    """`final` (the segment ended: close the open record) or `drop` (read it again)."""


class Registry:
    """Every container seen, its streams in key order, and what each key stands for."""

    def __init__(self) -> None:
        self.containers: dict[str, Container] = {}
        self.streams: list[Stream] = []
        self.keys = pl.DataFrame(schema=KEY_SCHEMA)

    def add(self, container: Container, cursors: dict[str, Cursor]) -> None:
        """Register `container` with a stream per STREAMS, resuming at `cursors`."""
        self.containers[container.id] = container
        for stream_name in STREAMS:
            stream = Stream(
                key=len(self.streams),
                container=container,
                name=stream_name,
                cursor=cursors.get(stream_name),
            )
            container.streams[stream_name] = stream
            self.streams.append(stream)
            self.keys = pl.concat(
                [
                    self.keys,
                    pl.DataFrame(
                        {
                            "key": [stream.key],
                            "container": [container.name],
                            "service": [container.service],
                            "project": [container.project],
                            "stream": [stream_name],
                        },
                        schema=self.keys.schema,
                    ),
                ]
            )

    def forget(self, container_id: str) -> None:
        """The container was removed: it is not read again."""
        container = self.containers.get(container_id)
        if container is not None:
            container.removed = True
            container.running = False

    def settled(self) -> bool:
        """Nothing left to read (for --no-follow)."""
        return all(s.segment is None for s in self.streams) and not any(
            c.needs_read and not c.removed for c in self.containers.values()
        )


def refusal(failure: BaseException | None) -> str | None:
    """The engine's own words when it refused to give logs (4xx, 501), else None."""
    response = getattr(failure, "response", None)
    status = getattr(response, "status_code", None)
    if failure is None or status is None or status == 404 or status > 501:
        return None
    if status == 500:  # the engine failing, not refusing
        return None
    explanation = getattr(failure, "explanation", None) or str(failure)
    return " ".join(str(explanation).split())[:200]
