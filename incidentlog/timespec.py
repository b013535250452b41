"""`--since`/`--until` values, read exactly as `docker logs` reads them.

Docker's rules (its `GetTimestamp`, documented under `docker logs --since`):

- a Go duration counted back from now: `1m30s`, `3h`, `1.5h`, `300ms`,
  `10us`/`10µs`, `5ns`, signed (`-5m` is five minutes ahead); the bare `0`
  is not a duration but Unix time 0;
- RFC 3339 and the shorter forms docker takes: `2006-01-02T15:04:05.999999999Z07:00`,
  `2006-01-02T15:04:05Z`, `2006-01-02T15:04Z`, `2006-01-02T15Z`,
  `2006-01-02Z07:00`, and each of them without a zone (`2006-01-02T15:04:05`,
  `2006-01-02`): a value without `Z` or an offset is local time, at the
  client's current UTC offset (docker uses the offset of "now");
- Unix time `seconds[.fraction]`, the fraction up to nanoseconds.

Two additions of this tool's own, which docker refuses: the units `d` (days)
and `w` (weeks) in durations. An empty value is an error (docker skips it).
Python times hold microseconds: finer fractions are truncated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from incidentlog.errors import TimeSpecError

if TYPE_CHECKING:
    import polars as pl

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_UNITS = r"ns|us|µs|μs|ms|s|m|h|d|w"
_DURATION = re.compile(rf"([-+]?)((?:{_NUMBER}(?:{_UNITS}))+)")
_PART = re.compile(rf"({_NUMBER})({_UNITS})")
_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # (U+00B5 micro sign)
    "μs": 1_000,  # (U+03BC Greek mu)
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
_GO_MAX_NS = 2**63 - 1
"""Go's time.Duration is an int64 of nanoseconds (about 292 years)."""

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_ZONE = r"(?P<zone>Z|[-+]\d{2}:\d{2})"
_FRACTION = r"(?:[.,](?P<fraction>\d+))?"
_CLOCK = {
    0: r"T(?P<hour>\d{1,2})",  # (Go's `15` takes one digit too)
    1: r"T(?P<hour>\d{1,2}):(?P<minute>\d{2})",
    2: rf"T(?P<hour>\d{{1,2}}):(?P<minute>\d{{2}}):(?P<second>\d{{2}}){_FRACTION}",
}
_UNIX = re.compile(r"\+?(\d+)(?:\.(\d{1,18}))?")
_HINT = (
    "use RFC 3339 (2025-08-01T12:30:00Z; without a zone it is local time), "
    "Unix seconds (1754051400.5) or a Go duration back from now (90m, 1h30m, 500ms)"
)


def parse_duration(value: str) -> timedelta:
    """A positive Go duration (`1h30m`, `500ms`, `2d`) as a timedelta; raises
    TimeSpecError on anything else (used for intervals such as --digest-every)."""
    text = value.strip()
    duration = _duration(text)
    if duration is None or text.startswith(("-", "+")):
        raise TimeSpecError(f"{value!r} is not a duration (use e.g. 45s, 90m, 1h30m, 2d)")
    return duration


def _duration(text: str) -> timedelta | None:
    """A signed Go duration (plus `d` and `w`), None when `text` is not one."""
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    total = 0.0
    for number, unit in _PART.findall(match.group(2)):
        total += float(number) * _NANOSECONDS[unit]
    if total > _GO_MAX_NS:
        raise TimeSpecError(f"{text!r} is too long a duration (at most about 292 years, as in Go)")
    nanoseconds = round(total)
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(microseconds=nanoseconds // 1000)


def parse_time(value: str, *, now: datetime | None = None, local: tzinfo | None = None) -> datetime:
    """An aware UTC datetime for a --since/--until value, read as docker reads it;
    `local` is the zone of zone-less times (default: this machine's offset now)."""
    text = value.strip()
    now = now or datetime.now(UTC)
    if not text:
        raise TimeSpecError(f"an empty time is not a time: {_HINT}")
    if text != "0":
        duration = _duration(text)
        if duration is not None:
            try:
                return now - duration
            except OverflowError:
                raise TimeSpecError(f"{value!r} reaches outside years 1 to 9999") from None
    parsed = _calendar(text, local or now.astimezone().tzinfo or UTC)
    if parsed is not None:
        return parsed
    if "-" in text:  # docker: a date that does not parse is no Unix time
        raise TimeSpecError(f"{value!r} is not a time: {_HINT}")
    return _unix(value, text)


def _calendar(text: str, local: tzinfo) -> datetime | None:
    """`text` in one of docker's date layouts, chosen as docker chooses (None
    when it is in none of them)."""
    zoned = any(c in text for c in "zZ+") or text.count("-") == 3
    if "." in text:
        clock = _CLOCK[2]
    elif "T" in text:
        colons = text.count(":") - (1 if zoned and "Z" not in text and "z" not in text else 0)
        clock = _CLOCK[min(max(colons, 0), 2)]
    else:
        clock = ""
    layout = rf"{_DATE}{clock}{_ZONE if zoned else ''}"
    match = re.fullmatch(layout, text)
    if not match:
        return None
    fields = match.groupdict()
    try:
        year, month, day = (int(n) for n in fields["date"].split("-"))
        moment = datetime(
            year,
            month,
            day,
            int(fields.get("hour") or 0),
            int(fields.get("minute") or 0),
            int(fields.get("second") or 0),
            int(((fields.get("fraction") or "") + "000000")[:6]),
            tzinfo=_zone(fields["zone"]) if zoned else local,
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise TimeSpecError(f"{text!r} is not a time ({exc}): {_HINT}") from None


def _zone(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"zone offset {text} out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _unix(value: str, text: str) -> datetime:
    """`seconds[.fraction]` since the epoch (docker's Unix form)."""
    match = _UNIX.fullmatch(text)
    if not match:
        raise TimeSpecError(f"{value!r} is not a time: {_HINT}")
    seconds, fraction = match.groups()
    micro = int(((fraction or "") + "000000")[:6])
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC) + timedelta(microseconds=micro)
    except (OverflowError, OSError, ValueError):
        raise TimeSpecError(f"{value!r}: Unix time out of range (years 1 to 9999)") from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly: `moment.timestamp() * 1e9` is a float off by
    up to ~0.2 µs, which skips the line stamped at a --since copied from `docker logs`."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


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
