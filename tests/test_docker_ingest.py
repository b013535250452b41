"""End to end on a real Docker Engine: the seed incident, captured and ingested.

The compose project tests/compose/seed-incident/ runs a frontend health-checked
with `curl` (absent), a tunnel health-checked with `wget` (absent from its
image), an agent that prints the asyncio event-loop traceback and exits 1
under `restart: on-failure:3`, and two healthy services. What the engine and
Compose v1 print about it is captured as a user would (tests/docker_engine.py
`capture_project`) and fed to `read_inputs`. Expected values are read from the
raw captures with plain JSON/text handling, not from the parser.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from docker_engine import (
    DockerEngine,
    capture_project,
    seed_incident_settled,
    wait_until,
)

from incidentlog.ingest import read_inputs

pytestmark = pytest.mark.docker

COMPOSE_FILE = Path(__file__).resolve().parent / "compose" / "seed-incident" / "docker-compose.yml"
SERVICES = {"frontend", "cloudflare-tunnel", "agent-monitor", "model-router", "plan-management"}
SETTLE_TIMEOUT = 60.0
AGENT_RUNS = 4  # the first run and three restarts (on-failure:3)
# Compose v1 `logs --no-color -t`: "agent-monitor_1      | 2026-…Z text"
V1_LINE = re.compile(r"^(?P<container>[\w.-]+_\d+) +\| (?P<ts>\S+) (?P<text>.*)$")


@dataclass(frozen=True)
class SeedRun:
    project: str
    files: dict[str, Path]
    containers: dict[str, dict[str, Any]]
    """`docker inspect` by service, once the incident had played out."""


@pytest.fixture(scope="module")
def seed_run(
    docker_engine: DockerEngine, busybox_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeedRun]:
    project = f"ilseed{secrets.token_hex(4)}"
    since = time.time()
    try:
        docker_engine.compose(project, COMPOSE_FILE, "up", "-d")
        try:
            containers = wait_until(
                lambda: seed_incident_settled(docker_engine, project),
                SETTLE_TIMEOUT,
                "the seed incident to play out (see seed_incident_settled)",
            )
        except TimeoutError as exc:
            state = docker_engine.docker("ps", "-a", "--filter", f"name={project}").stdout
            raise TimeoutError(f"{exc}; containers now:\n{state}") from None
        files = capture_project(
            docker_engine, project, COMPOSE_FILE, tmp_path_factory.mktemp("captured"), since
        )
        yield SeedRun(project, files, containers)
    finally:
        docker_engine.compose(project, COMPOSE_FILE, "down", "-v", "-t", "1", check=False)


def _ingest(*paths: Path, service: str | None = None) -> Any:
    return read_inputs([str(p) for p in paths], service=service, fmt=None)


@pytest.fixture(scope="module")
def compose_logs(seed_run: SeedRun) -> pl.DataFrame:
    logs: pl.DataFrame = _ingest(seed_run.files["compose.log"]).logs
    return logs


@pytest.fixture(scope="module")
def events(seed_run: SeedRun) -> pl.DataFrame:
    frame: pl.DataFrame = _ingest(seed_run.files["events.jsonl"]).events
    return frame


@pytest.fixture(scope="module")
def inspected(seed_run: SeedRun) -> pl.DataFrame:
    frame: pl.DataFrame = _ingest(seed_run.files["inspect.json"]).events
    return frame


def _raw_compose_lines(path: Path) -> list[dict[str, str]]:
    """The prefixed lines of a v1 compose log, split by a plain regex (the oracle)."""
    lines = path.read_text("utf-8").splitlines()
    return [m.groupdict() for line in lines if (m := V1_LINE.match(line))]


def _raw_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def test_the_incident_happened_on_the_engine(seed_run: SeedRun) -> None:
    """Guards the fixture: every later assertion relies on this state."""
    c = seed_run.containers
    assert c.keys() == SERVICES
    assert c["frontend"]["State"]["Health"]["Status"] == "unhealthy"
    assert c["cloudflare-tunnel"]["State"]["Health"]["Status"] == "unhealthy"
    assert c["model-router"]["State"]["Health"]["Status"] == "healthy"
    assert c["agent-monitor"]["RestartCount"] == AGENT_RUNS - 1
    assert c["agent-monitor"]["State"]["ExitCode"] == 1


def test_nothing_is_rejected(seed_run: SeedRun) -> None:
    """Every line is kept, except engine events incidentlog does not track (exec_*)."""
    names = ["compose.log", "events.jsonl", "inspect.json", "ps.txt", "ps.jsonl"]
    result = _ingest(*(seed_run.files[n] for n in names))
    assert result.logs.height > 0
    assert result.events.height > 0
    reasons: dict[str, int] = {}
    for source in result.summary.sources:
        for reason, rejected in source.rejected.items():
            reasons[reason] = reasons.get(reason, 0) + rejected.count
    untracked = sum(
        1
        for e in _raw_events(seed_run.files["events.jsonl"])
        if e["Action"].startswith(("exec_create", "exec_start", "exec_die"))
    )
    assert untracked > 0  # health probes run as execs
    assert [r for r in reasons if not r.startswith("ignored:")] == []
    assert sum(reasons.values()) == untracked


def test_v1_container_names_map_to_services(compose_logs: pl.DataFrame) -> None:
    prefixed = compose_logs.filter(pl.col("container").str.contains(r"_\d+$"))
    assert set(prefixed["service"].unique()) == SERVICES
    pairs = prefixed.select("container", "service").unique()
    for container, service in pairs.iter_rows():
        assert container == f"{service}_1"


def test_every_healthy_service_line_is_a_record(
    seed_run: SeedRun, compose_logs: pl.DataFrame
) -> None:
    raw = _raw_compose_lines(seed_run.files["compose.log"])
    for service in ("model-router", "plan-management"):
        texts = [r["text"] for r in raw if r["container"] == f"{service}_1"]
        got = compose_logs.filter(pl.col("service") == service).sort("seq")
        assert got["message"].to_list() == texts
        assert set(got["level"].cast(pl.String)) == {"info"}
        assert got["ts"].null_count() == 0


def test_agent_traceback_is_one_error_record_per_run(
    seed_run: SeedRun, compose_logs: pl.DataFrame
) -> None:
    raw = [
        r["text"]
        for r in _raw_compose_lines(seed_run.files["compose.log"])
        if r["container"] == "agent-monitor_1"
    ]
    # The first run's traceback as printed: from its header to the RuntimeError line.
    start = raw.index("Traceback (most recent call last):")
    end = next(i for i in range(start, len(raw)) if raw[i].startswith("RuntimeError:"))
    traceback = "\n".join(raw[start : end + 1])
    assert end - start > 20  # the shape under test: a long multi-line record

    agent = compose_logs.filter(pl.col("service") == "agent-monitor").sort("seq")
    tracebacks = agent.filter(
        pl.col("message").str.contains("Traceback (most recent", literal=True)
    )
    assert tracebacks.height == AGENT_RUNS
    for message, level in tracebacks.select("message", "level").iter_rows():
        assert message.startswith(traceback)
        assert level in ("error", "fatal")
    # No frame or caret line was left behind as a record of its own.
    assert agent.filter(pl.col("message").str.contains(r"^\s")).height == 0
    errors = agent.filter(
        pl.col("message").str.contains("RuntimeError: asyncio.run()", literal=True)
    )
    assert errors.height == AGENT_RUNS


def test_probe_outputs_from_inspect(inspected: pl.DataFrame) -> None:
    probes = inspected.filter(pl.col("action") == "probe")
    frontend = probes.filter(pl.col("service") == "frontend")
    assert frontend.height > 0
    assert frontend["output"].str.contains("curl: not found", literal=True).all()
    assert set(frontend["exit_code"].to_list()) == {1}

    tunnel = probes.filter(pl.col("service") == "cloudflare-tunnel")
    assert tunnel.height > 0
    wget_missing = 'exec: "wget": executable file not found in $PATH'
    assert tunnel["output"].str.contains(wget_missing, literal=True).all()

    healthy = probes.filter(pl.col("service") == "model-router")
    assert healthy.height > 0
    assert set(healthy["exit_code"].to_list()) == {0}


def test_die_events_of_the_crash_loop(seed_run: SeedRun, events: pl.DataFrame) -> None:
    raw = [
        e
        for e in _raw_events(seed_run.files["events.jsonl"])
        if e.get("Action") == "die"
        and e["Actor"]["Attributes"]["com.docker.compose.service"] == "agent-monitor"
    ]
    assert len(raw) == AGENT_RUNS
    dies = events.filter((pl.col("action") == "die") & (pl.col("service") == "agent-monitor"))
    assert dies.height == len(raw)
    assert set(dies["exit_code"].to_list()) == {1}
    assert set(dies["project"].to_list()) == {seed_run.project}
    assert set(dies["container"].to_list()) == {f"{seed_run.project}_agent-monitor_1"}
    expected_ns = sorted(int(e["timeNano"]) for e in raw)
    got_ns = sorted(dies["ts"].dt.epoch("ns").to_list())
    assert got_ns == expected_ns


def test_health_status_events(seed_run: SeedRun, events: pl.DataFrame) -> None:
    health = events.filter(pl.col("action") == "health_status")
    for service, status in (
        ("frontend", "unhealthy"),
        ("cloudflare-tunnel", "unhealthy"),
        ("model-router", "healthy"),
        ("plan-management", "healthy"),
    ):
        got = health.filter(pl.col("service") == service)["status"].cast(pl.String).to_list()
        assert got == [status], service


def test_ps_snapshot_states(seed_run: SeedRun) -> None:
    # The table has no labels: v1 names are PROJECT_SERVICE_N, so the project is given.
    # The JSON form carries the compose labels itself.
    for name, project in (("ps.txt", seed_run.project), ("ps.jsonl", None)):
        snap = read_inputs([str(seed_run.files[name])], project=project).events
        rows = snap.filter(pl.col("action") == "snapshot")
        by = {r["service"]: r for r in rows.iter_rows(named=True)}
        assert by.keys() == SERVICES, name
        assert {r["project"] for r in by.values()} == {seed_run.project}, name
        assert by["frontend"]["status"] == "unhealthy", name
        assert "(unhealthy)" in by["frontend"]["output"], name
        assert by["model-router"]["status"] == "healthy", name
        assert by["agent-monitor"]["exit_code"] == 1, name
        assert by["agent-monitor"]["output"].startswith("Exited (1)"), name


def test_json_file_logs_match_docker_logs(seed_run: SeedRun, compose_logs: pl.DataFrame) -> None:
    json_logs = {name: path for name, path in seed_run.files.items() if name.endswith("-json.log")}
    if not json_logs:
        pytest.skip("the engine's json-file logs are not readable here (remote engine)")
    agent_id = seed_run.containers["agent-monitor"]["Id"]
    agent_log = json_logs[f"containers/{agent_id}/{agent_id}-json.log"]
    from_file = _ingest(agent_log).logs.sort("seq")
    assert set(from_file["service"]) == {"agent-monitor"}
    assert set(from_file["container"]) == {f"{seed_run.project}_agent-monitor_1"}
    assert set(from_file["stream"].cast(pl.String)) == {"stderr"}

    from_compose = compose_logs.filter(pl.col("service") == "agent-monitor").sort("seq")
    assert from_file.height == from_compose.height
    assert from_file["message"].to_list() == from_compose["message"].to_list()
    assert from_file["ts"].to_list() == from_compose["ts"].to_list()
