"""--since/--until values: exactly what `docker logs` accepts (and days/weeks)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from incidentlog.errors import TimeSpecError
from incidentlog.timespec import parse_duration, parse_time, parse_window, unix_ns

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
        (" 10m ", timedelta(minutes=10)),
        ("250us", timedelta(microseconds=250)),
        ("2000ns", timedelta(microseconds=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "10", "10x", "1h 30m", "-5m", "m10", "10M", "1H"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(TimeSpecError, match=r"is not a duration \(use e\.g\. 45s, 90m"):
        parse_duration(text)


LOCAL = timezone(timedelta(hours=2), "CEST")
"""The zone of zone-less times in the table (docker: the client's offset now)."""

DOCKER_FORMS = [
    # Every form `docker logs --since/--until` documents
    # (https://docs.docker.com/reference/cli/docker/container/logs/: "an RFC 3339
    # date, a UNIX timestamp, or a Go duration string (e.g. 1m30s, 3h). Besides
    # RFC3339 date format you may also use RFC3339Nano, 2006-01-02T15:04:05,
    # 2006-01-02T15:04:05.999999999, 2006-01-02T07:00, and 2006-01-02. The local
    # timezone on the client will be used if you do not provide either a Z or a
    # +-00:00 timezone offset ... Unix timestamps ... seconds[.nanoseconds]"),
    # with the instant docker's GetTimestamp gives each.
    # -- Go durations (time.ParseDuration: ns us µs ms s m h, fractions, a sign)
    ("1m30s", NOW - timedelta(minutes=1, seconds=30)),
    ("3h", NOW - timedelta(hours=3)),
    ("42m", NOW - timedelta(minutes=42)),
    ("1.5h", NOW - timedelta(minutes=90)),
    (".5h", NOW - timedelta(minutes=30)),
    ("2h45m", NOW - timedelta(hours=2, minutes=45)),
    ("300ms", NOW - timedelta(milliseconds=300)),
    ("1500us", NOW - timedelta(microseconds=1500)),
    ("1500µs", NOW - timedelta(microseconds=1500)),  # micro sign
    ("1500μs", NOW - timedelta(microseconds=1500)),  # Greek mu
    ("3000ns", NOW - timedelta(microseconds=3)),
    ("0s", NOW),
    ("-10m", NOW + timedelta(minutes=10)),  # a negative duration is ahead of now
    ("+10m", NOW - timedelta(minutes=10)),
    # -- RFC 3339 and RFC3339Nano, with a zone
    ("2013-01-02T13:23:37Z", datetime(2013, 1, 2, 13, 23, 37, tzinfo=UTC)),
    ("2013-01-02T13:23:37+02:00", datetime(2013, 1, 2, 11, 23, 37, tzinfo=UTC)),
    ("2013-01-02T13:23:37-05:30", datetime(2013, 1, 2, 18, 53, 37, tzinfo=UTC)),
    ("2013-01-02T13:23:37.123456789Z", datetime(2013, 1, 2, 13, 23, 37, 123456, tzinfo=UTC)),
    ("2013-01-02T13:23:37.5+01:00", datetime(2013, 1, 2, 12, 23, 37, 500000, tzinfo=UTC)),
    ("2013-01-02T13:23Z", datetime(2013, 1, 2, 13, 23, tzinfo=UTC)),  # 2006-01-02T15:04Z07:00
    ("2013-01-02T13:23+01:00", datetime(2013, 1, 2, 12, 23, tzinfo=UTC)),
    ("2013-01-02T13Z", datetime(2013, 1, 2, 13, tzinfo=UTC)),  # 2006-01-02T15Z07:00
    ("2013-01-02Z", datetime(2013, 1, 2, tzinfo=UTC)),  # 2006-01-02Z07:00
    ("2013-01-02+02:00", datetime(2013, 1, 1, 22, tzinfo=UTC)),
    ("2013-01-02-02:00", datetime(2013, 1, 2, 2, tzinfo=UTC)),
    # -- the same without a zone: local time (LOCAL is UTC+2)
    ("2013-01-02T13:23:37", datetime(2013, 1, 2, 11, 23, 37, tzinfo=UTC)),
    ("2013-01-02T13:23:37.999999999", datetime(2013, 1, 2, 11, 23, 37, 999999, tzinfo=UTC)),
    ("2013-01-02T13:23", datetime(2013, 1, 2, 11, 23, tzinfo=UTC)),  # 2006-01-02T15:04
    ("2013-01-02T13", datetime(2013, 1, 2, 11, tzinfo=UTC)),  # 2006-01-02T15
    ("2013-01-02T7:05", datetime(2013, 1, 2, 5, 5, tzinfo=UTC)),  # Go's 15 takes one digit
    ("2013-01-02", datetime(2013, 1, 1, 22, tzinfo=UTC)),  # 2006-01-02
    # -- Unix timestamps, seconds[.nanoseconds]
    ("1357133017", datetime(2013, 1, 2, 13, 23, 37, tzinfo=UTC)),
    ("1357133017.5", datetime(2013, 1, 2, 13, 23, 37, 500000, tzinfo=UTC)),
    ("1357133017.000000001", datetime(2013, 1, 2, 13, 23, 37, tzinfo=UTC)),
    ("1357133017.123456789", datetime(2013, 1, 2, 13, 23, 37, 123456, tzinfo=UTC)),
    ("0", datetime(1970, 1, 1, tzinfo=UTC)),  # "0" is Unix time, not a duration
    ("90", datetime(1970, 1, 1, 0, 1, 30, tzinfo=UTC)),  # a bare number is Unix time
    # -- this tool's additions (docker refuses them): days and weeks
    ("2d", NOW - timedelta(days=2)),
    ("1w2d", NOW - timedelta(days=9)),
]


@pytest.mark.parametrize(("text", "expected"), DOCKER_FORMS)
def test_every_form_docker_documents(text: str, expected: datetime) -> None:
    parsed = parse_time(text, now=NOW, local=LOCAL)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


# What docker refuses (GetTimestamp errs), refused here too.
DOCKER_REFUSES = [
    "yesterday",
    "12:30",
    "1h ago",
    "1H",  # Go units are lower case
    "10M",
    "2025-13-01",
    "2013-01-02T25:00:00Z",
    "2013-01-02 13:23:37",  # a space for the T
    "2013-01-02t13:23:37z",
    "2013-01-02T13:23:37+0200",  # an offset needs its colon
    "1357133017.",  # a Unix time's fraction needs digits
    "-1357133017",  # no negative Unix time
    "13-01-02",
    "",  # (docker skips an empty value; here it is an error, not ignored)
]


@pytest.mark.parametrize("text", DOCKER_REFUSES)
def test_what_docker_refuses_is_refused(text: str) -> None:
    with pytest.raises(TimeSpecError, match=r"is not a time.*use RFC 3339 .* or a Go duration"):
        parse_time(text, now=NOW, local=LOCAL)


def test_zone_less_times_default_to_this_machine_s_offset_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        summer = datetime(2025, 8, 1, 14, tzinfo=UTC)  # EDT, UTC-4, as docker takes "now"
        assert parse_time("2025-08-01T10:00:00", now=summer) == summer
        assert parse_time("2025-08-01T10:00:00Z", now=summer) == summer - timedelta(hours=4)
        # docker uses the offset of now even for a winter date
        assert parse_time("2025-01-15", now=summer) == datetime(2025, 1, 15, 4, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_offset_is_converted_not_dropped() -> None:
    parsed = parse_time("2025-08-01T12:30:00-05:00", now=NOW)
    assert parsed == datetime(2025, 8, 1, 12, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.hour == 17


def test_window() -> None:
    assert parse_window("2h", "1h", now=NOW) == (NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert parse_window(None, None, now=NOW) == (None, None)
    assert parse_window("2025-08-01Z", None, now=NOW) == (datetime(2025, 8, 1, tzinfo=UTC), None)


def test_window_since_after_until_is_an_error() -> None:
    with pytest.raises(TimeSpecError, match=r"^--since 1h is after --until 2h$"):
        parse_window("1h", "2h", now=NOW)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1000000d", "too long a duration"),
        ("2562048h", "too long a duration"),  # Go's limit: 2562047h47m16.854775807s
        ("99999999999999999999", "Unix time out of range"),
        ("253402300800", "Unix time out of range"),  # 10000-01-01
        ("9" * 400 + "h", "too long a duration"),
    ],
)
def test_out_of_range_is_an_error_not_a_crash(text: str, message: str) -> None:
    with pytest.raises(TimeSpecError, match=message):
        parse_time(text, now=NOW)


def test_a_duration_past_year_9999_is_an_error() -> None:
    with pytest.raises(TimeSpecError, match="reaches outside years 1 to 9999"):
        parse_time("-2562047h", now=datetime(9900, 1, 1, tzinfo=UTC))


def test_an_empty_window_end_is_an_error_not_ignored() -> None:
    with pytest.raises(TimeSpecError, match="is not a time"):
        parse_window("", None, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a float of Unix seconds times 1e9 lands at …000001024: a line stamped
        # …000001000 would fall before --since and be skipped
        ("2026-12-05T23:41:05.123456789Z", 1_796_514_065_123_456_000),  # (µs kept)
        ("2025-08-01T12:30:00.000001Z", 1_754_051_400_000_001_000),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_unix_nanoseconds_are_exact(text: str, expected: int) -> None:
    """--since as engine nanoseconds: integer arithmetic, never above the time given."""
    assert unix_ns(parse_time(text)) == expected
