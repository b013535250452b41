"""Level inference from the shapes real software prints."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.ingest import read_inputs
from incidentlog.ingest.levels import HEAD_CHARS, level_expr, with_level
from incidentlog.schema import LEVEL_DTYPE

CASES = [
    # structured: JSON and logfmt
    ('{"level":"error","msg":"upstream failed"}', "error"),
    ('{"time":"2025-08-01T12:30:00Z","level":"WARN","msg":"slow"}', "warn"),
    ('{"severity":"ERROR","message":"x"}', "error"),  # GCP / stackdriver
    ('{"levelname": "CRITICAL", "message": "x"}', "fatal"),  # python-json-logger
    ('{"level":50,"time":1754051400000,"pid":1,"msg":"boom"}', "error"),  # pino
    ('{"level":30,"time":1754051400000,"pid":1,"msg":"listening"}', "info"),
    ('{"level":60,"msg":"dead"}', "fatal"),
    ('{"level":20,"msg":"x"}', "debug"),
    (
        'time="2025-08-01T12:30:00Z" level=error msg="dial tcp 10.0.0.5:5432: connect: connection refused"',
        "error",
    ),
    ("time=2025-08-01T12:30:00Z level=warning msg=retrying", "warn"),
    ("ts=2025-08-01T12:30:00Z lvl=info msg=started", "info"),
    ("t=2025-08-01T12:30:00+0000 lvl=dbug msg=x", "debug"),  # log15
    # .NET's console logger and winston's default format: a lower-case word and a colon
    ("fail: Microsoft.EntityFrameworkCore.Database.Connection[20004]", "error"),
    ("crit: Microsoft.AspNetCore.Hosting.Diagnostics[6]", "fatal"),
    ("dbug: Microsoft.Extensions.Hosting.Internal.Host[1]", "debug"),
    ("info: Microsoft.Hosting.Lifetime[14]", "info"),
    ("error: connect ECONNREFUSED 127.0.0.1:6379", "error"),
    ("failed: not a level word", "unknown"),
    # ... also after the application's own time or bracketed tags (zigbee2mqtt, a cluster's
    # master process), never after prose
    ("[2025-08-01 12:30:00] error: \tz2m: adapter did not answer", "error"),
    ("[MASTER] error: worker 3 died", "error"),
    ("2025-08-01 12:30:00 warn: cache is cold", "warn"),
    ("2025-08-01T12:30:00.120Z [web] [7] info: listening", "info"),
    ("[INFO] error: counts as its bracketed level", "info"),
    ("the upload stopped with error: disk quota", "unknown"),
    ("[api] request ended with error: timeout", "unknown"),
    ("12 error: not a time", "unknown"),
    # Python logging and uvicorn / gunicorn
    ("ERROR:app:boom", "error"),
    ("WARNING:root:disk almost full", "warn"),
    ("CRITICAL:app:giving up", "fatal"),
    ("2025-08-01 12:30:00,123 - app.db - ERROR - connection lost", "error"),
    ("2025-08-01 12:30:00,123 INFO app: started", "info"),
    ("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", "info"),
    ("ERROR:    Exception in ASGI application", "error"),
    ("[2025-08-01 12:30:00 +0000] [7] [ERROR] Exception in worker process", "error"),
    ("[2025-08-01 12:30:00 +0000] [1] [INFO] Starting gunicorn 21.2.0", "info"),
    # postgres
    (
        '2025-08-01 12:30:00.123 UTC [61] FATAL:  password authentication failed for user "app"',
        "fatal",
    ),
    (
        '2025-08-01 12:30:00.123 UTC [1] PANIC:  could not write to file "pg_wal/xlogtemp.61"',
        "fatal",
    ),
    (
        "2025-08-01 12:30:00.123 UTC [1] LOG:  database system is ready to accept connections",
        "info",
    ),
    (
        '2025-08-01 12:30:00.123 UTC [70] ERROR:  relation "users" does not exist at character 15',
        "error",
    ),
    # Gitea and Forgejo: a capital letter in brackets between spaces
    (
        "2025/08/01 12:30:00 ...s/migrations.go:71:EnsureUpToDate() [F] database is newer",
        "fatal",
    ),
    ("2025/08/01 12:30:00 cmd/web.go:242:runWeb() [I] Starting on PID: 7", "info"),
    ("2025/08/01 12:30:00 ...routers/init.go:88:x() [E] failed to sync", "error"),
    ("values[E] = 3 stays unknown", "unknown"),
    # nginx
    (
        "2025/08/01 12:30:00 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to upstream",
        "error",
    ),
    ('2025/08/01 12:30:00 [warn] 1#1: the "ssl" directive is deprecated', "warn"),
    ("2025/08/01 12:30:00 [notice] 1#1: start worker processes", "info"),
    (
        "2025/08/01 12:30:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)",
        "fatal",
    ),
    # redis role:letter layout
    ("1:M 01 Aug 2025 12:30:00.123 # WARNING Memory overcommit must be enabled!", "warn"),
    ("1:M 01 Aug 2025 12:30:00.123 * Ready to accept connections tcp", "info"),
    ("1:C 01 Aug 2025 12:30:00.123 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", "warn"),
    ("1:S 01 Aug 2025 12:30:00.123 - Accepted 172.18.0.5:41234", "debug"),
    # glog / klog
    ("E0801 12:30:00.123456       1 reflector.go:138] failed to list *v1.Pod", "error"),
    ("W0801 12:30:00.123456       1 client.go:10] retrying", "warn"),
    ("I0801 12:30:00.123456       1 main.go:10] serving", "info"),
    ("F0801 12:30:00.123456       1 main.go:12] cannot start", "fatal"),
    # Go runtime
    ("panic: runtime error: invalid memory address or nil pointer dereference", "fatal"),
    ("fatal error: all goroutines are asleep - deadlock!", "fatal"),
    # zerolog console (cloudflared)
    ("2025-08-01T12:30:00Z INF Starting tunnel tunnelID=6ff42ae2", "info"),
    ('2025-08-01T12:30:00Z ERR Failed to serve quic connection error="timeout"', "error"),
    ("2025-08-01T12:30:00Z WRN Your version is outdated", "warn"),
    # Java
    ('Exception in thread "main" java.lang.NullPointerException', "error"),
    ("java.lang.IllegalStateException: Failed to load ApplicationContext", "error"),
    (
        "2025-08-01 12:30:00.000 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed",
        "error",
    ),
    ("2025-08-01 12:30:00.000  WARN 1 --- [main] o.h.e.j.e.i.JdbcEnvironmentInitiator : x", "warn"),
    ("SEVERE: Servlet.service() threw exception", "error"),
    # Python / Node errors that start a record
    ('Traceback (most recent call last):\n  File "/app/x.py", line 1, in <module>', "error"),
    ("ValueError: invalid literal for int() with base 10: 'x'", "error"),
    ("Error: connect ECONNREFUSED 127.0.0.1:5432", "error"),
    # no level: must stay unknown (not error because a number of errors is reported)
    ("0 errors", "unknown"),
    ("Processed 120 items, 0 errors", "unknown"),
    ("no errors found", "unknown"),
    ("error_count=0", "unknown"),
    ("GET /health 200 1.2ms", "unknown"),
    ("", "unknown"),
]


@pytest.mark.parametrize(("message", "expected"), CASES, ids=[m[:40] for m, _ in CASES])
def test_level_of_message(message: str, expected: str) -> None:
    frame = pl.DataFrame({"message": [message]}).select(level_expr(pl.col("message")))
    assert frame.schema["level"] == LEVEL_DTYPE
    assert frame.item() == expected


def test_levels_in_one_batch_match_one_by_one() -> None:
    """The expression is row-wise: a batch gives what each message gives alone."""
    frame = pl.DataFrame({"message": [m for m, _ in CASES]})
    assert frame.select(level_expr(pl.col("message"))).to_series().to_list() == [
        e for _, e in CASES
    ]


def test_batch_levels_equal_the_expression() -> None:
    """`with_level` (the ingest path: leftmost matches found, groups taken only
    of the distinct matches) gives exactly what the single expression gives, on every case and on
    mixed spellings, brackets and tokens placed past the head."""
    messages = [m for m, _ in CASES] + [
        "[eRRoR] odd spelling",
        "[Warn] title case",
        "x" * (HEAD_CHARS - 3) + " ERROR",
        "E0801 12:30:00.123456 1 main.go:1] boom",
        'LEVEL=Crit msg="x"',
        "ValueError",
        "prefix ValueError: not at the start",
    ]
    frame = pl.DataFrame({"message": messages})
    assert with_level(frame, "message").get_column("level").to_list() == (
        frame.select(level_expr(pl.col("message"))).to_series().to_list()
    )


def test_a_level_word_deep_in_a_record_does_not_count() -> None:
    message = "request done " + "x" * HEAD_CHARS + " ERROR"
    frame = pl.DataFrame({"message": [message]}).select(level_expr(pl.col("message")))
    assert frame.item() == "unknown"


def test_the_first_level_token_wins() -> None:
    frame = pl.DataFrame(
        {"message": ["INFO:app:retrying after ERROR from upstream", 'level=info msg="ERROR x"']}
    ).select(level_expr(pl.col("message")))
    assert frame.to_series().to_list() == ["info", "info"]


def test_levels_through_ingest(tmp_path: Path) -> None:
    text = (
        "db-1     | 2025-08-01T12:30:00.1Z 2025-08-01 12:30:00.100 UTC [61] FATAL:  the database system is starting up\n"
        "nginx-1  | 2025-08-01T12:30:00.2Z 2025/08/01 12:30:00 [error] 29#29: *1 connect() failed (111: Connection refused)\n"
        "redis-1  | 2025-08-01T12:30:00.3Z 1:M 01 Aug 2025 12:30:00.300 * Ready to accept connections tcp\n"
        'api-1    | 2025-08-01T12:30:00.4Z INFO:     127.0.0.1:41234 - "GET /health HTTP/1.1" 200 OK\n'
    )
    path = tmp_path / "compose.log"
    path.write_text(text)
    logs = read_inputs([path]).logs.sort("seq")
    assert logs.select("service", "level").rows() == [
        ("db", "fatal"),
        ("nginx", "error"),
        ("redis", "info"),
        ("api", "info"),
    ]


_PIECES = [
    "INFO", "ERROR", "err", "[error]", "[Info]", "level=", "LEVEL=", '"level":', '"severity": "', "warn",
    "30", "50", "Traceback (most recent call last)", "ValueError:", "panic: ", "E0801 12:30:00",
    "1:M 01 Aug 2025 12:30:00.123 # ", " ", "x", "é", "\t", ":", '"', "=", "[", "]",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
@settings(max_examples=300, deadline=None)
def test_batch_levels_equal_the_expression_on_generated_text(message: str) -> None:
    frame = pl.DataFrame({"message": [message, "INFO " + message]})
    assert with_level(frame, "message").get_column("level").to_list() == (
        frame.select(level_expr(pl.col("message"))).to_series().to_list()
    )
