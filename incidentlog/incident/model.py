"""The incident model: frozen dataclasses of raw facts (no markup anywhere).

Prose fields (`Prose`: words and `Code` segments, see `incidentlog.text`) are
unescaped; the views mark them up (Markdown) or print them plain (JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from incidentlog.text import Prose

__all__ = [
    "SCHEMA_VERSION",
    "ActionPhase",
    "ActionStep",
    "Excerpt",
    "ExcerptLine",
    "FileRef",
    "GanttBar",
    "Improvement",
    "Incident",
    "Issue",
    "ServiceState",
    "Symptom",
    "Threshold",
    "TimelineEntry",
]

SCHEMA_VERSION: Final = 1


@dataclass(frozen=True)
class ExcerptLine:
    ts: datetime | None
    text: str
    match: bool
    """True for the lines of the record the finding matched."""


@dataclass(frozen=True)
class Excerpt:
    """A few records around the first occurrence of a finding, in one container."""

    service: str
    container: str
    rule: str
    source: str
    """`logs`, `probe` (health-check output from inspect) or `events`."""
    lines: list[ExcerptLine]


@dataclass(frozen=True)
class Symptom:
    service: str
    category: str
    description: Prose
    count: int
    first_seen: datetime | None
    via: str
    """How it is tied to the cause: `same service`, `host <name>`, `depends_on <name>`."""


@dataclass(frozen=True)
class FileRef:
    path: str
    """As the evidence names it (`/app/scripts/start_agent_monitor.py:42`) or a config file."""
    hint: Prose
    """The likely path in the source tree (`scripts/start_agent_monitor.py:42`) or what to change."""
    services: list[str]
    issue: int
    code: str | None = None
    """The source line the traceback shows, when it shows one."""


@dataclass(frozen=True)
class Issue:
    id: int
    rank: int
    category: str
    severity: str
    title: str
    """The rule's title as the rule pack writes it (with `backtick` code spans)."""
    services: list[str]
    containers: list[str]
    problem: Prose
    root_cause: Prose
    fix: Prose
    fix_kind: str
    impact: Prose
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    rules: list[str]
    fields: dict[str, str]
    ranking: Prose
    """Why it ranks where it does (first evidence, upstream of whom)."""
    resolved_at: datetime | None
    """When its services were healthy again (null while it lasts, or without timestamps)."""
    ongoing: bool
    """Still failing at the end of the evidence (or cannot be shown to have stopped)."""
    symptoms: list[Symptom]
    evidence: list[Excerpt]
    files: list[FileRef]


@dataclass(frozen=True)
class ServiceState:
    name: str
    state: str
    """healthy / unhealthy / restarting / exited / running / unknown, at the end of the evidence."""
    state_text: str
    needs_attention: bool
    reason: str
    first_unhealthy: datetime | None
    recovered_at: datetime | None
    unhealthy_seconds: float
    restarts: int
    errors: int
    findings: int
    issues: list[int]
    transient: bool
    """Failed briefly and recovered on its own (not counted as affected)."""


@dataclass(frozen=True)
class TimelineEntry:
    ts: datetime | None
    services: list[str]
    """The services it concerns (none for the start and end of the evidence)."""
    kind: str
    """start / first-error / first-unhealthy / restart / crash-loop / oom / recovered / end."""
    text: str


@dataclass(frozen=True)
class GanttBar:
    section: str
    label: str
    tag: str
    """crit (ongoing failure), done (recovered), milestone."""
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Threshold:
    level: str
    rule: str
    observed: str
    breached: bool | None
    """None when the evidence cannot say (e.g. no response times)."""


@dataclass(frozen=True)
class ActionStep:
    kind: str
    title: Prose
    services: list[str]
    commands: list[str]
    """Shell lines; service names are shell-quoted; lines starting with `#` are comments."""


@dataclass(frozen=True)
class ActionPhase:
    name: str
    eta_minutes: int
    steps: list[ActionStep]


@dataclass(frozen=True)
class Improvement:
    title: str
    items: list[Prose]
    because: list[str]
    """The categories found that call for it."""


@dataclass(frozen=True)
class Incident:
    schema_version: int
    generated_at: datetime
    found: bool
    project: str | None
    redacted: bool
    inputs: list[str]
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime | None
    first_unhealthy_at: datetime | None
    detection_delay_seconds: float | None
    ended_at: datetime | None
    ongoing: bool
    duration_seconds: float | None
    summary: Prose
    severity: str | None
    services_total: int
    affected: list[str]
    unhealthy: list[str]
    crash_looping: list[str]
    healthy: list[str]
    needs_attention: list[str]
    recovered: list[str]
    """Failed their health check briefly and recovered on their own."""
    transient: list[str]
    """Brief failures at start-up (or recovered health checks) that are not issues."""
    peak_failing: int
    peak_at: datetime | None
    issues: list[Issue]
    timeline: list[TimelineEntry]
    gantt: list[GanttBar]
    services: list[ServiceState]
    thresholds: list[Threshold]
    action_plan: list[ActionPhase]
    files: list[FileRef]
    improvements: list[Improvement]
    notes: list[str] = field(default_factory=list)
