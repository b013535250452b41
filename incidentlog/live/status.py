"""`status`: the health of every service now, against the seed report's thresholds.

One `docker inspect` per container gives state, health, failing streak,
restart count and the last probe output. A service (all replicas of one
compose service) is *unhealthy* when any replica is: health check failing,
restarting, dead, exited with a non-zero code or OOM-killed, or created but
never started (what compose leaves behind when a dependency is unhealthy).
A one-shot job that exited 0 is fine. The share of unhealthy services is
compared with the thresholds of the 2025-08-01 incident report: more than
50 % is critical, more than 25 % a warning. Exit codes follow the Nagios
plugin convention so cron and CI can act on them: 0 ok, 1 warning,
2 critical, 3 unknown (no engine, unknown project).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

from incidentlog.errors import EngineError, IncidentlogError, StatusUnknownError
from incidentlog.live.client import (
    PROJECT_LABEL,
    SERVICE_LABEL,
    Engine,
    compose_filters,
    connect,
    engine_error,
    unknown_project,
)
from incidentlog.redact import json_safe, one_line, redact, visible

__all__ = [
    "CRITICAL_SHARE",
    "WARNING_SHARE",
    "ServiceStatus",
    "StatusReport",
    "StatusUnknownError",
    "Verdict",
    "judge",
    "read_status",
    "render_json",
    "render_text",
]

CRITICAL_SHARE = 0.50
"""More than this share of services unhealthy is critical (seed report, Monitoring Thresholds)."""
WARNING_SHARE = 0.25
"""More than this share is a warning."""
PROBE_CHARS = 200
"""The last probe output is cut to this many characters in text output."""


class Verdict(IntEnum):
    """Overall state; the value is the exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass
class ServiceStatus:
    project: str | None
    service: str
    containers: list[str]
    state: str
    """running, restarting, exited, created, dead, paused (the worst replica's)."""
    health: str | None
    """healthy, unhealthy, starting, or None without a health check."""
    failing_streak: int
    restarts: int
    exit_code: int | None
    oom_killed: bool
    last_probe: str | None
    """The latest probe output, redacted (None without probes)."""
    last_probe_exit: int | None
    unhealthy: bool
    reason: str
    """Why it counts as unhealthy ("" when it does not)."""


@dataclass
class StatusReport:
    host: str
    project: str | None
    services: list[ServiceStatus] = field(default_factory=list)

    @property
    def unhealthy(self) -> int:
        return sum(s.unhealthy for s in self.services)

    @property
    def share(self) -> float:
        return self.unhealthy / len(self.services) if self.services else 0.0

    @property
    def verdict(self) -> Verdict:
        if self.share > CRITICAL_SHARE:
            return Verdict.CRITICAL
        if self.share > WARNING_SHARE:
            return Verdict.WARNING
        return Verdict.OK


_STATE_ORDER = ("dead", "restarting", "exited", "created", "paused", "removing", "running")


def _replica(document: dict[str, Any]) -> dict[str, Any]:
    state = document.get("State") or {}
    health = state.get("Health") or {}
    probes = health.get("Log") or []
    last = probes[-1] if probes else None
    status = str(state.get("Status") or "unknown")
    health_status = (
        health.get("Status")
        if health.get("Status") in ("healthy", "unhealthy", "starting")
        else None
    )
    exit_code = state.get("ExitCode")
    reasons = []
    if health_status == "unhealthy":
        reasons.append(f"health check failing ({health.get('FailingStreak', 0)} in a row)")
    if status == "restarting":
        reasons.append("restarting")
    if status == "dead":
        reasons.append("dead")
    if status == "exited" and exit_code:
        reasons.append(f"exited with code {exit_code}")
    if state.get("OOMKilled"):
        reasons.append("OOM-killed")
    if status == "created":
        reasons.append("created but never started")
    labels = (document.get("Config") or {}).get("Labels") or {}
    name = str(document.get("Name") or document.get("Id", "")[:12]).lstrip("/")
    return {
        "name": name,
        "project": labels.get(PROJECT_LABEL),
        "service": labels.get(SERVICE_LABEL) or name,
        "state": status,
        "health": health_status,
        "streak": int(health.get("FailingStreak") or 0),
        "restarts": int(document.get("RestartCount") or 0),
        "exit_code": exit_code if status in ("exited", "dead", "restarting") else None,
        "oom": bool(state.get("OOMKilled")),
        "probe": None if last is None else str(last.get("Output") or ""),
        "probe_exit": None if last is None else last.get("ExitCode"),
        "reasons": reasons,
    }


def _service(replicas: list[dict[str, Any]]) -> ServiceStatus:
    replicas = sorted(
        replicas, key=lambda r: _STATE_ORDER.index(r["state"]) if r["state"] in _STATE_ORDER else 0
    )
    worst = replicas[0]
    health_rank = {"unhealthy": 0, "starting": 1, "healthy": 2}
    healths = [r["health"] for r in replicas if r["health"]]
    health = min(healths, key=lambda h: health_rank[h]) if healths else None
    probed = [r for r in replicas if r["probe"] is not None]
    probe_from = next((r for r in probed if r["health"] == health), probed[0] if probed else None)
    reasons = [
        f"{r['name']}: {why}" if len(replicas) > 1 else why
        for r in replicas
        for why in r["reasons"]
    ]
    return ServiceStatus(
        project=worst["project"],
        service=worst["service"],
        containers=sorted(r["name"] for r in replicas),
        state=worst["state"],
        health=health,
        failing_streak=max(r["streak"] for r in replicas),
        restarts=sum(r["restarts"] for r in replicas),
        exit_code=worst["exit_code"],
        oom_killed=any(r["oom"] for r in replicas),
        last_probe=redact(probe_from["probe"]) if probe_from is not None else None,
        last_probe_exit=probe_from["probe_exit"] if probe_from is not None else None,
        unhealthy=bool(reasons),
        reason="; ".join(reasons),
    )


def read_status(project: str | None = None, docker_host: str | None = None) -> StatusReport:
    """Inspect every container of `project` (every container when None) and judge each service."""
    try:
        engine = connect(docker_host)
    except EngineError as exc:
        raise StatusUnknownError(str(exc)) from None
    try:
        return _read(engine, project)
    except IncidentlogError as exc:
        raise StatusUnknownError(str(exc)) from None
    except Exception as exc:
        raise StatusUnknownError(str(engine_error(exc, engine.host))) from None
    finally:
        engine.close()


def _read(engine: Engine, project: str | None) -> StatusReport:
    import docker.errors

    listed = engine.api.containers(all=True, filters=compose_filters(project))
    if not listed and project:
        raise unknown_project(engine, project)
    documents = []
    for item in listed:
        try:
            documents.append(engine.api.inspect_container(item["Id"]))
        except docker.errors.NotFound:  # removed between the listing and now
            continue
    return StatusReport(host=engine.name, project=project, services=judge(documents))


def judge(documents: list[dict[str, Any]]) -> list[ServiceStatus]:
    """One status per (project, service) from `docker inspect` documents, sorted."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for document in documents:
        replica = _replica(document)
        groups.setdefault((replica["project"] or "", replica["service"]), []).append(replica)
    return [_service(groups[key]) for key in sorted(groups)]


# ---- rendering -----------------------------------------------------------------------


def _one_line(text: str | None, limit: int) -> str:
    """Untrusted text (names, probe output) as one line, control characters shown
    (`^[`, `<U+009B>`) as every human output shows them."""
    if not text:
        return "-"
    flat = " ".join(visible(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def headline(report: StatusReport) -> str:
    scope = f"project {one_line(report.project)}" if report.project else "all containers"
    total = len(report.services)
    return (
        f"{report.verdict.name} {scope} on {one_line(report.host)}: "
        f"{report.unhealthy} of {total} services "
        f"unhealthy ({report.share:.0%}; critical > {CRITICAL_SHARE:.0%}, "
        f"warning > {WARNING_SHARE:.0%})"
    )


def render_text(report: StatusReport) -> str:
    """A headline and a table: service, state, health, streak, restarts, last probe."""
    rows = [("SERVICE", "STATE", "HEALTH", "STREAK", "RESTARTS", "LAST PROBE")]
    for s in report.services:
        name = (
            s.service if report.project else f"{s.project}/{s.service}" if s.project else s.service
        )
        state = s.state if s.exit_code is None else f"{s.state} ({s.exit_code})"
        rows.append(
            (
                _one_line(name, 40),
                one_line(state) + (" oom" if s.oom_killed else ""),
                one_line(s.health or "-"),
                str(s.failing_streak),
                str(s.restarts),
                _one_line(s.last_probe, PROBE_CHARS),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [headline(report)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
    return "\n".join(lines) + "\n"


def render_json(report: StatusReport) -> str:
    document = {
        "host": report.host,
        "project": report.project,
        "level": report.verdict.name.lower(),
        "exit_code": int(report.verdict),
        "services_total": len(report.services),
        "services_unhealthy": report.unhealthy,
        "share_unhealthy": round(report.share, 4),
        "thresholds": {"critical": CRITICAL_SHARE, "warning": WARNING_SHARE},
        "services": [asdict(s) for s in report.services],
    }
    return json_safe(json.dumps(document, ensure_ascii=False) + "\n")
