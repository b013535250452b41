"""The HTML report's timeline drawing: bars where the evidence puts them, round ticks,
issues' first evidence marked, names as text; none without timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from incidentlog.incident import GanttBar, ServiceState
from incidentlog.incident.services import ServiceGroups
from incidentlog.incident.timeline import thresholds
from incidentlog.render import report
from incidentlog.render.report import generate_report
from incidentlog.render.timeline_chart import (
    LABEL_WIDTH,
    RIGHT,
    WIDTH,
    TimelineChart,
    timeline_chart,
)

T0 = datetime(2025, 8, 1, 12, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)
NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_bars_ticks_and_markers_follow_the_window() -> None:
    gantt = [
        GanttBar("web", "unhealthy", "crit", _at(60), T1),
        GanttBar("db", "crash loop (exited 3 times)", "crit", _at(0), _at(30)),
        GanttBar("cache", "unhealthy (recovered)", "done", _at(10), _at(10.05)),
        GanttBar("milestones", "issue 1 first evidence", "milestone", _at(0), _at(0)),
        GanttBar("milestones", "issue 2 first evidence", "milestone", _at(60), _at(60)),
        GanttBar("milestones", "issue 3 first evidence", "milestone", _at(60.01), _at(60.01)),
    ]
    chart = timeline_chart(gantt, T0, T1)
    assert chart is not None
    plot = WIDTH - LABEL_WIDTH - RIGHT
    # one lane per service, in the order they started failing
    assert [lane.service for lane in chart.lanes] == ["db", "cache", "web"]
    db, cache, web = (lane.bars[0] for lane in chart.lanes)
    assert db.x == LABEL_WIDTH and abs(db.width - plot / 4) < 0.2
    assert abs(web.x - (LABEL_WIDTH + plot / 2)) < 0.2 and web.x + web.width == WIDTH - RIGHT
    assert cache.width >= 3  # a 3-second blip stays visible
    assert (web.kind, cache.kind) == ("crit", "done")
    assert (db.start, db.end) == ("12:30:00", "13:00:00")
    # round ticks: every 15 minutes over two hours
    assert [label for _, label in chart.ticks] == [
        "12:30", "12:45", "13:00", "13:15", "13:30", "13:45", "14:00", "14:15", "14:30",
    ]  # fmt: skip
    # issues a second apart share one label
    assert [m.text for m in chart.markers] == ["#1", "#2, #3"]
    assert "issue 3 first evidence at 13:30:00" in chart.markers[1].title


def test_no_drawing_without_bars_or_timestamps() -> None:
    bar = GanttBar("web", "unhealthy", "crit", T0, T1)
    assert timeline_chart([], T0, T1) is None
    assert timeline_chart([bar], None, None) is None


def test_names_and_labels_are_text_in_the_svg(
    sample_logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a name or label holds, the template writes it as text (autoescaped)."""
    hostile = '"><svg onload=alert(1)><script>x()</script>'
    real = report.timeline_chart

    def chart(gantt: list[GanttBar], start: datetime, end: datetime) -> TimelineChart | None:
        renamed = [
            GanttBar(b.section + hostile, b.label + hostile, b.tag, b.start, b.end) for b in gantt
        ]
        return real(renamed, start, end)

    monkeypatch.setattr(report, "timeline_chart", chart)
    folder = sample_logs / "2025-09-14-postgres-oom"
    page = generate_report([str(folder / "events.jsonl")], fmt="html", now=NOW)
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<script" not in page and "<svg onload" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in svg


def test_sample_drawings_match_the_json(sample_logs: Path) -> None:
    """Each bar of the drawing is a bar of the JSON's `gantt` (same services, same times)."""
    folder = sample_logs / "2025-09-14-postgres-oom"
    inputs = [str(folder / n) for n in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
    page = generate_report(inputs, fmt="html", now=NOW)
    svg = page[page.index("<svg") : page.index("</svg>")]
    titles = re.findall(r'<rect class="tl-bar[^>]*><title>([^<]+)</title>', svg)
    assert titles == ["db: issue 1 (oom killed), 14:02:10 to 14:08:58"]
    assert ">#1<" in svg
    undated = sample_logs / "2025-10-03-dns-config" / "up.log"
    page = generate_report([str(undated)], fmt="html", now=NOW)
    assert "<svg" not in page and "<h2>Timeline</h2>" in page  # no times: the table only


def test_a_page_template_that_places_the_body_whole_still_gets_all_of_it(
    sample_logs: Path, tmp_path: Path
) -> None:
    (tmp_path / "report.html.j2").write_text(
        '{% extends "builtin/report.html.j2" %}{% block body %}<main>{{ body }}</main>{% endblock %}'
    )
    folder = sample_logs / "2025-09-14-postgres-oom"
    page = generate_report(
        [str(folder / "events.jsonl")], fmt="html", now=NOW, template_dir=tmp_path
    )
    main = page.split("<main>")[1].split("</main>")[0]
    headings = re.findall(r"<h2>([^<]+)</h2>", main)
    assert headings[:3] == ["Now", "What happened", "Critical issues"]
    assert "Timeline" in headings and "Long-term stability improvements" in headings
    assert "<svg" not in main and "<table>" in main.split("<h2>Timeline</h2>")[1]


def test_two_issues_of_one_service_at_once_are_one_failing_service() -> None:
    """The thresholds' peak counts services: db's two overlapping issues are one of the
    three services failing, never "peak 4 of 3 (133 %)"."""
    bars = [
        GanttBar("db", "disk full", "crit", _at(0), _at(40)),
        GanttBar("db", "crash loop", "crit", _at(10), _at(50)),
        GanttBar("db", "checkpoint failed", "crit", _at(20), _at(30)),
        GanttBar("api", "cannot reach db", "crit", _at(15), _at(45)),
        GanttBar("web", "5xx", "crit", _at(70), _at(80)),
    ]
    states = [_state(name) for name in ("api", "db", "web")]
    groups = ServiceGroups(["api", "db", "web"], [], [], [], [], [])
    checks, most, peak_at = thresholds(bars, states, groups, pl.DataFrame({"category": []}))
    assert (most, peak_at) == (2, _at(15))
    assert "peak 2 of 3 services failing (67 %) at 12:45:00" in [c.observed for c in checks]


def _state(name: str) -> ServiceState:
    return ServiceState(name, "running", "running", False, "", None, None, 0.0, 0, 0, 0, [], False)
