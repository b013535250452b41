"""The incident model: what happened, computed from logs, events and detection findings.

`build_incident` takes the evidence frames (`logs`, `events` of the schemas in
`incidentlog.schema`), the findings of `incidentlog.detect` and, when one is
available, the compose topology, and returns an `Incident`: plain frozen
dataclasses that the report templates only format, and that `incident_to_dict`
turns into the JSON document `incidentlog report --format json` prints.

The JSON document (`schema_version` 1) has these keys; times are RFC 3339 UTC
strings (`null` when the input had no timestamps), durations are seconds:

- `found` — false when the evidence shows no incident (the report then says so).
- `project`, `window_start`, `window_end` — what the evidence covers.
- `started_at` (first failure evidence), `first_unhealthy_at` (first failed
  health check of an affected service), `detection_delay_seconds` (between the two),
  `ended_at` (last affected service recovered; null while `ongoing`), `duration_seconds`.
- `summary` — the root cause in one line; `severity` — the worst finding.
- `services_total`, `affected` (services with a health-check failure or a crash
  loop, not counting ones that recovered on their own), `unhealthy`, `crash_looping`,
  `healthy` and `needs_attention` (state at the end of the evidence), `recovered`.
- `issues` — root causes, ranked (first evidence first): `problem`, `root_cause`,
  `fix` (`fix_kind`: rebuild-image / change-code / change-config / restart /
  investigate), `impact`, `services`, `symptoms` (downstream or same-service
  consequences: health-check failures, crash loops, refused connections of
  other services), `evidence` (redacted excerpts with timestamps), `files`.
- `timeline` — first error, first unhealthy, restarts, recoveries, in order;
  `gantt` — the same as bars for a Mermaid diagram.
- `services` — per service: final state, time unhealthy, restarts, error records.
- `thresholds` — the runbook's monitoring thresholds evaluated against the peak.
- `action_plan` — phases of steps with shell-quoted commands, grouped by fix kind.
- `files` — where to look: innermost application frames, Dockerfiles, compose.
- `improvements` — long-term work that follows from the categories found.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl

from incidentlog.redact import redact_expr
from incidentlog.render.markdown import md_code, md_markup, md_text
from incidentlog.schema import Category, EventAction, Level, Severity
from incidentlog.sources import Evidence
from incidentlog.text import clock, format_duration, join_names, plural
from incidentlog.topology import ContainerConfig

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
    "build_incident",
    "format_duration",
    "incident_to_dict",
]

SCHEMA_VERSION: Final = 1

SYMPTOM_CATEGORIES: Final = frozenset(
    {Category.HEALTHCHECK_FAILED.value, Category.CRASH_LOOP.value}
)
"""Categories that say something is broken, not why."""
REMOTE_CATEGORIES: Final = frozenset(
    {
        Category.CONNECTION_REFUSED.value,
        Category.DNS_RESOLUTION.value,
        Category.TIMEOUT.value,
        Category.TLS_ERROR.value,
        Category.AUTH_FAILURE.value,
    }
)
"""Categories whose `host` field can point at another service (then they are its symptom)."""
KEY_FIELDS: Final = ("binary", "module", "host", "env", "path", "port")
"""Fields that tell two services' findings apart (same category + same value = one issue)."""
_SEVERITY_ORDER: Final = [s.value for s in Severity]
_FIX_ORDER: Final = ["rebuild-image", "change-code", "change-config", "restart", "investigate"]
_WORKDIRS: Final = ("/usr/src/app/", "/opt/app/", "/workspace/", "/app/", "/srv/", "/code/")
_PY_FRAME_CODE: Final = r'File "[^"\n]+", line \d+, in [^\n]*\n[ \t]+[^\n]+'
_PY_FRAME_CODE_GROUPS: Final = (
    r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), in [^\n]*\n[ \t]+(?P<code>[^\n]+)'
)
_PY_LIBRARY: Final = r"site-packages/|dist-packages/|/lib/python\d|<frozen |File \"<"
EXCERPT_BEFORE: Final = 2
EXCERPT_AFTER: Final = 1
EXCERPT_MAX_LINES: Final = 24
RECORD_HEAD: Final = 3
RECORD_TAIL: Final = 10
"""A long record (traceback) shows its first and last lines: the error is at the end."""
EXCERPT_LINE_CHARS: Final = 240
RESTARTS_LISTED: Final = 3
"""More restarts than this become one timeline row (first, last, count, interval)."""
DOWNSTREAM_SLACK: Final = timedelta(minutes=2)
STABLE_AFTER: Final = timedelta(minutes=5)
"""An issue is over when its services end healthy and it was last seen this long before the end."""

CATEGORY_PHRASES: Final[Mapping[str, str]] = {
    "missing-binary": "missing dependencies",
    "event-loop-conflict": "asyncio event-loop conflicts",
    "healthcheck-failed": "failing health checks",
    "oom-killed": "out-of-memory kills",
    "connection-refused": "refused connections",
    "dns-resolution": "host names that do not resolve",
    "port-in-use": "ports already in use",
    "permission-denied": "permission errors",
    "missing-module": "missing modules",
    "disk-full": "a full disk",
    "auth-failure": "authentication failures",
    "tls-error": "TLS errors",
    "timeout": "timeouts",
    "crash-loop": "crash loops",
    "segfault": "segmentation faults",
    "resource-exhausted": "exhausted resources",
    "config-error": "configuration errors",
    "unhandled-exception": "unhandled exceptions",
}

IMPROVEMENTS: Final[Mapping[str, tuple[str, tuple[str, ...]]]] = {
    "missing-binary": (
        "Health checks that are tested",
        (
            "Run every service's health-check command against the built image in CI "
            "(`docker compose up --wait` fails when a service never becomes healthy).",
            "Prefer probes that need nothing extra in the image: an application-level "
            "`/health` endpoint checked with a tool the base image ships, or the app's own "
            "health subcommand.",
            "Give slow starters a `start_period` so a probe does not fail during warm-up.",
        ),
    ),
    "event-loop-conflict": (
        "Async start-up code that is checked",
        (
            "Lint for `asyncio.run()` / `uvicorn.run()` inside `async def` (e.g. flake8-async, "
            "ruff's `ASYNC` rules) and for coroutines that are never awaited "
            "(run tests with `-W error::RuntimeWarning`).",
            "Start each service once in CI and fail when it exits within the first minute.",
        ),
    ),
    "healthcheck-failed": (
        "A health-check dashboard and alerts",
        (
            "Alert on `health_status: unhealthy` events (and on services stuck in `starting`).",
            "Track the health-check success rate per service; make `/health` check the "
            "dependencies the service needs (database, cache) without failing on slow ones.",
        ),
    ),
    "crash-loop": (
        "Crash-loop detection",
        (
            "Alert when a container restarts more than a few times in ten minutes; "
            "`restart: always` hides a crash loop behind `Restarting (1)`.",
            "Cap retries (`restart: on-failure:5`) for services that cannot recover by restarting.",
        ),
    ),
    "oom-killed": (
        "Memory limits that fit the workload",
        (
            "Alert on `oom` events and exit code 137; chart memory use against `mem_limit`.",
            "Size limits from observed peaks, and cap per-query / per-worker memory "
            "(e.g. postgres `work_mem`) below the container limit.",
        ),
    ),
    "connection-refused": (
        "Dependencies that degrade gracefully",
        (
            "`depends_on: <service>: condition: service_healthy` for start-up order.",
            "Retries with backoff and a circuit breaker for calls to other services.",
        ),
    ),
    "dns-resolution": (
        "Configuration validated before deploy",
        (
            "Check in CI that every host name in configuration (`DATABASE_URL`, `PGHOST`, …) "
            "is a service of the compose file (`docker compose config --services`).",
        ),
    ),
    "config-error": (
        "Configuration validated before deploy",
        (
            "Validate required environment variables at start-up with one clear error, "
            "and check `env_file`s against a list of required keys in CI.",
        ),
    ),
    "timeout": (
        "Latency visibility",
        (
            "Measure response times of health endpoints and alert above 5 s.",
            "Set explicit client timeouts shorter than the caller's own deadline.",
        ),
    ),
}
GENERAL_IMPROVEMENTS: Final = (
    "Observability",
    (
        "Structured (JSON) logs across all services, so errors are counted by service and rule.",
        "Keep container logs and `docker events` beyond the containers' lifetime "
        "(`incidentlog collect` / `ingest` into the history store).",
    ),
)


# --------------------------------------------------------------------------- model


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
    description: str
    count: int
    first_seen: datetime | None
    via: str
    """How it is tied to the cause: `same service`, `host <name>`, `depends_on <name>`."""


@dataclass(frozen=True)
class FileRef:
    path: str
    """As the evidence names it (`/app/scripts/start_agent_monitor.py:42`) or a config file."""
    hint: str
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
    services: list[str]
    containers: list[str]
    problem: str
    root_cause: str
    fix: str
    fix_kind: str
    impact: str
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    rules: list[str]
    fields: dict[str, str]
    ranking: str
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
    service: str
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
    title: str
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
    items: list[str]
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
    summary: str
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


# --------------------------------------------------------------------------- helpers


def _sev(value: str | None) -> int:
    return _SEVERITY_ORDER.index(value) if value in _SEVERITY_ORDER else -1


def _q(names: Iterable[str]) -> str:
    return " ".join(shlex.quote(n) for n in names)


def _source_hint(path: str) -> str:
    for prefix in _WORKDIRS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return path[len(prefix) :]
    return path.lstrip("/")


def _key_value(fields_: Mapping[str, str], rule: str) -> str:
    for name in KEY_FIELDS:
        if fields_.get(name):
            return f"{name}={fields_[name]}"
    if fields_.get("file"):
        return f"file={Path(fields_['file']).name}:{fields_.get('line', '')}"
    return f"rule={rule}"


# --------------------------------------------------------------------------- per service


def _service_frame(
    logs: pl.DataFrame, events: pl.DataFrame, services: list[str], data_end: datetime | None
) -> pl.DataFrame:
    """One row per service: errors, health intervals, restarts, final state (all vectorised)."""
    base = pl.DataFrame({"service": services}, schema={"service": pl.String})
    errors = (
        logs.filter(pl.col("level").is_in([Level.ERROR.value, Level.FATAL.value]))
        .group_by("service")
        .agg(pl.len().cast(pl.Int64).alias("errors"))
    )
    end = pl.lit(data_end, dtype=pl.Datetime("ns", "UTC"))
    health = (
        events.filter(
            (pl.col("action") == EventAction.HEALTH_STATUS.value) & pl.col("ts").is_not_null()
        )
        .sort("container", "ts", "seq")
        .with_columns(pl.col("ts").shift(-1).over("container").fill_null(end).alias("_next"))
    )
    unhealthy = pl.col("status") == "unhealthy"
    last_bad = pl.col("ts").filter(unhealthy).max()
    health_agg = health.group_by("service").agg(
        pl.col("ts").filter(unhealthy).min().alias("first_unhealthy"),
        pl.col("ts")
        .filter((pl.col("status") == "healthy") & (pl.col("ts") > last_bad))
        .min()
        .alias("recovered_at"),
        (pl.col("_next") - pl.col("ts"))
        .filter(unhealthy)
        .dt.total_milliseconds()
        .sum()
        .truediv(1000.0)
        .alias("unhealthy_seconds"),
        pl.col("status").sort_by("ts", "seq").last().cast(pl.String).alias("last_health"),
    )
    probes = (
        events.filter(
            (pl.col("action") == EventAction.PROBE.value) & (pl.col("exit_code").fill_null(0) != 0)
        )
        .group_by("service")
        .agg(pl.col("ts").min().alias("first_failed_probe"))
    )
    lifecycle = events.group_by("service").agg(
        (pl.col("action") == EventAction.START.value).sum().cast(pl.Int64).alias("_starts"),
        (pl.col("action") == EventAction.DIE.value).sum().cast(pl.Int64).alias("_dies"),
        pl.col("restart_count").max().cast(pl.Int64).alias("_restart_count"),
        pl.col("action")
        .filter(pl.col("action").is_in([EventAction.START.value, EventAction.DIE.value]))
        .sort_by(pl.col("ts").filter(pl.col("action").is_in(["start", "die"])))
        .last()
        .cast(pl.String)
        .alias("_last_lifecycle"),
    )
    snaps = events.filter(pl.col("action") == EventAction.SNAPSHOT.value)
    snap_agg = snaps.group_by("service").agg(
        pl.col("output").filter(pl.col("ts").is_null()).last().alias("_ps_text"),
        pl.col("output").filter(pl.col("ts").is_not_null()).last().alias("_inspect_text"),
        pl.col("status").drop_nulls().cast(pl.String).last().alias("_snap_health"),
    )
    frame = (
        base.join(errors, on="service", how="left")
        .join(health_agg, on="service", how="left")
        .join(probes, on="service", how="left")
        .join(lifecycle, on="service", how="left")
        .join(snap_agg, on="service", how="left")
    )
    text = pl.coalesce("_ps_text", "_inspect_text").fill_null("")
    lower = text.str.to_lowercase()
    health_now = pl.coalesce("_snap_health", "last_health")
    state = (
        pl.when(lower.str.contains("restarting"))
        .then(pl.lit("restarting"))
        .when(lower.str.contains(r"exited|dead") | (pl.col("_last_lifecycle") == "die"))
        .then(pl.lit("exited"))
        .when((health_now == "unhealthy") | lower.str.contains(r"\(unhealthy\)"))
        .then(pl.lit("unhealthy"))
        .when(health_now == "healthy")
        .then(pl.lit("healthy"))
        .when(lower.str.contains(r"^up\b|running") | (pl.col("_last_lifecycle") == "start"))
        .then(pl.lit("running"))
        .otherwise(pl.lit("unknown"))
    )
    restarts = pl.max_horizontal(
        pl.col("_restart_count").fill_null(0), (pl.col("_starts").fill_null(0) - 1).clip(0)
    )
    return frame.with_columns(
        state.alias("state"),
        text.alias("state_text"),
        restarts.alias("restarts"),
        pl.col("errors").fill_null(0),
        pl.col("unhealthy_seconds").fill_null(0.0),
        pl.coalesce("first_unhealthy", "first_failed_probe").alias("first_unhealthy"),
    ).select(
        "service",
        "state",
        "state_text",
        "restarts",
        "errors",
        "first_unhealthy",
        "recovered_at",
        "unhealthy_seconds",
        "_dies",
    )


def _peak(
    health_intervals: pl.DataFrame,
) -> tuple[int, datetime | None]:
    """Most services failing at once (sweep over +1/-1 at interval ends)."""
    if health_intervals.is_empty():
        return 0, None
    deltas = pl.concat(
        [
            health_intervals.select(pl.col("start").alias("ts"), pl.lit(1).alias("d")),
            health_intervals.select(pl.col("end").alias("ts"), pl.lit(-1).alias("d")),
        ]
    ).sort("ts", "d")
    swept = deltas.with_columns(pl.col("d").cum_sum().alias("n"))
    best = swept.sort("n", "ts", descending=[True, False]).row(0, named=True)
    return int(best["n"]), best["ts"]


# --------------------------------------------------------------------------- excerpts


def _excerpts(
    first_rows: pl.DataFrame, logs: pl.DataFrame, findings: pl.DataFrame, redact: bool
) -> dict[tuple[str, str], Excerpt]:
    """An excerpt per (service, rule) in `first_rows` (columns service, rule, id, source, container)."""
    out: dict[tuple[str, str], Excerpt] = {}
    text = redact_expr("message") if redact else pl.col("message")
    for row in first_rows.iter_rows(named=True):
        service, rule, source, container = (
            row["service"],
            row["rule"],
            row["source"],
            row["container"],
        )
        if source == "logs":
            stream = (
                logs.filter(pl.col("container") == row["log_container"])
                .sort("ts", "seq", nulls_last=True)
                .with_row_index("_i")
            )
            hit = stream.filter(pl.col("id") == row["id"]).get_column("_i")
            if hit.is_empty():
                continue
            i = int(hit[0])
            window = stream.slice(max(0, i - EXCERPT_BEFORE), EXCERPT_BEFORE + EXCERPT_AFTER + 1)
            window = window.with_columns(text.alias("message"), (pl.col("_i") == i).alias("_m"))
            container = row["log_container"]
        else:
            window = (
                findings.filter((pl.col("service") == service) & (pl.col("rule") == rule))
                .sort("ts", "seq", nulls_last=True)
                .head(3)
                .with_columns(text.alias("message"), pl.lit(True).alias("_m"))
            )
        lines: list[ExcerptLine] = []
        for rec in window.select("ts", "message", "_m").iter_rows(named=True):
            parts = (rec["message"] or "").rstrip().split("\n")
            if len(parts) > RECORD_HEAD + RECORD_TAIL + 1:
                skipped = len(parts) - RECORD_HEAD - RECORD_TAIL
                parts = [*parts[:RECORD_HEAD], f"… ({skipped} lines)", *parts[-RECORD_TAIL:]]
            for j, part in enumerate(parts):
                cut = part if len(part) <= EXCERPT_LINE_CHARS else part[:EXCERPT_LINE_CHARS] + " …"
                lines.append(ExcerptLine(rec["ts"] if j == 0 else None, cut, bool(rec["_m"])))
        out[(service, rule)] = Excerpt(
            service=service,
            container=container or "",
            rule=rule,
            source=source,
            lines=lines[:EXCERPT_MAX_LINES],
        )
    return out


# --------------------------------------------------------------------------- issues


@dataclass
class _Unit:
    """The findings of one service for one category: the building block of an issue."""

    service: str
    category: str
    rows: list[dict[str, Any]]

    @property
    def primary(self) -> dict[str, Any]:
        return self.rows[0]

    @property
    def first_seen(self) -> datetime | None:
        seen = [r["first_seen"] for r in self.rows if r["first_seen"] is not None]
        return min(seen) if seen else None


def _code_frames(findings: pl.DataFrame) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(service, rule) -> (file, line, source line) of the innermost app frame with code."""
    frames = (
        findings.filter(pl.col("message").str.contains('File "', literal=True))
        .sort("ts", "seq", nulls_last=True)
        .select(
            "service",
            "rule",
            pl.col("message")
            .str.extract_all(_PY_FRAME_CODE)
            .list.eval(pl.element().filter(~pl.element().str.contains(_PY_LIBRARY)))
            .list.last()
            .str.extract_groups(_PY_FRAME_CODE_GROUPS)
            .alias("_f"),
        )
        .unnest("_f")
        .drop_nulls("code")
        .unique(subset=["service", "rule"], keep="first")
    )
    return {
        (r["service"], r["rule"]): (r["file"], r["line"], r["code"].strip())
        for r in frames.iter_rows(named=True)
    }


def _problem_and_fix(
    category: str,
    services: list[str],
    primary: dict[str, Any],
    flds: dict[str, str],
    code: tuple[str, str, str] | None,
    probe: bool,
    configs: Mapping[str, ContainerConfig],
    known_services: set[str],
) -> tuple[str, str, str, str]:
    """(problem, root cause, fix, fix kind) as Markdown, from the category and fields."""
    who = join_names([md_text(s) for s in services])
    title = md_markup(primary["title"])
    fix: str = md_markup(primary["remediation"])
    kind = str(primary["fix"])
    problem = f"{title} ({who})"
    evidence_text = str(primary["evidence"] or "")
    first_line = evidence_text.strip().splitlines()[0] if evidence_text.strip() else ""
    cause = f"{title}; first evidence: {md_code(first_line)}." if first_line else f"{title}."
    if category == Category.MISSING_BINARY.value and flds.get("binary"):
        binary = md_code(flds["binary"])
        if probe:
            problem = f"The health check of {who} cannot run: {binary} is missing from the image"
            probes = sorted(
                {c.healthcheck for s in services if (c := configs.get(s)) and c.healthcheck}
            )
            shown = f" ({', '.join(md_code(t) for t in probes)})" if probes else ""
            cause = (
                f"The health-check command{shown} runs {binary}, which the image does not ship, "
                f"so every probe fails ({md_code(first_line)}) whatever the state of the application."
            )
            built = [configs[s].built_here for s in services if s in configs]
            if built and all(b is False for b in built):
                images = join_names(
                    [md_code(str(configs[s].image)) for s in services if configs[s].image]
                )
                fix = (
                    f"The image ({images}) is not built here, so change the probe: use one the "
                    "image ships, such as `nc -z localhost PORT` "
                    '(`test: ["CMD-SHELL", "nc -z localhost PORT || exit 1"]`) or the '
                    "application's own health command, in the service's `healthcheck:`."
                )
                kind = "change-config"
            else:
                name = flds["binary"]
                safe = re.fullmatch(r"[A-Za-z0-9._+-]+", name) is not None
                install = (
                    f" (`RUN apk add --no-cache {name}` on Alpine, `RUN apt-get update && "
                    f"apt-get install -y --no-install-recommends {name}` on Debian)"
                    if safe
                    else ""
                )
                fix = (
                    f"Add {binary} to the image{install} and rebuild; or switch the probe to a "
                    "tool the image ships, such as `nc -z localhost PORT`."
                )
                kind = "rebuild-image"
        else:
            problem = f"{binary} is not found in the container of {who}"
            cause = (
                f"A command runs {binary}, which is not installed in the image "
                f"({md_code(first_line)})."
            )
    elif category == Category.EVENT_LOOP_CONFLICT.value and code is not None:
        file, line, src = code
        where = md_code(f"{_source_hint(file)}:{line}")
        if "uvicorn.run(" in src:
            cause = (
                f"{where} runs {md_code('await uvicorn.run(...)')} inside an event loop that is "
                "already running: `uvicorn.run()` starts its own loop with `asyncio.run()`, "
                "which raises `RuntimeError: asyncio.run() cannot be called from a running "
                "event loop`, so the process exits"
                + " (and the coroutine `Server.serve` is never awaited)."
            )
            fix = (
                "Start uvicorn inside the running loop: "
                "`server = uvicorn.Server(uvicorn.Config(app, host=..., port=...))`, "
                "then `await server.serve()`."
            )
        elif "asyncio.run(" in src:
            inner = re.sub(r"^.*?asyncio\.run\((.*)\)\s*$", r"\1", src)
            cause = (
                f"{where} calls {md_code(src)} from code that already runs in an event loop; "
                "`asyncio.run()` refuses to start a second loop, so the call fails every time."
            )
            fix = (
                f"{md_code('await ' + inner)} instead of {md_code('asyncio.run(' + inner + ')')} "
                "(the caller is already async), then restart the service."
            )
        else:
            cause = f"{where}: {md_code(src)}: {title}."
        kind = "change-code"
    elif category == Category.DNS_RESOLUTION.value and flds.get("host"):
        host = md_code(flds["host"])
        problem = f"{who} cannot resolve the host name {host}"
        if known_services and flds["host"] not in known_services:
            cause = (
                f"{host} is not a service of this stack (services in the compose file: "
                f"{', '.join(md_text(k) for k in sorted(known_services))}); the configuration "
                "still names it."
            )
            fix = (
                f"Point the configuration of {who} at the right service name (or give the "
                f"service that replaced it the network alias {host}), then recreate."
            )
        kind = "change-config"
    elif category == Category.OOM_KILLED.value:
        problem = f"{who} ran out of memory and was killed by the kernel OOM killer"
    return problem, cause, fix, kind


def _impact(
    services: list[str],
    stats: Mapping[str, dict[str, Any]],
    symptoms: list[Symptom],
    data_end: datetime | None,
) -> str:
    parts: list[str] = []
    for s in services:
        st = stats.get(s)
        if st is None:
            continue
        bits: list[str] = []
        if st["first_unhealthy"] is not None:
            if st["recovered_at"] is not None:
                bits.append(
                    f"unhealthy from {clock(st['first_unhealthy'])} to {clock(st['recovered_at'])}"
                )
            else:
                bits.append(
                    f"unhealthy from {clock(st['first_unhealthy'])} to the end of the evidence "
                    f"({format_duration(st['unhealthy_seconds'])})"
                )
        if st["restarts"]:
            bits.append(plural(st["restarts"], "restart"))
        if st["errors"]:
            bits.append(plural(st["errors"], "error record"))
        if st["state"] in ("restarting", "exited", "unhealthy"):
            bits.append(f"{st['state']} at the end")
        if bits:
            parts.append(f"{md_text(s)}: {', '.join(bits)}")
    others = sorted({y.service for y in symptoms if y.service not in services})
    if others:
        parts.append(f"downstream: {join_names([md_text(o) for o in others])} affected")
    return "; ".join(parts) + "." if parts else "No service was unhealthy or restarted."


def _resolved_at(
    services: list[str],
    last_seen: datetime | None,
    stats: Mapping[str, dict[str, Any]],
    events: pl.DataFrame,
    window_end: datetime | None,
) -> datetime | None:
    """When an issue stopped: its services end healthy/running, quiet for STABLE_AFTER."""
    if last_seen is None or window_end is None or window_end - last_seen < STABLE_AFTER:
        return None
    if not all(stats.get(s, {}).get("state") in ("healthy", "running") for s in services):
        return None
    back = events.filter(
        pl.col("service").is_in(services)
        & (pl.col("action") == EventAction.HEALTH_STATUS.value)
        & (pl.col("status") == "healthy")
        & (pl.col("ts") > last_seen)
    ).get_column("ts")
    healthy_again = back.min()
    return healthy_again if isinstance(healthy_again, datetime) else last_seen


def build_incident(
    evidence: Evidence,
    findings: pl.DataFrame,
    summary: pl.DataFrame,
    *,
    now: datetime | None = None,
    redact: bool = True,
    focus: Sequence[str] = (),
) -> Incident:
    """The incident model from the evidence and the detection findings/summary."""
    logs, events = evidence.logs, evidence.events
    now = now or datetime.now(UTC)
    if redact:
        findings = findings.with_columns(redact_expr("message"))
        summary = summary.with_columns(
            redact_expr("title"),
            redact_expr("remediation"),
            redact_expr("evidence"),
            redact_expr("fields"),
        )
        events = events.with_columns(redact_expr("output"))
    ts_all = pl.concat([logs.select("ts"), events.select("ts")]).get_column("ts").drop_nulls()
    window_start: datetime | None = ts_all.min()  # type: ignore[assignment]
    window_end: datetime | None = ts_all.max()  # type: ignore[assignment]
    # With a compose file, its services are the stack (plus any the engine reported).
    from_logs = set(logs.get_column("service").drop_nulls().unique().to_list())
    services = sorted(
        (
            (set(evidence.compose_services) if evidence.compose_services else from_logs)
            | set(events.get_column("service").drop_nulls().unique().to_list())
        )
        - {"compose"}
    )
    projects = sorted(
        set(logs.get_column("project").drop_nulls().unique().to_list())
        | set(events.get_column("project").drop_nulls().unique().to_list())
    )
    svc = _service_frame(logs, events, services, window_end)
    stats = {r["service"]: r for r in svc.iter_rows(named=True)}

    # Configs are keyed by container name (inspect) or service (compose): map to services.
    configs: dict[str, ContainerConfig] = {}
    containers = (
        pl.concat([logs.select("container", "service"), events.select("container", "service")])
        .drop_nulls()
        .unique()
    )
    by_container = dict(containers.iter_rows())
    engine_names = (
        events.select("service", "container")
        .drop_nulls()
        .unique()
        .group_by("service")
        .agg(pl.col("container").sort())
    )
    names_of: dict[str, list[str]] = dict(engine_names.iter_rows())
    for key, conf in evidence.configs.items():
        configs[by_container.get(key, key)] = conf

    rows = [
        r | {"fields": json.loads(r["fields"])}
        for r in summary.filter(pl.col("service") != "compose").iter_rows(named=True)
    ]
    rows.sort(
        key=lambda r: (-_sev(r["severity"]), r["first_seen"] or datetime.max.replace(tzinfo=UTC))
    )

    # Units: a service's findings of one category.
    units: dict[tuple[str, str], _Unit] = {}
    for r in rows:
        units.setdefault(
            (r["service"], r["category"]), _Unit(r["service"], r["category"], [])
        ).rows.append(r)

    # Transient services: only health/transient findings and healthy again at the end.
    transient: set[str] = set()
    for s in services:
        mine = [u for (svc_, _), u in units.items() if svc_ == s]
        if not mine:
            continue
        st = stats.get(s, {})
        only_soft = all(
            u.category in SYMPTOM_CATEGORIES or all(r["transient"] for r in u.rows) for u in mine
        )
        crash = any(u.category == Category.CRASH_LOOP.value for u in mine)
        if (
            only_soft
            and not crash
            and st.get("state") in ("healthy", "running", "unknown")
            and (st.get("first_unhealthy") is None or st.get("recovered_at") is not None)
        ):
            transient.add(s)

    def upstream_of(unit: _Unit) -> str | None:
        if unit.category not in REMOTE_CATEGORIES:
            return None
        for r in unit.rows:
            host = r["fields"].get("host")
            if host and host != unit.service:
                from incidentlog.detect import service_of_container

                target = service_of_container(host, services, by_container, projects)
                if target in services and target != unit.service:
                    return target
        return None

    cause_units = [
        u
        for u in units.values()
        if u.service not in transient
        and u.category not in SYMPTOM_CATEGORIES
        and not all(r["transient"] for r in u.rows)
    ]
    # Remote failures pointing at a service that has its own cause are that cause's symptoms.
    services_with_cause = {u.service for u in cause_units if upstream_of(u) is None}

    def failing(target: str) -> bool:
        return target in services_with_cause or bool(target in stats and stats[target]["restarts"])

    remote_symptoms: list[tuple[_Unit, str, str]] = []
    kept: list[_Unit] = []
    for u in cause_units:
        target = upstream_of(u)
        if target is not None and failing(target):
            remote_symptoms.append((u, target, f"host {u.primary['fields'].get('host', target)}"))
            continue
        # a refusal that names no host ("the database system is starting up"),
        # from a service that depends on exactly one failing service: that one's
        unnamed = u.category in REMOTE_CATEGORIES and not any(
            r["fields"].get("host") for r in u.rows
        )
        upstream = [d for d in evidence.depends_on.get(u.service, ()) if d != u.service]
        failing_upstream = [d for d in upstream if failing(d)]
        if unnamed and len(failing_upstream) == 1:
            remote_symptoms.append((u, failing_upstream[0], f"depends_on {failing_upstream[0]}"))
        else:
            kept.append(u)
    # Services with only symptoms (unhealthy, crash loop) and no cause: the symptom is the issue.
    causeless = sorted(
        {u.service for u in units.values() if u.service not in transient}
        - {u.service for u in kept}
        - {u.service for u, _, _ in remote_symptoms}
    )
    for s in causeless:
        soft = [u for u in units.values() if u.service == s and u.category in SYMPTOM_CATEGORIES]
        soft.sort(
            key=lambda u: (u.category != Category.CRASH_LOOP.value, -_sev(u.primary["severity"]))
        )
        if soft:
            kept.append(soft[0])

    groups: dict[tuple[str, str], list[_Unit]] = {}
    for u in kept:
        gkey = (u.category, _key_value(u.primary["fields"], u.primary["rule"]))
        groups.setdefault(gkey, []).append(u)

    code_frames = _code_frames(findings)
    first_ids = (
        findings.sort("ts", "seq", nulls_last=True)
        .unique(subset=["service", "rule"], keep="first")
        .join(logs.select("id", pl.col("container").alias("log_container")), on="id", how="left")
        .select("service", "rule", "id", "source", "container", "log_container")
    )

    issues_raw: list[dict[str, Any]] = []
    for (category, _key), members in groups.items():
        members.sort(
            key=lambda u: (-_sev(u.primary["severity"]), u.first_seen or window_end or now)
        )
        svcs = sorted({u.service for u in members})
        all_rows = [r for u in members for r in u.rows]
        primary = max(
            all_rows, key=lambda r: (_sev(r["severity"]), -(r["first_seen"] or now).timestamp())
        )
        seen = [r["first_seen"] for r in all_rows if r["first_seen"] is not None]
        last = [r["last_seen"] for r in all_rows if r["last_seen"] is not None]
        for (us, cat), unit in units.items():
            if us in svcs and cat in SYMPTOM_CATEGORIES and unit.first_seen is not None:
                seen.append(unit.first_seen)
        symptoms: list[Symptom] = []
        for s in svcs:
            for (us, cat), unit in units.items():
                if us == s and cat != category and cat in SYMPTOM_CATEGORIES:
                    p = unit.primary
                    symptoms.append(
                        Symptom(
                            s,
                            cat,
                            md_markup(p["title"]),
                            sum(r["count"] for r in unit.rows),
                            unit.first_seen,
                            "same service",
                        )
                    )
        for unit, target, via in remote_symptoms:
            if target in svcs:
                p = unit.primary
                symptoms.append(
                    Symptom(
                        unit.service,
                        unit.category,
                        md_markup(p["title"]),
                        sum(r["count"] for r in unit.rows),
                        unit.first_seen,
                        via,
                    )
                )
        issues_raw.append(
            {
                "category": category,
                "members": members,
                "services": svcs,
                "rows": all_rows,
                "primary": primary,
                "first_seen": min(seen) if seen else None,
                "last_seen": max(last) if last else None,
                "symptoms": symptoms,
            }
        )

    # depends_on: dependants of an issue's services that show trouble during it are symptoms.
    dependants: dict[str, set[str]] = {}
    for s, deps in evidence.depends_on.items():
        for d in deps:
            dependants.setdefault(d, set()).add(s)
    issue_services = {s for i in issues_raw for s in i["services"]}
    for ri in issues_raw:
        listed = {y.service for y in ri["symptoms"]} | set(ri["services"])
        todo = [(s, d) for s in ri["services"] for d in sorted(dependants.get(s, ()))]
        while todo:
            up, down = todo.pop(0)
            if down in listed or down in issue_services:
                continue
            listed.add(down)
            start, stop = ri["first_seen"], ri["last_seen"]
            errs = logs.filter(pl.col("service") == down)
            errs = errs.filter(pl.col("level").is_in([Level.ERROR.value, Level.FATAL.value]))
            if start is not None and stop is not None:
                errs = errs.filter(
                    pl.col("ts").is_between(start - DOWNSTREAM_SLACK, stop + DOWNSTREAM_SLACK)
                )
            n = errs.height
            silent = (
                logs.filter(pl.col("service") == down).is_empty()
                and events.filter(pl.col("service") == down).is_empty()
            )
            if silent:
                ri["symptoms"].append(
                    Symptom(
                        down,
                        "not-started",
                        "no output and no container events: it never started",
                        0,
                        None,
                        f"depends_on {up}",
                    )
                )
            elif n:
                first = errs.get_column("ts").min()
                ri["symptoms"].append(
                    Symptom(
                        down,
                        "errors",
                        f"{plural(n, 'error record')} while {md_text(up)} was failing",
                        n,
                        first,  # type: ignore[arg-type]
                        f"depends_on {up}",
                    )
                )
            todo.extend((down, d) for d in sorted(dependants.get(down, ())))

    # Rank: what came first, then how far it reaches.
    def order(ri: dict[str, Any]) -> tuple[Any, ...]:
        seqs = [
            s
            for s in findings.filter(
                pl.col("service").is_in(ri["services"])
                & pl.col("rule").is_in([r["rule"] for r in ri["rows"]])
            )
            .get_column("seq")
            .to_list()
        ]
        return (
            ri["first_seen"] or datetime.max.replace(tzinfo=UTC),
            min(seqs) if seqs else 0,
            -len(ri["symptoms"]),
        )

    issues_raw.sort(key=order)
    excerpts = _excerpts(
        first_ids.join(
            pl.DataFrame(
                [
                    {"service": u.service, "rule": u.primary["rule"]}
                    for i in issues_raw
                    for u in i["members"][:3]
                ],
                schema={"service": pl.String, "rule": pl.String},
                orient="row",
            ),
            on=["service", "rule"],
            how="semi",
        ),
        logs,
        findings,
        redact,
    )

    issues: list[Issue] = []
    file_refs: list[FileRef] = []
    for n, raw in enumerate(issues_raw, start=1):
        primary = raw["primary"]
        svcs = raw["services"]
        category = raw["category"]
        flds = {k: str(v) for k, v in primary["fields"].items()}
        code = None
        for u in raw["members"]:
            for r in u.rows:
                code = code or code_frames.get((u.service, r["rule"]))
        probe = any(r["source"] == "probe" for r in raw["rows"])
        problem, cause, fix, kind = _problem_and_fix(
            category, svcs, primary, flds, code, probe, configs, set(evidence.compose_services)
        )
        own = {y.category for y in raw["symptoms"] if y.service in svcs}
        if category not in (Category.MISSING_BINARY.value, Category.DNS_RESOLUTION.value):
            who = join_names([md_text(x) for x in svcs])
            restarts = max((stats[x]["restarts"] for x in svcs if x in stats), default=0)
            if Category.CRASH_LOOP.value in own and restarts > RESTARTS_LISTED:
                problem = f"{who} keeps crashing: {md_markup(primary['title'])}"
            elif Category.CRASH_LOOP.value in own:
                problem = f"{who} crashed and restarted: {md_markup(primary['title'])}"
            elif Category.HEALTHCHECK_FAILED.value in own:
                problem = f"{who} unhealthy: {md_markup(primary['title'])}"
        refs: list[FileRef] = []
        seen_files: set[str] = set()
        for u in raw["members"]:
            for r in u.rows:
                cf = code_frames.get((u.service, r["rule"]))
                f, line = (
                    (cf[0], cf[1]) if cf else (r["fields"].get("file"), r["fields"].get("line"))
                )
                if f and line and f"{f}:{line}" not in seen_files and r["category"] == category:
                    seen_files.add(f"{f}:{line}")
                    refs.append(
                        FileRef(
                            f"{f}:{line}",
                            f"{_source_hint(f)}:{line}",
                            [u.service],
                            n,
                            cf[2] if cf else None,
                        )
                    )
        if category == Category.MISSING_BINARY.value:
            if kind == "rebuild-image":
                refs.append(FileRef("Dockerfile", f"install `{flds.get('binary', '')}`", svcs, n))
            if probe:
                refs.append(
                    FileRef("docker-compose.yml", "`healthcheck:` (the probe command)", svcs, n)
                )
        elif kind == "change-config":
            refs.append(
                FileRef("docker-compose.yml", "service configuration / environment", svcs, n)
            )
        file_refs.extend(refs)
        why: list[str] = []
        if raw["first_seen"] is not None:
            why.append(f"first evidence at {clock(raw['first_seen'])}")
        elif n == 1:
            why.append("first in the input (no timestamps)")
        downstream = sorted({y.service for y in raw["symptoms"] if y.service not in svcs})
        if downstream:
            why.append(f"upstream of {join_names(downstream)}")
        resolved_at = _resolved_at(svcs, raw["last_seen"], stats, events, window_end)
        issues.append(
            Issue(
                id=n,
                rank=n,
                category=category,
                severity=str(primary["severity"]),
                title=primary["title"],
                services=svcs,
                containers=sorted(
                    {c for x in svcs for c in names_of.get(x, [])}
                    or {c for r in raw["rows"] for c in r["containers"]}
                ),
                problem=problem,
                root_cause=cause,
                fix=fix,
                fix_kind=kind,
                impact=_impact(svcs, stats, raw["symptoms"], window_end),
                first_seen=raw["first_seen"],
                last_seen=raw["last_seen"],
                count=sum(
                    r["count"] for u in raw["members"] for r in u.rows if r["category"] == category
                ),
                rules=sorted({r["rule"] for r in raw["rows"]}),
                fields=flds,
                ranking="; ".join(why) or "in input order (no timestamps)",
                resolved_at=resolved_at,
                ongoing=resolved_at is None,
                symptoms=sorted(raw["symptoms"], key=lambda y: (y.first_seen or now, y.service)),
                evidence=[
                    excerpts[(u.service, u.primary["rule"])]
                    for u in raw["members"][:3]
                    if (u.service, u.primary["rule"]) in excerpts
                ],
                files=refs,
            )
        )

    # Service states.
    issue_of: dict[str, list[int]] = {}
    for issue in issues:
        for s in issue.services:
            issue_of.setdefault(s, []).append(issue.id)
        for y in issue.symptoms:
            if y.service not in issue.services:
                issue_of.setdefault(y.service, []).append(issue.id)
    finding_count = {
        s: sum(u_.primary["count"] for (us, _), u_ in units.items() if us == s) for s in services
    }
    states: list[ServiceState] = []
    open_issue = {x for i in issues if i.ongoing for x in i.services}
    open_symptoms = {y.service for i in issues if i.ongoing for y in i.symptoms}
    for s in services:
        st = stats[s]
        ids = issue_of.get(s, [])
        bad_state = st["state"] in ("unhealthy", "restarting") or (
            st["state"] == "exited" and bool(ids)
        )
        attention = (
            bad_state
            or s in open_issue
            or (s in open_symptoms and st["state"] not in ("healthy", "running"))
        )
        reason = ""
        if attention:
            reason = st["state"] + (f"; issue {', '.join(f'#{i}' for i in ids)}" if ids else "")
        elif ids:
            reason = "recovered; issue " + ", ".join(f"#{i}" for i in ids)
        elif s in transient:
            reason = "recovered on its own"
        states.append(
            ServiceState(
                name=s,
                state=st["state"],
                state_text=st["state_text"],
                needs_attention=attention,
                reason=reason,
                first_unhealthy=st["first_unhealthy"],
                recovered_at=st["recovered_at"],
                unhealthy_seconds=float(st["unhealthy_seconds"]),
                restarts=int(st["restarts"]),
                errors=int(st["errors"]),
                findings=finding_count.get(s, 0),
                issues=issue_of.get(s, []),
                transient=s in transient,
            )
        )
    by_name = {s.name: s for s in states}

    in_issues = sorted({s for i in issues for s in i.services})
    crash_looping = sorted(s for s in in_issues if (s, Category.CRASH_LOOP.value) in units)
    unhealthy = sorted(
        s
        for s in services
        if by_name[s].first_unhealthy is not None or by_name[s].state == "unhealthy"
    )
    affected = sorted(
        set(unhealthy)
        | set(crash_looping)
        | set(in_issues)
        | {y.service for i in issues for y in i.symptoms if y.service in by_name}
    )
    recovered = sorted(s for s in transient if by_name[s].first_unhealthy is not None)
    healthy = sorted(
        s.name for s in states if not s.needs_attention and s.state in ("healthy", "running")
    )
    needs = sorted(s.name for s in states if s.needs_attention)

    # Timeline.
    timeline: list[TimelineEntry] = []
    gantt: list[GanttBar] = []
    if window_start is not None:
        timeline.append(TimelineEntry(window_start, "", "start", "evidence begins"))
    for issue in issues:
        timeline.append(
            TimelineEntry(
                issue.first_seen,
                join_names(issue.services),
                "first-error",
                f"first evidence of issue #{issue.id}: {issue.title}",
            )
        )
    dies = events.filter(pl.col("action") == EventAction.DIE.value)
    ooms = events.filter(pl.col("action") == EventAction.OOM.value)
    for s in sorted(
        set(affected) | set(recovered) | {y.service for i in issues for y in i.symptoms}
    ):
        sv = by_name.get(s)
        if sv is None:
            continue
        if sv.first_unhealthy is not None:
            timeline.append(
                TimelineEntry(
                    sv.first_unhealthy, s, "first-unhealthy", "health check failing: unhealthy"
                )
            )
            end = sv.recovered_at or window_end
            if end is not None:
                gantt.append(
                    GanttBar(
                        s,
                        "unhealthy" + (" (recovered)" if sv.recovered_at else ""),
                        "done" if sv.recovered_at else "crit",
                        sv.first_unhealthy,
                        end,
                    )
                )
        if sv.recovered_at is not None:
            timeline.append(TimelineEntry(sv.recovered_at, s, "recovered", "healthy again"))
        died = dies.filter(pl.col("service") == s).sort("ts", "seq")
        for oom_ts in ooms.filter(pl.col("service") == s).sort("ts").get_column("ts").to_list():
            timeline.append(TimelineEntry(oom_ts, s, "oom", "kernel OOM killer hit the container"))
        if died.height and died.height <= RESTARTS_LISTED:
            for die_ts, code in died.select("ts", "exit_code").iter_rows():
                timeline.append(
                    TimelineEntry(
                        die_ts,
                        s,
                        "restart",
                        f"container exited with code {code}"
                        + (", restarted" if sv.restarts else ""),
                    )
                )
        elif died.height > RESTARTS_LISTED:
            t0, t1 = died.get_column("ts").min(), died.get_column("ts").max()
            gap = died.get_column("ts").diff().dt.total_seconds().median()
            codes = ", ".join(
                str(c) for c in died.get_column("exit_code").drop_nulls().unique().sort().to_list()
            )
            every = f", restarted about every {round(gap)} s" if isinstance(gap, float) else ""
            if isinstance(t0, datetime) and isinstance(t1, datetime):
                timeline.append(
                    TimelineEntry(
                        t0,
                        s,
                        "crash-loop",
                        f"crash loop: exited {died.height} times (exit code {codes}) "
                        f"until {clock(t1)}{every}",
                    )
                )
            if isinstance(t0, datetime) and isinstance(t1, datetime):
                gantt.append(GanttBar(s, f"crash loop ({sv.restarts} restarts)", "crit", t0, t1))
    if window_end is not None:
        timeline.append(
            TimelineEntry(
                window_end,
                "",
                "end",
                f"evidence ends: {len(needs)} services need attention"
                if needs
                else "evidence ends: all services healthy",
            )
        )
    timeline.sort(key=lambda e: (e.ts or datetime.max.replace(tzinfo=UTC), e.kind != "start"))
    with_bars = {b.section for b in gantt}
    for issue in issues:
        if issue.first_seen is None or window_end is None:
            continue
        for x in issue.services:
            if x not in with_bars:
                gantt.append(
                    GanttBar(
                        x,
                        f"issue {issue.id}: {issue.category}",
                        "crit" if issue.ongoing else "done",
                        issue.first_seen,
                        issue.resolved_at or window_end,
                    )
                )
    for issue in issues:
        if issue.first_seen is not None:
            gantt.append(
                GanttBar(
                    "milestones",
                    f"issue {issue.id} first error",
                    "milestone",
                    issue.first_seen,
                    issue.first_seen,
                )
            )

    # Times.
    started = min((i.first_seen for i in issues if i.first_seen is not None), default=None)
    first_unhealthy = min(
        (
            t
            for s in affected
            if s not in transient and (t := by_name[s].first_unhealthy) is not None
        ),
        default=None,
    )
    delay = (first_unhealthy - started).total_seconds() if started and first_unhealthy else None
    ongoing = any(i.ongoing for i in issues) or bool(needs)
    ended = (
        None
        if ongoing
        else max((i.resolved_at for i in issues if i.resolved_at is not None), default=None)
    )
    duration = None
    if started is not None:
        stop = window_end if ongoing else ended
        duration = (stop - started).total_seconds() if stop else None

    # Thresholds: the peak of concurrently failing services.
    intervals = [(b.start, b.end) for b in gantt if b.tag != "milestone" and b.section in affected]
    frame = pl.DataFrame(
        intervals,
        schema={"start": pl.Datetime("ns", "UTC"), "end": pl.Datetime("ns", "UTC")},
        orient="row",
    )
    peak, peak_at = _peak(frame)
    peak = max(peak, 0)
    total = max(len(services), 1)
    share = peak / total
    restart_total = sum(by_name[s].restarts for s in services)
    timeouts = summary.filter(pl.col("category") == Category.TIMEOUT.value).height
    thresholds = [
        Threshold(
            "critical",
            "more than 50 % of services unhealthy",
            f"peak {peak} of {len(services)} services failing ({share * 100:.0f} %)"
            + (f" at {clock(peak_at)}" if peak_at else ""),
            share > 0.5,
        ),
        Threshold(
            "warning",
            "more than 25 % of services unhealthy",
            f"peak {peak} of {len(services)} ({share * 100:.0f} %)",
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
            f"{restart_total} restarts ("
            + ", ".join(f"{s.name} {s.restarts}" for s in states if s.restarts)
            + ")"
            if restart_total
            else "no restarts",
            restart_total > 0,
        ),
    ]

    plan = _action_plan(issues, by_name, configs, affected, needs)
    improvements = _improvements(issues)
    severity = max((i.severity for i in issues), key=_sev, default=None)
    cats: dict[str, list[str]] = {}
    for i in issues:
        cats.setdefault(i.category, []).append(i.fields.get("binary") or join_names(i.services))
    summary_line = (
        _summary_line(cats, issues)
        if issues
        else "No incident found: no failure signatures, every service healthy."
    )
    incident = Incident(
        schema_version=SCHEMA_VERSION,
        generated_at=now,
        found=bool(issues),
        project=", ".join(projects) if projects else None,
        redacted=redact,
        inputs=list(evidence.inputs),
        window_start=window_start,
        window_end=window_end,
        started_at=started,
        first_unhealthy_at=first_unhealthy,
        detection_delay_seconds=delay,
        ended_at=ended,
        ongoing=ongoing and bool(issues),
        duration_seconds=duration,
        summary=summary_line,
        severity=severity,
        services_total=len(services),
        affected=affected if issues else [],
        unhealthy=unhealthy if issues else [],
        crash_looping=crash_looping,
        healthy=healthy,
        needs_attention=needs,
        recovered=recovered,
        transient=sorted(transient),
        peak_failing=peak,
        peak_at=peak_at,
        issues=issues,
        timeline=timeline if issues else [e for e in timeline if e.kind in ("start", "end")],
        gantt=gantt if issues else [],
        services=states,
        thresholds=thresholds,
        action_plan=plan if issues else [],
        files=file_refs,
        improvements=improvements if issues else [],
        notes=list(evidence.notes),
    )
    return _focus(incident, focus) if focus else incident


def _summary_line(cats: Mapping[str, list[str]], issues: list[Issue]) -> str:
    parts: list[str] = []
    for cat, items in cats.items():
        phrase = CATEGORY_PHRASES.get(cat, cat)
        detail = ", ".join(dict.fromkeys(f"`{x}`" if cat == "missing-binary" else x for x in items))
        parts.append(f"{phrase} ({detail})")
    text = join_names(parts)
    return text[:1].upper() + text[1:]


def _action_plan(
    issues: list[Issue],
    states: Mapping[str, ServiceState],
    configs: Mapping[str, ContainerConfig],
    affected: list[str],
    needs: list[str],
) -> list[ActionPhase]:
    by_kind: dict[str, list[Issue]] = {}
    for i in issues:
        by_kind.setdefault(i.fix_kind, []).append(i)
    steps: list[ActionStep] = []
    for kind in _FIX_ORDER:
        group = by_kind.get(kind)
        if not group:
            continue
        svcs = sorted({s for i in group for s in i.services})
        q = _q(svcs)
        refs = ", ".join(f"#{i.id}" for i in group)
        if kind == "rebuild-image":
            what = "; ".join(
                f"add `{i.fields['binary']}` to the image of {join_names(i.services)}"
                if i.fields.get("binary")
                else f"fix the image of {join_names(i.services)}"
                for i in group
            )
            steps.append(
                ActionStep(
                    kind,
                    f"Rebuild the images ({refs}): {what}, then recreate",
                    svcs,
                    [
                        f"docker compose build {q}",
                        f"docker compose up -d {q}",
                    ],
                )
            )
        elif kind == "change-code":
            steps.append(
                ActionStep(
                    kind,
                    f"Fix the code ({refs}), rebuild and recreate",
                    svcs,
                    [
                        f"docker compose build {q}",
                        f"docker compose up -d {q}",
                        "# when the code is mounted from the host instead of built into the image:",
                        f"docker compose restart {q}",
                    ],
                )
            )
        elif kind == "change-config":
            steps.append(
                ActionStep(
                    kind,
                    f"Change the compose configuration ({refs}), then recreate (a restart does not apply compose changes)",
                    svcs,
                    [
                        f"docker compose up -d {q}",
                    ],
                )
            )
        elif kind == "restart":
            steps.append(
                ActionStep(kind, f"Restart ({refs})", svcs, [f"docker compose restart {q}"])
            )
        else:
            steps.append(
                ActionStep(
                    kind,
                    f"Investigate ({refs}): read the last lines before each failure",
                    svcs,
                    [
                        f"docker compose logs --tail 100 {q}",
                    ],
                )
            )
    verify_svcs = sorted({s for i in issues for s in i.services})
    verify = [
        "docker compose ps",
        f"docker compose logs -f --tail 20 {_q(verify_svcs)}",
    ]
    probe_containers = sorted(
        {
            c
            for i in issues
            if i.category in ("missing-binary", "healthcheck-failed")
            or any(states[s].first_unhealthy for s in i.services if s in states)
            for c in i.containers
        }
    )
    for c in probe_containers:
        verify.append(
            f"docker inspect --format {shlex.quote('{{json .State.Health}}')} {shlex.quote(c)}"
        )
    watch = [
        "docker ps --filter health=unhealthy",
        "docker compose ps --status restarting",
        "docker compose logs --since 1h | grep -i error",
    ]
    return [
        ActionPhase("Fix and apply", 15, steps),
        ActionPhase(
            "Verify",
            5,
            [
                ActionStep(
                    "verify",
                    "Every service should be `Up (healthy)` and the errors gone",
                    verify_svcs,
                    verify,
                )
            ],
        ),
        ActionPhase(
            "Watch",
            30,
            [
                ActionStep(
                    "watch",
                    "Until the next status update: unhealthy or restarting containers, new errors",
                    [],
                    watch,
                )
            ],
        ),
    ]


def _improvements(issues: list[Issue]) -> list[Improvement]:
    cats = list(dict.fromkeys(i.category for i in issues))
    for i in issues:
        for y in i.symptoms:
            if y.category in IMPROVEMENTS and y.category not in cats:
                cats.append(y.category)
    out: dict[str, Improvement] = {}
    for cat in cats:
        if cat not in IMPROVEMENTS:
            continue
        title, items = IMPROVEMENTS[cat]
        if title in out:
            out[title].because.append(cat)
        else:
            out[title] = Improvement(title, list(items), [cat])
    title, items = GENERAL_IMPROVEMENTS
    out[title] = Improvement(title, list(items), [])
    return list(out.values())


def _focus(incident: Incident, services: Sequence[str]) -> Incident:
    """Keep the issues and services that touch `services` (the analysis saw everything)."""
    want = set(services)
    issues = [
        i for i in incident.issues if want & (set(i.services) | {y.service for y in i.symptoms})
    ]
    ids = {i.id for i in issues}
    return replace(
        incident,
        found=bool(issues),
        issues=issues,
        services=[s for s in incident.services if s.name in want],
        timeline=[
            e for e in incident.timeline if not e.service or want & set(e.service.split(", "))
        ],
        gantt=[g for g in incident.gantt if g.section in want or g.section == "milestones"],
        files=[f for f in incident.files if f.issue in ids],
        affected=[s for s in incident.affected if s in want],
        needs_attention=[s for s in incident.needs_attention if s in want],
        healthy=[s for s in incident.healthy if s in want],
    )


# --------------------------------------------------------------------------- JSON


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """The incident as JSON-ready data (datetimes as RFC 3339 UTC strings)."""
    from incidentlog.render.plain import to_plain

    out = to_plain(incident)
    assert isinstance(out, dict)
    return out
