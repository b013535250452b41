"""Render an incident: Jinja → Markdown; markdown-it → one self-contained HTML page; JSON.

`generate_report` is what `incidentlog report` calls: read the evidence, run
detection, build the `Incident` (incidentlog.incident) and render it.
Templates only format: they receive the finished model and a few filters
that make untrusted text safe in Markdown (`md`, `code`, `cell`, `fence`).
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
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from incidentlog.errors import TemplateError, UsageError
from incidentlog.incident import (
    Incident,
    build_incident,
    format_duration,
    incident_to_dict,
    load_evidence,
    md_code,
    md_text,
)

__all__ = [
    "FORMATS",
    "TemplateError",
    "builtin_templates",
    "generate_report",
    "markdown_to_html",
    "md_cell",
    "md_fence",
    "render_report",
    "template_environment",
]

FORMATS: Final = ("md", "html", "json")
MARKDOWN_TEMPLATE: Final = "report.md.j2"
HTML_TEMPLATE: Final = "report.html.j2"


# --------------------------------------------------------------------------- filters


def md_cell(text: object) -> str:
    """Markdown (already safe inline) as one table cell: pipes escaped, one line."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat.replace("|", "\\|") or " "


def md_fence(text: str, info: str = "") -> str:
    """`text` in a fenced code block whose fence is longer than any backtick run inside."""
    body = text.strip("\n")
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}\n"


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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


FILTERS: Final[dict[str, Any]] = {
    "md": md_text,
    "code": md_code,
    "cell": md_cell,
    "fence": md_fence,
    "stamp": _stamp,
    "hms": _hms,
    "hmsf": _hmsf,
    "duration": format_duration,
    "mermaid_label": _mermaid_label,
    "mermaid_ts": _mermaid_ts,
    "pct": _pct,
    "plural": _plural,
}


# --------------------------------------------------------------------------- templates


def builtin_templates() -> Path:
    """The built-in templates: inside the installed package, else the checkout's `templates/`."""
    packaged = resources.files("incidentlog") / "templates"
    if packaged.is_dir() and (packaged / MARKDOWN_TEMPLATE).is_file():
        return Path(str(packaged))
    import incidentlog

    checkout = Path(incidentlog.__file__).resolve().parent.parent / "templates"
    if (checkout / MARKDOWN_TEMPLATE).is_file():
        return checkout
    raise TemplateError(
        f"the built-in report templates are missing (looked in {packaged} and {checkout})"
    )


def template_environment(
    template_dir: Path | None = None, *, html: bool = False
) -> jinja2.Environment:
    """ChoiceLoader (user dir, then built-ins), StrictUndefined, autoescape for HTML."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise TemplateError(f"--template {template_dir}: not a directory")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    builtin = jinja2.FileSystemLoader(str(builtin_templates()))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"builtin": builtin}))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _render(env: jinja2.Environment, name: str, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or exc.name or name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"{name}: {exc.message} (the incident model has no such value)"
        ) from None


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


_MARKDOWN: Final = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)


def markdown_to_html(markdown: str) -> str:
    """CommonMark + GFM tables; raw HTML in the input is shown as text, never passed through."""
    return str(_MARKDOWN.render(markdown))


def render_report(incident: Incident, fmt: str = "md", template_dir: Path | None = None) -> str:
    """The report as Markdown, a self-contained HTML page, or the JSON document."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if fmt == "json":
        return json.dumps(incident_to_dict(incident), indent=2, ensure_ascii=False) + "\n"
    view = _view(incident)
    markdown = _render(template_environment(template_dir), MARKDOWN_TEMPLATE, r=view, i=incident)
    if fmt == "md":
        return markdown
    body = Markup(markdown_to_html(markdown))
    return _render(
        template_environment(template_dir, html=True),
        HTML_TEMPLATE,
        r=view,
        i=incident,
        body=body,
    )


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
    """Evidence → detection → incident model → rendered report (what the CLI prints)."""
    from incidentlog.detect import detect_findings, load_rules, summarize_findings

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if template_dir is not None and not template_dir.is_dir():
        raise TemplateError(f"--template {template_dir}: not a directory")
    ruleset = load_rules(rule_paths)
    evidence = load_evidence(
        paths,
        since=since,
        until=until,
        store=store,
        service_hint=services[0] if len(services) == 1 else None,
    )
    findings = detect_findings(evidence.logs, evidence.events, ruleset)
    summary = summarize_findings(findings)
    incident = build_incident(evidence, findings, summary, now=now, redact=redact, focus=services)
    return render_report(incident, fmt, template_dir)
