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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup

from incidentlog.errors import TemplateError, UsageError
from incidentlog.incident import Incident, build_incident, incident_to_dict
from incidentlog.progress import step
from incidentlog.render.markdown import markdown_to_html, md_prose
from incidentlog.render.templates import render_template, template_environment
from incidentlog.sources import EvidenceSource, Request
from incidentlog.text import join_names

__all__ = [
    "FORMATS",
    "generate_report",
    "render_report",
    "report_environment",
]

FORMATS: Final = ("md", "html", "json")
MARKDOWN_TEMPLATE: Final = "report.md.j2"
HTML_TEMPLATE: Final = "report.html.j2"


# --------------------------------------------------------------------------- filters


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _hms(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value else "—"


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
    "mermaid_label": _mermaid_label,
    "mermaid_ts": _mermaid_ts,
    "pct": _pct,
    "prose": md_prose,
    "names": join_names,
}


def report_environment(
    template_dir: Path | None = None, *, html: bool = False
) -> jinja2.Environment:
    """The shared environment with the report's own filters."""
    return template_environment(template_dir, html=html, filters=REPORT_FILTERS)


@dataclass(frozen=True)
class ReportView:
    """What the templates receive: the model plus a few facts about how to lay it out."""

    incident: Incident
    title: str
    timed: bool
    """The evidence had timestamps (otherwise the timeline is in input order, no diagram)."""
    bars: bool
    """There is something to draw in the Mermaid diagram."""


def _view(incident: Incident) -> ReportView:
    when = incident.started_at or incident.window_start
    date = when.strftime("%Y-%m-%d") if when else "undated evidence"
    project = f"{incident.project} — " if incident.project else ""
    head = "Incident report" if incident.found else "No incident found"
    return ReportView(
        incident=incident,
        title=f"{head}: {project}{date}",
        timed=incident.window_start is not None,
        bars=any(b.tag != "milestone" for b in incident.gantt),
    )


def render_report(incident: Incident, fmt: str = "md", template_dir: Path | None = None) -> str:
    """The report as Markdown, a self-contained HTML page, or the JSON document."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if fmt == "json":
        return json.dumps(incident_to_dict(incident), indent=2, ensure_ascii=False) + "\n"
    view = _view(incident)
    markdown = render_template(
        report_environment(template_dir), MARKDOWN_TEMPLATE, "incident model", r=view, i=incident
    )
    if fmt == "md":
        return markdown
    body = Markup(markdown_to_html(markdown))
    return render_template(
        report_environment(template_dir, html=True),
        HTML_TEMPLATE,
        "incident model",
        r=view,
        i=incident,
        body=body,
    )


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
