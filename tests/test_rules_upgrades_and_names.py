"""Rules added by the blind review, and the report fixes around them.

Ruby clients that cannot resolve a name (the name read from what the client wraps
around getaddrinfo's text), MariaDB/MySQL refusing another version's redo log after
an unclean stop, Redis refusing a newer RDB format, MongoDB refusing data files of
another featureCompatibilityVersion; then the report: a misnamed service that several
clients dial, a server that only refused logins (never recreated), and access-log
lines that are not start-up banners.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.ingest import read_inputs
from tests.report_helpers import first_screen, report_md

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _findings(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    ingested = read_inputs([str(path)])
    return detect_findings(ingested.logs, ingested.events, compile_rules(load_rules()))


def _fields(findings: pl.DataFrame, rule: str) -> list[dict[str, str]]:
    rows = findings.filter(pl.col("rule") == rule).get_column("fields").to_list()
    return [json.loads(f or "{}") for f in rows]


@pytest.mark.parametrize(
    ("line", "host"),
    [
        (
            "ERROR: Error fetching job: getaddrinfo: Name or service not known "
            "(redis://queue-store:6379)",
            "queue-store",
        ),
        (
            "RedisClient::CannotConnectError: getaddrinfo: Temporary failure in name "
            "resolution (rediss://:secret@kv.internal:6380/1)",
            "kv.internal",
        ),
        (
            "Redis::CannotConnectError (Error connecting to Redis on sessions:6379 (SocketError)):",
            "sessions",
        ),
        (
            "Failed to open TCP connection to billing-api:8443 (getaddrinfo: Name or service "
            "not known) (SocketError)",
            "billing-api",
        ),
        (
            "Faraday::ConnectionFailed: Failed to open TCP connection to search:9200 "
            "(getaddrinfo(3): Name or service not known) (Socket::ResolutionError)",
            "search",
        ),
        ("notify failed: no address for relay (Resolv::ResolvError)", "relay"),
        ("Resolv::ResolvError: DNS result has no information for mailer", "mailer"),
    ],
)
def test_ruby_resolution_failures_name_their_host(tmp_path: Path, line: str, host: str) -> None:
    found = _findings(tmp_path, f"worker-1  | E, [2026-03-11T08:14:06.871Z #7] ERROR -- : {line}\n")
    fields = _fields(found, "network.ruby-name-resolution")
    assert [f["host"] for f in fields] == [host]


def test_ruby_connection_refused_is_not_a_resolution_failure(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        "web-1  | Error connecting to Redis on cache:6379 (Errno::ECONNREFUSED)\n",
    )
    assert not _fields(found, "network.ruby-name-resolution")


def test_a_name_several_clients_miss_points_them_at_the_server_on_its_port(
    tmp_path: Path,
) -> None:
    md = report_md(
        tmp_path,
        "cache-1   | 1:M 11 Mar 2026 08:14:02.220 * Ready to accept connections tcp\n"
        "worker-1  | 2026-03-11T08:14:06.871Z ERROR: Error fetching job: getaddrinfo: Name or"
        " service not known (redis://redis:6379)\n"
        "web-1     | 2026-03-11T08:15:30.204Z Redis::CannotConnectError (Error connecting to"
        " Redis on redis:6379 (SocketError)):\n",
        NOW,
    )
    assert "Point web and worker at `cache:6379`" in first_screen(md)
    assert "`redis` is no service here, and cache is the one that listens on 6379" in md


@pytest.mark.parametrize(
    ("line", "product", "version"),
    [
        (
            "2026-04-02 09:12:41 0 [ERROR] InnoDB: Upgrade after a crash is not supported. The"
            " redo log was created with MariaDB 10.5.21. You must start up and shut down"
            " MariaDB 10.7 or earlier.",
            "MariaDB",
            "10.5.21",
        ),
        (
            "2026-04-02 09:12:41 0 [ERROR] InnoDB: Downgrade after a crash is not supported."
            " The redo log was created with MariaDB 11.4.2.",
            "MariaDB",
            "11.4.2",
        ),
        (
            "2026-04-02T09:12:41.600Z 1 [ERROR] [MY-012526] [InnoDB] Upgrade is not supported"
            " after a crash or shutdown with innodb_fast_shutdown = 2. This redo log was created"
            " with MySQL 5.7.44, and it appears logically non empty.",
            "MySQL",
            "5.7.44",
        ),
    ],
)
def test_upgrade_after_a_crash_names_the_version_that_wrote_the_redo_log(
    tmp_path: Path, line: str, product: str, version: str
) -> None:
    found = _findings(tmp_path, f"db-1  | {line}\n")
    fields = _fields(found, "mysql.upgrade-after-crash")
    assert fields == [{"product": product, "version": version}]
    assert not _fields(found, "mysql.data-dir-version")


def test_upgrade_after_a_crash_advice_starts_the_old_version_once(tmp_path: Path) -> None:
    md = report_md(
        tmp_path,
        "db-1  | 2026-04-02 09:12:41 0 [ERROR] InnoDB: Upgrade after a crash is not supported."
        " The redo log was created with MariaDB 10.5.21.\n"
        "db-1 exited with code 1\n",
        NOW,
    )
    screen = first_screen(md)
    assert "(MariaDB 10.5.21)" in screen
    assert "`docker compose stop -t 300 db`" in screen
    assert "Do not delete the `ib_logfile*` files" in screen
    assert "the data_version" not in md


def test_redis_rdb_from_a_newer_version_has_its_own_rule(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        "cache-1  | 1:M 19 May 2026 14:02:11.405 # Can't handle RDB format version 12\n",
    )
    assert _fields(found, "redis.rdb-newer-version") == [{"rdb_version": "12"}]
    assert not _fields(found, "redis.persistence-load")
    md = report_md(
        tmp_path,
        "cache-1  | 1:M 19 May 2026 14:02:11.405 # Can't handle RDB format version 11\n"
        "cache-1 exited with code 1\n",
        NOW,
    )
    assert "is RDB format 11, written by a newer Redis" in first_screen(md)
    assert "redis-check-aof" not in first_screen(md)


@pytest.mark.parametrize(
    ("error", "fcv"),
    [
        (
            "UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document (ERROR:"
            " Location4926900: Invalid featureCompatibilityVersion document in"
            ' admin.system.version: { _id: \\"featureCompatibilityVersion\\", version: \\"5.0\\" }.'
            " :: caused by :: Invalid feature compatibility version value, expected '6.0' or"
            " '6.3' or '7.0'.)",
            "5.0",
        ),
        (
            "UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document (ERROR:"
            " BadValue: Invalid value for version, found 3.4, expected '4.0' or '3.6'.)",
            "3.4",
        ),
    ],
)
def test_mongo_fcv_mismatch_names_the_data_files_fcv(tmp_path: Path, error: str, fcv: str) -> None:
    record = {
        "t": {"$date": "2026-06-08T07:41:02.910+00:00"},
        "s": "F",
        "c": "CONTROL",
        "id": 20573,
        "ctx": "initandlisten",
        "msg": "Wrong mongod version",
        "attr": {"error": error.replace('\\"', '"')},
    }
    found = _findings(tmp_path, f"mongo-1  | {json.dumps(record)}\n")
    assert _fields(found, "mongodb.feature-compatibility") == [{"fcv": fcv}]
    assert not _fields(found, "mongodb.data-version")


def test_mongo_fcv_advice_gives_the_step_without_confirm_before_7(tmp_path: Path) -> None:
    rule = load_rules().get("mongodb.feature-compatibility")
    assert rule is not None
    text = rule.remediation
    assert 'setFeatureCompatibilityVersion: "5.0" }}' in text
    assert "from 7.0 on add `confirm: true`" in text
    assert "X.0" not in text


_REFUSED = (
    "db-1      | 2026-07-14 10:02:05.205 UTC [41] FATAL:  password authentication failed"
    ' for user "ledger"\n'
    "api-1     | 2026-07-14T10:02:05.210Z ERROR pool: connection failed: FATAL:  password"
    ' authentication failed for user "ledger"\n'
    "db-1      | 2026-07-14 10:02:06.211 UTC [42] FATAL:  password authentication failed"
    ' for user "ledger"\n'
    "api-1     | 2026-07-14T10:02:07.220Z FATAL could not open database pool, exiting\n"
    "api-1 exited with code 1\n"
)


def test_a_server_that_only_refused_logins_is_not_recreated(tmp_path: Path) -> None:
    md = report_md(tmp_path, _REFUSED, NOW)
    assert "docker compose up -d --force-recreate api\n" in md
    assert "--force-recreate api db" not in md
    assert "| db |" not in first_screen(md)


def test_both_sides_of_a_refused_login_still_running_are_both_recreated(tmp_path: Path) -> None:
    text = _REFUSED.replace("api-1 exited with code 1\n", "")
    md = report_md(tmp_path, text, NOW)
    assert "docker compose up -d --force-recreate api db" in md


def test_an_access_log_line_repeating_is_no_restart(tmp_path: Path) -> None:
    request = (
        'gateway-1 | 172.18.0.1 - - [14/Jul/2026:10:02:{s:02d} +0000] "GET /v1/balance'
        ' HTTP/1.1" 502 157 "-" "curl/8.5.0"\n'
    )
    error = (
        "gateway-1 | 2026/07/14 10:02:{s:02d} [error] 29#29: *7 connect() failed (111:"
        " Connection refused) while connecting to upstream, client: 172.18.0.1, upstream:"
        ' "http://172.18.0.4:8080/v1/balance"\n'
    )
    text = "".join(request.format(s=s) + error.format(s=s) for s in (9, 12, 15, 18))
    found = _findings(tmp_path, text)
    assert not _fields(found, "core.banner-repeats")


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-05 21:00:02 0 [ERROR] mariadbd: Can't create/write to file"
        " '/var/lib/mysql/aria_log_control' (Errcode: 13 \"Permission denied\")",
        "mysqld: Can't create/write to file '/var/lib/mysql/is_writable'"
        " (OS errno 13 - Permission denied)",
    ],
)
def test_mysql_and_mariadb_data_directory_permissions(tmp_path: Path, line: str) -> None:
    """MariaDB words errno 13 `(Errcode: 13 "Permission denied")`, MySQL `(OS errno 13 -
    …)`: both are the data directory's owner, uid 999 (before: MariaDB's got the generic
    `chown -R <uid>:<gid>` advice)."""
    found = _findings(tmp_path, f"db-1  | {line}\n")
    fields = _fields(found, "mysql.os-error-13")
    assert fields and fields[0]["path"].startswith("/var/lib/mysql/")


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (
            "ImportError: cannot import name 'DATABASE_URL' from 'app.settings'"
            " (/srv/app/settings.py)",
            "python.cannot-import-name-own-module",
        ),
        (
            "ImportError: cannot import name 'db' from partially initialized module"
            " 'app.models' (most likely due to a circular import) (/app/app/models.py)",
            "python.circular-import",
        ),
        (
            "ImportError: cannot import name 'soft_unicode' from 'markupsafe'"
            " (/usr/local/lib/python3.11/site-packages/markupsafe/__init__.py)",
            "python.cannot-import-name",
        ),
    ],
)
def test_a_name_missing_from_the_apps_own_module_is_no_version_mismatch(
    tmp_path: Path, line: str, rule: str
) -> None:
    """A module under the application's folder, or one still being imported, is the
    code's own doing (renamed, stale image, import cycle), not a package to pin (before:
    every such line got "pin that package in requirements.txt")."""
    found = _findings(tmp_path, f"worker-1  | {line}\n")
    assert found.get_column("rule").to_list() == [rule]
