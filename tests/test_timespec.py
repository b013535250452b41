"""--since/--until values: RFC 3339, Unix time, durations back from now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from incidentlog.errors import TimeSpecError
from incidentlog.timespec import parse_duration, parse_time, parse_window

NOW = datetime(2025, 8, 1, 14, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1h0m30s", timedelta(hours=1, seconds=30)),
        (" 10M ", timedelta(minutes=10)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "10", "10x", "1h 30m", "-5m", "m10"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(TimeSpecError, match=r"is not a duration \(use e\.g\. 45s, 90m"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-08-01T12:30:00Z", datetime(2025, 8, 1, 12, 30, tzinfo=UTC)),
        ("2025-08-01T12:30:00.123456Z", datetime(2025, 8, 1, 12, 30, 0, 123456, tzinfo=UTC)),
        ("2025-08-01T14:30:00+02:00", datetime(2025, 8, 1, 12, 30, tzinfo=UTC)),
        ("2025-08-01T12:30:00", datetime(2025, 8, 1, 12, 30, tzinfo=UTC)),  # naive = UTC
        ("2025-08-01", datetime(2025, 8, 1, tzinfo=UTC)),
        ("1754051400", datetime(2025, 8, 1, 12, 30, tzinfo=UTC)),
        ("1754051400.5", datetime(2025, 8, 1, 12, 30, 0, 500000, tzinfo=UTC)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2d", NOW - timedelta(days=2)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)


def test_offset_is_converted_not_dropped() -> None:
    parsed = parse_time("2025-08-01T12:30:00-05:00", now=NOW)
    assert parsed == datetime(2025, 8, 1, 12, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.hour == 17


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "12:30", "1h ago", ""])
def test_bad_times(text: str) -> None:
    with pytest.raises(TimeSpecError, match=r"is not a time: use RFC 3339 .* or a duration"):
        parse_time(text, now=NOW)


def test_window() -> None:
    assert parse_window("2h", "1h", now=NOW) == (NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert parse_window(None, None, now=NOW) == (None, None)
    assert parse_window("2025-08-01", None, now=NOW) == (datetime(2025, 8, 1, tzinfo=UTC), None)


def test_window_since_after_until_is_an_error() -> None:
    with pytest.raises(TimeSpecError, match=r"^--since 1h is after --until 2h$"):
        parse_window("1h", "2h", now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("90", datetime(1970, 1, 1, 0, 1, 30, tzinfo=UTC)),  # a bare number is Unix time
    ],
)
def test_any_number_is_unix_time(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1000000d", "reaches back before year 1"),
        ("99999999999999999999", "Unix time out of range"),
        ("9" * 400 + "h", "too long a duration"),
    ],
)
def test_out_of_range_is_an_error_not_a_crash(text: str, message: str) -> None:
    with pytest.raises(TimeSpecError, match=message):
        parse_time(text, now=NOW)


def test_an_empty_window_end_is_an_error_not_ignored() -> None:
    with pytest.raises(TimeSpecError, match="is not a time"):
        parse_window("", None, now=NOW)
