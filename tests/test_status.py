"""`status` without an engine: judging inspect documents, thresholds, rendering, exit codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.live.status import (
    StatusReport,
    Verdict,
    judge,
    render_json,
    render_text,
)

SEED_TRUTH_UNHEALTHY = {
    # sample_logs/2025-08-01-health-checks/README.md, "End state": 6 need attention
    "frontend",
    "staff-frontend",
    "cloudflare-tunnel",
    "agent-scheduler",
    "agent-discovery",
    "agent-monitor",
}


@pytest.fixture(scope="module")
def seed_inspect(sample_logs: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (sample_logs / "2025-08-01-health-checks" / "inspect.json").read_text()
    )
    return data


def _container(
    service: str,
    *,
    status: str = "running",
    health: str | None = None,
    exit_code: int = 0,
    restarts: int = 0,
    probe: str | None = None,
    replica: int = 1,
    oom: bool = False,
) -> dict[str, Any]:
    """An inspect document with only the fields status reads."""
    state: dict[str, Any] = {
        "Status": status,
        "Running": status == "running",
        "ExitCode": exit_code,
        "OOMKilled": oom,
    }
    if health is not None:
        state["Health"] = {
            "Status": health,
            "FailingStreak": 3 if health == "unhealthy" else 0,
            "Log": [] if probe is None else [{"ExitCode": 1, "Output": probe}],
        }
    return {
        "Id": f"{service}{replica:060d}",
        "Name": f"/shop-{service}-{replica}",
        "RestartCount": restarts,
        "State": state,
        "Config": {
            "Labels": {
                "com.docker.compose.project": "shop",
                "com.docker.compose.service": service,
            }
        },
    }


def _report(*documents: dict[str, Any]) -> StatusReport:
    return StatusReport(host="h", project="shop", services=judge(list(documents)))


def test_seed_end_state_matches_the_ground_truth(seed_inspect: list[dict[str, Any]]) -> None:
    report = StatusReport(host="h", project="mcp", services=judge(seed_inspect))
    assert len(report.services) == 24
    assert {s.service for s in report.services if s.unhealthy} == SEED_TRUTH_UNHEALTHY
    by = {s.service: s for s in report.services}
    assert by["agent-monitor"].restarts == 125
    assert by["agent-monitor"].state == "restarting"
    assert by["frontend"].last_probe == "/bin/sh: curl: not found\n"
    assert "executable file not found" in (by["cloudflare-tunnel"].last_probe or "")
    assert by["grafana"].unhealthy is False  # its unhealthy spell was transient
    # 6 of 24 is exactly 25 %: the report's warning threshold is "more than 25 %"
    assert report.share == 0.25
    assert report.verdict is Verdict.OK


@pytest.mark.parametrize(
    ("unhealthy", "total", "level"),
    [
        (0, 4, Verdict.OK),
        (1, 4, Verdict.OK),  # 25 %: not more than 25 %
        (2, 7, Verdict.WARNING),  # 28.6 %
        (2, 4, Verdict.WARNING),  # 50 %: not more than 50 %
        (3, 5, Verdict.CRITICAL),  # 60 %, the seed project on the test engine
        (4, 4, Verdict.CRITICAL),
    ],
)
def test_thresholds(unhealthy: int, total: int, level: Verdict) -> None:
    documents = [
        _container(f"s{i}", health="unhealthy" if i < unhealthy else "healthy")
        for i in range(total)
    ]
    report = _report(*documents)
    assert report.unhealthy == unhealthy
    assert report.verdict is level
    assert int(report.verdict) == level.value


def test_what_counts_as_unhealthy() -> None:
    report = _report(
        _container("web", health="unhealthy", probe="/bin/sh: curl: not found"),
        _container("job", status="exited", exit_code=0),
        _container("worker", status="exited", exit_code=137, oom=True),
        _container("agent", status="restarting", exit_code=1, restarts=12),
        _container("api", status="created"),
        _container("cache", health="starting"),
        _container("db", health="healthy"),
        _container("paused", status="paused"),
    )
    by = {s.service: s for s in report.services}
    assert {name for name, s in by.items() if s.unhealthy} == {"web", "worker", "agent", "api"}
    assert by["web"].reason == "health check failing (3 in a row)"
    assert by["worker"].reason == "exited with code 137; OOM-killed"
    assert by["agent"].reason == "restarting"
    assert by["api"].reason == "created but never started"
    assert by["job"].reason == ""


def test_replicas_make_one_service() -> None:
    report = _report(
        _container("web", health="healthy", restarts=1, replica=1),
        _container("web", health="unhealthy", restarts=2, replica=2, probe="HTTP 503"),
        _container("db", health="healthy"),
    )
    web = next(s for s in report.services if s.service == "web")
    assert web.containers == ["shop-web-1", "shop-web-2"]
    assert (web.health, web.restarts, web.last_probe) == ("unhealthy", 3, "HTTP 503")
    assert web.reason == "shop-web-2: health check failing (3 in a row)"
    assert len(report.services) == 2


def test_probe_output_is_redacted_and_cannot_mess_up_the_terminal() -> None:
    secret = "curl: (22) https://admin:hunter2@db.internal/ password=hunter2\x1b[2J\x07\nnext"
    report = _report(_container("web", health="unhealthy", probe=secret))
    (web,) = report.services
    assert web.last_probe is not None and "hunter2" not in web.last_probe
    text = render_text(report)
    assert "hunter2" not in text
    assert "\x1b" not in text and "\x07" not in text
    table = text.splitlines()
    assert len(table) == 3  # headline, header, one row: the newline did not split the row
    document = json.loads(render_json(report))
    assert "hunter2" not in json.dumps(document)


def test_render_text_sample() -> None:
    report = _report(
        _container("web", health="unhealthy", probe="/bin/sh: curl: not found"),
        _container("db", health="healthy"),
        _container("agent", status="exited", exit_code=1, restarts=3),
    )
    assert render_text(report) == (
        "CRITICAL project shop on h: 2 of 3 services unhealthy (67%; critical > 50%, "
        "warning > 25%)\n"
        "SERVICE  STATE       HEALTH     STREAK  RESTARTS  LAST PROBE\n"
        "agent    exited (1)  -          0       3         -\n"
        "db       running     healthy    0       0         -\n"
        "web      running     unhealthy  3       0         /bin/sh: curl: not found\n"
    )


def test_render_json_document() -> None:
    base = _container("web", health="unhealthy", probe="x")
    other = copy.deepcopy(base)
    other["Config"]["Labels"]["com.docker.compose.service"] = "db"
    other["State"]["Health"]["Status"] = "healthy"
    document = json.loads(render_json(_report(base, other)))
    assert document["level"] == "warning"
    assert document["exit_code"] == 1
    assert document["share_unhealthy"] == 0.5
    assert document["thresholds"] == {"critical": 0.5, "warning": 0.25}
    assert [s["service"] for s in document["services"]] == ["db", "web"]
    assert set(document["services"][0]) >= {
        "state",
        "health",
        "failing_streak",
        "restarts",
        "last_probe",
        "unhealthy",
        "reason",
    }


def test_bad_format_is_one_line() -> None:
    result = CliRunner().invoke(app, ["status", "--format", "xml"])
    assert result.exit_code == 3
    assert result.output.strip() == (
        "Error: --format 'xml' is not supported by status (allowed: text, json)"
    )
