"""The HTML digest's chart: errors per service and hour, laid out for an inline SVG.

The template draws it (`templates/digest.html.j2`, block `chart`) with Jinja's
autoescaping, so service names from the logs are text, never markup; no
plotting library, no script, nothing from the network. Colours follow a
white-to-red ramp on the square root of the count (small counts stay visible
next to a busy hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from incidentlog.digest.model import Digest

__all__ = ["CELL", "Heatmap", "heatmap"]

CELL: Final = 28
"""Width and height of an hour's cell, in SVG units."""
LABEL_WIDTH: Final = 170
"""Room for service names left of the grid."""
TOP: Final = 34
"""Room for the title above the grid."""
_LOW: Final = (255, 245, 240)
_HIGH: Final = (165, 15, 21)


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    count: int
    fill: str
    ink: str
    """The colour of the count written in the cell (white on dark cells)."""


@dataclass(frozen=True)
class Row:
    service: str
    y: int
    cells: tuple[Cell, ...]
    total: int


@dataclass(frozen=True)
class Heatmap:
    rows: tuple[Row, ...]
    hours: tuple[tuple[int, str], ...]
    """(x, hour label) of each column."""
    width: int
    height: int
    grid_left: int
    grid_bottom: int
    top: int
    """The largest count (the darkest cell)."""


def _fill(count: int, top: int) -> str:
    share = (count / top) ** 0.5 if top else 0.0
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(digest: Digest, *, rows: int = 20) -> Heatmap | None:
    """The busiest services' errors per hour over the last 24 hours (None: no errors)."""
    busy = sorted(
        (s for s in digest.services if s.errors_24h_max > 0),
        key=lambda s: (-sum(s.errors_24h), s.service),
    )[:rows]
    if not busy:
        return None
    top = max(max(s.errors_24h) for s in busy)
    zone = ZoneInfo(digest.zone)
    laid: list[Row] = []
    for i, service in enumerate(busy):
        y = TOP + i * CELL
        cells = tuple(
            Cell(
                x=LABEL_WIDTH + h * CELL,
                y=y,
                count=n,
                fill=_fill(n, top),
                ink="#ffffff" if n > top * 0.35 else "#1f2328",
            )
            for h, n in enumerate(service.errors_24h)
        )
        laid.append(Row(service.service, y, cells, sum(service.errors_24h)))
    hours = tuple(
        (LABEL_WIDTH + i * CELL, h.astimezone(zone).strftime("%H"))
        for i, h in enumerate(digest.hours)
    )
    grid_bottom = TOP + len(busy) * CELL
    return Heatmap(
        rows=tuple(laid),
        hours=hours,
        width=LABEL_WIDTH + len(digest.hours) * CELL + 10,
        height=grid_bottom + 40,
        grid_left=LABEL_WIDTH,
        grid_bottom=grid_bottom,
        top=top,
    )
