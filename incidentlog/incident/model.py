"""The incident model: frozen dataclasses of raw facts (no markup anywhere).

Prose fields (`Prose`: words and `Code` segments, see `incidentlog.text`) are
unescaped; the views mark them up (Markdown) or print them plain (JSON).
"""

from __future__ import annotations

import shlex
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
    "Probe",
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
    """The records that show a finding in one container: its first occurrence in the logs
    (with the records around it), or the probe results / events the evidence kept."""

    service: str
    container: str
    rule: str
    source: str
    """`logs`, `probe` (health-check output from inspect) or `events`."""
    lines: list[ExcerptLine]
    """In full (a long record, such as a traceback, cut in its middle only when very long)."""
    label: str = ""
    """What the lines are: `first occurrence in the logs`, `the last 5 probe results docker
    inspect kept`, `the first 3 events`."""
    brief: list[ExcerptLine] = field(default_factory=list)
    """A few lines that say it: a record's first line, its innermost application frame and
    its last line (all of `lines` when they are few)."""


@dataclass(frozen=True)
class Symptom:
    service: str
    category: str
    description: Prose
    count: int
    first_seen: datetime | None
    via: str
    """How it is tied to the cause: `same service`, `host <name>`, `depends_on <name>`."""
    rules: tuple[str, ...] = ()
    """The rules whose findings it is (none for one the engine's facts made)."""


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
    user_impact: Prose = field(default_factory=Prose)
    """What users of its services saw, as far as the evidence shows (empty when it does not)."""
    detected_at: datetime | None = None
    """When the engine first showed it: a service of it unhealthy or exited."""
    detection_delay_seconds: float | None = None
    """From `first_seen` to `detected_at`."""

    @property
    def start(self) -> datetime | None:
        """Its first evidence; for a cause the evidence leaves undated (an app that prints no
        times), the first dated evidence of its symptoms."""
        if self.first_seen is not None:
            return self.first_seen
        dated = [y.first_seen for y in self.symptoms if y.first_seen is not None]
        return min(dated) if dated else None


@dataclass(frozen=True)
class Probe:
    """A service's health check as inspect or the compose file shows it (None: not shown)."""

    command: str
    form: str | None
    """`CMD` (exec form, no shell) or `CMD-SHELL`."""
    interval_seconds: float | None
    timeout_seconds: float | None
    retries: int | None
    start_period_seconds: float | None
    failing_streak: int | None
    """inspect's `FailingStreak`: the engine's count of failed probes in a row (it keeps the
    output of the last 5 only)."""
    last_output: str | None
    last_exit_code: int | None


@dataclass(frozen=True)
class ServiceState:
    name: str
    state: str
    """healthy / unhealthy / restarting / exited / running / created / build failed / unknown,
    at the end of the evidence."""
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
    started_at: datetime | None = None
    """Its first start in the evidence."""
    failing_since: datetime | None = None
    """Its first failure the engine showed: unhealthy, an exit or an OOM kill."""
    exits: int = 0
    """Times it exited (die events)."""
    unhealthy_after_seconds: float | None = None
    """From its start to its first `unhealthy` status: how long the health check took to tell."""
    probe: Probe | None = None
    restart_policy: str | None = None
    mounts: list[str] | None = None
    """inspect's mounts (`type source -> destination`); None when the evidence does not say."""
    detail: Prose = field(default_factory=Prose)
    """Its state in words, with the numbers an engineer can check (`241 failed probes in a
    row (inspect's FailingStreak), every probe since it started`)."""


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
    undated_records: int
    """Log records without a time: with a window, the evidence is only partly dated."""
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
    detection: Prose = field(default_factory=Prose)
    """How soon the engine showed each root cause, and why (probe timing, `start_period`)."""
    next_update_at: datetime | None = None
    """When the next status update is due (the report's time plus the first phase's ETA);
    None without a plan, or when the evidence ended more than a week before the report."""
    users: Prose = field(default_factory=Prose)
    """What the access logs say users got (requests and 5xx, probes left out)."""
    compose_cli: str = "docker compose"
    """The command the commands are written for: `docker-compose` when the logs are
    Compose v1's (`web_1 | …`), whose users may have no v2 plugin; `docker stack` when
    they are a swarm stack's (`docker service logs`: `shop_web.1.k2x8j3mq0v1z@node-2 | …`);
    `podman-compose` when podman-compose's own lines show it ran the stack."""
    compose_options: str = ""
    """Global options every compose command gets, as the user's own gave them alike
    (`-f docker-compose.ci.yml`): shell words."""

    @property
    def status_command(self) -> str:
        """The command that shows every service's state."""
        if self.compose_cli == "docker stack":
            return f"docker stack ps {shlex.quote(self.project or 'STACK')}"
        return " ".join(w for w in (self.compose_cli, self.compose_options, "ps") if w)
