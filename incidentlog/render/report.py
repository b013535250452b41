"""Render an incident: Jinja → Markdown; markdown-it → one self-contained HTML page; JSON.

`generate_report` is what `incidentlog report` calls: read the evidence, run
detection, build the `Incident` (incidentlog.incident) and render it.
Templates only format: they receive the finished model (raw facts: strings,
and `Prose` of words and code) and a few filters that make it safe Markdown
(`md`, `code`, `cell`, `fence`, and `prose` for `Prose`).
Templates are searched in `--template DIR` first, then in the built-ins that
ship inside the wheel (`incidentlog/templates/`, or the checkout's top-level
`templates/` in an editable install).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup

from incidentlog.errors import TemplateError, UsageError
from incidentlog.incident import (
    ActionPhase,
    ActionStep,
    Excerpt,
    FileRef,
    Incident,
    ServiceState,
    Symptom,
    TimelineEntry,
    build_incident,
    incident_to_dict,
    service_names,
)
from incidentlog.progress import step
from incidentlog.render.markdown import markdown_to_html, md_prose
from incidentlog.render.templates import render_template, template_environment
from incidentlog.render.timeline_chart import timeline_chart
from incidentlog.sources import EvidenceSource, Request

__all__ = [
    "FORMATS",
    "generate_report",
    "render_report",
    "report_environment",
]

FORMATS: Final = ("md", "html", "json")
_NEVER: Final = datetime.max.replace(tzinfo=UTC)
MARKDOWN_TEMPLATE: Final = "report.md.j2"
HTML_TEMPLATE: Final = "report.html.j2"


# --------------------------------------------------------------------------- filters


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _hms(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value else "—"


def _hm(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value else "—"


FIX_KINDS: Final = {
    "rebuild-image": "image rebuild",
    "change-code": "code change",
    "change-config": "configuration change",
    "change-host": "change on the Docker host",
    "restart": "restart",
    "investigate": "to investigate",
}


def _fix_kind(kind: str) -> str:
    return FIX_KINDS.get(kind, kind)


def _hmsf(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S.%f")[:-3] if value else " " * 12


def _mermaid_label(text: object) -> str:
    """Text safe inside a Mermaid gantt line (no `:`, `#`, `;`, `,` or newlines)."""
    return re.sub(r"[^A-Za-z0-9 ._()/+-]+", " ", str(text)).strip() or "-"


def _mermaid_ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "0 %"


REPORT_FILTERS: Final[dict[str, Any]] = {
    "stamp": _stamp,
    "hms": _hms,
    "hmsf": _hmsf,
    "hm": _hm,
    "fix_kind": _fix_kind,
    "mermaid_label": _mermaid_label,
    "mermaid_ts": _mermaid_ts,
    "pct": _pct,
    "prose": md_prose,
    "names": service_names,
}


def report_environment(
    template_dir: Path | None = None, *, html: bool = False
) -> jinja2.Environment:
    """The shared environment with the report's own filters."""
    return template_environment(template_dir, html=html, filters=REPORT_FILTERS)


@dataclass(frozen=True)
class TimelineRow:
    """Timeline entries of one kind and text within the same second, as one row."""

    ts: datetime | None
    services: list[str]
    text: str


@dataclass(frozen=True)
class FileRow:
    """File references of one place (path, hint, source line) with all their services."""

    ref: FileRef
    services: list[str]
    issues: list[int]


@dataclass(frozen=True)
class ReportView:
    """What the templates receive: the model plus a few facts about how to lay it out."""

    incident: Incident
    title: str
    timed: bool
    """The evidence had timestamps (otherwise the timeline is in input order)."""
    part: str = "all"
    """`all` (the Markdown report), or one of `PARTS` (the HTML page renders them one by one
    to fold the appendix sections into `<details>`)."""
    attention: list[ServiceState] = field(default_factory=list)
    """Services that need attention, in the order of their first issue."""
    fix_steps: list[ActionStep] = field(default_factory=list)
    """The first phase of the action plan: the commands to run now."""
    later: list[ActionPhase] = field(default_factory=list)
    """The other phases (verify, watch)."""
    body_evidence: dict[int, list[Excerpt]] = field(default_factory=dict)
    """Per issue: the excerpts shown in the body (the first, and one-line ones); all of them
    are in full in the appendix."""
    other_symptoms: dict[int, list[Symptom]] = field(default_factory=dict)
    """Per issue: symptoms in other services than the issue's (the ones a table explains)."""
    timeline: list[TimelineRow] = field(default_factory=list)
    statistics: list[ServiceState] = field(default_factory=list)
    """Services with anything to count (all-zero rows left out)."""
    files: list[FileRow] = field(default_factory=list)
    started_by: int | None = None
    started_by_symptom: bool = False
    """The issue's own evidence has no time: the start is its first dated symptom."""
    """The issue whose first evidence started the incident (None when focus left it out)."""
    affected_others: list[str] = field(default_factory=list)
    """Affected services that do not need attention any more."""
    streaks: bool = False
    """A service that needs attention has a failing streak (the table says whose count it is)."""
    quiet: list[ServiceState] = field(default_factory=list)
    """Services with no state in the evidence, no issue and no error line: fine in their
    logs, with nothing to confirm it."""


PARTS: Final = ("head", "timeline", "tail", "statistics", "evidence", "thresholds", "footer")
APPENDIX: Final = {
    "statistics": "Per-service statistics",
    "evidence": "Evidence in full",
    "thresholds": "Monitoring thresholds",
}


def _view(incident: Incident, part: str = "all") -> ReportView:
    when = incident.started_at or incident.window_start
    date = when.strftime("%Y-%m-%d") if when else "undated evidence"
    project = f"{incident.project} — " if incident.project else ""
    head = "Incident report" if incident.found else "No incident found"
    first_issue = {s: min(st.issues, default=10**6) for st in incident.services for s in [st.name]}
    plan = incident.action_plan
    return ReportView(
        incident=incident,
        title=f"{head}: {project}{date}",
        timed=incident.window_start is not None,
        part=part,
        attention=sorted(
            (s for s in incident.services if s.needs_attention),
            key=lambda s: (first_issue[s.name], s.failing_since or _NEVER, s.name),
        ),
        fix_steps=plan[0].steps if plan else [],
        later=plan[1:],
        body_evidence={
            i.id: [e for n, e in enumerate(i.evidence) if n == 0 or len(e.brief) == 1]
            for i in incident.issues
        },
        other_symptoms={
            i.id: [y for y in i.symptoms if y.service not in i.services] for i in incident.issues
        },
        timeline=_timeline_rows(incident.timeline),
        statistics=[
            s
            for s in incident.services
            if s.restarts or s.exits or s.errors or s.first_unhealthy or s.needs_attention
        ],
        files=_file_rows(incident.files),
        affected_others=[s for s in incident.affected if s not in incident.needs_attention],
        started_by=next(
            (
                i.id
                for i in incident.issues
                if incident.started_at and i.start == incident.started_at
            ),
            None,
        ),
        started_by_symptom=any(
            i.first_seen is None and i.start == incident.started_at
            for i in incident.issues
            if incident.started_at
        ),
        streaks=any(
            s.probe and s.probe.failing_streak for s in incident.services if s.needs_attention
        ),
        quiet=[
            s
            for s in incident.services
            if s.state == "unknown" and not s.needs_attention and not s.errors
        ],
    )


def _file_rows(refs: Sequence[FileRef]) -> list[FileRow]:
    """One row per place: the same compose key of several issues is one file to change."""
    rows: dict[tuple[str, str, str | None], FileRow] = {}
    for f in refs:
        row = rows.setdefault((f.path, str(f.hint), f.code), FileRow(f, [], []))
        row.services.extend(s for s in f.services if s not in row.services)
        if f.issue not in row.issues:
            row.issues.append(f.issue)
    return list(rows.values())


def _timeline_rows(entries: Sequence[TimelineEntry]) -> list[TimelineRow]:
    """Entries of the same kind and text in the same second as one row (services joined)."""
    rows: list[TimelineRow] = []
    keys: list[tuple[object, str, str]] = []
    for e in entries:
        second = e.ts.replace(microsecond=0) if e.ts else None
        key = (second, e.kind, e.text)
        if e.services and keys and keys[-1] == key and rows[-1].services:
            rows[-1].services.extend(s for s in e.services if s not in rows[-1].services)
            continue
        keys.append(key)
        rows.append(TimelineRow(e.ts, list(e.services), e.text))
    return rows


def render_report(incident: Incident, fmt: str = "md", template_dir: Path | None = None) -> str:
    """The report as Markdown, a self-contained HTML page, or the JSON document."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if fmt == "json":
        return json.dumps(incident_to_dict(incident), indent=2, ensure_ascii=False) + "\n"
    env = report_environment(template_dir)
    if fmt == "md":
        return _markdown(env, incident, "all")
    parts = {p: _markdown(env, incident, p) for p in PARTS}
    sections = [
        (APPENDIX[p], Markup(markdown_to_html(parts[p]))) for p in APPENDIX if parts[p].strip()
    ]
    head, timeline, tail = (
        Markup(markdown_to_html(parts[p])) for p in ("head", "timeline", "tail")
    )
    return render_template(
        report_environment(template_dir, html=True),
        HTML_TEMPLATE,
        "incident model",
        r=_view(incident),
        i=incident,
        head=head,
        timeline=timeline,
        tail=tail,
        body=head + (Markup("<h2>Timeline</h2>\n") + timeline if incident.found else "") + tail,
        chart=timeline_chart(incident.gantt, incident.window_start, incident.window_end),
        appendix=sections,
        footer=Markup(markdown_to_html(parts["footer"])),
    )


def _markdown(env: jinja2.Environment, incident: Incident, part: str) -> str:
    view = _view(incident, part)
    return render_template(env, MARKDOWN_TEMPLATE, "incident model", r=view, i=incident)


def report_from(
    source: EvidenceSource,
    *,
    fmt: str = "md",
    template_dir: Path | None = None,
    redact: bool = True,
    now: datetime | None = None,
) -> str:
    """Evidence → detection → incident model → rendered report (what `report` prints).

    The source's services (names or globs) focus the report; the analysis sees
    every service, so causes upstream of them are still found."""
    from incidentlog.detect import detect_findings, summarize_findings

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if template_dir is not None and not template_dir.is_dir():
        raise TemplateError(f"--template {template_dir}: not a directory")
    ruleset = source.ruleset
    evidence = source.evidence()
    project = source.request.project
    findings = detect_findings(
        evidence.logs, evidence.events, ruleset, projects=[project] if project else []
    )
    summary = summarize_findings(findings)
    focus = source.services() or []
    step("building the report")
    incident = build_incident(evidence, findings, summary, now=now, redact=redact, focus=focus)
    return render_report(incident, fmt, template_dir)


def generate_report(
    paths: Sequence[str | Path] = (),
    *,
    fmt: str = "md",
    since: datetime | None = None,
    until: datetime | None = None,
    services: Sequence[str] = (),
    template_dir: Path | None = None,
    redact: bool = True,
    store: str | Path | None = None,
    rule_paths: Sequence[str | Path] = (),
    now: datetime | None = None,
) -> str:
    """`report_from` the evidence of these paths (or the store) and options."""
    request = Request(
        paths=tuple(str(p) for p in paths),
        store=Path(store) if store is not None else None,
        since=since,
        until=until,
        services=tuple(services),
        rule_paths=tuple(Path(r) for r in rule_paths),
    )
    return report_from(
        EvidenceSource(request), fmt=fmt, template_dir=template_dir, redact=redact, now=now
    )
