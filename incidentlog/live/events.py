"""The engine's event stream, read on its own thread into a queue for the main thread."""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any


class EventsEnded:
    """Queued when the event stream ends (the engine closed it, or went away)."""


class EventFeed:
    """One `/events` request at a time; `drain` hands the main thread what arrived."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake
        self.queue: queue.Queue[dict[str, Any] | EventsEnded] = queue.Queue()
        self.handle: Any = None

    def open(
        self, api: Any, *, since: float, until: float | None, filters: dict[str, list[str]]
    ) -> None:
        """Request events from `since`; with `until`, read them all before returning,
        else follow them on a thread."""
        handle = api.events(since=max(1, int(since)), until=until, filters=filters, decode=True)
        self.handle = handle

        def read() -> None:
            try:
                for event in handle:
                    self.queue.put(event)
                    self.wake.set()
            except Exception:  # the engine went away: the main thread checks and resumes
                pass
            finally:
                self.queue.put(EventsEnded())
                self.wake.set()

        if until is not None:
            read()
        else:
            threading.Thread(target=read, name="incidentlog-events", daemon=True).start()

    def close(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            with contextlib.suppress(Exception):  # already broken
                handle.close()

    def drain(self) -> tuple[list[dict[str, Any]], bool]:
        """(events queued since the last drain, whether the stream ended meanwhile)."""
        raw: list[dict[str, Any]] = []
        ended = False
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, EventsEnded):
                ended = True
                continue
            raw.append(item)
        return raw, ended
