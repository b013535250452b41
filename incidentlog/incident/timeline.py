"""When things happened: issue ends, timeline rows, Gantt bars, incident times, thresholds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from incidentlog.incident.advice import RESTARTS_LISTED
from incidentlog.incident.model import GanttBar, Issue, ServiceState, Threshold, TimelineEntry
from incidentlog.incident.services import ServiceGroups, ServiceStats, peak
from incidentlog.ingest.events import drop_repeated_ooms
from incidentlog.schema import Category, EventAction
from incidentlog.text import (
    Code,
    Prose,
    clock,
    exit_codes_words,
    format_duration,
    join_names,
    plural,
)

__all__ = [
    "STABLE_AFTER",
    "Times",
    "detected_at",
    "detection_line",
    "gantt_bars",
    "incident_times",
    "resolved_at",
    "thresholds",
    "timeline",
]

STABLE_AFTER: Final = timedelta(minutes=5)
"""An issue is over when its services end healthy and it was last seen this long before the end."""
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


def resolved_at(
    services: list[str],
    last_seen: datetime | None,
    stats: Mapping[str, ServiceStats],
    events: pl.DataFrame,
    window_end: datetime | None,
) -> datetime | None:
    """When an issue stopped: its services end healthy/running, quiet for STABLE_AFTER."""
    if last_seen is None or window_end is None or window_end - last_seen < STABLE_AFTER:
        return None
    if not all((st := stats.get(s)) and st.state in ("healthy", "running") for s in services):
        return None
    back = events.filter(
        pl.col("service").is_in(services)
        & (pl.col("action") == EventAction.HEALTH_STATUS.value)
        & (pl.col("status") == "healthy")
        & (pl.col("ts") > last_seen)
    ).get_column("ts")
    healthy_again = back.min()
    return healthy_again if isinstance(healthy_again, datetime) else last_seen


# --------------------------------------------------------------------------- detection


def detected_at(services: Sequence[str], stats: Mapping[str, ServiceStats]) -> datetime | None:
    """When the engine first showed trouble in these services: unhealthy, an exit, an OOM kill."""
    times = [
        t
        for s in services
        if (st := stats.get(s)) is not None
        for t in (st.first_unhealthy, st.first_exit, st.first_oom)
        if t is not None
    ]
    return min(times, default=None)


def detection_line(issues: Sequence[Issue], states: Sequence[ServiceState]) -> Prose:
    """How soon the engine showed the first root cause, and how long the health checks took
    to flag the services they flagged (their probe timing explains it)."""
    parts: list[Prose] = []
    first = issues[0] if issues else None
    if (
        first is not None
        and first.detected_at is not None
        and first.detection_delay_seconds is not None
    ):
        delay = first.detection_delay_seconds
        when = "at once" if delay < 1 else f"{format_duration(delay)} after its first evidence"
        parts.append(
            Prose.of(
                f"The first root cause (#{first.id}) showed {when}, at {clock(first.detected_at)}"
            )
        )
    by_name = {s.name: s for s in states}
    flagged = sorted(
        {
            s
            for i in issues
            for s in i.services
            if (x := by_name.get(s)) and x.unhealthy_after_seconds is not None
        },
    )
    if flagged:
        parts.append(_flagged(flagged, by_name))
    if not parts:
        return Prose()
    return Prose.of(Prose.join(parts, ". "), ".")


def _flagged(names: Sequence[str], by_name: Mapping[str, ServiceState]) -> Prose:
    """`the health checks flagged a, b and c 90 s after they started (3 failed probes 30 s
    apart, no start_period)`."""
    after = [by_name[s].unhealthy_after_seconds or 0.0 for s in names]
    low, high = round(min(after)), round(max(after))
    took = f"{low} s" if low == high else f"{low}–{high} s"
    who = join_names(names) if len(names) <= 3 else plural(len(names), "service")
    probes = {
        (p.retries, p.interval_seconds, p.start_period_seconds)
        for s in names
        if (p := by_name[s].probe) is not None
    }
    why = Prose()
    if len(probes) == 1:
        retries, interval, start = next(iter(probes))
        if retries and interval:
            grace = (
                Prose.of(", no ", Code("start_period"))
                if not start
                else Prose.of(", ", Code(f"start_period: {round(start)}s"))
            )
            why = Prose.of(f" ({retries} failed probes {round(interval)} s apart", grace, ")")
    verb = "it" if len(names) == 1 else "they"
    return Prose.of(f"The health checks flagged {who} {took} after {verb} started", why)


# --------------------------------------------------------------------------- timeline


def timeline(
    issues: Sequence[Issue],
    states: Sequence[ServiceState],
    groups: ServiceGroups,
    events: pl.DataFrame,
    window: tuple[datetime | None, datetime | None],
) -> tuple[list[TimelineEntry], list[GanttBar]]:
    """The timeline in order, and the Gantt bars of the services that failed."""
    window_start, window_end = window
    entries: list[TimelineEntry] = []
    bars: list[GanttBar] = []
    if window_start is not None:
        entries.append(TimelineEntry(window_start, [], "start", "evidence begins"))
    entries.extend(
        TimelineEntry(
            issue.first_seen,
            issue.services,
            "first-error",
            f"first evidence of issue #{issue.id}: {issue.title}",
        )
        for issue in issues
    )
    by_name = {s.name: s for s in states}
    shown = set(groups.affected) | set(groups.recovered)
    shown |= {y.service for i in issues for y in i.symptoms}
    for s in sorted(shown):
        sv = by_name.get(s)
        if sv is not None:
            _health_rows(sv, window_end, entries, bars)
            _restart_rows(sv, events, entries, bars)
    if window_end is not None:
        needs = groups.needs_attention
        text = (
            f"evidence ends: {plural(len(needs), 'service')}"
            f" {'needs' if len(needs) == 1 else 'need'} attention"
            if needs
            else "evidence ends: all services healthy"
        )
        entries.append(TimelineEntry(window_end, [], "end", text))
    entries.sort(key=lambda e: (e.ts or _NEVER, e.kind != "start"))
    return entries, bars


def _health_rows(
    sv: ServiceState,
    window_end: datetime | None,
    entries: list[TimelineEntry],
    bars: list[GanttBar],
) -> None:
    """First unhealthy (with its bar until recovery or the end) and healthy again."""
    s = sv.name
    if sv.first_unhealthy is not None:
        entries.append(
            TimelineEntry(
                sv.first_unhealthy, [s], "first-unhealthy", "health check failing: unhealthy"
            )
        )
        end = sv.recovered_at or window_end
        if end is not None:
            bars.append(
                GanttBar(
                    s,
                    "unhealthy" + (" (recovered)" if sv.recovered_at else ""),
                    "done" if sv.recovered_at else "crit",
                    sv.first_unhealthy,
                    end,
                )
            )
    if sv.recovered_at is not None:
        entries.append(TimelineEntry(sv.recovered_at, [s], "recovered", "healthy again"))


def _restart_rows(
    sv: ServiceState, events: pl.DataFrame, entries: list[TimelineEntry], bars: list[GanttBar]
) -> None:
    """OOM kills, and each exit, or one crash-loop row (and bar) for many."""
    s = sv.name
    died = events.filter(
        (pl.col("action") == EventAction.DIE.value) & (pl.col("service") == s)
    ).sort("ts", "seq")
    ooms = drop_repeated_ooms(events).filter(
        (pl.col("action") == EventAction.OOM.value) & (pl.col("service") == s)
    )
    for oom_ts in ooms.sort("ts").get_column("ts").to_list():
        entries.append(TimelineEntry(oom_ts, [s], "oom", "kernel OOM killer hit the container"))
    if died.height and died.height <= RESTARTS_LISTED:
        for die_ts, code in died.select("ts", "exit_code").iter_rows():
            text = f"container exited with code {code}" + (", restarted" if sv.restarts else "")
            entries.append(TimelineEntry(die_ts, [s], "restart", text))
    elif died.height > RESTARTS_LISTED:
        t0, t1 = died.get_column("ts").min(), died.get_column("ts").max()
        gap = died.get_column("ts").diff().dt.total_seconds().median()
        codes = exit_codes_words(
            died.get_column("exit_code").drop_nulls().unique().sort().to_list()
        )
        every = (
            f", restarted about every {round(gap)} s" if isinstance(gap, float) and gap >= 1 else ""
        )
        if isinstance(t0, datetime) and isinstance(t1, datetime):
            entries.append(
                TimelineEntry(
                    t0,
                    [s],
                    "crash-loop",
                    f"crash loop: exited {died.height} times (exit code {codes}) "
                    f"until {clock(t1)}{every}",
                )
            )
            bars.append(GanttBar(s, f"crash loop (exited {died.height} times)", "crit", t0, t1))


def gantt_bars(
    bars: list[GanttBar], issues: Sequence[Issue], window_end: datetime | None
) -> list[GanttBar]:
    """The services' bars, a bar per issue for its services without one, then milestones."""
    out = list(bars)
    with_bars = {b.section for b in bars}
    for issue in issues:
        if issue.first_seen is None or window_end is None:
            continue
        out.extend(
            GanttBar(
                x,
                f"issue {issue.id} ({issue.category.replace('-', ' ')})",
                "crit" if issue.ongoing else "done",
                issue.first_seen,
                issue.resolved_at or window_end,
            )
            for x in issue.services
            if x not in with_bars
        )
    out.extend(
        GanttBar(
            "milestones",
            f"issue {issue.id} first evidence",
            "milestone",
            issue.first_seen,
            issue.first_seen,
        )
        for issue in issues
        if issue.first_seen is not None
    )
    return out


# --------------------------------------------------------------------------- times, thresholds


@dataclass(frozen=True)
class Times:
    started: datetime | None
    """First failure evidence."""
    first_unhealthy: datetime | None
    """First failed health check of an affected service that is not transient."""
    ongoing: bool
    """An issue is ongoing, or a service still needs attention."""
    ended: datetime | None
    duration: float | None


def incident_times(
    issues: Sequence[Issue],
    states: Sequence[ServiceState],
    groups: ServiceGroups,
    window_end: datetime | None,
) -> Times:
    by_name = {s.name: s for s in states}
    # (noise of low severity beside real causes does not start the incident)
    real = [i for i in issues if i.severity != "low"] or list(issues)
    started = min((i.start for i in real if i.start is not None), default=None)
    first_unhealthy = min(
        (
            t
            for s in groups.affected
            # (an issue can name a service that left no records: an upstream named in a message)
            if (x := by_name.get(s)) is not None
            and not x.transient
            and (t := x.first_unhealthy) is not None
        ),
        default=None,
    )
    ongoing = any(i.ongoing for i in issues) or bool(groups.needs_attention)
    ended = (
        None
        if ongoing
        else max((i.resolved_at for i in issues if i.resolved_at is not None), default=None)
    )
    duration = None
    if started is not None:
        stop = window_end if ongoing else ended
        duration = (stop - started).total_seconds() if stop else None
    return Times(started, first_unhealthy, ongoing, ended, duration)


def _merged_by_service(bars: Sequence[GanttBar]) -> list[tuple[datetime, datetime]]:
    """Each service's bars as the spans it was failing: two issues of one service at once
    are one service failing, not two."""
    spans: list[tuple[datetime, datetime]] = []
    for section in sorted({b.section for b in bars}):
        mine = sorted((b.start, b.end) for b in bars if b.section == section)
        start, end = mine[0]
        for s, e in mine[1:]:
            if s <= end:
                end = max(end, e)
            else:
                spans.append((start, end))
                start, end = s, e
        spans.append((start, end))
    return spans


def thresholds(
    bars: Sequence[GanttBar],
    states: Sequence[ServiceState],
    groups: ServiceGroups,
    summary: pl.DataFrame,
) -> tuple[list[Threshold], int, datetime | None]:
    """The runbook's thresholds against the peak of concurrently failing services."""
    intervals = _merged_by_service(
        [b for b in bars if b.tag != "milestone" and b.section in groups.affected]
    )
    most, peak_at = peak(intervals)
    most = max(most, 0)
    # those failing at the end fail at once too (also where the bars cannot show it:
    # undated evidence, a downstream service, an exit without a time)
    at_end = len(groups.needs_attention) > most
    if at_end:
        most, peak_at = len(groups.needs_attention), None
    total = len(states)
    share = most / max(total, 1)
    where = " at the end of the evidence" if at_end else ""
    counted = f"{most} of {total}" if at_end else f"peak {most} of {total}"
    restart_total = sum(s.restarts for s in states)
    timeouts = summary.filter(pl.col("category") == Category.TIMEOUT.value).height
    restarted = ", ".join(f"{s.name} {s.restarts}" for s in states if s.restarts)
    checks = [
        Threshold(
            "critical",
            "more than 50 % of services unhealthy",
            f"{counted} services failing{where} ({share * 100:.0f} %)"
            + (f" at {clock(peak_at)}" if peak_at else ""),
            share > 0.5,
        ),
        Threshold(
            "warning",
            "more than 25 % of services unhealthy",
            f"{counted}{where} ({share * 100:.0f} %)",
            share > 0.25,
        ),
        Threshold(
            "warning",
            "response time above 5 s",
            f"{timeouts} timeout findings"
            if timeouts
            else "no response times or timeouts in the evidence",
            True if timeouts else None,
        ),
        Threshold(
            "info",
            "an individual service restarted",
            f"{plural(restart_total, 'restart')} ({restarted})" if restart_total else "no restarts",
            restart_total > 0,
        ),
    ]
    return checks, most, peak_at
