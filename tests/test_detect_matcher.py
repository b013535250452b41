"""Detection engine: matching, attribution, engine signals, precision logic, summary, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import incidentlog
from incidentlog.cli import app
from incidentlog.detect import (
    RuleSet,
    detect_findings,
    fails_at,
    load_rules,
    run_detect,
    service_of_container,
    summarize_findings,
)
from incidentlog.detect.matcher import FINDINGS_COLUMNS, SUMMARY_COLUMNS
from incidentlog.render.findings import detect_jsonl, detect_text
from incidentlog.schema import EVENTS_SCHEMA, FINDINGS_SCHEMA, LOGS_SCHEMA
from incidentlog.sources import EvidenceSource, Request

T0 = datetime(2025, 8, 1, 12, 30, tzinfo=UTC)
CORE = Path(incidentlog.__file__).parent / "rules" / "core.toml"

# Messages below are what the software prints (dash, Docker, autoheal, compose,
# CPython, Node, Go); the rules are a small test pack so that these tests do
# not depend on the content of the built-in packs.
PACK = r"""
[pack]
name = "t"

[[rules]]
id = "t.sh-not-found"
category = "missing-binary"
severity = "critical"
source = "probe"
any = [": not found"]
patterns = ['(?:^|\n)(?:/bin/)?sh: (?:\d+: )?(?P<binary>[^\s:]+): not found']
title = "{binary} is not installed in {service}"
remediation = "install {binary} in the image of {service}, or probe with `wget -q --spider`"
fix = "rebuild-image"

[[rules]]
id = "t.exec-not-found"
category = "missing-binary"
severity = "critical"
any = ["executable file not found"]
patterns = ['exec: "(?P<binary>[^"]+)": executable file not found in \$PATH']
title = "{binary} missing"
remediation = "install {binary}"
fix = "rebuild-image"

[[rules]]
id = "t.autoheal"
category = "healthcheck-failed"
severity = "high"
any = ["found to be unhealthy"]
patterns = ['Container /?(?P<container>[\w.-]+) \([0-9a-f]+\) found to be unhealthy']
subject = "container"
title = "autoheal restarted {container}"
remediation = "fix the probe of {service}"
fix = "investigate"

[[rules]]
id = "t.dependency-unhealthy"
category = "healthcheck-failed"
severity = "high"
any = ["dependency failed to start"]
patterns = ['dependency failed to start: container (?P<container>[\w.-]+) is unhealthy']
subject = "container"
title = "{container} unhealthy"
remediation = "fix {service}"
fix = "investigate"

[[rules]]
id = "t.exited"
category = "crash-loop"
severity = "high"
any = ["exited with code"]
patterns = ['(?P<container>[\w.-]+) exited with code (?P<exit_code>[1-9]\d*)']
subject = "container"
title = "{container} exited with code {exit_code}"
remediation = "see {service}"
fix = "investigate"

[[rules]]
id = "t.refused"
category = "connection-refused"
severity = "critical"
any = ["Connection refused", "ECONNREFUSED"]
patterns = ['Connection refused', 'ECONNREFUSED (?P<host>[\d.]+):(?P<port>\d+)']
title = "{service} cannot reach {host}:{port}"
remediation = "start {host} first"
fix = "change-config"

[[rules]]
id = "t.asyncio"
category = "event-loop-conflict"
severity = "critical"
any = ["cannot be called from a running event loop"]
patterns = ['asyncio\.run\(\) cannot be called from a running event loop']
title = "asyncio.run() inside a running loop"
remediation = "await uvicorn.Server(config).serve() at {file}:{line}"
fix = "change-code"

[[rules]]
id = "t.traceback"
category = "unhandled-exception"
severity = "high"
any = ["Traceback (most recent call last)", "panic: ", "    at "]
patterns = ['Traceback \(most recent call last\)', '^panic: ', '\n    at ']
title = "unhandled exception"
remediation = "fix {file}:{line}"
fix = "change-code"

[[rules]]
id = "t.oom-text"
category = "oom-killed"
severity = "critical"
any = ["JavaScript heap out of memory"]
patterns = ['JavaScript heap out of memory']
title = "heap"
remediation = "raise --max-old-space-size"
fix = "change-config"

[[rules]]
id = "t.case"
category = "timeout"
severity = "medium"
ignore_case = true
any = ["timed out"]
patterns = ['upstream timed out']
min_level = "warn"
exclude = ['proxy_read_timeout']
title = "upstream timeout"
remediation = "raise the timeout"
fix = "change-config"

[[rules]]
id = "t.no-literal"
category = "disk-full"
severity = "critical"
patterns = ['No space left on device']
title = "disk full"
remediation = "free space"
fix = "investigate"
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    path = tmp_path_factory.mktemp("rules") / "t.toml"
    path.write_text(PACK, encoding="utf-8")
    return load_rules([path, CORE], builtin=False)


def log(
    seq: int,
    sec: float | None,
    service: str,
    message: str,
    level: str = "info",
    container: str | None = None,
    project: str | None = "mcp",
) -> dict[str, Any]:
    return {
        "ts": None if sec is None else T0 + timedelta(seconds=sec),
        "seq": seq,
        "host": "h",
        "project": project,
        "service": service,
        "container": container or f"mcp-{service}-1",
        "stream": "stdout",
        "level": level,
        "message": message,
        "id": 1000 + seq,
    }


def event(
    seq: int,
    sec: float,
    service: str,
    action: str,
    *,
    status: str | None = None,
    code: int | None = None,
    output: str | None = None,
) -> dict[str, Any]:
    return {
        "ts": T0 + timedelta(seconds=sec),
        "seq": seq,
        "host": "h",
        "project": "mcp",
        "service": service,
        "container": f"mcp-{service}-1",
        "action": action,
        "status": status,
        "exit_code": code,
        "output": output,
        "id": 5000 + seq,
    }


def logs_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=LOGS_SCHEMA)


def events_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=EVENTS_SCHEMA)


def pairs(findings: pl.DataFrame) -> set[tuple[str, str]]:
    return set(findings.select("service", "rule").iter_rows())


def fields_of(findings: pl.DataFrame, rule: str) -> list[dict[str, str]]:
    return [json.loads(f) for f in findings.filter(pl.col("rule") == rule).get_column("fields")]


PY_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/scripts/start_agent_monitor.py", line 41, in <module>\n'
    "    asyncio.run(main())\n"
    '  File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run\n'
    "    raise RuntimeError(\n"
    "RuntimeError: asyncio.run() cannot be called from a running event loop"
)


# --------------------------------------------------------------------------- matching


def test_findings_conform_and_carry_fields(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, 0, "web", 'exec: "gunicorn": executable file not found in $PATH', "error"),
        log(2, 1, "web", "Booting worker with pid: 9"),
    )
    findings = detect_findings(logs, None, rules)
    assert findings.schema == FINDINGS_COLUMNS
    assert list(findings.columns[: len(FINDINGS_SCHEMA)]) == FINDINGS_SCHEMA.names()
    assert findings.get_column("id").to_list() == [1001]
    assert fields_of(findings, "t.exec-not-found") == [{"binary": "gunicorn"}]
    assert findings.row(0, named=True)["category"] == "missing-binary"


def test_lazy_input_and_empty_input(rules: RuleSet) -> None:
    logs = logs_frame(log(1, 0, "web", "OSError: [Errno 28] No space left on device", "error"))
    assert pairs(detect_findings(logs.lazy(), None, rules)) == {("web", "t.no-literal")}
    empty = detect_findings(logs_frame(), events_frame(), rules)
    assert empty.is_empty() and empty.schema == FINDINGS_COLUMNS
    assert summarize_findings(empty).schema == SUMMARY_COLUMNS


def test_ignore_case_min_level_and_exclude(rules: RuleSet) -> None:
    logs = logs_frame(
        log(
            1,
            0,
            "nginx",
            "[error] 29#29: *7 Upstream Timed Out (110: Connection timed out)",
            "error",
        ),
        log(2, 1, "nginx", "upstream timed out, retrying", "debug"),
        log(3, 2, "nginx", "upstream timed out; proxy_read_timeout 60s", "error"),
        log(4, 3, "nginx", "upstream timed out (no level known)", "unknown"),
    )
    findings = detect_findings(logs, None, rules)
    assert sorted(findings.get_column("id").to_list()) == [1001, 1004]


# --------------------------------------------------------------------------- attribution


@pytest.mark.parametrize(
    ("name", "services", "projects", "expected"),
    [
        ("/mcp-frontend-1", ["frontend", "autoheal"], [], "frontend"),
        ("mcp-db-1", ["db"], ["mcp"], "db"),
        ("mcp_db_1", ["api"], ["mcp"], "db"),
        ("web-1", ["web"], [], "web"),
        ("mcp-staff-frontend-2", ["frontend", "staff-frontend"], [], "staff-frontend"),
        ("mcp-frontend", ["mcp-frontend"], ["mcp"], "mcp-frontend"),
        ("ragflow-mysql", [], [], "ragflow-mysql"),
    ],
)
def test_service_of_container(
    name: str, services: list[str], projects: list[str], expected: str
) -> None:
    assert service_of_container(name, services, {}, projects) == expected


def test_watcher_lines_count_for_the_container_they_name(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, 0, "frontend", "ready on :3000"),
        log(
            2,
            10,
            "autoheal",
            "01-08-2025 12:30:10 Container /mcp-frontend-1 (3cd71f557bc7) "
            "found to be unhealthy - Restarting container now with 10s timeout",
        ),
        log(
            3,
            11,
            "api",
            "dependency failed to start: container mcp-db-1 is unhealthy",
            container="compose",
        ),
        log(4, 12, "web", "web-1 exited with code 1", container="compose"),
    )
    findings = detect_findings(logs, None, rules)
    rows = {r["rule"]: r for r in findings.iter_rows(named=True)}
    assert rows["t.autoheal"]["service"] == "frontend"
    assert rows["t.autoheal"]["container"] == "mcp-frontend-1"
    assert rows["t.autoheal"]["reporter"] == "autoheal"
    assert rows["t.dependency-unhealthy"]["service"] == "db"
    assert rows["t.exited"]["service"] == "web"
    assert json.loads(rows["t.exited"]["fields"])["exit_code"] == "1"


# --------------------------------------------------------------------------- engine signals


def test_probe_output_is_missing_binary_and_healthcheck_failed(rules: RuleSet) -> None:
    events = events_frame(
        *[
            event(i, 30 * i, "frontend", "probe", code=1, output="/bin/sh: 1: curl: not found\n")
            for i in range(1, 4)
        ],
        event(4, 100, "frontend", "probe", code=0, output="ok"),
        event(5, 130, "frontend", "probe", code=1, output="/bin/sh: 1: curl: not found\n"),
        event(6, 95, "frontend", "health_status", status="unhealthy"),
    )
    findings = detect_findings(None, events, rules)
    assert pairs(findings) == {
        ("frontend", "t.sh-not-found"),
        ("frontend", "core.probe-failing"),
        ("frontend", "core.health-status-unhealthy"),
    }
    assert {f["binary"] for f in fields_of(findings, "t.sh-not-found")} == {"curl"}
    assert {f["streak"] for f in fields_of(findings, "core.probe-failing")} == {"3"}
    summary = summarize_findings(findings)
    missing = summary.filter(pl.col("rule") == "t.sh-not-found").row(0, named=True)
    assert missing["count"] == 4
    assert missing["title"] == "curl is not installed in frontend"
    assert missing["evidence"] == "/bin/sh: 1: curl: not found"


def test_crash_loop_exit_codes_and_oom(rules: RuleSet) -> None:
    events = events_frame(
        event(1, 0, "web", "die", code=1),
        event(2, 1, "web", "start"),
        event(3, 29, "web", "oom"),
        event(4, 30, "web", "die", code=137),
        event(5, 31, "web", "start"),
        event(6, 90, "web", "die", code=127),
        event(7, 100, "worker", "die", code=137),
        event(8, 110, "worker", "die", code=139),
        event(9, 120, "api", "die", code=0),
    )
    findings = detect_findings(None, events, rules)
    assert pairs(findings) == {
        ("web", "core.container-exit-nonzero"),
        ("web", "core.oom-event"),
        ("web", "core.exit-137-oom"),
        ("web", "core.exit-127-command-not-found"),
        ("worker", "core.container-exit-nonzero"),
        ("worker", "core.exit-139-segfault"),
    }
    assert findings.filter(pl.col("rule") == "core.exit-137-oom").get_column("id").to_list() == [
        5004
    ]
    loop = fields_of(findings, "core.container-exit-nonzero")
    web = [f for f in loop if f["exit_codes"] == "1, 127, 137"]
    assert len(web) == 3
    assert {f["restarts"] for f in web} == {"3"}
    assert {f["interval"] for f in web} == {"45s"}
    assert {f["closed"] for f in web} == {"false"}
    assert fields_of(findings, "core.exit-139-segfault") == [
        {"exit_code": "139", "signal": "SIGSEGV"}
    ]


def test_stable_container_closes_its_loop(rules: RuleSet) -> None:
    events = events_frame(
        event(1, 0, "web", "die", code=1),
        event(2, 1, "web", "start"),
        event(3, 10, "web", "die", code=1),
        event(4, 11, "web", "start"),
    )
    logs = logs_frame(log(1, 11 + 6 * 60, "web", "Listening at: http://0.0.0.0:8000"))
    closed = fields_of(detect_findings(logs, events, rules), "core.container-exit-nonzero")
    assert {f["closed"] for f in closed} == {"true"}
    short = logs_frame(log(1, 11 + 60, "web", "Listening at: http://0.0.0.0:8000"))
    still = fields_of(detect_findings(short, events, rules), "core.container-exit-nonzero")
    assert {f["closed"] for f in still} == {"false"}


def test_ps_snapshot_unhealthy(rules: RuleSet) -> None:
    events = events_frame(
        event(1, 0, "frontend", "snapshot", status="unhealthy", output="Up 3 minutes (unhealthy)"),
        event(2, 0, "api", "snapshot", status="healthy", output="Up 3 minutes (healthy)"),
    )
    assert pairs(detect_findings(None, events, rules)) == {("frontend", "core.ps-unhealthy")}


def test_ps_snapshot_exited_nonzero(rules: RuleSet) -> None:
    """A table's `Exited (137)` is a finding; a one-shot's `Exited (0)` and a running
    container are not."""
    events = events_frame(
        event(1, 0, "redis", "snapshot", code=137, output="Exited (137) 2 minutes ago"),
        event(2, 0, "migrate", "snapshot", code=0, output="Exited (0) 5 minutes ago"),
        event(3, 0, "api", "snapshot", output="Up 3 minutes"),
    )
    assert pairs(detect_findings(None, events, rules)) == {("redis", "core.ps-exited-nonzero")}


def test_a_ps_rows_exit_is_no_second_finding_of_an_exit_events_tell(rules: RuleSet) -> None:
    """`collect` snapshots a crash-looping container (`Exited (1)`) beside its die events:
    the events' crash-loop finding tells it (when, how often); the row adds none (before:
    two crash-loop findings of one service, one of them counting 1 exit)."""
    events = events_frame(
        event(1, 0, "worker", "die", code=1),
        event(2, 5, "worker", "die", code=1),
        event(3, 9, "worker", "snapshot", code=1, output="Exited (1) 2 seconds ago"),
        event(4, 9, "redis", "snapshot", code=137, output="Exited (137) 2 minutes ago"),
    )
    assert pairs(detect_findings(None, events, rules)) == {
        ("worker", "core.container-exit-nonzero"),
        ("redis", "core.ps-exited-nonzero"),
    }


# --------------------------------------------------------------------------- precision


def test_startup_refusal_followed_by_success_is_transient(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, 0, "api", "Started server process [1]"),
        log(2, 2, "api", "ConnectionRefusedError: [Errno 111] Connection refused", "error"),
        log(3, 4, "api", "ConnectionRefusedError: [Errno 111] Connection refused", "error"),
        log(4, 9, "api", "Application startup complete."),
        log(5, 0, "worker", "celery@worker ready."),
        log(6, 2, "worker", "Error: connect ECONNREFUSED 172.18.0.4:6379", "error"),
        log(7, 8, "worker", "Task app.tasks.send_email succeeded"),
        log(8, 600, "worker", "Error: connect ECONNREFUSED 172.18.0.4:6379", "error"),
    )
    findings = detect_findings(logs, None, rules)
    api = findings.filter(pl.col("service") == "api")
    assert api.get_column("transient").to_list() == [True, True]
    assert set(api.get_column("severity").cast(pl.String)) == {"low"}
    worker = findings.filter(pl.col("service") == "worker")
    assert worker.get_column("transient").to_list() == [False, False]
    assert set(worker.get_column("severity").cast(pl.String)) == {"critical"}
    summary = summarize_findings(findings)
    row = summary.filter(pl.col("service") == "worker").row(0, named=True)
    assert row["title"] == "worker cannot reach 172.18.0.4:6379"


def test_refusal_without_recovery_is_not_transient(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, 0, "api", "Started server process [1]"),
        log(2, 2, "api", "ConnectionRefusedError: [Errno 111] Connection refused", "error"),
    )
    findings = detect_findings(logs, None, rules)
    assert findings.get_column("transient").to_list() == [False]
    assert findings.get_column("severity").cast(pl.String).to_list() == ["critical"]


@pytest.mark.parametrize(
    "after",
    [
        "Retrying in 5 seconds (attempt 2/10)",
        "Trying again in 4.00 seconds...",
        "Stack trace:",
        "#0 /var/www/html/index.php(12): PDO->__construct()",
        # an access line is logged at info, but a 5xx in it is the failure still
        '172.18.0.9 - - [01/Aug/2025:12:00:03 +0000] "GET /api/orders HTTP/1.1" 502 157 "-" "-"',
        "POST /v1/sessions 500 3.112 ms - 21",
        '{"level":"info","msg":"request","method":"GET","status":503,"path":"/x"}',
        '[GIN] 2025/08/01 - 12:00:03 | 500 |   1.2ms |  172.18.0.9 | GET      "/v1/x"',
        "I, [2025-08-01T12:00:03.1 #1]  INFO -- : Completed 500 Internal Server Error in 13ms",
    ],
)
def test_a_retry_notice_or_a_stack_frame_is_no_recovery(rules: RuleSet, after: str) -> None:
    logs = logs_frame(
        log(1, 0, "api", "Started server process [1]"),
        log(2, 2, "api", "ConnectionRefusedError: [Errno 111] Connection refused", "error"),
        log(3, 3, "api", after),
    )
    findings = detect_findings(logs, None, rules)
    assert findings.get_column("transient").to_list() == [False]
    # a line that shows work again still does
    logs = logs_frame(
        *logs.iter_rows(named=True), log(4, 9, "api", "Application startup complete.")
    )
    assert detect_findings(logs, None, rules).get_column("transient").to_list() == [True]


def test_a_burst_followed_by_a_crash_is_not_transient(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, 0, "api", "Started server process [1]"),
        log(2, 2, "api", "ConnectionRefusedError: [Errno 111] Connection refused", "error"),
        log(3, 2.1, "api", "Waiting for application shutdown."),
        log(4, 2.2, "api", "Finished server process [1]"),
    )
    quiet = detect_findings(logs, None, rules)
    refused = quiet.filter(pl.col("category") == "connection-refused")
    assert refused.height and refused.get_column("transient").all()
    crash = events_frame(event(1, 2.5, "api", "die", code=3))
    findings = detect_findings(logs, crash, rules)
    refused = findings.filter(pl.col("category") == "connection-refused")
    assert refused.height and not refused.get_column("transient").any()


def test_generic_exception_only_when_nothing_specific_matched(rules: RuleSet) -> None:
    other = PY_TRACEBACK.replace(
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
        "KeyError: 'DATABASE_URL'",
    )
    logs = logs_frame(
        log(1, 0, "agent-monitor", PY_TRACEBACK, "error"),
        log(2, 1, "worker", other, "error"),
    )
    findings = detect_findings(logs, None, rules)
    assert pairs(findings) == {("agent-monitor", "t.asyncio"), ("worker", "t.traceback")}


# --------------------------------------------------------------------------- tracebacks


@pytest.mark.parametrize(
    ("message", "file", "line"),
    [
        (PY_TRACEBACK, "/app/scripts/start_agent_monitor.py", "41"),
        (
            "Traceback (most recent call last):\n"
            '  File "/app/app/tasks/email.py", line 44, in send\n'
            '  File "/app/app/db/session.py", line 12, in get_conn\n'
            '  File "/opt/venv/lib/python3.12/site-packages/psycopg2/__init__.py", line 122, in connect\n'
            '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
            "psycopg2.OperationalError: boom",
            "/app/app/db/session.py",
            "12",
        ),
        (
            "Error: connect ECONNREFUSED 172.18.0.4:6379\n"
            "    at Object.<anonymous> (/app/src/cache.js:27:11)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1256:14)\n"
            "    at /app/node_modules/ioredis/built/Redis.js:170:41\n"
            "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
            "/app/src/cache.js",
            "27",
        ),
        (
            "panic: runtime error: invalid memory address or nil pointer dereference\n"
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1f2c]\n\n"
            "goroutine 1 [running]:\n"
            "main.(*Server).handle(0x0)\n\t/src/server/handler.go:88 +0x2a\n"
            "net/http.HandlerFunc.ServeHTTP(0xc0000a6000)\n\t/usr/local/go/src/net/http/server.go:2136 +0x29\n"
            "github.com/go-chi/chi.(*Mux).ServeHTTP()\n\t/go/pkg/mod/github.com/go-chi/chi@v1.5.4/mux.go:87 +0x2c",
            "/src/server/handler.go",
            "88",
        ),
    ],
)
def test_innermost_application_frame(rules: RuleSet, message: str, file: str, line: str) -> None:
    findings = detect_findings(logs_frame(log(1, 0, "svc", message, "error")), None, rules)
    frames = {
        (f.get("file"), f.get("line"))
        for r in findings.get_column("rule")
        for f in fields_of(findings, r)
    }
    assert frames == {(file, line)}


# --------------------------------------------------------------------------- summary & output


def test_summary_aggregates_per_service_and_rule(rules: RuleSet) -> None:
    secret = "Error: connect ECONNREFUSED 172.18.0.4:6379 url=redis://:s3cr3t@redis:6379"
    logs = logs_frame(
        log(1, 0, "worker", "celery@worker ready."),
        log(2, 100, "worker", secret, "error", container="mcp-worker-2"),
        log(3, 200, "worker", "Error: connect ECONNREFUSED 172.18.0.9:5432", "error"),
        log(4, 300, "worker", "Error: connect ECONNREFUSED 172.18.0.4:6379", "error"),
        log(
            5,
            400,
            "frontend",
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            "fatal",
        ),
    )
    summary = summarize_findings(detect_findings(logs, None, rules))
    assert summary.get_column("severity").cast(pl.String).to_list() == ["critical", "critical"]
    worker = summary.filter(pl.col("service") == "worker").row(0, named=True)
    assert worker["count"] == 3
    assert worker["first_seen"] == T0 + timedelta(seconds=100)
    assert worker["last_seen"] == T0 + timedelta(seconds=300)
    assert worker["containers"] == ["mcp-worker-1", "mcp-worker-2"]
    assert json.loads(worker["fields"]) == {"host": "172.18.0.4", "port": "6379"}
    assert "s3cr3t" not in worker["evidence"]
    assert worker["evidence"].startswith(
        "Error: connect ECONNREFUSED 172.18.0.4:6379 url=redis://:***@"
    )
    assert worker["remediation"] == "start 172.18.0.4 first"
    heap = summary.filter(pl.col("service") == "frontend").row(0, named=True)
    assert heap["fields"] == "{}"


def test_missing_placeholder_gets_fallback_text(rules: RuleSet) -> None:
    logs = logs_frame(log(1, 0, "api", "ConnectionRefusedError: [Errno 111] Connection refused"))
    row = summarize_findings(detect_findings(logs, None, rules)).row(0, named=True)
    assert row["title"] == "api cannot reach the target host"  # not "the target host:the port"
    assert "{" not in row["remediation"]


def test_an_address_reads_whole_with_its_host_alone_or_as_one_fallback() -> None:
    from incidentlog.detect.columns import FIELD_PREFIX
    from incidentlog.detect.summary import _fill

    frame = pl.DataFrame(
        {
            "service": ["api", "api", "api"],
            FIELD_PREFIX + "host": ["db", "db", None],
            FIELD_PREFIX + "port": ["5432", None, None],
            "text": ["reach {host}:{port} (port {port})"] * 3,
        }
    )
    filled = frame.select(_fill(pl.col("text"), ["host", "port", "service"])).to_series()
    assert filled.to_list() == [
        "reach db:5432 (port 5432)",
        "reach db (the port)",
        "reach the target host (the port)",
    ]


def test_a_missing_value_never_reads_as_a_name_or_a_command_word() -> None:
    from incidentlog.detect.columns import FIELD_PREFIX
    from incidentlog.detect.summary import _fill, _mark_commands

    text = _mark_commands(
        "Cannot resolve host {host}: `{host}` does not resolve; run `docker compose ps {host}`"
    )
    frame = pl.DataFrame(
        {"service": ["api", "api"], FIELD_PREFIX + "host": ["cache", None], "text": [text] * 2}
    )
    filled = frame.select(_fill(pl.col("text"), ["host", "service"])).to_series()
    assert filled.to_list() == [
        "Cannot resolve host cache: `cache` does not resolve; run `docker compose ps cache`",
        "Cannot resolve the target host: the target host does not resolve;"
        " run `docker compose ps <host>`",
    ]


def test_jsonl_contract_text_grouping_and_fail_on(rules: RuleSet) -> None:
    logs = logs_frame(
        log(1, None, "web", 'exec: "gunicorn": executable file not found in $PATH', "error"),
        log(2, None, "nginx", "upstream timed out (110: Connection timed out)", "error"),
        log(3, None, "nginx", "upstream timed out (110: Connection timed out)", "error"),
    )
    summary = summarize_findings(detect_findings(logs, None, rules))
    records = [json.loads(line) for line in detect_jsonl(summary).splitlines()]
    assert [r["service"] for r in records] == ["web", "nginx"]
    for rec in records:
        assert {
            "service",
            "category",
            "rule",
            "severity",
            "count",
            "first_seen",
            "last_seen",
            "containers",
            "fields",
            "evidence",
        } <= rec.keys()
        assert rec["first_seen"] is None and rec["last_seen"] is None
        assert isinstance(rec["fields"], dict)
    text = detect_text(summary)
    assert text.index("web\n") < text.index("nginx\n")
    assert "CRITICAL missing-binary: gunicorn missing" in text
    assert fails_at(summary, "critical") and fails_at(summary, "medium")
    assert not fails_at(summary.filter(pl.col("service") == "nginx"), "high")
    assert not fails_at(summary, None)
    assert detect_text(summary.clear()) == "No findings.\n"


# --------------------------------------------------------------------------- end to end

COMPOSE_LOG = """\
frontend-1       | 2025-08-01T12:30:00.000000000Z > next start
autoheal-1       | 2025-08-01T12:30:10.000000000Z 01-08-2025 12:30:10 Container /mcp-frontend-1 (3cd71f557bc7) found to be unhealthy - Restarting container now with 10s timeout
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z Traceback (most recent call last):
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z   File "/app/scripts/start_agent_monitor.py", line 41, in <module>
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z     asyncio.run(main())
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z   File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z     raise RuntimeError(
agent-monitor-1  | 2025-08-01T12:30:20.000000000Z RuntimeError: asyncio.run() cannot be called from a running event loop
"""


def test_end_to_end_through_ingest(rules: RuleSet, tmp_path: Path) -> None:
    path = tmp_path / "compose.log"
    path.write_text(COMPOSE_LOG, encoding="utf-8")
    result = run_detect(EvidenceSource(Request(paths=(str(path),))), rules=rules)
    assert pairs(result.summary) == {("frontend", "t.autoheal"), ("agent-monitor", "t.asyncio")}
    asyncio_row = result.summary.filter(pl.col("rule") == "t.asyncio").row(0, named=True)
    assert json.loads(asyncio_row["fields"]) == {
        "file": "/app/scripts/start_agent_monitor.py",
        "line": "41",
    }
    windowed = run_detect(
        EvidenceSource(
            Request(paths=(str(path),), since=T0 + timedelta(seconds=15), services=("frontend",))
        ),
        rules=rules,
    )
    assert windowed.summary.is_empty()


def test_cli_detect_and_rules(tmp_path: Path) -> None:
    path = tmp_path / "compose.log"
    path.write_text(COMPOSE_LOG, encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    assert ok.exit_code == 0, ok.output
    lines = [json.loads(x) for x in ok.stdout.splitlines()]
    assert {"agent-monitor", "frontend"} <= {r["service"] for r in lines}
    failing = runner.invoke(app, ["detect", str(path), "--fail-on", "critical"])
    assert failing.exit_code == 3
    bad = runner.invoke(app, ["detect", str(path), "--fail-on", "urgent"])
    assert bad.exit_code == 2
    assert "Error: --fail-on 'urgent' is not a severity" in bad.output
    broken = tmp_path / "broken.toml"
    broken.write_text('[pack]\nname = "b"\n[[rules]]\nid = "b.x"\ncategory = "nope"\n')
    check = runner.invoke(app, ["rules", "check", str(broken)])
    assert check.exit_code == 1
    assert "rule b.x: unknown category 'nope'" in check.output
    assert "rule b.x: missing or empty `title`" in check.output
    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and "core.exit-137-oom" in listed.output


def test_cli_single_service_names_unprefixed_input(tmp_path: Path) -> None:
    raw = tmp_path / "raw.log"
    raw.write_text('exec: "gunicorn": executable file not found in $PATH\n', encoding="utf-8")
    pack = tmp_path / "t.toml"
    pack.write_text(PACK, encoding="utf-8")
    out = CliRunner().invoke(
        app, ["detect", str(raw), "--service", "web", "--rules", str(pack), "--format", "jsonl"]
    )
    assert out.exit_code == 0, out.output
    records = [json.loads(x) for x in out.stdout.splitlines()]
    assert any(r["rule"] == "t.exec-not-found" for r in records)
    assert {r["service"] for r in records} == {"web"}


@pytest.mark.parametrize(
    ("message", "file", "line"),
    [
        (  # Python: the innermost frame is printed last
            'Traceback (most recent call last):\n  File "/app/main.py", line 9, in <module>\n'
            '    run()\n  File "/app/jobs.py", line 31, in run\n    raise KeyError(k)\n'
            "KeyError: 'x'",
            "/app/jobs.py",
            "31",
        ),
        (  # Node: first
            "TypeError: Cannot read properties of undefined (reading 'id')\n"
            "    at getUser (/app/src/users.js:14:22)\n    at async /app/src/routes.js:30:5",
            "/app/src/users.js",
            "14",
        ),
        (  # Go: first, and only the goroutine that panicked
            "panic: assignment to entry in nil map\n\ngoroutine 7 [running]:\n"
            "main.(*Cart).Add(...)\n\t/src/internal/cart/cart.go:31 +0x2f\n"
            "main.handleAdd(0xc000123)\n\t/src/internal/http/cart_handler.go:74 +0x95\n\n"
            "goroutine 1 [IO wait]:\nmain.main()\n\t/src/cmd/server/main.go:20 +0x1d",
            "/src/internal/cart/cart.go",
            "31",
        ),
    ],
)
def test_the_innermost_application_frame_names_the_place(
    message: str, file: str, line: str
) -> None:
    ruleset = load_rules()
    logs = logs_frame(log(1, 1, "api", message, level="error"))
    found = detect_findings(logs, events_frame(), ruleset)
    places = {
        (fields.get("file"), fields.get("line"))
        for fields in (json.loads(f) for f in found.get_column("fields"))
        if fields.get("file")
    }
    assert places == {(file, line)}


@pytest.mark.parametrize(
    ("timeout", "kill"),
    [
        (
            "[2025-08-01 12:30:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)",
            "[2025-08-01 12:30:01 +0000] [1] [ERROR] Worker (pid:8) was sent SIGKILL! Perhaps out of memory?",
        ),
        (
            "[01-Aug-2025 12:30:00] WARNING: [pool www] child 41, script '/var/www/html/index.php'"
            ' (request: "GET /index.php") execution timed out (62.104410 sec), terminating',
            "[01-Aug-2025 12:30:00] WARNING: [pool www] child 41 exited on signal 9 (SIGKILL)"
            " after 468.112733 seconds from start",
        ),
    ],
    ids=["gunicorn", "php-fpm"],
)
def test_a_kill_after_the_supervisors_own_timeout_is_no_oom(timeout: str, kill: str) -> None:
    rules = load_rules()  # the built-in packs: their timeout and SIGKILL rules
    logs = logs_frame(log(1, 0, "web", timeout, "warn"), log(2, 1, "web", kill, "warn"))
    categories = detect_findings(logs, None, rules).get_column("category").to_list()
    assert categories == ["timeout"]
    # another child's kill, with no timeout of its own, still is one
    other = kill.replace("pid:8", "pid:9").replace("child 41", "child 42")
    logs = logs_frame(*logs.iter_rows(named=True), log(3, 2, "web", other, "warn"))
    categories = detect_findings(logs, None, rules).get_column("category").to_list()
    assert sorted(categories) == ["oom-killed", "timeout"]
