"""`build_digest`: the digest of a period, read from the history store.

One Polars query per question over the pruned scans (never a loop over records):

- per service: errors (error + fatal), warnings and records in the period,
  the previous period of the same length, and the same hours a day earlier
  (`day_before`); errors per hour over the 24 hours ending with the period
  (the sparkline);
- lifecycle from events: restarts (a `start` after a `die` of the same
  container), OOM kills (`oom` events), health transitions (`health_status`
  changes; a first `healthy` is normal start-up and not listed);
- services that went silent: records in the previous period, none in this one;
- signatures (findings and error patterns): `incidentlog.digest.signatures`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

import polars as pl

from incidentlog.digest.model import (
    SILENT_MIN_RECORDS,
    SPARK_HOURS,
    Digest,
    HealthTransition,
    Pattern,
    ServiceDigest,
    moved,
)
from incidentlog.digest.period import Period, day_before
from incidentlog.digest.rollups import aligned, history_span, load_rollups
from incidentlog.digest.signatures import (
    classify_signatures,
    finding_signatures,
    is_error,
    pattern_frame,
    pattern_start,
)
from incidentlog.ingest.events import drop_repeated_ooms
from incidentlog.schema import EventAction, HealthStatus, Level

if TYPE_CHECKING:
    from incidentlog.store import Store

__all__ = ["TOP_PATTERNS", "build_digest"]

TOP_PATTERNS: Final = 10


def build_digest(
    period: Period,
    *,
    store: Path | None = None,
    lake: str | None = None,
    zone: ZoneInfo | None = None,
    rule_paths: Sequence[str | Path] = (),
    use_rollups: bool = True,
) -> Digest:
    """The digest of `period` from the history store, or the lake (`rule_paths`:
    extra rule packs).

    With `use_rollups` (the default) a period whose bounds fall on rollup buckets
    reads the store's rollups (`digest.rollups`, built where missing) for
    everything but the period's own records; without, it reads the records of
    the whole lookback. Both give the same digest. The lake keeps no caches:
    it is read whole, as without rollups."""
    from incidentlog.sources import History, LakeHistory
    from incidentlog.store import Store

    zone = zone or ZoneInfo("UTC")
    history: History = LakeHistory.open(lake) if lake is not None else Store.open(store)
    previous = Period(period.start - period.length, period.start)
    same_hours = day_before(period, zone)
    hours = Period(period.end - timedelta(hours=SPARK_HOURS), period.end)
    logs = history.scan("logs", until=period.end)
    all_events = history.scan("events", until=period.end)
    events = all_events.filter(pl.col("ts") < period.end).collect()
    counted = Period(min(previous.start, same_hours.start, hours.start), period.end)
    bounds = (counted, period, previous, same_hours, hours)
    if (
        use_rollups
        and isinstance(history, Store)  # (the lake keeps no local caches)
        and aligned(*(b for p in bounds for b in (p.start, p.end)))
    ):
        rolled = load_rollups(
            history, min(counted.start, pattern_start(period, previous)), period.end
        )
        first, last = _span(history_span(history), history.scan("events"))
        counts, hourly = _service_counts_rolled(rolled, period, previous, same_hours, hours)
        patterns = pattern_frame(_window_scan(history, period), period, previous, rolled, history)
        hour_files = _files_by_hour(rolled)
        scans: pl.LazyFrame | Callable[[Period], pl.LazyFrame] = partial(_window_scan, history)
    else:
        first, last = _history_span(history.scan("logs"), history.scan("events"))
        counts, hourly = _service_counts(logs, period, previous, same_hours, hours)
        patterns = pattern_frame(logs, period, previous)
        hour_files = None
        scans = logs
    per_service_events, health = _lifecycle(events, period)
    findings, seen_findings = finding_signatures(
        scans, events, period, previous, first, rule_paths, history, hour_files
    )

    services = _services(counts, hourly, per_service_events, health, _uncovered(hours, first))
    new, vanished, movers = classify_signatures(findings, seen_findings, patterns)
    return Digest(
        period=period,
        previous=previous,
        day_before=same_hours,
        zone=zone.key,
        history_start=first,
        history_end=last,
        services=services,
        new_signatures=new,
        vanished_signatures=vanished,
        top_movers=movers,
        top_patterns=_top_patterns(patterns),
        health_transitions=tuple(
            HealthTransition(r["ts"], r["service"], r["container"], r["before"], r["after"])
            for r in health.sort("ts", "container").iter_rows(named=True)
        ),
        hours=tuple(hours.start + timedelta(hours=i) for i in range(SPARK_HOURS)),
        totals=_totals(services),
    )


def _uncovered(hours: Period, history_start: datetime | None) -> int:
    """Leading sparkline hours that end before the history starts."""
    if history_start is None:
        return 0
    return sum(
        1 for i in range(SPARK_HOURS) if hours.start + timedelta(hours=i + 1) <= history_start
    )


def _top_patterns(patterns: pl.DataFrame) -> tuple[Pattern, ...]:
    """The commonest error patterns of the period."""
    top = (
        patterns.filter(pl.col("count") > 0)
        .sort(
            ["count", "first_seen", "service", "pattern_id"], descending=[True, False, False, False]
        )
        .head(TOP_PATTERNS)
    )
    return tuple(
        Pattern(
            service=r["service"],
            pattern_id=r["pattern_id"],
            template=r["template"],
            count=r["count"],
            count_previous=r["count_previous"],
            sample=r["sample"] or "",
            first_seen=r["first_seen"],
            last_seen=r["last_seen"],
        )
        for r in top.iter_rows(named=True)
    )


def _totals(services: Sequence[ServiceDigest]) -> dict[str, int]:
    return {
        "errors": sum(s.errors for s in services),
        "warnings": sum(s.warnings for s in services),
        "records": sum(s.records for s in services),
        "errors_previous": sum(s.errors_previous for s in services),
        "warnings_previous": sum(s.warnings_previous for s in services),
        "errors_day_before": sum(s.errors_day_before for s in services),
    }


def _span(
    logs: tuple[datetime | None, datetime | None], events: pl.LazyFrame
) -> tuple[datetime | None, ...]:
    """`_history_span` with the logs' span known (from the rollups)."""
    lo, hi = (
        events.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi"))
        .collect()
        .row(0)
    )
    los = [t for t in (logs[0], lo) if t is not None]
    his = [t for t in (logs[1], hi) if t is not None]
    return (min(los) if los else None), (max(his) if his else None)


def _window_scan(history: Store, window: Period) -> pl.LazyFrame:
    """The records of `window`, the scan pruned to its day partitions."""
    return history.scan("logs", since=window.start, until=window.end).filter(window.contains())


def _files_by_hour(rolled: pl.DataFrame) -> Callable[[Period], list[str]]:
    """For each whole hour, the store files (name:size) holding its records."""
    by_hour = (
        rolled.filter(pl.col("masked").is_null())
        .group_by(pl.col("bucket").dt.truncate("1h").alias("hour"))
        .agg(pl.col("file").unique().sort())
    )
    table = {hour: list(files) for hour, files in by_hour.iter_rows()}
    return lambda window: table.get(window.start, [])


def _history_span(logs: pl.LazyFrame, events: pl.LazyFrame) -> tuple[datetime | None, ...]:
    spans = pl.concat(
        [
            logs.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")),
            events.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")),
        ]
    ).select(pl.col("lo").min(), pl.col("hi").max())
    lo, hi = spans.collect().row(0)
    return lo, hi


def _service_counts(
    logs: pl.LazyFrame, period: Period, previous: Period, day_earlier: Period, hours: Period
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-service counts in the three periods, errors per service and sparkline hour)."""
    err = is_error()
    warn = pl.col("level") == Level.WARN.value
    first = min(previous.start, day_earlier.start, hours.start)
    rows = logs.filter((pl.col("ts") >= first) & (pl.col("ts") < period.end))
    counts = rows.group_by("service").agg(
        (err & period.contains()).sum().alias("errors"),
        (warn & period.contains()).sum().alias("warnings"),
        period.contains().sum().alias("records"),
        (err & previous.contains()).sum().alias("errors_previous"),
        (warn & previous.contains()).sum().alias("warnings_previous"),
        previous.contains().sum().alias("records_previous"),
        (err & day_earlier.contains()).sum().alias("errors_day_before"),
        (warn & day_earlier.contains()).sum().alias("warnings_day_before"),
        pl.col("ts").filter(pl.col("ts") < period.start).max().alias("last_seen"),
    )
    bin_ns = 3600 * 10**9
    hourly = (
        rows.filter(err & hours.contains())
        .with_columns(((pl.col("ts") - hours.start).dt.total_nanoseconds() // bin_ns).alias("hour"))
        .group_by("service", "hour")
        .agg(pl.len().alias("errors"))
    )
    return counts.collect(), hourly.collect()


def _service_counts_rolled(
    rolled: pl.DataFrame, period: Period, previous: Period, day_earlier: Period, hours: Period
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`_service_counts` from the rollups' count rows (bounds on bucket boundaries)."""
    bucket = pl.col("bucket")

    def within(window: Period) -> pl.Expr:
        return (bucket >= window.start) & (bucket < window.end)

    err = pl.col("level").is_in([Level.ERROR.value, Level.FATAL.value])
    warn = pl.col("level") == Level.WARN.value
    first = min(previous.start, day_earlier.start, hours.start)
    rows = rolled.filter(pl.col("masked").is_null() & (bucket >= first) & (bucket < period.end))
    n = pl.col("n")
    counts = rows.group_by("service").agg(
        n.filter(err & within(period)).sum().alias("errors"),
        n.filter(warn & within(period)).sum().alias("warnings"),
        n.filter(within(period)).sum().alias("records"),
        n.filter(err & within(previous)).sum().alias("errors_previous"),
        n.filter(warn & within(previous)).sum().alias("warnings_previous"),
        n.filter(within(previous)).sum().alias("records_previous"),
        n.filter(err & within(day_earlier)).sum().alias("errors_day_before"),
        n.filter(warn & within(day_earlier)).sum().alias("warnings_day_before"),
        pl.col("last_ts").filter(bucket < period.start).max().alias("last_seen"),
    )
    bin_ns = 3600 * 10**9
    hourly = (
        rows.filter(err & within(hours))
        .with_columns(((bucket - hours.start).dt.total_nanoseconds() // bin_ns).alias("hour"))
        .group_by("service", "hour")
        .agg(n.sum().alias("errors"))
    )
    return counts, hourly


def _lifecycle(events: pl.DataFrame, period: Period) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-service restarts and OOM kills in the period, health transitions in the period)."""
    ordered = events.filter(pl.col("ts").is_not_null() & pl.col("service").is_not_null()).sort(
        "container", "ts", "seq"
    )
    die = (pl.col("action") == EventAction.DIE.value).cast(pl.UInt32)
    restarts = ordered.filter(
        pl.col("action").is_in([EventAction.START.value, EventAction.DIE.value])
    ).with_columns((die.cum_sum().over("container") - die).alias("_dies_before"))
    per_service = pl.concat(
        [
            restarts.filter(
                (pl.col("action") == EventAction.START.value)
                & (pl.col("_dies_before") > 0)
                & period.contains()
            )
            .group_by("service")
            .agg(pl.len().alias("restarts")),
            drop_repeated_ooms(ordered)
            .filter((pl.col("action") == EventAction.OOM.value) & period.contains())
            .group_by("service")
            .agg(pl.len().alias("oom_kills")),
        ],
        how="diagonal_relaxed",
    )
    health = (
        ordered.filter(
            (pl.col("action") == EventAction.HEALTH_STATUS.value) & pl.col("status").is_not_null()
        )
        .with_columns(
            pl.col("status").cast(pl.String),
            pl.col("status").cast(pl.String).shift(1).over("container").alias("before"),
        )
        .filter(
            period.contains()
            & (pl.col("status") != pl.col("before").fill_null(HealthStatus.STARTING.value))
            & ~(pl.col("before").is_null() & (pl.col("status") == HealthStatus.HEALTHY.value))
        )
        .select(
            "ts",
            "service",
            "container",
            pl.col("before").fill_null(HealthStatus.STARTING.value),
            pl.col("status").alias("after"),
        )
    )
    return per_service, health


def _services(
    totals: pl.DataFrame,
    hourly: pl.DataFrame,
    lifecycle: pl.DataFrame,
    health: pl.DataFrame,
    uncovered: int,
) -> tuple[ServiceDigest, ...]:
    numbers = [
        "errors",
        "warnings",
        "records",
        "errors_previous",
        "warnings_previous",
        "records_previous",
        "errors_day_before",
        "warnings_day_before",
    ]
    transitions = health.group_by("service").agg(pl.len().alias("health_transitions"))
    lifecycle = lifecycle.group_by("service").agg(
        pl.col("restarts").sum(), pl.col("oom_kills").sum()
    )
    names = pl.concat([f.select("service") for f in (totals, lifecycle, transitions)]).unique()
    frame = (
        names.join(totals, on="service", how="left")
        .join(lifecycle, on="service", how="left")
        .join(transitions, on="service", how="left")
        .with_columns(
            pl.col([*numbers, "restarts", "oom_kills", "health_transitions"]).fill_null(0)
        )
        .sort(["errors", "warnings", "service"], descending=[True, True, False])
    )
    by_hour: dict[str, list[int]] = {}
    for service, hour, n in hourly.select("service", "hour", "errors").iter_rows():
        by_hour.setdefault(service, [0] * SPARK_HOURS)[int(hour)] = int(n)
    out: list[ServiceDigest] = []
    for row in frame.iter_rows(named=True):
        out.append(
            ServiceDigest(
                service=row["service"],
                **{name: int(row[name]) for name in numbers},
                restarts=int(row["restarts"]),
                oom_kills=int(row["oom_kills"]),
                health_transitions=int(row["health_transitions"]),
                silent=row["records"] == 0 and row["records_previous"] >= SILENT_MIN_RECORDS,
                last_seen=row["last_seen"],
                errors_24h=tuple(by_hour.get(row["service"], [0] * SPARK_HOURS)),
                moved=moved(int(row["errors"]), int(row["errors_previous"])),
                uncovered_hours=uncovered,
            )
        )
    return tuple(out)
