"""The `ingest` and `store` commands: help, summaries, exact error lines and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from incidentlog.cli import app

runner = CliRunner()

COMPOSE = (
    "Attaching to web-1, db-1\n"
    "web-1  | 2025-08-01T12:30:00.000000001Z GET /health 200\n"
    "db-1   | 2025-08-01T12:30:01.5Z 2025-08-01 12:30:01.500 UTC [61] FATAL:  the database system is starting up\n"
    "web-1 exited with code 1\n"
)


@pytest.fixture
def compose_log(tmp_path: Path) -> Path:
    path = tmp_path / "compose.log"
    path.write_text(COMPOSE)
    return path


def all_commands() -> list[list[str]]:
    """Every command path of the CLI (groups and leaves), e.g. ["store", "info"]."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:  # typer vendors its own click
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "incidentlog")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"


def test_ingest_and_store_commands_exist() -> None:
    paths = {" ".join(p) for p in all_commands()}
    assert {"ingest", "store", "store info", "store compact"} <= paths


def test_ingest_help_lists_formats() -> None:
    result = runner.invoke(app, ["ingest", "--help"])
    for word in ("--store", "--format", "--service", "json-file", "inspect"):
        assert word in result.stdout


def test_ingest_summary_and_reingest(tmp_path: Path, compose_log: Path) -> None:
    store = tmp_path / "store"
    first = runner.invoke(app, ["ingest", str(compose_log), "--store", str(store), "--host", "h"])
    assert first.exit_code == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == (
        f"{compose_log} (compose): 4 lines -> 4 records, 0 events; 3 services; "
        "2025-08-01 12:30:00 .. 2025-08-01 12:30:01 UTC"
    )
    assert lines[1] == "  services: compose, db, web"
    assert lines[-2] == "total: 4 lines -> 4 records, 0 events, 0 lines rejected"
    assert lines[-1] == "store: 4 records and 0 events added, 0 already stored"
    assert first.stderr == ""
    again = runner.invoke(app, ["ingest", str(compose_log), "--store", str(store), "--host", "h"])
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "store: 0 records and 0 events added, 4 already stored"


def test_ingest_json_output(tmp_path: Path, compose_log: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(
        app, ["ingest", str(compose_log), "--store", str(store), "--format", "json"]
    )
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["records"] == 4
    assert summary["written"] == {"logs": 4, "events": 0}
    assert summary["already_stored"] == 0
    (source,) = summary["sources"]
    assert source["services"] == ["compose", "db", "web"]
    assert source["first_ts"].startswith("2025-08-01T12:30:00")
    assert source["last_ts"].startswith("2025-08-01T12:30:01.5")


def test_ingest_from_stdin_with_service(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(
        app,
        ["ingest", "-", "--service", "frontend", "--store", str(store)],
        input="2025-08-01T12:30:00Z ready\nplain\n",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("- (raw): 2 lines -> 2 records")
    info = runner.invoke(app, ["store", "info", "--store", str(store)])
    assert "  frontend: 2" in info.stdout.splitlines()


def test_store_env_variable(
    tmp_path: Path, compose_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTLOG_STORE", str(tmp_path / "env-store"))
    result = runner.invoke(app, ["ingest", str(compose_log)])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "env-store" / "incidentlog-store.json").is_file()


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda d: d / "missing.log", [], "Error: {path}: no such file"),
        (lambda d: d, [], "Error: {path}: an empty folder"),
        (lambda d: _touch(d / "empty.log", b""), [], "Error: {path}: empty input"),
        (
            lambda d: _touch(d / "blob.bin", bytes(range(256)) * 64),
            [],
            "Error: {path}: binary data, not a text log (force a format with --format to read it anyway)",
        ),
        (
            lambda d: _touch(d / "odd.json", b'[{"foo": 1}]\n'),
            [],
            "Error: {path}: format not recognised (expected one of compose, raw, json-file, "
            "journal, events, inspect, ps; force one with --format)",
        ),
    ],
    ids=["missing", "directory", "empty", "binary", "unknown-json"],
)
def test_ingest_errors(tmp_path: Path, make: object, extra: list[str], message: str) -> None:
    assert callable(make)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = make(inputs)
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(path), *extra, "--store", str(store)])
    assert result.exit_code == 1
    assert result.stderr == message.format(path=path) + "\n"
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--input-format", "xml"],
            "Error: --input-format 'xml' is not an input format "
            "(allowed: compose, raw, json-file, journal, events, inspect, ps)",
        ),
        (
            ["--format", "xml"],
            "Error: --format 'xml' is not supported by ingest (allowed: text, json)",
        ),
        (["--service", "a", "--service", "b"], "Error: ingest takes one --service"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, compose_log: Path, args: list[str], message: str
) -> None:
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(compose_log), *args, "--store", str(store)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not store.exists()


def test_old_spellings_still_work_with_a_note(tmp_path: Path, compose_log: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(
        app,
        [
            "ingest",
            str(compose_log),
            "--format",
            "compose",
            "--output",
            "json",
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] > 0
    assert "ingest --format compose is deprecated; use --input-format compose" in result.stderr
    assert "ingest --output json is deprecated; use --format json" in result.stderr
    info = runner.invoke(app, ["store", "info", "--store", str(store), "--output", "json"])
    assert info.exit_code == 0 and json.loads(info.stdout)["logs"]["rows"] > 0
    assert "store info --output json is deprecated; use --format json" in info.stderr


def test_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    path = _touch(tmp_path / "events.jsonl", b"web-1  | not an event\nweb-1  | nor this\n")
    result = runner.invoke(
        app, ["ingest", str(path), "--input-format", "events", "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    assert "rejected 2 lines: not a docker event" in result.stdout
    assert result.stderr == (
        "Error: nothing could be read from the input (see the rejected lines above)\n"
    )


def test_partly_readable_input_exits_zero(tmp_path: Path, compose_log: Path) -> None:
    missing = tmp_path / "missing.log"
    result = runner.invoke(
        app, ["ingest", str(compose_log), str(missing), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.stderr
    assert f"skipped {missing}: no such file" in result.stdout.splitlines()


def test_no_input_at_all(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2  # click usage error: PATHS is required
    assert "Missing argument" in result.stderr


def test_store_info_and_compact(tmp_path: Path, compose_log: Path) -> None:
    store = tmp_path / "store"
    for i in range(3):
        path = _touch(
            tmp_path / f"part{i}.log", f"web-1  | 2025-08-01T12:00:0{i}Z line {i}\n".encode()
        )
        assert runner.invoke(app, ["ingest", str(path), "--store", str(store)]).exit_code == 0
    info = runner.invoke(app, ["store", "info", "--store", str(store)])
    assert info.exit_code == 0
    lines = info.stdout.splitlines()
    assert lines[0] == f"store: {store}"
    assert lines[1].startswith("logs: 3 rows in 3 files (")
    assert lines[1].endswith("2025-08-01 12:00:00+00:00 .. 2025-08-01 12:00:02+00:00")
    assert lines[2] == "  web: 3"
    assert lines[3].startswith("events: 0 rows in 0 files")
    compact = runner.invoke(app, ["store", "compact", "--store", str(store)])
    assert compact.exit_code == 0
    assert compact.stdout == "compacted: 3 files -> 1\n"
    as_json = runner.invoke(app, ["store", "info", "--store", str(store), "--format", "json"])
    data = json.loads(as_json.stdout)
    assert (data["logs"]["rows"], data["logs"]["files"]) == (3, 1)
    assert data["logs"]["services"] == {"web": 3}


def test_store_commands_without_a_store(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    for command in (["store", "info"], ["store", "compact"]):
        result = runner.invoke(app, [*command, "--store", str(absent)])
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: {absent}: no incidentlog store here (ingest something first, or pass --store)\n"
        )
    assert not absent.exists()


def _touch(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_failed_ingest_leaves_no_store_behind(tmp_path: Path) -> None:
    store = tmp_path / "never-created"
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing.log"), "--store", str(store)])
    assert result.exit_code == 1
    assert not store.exists()


def test_unknown_summary_format_is_refused(tmp_path: Path, compose_log: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(
        app, ["ingest", str(compose_log), "--store", str(store), "--format", "yaml"]
    )
    assert result.exit_code == 2
    assert not store.exists()
