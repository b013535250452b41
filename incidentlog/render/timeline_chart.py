"""The HTML report's timeline: the incident's bars laid out for an inline SVG.

The template draws it (`templates/report.html.j2`, block `timeline_chart`) with
Jinja's autoescaping, so service names from the logs are text, never markup; no
script, nothing from the network. One row per service (what failed and for how
long), a dashed line where each issue's first evidence is, and a time axis with
round ticks. The Markdown report keeps the same bars as Mermaid source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from incidentlog.incident import GanttBar

__all__ = ["TimelineChart", "timeline_chart"]

WIDTH: Final = 960
LABEL_WIDTH: Final = 170
"""Room for service names left of the plot."""
RIGHT: Final = 24
ROW: Final = 24
"""Height of a service's row."""
LEVELS: Final = 3
LEVEL: Final = 12
"""Issue labels that would overlap go up to LEVELS levels, LEVEL apart."""
SAME_PLACE: Final = 6.0
"""Issues whose first evidence is closer than this (in SVG units) share a label."""
TOP: Final = 30 + LEVELS * LEVEL
"""Room for the title and the issues' labels above the rows."""
BOTTOM: Final = 40
"""Room for the time axis under the rows."""
MIN_BAR: Final = 3.0
"""A bar of a few seconds in a window of hours stays visible."""
STEPS: Final = tuple(
    timedelta(seconds=s)
    for s in (
        1,
        2,
        5,
        10,
        15,
        30,
        60,
        120,
        300,
        600,
        900,
        1800,
        3600,
        7200,
        10800,
        21600,
        43200,
        86400,
    )
)
"""Tick spacings to choose from (the smallest that gives at most MAX_TICKS ticks)."""
MAX_TICKS: Final = 9


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    kind: str
    """`crit` (still failing at the end) or `done` (recovered)."""
    label: str
    start: str
    end: str


@dataclass(frozen=True)
class Lane:
    service: str
    y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Marker:
    """An issue's first evidence: a dashed line over the rows, its number above them."""

    x: float
    label_y: int
    text: str
    title: str


@dataclass(frozen=True)
class TimelineChart:
    lanes: tuple[Lane, ...]
    markers: tuple[Marker, ...]
    ticks: tuple[tuple[float, str], ...]
    """(x, clock) of each tick of the time axis."""
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    start: str
    end: str


class _Scale:
    """Time to x within the plot."""

    def __init__(self, t0: datetime, t1: datetime) -> None:
        self.t0 = t0
        self.span = max((t1 - t0).total_seconds(), 1.0)
        self.width = WIDTH - LABEL_WIDTH - RIGHT

    def x(self, when: datetime) -> float:
        share = min(max((when - self.t0).total_seconds() / self.span, 0.0), 1.0)
        return round(LABEL_WIDTH + share * self.width, 1)


def _clock(when: datetime, seconds: bool = True) -> str:
    return when.strftime("%H:%M:%S" if seconds else "%H:%M")


def _ticks(t0: datetime, t1: datetime, scale: _Scale) -> tuple[tuple[float, str], ...]:
    """Round times (a step from STEPS) across the window, at most MAX_TICKS of them."""
    span = t1 - t0
    step = next((s for s in STEPS if span / s <= MAX_TICKS - 1), STEPS[-1])
    midnight = t0.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + step * -(-(t0 - midnight) // step)
    count = int((t1 - first) / step) + 1 if first <= t1 else 0
    with_seconds = step < timedelta(minutes=1)
    return tuple(
        (scale.x(first + step * n), _clock(first + step * n, with_seconds)) for n in range(count)
    )


def _markers(milestones: Sequence[GanttBar], scale: _Scale) -> tuple[Marker, ...]:
    """Issues' first evidence: ones a few pixels apart share a label; labels that would
    still overlap are staggered upwards."""
    groups: list[tuple[float, list[GanttBar]]] = []
    for m in sorted(milestones, key=lambda b: b.start):
        x = scale.x(m.start)
        if groups and x - groups[-1][0] < SAME_PLACE:
            groups[-1][1].append(m)
        else:
            groups.append((x, [m]))
    placed: list[Marker] = []
    ends: list[float] = []
    """Per level: where the last label on it ends."""
    for x, ms in groups:
        text = ", ".join(
            "#" + (m.label.split()[1] if m.label.startswith("issue ") else m.label) for m in ms
        )
        half = 3.5 * len(text)
        level = next((n for n, end in enumerate(ends) if x - half > end + 4), len(ends))
        if level == len(ends):
            ends.append(0.0)
        ends[level] = x + half
        title = "; ".join(f"{m.label} at {_clock(m.start)}" for m in ms)
        placed.append(Marker(x, TOP - 8 - LEVEL * min(level, LEVELS - 1), text, title))
    return tuple(placed)


def timeline_chart(
    gantt: Sequence[GanttBar], window_start: datetime | None, window_end: datetime | None
) -> TimelineChart | None:
    """The chart of these bars over the evidence's window (None: no bars or no timestamps)."""
    if not gantt or window_start is None or window_end is None:
        return None
    scale = _Scale(window_start, window_end)
    sections = [b.section for b in gantt if b.tag != "milestone"]
    order = sorted(
        dict.fromkeys(sections), key=lambda s: min(b.start for b in gantt if b.section == s)
    )
    lanes = tuple(
        Lane(
            service,
            TOP + n * ROW,
            tuple(
                Bar(
                    x=scale.x(b.start),
                    width=max(scale.x(b.end) - scale.x(b.start), MIN_BAR),
                    kind="done" if b.tag == "done" else "crit",
                    label=b.label,
                    start=_clock(b.start),
                    end=_clock(b.end),
                )
                for b in gantt
                if b.section == service and b.tag != "milestone"
            ),
        )
        for n, service in enumerate(order)
    )
    bottom = TOP + len(lanes) * ROW
    return TimelineChart(
        lanes=lanes,
        markers=_markers([b for b in gantt if b.tag == "milestone"], scale),
        ticks=_ticks(window_start, window_end, scale),
        width=WIDTH,
        height=bottom + BOTTOM,
        plot_left=LABEL_WIDTH,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=bottom,
        start=_clock(window_start),
        end=_clock(window_end),
    )
