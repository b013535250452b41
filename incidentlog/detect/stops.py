"""Exits that a stop caused are not crashes.

`docker compose down`, Ctrl+C and `docker stop` end containers with SIGTERM
(exit 143), SIGKILL after the grace period (137) or SIGINT (130); compose
prints `Gracefully stopping…` / `Container x  Stopping` first, and the engine
records a `kill` or `stop` event just before the `die`. Such exits are the
operator's doing: their crash-loop findings are dropped. A 137 without a
stop is kept (SIGKILL from someone else, or the OOM killer when an `oom`
event or `OOMKilled` says so: that is core.exit-137-oom's finding).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from incidentlog.detect.columns import FIELD_PREFIX
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.schema import Category, EventAction

__all__ = ["STOP_WINDOW", "drop_shown_exits", "drop_stop_exits"]

STOP_WINDOW: Final = timedelta(seconds=30)
"""A `die` this soon after a `kill`/`stop` of the same container is that stop's."""
STOP_CODES: Final = (130, 137, 143)
"""128 + SIGINT, SIGKILL, SIGTERM: what a stop ends a process with."""
_STOPPING: Final = (
    r"^(?:Gracefully stopping|Aborting on container exit|(?:Stopping|Killing) \S+ \.\.\."
    r"|[ ✔✘⠿]*\s*Container \S+\s+(?:Stopping|Stopped|Killing|Killed|Removing|Removed)\b)"
)


def drop_stop_exits(
    findings: pl.DataFrame, logs: pl.LazyFrame, events: pl.DataFrame
) -> pl.DataFrame:
    """`findings` without the crash-loop findings of exits that a stop caused."""
    crash = pl.col("category") == Category.CRASH_LOOP.value
    if findings.filter(crash).is_empty():
        return findings
    code = pl.col(FIELD_PREFIX + "exit_code").cast(pl.Int64, strict=False)
    stopped_ids = _stopped_die_events(events)
    after_marker = _compose_lines_after_stop(logs)
    from_events = (pl.col("source") == "events") & pl.col("id").is_in(stopped_ids.implode())
    from_text = (pl.col("source") == "logs") & pl.col("id").is_in(after_marker.implode())
    stop_code = code.is_in(STOP_CODES) if FIELD_PREFIX + "exit_code" in findings.columns else False
    return findings.filter(~(crash & (from_events & stop_code | from_text)).fill_null(False))


def _stopped_die_events(events: pl.DataFrame) -> pl.Series:
    """Ids of `die` events with a stop code shortly after a kill/stop of that container."""
    stops = events.filter(
        pl.col("action").is_in([EventAction.KILL.value, EventAction.STOP.value])
        & pl.col("ts").is_not_null()
    ).select("container", pl.col("ts").alias("_stop"))
    if stops.is_empty():
        return pl.Series("id", [], dtype=pl.UInt64)
    dies = events.filter(
        (pl.col("action") == EventAction.DIE.value) & pl.col("exit_code").is_in(STOP_CODES)
    ).select("id", "container", "ts")
    return (
        dies.join(stops, on="container")
        .filter((pl.col("ts") >= pl.col("_stop")) & (pl.col("ts") - pl.col("_stop") <= STOP_WINDOW))
        .get_column("id")
        .unique()
    )


def _compose_lines_after_stop(logs: pl.LazyFrame) -> pl.Series:
    """Ids of compose's own lines after its first `Gracefully stopping…` line."""
    own = logs.filter(pl.col("container") == COMPOSE_SERVICE)
    first = (
        own.filter(pl.col("message").str.contains(_STOPPING)).select(pl.col("seq").min()).collect()
    ).item()
    if first is None:
        return pl.Series("id", [], dtype=pl.UInt64)
    return own.filter(pl.col("seq") > first).select("id").collect().get_column("id")


SHOWN_EXIT: Final = "core.ps-exited-nonzero"
"""The rule of a `docker ps` row's `Exited (1)`: a state at one moment, without a time."""
_EXIT_CATEGORIES: Final = frozenset(
    c.value
    for c in (Category.CRASH_LOOP, Category.OOM_KILLED, Category.MISSING_BINARY, Category.SEGFAULT)
)


def drop_shown_exits(findings: pl.DataFrame) -> pl.DataFrame:
    """`findings` without the exits a ps row shows of a service whose exits something else
    tells (die events, compose's `exited with code` lines): they tell when and how often,
    and the row would be a second finding of the same exit."""
    shown = pl.col("rule") == SHOWN_EXIT
    told = findings.filter(~shown & pl.col("category").is_in(sorted(_EXIT_CATEGORIES)))
    if told.is_empty():
        return findings
    services = told.get_column("service").unique().implode()
    return findings.filter(~(shown & pl.col("service").is_in(services)))
