"""Plain English shared by models and views: counts, durations, lists. No markup here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

__all__ = ["clock", "format_duration", "join_names", "plural"]


def plural(count: int, noun: str) -> str:
    """`1 restart`, `3 restarts`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_duration(seconds: float | None) -> str:
    """`45 s`, `3 min 07 s`, `2 h 00 min`: how long, as people say it."""
    if seconds is None:
        return "unknown"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    h, rest = divmod(s, 3600)
    m = rest // 60
    return f"{h} h {m:02d} min" if h else f"{m} min {rest % 60:02d} s"


def join_names(names: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def clock(ts: datetime | None) -> str:
    """`12:31:43`, or `an unknown time`."""
    return ts.strftime("%H:%M:%S") if ts else "an unknown time"
