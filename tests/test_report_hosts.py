"""Every host a failure names: a summary row keeps one host per (service, rule), so a
client that cannot resolve `redis`, `ledger` and `mailer` must still name all three
(bounded: the first few, then how many more)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from report_helpers import report_json

from incidentlog.incident.issues import named_hosts

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def _lookup(ts: str, host: str) -> str:
    return (
        f'api-1  | 2025-03-01T10:00:{ts}Z level=error msg="sync failed" '
        f'err="dial tcp: lookup {host} on 127.0.0.11:53: no such host"\n'
    )


FIVE = (
    "cache-1  | 2025-03-01T10:00:00Z 1:M 01 Mar 2025 10:00:00.000 * Ready to accept connections tcp\n"
    + _lookup("01", "redis")
    + _lookup("02", "redis")
    + _lookup("03", "ledger")
    + _lookup("04", "redis")
    + _lookup("05", "mailer")
    + _lookup("06", "audit-sink")
    + _lookup("07", "geo.internal")
)


def test_every_unresolved_name_is_named_bounded(tmp_path: Path) -> None:
    """Before: only `redis` (the most common) was named; `ledger`, `mailer`, … never."""
    data = report_json(tmp_path, FIVE, NOW)
    (issue,) = data["issues"]
    assert issue["fields"]["host"] == "redis"
    problem, fix = issue["problem"], issue["fix"]
    assert "`redis`" in problem
    assert "(also `ledger`, `mailer`, `audit-sink` and 1 more)" in problem
    assert "`ledger`, `mailer` and `audit-sink` are no services of this stack" in fix
    assert "and 1 more name" in fix
    assert "geo.internal" not in problem  # (bounded: counted, not listed)


def test_one_name_says_nothing_more(tmp_path: Path) -> None:
    text = FIVE.split("\n")
    only_redis = "\n".join(x for x in text if "redis" in x or "cache" in x) + "\n"
    (issue,) = report_json(tmp_path, only_redis, NOW)["issues"]
    assert "also" not in issue["problem"]
    assert "Lookups of other names" not in issue["fix"]


REFUSED = """\
web-1  | 2025-03-01T10:00:01Z level=error msg="export" err="dial tcp 10.9.0.4:9000: connect: connection refused"
web-1  | 2025-03-01T10:00:02Z level=error msg="export" err="dial tcp 10.9.0.4:9000: connect: connection refused"
web-1  | 2025-03-01T10:00:03Z level=error msg="billing" err="dial tcp 10.9.0.7:8443: connect: connection refused"
"""


def test_a_refusal_from_two_addresses_names_both(tmp_path: Path) -> None:
    (issue,) = report_json(tmp_path, REFUSED, NOW)["issues"]
    # (inside the parenthesis naming the service: never two in a row)
    assert issue["problem"] == "Connection refused by 10.9.0.4:9000 (web; also `10.9.0.7`)"
    assert "The same failure also names `10.9.0.7`: check it the same way" in issue["fix"]


PUBLIC = """\
api-1  | 2025-03-01T10:00:01Z level=error msg="charge" err="Post \\"https://api.stripe.com/v1/charges\\": dial tcp: lookup api.stripe.com on 127.0.0.11:53: server misbehaving"
api-1  | 2025-03-01T10:00:02Z level=error msg="charge" err="Post \\"https://api.stripe.com/v1/charges\\": dial tcp: lookup api.stripe.com on 127.0.0.11:53: server misbehaving"
api-1  | 2025-03-01T10:00:03Z level=error msg="notify" err="Post \\"https://hooks.slack.com/x\\": dial tcp: lookup hooks.slack.com on 127.0.0.11:53: server misbehaving"
"""


def test_every_public_name_is_named_once(tmp_path: Path) -> None:
    (issue,) = report_json(tmp_path, PUBLIC, NOW)["issues"]
    assert "`api.stripe.com` and `hooks.slack.com`" in issue["problem"]
    assert "(also" not in issue["problem"]  # (named by the public-DNS advice already)


def test_named_hosts_most_often_first_then_earliest_and_redacted() -> None:
    rows = [
        ("api", "r", {"host": "b"}),
        ("api", "r", {"host": "a"}),
        ("api", "r", {"host": "a"}),
        ("api", "r", {"host": "c"}),
        ("api", "r", {"port": "1"}),
        ("web", "r", {"host": "postgres://app:hunter2secret@db"}),
    ]
    findings = pl.DataFrame(
        {
            "service": [s for s, _, _ in rows],
            "rule": [r for _, r, _ in rows],
            "fields": [json.dumps(f) for _, _, f in rows],
        }
    )
    hosts = named_hosts(findings)
    assert hosts[("api", "r")] == ["a", "b", "c"]
    assert "hunter2secret" not in "".join(hosts[("web", "r")])
    assert named_hosts(findings, redact=False)[("web", "r")] == ["postgres://app:hunter2secret@db"]


CELERY = """\
mq-1      | 2026-03-03T08:00:02Z 2026-03-03 08:00:02.000000+00:00 [info] <0.742.0> Server startup complete; 5 plugins started.
worker-1  | 2026-03-03T08:00:05Z [2026-03-03 08:00:05,100: ERROR/MainProcess] consumer: Cannot connect to amqp://app:**@rabbitmq:5672//: [Errno -2] Name or service not known.
beat-1    | 2026-03-03T08:00:06Z [2026-03-03 08:00:06,000: ERROR/MainProcess] beat: Connection error: [Errno -2] Name or service not known. Trying again in 2.0 seconds...
worker-1  | 2026-03-03T08:00:07Z [2026-03-03 08:00:07,110: ERROR/MainProcess] consumer: Cannot connect to amqp://app:**@rabbitmq:5672//: [Errno -2] Name or service not known.
"""


def test_a_lookup_naming_no_host_joins_the_one_named_at_the_time(tmp_path: Path) -> None:
    """Before: a second issue "DNS resolution failed (beat)" beside the worker's `rabbitmq`."""
    (issue,) = report_json(tmp_path, CELERY, NOW)["issues"]
    assert issue["services"] == ["beat", "worker"]
    assert issue["fix"].startswith("Point beat and worker at `mq:5672`")


def test_two_names_at_the_time_leave_the_unnamed_lookup_alone(tmp_path: Path) -> None:
    other = (
        "mailer-1  | 2026-03-03T08:00:06Z Error: getaddrinfo ENOTFOUND smtp-relay\n"
        "mailer-1  | 2026-03-03T08:00:08Z Error: getaddrinfo ENOTFOUND smtp-relay\n"
    )
    issues = report_json(tmp_path, CELERY + other, NOW)["issues"]
    assert ["beat"] in [i["services"] for i in issues]


def test_an_address_beside_a_name_is_that_name_resolved(tmp_path: Path) -> None:
    """Drivers print the name, then the address it resolved to: no "also `10.9.0.4`"."""
    text = (
        'api-1  | 2025-03-01T10:00:01Z level=error msg="sync failed" err="dial tcp: lookup'
        ' ledger on 127.0.0.11:53: no such host"\n'
        'api-1  | 2025-03-01T10:00:02Z level=error msg="sync failed" err="dial tcp: lookup'
        ' ledger on 127.0.0.11:53: no such host"\n'
        'api-1  | 2025-03-01T10:00:03Z level=error msg="sync failed" err="dial tcp: lookup'
        ' 10.9.0.4 on 127.0.0.11:53: no such host"\n'
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "also" not in issue["problem"]
