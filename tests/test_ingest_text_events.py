"""`docker events` as it prints without `--format`: read like its JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.ingest import InputFormat, read_inputs

runner = CliRunner()

TEXT = """\
2025-08-01T10:00:00.123456789Z container start 3f2a9c1b7d6e8f0a (com.docker.compose.project=shop, com.docker.compose.service=web, image=shop-web, name=shop-web-1)
2025-08-01T10:00:05.223456789Z container oom 3f2a9c1b7d6e8f0a (com.docker.compose.project=shop, com.docker.compose.service=web, image=shop-web, name=shop-web-1)
2025-08-01T10:00:05.323456789Z container die 3f2a9c1b7d6e8f0a (com.docker.compose.project=shop, com.docker.compose.service=web, execDuration=5, exitCode=137, image=shop-web, name=shop-web-1)
2025-08-01T12:00:06.000000000+02:00 container health_status: unhealthy 9a8b7c6d5e4f (com.docker.compose.service=api, image=shop-api, name=shop-api-1)
2025-08-01T10:00:07.000000000Z container exec_start: sh -c curl -f localhost 9a8b7c6d5e4f (image=shop-api, name=shop-api-1)
2025-08-01T10:00:08.000000000Z network connect 5e5e5e5e5e5e (container=3f2a9c1b7d6e8f0a, name=shop_default, type=bridge)
"""


def test_text_events_are_read_like_json_events(tmp_path: Path) -> None:
    path = tmp_path / "events.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = read_inputs([str(path)])
    assert result.summary.sources[0].format is InputFormat.EVENTS
    rows = result.events.sort("seq").select(
        "container", "service", "project", "action", "status", "exit_code", "ts"
    )
    assert rows.select("container", "service", "action").rows() == [
        ("shop-web-1", "web", "start"),
        ("shop-web-1", "web", "oom"),
        ("shop-web-1", "web", "die"),
        ("shop-api-1", "api", "health_status"),
    ]
    assert rows.get_column("exit_code").to_list() == [None, None, 137, None]
    assert rows.get_column("status").cast(pl.String).to_list()[3] == "unhealthy"
    assert rows.get_column("project").to_list()[:3] == ["shop"] * 3
    stamps = [t.isoformat() for t in rows.get_column("ts").to_list()]
    assert stamps[0] == "2025-08-01T10:00:00.123456+00:00"
    assert stamps[3] == "2025-08-01T10:00:06+00:00"  # +02:00 taken to UTC
    source = result.summary.sources[0]
    reasons = {reason for reason in source.rejected}
    assert source.lines == 6 and sum(r.count for r in source.rejected.values()) == 2
    assert any("not tracked" in r for r in reasons) and any("not a container" in r for r in reasons)


def test_detection_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "events.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert ("web", "oom-killed") in {(r["service"], r["category"]) for r in rows}
    exits = [r for r in rows if r["rule"] == "core.container-exit-nonzero"]
    assert [r["title"] for r in exits] == ["web exited with code 137 (once)"]
    assert exits[0]["remediation"].endswith("median interval between exits unknown (one exit).")


def test_an_impossible_time_is_counted_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "events.txt"
    path.write_text(
        "2025-13-45T99:00:00Z container die 3f2a9c1b7d6e (exitCode=1, name=shop-web-1)\n"
        + TEXT.splitlines()[2]
        + "\n",
        encoding="utf-8",
    )
    result = read_inputs([str(path)])
    assert result.events.height == 2
    assert result.events.get_column("ts").null_count() == 1
    assert "1 lines whose timestamp is no valid time" in result.summary.describe()


COMPOSE_JSON = """\
{"action":"start","attributes":{"image":"shop-api","name":"shop-api-1"},"id":"8f0c1d2e3a4b5c6d7e8f","service":"api","time":"2026-12-06T01:20:00.118231Z","type":"container"}
{"action":"oom","attributes":{"image":"shop-api","name":"shop-api-1"},"id":"8f0c1d2e3a4b5c6d7e8f","service":"api","time":"2026-12-06T01:21:10.550001Z","type":"container"}
{"action":"die","attributes":{"exitCode":"137","image":"shop-api","name":"shop-api-1"},"id":"8f0c1d2e3a4b5c6d7e8f","service":"api","time":"2026-12-06T01:21:10.554120","type":"container"}
"""
COMPOSE_TEXT = (
    "2026-12-06 01:21:10.554120 container die 8f0c1d2e3a4b (exitCode=137, image=shop-api,"
    " name=api-1)\n"
)
COMPOSE_V1_JSON = (
    '{"service": "web", "event": "die", "container": "213cf75fc39a", "image": "web:1",'
    ' "time": "2026-12-06T01:21:10.554120"}\n'
)


def test_compose_events_are_read_like_the_engines(tmp_path: Path) -> None:
    """`docker compose events --json` (lower-case `action`, `attributes`, `service`; a time
    with or without a zone), its text form (a time without `T` or zone) and Compose v1's
    JSON (`event`, `container`) are events (before: application lines, and an OOM-killed
    api was "No incident found")."""
    cases = {"v2.json": COMPOSE_JSON, "v2.txt": COMPOSE_TEXT, "v1.json": COMPOSE_V1_JSON}
    read = {}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = read_inputs([str(path)])
        assert result.summary.sources[0].format is InputFormat.EVENTS, name
        read[name] = result.events.sort("seq").select("service", "action", "exit_code", "ts")
    assert read["v2.json"].select("service", "action", "exit_code").rows() == [
        ("api", "start", None),
        ("api", "oom", None),
        ("api", "die", 137),
    ]
    assert read["v2.json"].get_column("ts").is_not_null().all()
    assert read["v2.txt"].rows() == read["v2.json"].tail(1).rows()
    assert read["v1.json"].select("service", "action").rows() == [("web", "die")]
    report = runner.invoke(app, ["report", str(tmp_path / "v2.json"), "--format", "md"])
    assert "No incident found" not in report.stdout
    assert "memory limit of api" in report.stdout
