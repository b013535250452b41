"""`build_incident`: the evidence and findings in, the `Incident` out, step by step."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final

import polars as pl

from incidentlog.detect import service_of_container
from incidentlog.incident import advice as adv
from incidentlog.incident.excerpts import CodeFrame, code_frames, excerpts
from incidentlog.incident.hints import own_hints
from incidentlog.incident.issues import (
    Cause,
    Units,
    add_dependants,
    causes_of,
    group_units,
    named_hosts,
    never_started,
    rank_causes,
    read_findings,
    severity_rank,
    split_causes,
    transient_services,
    units_of,
    use_engine_streaks,
)
from incidentlog.incident.model import SCHEMA_VERSION, ActionPhase, Excerpt, Incident, Issue
from incidentlog.incident.plan import (
    action_plan,
    compose_cli,
    compose_options,
    for_cli,
    improvements,
)
from incidentlog.incident.podman import PODMAN_CLI, runs_podman
from incidentlog.incident.ports import WELL_KNOWN, loopback_bound, ready_times
from incidentlog.incident.services import Stack, read_stack, service_groups, service_states
from incidentlog.incident.swarm import SWARM_CLI
from incidentlog.incident.timeline import (
    detected_at,
    detection_line,
    gantt_bars,
    incident_times,
    resolved_at,
    thresholds,
    timeline,
)
from incidentlog.incident.users import HttpCounts, http_counts, issue_users, last_lines, users_line
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.ingest.names import compose_mentions, replica_base
from incidentlog.redact import redact_expr
from incidentlog.schema import Category
from incidentlog.sources import Evidence
from incidentlog.text import Code, Prose

__all__ = ["build_incident"]


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
    now = now or datetime.now(UTC)
    stack = _read(evidence, findings, summary, redact=redact)
    units = units_of(read_findings(stack.summary, named_hosts(stack.findings, redact=redact)))
    transient = transient_services(stack, units)
    causes = _causes(stack, units, transient, now)
    http = http_counts(stack.logs, {s: c.healthcheck for s, c in stack.configs.items()})
    issues = _issues(stack, causes, now, http, redact=redact)
    finding_count = {
        s: sum(u.primary.count for (service, _), u in units.items() if service == s)
        for s in stack.services
    }
    states = service_states(stack, issues, transient, finding_count)
    crash_loops = {s for (s, category) in units if category == Category.CRASH_LOOP.value}
    groups = service_groups(states, issues, transient, crash_loops)
    entries, bars = timeline(
        issues, states, groups, stack.events, (stack.window_start, stack.window_end)
    )
    gantt = gantt_bars(bars, issues, stack.window_end)
    if gantt and max(b.end for b in gantt) <= min(b.start for b in gantt):
        gantt = []  # (every bar at one instant: a drawing shows nothing the table does not)
    times = incident_times(issues, states, groups, stack.window_end)
    checks, peak, peak_at = thresholds(gantt, states, groups, stack.summary)
    found = bool(issues)
    cli = compose_cli(
        stack.logs.get_column("container").unique().to_list(),
        podman=runs_podman(stack.logs, evidence.commands),
        mentioned=_compose_mentions(stack.logs),
    )
    swarm_stack = stack.projects[0] if cli == SWARM_CLI and len(stack.projects) == 1 else None
    printed = _printed_services(stack.logs, evidence.names_as_printed)
    options = compose_options(evidence.commands)
    if cli != "docker compose" or printed or options:  # (the rules' commands are v2's)
        issues = [_for_compose_cli(i, cli, swarm_stack, printed, options) for i in issues]
    plan = (
        action_plan(
            issues,
            {s.name: s for s in states},
            cli,
            swarm_stack,
            printed,
            options,
            volumes={s: c.volumes for s, c in stack.configs.items() if c and c.volumes},
            project=stack.projects[0] if len(stack.projects) == 1 else None,
        )
        if found
        else []
    )
    incident = Incident(
        schema_version=SCHEMA_VERSION,
        generated_at=now,
        found=found,
        project=", ".join(stack.projects) if stack.projects else None,
        redacted=redact,
        inputs=list(evidence.inputs),
        window_start=stack.window_start,
        window_end=stack.window_end,
        undated_records=stack.undated_records,
        started_at=times.started,
        first_unhealthy_at=times.first_unhealthy,
        detection_delay_seconds=issues[0].detection_delay_seconds if issues else None,
        ended_at=times.ended,
        ongoing=times.ongoing and found,
        duration_seconds=times.duration,
        summary=adv.summary_line(issues),
        severity=max((i.severity for i in issues), key=severity_rank, default=None),
        services_total=len(stack.services),
        affected=groups.affected if found else [],
        unhealthy=groups.unhealthy if found else [],
        crash_looping=groups.crash_looping,
        healthy=groups.healthy,
        needs_attention=groups.needs_attention,
        recovered=groups.recovered,
        transient=sorted(
            s.name for s in states if s.transient and (s.first_unhealthy or s.exits or s.errors)
        ),
        peak_failing=peak,
        peak_at=peak_at,
        issues=issues,
        timeline=entries if found else [e for e in entries if e.kind in ("start", "end")],
        gantt=gantt if found else [],
        services=states,
        thresholds=checks,
        action_plan=plan,
        files=[f for i in issues for f in i.files],
        improvements=improvements(issues, states, podman=cli == PODMAN_CLI) if found else [],
        notes=list(evidence.notes),
        detection=detection_line(issues, states),
        next_update_at=_next_update(plan, stack.window_end, now),
        users=users_line(http) if found else Prose(),
        compose_cli=cli,
        compose_options=options,
    )
    return focus_incident(incident, focus) if focus else incident


def _printed_services(logs: pl.DataFrame, as_printed: Sequence[str]) -> dict[str, str]:
    """Service -> container for the services known only by a container name kept as
    printed (one container each) that is a whole container name: a `container_name:`
    has no replica number, while `events_db-1` is what compose prints for the service
    `events_db` of a container named with the project (asking the engine about
    `events_db-1` would answer nothing)."""
    named = [n for n in as_printed if replica_base(n) == n]
    if not named:
        return {}
    pairs = logs.filter(pl.col("container").is_in(named)).select("service", "container").unique()
    one = pairs.group_by("service").agg(pl.col("container").first(), pl.len().alias("n"))
    return {s: c for s, c, n in one.iter_rows() if n == 1 and s != COMPOSE_SERVICE}


def _compose_mentions(logs: pl.DataFrame) -> list[str]:
    """The container names compose's own lines mention (`Starting shop_web_1 ... done`)."""
    own = logs.filter(pl.col("container") == COMPOSE_SERVICE).get_column("message")
    return compose_mentions(own.to_list())[0]


def _for_compose_cli(
    issue: Issue,
    cli: str,
    stack: str | None,
    printed: Mapping[str, str] | None = None,
    options: str = "",
) -> Issue:
    """`issue` with the commands in its texts for `cli` (`docker-compose`: v1's logs;
    `docker stack`: a swarm stack's), services known by a printed container name, and the
    global options the user's compose commands gave."""

    def change(text: Prose) -> Prose:
        return text.with_code(
            partial(for_cli, cli=cli, stack=stack, printed=printed, options=options)
        )

    return replace(
        issue,
        problem=change(issue.problem),
        root_cause=change(issue.root_cause),
        fix=change(issue.fix),
        impact=change(issue.impact),
    )


def _read(
    evidence: Evidence, findings: pl.DataFrame, summary: pl.DataFrame, *, redact: bool
) -> Stack:
    """The stack, with secrets redacted from the findings, their summary and event output."""
    events = evidence.events
    if redact:
        findings = findings.with_columns(redact_expr("message"))
        summary = summary.with_columns(
            redact_expr("title"),
            redact_expr("remediation"),
            redact_expr("evidence"),
            redact_expr("fields"),
        )
        events = events.with_columns(redact_expr("output"))
    return read_stack(evidence, findings, summary, events)


STALE_EVIDENCE: Final = timedelta(days=7)
"""Evidence that ended longer ago than this is a post-incident write-up: no status update
is due from it (a paste from last year's bug report gets no deadline of today)."""


def _next_update(
    plan: Sequence[ActionPhase], ended: datetime | None, now: datetime
) -> datetime | None:
    """When the next status update is due: the report's time plus the first phase's ETA."""
    if not plan or (ended is not None and now - ended > STALE_EVIDENCE):
        return None
    return now + timedelta(minutes=plan[0].eta_minutes)


def _causes(stack: Stack, units: Units, transient: set[str], now: datetime) -> list[Cause]:
    """The root causes with their symptoms, ranked."""
    kept, remote = split_causes(stack, units, transient)
    causes = causes_of(group_units(kept, stack.names), units, remote, stack, now)
    use_engine_streaks(causes, stack)
    add_dependants(causes, stack)
    rank_causes(causes, stack.findings, stack.logs)
    return causes


def _issues(
    stack: Stack,
    causes: Sequence[Cause],
    now: datetime,
    http: Mapping[str, HttpCounts],
    *,
    redact: bool,
) -> list[Issue]:
    """Each cause written up: problem, root cause, fix, impact, users, evidence, files."""
    frames = code_frames(stack.findings)
    wanted = [(u.service, u.primary.rule) for c in causes for u in c.members[:3]]
    found = excerpts(wanted, stack.logs, stack.findings, redact=redact)
    paces = adv.rhythms(
        stack.findings, [(u.service, u.primary.rule) for c in causes for u in c.members]
    )
    seen = _Seen(
        frames,
        found,
        http,
        last_lines(stack.logs, stack.services),
        paces,
        _dialled(stack),
        loopback_bound(stack.logs, stack.services),
        ready_times(stack.logs, stack.services),
        frozenset(
            stack.logs.filter(pl.col("message").str.contains(adv.CRON_STARTS))
            .get_column("service")
            .drop_nulls()
            .unique()
            .to_list()
        ),
    )
    return [
        _issue(n, cause, stack, seen, now, _own_hint(stack, cause, redact=redact))
        for n, cause in enumerate(causes, start=1)
    ]


def _stack_service(stack: Stack, host: str) -> str | None:
    """The stack's service a host name names (a service, a container, an alias of one)."""
    service = service_of_container(host, stack.services, stack.containers, stack.projects)
    return service if service in stack.services else None


def _dialled(stack: Stack) -> dict[int, list[str]]:
    """Port -> the stack's services the findings name as the host they dialled on it (the
    port the finding names, else the well-known port of the host's name): another
    client's `connection to server at "pgmain"` names the database a third one misses."""
    out: dict[int, set[str]] = {}
    for raw in stack.summary.get_column("fields").drop_nulls().unique().to_list():
        fields = json.loads(raw)
        host, port = fields.get("host"), fields.get("port")
        if not host or (service := _stack_service(stack, host)) is None:
            continue
        number = int(port) if port and port.isdigit() else WELL_KNOWN.get(host.lower())
        if number is not None:
            out.setdefault(number, set()).add(service)
    return {p: sorted(names) for p, names in out.items()}


def _own_hint(stack: Stack, cause: Cause, *, redact: bool) -> str | None:
    """What the cause's service says to do, when it says."""
    return own_hints(
        stack.logs, cause.primary.service, cause.first_seen, cause.last_seen, redact=redact
    )


@dataclass(frozen=True)
class _Seen:
    """What the logs show, read once for every issue."""

    frames: dict[tuple[str, str], CodeFrame]
    excerpts: dict[tuple[str, str], Excerpt]
    http: Mapping[str, HttpCounts]
    last: Mapping[str, str]
    paces: Mapping[tuple[str, str], adv.Rhythm]
    """When each unit's records came (`advice.rhythms`)."""
    dialled: Mapping[int, list[str]]
    """Port -> the stack's services that findings name as a connection target on it."""
    bound: Mapping[str, tuple[int, str, str]]
    """Servers that listen only on their container's loopback (`ports.loopback_bound`)."""
    ready: Mapping[str, tuple[datetime, str]]
    """When each service first said it was ready (`ports.ready_times`)."""
    cron: frozenset[str]
    """Services whose log shows a cron daemon starting (`advice.CRON_STARTS`)."""


def _issue(
    n: int, cause: Cause, stack: Stack, seen: _Seen, now: datetime, hint: str | None
) -> Issue:
    """Cause number `n` as an issue (`hint`: what its service's own log says to do)."""
    frames, found = seen.frames, seen.excerpts
    code = next(
        (
            frames[k]
            for u in cause.members
            for r in u.findings
            if (k := (u.service, r.rule)) in frames
        ),
        None,
    )
    advice = adv.advice(
        cause,
        stack.stats,
        stack.configs,
        set(stack.compose_services),
        code,
        stack.listening,
        names=stack.names,
    )
    port = adv.server_port(cause.primary.rule)
    if port is not None:
        server = adv.server_of(
            cause, port, stack.listening, partial(_stack_service, stack), seen.dialled
        )
        advice = adv.fill_server_slots(advice, server)
    services = cause.services
    if seen.bound:
        target = adv.bound_target(cause, seen.bound, partial(_stack_service, stack))
        advice = adv.loopback_server(advice, target, seen.bound)
        if target is not None:  # (the server is what changes: it is recreated too)
            services = sorted({*services, target})
    advice = adv.fill_target_slots(
        advice, adv.target_of(cause, partial(_stack_service, stack), stack.listening)
    )
    advice = adv.cron_env(advice, cause, seen.cron)
    if seen.ready and services == cause.services:
        early = adv.early_target(cause, seen.ready, partial(_stack_service, stack), stack.listening)
        advice = adv.started_early(advice, cause, early, seen.ready)
    ends = resolved_at(cause.services, cause.last_seen, stack.stats, stack.events, stack.window_end)
    if any(
        y.category == "not-started" and y.service in never_started(stack) for y in cause.symptoms
    ):
        ends = None  # (what it kept from starting has still not started)
    members = cause.members[:3]
    category = cause.category
    shown = detected_at(cause.services, stack.stats)
    probe_only = category == Category.MISSING_BINARY.value and any(
        r.source == "probe" for r in cause.findings
    )
    users = issue_users(
        cause.services,
        probe_only=probe_only,
        http=seen.http,
        states={s: (st.state, st.restarts) for s in cause.services if (st := stack.stats.get(s))},
        last=seen.last,
    )
    return Issue(
        id=n,
        rank=n,
        category=category,
        severity=cause.primary.severity,
        title=cause.primary.title,
        services=services,
        containers=sorted(
            {c for x in services for c in stack.container_names.get(x, [])}
            or {c for r in cause.findings for c in r.containers}
        ),
        problem=advice.problem,
        root_cause=advice.root_cause,
        fix=advice.fix
        if hint is None
        else Prose.of(advice.fix, f" {cause.primary.service}'s own log says: ", Code(hint)),
        fix_kind=advice.kind,
        impact=adv.impact(cause, stack.stats, stack.configs, seen.paces),
        first_seen=cause.first_seen,
        last_seen=cause.last_seen,
        count=sum(r.count for u in cause.members for r in u.findings if r.category == category),
        rules=sorted({r.rule for r in cause.findings}),
        fields=dict(cause.primary.fields),
        ranking=adv.ranking(n, cause),
        resolved_at=ends,
        ongoing=ends is None,
        symptoms=sorted(cause.symptoms, key=lambda y: (y.first_seen or now, y.service)),
        evidence=[found[key] for u in members if (key := (u.service, u.primary.rule)) in found],
        files=adv.file_refs(n, cause, advice.kind, frames),
        user_impact=users,
        detected_at=shown,
        detection_delay_seconds=(
            max((shown - cause.first_seen).total_seconds(), 0.0)
            if shown is not None and cause.first_seen is not None
            else None
        ),
    )


def focus_incident(incident: Incident, services: Sequence[str]) -> Incident:
    """Keep the issues and services that touch `services` (the analysis saw everything)."""
    want = set(services)
    issues = [
        i for i in incident.issues if want & (set(i.services) | {y.service for y in i.symptoms})
    ]
    ids = {i.id for i in issues}
    touched = {s for i in issues for s in i.services} | {
        y.service for i in issues for y in i.symptoms
    }
    plan = [
        replace(p, steps=[st for st in p.steps if not st.services or touched & set(st.services)])
        for p in incident.action_plan
    ]
    return replace(
        incident,
        action_plan=plan,
        found=bool(issues),
        issues=issues,
        services=[s for s in incident.services if s.name in want],
        timeline=[e for e in incident.timeline if not e.services or want & set(e.services)],
        gantt=[g for g in incident.gantt if g.section in want or g.section == "milestones"],
        files=[f for f in incident.files if f.issue in ids],
        affected=[s for s in incident.affected if s in want],
        needs_attention=[s for s in incident.needs_attention if s in want],
        healthy=[s for s in incident.healthy if s in want],
        recovered=[s for s in incident.recovered if s in want],
        transient=[s for s in incident.transient if s in want],
    )
