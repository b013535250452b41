"""The digest's period: `--hour`, `--since` or the last full hour, and the display zone.

Periods are half-open UTC intervals. `--hour` is read in the display zone
(`--tz`) unless it carries an offset; the same hours a day earlier are wall
clock in that zone, so a DST change does not shift them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from incidentlog.errors import UsageError

__all__ = ["Period", "day_before", "display_zone", "hour_start", "resolve_period"]

_HOUR_ARG: Final = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2})(?::00(?::00)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self) -> pl.Expr:
        return (pl.col("ts") >= self.start) & (pl.col("ts") < self.end)


def display_zone(name: str | None) -> ZoneInfo:
    """The IANA zone for display (`UTC` when none is given)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r} is not a time zone (use an IANA name such as UTC, Europe/Berlin)"
        ) from None


def hour_start(value: str, zone: ZoneInfo) -> datetime:
    """The start of the `--hour` argument (read in `zone` unless it has an offset), in UTC."""
    match = _HOUR_ARG.match(value.strip())
    if not match:
        raise UsageError(
            f"--hour {value!r} is not an hour (use YYYY-MM-DDTHH, e.g. 2025-08-01T13, "
            "read in --tz; or with an offset: 2025-08-01T13Z, 2025-08-01T15+02:00)"
        )
    day, hour, offset = match.groups()
    try:
        naive = datetime.fromisoformat(f"{day}T{hour}:00:00")
    except ValueError:
        raise UsageError(f"--hour {value!r}: no such date or hour") from None
    try:
        if offset:
            text = "+00:00" if offset == "Z" else offset
            if len(text) == 3:
                text += ":00"
            return datetime.fromisoformat(f"{naive.isoformat()}{text}").astimezone(UTC)
        local = naive.replace(tzinfo=zone)
        start = local.astimezone(UTC)
        shown = start.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise UsageError(f"--hour {value!r}: out of range") from None
    if shown != naive:
        raise UsageError(f"--hour {value!r} does not exist in {zone.key} (a DST gap)")
    return start


def resolve_period(
    *,
    since: str | None = None,
    hour: str | None = None,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> Period:
    """The digest period: `--hour` (that hour), `--since` (until now), or the last full hour."""
    from incidentlog.timespec import parse_time

    zone = zone or ZoneInfo("UTC")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if since is not None and hour is not None:
        raise UsageError("give --since or --hour, not both")
    if hour is not None:
        start = hour_start(hour, zone)
        return _comparable(start, timedelta(hours=1), f"--hour {hour}")
    if since is not None:
        start = parse_time(since, now=now)
        if start >= now:
            raise UsageError(f"--since {since} is not in the past")
        return _comparable(start, now - start, f"--since {since}")
    local = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    end = local.astimezone(UTC)
    if end.astimezone(zone).minute != 0:  # a zone offset in half hours: floor in UTC too
        end = now.replace(minute=0, second=0, microsecond=0)
    return Period(end - timedelta(hours=1), end)


_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def _comparable(start: datetime, length: timedelta, what: str) -> Period:
    """The period from `start`, if it and the periods it is compared with (the one
    before it, the same hours a day earlier) fit in the calendar; else a usage error."""
    margin = length + timedelta(days=2)
    if start - _EARLIEST < margin or _LATEST - start < length + timedelta(days=1):
        raise UsageError(
            f"{what}: out of range (the digest compares it with the period before, "
            "so it must start after 0001-01-03 and end before 9999-12-30)"
        )
    return Period(start, start + length)


def day_before(period: Period, zone: ZoneInfo) -> Period:
    """The same wall-clock hours a calendar day earlier, in the display zone."""
    start = (period.start.astimezone(zone) - timedelta(days=1)).astimezone(UTC)
    return Period(start, start + period.length)
