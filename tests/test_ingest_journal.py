"""Container logs pasted from the host's journal or syslog (the journald and syslog
logging drivers): identifier, host and the journal's time, in each format
`journalctl` and rsyslog print."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from report_helpers import report_json

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import InputFormat, read_inputs
from incidentlog.ingest.journal import parse_journal_lines
from incidentlog.ingest.sniff import sniff_format
from incidentlog.schema import LOGS_SCHEMA

JOURNAL = """\
-- Boot 4c1d2e3f4a5b6c7d8e9f00112233aabb --
Nov 30 23:59:58 node-2 shop-db-1[812]: LOG:  database system is ready to accept connections
Dec 01 00:00:01 node-2 shop-api-1[812]: Started server process [1]
Dec 01 00:00:02 node-2 shop-api-1[812]: Traceback (most recent call last):
Dec 01 00:00:02 node-2 shop-api-1[812]:   File "/app/main.py", line 12, in <module>
Dec 01 00:00:02 node-2 shop-api-1[812]: ModuleNotFoundError: No module named 'orders'
Dec 01 00:00:03 node-2 dockerd[812]: time="2025-12-01T00:00:03Z" level=info msg="ignoring event"
Dec  1 00:00:04 node-2 shop-web-1[812]: GET /cart 502
"""


def ingest(tmp_path: Path, text: str, **kwargs: str) -> pl.DataFrame:
    path = tmp_path / "journal.txt"
    path.write_text(text, encoding="utf-8")
    result = read_inputs([path], host="testhost", **kwargs)
    assert result.logs.schema == LOGS_SCHEMA
    (source,) = result.summary.sources
    assert source.format is InputFormat.JOURNAL
    assert source.rejected_lines == 1  # the boot line: counted, not lost
    return result.logs.sort("seq")


def test_a_journal_paste_names_services_hosts_and_times(tmp_path: Path) -> None:
    logs = ingest(tmp_path, JOURNAL)
    # the containers share the project prefix; the engine's own lines do not break it
    assert logs.get_column("service").unique(maintain_order=True).to_list() == [
        "db",
        "api",
        "dockerd",
        "web",
    ]
    assert set(logs.get_column("project").drop_nulls()) == {"shop"}
    assert set(logs.get_column("host")) == {"node-2"}
    api = logs.filter(pl.col("service") == "api")
    # a traceback sent line by line is one record again
    assert api.get_column("message").to_list() == [
        "Started server process [1]",
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 12, in <module>\n'
        "ModuleNotFoundError: No module named 'orders'",
    ]
    times = logs.get_column("ts").to_list()
    assert [(t.month, t.day, t.hour, t.minute, t.second) for t in times] == [
        (11, 30, 23, 59, 58),
        (12, 1, 0, 0, 1),
        (12, 1, 0, 0, 2),
        (12, 1, 0, 0, 3),
        (12, 1, 0, 0, 4),
    ]
    # the year is the one the engine's own `time="2025-12-01T…"` says
    assert {t.year for t in times} == {2025}


def test_year_less_times_are_the_latest_not_in_the_future() -> None:
    lines = pl.DataFrame(
        {
            "line": [
                "Dec 31 23:59:59 h web-1[1]: before the new year",
                "Jan 01 00:00:01 h web-1[1]: after it",
            ],
            "seq": [0, 1],
        }
    )
    now = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    ts = parse_journal_lines(lines, "UTC", now).get_column("ts").to_list()
    assert ts == [
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC),
    ]
    # read in the host's zone when told
    local = parse_journal_lines(lines, "Europe/Berlin", now).get_column("ts").to_list()
    assert local[1] == datetime(2026, 12, 31, 23, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "container", "host", "ts", "message"),
    [
        # journalctl -o short-precise
        ("Dec 04 22:10:01.250000 n1 web-1[9]: hi", "web-1", "n1", "22:10:01.250000", "hi"),
        # journalctl -o short-iso, rsyslog's RFC 3339 (zone given: taken as printed)
        ("2025-12-04T22:10:01+0100 n1 web-1[9]: hi", "web-1", "n1", "2025-12-04 21:10:01", "hi"),
        (
            "2025-12-04T22:10:01.5+00:00 n1 docker/shop-web-1[9]: hi",
            "shop-web-1",
            "n1",
            "2025-12-04 22:10:01.500000",
            "hi",
        ),
        # journalctl -o short-full
        ("Thu 2025-12-04 22:10:01 UTC n1 web-1[9]: hi", "web-1", "n1", "2025-12-04 22:10:01", "hi"),
        # the syslog driver's default tag is the container id; the kernel has no pid
        ("Dec  4 22:10:01 n1 3f2a1b4c5d6e[9]: hi", "3f2a1b4c5d6e", "n1", "22:10:01", "hi"),
        (
            "Dec 04 22:10:01 n1 kernel: Memory cgroup out of memory: Killed process 4321 (node)",
            "kernel",
            "n1",
            "22:10:01",
            "Memory cgroup out of memory: Killed process 4321 (node)",
        ),
        # an empty message
        ("Dec 04 22:10:01 n1 web-1[9]:", "web-1", "n1", "22:10:01", ""),
    ],
)
def test_every_journal_and_syslog_shape(
    line: str, container: str, host: str, ts: str, message: str
) -> None:
    parsed = parse_journal_lines(pl.DataFrame({"line": [line], "seq": [0]}), "UTC")
    row = parsed.row(0, named=True)
    assert (row["container"], row["host"], row["text"]) == (container, host, message)
    assert str(row["ts"].replace(tzinfo=None)).endswith(ts)
    assert row["reject"] is None and not row["joined"]


def test_journal_is_sniffed_and_compose_stays_compose() -> None:
    assert sniff_format(JOURNAL.encode()) is InputFormat.JOURNAL
    compose = "web-1  | Dec 04 22:10:01 inside the message\n" * 3
    assert sniff_format(compose.encode()) is InputFormat.COMPOSE
    # an application's own syslog-shaped line inside raw text does not make a journal
    raw = "Dec 04 22:10:01 starting\nloaded 3 plugins\nlistening on :80\n"
    assert sniff_format(raw.encode()) is InputFormat.RAW


def test_an_unprefixed_line_joins_the_record_before_it(tmp_path: Path) -> None:
    text = JOURNAL + "    continued without the prefix\n"
    logs = ingest(tmp_path, text)
    assert (
        logs.get_column("message").to_list()[-1]
        == "GET /cart 502\n    continued without the prefix"
    )


KILL = (
    "Mar 11 03:20:58 h1 kernel: Memory cgroup out of memory: Killed process 21877 (java)"
    " total-vm:4718592kB, anon-rss:1047560kB\n"
)


def _oom_services(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "journal.txt"
    path.write_text(text, encoding="utf-8")
    ingested = read_inputs([path])
    findings = detect_findings(ingested.logs, ingested.events, load_rules())
    oom = findings.filter(pl.col("category") == "oom-killed")
    assert set(oom.get_column("reporter")) == {"kernel"}
    return oom.get_column("service").to_list()


def test_a_kernel_kill_is_the_container_that_starts_again_after_it(tmp_path: Path) -> None:
    app = "Mar 11 03:14:05 h1 shop-app-1[9]: Tomcat started on port 8080\n"
    db = "Mar 11 03:14:06 h1 shop-db-1[9]: ready to accept connections\n"
    web = "Mar 11 03:14:07 h1 shop-web-1[9]: nginx started\n"
    again = "Mar 11 03:21:07 h1 shop-app-1[9]: Tomcat started on port 8080\n"
    later = KILL.replace("03:20:58", "03:29:00").replace("21877", "22406")
    assert _oom_services(tmp_path, app + db + web + KILL + again + later) == ["app", "app"]
    # two containers starting again right after: the kill names neither
    db_again = db.replace("03:14:06", "03:21:08")
    assert _oom_services(tmp_path, app + db + web + KILL + again + db_again) == ["kernel"]


def test_last_years_journal_takes_the_year_its_messages_print(tmp_path: Path) -> None:
    """`Jun 18 14:02:21` has no year; the application's own `2024-06-18 14:02:21,452` in the
    message has: a paste of an old incident is not dated this year. The command pasted
    above the journal is counted, not a service."""
    text = (
        "$ journalctl --no-pager CONTAINER_NAME=auth-keycloak-1 + _SYSTEMD_UNIT=docker.service\n"
        'Jun 18 14:02:20 h1 dockerd[9]: level=info msg="Loading containers: done."\n'
        "Jun 18 14:02:21 h1 auth-keycloak-1[9]: 2024-06-18 14:02:21,452 ERROR [main] boom\n"
    )
    path = tmp_path / "journal.txt"
    path.write_text(text, encoding="utf-8")
    result = read_inputs([path])
    assert result.summary.sources[0].rejected_lines == 1
    assert {t.year for t in result.logs.get_column("ts")} == {2024}
    data = report_json(tmp_path, text, datetime(2026, 12, 5, tzinfo=UTC))
    assert data["services_total"] == 1  # keycloak; the engine's lines are no service


def test_the_zone_journalctls_header_names_dates_the_short_times(tmp_path: Path) -> None:
    """`-- Logs begin at … CEST, end at Mon 2024-06-10 …` says the year-less times are CEST
    (UTC+2), whatever `--log-tz` says about application times, and of 2024 (not the latest
    year before today); the source's note says which zone was used."""
    path = tmp_path / "journal.txt"
    path.write_text(
        "-- Logs begin at Mon 2024-06-10 09:12:01 CEST, end at Mon 2024-06-10 09:20:44 CEST. --\n"
        "Jun 10 09:15:22 nas kuma[2211]: [SERVER] ERROR: SQLITE_BUSY: database is locked\n",
        encoding="utf-8",
    )
    result = read_inputs([str(path)])
    assert result.logs.get_column("ts").to_list() == [datetime(2024, 6, 10, 7, 15, 22, tzinfo=UTC)]
    assert "one without a zone in CEST, the zone journalctl's header names" in (
        result.summary.sources[0].note
    )
    unnamed = tmp_path / "plain.txt"
    unnamed.write_text(
        "-- Logs begin at Mon 2024-06-10 09:12:01 CST, end at Mon 2024-06-10 09:20:44 CST. --\n"
        "Jun 10 09:15:22 nas kuma[2211]: [SERVER] ERROR: SQLITE_BUSY: database is locked\n",
        encoding="utf-8",
    )  # (CST is China's and the US's: left to --log-tz)
    again = read_inputs([str(unnamed)], log_zone="Asia/Shanghai")
    assert again.logs.get_column("ts").to_list() == [datetime(2024, 6, 10, 1, 15, 22, tzinfo=UTC)]


def test_short_full_times_are_read_in_the_zone_they_name() -> None:
    lines = pl.DataFrame(
        {
            "line": [
                "Mon 2024-06-10 09:15:22 EDT nas web[1]: one",
                "Mon 2024-06-10 09:15:22 CEST nas web[1]: two",
                "Mon 2024-06-10 09:15:22 UTC nas web[1]: three",
                "Mon 2024-06-10 09:15:22 CST nas web[1]: four",
            ],
            "seq": [0, 1, 2, 3],
        }
    )
    parsed = parse_journal_lines(lines, "Asia/Tokyo")
    assert [t.hour for t in parsed.get_column("ts").to_list()] == [13, 7, 9, 0]


UNIT = """\
Dec 06 02:10:58 web-prod-2 systemd[1]: Started myapp.service - MyApp (docker compose up).
Dec 06 02:10:59 web-prod-2 docker-compose[1234]: Attaching to db-1, web-1
Dec 06 02:11:01 web-prod-2 docker-compose[1234]: db-1   | LOG:  database system is ready
Dec 06 02:11:09 web-prod-2 docker-compose[1234]: web-1  | FATAL:  database "shop" does not exist
Dec 06 02:11:10 web-prod-2 docker-compose[1234]: web-1 exited with code 1
2026-12-06T02:12:00+0000 web-prod-2 docker[2201]: web-1  | booting again
2026-12-06T02:12:01+0000 web-prod-2 compose[2201]: db-1   | 2026-12-06T02:12:01.250000000Z checkpoint
"""


def test_compose_run_by_a_systemd_unit_is_read_as_compose(tmp_path: Path) -> None:
    """`journalctl -u myapp.service` where the unit runs `docker compose up`: each line
    is the service's it names, timed by the journal, on the journal's host."""
    path = tmp_path / "journal.txt"
    path.write_text(UNIT, encoding="utf-8")
    logs = read_inputs([path], host="testhost", log_zone="UTC").logs.sort("seq")
    rows = logs.select("container", "service", "message").rows()
    assert rows[2:5] == [
        ("db-1", "db", "LOG:  database system is ready"),
        ("web-1", "web", 'FATAL:  database "shop" does not exist'),
        ("compose", "web", "web-1 exited with code 1"),
    ]
    assert rows[5] == ("web-1", "web", "booting again")
    assert set(logs.get_column("host")) == {"web-prod-2"}
    assert "docker-compose" not in logs.get_column("service").to_list()
    times = logs.get_column("ts").to_list()
    assert times[3] == datetime(2026, 12, 6, 2, 11, 9, tzinfo=UTC)
    # the engine's stamp under --timestamps is finer than the journal's
    assert times[6] == datetime(2026, 12, 6, 2, 12, 1, 250000, tzinfo=UTC)
    # compose's own line and the unit's are compose's, not services of their own
    assert rows[1] == ("compose", "compose", "Attaching to db-1, web-1")
    assert rows[0][1] == "compose"


def test_journald_container_lines_are_not_compose_runs(tmp_path: Path) -> None:
    """A container's own identifier (`shop-api-1[812]:`) is no compose run, and a `|` in
    its message is its text."""
    path = tmp_path / "journal.txt"
    path.write_text("Dec 01 00:00:01 node-2 shop-api-1[812]: a | b\n", encoding="utf-8")
    logs = read_inputs([path], host="testhost").logs
    assert logs.select("container", "message").row(0) == ("shop-api-1", "a | b")
