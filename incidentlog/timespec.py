"""`--since`/`--until` values, with the meanings `docker compose logs` gives them.

RFC 3339 (`2025-08-01T12:30:00Z`, a date alone, a naive time taken as UTC),
Unix seconds (`1754051400`, fractions allowed), or a duration counted back
from now (`90m`, `1h30m`, `2d`, `45s`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from incidentlog.errors import TimeSpecError

if TYPE_CHECKING:
    import polars as pl

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(w|d|h|m|s|ms))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
_UNIT = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}


def parse_duration(value: str) -> timedelta:
    """`1h30m` → 90 minutes; raises TimeSpecError on anything else."""
    text = value.strip().lower()
    if not text or not _DURATION.match(text):
        raise TimeSpecError(f"{value!r} is not a duration (use e.g. 45s, 90m, 1h30m, 2d)")
    try:
        return sum((float(n) * _UNIT[u] for n, u in _PART.findall(text)), timedelta())
    except OverflowError:
        raise TimeSpecError(f"{value!r} is too long a duration") from None


def parse_time(value: str, *, now: datetime | None = None) -> datetime:
    """An aware UTC datetime for a --since/--until value."""
    text = value.strip()
    now = now or datetime.now(UTC)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise TimeSpecError(f"{value!r}: Unix time out of range") from None
    if _DURATION.match(text.lower()):
        try:
            return now - parse_duration(text)
        except OverflowError:
            raise TimeSpecError(f"{value!r} reaches back before year 1") from None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeSpecError(
            f"{value!r} is not a time: use RFC 3339 (2025-08-01T12:30:00Z), "
            "Unix seconds (1754051400) or a duration back from now (90m, 1h30m, 2d)"
        ) from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise TimeSpecError(f"{value!r}: in UTC it falls outside years 1 to 9999") from None


def parse_window(
    since: str | None, until: str | None, *, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """Both ends of a window; `since` after `until` is an error, not an empty result."""
    start = parse_time(since, now=now) if since is not None else None
    end = parse_time(until, now=now) if until is not None else None
    if start and end and start > end:
        raise TimeSpecError(f"--since {since} is after --until {until}")
    return start, end


def within_window(
    frame: pl.DataFrame, since: datetime | None, until: datetime | None
) -> pl.DataFrame:
    """Rows within [since, until]; rows without a time are kept (they cannot be placed)."""
    import polars as pl

    mask = pl.lit(True)
    if since is not None:
        mask = mask & (pl.col("ts").is_null() | (pl.col("ts") >= since))
    if until is not None:
        mask = mask & (pl.col("ts").is_null() | (pl.col("ts") <= until))
    return frame.filter(mask)
