"""json-file driver logs, docker events, docker inspect and docker ps snapshots."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from incidentlog.errors import FormatError
from incidentlog.ingest import IngestOptions, IngestSummary, InputFormat, iter_ingest, read_inputs
from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA

CONTAINER_ID = "3f4e1a2b" * 8


def entry(log: str, stream: str = "stdout", time: str = "2025-08-01T12:30:00.123456789Z") -> str:
    return json.dumps({"log": log, "stream": stream, "time": time}) + "\n"


def json_log(tmp_path: Path, body: str, config: dict[str, Any] | None = None) -> Path:
    folder = tmp_path / CONTAINER_ID
    folder.mkdir()
    if config is not None:
        (folder / "config.v2.json").write_text(json.dumps(config))
    path = folder / f"{CONTAINER_ID}-json.log"
    path.write_text(body)
    return path


CONFIG = {
    "ID": CONTAINER_ID,
    "Name": "/shop-web-1",
    "Config": {
        "Labels": {
            "com.docker.compose.project": "shop",
            "com.docker.compose.service": "web",
            "com.docker.compose.container-number": "1",
        }
    },
}


# ---- json-file ---------------------------------------------------------------


def test_jsonfile_streams_times_and_labels(tmp_path: Path) -> None:
    body = (
        entry("listening on :8080\n", "stdout", "2025-08-01T12:30:00.123456789Z")
        + entry("warning: slow query\n", "stderr", "2025-08-01T12:30:01.5Z")
        + entry("\x1b[31mred\x1b[0m text\r\n", "stdout", "2025-08-01T12:30:02.00000001Z")
    )
    result = read_inputs([json_log(tmp_path, body, CONFIG)])
    assert result.summary.sources[0].format is InputFormat.JSONFILE
    logs = result.logs.sort("seq")
    assert logs.schema == LOGS_SCHEMA
    assert logs.select("project", "service", "container", "stream", "message").rows() == [
        ("shop", "web", "shop-web-1", "stdout", "listening on :8080"),
        ("shop", "web", "shop-web-1", "stderr", "warning: slow query"),
        ("shop", "web", "shop-web-1", "stdout", "red text"),
    ]
    assert logs.get_column("ts").dt.nanosecond().to_list() == [123456789, 500000000, 10]


def test_jsonfile_without_config_uses_short_id(tmp_path: Path) -> None:
    result = read_inputs([json_log(tmp_path, entry("hello\n"))])
    logs = result.logs
    assert logs.get_column("container").to_list() == [CONTAINER_ID[:12]]
    assert logs.get_column("project").to_list() == [None]


def test_jsonfile_rejoins_lines_split_at_16k(tmp_path: Path) -> None:
    long_line = "".join(chr(ord("a") + i % 26) for i in range(40_000))
    pieces = [long_line[i : i + 16_384] for i in range(0, len(long_line), 16_384)]
    body = entry("before\n", "stdout", "2025-08-01T12:30:00Z")
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        body += entry(piece + ("\n" if last else ""), "stdout", f"2025-08-01T12:30:01.{i + 1}Z")
        # the other stream interleaves between the pieces
        body += entry(f"stderr {i}\n", "stderr", f"2025-08-01T12:30:01.{i + 1}5Z")
    body += entry("after\n", "stdout", "2025-08-01T12:30:02Z")
    path = json_log(tmp_path, body, CONFIG)
    result = read_inputs([path])
    stdout = result.logs.filter(pl.col("stream") == "stdout").sort("seq")
    assert stdout.get_column("message").to_list() == ["before", long_line, "after"]
    # the joined line keeps its first piece's time
    assert stdout.get_column("ts")[1] == datetime(2025, 8, 1, 12, 30, 1, 100000, tzinfo=UTC)
    assert result.logs.filter(pl.col("stream") == "stderr").height == len(pieces)
    source = result.summary.sources[0]
    assert source.lines == source.kept_lines == len(pieces) * 2 + 2


def test_jsonfile_split_line_across_batches(tmp_path: Path) -> None:
    """A split line that straddles a read batch is still one record."""
    padding = "".join(entry(f"pad {i}\n") for i in range(1200))  # past the sniffed head
    long_line = "x" * 40_000
    pieces = [long_line[i : i + 16_384] for i in range(0, len(long_line), 16_384)]
    body = padding + "".join(
        entry(p + ("\n" if i == len(pieces) - 1 else "")) for i, p in enumerate(pieces)
    )
    body += entry("after\n")
    path = json_log(tmp_path, body, CONFIG)
    summary = IngestSummary()
    options = IngestOptions(chunk_bytes=100)
    logs = pl.concat(b.logs for b in iter_ingest([path], options, summary)).sort("seq")
    assert logs.height == 1200 + 2
    assert logs.get_column("message").to_list()[-2:] == [long_line, "after"]


def test_jsonfile_ending_inside_a_split_line_keeps_the_pieces(tmp_path: Path) -> None:
    body = entry("first\n") + entry("a" * 16_384) + entry("b" * 100)  # no final newline piece
    result = read_inputs([json_log(tmp_path, body)])
    assert result.logs.sort("seq").get_column("message").to_list() == [
        "first",
        "a" * 16_384 + "b" * 100,
    ]


def test_jsonfile_tracebacks_stitch_per_stream(tmp_path: Path) -> None:
    lines = [
        "Traceback (most recent call last):\n",
        '  File "/a.py", line 1, in <module>\n',
        "KeyError: 'x'\n",
    ]
    body = ""
    for i, line in enumerate(lines):
        body += entry(line, "stderr", f"2025-08-01T12:30:00.{i}1Z")
        body += entry(f"GET /health {i}\n", "stdout", f"2025-08-01T12:30:00.{i}2Z")
    logs = read_inputs([json_log(tmp_path, body, CONFIG)]).logs
    stderr = logs.filter(pl.col("stream") == "stderr")
    assert stderr.get_column("message").to_list() == ["".join(lines).rstrip("\n")]
    assert stderr.get_column("level").to_list() == ["error"]
    assert logs.filter(pl.col("stream") == "stdout").height == 3


def test_jsonfile_captured_from_real_engine(repo_root: Path, tmp_path: Path) -> None:
    captured = repo_root / "tests/compose/seed-incident/captured/containers"
    logs_paths = sorted(captured.glob("*/*-json.log"))
    assert logs_paths
    result = read_inputs(logs_paths)
    services = set(result.logs.get_column("service").unique().to_list())
    assert {"agent-monitor", "frontend", "cloudflare-tunnel"} <= services
    assert result.logs.get_column("project").unique().to_list() == ["ilseed855520"]
    assert result.logs.get_column("ts").null_count() == 0
    agent = result.logs.filter(pl.col("service") == "agent-monitor")
    assert agent.get_column("message").str.starts_with("Traceback").any()
    for source in result.summary.sources:
        assert source.format is InputFormat.JSONFILE
        assert source.lines == source.kept_lines


# ---- docker events -------------------------------------------------------------

ATTRS = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}


def event(action: str, time_nano: int, name: str = "shop-web-1", **extra: str) -> str:
    container_id = "9c1d" * 16
    status = action
    return (
        json.dumps(
            {
                "status": status,
                "id": container_id,
                "from": "shop-web",
                "Type": "container",
                "Action": action,
                "Actor": {
                    "ID": container_id,
                    "Attributes": {**ATTRS, "image": "shop-web", "name": name, **extra},
                },
                "scope": "local",
                "time": time_nano // 1_000_000_000,
                "timeNano": time_nano,
            }
        )
        + "\n"
    )


T0 = 1754051400_000000000  # 2025-08-01T12:30:00Z


def test_events_new_form(tmp_path: Path) -> None:
    body = (
        event("start", T0)
        + event("health_status: unhealthy", T0 + 1)
        + event("health_status: healthy", T0 + 2)
        + event("kill", T0 + 3, signal="9")
        + event("die", T0 + 4, exitCode="137")
        + event("oom", T0 + 5)
        + event("restart", T0 + 6)
        + event("stop", T0 + 7)
        + event("destroy", T0 + 8)
        + event("create", T0 + 9)
    )
    path = tmp_path / "events.jsonl"
    path.write_text(body)
    result = read_inputs([path])
    events = result.events.sort("seq")
    assert events.schema == EVENTS_SCHEMA
    assert events.select("action", "status", "exit_code").rows() == [
        ("start", None, None),
        ("health_status", "unhealthy", None),
        ("health_status", "healthy", None),
        ("kill", None, None),
        ("die", None, 137),
        ("oom", None, None),
        ("restart", None, None),
        ("stop", None, None),
        ("destroy", None, None),
        ("create", None, None),
    ]
    assert set(events.select("project", "service", "container").rows()) == {
        ("shop", "web", "shop-web-1")
    }
    assert events.get_column("ts").dt.nanosecond().to_list()[:3] == [0, 1, 2]
    assert events.get_column("id").n_unique() == events.height


def test_events_legacy_form(tmp_path: Path) -> None:
    body = (
        '{"status":"die","id":"def456def456def456def456","from":"redis:7","time":1754051402}\n'
        '{"status":"start","id":"def456def456def456def456","from":"redis:7","time":1754051403}\n'
    )
    path = tmp_path / "events.jsonl"
    path.write_text(body)
    events = read_inputs([path]).events.sort("seq")
    assert events.get_column("action").to_list() == ["die", "start"]
    assert events.get_column("container").to_list() == ["def456def456"] * 2
    assert events.get_column("ts").to_list()[0] == datetime(2025, 8, 1, 12, 30, 2, tzinfo=UTC)


def test_events_not_tracked_are_counted_as_ignored(tmp_path: Path) -> None:
    body = (
        event("exec_create: curl -f http://localhost:3000/health", T0)
        + event("exec_start: curl -f http://localhost:3000/health", T0 + 1)
        + event("exec_die", T0 + 2, exitCode="127")
        + event("attach", T0 + 3)
        + json.dumps(
            {
                "Type": "network",
                "Action": "connect",
                "Actor": {"ID": "n1", "Attributes": {"container": "abc", "name": "shop_default"}},
                "scope": "local",
                "time": 1754051400,
                "timeNano": T0 + 4,
            }
        )
        + "\n"
        + json.dumps({"Type": "image", "Action": "pull", "Actor": {"ID": "redis:7"}, "time": 1})
        + "\n"
        + event("die", T0 + 5, exitCode="1")
    )
    path = tmp_path / "events.jsonl"
    path.write_text(body)
    result = read_inputs([path])
    assert result.events.get_column("action").to_list() == ["die"]
    source = result.summary.sources[0]
    assert source.lines == 7
    assert source.kept_lines == 1
    counts = {reason: r.count for reason, r in source.rejected.items()}
    assert counts == {
        "ignored: action not tracked (exec, attach, ...)": 4,
        "ignored: not a container event": 2,
    }
    assert source.lines == source.kept_lines + source.rejected_lines


def test_events_captured_from_real_engine(repo_root: Path) -> None:
    path = repo_root / "tests/compose/seed-incident/captured/events.jsonl"
    result = read_inputs([path])
    events = result.events
    unhealthy = events.filter(
        (pl.col("action") == "health_status") & (pl.col("status") == "unhealthy")
    )
    assert {"frontend", "cloudflare-tunnel"} <= set(unhealthy.get_column("service").to_list())
    died = events.filter((pl.col("action") == "die") & (pl.col("service") == "agent-monitor"))
    assert died.height >= 1
    assert (died.get_column("exit_code") == 1).all()
    source = result.summary.sources[0]
    assert source.lines == len(path.read_text().splitlines())
    assert source.lines == source.kept_lines + source.rejected_lines


# ---- docker inspect --------------------------------------------------------------


def inspect_item(**state: Any) -> dict[str, Any]:
    return {
        "Id": "7a2b" * 16,
        "Name": "/shop-db-1",
        "RestartCount": 3,
        "State": {
            "Status": "exited",
            "Running": False,
            "Restarting": False,
            "OOMKilled": True,
            "Dead": False,
            "Pid": 0,
            "ExitCode": 137,
            "Error": "",
            "StartedAt": "2025-08-01T12:20:00.000000001Z",
            "FinishedAt": "2025-08-01T12:31:00.5Z",
            **state,
        },
        "Config": {
            "Labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "db"}
        },
    }


def test_inspect_oom_exit_code_and_restart_count(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps([inspect_item()], indent=4))
    result = read_inputs([path])
    assert result.summary.sources[0].format is InputFormat.INSPECT
    events = result.events.sort("seq")
    assert events.select("action", "exit_code", "restart_count", "service", "project").rows() == [
        ("oom", 137, None, "db", "shop"),
        ("snapshot", 137, 3, "db", "shop"),
    ]
    assert events.get_column("container").unique().to_list() == ["shop-db-1"]
    assert (
        events.get_column("ts").to_list()
        == [datetime(2025, 8, 1, 12, 31, 0, 500000, tzinfo=UTC)] * 2
    )
    assert "oom-killed" in events.get_column("output")[1]


def test_inspect_single_object_with_health_probes(tmp_path: Path) -> None:
    item = inspect_item(
        Status="running",
        Running=True,
        OOMKilled=False,
        ExitCode=0,
        FinishedAt="0001-01-01T00:00:00Z",
        Health={
            "Status": "unhealthy",
            "FailingStreak": 2,
            "Log": [
                {
                    "Start": "2025-08-01T12:30:00.1Z",
                    "End": "2025-08-01T12:30:00.2Z",
                    "ExitCode": 127,
                    "Output": "/bin/sh: curl: not found\n",
                },
                {
                    "Start": "2025-08-01T12:30:30.1Z",
                    "End": "2025-08-01T12:30:30.2Z",
                    "ExitCode": 127,
                    "Output": "/bin/sh: curl: not found\n",
                },
            ],
        },
    )
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps(item, indent=4))  # `docker inspect -f '{{json .}}'`: one object
    events = read_inputs([path]).events.sort("seq")
    probes = events.filter(pl.col("action") == "probe")
    assert probes.select("exit_code", "output").rows() == [(127, "/bin/sh: curl: not found\n")] * 2
    snapshot = events.filter(pl.col("action") == "snapshot")
    assert snapshot.select("status", "exit_code", "restart_count").row(0) == ("unhealthy", 0, 3)
    # the snapshot is dated by the latest moment inspect knows (the last probe's end)
    assert snapshot.get_column("ts").item() == datetime(2025, 8, 1, 12, 30, 30, 200000, tzinfo=UTC)
    assert events.filter(pl.col("action") == "oom").is_empty()


def test_inspect_captured_from_real_engine(repo_root: Path) -> None:
    path = repo_root / "tests/compose/seed-incident/captured/inspect.json"
    events = read_inputs([path]).events
    frontend = events.filter((pl.col("service") == "frontend") & (pl.col("action") == "probe"))
    assert frontend.height >= 1
    assert frontend.get_column("output").str.contains("curl: not found").all()
    tunnel = events.filter(
        (pl.col("service") == "cloudflare-tunnel") & (pl.col("action") == "probe")
    )
    assert tunnel.get_column("output").str.contains("wget").all()
    agent = events.filter((pl.col("service") == "agent-monitor") & (pl.col("action") == "snapshot"))
    assert agent.select("exit_code", "restart_count").row(0) == (1, 3)


def test_inspect_item_without_state_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps([inspect_item(), {"Id": "x", "State": "running"}]))
    with pytest.raises(FormatError, match=r"inspect.json: not docker inspect output"):
        read_inputs([path], fmt="inspect")


# ---- docker ps --------------------------------------------------------------------

COMPOSE_PS = """\
NAME           IMAGE          COMMAND                  SERVICE   CREATED       STATUS                          PORTS
shop-db-1      postgres:16    "docker-entrypoint.s…"   db        2 hours ago   Up 2 hours (unhealthy)          5432/tcp
shop-web-1     shop-web       "node server.js"         web       2 hours ago   Restarting (1) 5 seconds ago
shop-worker-1  shop-worker    "python -m worker"       worker    2 hours ago   Exited (137) 3 minutes ago
shop-cache-1   redis:7        "docker-entrypoint.s…"   cache     2 hours ago   Up 2 hours (health: starting)   6379/tcp
shop-proxy-1   nginx:1.27     "/docker-entrypoint.…"   proxy     2 hours ago   Up 2 hours (healthy)            0.0.0.0:80->80/tcp
"""

EXPECTED_PS = [
    ("db", "shop-db-1", "unhealthy", None, "Up 2 hours (unhealthy)"),
    ("web", "shop-web-1", None, 1, "Restarting (1) 5 seconds ago"),
    ("worker", "shop-worker-1", None, 137, "Exited (137) 3 minutes ago"),
    ("cache", "shop-cache-1", "starting", None, "Up 2 hours (health: starting)"),
    ("proxy", "shop-proxy-1", "healthy", None, "Up 2 hours (healthy)"),
]


def ps_frame(events: pl.DataFrame) -> list[tuple[Any, ...]]:
    assert events.get_column("action").unique().to_list() == ["snapshot"]
    return events.sort("seq").select("service", "container", "status", "exit_code", "output").rows()


def test_compose_ps_table(tmp_path: Path) -> None:
    path = tmp_path / "ps.txt"
    path.write_text(COMPOSE_PS)
    result = read_inputs([path])
    assert result.summary.sources[0].format is InputFormat.PS
    assert ps_frame(result.events) == EXPECTED_PS
    # NAME `shop-db-1` beside SERVICE `db`: the project is `shop` (as a label would say)
    assert set(result.events.get_column("project")) == {"shop"}
    source = result.summary.sources[0]
    assert (source.lines, source.rejected_lines) == (6, 0)


def test_docker_ps_table(repo_root: Path) -> None:
    events = read_inputs([repo_root / "tests/compose/seed-incident/captured/ps.txt"]).events
    rows = {c: (s, e, o) for _, c, s, e, o in ps_frame(events)}
    assert rows["ilseed855520_frontend_1"] == ("unhealthy", None, "Up 4 seconds (unhealthy)")
    assert rows["ilseed855520_agent-monitor_1"] == (None, 1, "Exited (1) 3 seconds ago")


def test_compose_ps_json_lines_and_array(tmp_path: Path) -> None:
    objects = [
        {"Name": c, "Service": s, "Project": "shop", "State": "running", "Status": o}
        for s, c, _, _, o in EXPECTED_PS
    ]
    lines = tmp_path / "ps.jsonl"
    lines.write_text("".join(json.dumps(o) + "\n" for o in objects))
    array = tmp_path / "ps.json"
    array.write_text(json.dumps(objects))
    for path in (lines, array):
        events = read_inputs([path]).events
        assert ps_frame(events) == EXPECTED_PS
        assert events.get_column("project").unique().to_list() == ["shop"]


def test_docker_ps_json_labels_name_the_service(repo_root: Path) -> None:
    events = read_inputs([repo_root / "tests/compose/seed-incident/captured/ps.jsonl"]).events
    assert set(events.get_column("service").to_list()) == {
        "frontend",
        "model-router",
        "agent-monitor",
        "cloudflare-tunnel",
        "plan-management",
    }
    assert events.get_column("project").unique().to_list() == ["ilseed855520"]


def test_ps_junk_rows_are_rejected_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "ps.txt"
    path.write_text(COMPOSE_PS + "some trailing note that is not a row\n")
    source = read_inputs([path]).summary.sources[0]
    assert source.lines == 7
    assert source.rejected_lines == 1
    assert source.lines == source.kept_lines + source.rejected_lines


# ---- several sources together -------------------------------------------------------


def test_labelled_sources_complete_compose_log_identities(repo_root: Path, tmp_path: Path) -> None:
    captured = repo_root / "tests/compose/seed-incident/captured"
    for name in ("compose.log", "events.jsonl", "inspect.json", "ps.txt"):
        shutil.copy(captured / name, tmp_path / name)
    paths = [tmp_path / n for n in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
    result = read_inputs(paths)
    logs = result.logs.filter(pl.col("service") != "compose")
    assert logs.get_column("project").unique().to_list() == ["ilseed855520"]
    ps = result.events.filter(pl.col("action") == "snapshot").filter(
        pl.col("output").str.starts_with("Up") | pl.col("output").str.starts_with("Exited")
    )
    assert "frontend" in ps.get_column("service").to_list()
    assert [s.format for s in result.summary.sources] == [
        InputFormat.EVENTS,
        InputFormat.INSPECT,
        InputFormat.PS,
        InputFormat.COMPOSE,
    ]


def test_compose_v1_ps_table(tmp_path: Path) -> None:
    path = tmp_path / "ps.txt"
    path.write_text(
        "     Name                   Command                   State        Ports\n"
        "------------------------------------------------------------------------\n"
        "shop_db_1       docker-entrypoint.sh postg ...   Exit 137\n"
        "shop_web_1      docker-entrypoint.sh node  ...   Up (unhealthy)   0.0.0.0:3000->3000/tcp\n"
        "shop_worker_1   celery -A app.tasks worker ...   Restarting\n"
    )
    result = read_inputs([path], project="shop")
    assert result.summary.sources[0].format is InputFormat.PS
    assert result.summary.rejected_lines == 0
    rows = {r["service"]: r for r in result.events.iter_rows(named=True)}
    assert set(rows) == {"db", "web", "worker"}
    assert rows["db"]["exit_code"] == 137
    assert rows["web"]["status"] == "unhealthy"
    assert rows["worker"]["output"] == "Restarting"
