"""What the `collect` command does around the collector: signals and the live line."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from incidentlog.errors import UsageError
from incidentlog.live.collector import CollectOptions, CollectStats, run_collect, stop_on_signals
from incidentlog.store.layout import Layout
from incidentlog.timespec import parse_time

__all__ = ["Retention", "check_project", "collect_command"]

_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A compose project name (compose v2 allows lowercase letters, digits, `-` and `_`;
older tools kept capitals and dots): never a path."""


def check_project(project: str | None) -> None:
    """A usage error unless `project` can be a compose project's name."""
    if project is not None and not _PROJECT.fullmatch(project):
        raise UsageError(
            f"--project {project!r} is not a compose project name (letters, digits, "
            "'-', '_' and '.', starting with a letter or digit)"
        )


class Retention:
    """`collect --keep-days N`: prune the days older than N days at the start and
    then once an hour (whole days only, as `store prune --before Nd`)."""

    EVERY = 3600.0

    def __init__(self, store: Path, keep_days: int, warn: Callable[[str], None]) -> None:
        if keep_days < 1:
            raise UsageError(f"--keep-days {keep_days}: keep at least 1 day")
        self.store = store
        self.keep_days = keep_days
        self.warn = warn
        self.last: float | None = None

    def tick(self, now: datetime | None = None) -> Pruned | None:
        """Prune if an hour has passed since the last time (None when it did not run)."""
        clock = time.monotonic()
        if self.last is not None and clock - self.last < self.EVERY:
            return None
        self.last = clock
        from incidentlog.errors import IncidentlogError
        from incidentlog.store import Store
        from incidentlog.store.prune import days_cutoff

        if not Layout(self.store).marker.is_file():
            return None  # nothing stored yet
        try:
            done = Store.open(self.store).prune(
                days_cutoff(self.keep_days, now or datetime.now(UTC))
            )
        except IncidentlogError as exc:
            self.warn(f"warning: --keep-days: {exc}")
            return None
        if done.days:
            self.warn(f"keep-days: {done.describe()}")
        return done


class _LiveLine:
    """One status line rewritten in place on a terminal, at most once a second."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = 0.0
        self.width = 0

    def __call__(self, stats: CollectStats) -> None:
        now = time.monotonic()
        if now - self.shown < 1.0:
            return
        self.shown = now
        text = stats.status_line()
        self.out.write("\r" + text.ljust(self.width))
        self.out.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.out.flush()


if TYPE_CHECKING:
    from incidentlog.live.schedule import DigestSchedule
    from incidentlog.store.prune import Pruned


def collect_command(
    *,
    project: str | None,
    store: Path | None,
    since: str | None,
    follow: bool,
    docker_host: str | None,
    live: bool,
    schedule: DigestSchedule | None = None,
    wait: bool = False,
    retention: Retention | None = None,
) -> CollectStats:
    """Run `collect` until SIGINT/SIGTERM (or, with --no-follow, until all is read).

    With a `schedule`, each status update (after a flush) gives it the chance
    to write the digest of an interval that just ended.
    """
    check_project(project)
    options = CollectOptions(
        project=project,
        store=store,
        since=parse_time(since) if since is not None else None,
        follow=follow,
        docker_host=docker_host,
        wait=wait,
    )
    stop = threading.Event()
    line = _LiveLine(sys.stderr) if live else None

    def on_status(stats: CollectStats) -> None:
        if line is not None:
            line(stats)
        if schedule is not None:
            schedule.tick()
        if retention is not None:
            retention.tick()

    if retention is not None:
        retention.tick()
    try:
        with stop_on_signals(stop):
            return run_collect(
                options, stop=stop, on_status=on_status if line or schedule or retention else None
            )
    finally:
        if line is not None:
            line.clear()
