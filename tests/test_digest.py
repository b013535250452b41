"""The digest model against a history whose truth is known.

The fixture writes real-shaped `docker compose logs --timestamps` text and
`docker events --format '{{json .}}'` lines with hand-placed times, ingests
them through the normal ingest path, and the tests assert the counts the
fixture was built to have (worked out by hand in the comments).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from incidentlog.digest import (
    PATTERN_LOOKBACK,
    SIGNATURE_CACHE,
    SPARK_CHARS,
    Period,
    UsageError,
    build_digest,
    display_zone,
    resolve_period,
    sparkline,
)
from incidentlog.ingest import ingest_into_store
from incidentlog.store import Store


def at(hour: int, minute: int = 0, second: int = 0, *, day: int = 2) -> datetime:
    return datetime(2025, 8, day, hour, minute, second, tzinfo=UTC)


def stamp(moment: datetime, ns: int = 0) -> str:
    """Docker's fixed 9-digit RFC 3339 stamp."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000 + ns:09d}Z"


def log_line(container: str, moment: datetime, level: str, text: str, ns: int = 0) -> str:
    """A compose v2 line whose message is Python logging output (level is unambiguous)."""
    local = moment.strftime("%Y-%m-%d %H:%M:%S") + f",{moment.microsecond // 1000:03d}"
    return f"{container:<8} | {stamp(moment, ns)} {local} {level} [app] {text}"


def event(service: str, moment: datetime, action: str, **attributes: str) -> str:
    """A `docker events --format '{{json .}}'` container event of compose project `shop`."""
    name = f"shop-{service}-1"
    attrs = {
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": "1",
        "image": f"{service}:1",
        "name": name,
        **attributes,
    }
    nanos = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    container_id = hashlib.sha256(name.encode()).hexdigest()
    return json.dumps(
        {
            "status": action,
            "id": container_id,
            "from": f"{service}:1",
            "Type": "container",
            "Action": action,
            "Actor": {"ID": container_id, "Attributes": attrs},
            "scope": "local",
            "time": nanos // 10**9,
            "timeNano": nanos,
        }
    )


def write_store(tmp: Path, logs: Iterable[str], events: Iterable[str]) -> Path:
    log_file = tmp / "compose.log"
    log_file.write_text("\n".join(logs) + "\n", encoding="utf-8")
    event_file = tmp / "events.jsonl"
    event_file.write_text("\n".join(events) + "\n", encoding="utf-8")
    store = tmp / "store"
    ingest_into_store([log_file, event_file], store=store, host="h1")
    return store


PAYMENT = "payment failed: card declined order={n}"


def shop_history() -> tuple[list[str], list[str]]:
    """The `shop` stack around the hour under test, 2025-08-02 13:00-14:00 UTC.

    api     errors   Aug 1 13:xx: 7 payment (the same hour a day earlier)
                     Aug 1 20:xx: 2 payment (sparkline hour 6 of 24)
                     Aug 2 12:xx: 4 payment (12:10, 12:20, 12:40, 12:59:59.999999999)
                     Aug 2 13:xx: 20 payment (13:00:00 exactly, then every 2 min to 13:38)
                                  + 3 KeyError (new pattern) + 1 ModuleNotFoundError (new finding)
                     Aug 2 14:00:00 exactly: 1 payment (the next hour)
            warnings Aug 2 12:xx: 2; 13:xx: 5
    worker  12 info records in 12:xx, none in 13:xx (went silent)
    cache   10 info records in every hour from Aug 1 12:00 to Aug 2 14:00 (quiet)
    db      events: start Aug 1 00:00; die 137 + oom at 13:20, start 13:21 (1 restart, 1 OOM kill)
    web     events: healthy Aug 1 00:01 (start-up, not listed); unhealthy 13:30; healthy 13:45
    """
    logs: list[str] = []
    logs += [
        log_line("api-1", at(13, 5 * i, day=1), "ERROR", PAYMENT.format(n=i)) for i in range(7)
    ]
    logs += [
        log_line("api-1", at(20, 10 * i, day=1), "ERROR", PAYMENT.format(n=i)) for i in range(2)
    ]
    logs += [log_line("api-1", at(12, m), "ERROR", PAYMENT.format(n=m)) for m in (10, 20, 40)]
    logs.append(log_line("api-1", at(12, 59, 59), "ERROR", PAYMENT.format(n=99), ns=999_999_999))
    logs += [
        log_line("api-1", at(13, 2 * i), "ERROR", PAYMENT.format(n=100 + i)) for i in range(20)
    ]
    logs += [
        log_line("api-1", at(13, 41, i), "ERROR", f"KeyError: 'customer_id' in request {i}")
        for i in range(3)
    ]
    logs.append(
        log_line("api-1", at(13, 50), "ERROR", "ModuleNotFoundError: No module named 'stripe'")
    )
    logs.append(log_line("api-1", at(14, 0), "ERROR", PAYMENT.format(n=500)))
    logs += [log_line("api-1", at(12, 30, i), "WARNING", f"slow request {i} ms") for i in range(2)]
    logs += [log_line("api-1", at(13, 30, i), "WARNING", f"slow request {i} ms") for i in range(5)]
    logs += [log_line("worker-1", at(12, 5, i), "INFO", f"job {i} done") for i in range(12)]
    start = at(12, day=1)
    for h in range(27):
        moment = start + timedelta(hours=h)
        logs += [
            log_line("cache-1", moment + timedelta(minutes=5 * i), "INFO", "ping")
            for i in range(10)
        ]
    events = [
        event("db", at(0, day=1), "start"),
        event("db", at(13, 20), "oom"),
        event("db", at(13, 20, 1), "die", exitCode="137"),
        event("db", at(13, 21), "start"),
        event("web", at(0, 1, day=1), "health_status: healthy"),
        event("web", at(13, 30), "health_status: unhealthy"),
        event("web", at(13, 45), "health_status: healthy"),
    ]
    return logs, events


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs, events = shop_history()
    return write_store(tmp_path_factory.mktemp("shop"), logs, events)


HOUR = Period(at(13), at(14))


def by_service(digest_services: Iterable[object]) -> dict[str, object]:
    return {s.service: s for s in digest_services}  # type: ignore[attr-defined]


def test_counts_per_service_against_previous_hour_and_day_before(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    api = by_service(digest.services)["api"]
    assert api.errors == 24  # 20 payment + 3 KeyError + 1 ModuleNotFoundError
    assert api.errors_previous == 4  # includes 12:59:59.999999999, not 14:00:00
    assert api.errors_day_before == 7
    assert api.warnings == 5
    assert api.warnings_previous == 2
    assert api.moved  # +20: at least 10 and at least half of 4
    assert digest.totals["errors"] == 24
    assert digest.previous == Period(at(12), at(13))
    assert digest.day_before == Period(at(13, day=1), at(14, day=1))


def test_hour_boundaries_are_half_open(shop: Path) -> None:
    """13:00:00.000000000 is in the 13:00 hour; 14:00:00 is not; 12:59:59.999999999 is in 12:00."""
    api_14 = by_service(build_digest(Period(at(14), at(15)), store=shop).services)["api"]
    assert api_14.errors == 1
    assert api_14.errors_previous == 24
    api_12 = by_service(build_digest(Period(at(12), at(13)), store=shop).services)["api"]
    assert api_12.errors == 4


def test_sparkline_counts_the_24_hours_ending_with_the_period(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    api = by_service(digest.services)["api"]
    expected = [0] * 24
    expected[6] = 2  # Aug 1 20:00 is the 7th hour after Aug 1 14:00
    expected[22] = 4
    expected[23] = 24
    assert list(api.errors_24h) == expected
    assert digest.hours[0] == at(14, day=1)
    assert digest.hours[-1] == at(13)
    assert api.sparkline[23] == SPARK_CHARS[-1]
    assert api.sparkline[0] == SPARK_CHARS[0]
    assert api.sparkline[6] != SPARK_CHARS[0]  # 2 of 24 still shows


def test_restarts_oom_kills_and_health_transitions_from_events(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    db = by_service(digest.services)["db"]
    assert (db.restarts, db.oom_kills) == (1, 1)  # the first start of Aug 1 is not a restart
    assert [(h.service, h.before, h.after) for h in digest.health_transitions] == [
        ("web", "healthy", "unhealthy"),
        ("web", "unhealthy", "healthy"),
    ]
    assert [h.ts for h in digest.health_transitions] == [at(13, 30), at(13, 45)]
    assert by_service(digest.services)["web"].health_transitions == 2


def test_silent_and_quiet_services(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    assert [s.service for s in digest.silent_services] == ["worker"]
    worker = by_service(digest.services)["worker"]
    assert (worker.records, worker.records_previous) == (0, 12)
    assert worker.last_seen == at(12, 5, 11)
    assert "cache" in digest.quiet_services
    assert "cache" not in [s.service for s in digest.reported_services]


def test_new_signatures_are_never_seen_before_in_the_history(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    new = {(s.kind, s.service, s.category) for s in digest.new_signatures}
    assert ("finding", "api", "missing-module") in new
    patterns = [s for s in digest.new_signatures if s.kind == "pattern"]
    # KeyError and ModuleNotFoundError are new; payment failures were seen Aug 1.
    assert sorted(s.count for s in patterns) == [1, 3]
    assert all("payment failed" not in s.title for s in digest.new_signatures)
    keyerror = next(s for s in patterns if s.count == 3)
    assert keyerror.first_seen == at(13, 41)
    assert "KeyError" in keyerror.sample


def test_movers_and_top_patterns(shop: Path) -> None:
    digest = build_digest(HOUR, store=shop)
    payment = digest.top_patterns[0]
    assert (payment.service, payment.count, payment.count_previous) == ("api", 20, 4)
    assert "payment failed" in payment.template
    assert "<NUM>" in payment.template
    movers = [(m.kind, m.count, m.count_previous) for m in digest.top_movers]
    assert ("pattern", 20, 4) in movers
    # The next hour: payment failures dropped from 20 to 1; KeyError vanished.
    later = build_digest(Period(at(14), at(15)), store=shop)
    vanished = {s.title for s in later.vanished_signatures if s.kind == "pattern"}
    assert any("KeyError" in t for t in vanished)
    assert ("pattern", 1, 20) in [(m.kind, m.count, m.count_previous) for m in later.top_movers]


def test_an_empty_period_inside_the_history(shop: Path) -> None:
    """Aug 1 03:00: the stack ran (db started at midnight) but logged nothing yet."""
    digest = build_digest(Period(at(3, day=1), at(4, day=1)), store=shop)
    assert not digest.before_history
    assert digest.totals["errors"] == 0
    assert digest.new_signatures == ()
    assert digest.top_patterns == ()
    assert digest.unchanged

    # Aug 1 13:00, the day the history starts: nothing to compare with a day earlier,
    # and the first 10 sparkline hours (Jul 31 14:00 .. Aug 1 00:00) are blank, not "no errors".
    first_day = build_digest(Period(at(13, day=1), at(14, day=1)), store=shop)
    assert not first_day.has_day_before
    assert first_day.has_previous
    api = by_service(first_day.services)["api"]
    assert api.errors == 7
    assert api.sparkline == " " * 10 + SPARK_CHARS[0] * 13 + SPARK_CHARS[-1]


def test_a_period_before_any_history(shop: Path) -> None:
    digest = build_digest(
        Period(at(10, day=1) - timedelta(days=30), at(11, day=1) - timedelta(days=30)), store=shop
    )
    assert digest.before_history
    assert digest.services == () or all(s.records == 0 for s in digest.services)
    assert digest.unchanged
    assert digest.history_start == at(0, day=1)


def test_unchanged_when_every_hour_looks_the_same(tmp_path: Path) -> None:
    """Two identical hours of errors: nothing new, nothing moved."""
    logs = []
    for hour in (10, 11, 12):
        logs += [
            log_line("api-1", at(hour, 5 * i), "ERROR", f"cache miss for key {i}") for i in range(6)
        ]
        logs += [log_line("api-1", at(hour, 5 * i, 30), "INFO", "ok") for i in range(6)]
    store = write_store(tmp_path, logs, [event("api", at(9), "start")])
    digest = build_digest(Period(at(12), at(13)), store=store)
    assert digest.unchanged
    assert by_service(digest.services)["api"].errors == 6
    # A burst of a known pattern moves it: no longer unchanged.
    logs += [log_line("api-1", at(13, 0, i), "ERROR", f"cache miss for key {i}") for i in range(30)]
    other = tmp_path / "burst"
    other.mkdir()
    burst = build_digest(Period(at(13), at(14)), store=write_store(other, logs, []))
    assert not burst.unchanged
    assert not burst.new_signatures
    assert [(m.count, m.count_previous) for m in burst.top_movers] == [(30, 6)]


# ---- periods and time zones -----------------------------------------------------------


def test_hour_is_read_in_the_display_zone() -> None:
    now = at(20)
    assert resolve_period(hour="2025-08-02T13", now=now) == HOUR
    assert resolve_period(hour="2025-08-02T15", zone=ZoneInfo("Europe/Berlin"), now=now) == HOUR
    assert resolve_period(hour="2025-08-02T09", zone=ZoneInfo("America/New_York"), now=now) == HOUR
    kolkata = resolve_period(hour="2025-08-02T18", zone=ZoneInfo("Asia/Kolkata"), now=now)
    assert kolkata == Period(at(12, 30), at(13, 30))
    assert resolve_period(hour="2025-08-02T15+02:00", zone=ZoneInfo("Asia/Tokyo"), now=now) == HOUR
    assert resolve_period(hour="2025-08-02T13Z", zone=ZoneInfo("Asia/Tokyo"), now=now) == HOUR


def test_half_hour_zone_counts(shop: Path) -> None:
    """18:00-19:00 in Kolkata is 12:30-13:30 UTC: 12:40 and 12:59:59.9 of the 12:00 errors,
    and the payment errors of 13:00..13:28 (15 of them)."""
    period = resolve_period(hour="2025-08-02T18", zone=ZoneInfo("Asia/Kolkata"), now=at(20))
    digest = build_digest(period, store=shop, zone=ZoneInfo("Asia/Kolkata"))
    assert by_service(digest.services)["api"].errors == 2 + 15
    assert digest.zone == "Asia/Kolkata"


def test_default_period_is_the_last_full_hour() -> None:
    assert resolve_period(now=at(14, 7, 3)) == HOUR
    assert resolve_period(now=at(14, 0, 0)) == HOUR
    # In Kolkata the last full local hour ended at 13:30 UTC.
    assert resolve_period(now=at(14, 7), zone=ZoneInfo("Asia/Kolkata")) == Period(
        at(12, 30), at(13, 30)
    )


def test_since_runs_until_now() -> None:
    assert resolve_period(since="90m", now=at(14, 30)) == Period(at(13), at(14, 30))
    assert resolve_period(since="2025-08-02T13:00:00Z", now=at(14)) == HOUR


def test_the_same_hour_a_day_earlier_follows_the_wall_clock_across_dst(tmp_path: Path) -> None:
    """Berlin left summer time on 2025-10-26: 12:00 CET that day is 11:00 UTC; 12:00 the
    day before was CEST, 10:00 UTC, 25 hours earlier."""
    store = write_store(
        tmp_path, [log_line("api-1", at(9, day=20).replace(month=10), "INFO", "x")], []
    )
    berlin = ZoneInfo("Europe/Berlin")
    period = resolve_period(hour="2025-10-26T12", zone=berlin, now=at(0, day=27).replace(month=10))
    assert period.start == datetime(2025, 10, 26, 11, tzinfo=UTC)
    digest = build_digest(period, store=store, zone=berlin)
    assert digest.day_before.start == datetime(2025, 10, 25, 10, tzinfo=UTC)
    assert digest.day_before.length == timedelta(hours=1)


def test_bad_periods_and_zones_are_one_line_errors() -> None:
    with pytest.raises(UsageError, match="DST gap"):
        resolve_period(hour="2025-03-30T02", zone=ZoneInfo("Europe/Berlin"))
    with pytest.raises(UsageError, match="is not an hour"):
        resolve_period(hour="13:00")
    with pytest.raises(UsageError, match="no such date"):
        resolve_period(hour="2025-02-30T13")
    with pytest.raises(UsageError, match="not both"):
        resolve_period(hour="2025-08-02T13", since="1h")
    with pytest.raises(UsageError, match="not a time zone"):
        display_zone("Mars/Olympus")


def test_sparkline_scale() -> None:
    assert sparkline([0, 0, 0]) == SPARK_CHARS[0] * 3
    assert sparkline([0, 0, 4], blank=2) == "  " + SPARK_CHARS[-1]
    assert sparkline([0, 1, 100]) == SPARK_CHARS[0] + SPARK_CHARS[1] + SPARK_CHARS[-1]
    assert sparkline([5, 5]) == SPARK_CHARS[-1] * 2
    line = sparkline(list(range(8)))
    assert list(line) == sorted(line)  # monotonic counts, monotonic bars


def test_whole_earlier_days_are_detected_once_and_cached(tmp_path: Path) -> None:
    """ "Seen before" runs all rules once on each whole earlier day and keeps
    that day's (service, rule) pairs under the store, valid while the day's
    files are the same: a later digest reads them instead of detecting again."""
    store = write_store(tmp_path, *shop_history())
    digest = build_digest(HOUR, store=store)
    new = {(s.service, s.category): s for s in digest.new_signatures if s.kind == "finding"}
    assert ("api", "missing-module") in new
    cached = Store.open(store).cache_dir(SIGNATURE_CACHE) / "2025-08-01.json"
    assert cached == store / "cache" / "finding-signatures" / "2025-08-01.json"
    kept = json.loads(cached.read_text())
    assert kept["key"]["files"] and all(
        f[0].startswith(("logs/", "events/")) for f in kept["key"]["files"]
    )
    rule = new[("api", "missing-module")].id
    # a cache entry saying the rule fired on Aug 1 is believed ...
    cached.write_text(json.dumps(kept | {"pairs": [*kept["pairs"], ["api", rule]]}))
    again = build_digest(HOUR, store=store)
    assert ("api", "missing-module") not in {
        (s.service, s.category) for s in again.new_signatures if s.kind == "finding"
    }
    # ... until Aug 1's files change: then the day is detected again
    late = tmp_path / "late.log"
    late.write_text(log_line("cache-1", at(23, 59, day=1), "INFO", "ping late") + "\n")
    ingest_into_store([late], store=store, host="h1")
    fresh = build_digest(HOUR, store=store)
    assert ("api", "missing-module") in {
        (s.service, s.category) for s in fresh.new_signatures if s.kind == "finding"
    }
    assert json.loads(cached.read_text())["pairs"] == kept["pairs"]


def test_an_error_pattern_counts_as_seen_within_the_lookback_only(tmp_path: Path) -> None:
    """Error patterns are mined in one batch, bounded to PATTERN_LOOKBACK before
    the period: one seen three days earlier is not new, one last seen ten days
    earlier is new again (findings look back over the whole history)."""
    assert timedelta(days=7) == PATTERN_LOOKBACK
    period = Period(at(13, day=20), at(14, day=20))
    logs = [
        log_line("api-1", at(9, day=17), "ERROR", "cache miss storm on shard 3"),
        log_line("api-1", at(9, day=10), "ERROR", "ledger sync failed for account 7"),
        log_line("api-1", at(13, 5, day=20), "ERROR", "cache miss storm on shard 4"),
        log_line("api-1", at(13, 6, day=20), "ERROR", "ledger sync failed for account 8"),
    ]
    store = write_store(tmp_path, logs, [event("api", at(9, day=10), "start")])
    new = {s.title for s in build_digest(period, store=store).new_signatures if s.kind == "pattern"}
    assert any("ledger sync failed" in title for title in new)
    assert not any("cache miss storm" in title for title in new)
