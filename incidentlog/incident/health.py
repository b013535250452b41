"""What a service's health check and lifecycle say, in numbers an engineer can check.

The engine counts failed probes in a row (`FailingStreak`) but keeps the output
of the last five only; a crash loop is its die events. These helpers turn
`ServiceStats` and the container's config into the `Probe` of a service and
its state in words, so the report states one number per fact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentlog.incident.model import Probe
from incidentlog.text import Prose, clock, exit_codes_words, plural
from incidentlog.topology import ContainerConfig

if TYPE_CHECKING:
    from incidentlog.incident.services import ServiceStats

__all__ = [
    "failing_since_start",
    "probe_of",
    "service_detail",
    "unhealthy_after",
]


def probe_of(st: ServiceStats, conf: ContainerConfig | None) -> Probe | None:
    """The service's health check (None when neither inspect nor compose shows one)."""
    if conf is None or not conf.healthcheck:
        return None
    return Probe(
        command=conf.healthcheck,
        form=conf.probe_form,
        interval_seconds=conf.probe_interval,
        timeout_seconds=conf.probe_timeout,
        retries=conf.probe_retries,
        start_period_seconds=conf.probe_start_period,
        failing_streak=conf.failing_streak,
        last_output=st.last_probe_output,
        last_exit_code=st.last_probe_exit,
    )


def unhealthy_after(st: ServiceStats) -> float | None:
    """Seconds from the service's first start to its first `unhealthy` status."""
    if st.started_at is None or st.first_unhealthy is None or st.first_unhealthy < st.started_at:
        return None
    return (st.first_unhealthy - st.started_at).total_seconds()


def failing_since_start(st: ServiceStats, probe: Probe | None) -> bool:
    """Every probe failed since the container started: the engine's streak, counted back from
    the last probe at the probe interval, reaches the first probe after the start."""
    if probe is None or st.started_at is None or st.last_probe is None:
        return False
    if not probe.failing_streak or not probe.interval_seconds:
        return False
    first = _first_failed(st.last_probe, probe.failing_streak, probe.interval_seconds)
    expected = st.started_at + timedelta(
        seconds=(probe.start_period_seconds or 0.0) + probe.interval_seconds
    )
    return abs((first - expected).total_seconds()) <= probe.interval_seconds


def _first_failed(last: datetime, streak: int, interval: float) -> datetime:
    return last - timedelta(seconds=(streak - 1) * interval)


def service_detail(st: ServiceStats, probe: Probe | None) -> Prose:
    """The state in words: crashes with their exit codes, or the failing streak of its probe."""
    codes = exit_codes_words(st.exit_codes)
    code_words = f" (exit code {codes})" if codes else ""
    if (st.state == "restarting" and st.exits) or (st.exits > 1 and st.state != "exited"):
        return Prose.of(f"crashed {plural(st.exits, 'time')}{code_words}")
    if st.state == "exited" and st.exits and st.last_exit is not None:
        if "exited with code" in st.state_text:  # (the state says how, `since` when)
            many = f"crashed {st.exits} times, the last at {clock(st.last_exit)}"
            return Prose.of(many) if st.exits > 1 else Prose()
        return Prose.of(f"exited{code_words} at {clock(st.last_exit)}")
    streak = probe.failing_streak if probe is not None else None
    if st.state == "unhealthy" and streak:
        since = ": every probe since it started" if failing_since_start(st, probe) else ""
        return Prose.of(f"{plural(streak, 'failed probe')} in a row{since}")
    if st.state == "unhealthy" and st.first_unhealthy is not None:
        return Prose.of(f"unhealthy since {clock(st.first_unhealthy)}")
    return Prose()
