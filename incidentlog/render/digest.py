"""Render a digest: Jinja → Markdown; markdown-it → one self-contained HTML page; JSON.

`run_digest` is what `incidentlog digest` calls: resolve the period, build
the `Digest` (incidentlog.digest) and render it. The templates
(`templates/digest.md.j2`, `digest.html.j2`) receive the finished model as
`d`, the title and the one-line `headline`, and the digest's own filters
(`signed`, `clock` and `when`, times in the display zone) next to the
shared ones; the HTML page embeds the heatmap as inline SVG.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from incidentlog.digest import (
    Digest,
    Period,
    Signature,
    build_digest,
    display_zone,
    resolve_period,
)
from incidentlog.errors import UsageError
from incidentlog.redact import json_safe
from incidentlog.render.heatmap import heatmap
from incidentlog.render.markdown import markdown_to_html
from incidentlog.render.templates import render_template, template_environment
from incidentlog.text import iso, plural, to_plain

__all__ = [
    "FORMATS",
    "digest_environment",
    "digest_filters",
    "digest_of",
    "digest_to_dict",
    "headline",
    "period_label",
    "render_digest",
    "run_digest",
    "signed",
]

FORMATS: Final = ("md", "html", "json")
MARKDOWN_TEMPLATE: Final = "digest.md.j2"
HTML_TEMPLATE: Final = "digest.html.j2"


# --------------------------------------------------------------------------- JSON


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    """The JSON document: `period`, `services`, `new_signatures`, `top_patterns`, and more."""

    def span(p: Period) -> dict[str, Any]:
        return {"start": iso(p.start), "end": iso(p.end)}

    def signature(s: Signature) -> dict[str, Any]:
        return asdict(s) | {"delta": s.delta}

    document: dict[str, Any] = to_plain(
        {
            "period": span(digest.period) | {"tz": digest.zone},
            "previous": span(digest.previous),
            "day_before": span(digest.day_before),
            "history": {"start": digest.history_start, "end": digest.history_end},
            "unchanged": digest.unchanged,
            "headline": headline(digest),
            "totals": digest.totals | {"restarts": digest.restarts, "oom_kills": digest.oom_kills},
            "services": [asdict(s) | {"errors_24h": list(s.errors_24h)} for s in digest.services],
            "hours": list(digest.hours),
            "new_signatures": [signature(s) for s in digest.new_signatures],
            "vanished_signatures": [signature(s) for s in digest.vanished_signatures],
            "top_movers": [signature(s) for s in digest.top_movers],
            "top_patterns": [asdict(p) for p in digest.top_patterns],
            "health_transitions": [asdict(h) for h in digest.health_transitions],
            "silent_services": [s.service for s in digest.silent_services],
        }
    )
    return document


# --------------------------------------------------------------------------- words


def signed(value: int) -> str:
    """`+3`, `−2` (a minus sign), `±0`."""
    return f"+{value}" if value > 0 else ("±0" if value == 0 else f"−{-value}")


def period_label(digest: Digest) -> str:
    """`2025-08-01 13:00–14:00 UTC` (or with both days when it spans midnight; with both
    zone names when a DST change falls inside it, so the hour does not read as two)."""
    zone = ZoneInfo(digest.zone)
    start = digest.period.start.astimezone(zone)
    end = digest.period.end.astimezone(zone)
    fmt = "%H:%M" if start.second == 0 and end.second == 0 else "%H:%M:%S"
    same_day = (
        start.date() == end.date() or (end - timedelta(microseconds=1)).date() == start.date()
    )
    tail = end.strftime(fmt) if same_day else end.strftime(f"%Y-%m-%d {fmt}")
    if start.tzname() != end.tzname():
        return f"{start.strftime('%Y-%m-%d ' + fmt)} {start.tzname()}–{tail} {end.tzname()}"
    return f"{start.strftime('%Y-%m-%d ' + fmt)}–{tail} {start.tzname()}"


def headline(digest: Digest) -> str:
    """One line: what the period held, and whether anything changed."""
    label = period_label(digest)
    gap = _no_data(digest, label)
    if gap is not None:
        return gap
    t = digest.totals
    active = sum(1 for s in digest.services if s.records)
    before = "hour" if digest.period.length == timedelta(hours=1) else "period"
    change = (
        f"{signed(t['errors'] - t['errors_previous'])} on the previous {before}"
        if digest.has_previous
        else f"the history starts in this {before}"
    )
    counts = (
        f"{plural(t['errors'], 'error')} ({change}) and {plural(t['warnings'], 'warning')} "
        f"from {plural(active, 'service')}"
    )
    if digest.unchanged:
        return f"No change in {label}: {counts}; no new signatures, restarts or health changes."
    return f"{label}: " + "; ".join([counts, *_changes(digest)]) + "."


def _no_data(digest: Digest, label: str) -> str | None:
    """The headline when the history holds nothing to compare (None when it does)."""
    zone = ZoneInfo(digest.zone)
    if digest.before_history:
        if digest.history_start is None:
            return f"{label}: the history is empty; nothing to compare."
        start = digest.history_start.astimezone(zone)
        return (
            f"{label}: before the history, which starts at "
            f"{start.strftime('%Y-%m-%d %H:%M:%S %Z')}; nothing to compare."
        )
    if digest.history_end is not None and digest.history_end < digest.previous.start:
        end = digest.history_end.astimezone(zone)
        return (
            f"{label}: nothing recorded since {end.strftime('%Y-%m-%d %H:%M:%S %Z')}, "
            "where the history ends (is ingest or collect still running?)."
        )
    return None


def _changes(digest: Digest) -> list[str]:
    """What changed, as counted phrases (`2 new signatures`, `1 restart`, ...)."""
    parts = []
    if digest.new_signatures:
        parts.append(plural(len(digest.new_signatures), "new signature"))
    if digest.restarts:
        parts.append(plural(digest.restarts, "restart"))
    if digest.oom_kills:
        parts.append(plural(digest.oom_kills, "OOM kill"))
    if digest.health_transitions:
        parts.append(plural(len(digest.health_transitions), "health change"))
    if digest.silent_services:
        parts.append(f"{plural(len(digest.silent_services), 'service')} went silent")
    return parts


# --------------------------------------------------------------------------- templates


def digest_filters(digest: Digest) -> Mapping[str, Callable[..., Any]]:
    """The digest's own filters: `signed`, and `clock`/`when` (times in its display zone;
    `clock` adds the date when the period is longer than a day)."""
    zone = ZoneInfo(digest.zone)
    clock = "%H:%M:%S" if digest.period.length <= timedelta(days=1) else "%Y-%m-%d %H:%M:%S"

    def clock_filter(value: datetime | None) -> str:
        return value.astimezone(zone).strftime(clock) if value else "—"

    def when_filter(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if value else "—"

    return {"signed": signed, "clock": clock_filter, "when": when_filter}


def digest_environment(
    digest: Digest, template_dir: Path | None = None, *, html: bool = False
) -> jinja2.Environment:
    """The shared environment with the digest's own filters."""
    return template_environment(template_dir, html=html, filters=digest_filters(digest))


def render_digest(digest: Digest, fmt: str = "md", template_dir: Path | None = None) -> str:
    """The digest as Markdown, a self-contained HTML page, or JSON."""
    _check_format(fmt)
    if fmt == "json":
        return json_safe(json.dumps(digest_to_dict(digest), indent=2, ensure_ascii=False) + "\n")
    label = period_label(digest)
    context = {"d": digest, "title": f"Error digest: {label}", "line": headline(digest)}
    markdown = render_template(
        digest_environment(digest, template_dir), MARKDOWN_TEMPLATE, "digest", **context
    )
    if fmt == "md":
        return markdown
    return render_template(
        digest_environment(digest, template_dir, html=True),
        HTML_TEMPLATE,
        "digest",
        body=Markup(markdown_to_html(markdown)),  # markdown-it output, raw HTML disabled
        chart=heatmap(digest),  # drawn by the template as inline SVG, text autoescaped
        **context,
    )


def digest_of(
    *,
    since: str | None = None,
    hour: str | None = None,
    tz: str | None = None,
    store: Path | None = None,
    lake: str | None = None,
    rule_paths: Sequence[Path] = (),
    now: datetime | None = None,
) -> Digest:
    """The digest of the period the options name (`--hour`, `--since`, else the last
    full hour), from the store, with the built-in rules and `rule_paths`."""
    zone = display_zone(tz)
    period = resolve_period(since=since, hour=hour, zone=zone, now=now)
    return build_digest(period, store=store, lake=lake, zone=zone, rule_paths=rule_paths)


def run_digest(
    *,
    since: str | None = None,
    hour: str | None = None,
    fmt: str = "md",
    tz: str | None = None,
    store: Path | None = None,
    lake: str | None = None,
    quiet_if_unchanged: bool = False,
    template_dir: Path | None = None,
    rule_paths: Sequence[Path] = (),
    now: datetime | None = None,
) -> str:
    """What `incidentlog digest` prints: the rendered digest, or "" when quiet and unchanged.

    `rule_paths` are extra rule packs (`--rules`, files or directories): their
    findings count as signatures, with the built-in rules'.
    """
    _check_format(fmt)
    digest = digest_of(
        since=since, hour=hour, tz=tz, store=store, lake=lake, rule_paths=rule_paths, now=now
    )
    if quiet_if_unchanged and digest.unchanged:
        return ""
    return render_digest(digest, fmt, template_dir)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
