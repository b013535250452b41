"""Progress on long work: a bar on stderr when it is a terminal, nothing otherwise.

The one place a progress bar is made. A command wraps its work in
`shown("report")`; the library names its phases with `step("detecting")`
and walks known-length loops with `track(days, "compacting")`, which cost
nothing when no bar is shown (piped stderr, tests, library use). The bar
appears only once the work has lasted `DELAY` seconds, so quick runs print
nothing, and it is erased when the work ends (the output stays clean).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID

__all__ = ["DELAY", "bar", "shown", "step", "track"]

DELAY = 1.0
"""Seconds of work before the bar appears."""
T = TypeVar("T")


def bar(*columns: str | ProgressColumn) -> Progress:
    """A transient rich bar on standard error (never mixed into standard output)."""
    from rich.console import Console
    from rich.progress import Progress

    return Progress(*columns, console=Console(stderr=True), transient=True)


class _Display:
    """One command's bar: a phase line (pulsing, with elapsed time) and, inside a
    `track`, how far the loop is; started by a timer after DELAY seconds."""

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

        self.label = label
        self.bar = bar(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        )
        self.task: TaskID = self.bar.add_task(label, total=None)
        self.lock = threading.Lock()
        self.started = self.stopped = False
        self.timer = threading.Timer(DELAY, self._start)
        self.timer.daemon = True

    def _start(self) -> None:
        with self.lock:
            if not self.stopped:
                self.bar.start()
                self.started = True

    def begin(self) -> None:
        if DELAY <= 0:
            self._start()
        else:
            self.timer.start()

    def end(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.stopped = True
            if self.started:
                self.bar.stop()

    def update(self, **fields: Any) -> None:
        self.bar.update(self.task, **fields)


_current: ContextVar[_Display | None] = ContextVar("incidentlog_progress", default=None)


@contextmanager
def shown(label: str, *, enabled: bool | None = None) -> Iterator[None]:
    """Show a bar for the work inside (default: when standard error is a terminal)."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield
        return
    display = _Display(label)
    token = _current.set(display)
    display.begin()
    try:
        yield
    finally:
        display.end()
        _current.reset(token)


def step(description: str) -> None:
    """Name the phase the work is in (no effect without a bar)."""
    display = _current.get()
    if display is not None:
        display.update(description=f"{display.label}: {description}", total=None, completed=0)


def track(items: Sequence[T], description: str) -> Iterator[T]:
    """Walk `items`, the bar showing how many are done (just the items without a bar)."""
    display = _current.get()
    if display is None:
        yield from items
        return
    display.update(description=f"{display.label}: {description}", total=len(items), completed=0)
    for done, item in enumerate(items, start=1):
        yield item
        display.update(completed=done)
