"""Times the applications print themselves date lines the engine did not
(`docker compose logs` without `-t`, plain `docker logs`), in the zone they
name, else in `--log-tz` (UTC), and the reader is told which were a guess."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.ingest import read_inputs
from incidentlog.ingest.apptime import read_app_times

runner = CliRunner()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# (a line as the application prints it, its time in UTC, whether it named no zone)
SHAPES = [
    ("2025-08-01 10:00:01.123 UTC [1] LOG:  checkpoint starting", "2025-08-01T10:00:01.123Z", False),
    ("2025-08-01 12:00:01.123 CEST [1] LOG:  checkpoint starting", "2025-08-01T10:00:01.123Z", False),
    ("2025-08-01 10:00:05,220 ERROR worker: lost the queue", "2025-08-01T10:00:05.220Z", True),
    ("2025-08-01 10:00:05,220 - app.db - WARNING - slow query", "2025-08-01T10:00:05.220Z", True),
    ("[2025-08-01 10:00:01 +0200] [7] [INFO] Booting worker", "2025-08-01T08:00:01Z", False),
    ("[2025-08-01T10:00:01,500][WARN ][o.e.c.r.a] low disk", "2025-08-01T10:00:01.5Z", True),
    ("[2025-08-01 10:00:01,500] INFO [Broker id=1] started", "2025-08-01T10:00:01.5Z", True),
    ("[2025-08-01 10:00:01,500: ERROR/MainProcess] lost broker", "2025-08-01T10:00:01.5Z", True),
    ("2025-08-01T10:00:01.25-04:00 something happened", "2025-08-01T14:00:01.25Z", False),
    ("2025/08/01 10:00:03 [error] 31#31: *9 connect() failed", "2025-08-01T10:00:03Z", True),
    ("[mediagrab] 2025-08-01T10:00:03Z fetching the queue", "2025-08-01T10:00:03Z", False),
    ("2025.08.01 10:00:03 INFO  app[][o.s.a.AppFileSystem] Cleaning", "2025-08-01T10:00:03Z", True),
    ("2025/08/01 10:00:03.000250 listening on :8080", "2025-08-01T10:00:03.00025Z", True),
    ("7:M 01 Aug 2025 10:00:02.001 * Background saving started", "2025-08-01T10:00:02.001Z", True),
    ("01-Aug-2025 10:00:04.321 SEVERE [main] failed to start", "2025-08-01T10:00:04.321Z", True),
    ("[01-Aug-2025 10:00:04] WARNING: [pool www] server reached max_children", "2025-08-01T10:00:04Z", True),
    ("[Fri Aug 01 10:00:04.5 2025] [proxy:error] [pid 9] AH00957", "2025-08-01T10:00:04.5Z", True),
    ("E, [2025-08-01T10:00:04.250 #1] ERROR -- : PG::ConnectionBad", "2025-08-01T10:00:04.25Z", True),
    ('10.0.0.9 - bob [01/Aug/2025:12:00:09 +0200] "GET /x HTTP/1.1" 502 0', "2025-08-01T10:00:09Z", False),
    ("01/Aug/2025:12:00:09 +0200: Attempting to connect to the database...", "2025-08-01T10:00:09Z", False),
    ("172.19.0.5 2025-08-01 10:00:01.309 UTC [58] app@db FATAL:  no role", "2025-08-01T10:00:01.309Z", False),
    ("[local] 2025-08-01 12:00:01 CEST [9] LOG:  checkpoint", "2025-08-01T10:00:01Z", False),
    ('{"level":"error","time":"2025-08-01T10:00:06+01:00","msg":"boom"}', "2025-08-01T09:00:06Z", False),
    ('{"t":{"$date":"2025-08-01T10:00:06.010+00:00"},"s":"W","msg":"x"}', "2025-08-01T10:00:06.01Z", False),
    ('{"level":50,"time":1754042406789,"msg":"request failed"}', "2025-08-01T10:00:06.789Z", False),
    ('{"level":"error","ts":1754042406.5,"caller":"x.go:9","msg":"y"}', "2025-08-01T10:00:06.5Z", False),
    ("1754042406: mosquitto version 2.0.18 starting", "2025-08-01T10:00:06Z", False),
    ('time="2025-08-01T10:00:06Z" level=error msg="no route"', "2025-08-01T10:00:06Z", False),
    ("logger=cleanup t=2025-08-01T10:00:06.5+0000 level=info msg=done", "2025-08-01T10:00:06.5Z", False),
]  # fmt: skip


@pytest.mark.parametrize(("line", "expected", "naive"), SHAPES)
def test_each_shape_reads_as_its_time_in_utc(line: str, expected: str, naive: bool) -> None:
    times = read_app_times(pl.Series([line]))
    assert times.ts[0] == _utc(expected)
    assert times.naive[0] is naive


@pytest.mark.parametrize(
    "line",
    [
        "INFO:     Started server process [1]",  # uvicorn prints no time
        "took 12:00:01 to converge",  # a clock that is no stamp
        "2025-08-01 12:00:01.123 IST [1] LOG: x",  # India, Ireland or Israel: hours apart
        "2025-13-45 10:00:00 month 13",
        '{"msg":"the payload","id":1754042406}',  # an epoch in a field that is no time
        "1754042406 bytes free",  # a number first on the line, no colon after it
    ],
)
def test_lines_without_a_readable_time_stay_undated(line: str) -> None:
    assert read_app_times(pl.Series([line])).ts[0] is None


def test_a_naive_time_is_read_in_the_given_zone() -> None:
    summer, zoned = "2025-08-01 12:00:00,000 INFO x", "2025-08-01 12:00:00 UTC x"
    times = read_app_times(pl.Series([summer, zoned]), "Europe/Berlin")
    assert times.ts.to_list() == [_utc("2025-08-01T10:00:00Z"), _utc("2025-08-01T12:00:00Z")]


PASTE = """\
db-1      | 2025-08-01 10:00:01.123 UTC [1] LOG:  database system is ready to accept connections
api-1     | INFO:     Started server process [1]
worker-1  | 2025-08-01 10:00:05,220 INFO worker: consuming
worker-1  | 2025-08-01 10:02:06,001 INFO worker: loading settings
worker-1  | Traceback (most recent call last):
worker-1  |   File "/app/worker.py", line 8, in <module>
worker-1  |     url = os.environ["DATABASE_URL"]
worker-1  | KeyError: 'DATABASE_URL'
worker-1 exited with code 1
"""
"""`docker compose up` without `-t`: Postgres names its zone, the worker's logging
does not, its uncaught traceback and uvicorn's lines have no time at all."""


def _paste(tmp_path: Path) -> Path:
    path = tmp_path / "compose.log"
    path.write_text(PASTE, encoding="utf-8")
    return path


def test_a_paste_without_engine_times_is_dated_by_its_applications(tmp_path: Path) -> None:
    result = read_inputs([str(_paste(tmp_path))])
    rows = {
        (r["service"], r["message"].split("\n")[0][:24]): r["ts"]
        for r in result.logs.iter_rows(named=True)
    }
    assert rows[("db", "2025-08-01 10:00:01.123 ")] == _utc("2025-08-01T10:00:01.123Z")
    assert rows[("worker", "2025-08-01 10:00:05,220 ")] == _utc("2025-08-01T10:00:05.22Z")
    assert rows[("worker", "2025-08-01 10:02:06,001 ")] == _utc("2025-08-01T10:02:06.001Z")
    # the traceback and compose's exit line come after the worker's last dated line
    assert rows[("worker", "Traceback (most recent c")] == _utc("2025-08-01T10:02:06.001Z")
    assert rows[("worker", "worker-1 exited with cod")] == _utc("2025-08-01T10:02:06.001Z")
    assert rows[("api", "INFO:     Started server")] is None  # nothing dates it
    assert len(rows) == 6
    source = result.summary.sources[0]
    assert (source.app_times, source.naive_times) == (3, 2)
    assert source.placed_times == 5  # four traceback lines and the exit line
    assert source.invalid_timestamps == 0  # a time without a zone is no invalid time
    assert any("read as UTC" in n and "--log-tz" in n for n in result.summary.notes)
    # the application's stamp stays in its text
    assert all(
        m.startswith("2025-08-01") for m in result.logs.filter(pl.col("service") == "db")["message"]
    )  # fmt: skip


def test_a_time_of_day_takes_the_date_of_the_lines_before_it(tmp_path: Path) -> None:
    """pino-pretty, Elixir's Logger and Bitnami's scripts print a time of day only: it
    is on the date of the last dated line before it, the next day past midnight, and a
    line before any date stays undated."""
    text = (
        "worker-1 | [09:59:00.000] INFO (1): before any date\n"
        'api-1    | {"level":30,"time":1754085540000,"msg":"listening"}\n'  # 2025-08-01T21:59Z
        "worker-1 | [22:00:05.431] ERROR (1): mongo connect failed\n"
        "kafka-1  | kafka 22:00:06.41 ERROR ==> a variable is missing\n"
        "phx-1    | 22:00:07.311 [error] Postgrex.Protocol failed to connect\n"
        "worker-1 | [00:00:01.000] ERROR (1): still failing\n"
        "worker-1 | [08:00:00.000] a time of day without a level is not read\n"
    )
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    result = read_inputs([str(path)])
    ts = {r["message"][:14]: r["ts"] for r in result.logs.iter_rows(named=True)}
    assert ts["[09:59:00.000]"] is None
    assert ts["[22:00:05.431]"] == _utc("2025-08-01T22:00:05.431Z")
    assert ts["kafka 22:00:06"] == _utc("2025-08-01T22:00:06.41Z")
    assert ts["22:00:07.311 ["] == _utc("2025-08-01T22:00:07.311Z")
    assert ts["[00:00:01.000]"] == _utc("2025-08-02T00:00:01Z")
    # (placed at its container's last dated line, not read as 08:00)
    assert ts["[08:00:00.000]"] == _utc("2025-08-02T00:00:01Z")


def test_undated_lines_take_their_containers_time_whatever_dated_it(tmp_path: Path) -> None:
    """sidekiq's ISO stamp first on the line is cut by the parser, postgres's is read as
    the application's: sidekiq's undated error and compose's exit line for it are no
    earlier than sidekiq's own last time (they took postgres's, before sidekiq booted)."""
    text = (
        "postgres_1  | 2025-03-03 07:41:10.331 UTC [1] LOG:  database system is ready\n"
        "sidekiq_1   | 2025-03-03T07:41:14.902Z pid=1 tid=2mx INFO: Booted Rails 7.1.5\n"
        "sidekiq_1   | Error connecting to Redis on 127.0.0.1:6379 (Errno::ECONNREFUSED)\n"
        "bookclub_sidekiq_1 exited with code 1\n"
    )
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    logs = read_inputs([str(path)]).logs
    ts = {r["message"][:14]: r["ts"] for r in logs.iter_rows(named=True)}
    assert ts["Error connecti"] == _utc("2025-03-03T07:41:14.902Z")
    assert ts["bookclub_sidek"] == _utc("2025-03-03T07:41:14.902Z")


def test_compose_v1_exit_line_naming_the_project_takes_its_containers_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "up.log"
    path.write_text(
        "web_1  | [2025-08-01 10:00:04 +0000] [8] [ERROR] Exception in worker process\n"
        "shop_web_1 exited with code 3\n",
        encoding="utf-8",
    )
    logs = read_inputs([str(path)]).logs.sort("seq")
    assert logs["ts"].to_list() == [_utc("2025-08-01T10:00:04Z")] * 2


def test_engine_times_win_over_the_applications(tmp_path: Path) -> None:
    path = tmp_path / "compose.log"
    path.write_text(
        "web-1  | 2025-08-01T10:00:00.000000001Z 2025-08-01 09:59:00,000 ERROR late clock\n"
        "web-1  | 2025-08-01T10:00:01.000000001Z 2025-08-01 09:59:01,000 INFO recovered\n",
        encoding="utf-8",
    )
    result = read_inputs([str(path)])
    assert result.logs.sort("seq")["ts"].to_list() == [
        _utc("2025-08-01T10:00:00.000000001Z"),
        _utc("2025-08-01T10:00:01.000000001Z"),
    ]
    assert result.summary.sources[0].app_times == 0


def test_the_report_says_since_when_and_which_times_were_assumed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(_paste(tmp_path)), "--now", "2025-08-01T10:05:00Z"])
    assert result.exit_code == 0, result.output
    report = result.stdout
    assert report.startswith("# Incident report: 2025-08-01")
    assert "| **Started** | 2025-08-01 10:02:06 UTC" in report
    assert "1 record without a time (kept in input order)" in report  # uvicorn's line
    assert "read as UTC (set --log-tz" in report


def test_log_tz_reads_naive_times_in_that_zone(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["detect", str(_paste(tmp_path)), "--format", "jsonl", "--log-tz", "Europe/Berlin"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    config = next(r for r in rows if r["category"] == "config-error")
    # the worker's naive 10:02:06 is Berlin time, two hours ahead of UTC in August
    assert _utc(config["first_seen"]) == _utc("2025-08-01T10:02:06.001Z") - timedelta(hours=2)


def test_an_unknown_log_tz_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(_paste(tmp_path)), "--log-tz", "Mars/Olympus"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --log-tz 'Mars/Olympus' is not a time zone name (e.g. UTC, Europe/Berlin)"
    ]


def test_ingesting_the_same_undated_paste_twice_stores_it_once(tmp_path: Path) -> None:
    paste, store = _paste(tmp_path), tmp_path / "store"
    first = runner.invoke(app, ["ingest", str(paste), "--store", str(store), "--format", "json"])
    again = runner.invoke(app, ["ingest", str(paste), "--store", str(store), "--format", "json"])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    assert json.loads(first.stdout)["written"]["logs"] == 6
    assert json.loads(again.stdout)["written"]["logs"] == 0


def test_an_undated_crash_takes_the_time_of_the_exit_after_it(tmp_path: Path) -> None:
    """api's last dated line is 8 minutes before its traceback: the traceback was printed
    right before its exit, which compose prints after the worker's 10:08:29 line, so it
    is placed there, not at 10:00:00 (which made the incident 8 minutes older)."""
    text = (
        "api-1     | 2026-12-05 10:00:00,114 INFO  listening on 0.0.0.0:8080\n"
        "worker-1  | 2026-12-05 10:08:29,402 INFO  task succeeded in 257.1s\n"
        "api-1     | Traceback (most recent call last):\n"
        "api-1     | MemoryError\n"
        "api-1 exited with code 1\n"
        "worker-1  | 2026-12-05 10:08:45,117 INFO  heartbeat\n"
    )
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    logs = read_inputs([str(path)]).logs
    ts = {r["message"][:14]: r["ts"] for r in logs.iter_rows(named=True)}
    assert ts["Traceback (mos"] == _utc("2026-12-05T10:08:29.402Z")
    assert ts["api-1 exited w"] == _utc("2026-12-05T10:08:29.402Z")


def test_an_undated_banner_takes_the_time_of_the_next_dated_line(tmp_path: Path) -> None:
    """A restarted app prints undated start-up lines, then dated ones: the lines belong
    with the new start, not with the last line of the run before."""
    text = (
        "web-1  | 2026-12-05 09:00:00 ERROR lost connection\n"
        "web-1  | Starting web (pid 1)\n"
        "web-1  | 2026-12-05 09:30:00 INFO ready\n"
    )
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    logs = read_inputs([str(path)]).logs
    ts = {r["message"][:14]: r["ts"] for r in logs.iter_rows(named=True)}
    assert ts["Starting web ("] == _utc("2026-12-05T09:30:00Z")


def test_after_a_containers_last_dated_line_its_time_stays(tmp_path: Path) -> None:
    text = (
        "web-1  | 2026-12-05 09:00:00 ERROR lost connection\n"
        "db-1   | 2026-12-05 09:05:00 LOG checkpoint\n"
        "web-1  | Killed\n"
    )
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    result = read_inputs([str(path)])
    ts = {r["message"][:14]: r["ts"] for r in result.logs.iter_rows(named=True)}
    assert ts["Killed"] == _utc("2026-12-05T09:00:00Z")
    assert any("approximate" in n for n in result.summary.notes)
