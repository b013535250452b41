"""The `patterns` command: the per-line measurement contract, summaries, filters, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidentlog.cli import app

runner = CliRunner()

COMPOSE = "".join(
    [
        f"api-1  | 2025-08-01T12:30:{s:02d}.000000000Z ERROR timeout after {s + 3} s calling db at 10.0.0.{s}:5432\n"
        for s in range(5)
    ]
    + [
        f"web-1  | 2025-08-01T12:31:{s:02d}.000000000Z INFO GET /items/{s * 7} 200\n"
        for s in range(3)
    ]
    + [
        "api-1  | 2025-08-01T12:32:00.000000000Z ERROR timeout after 1 s calling db at 10.0.0.9:5432\n"
    ]
    + ["web-1  | 2025-08-01T12:40:00.000000000Z WARN slow request /items/3 took 2500 ms\n"]
)


@pytest.fixture
def compose_log(tmp_path: Path) -> Path:
    path = tmp_path / "compose.log"
    path.write_text(COMPOSE)
    return path


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_per_line_contract(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    lines = [
        "web-1 | not a prefix here, just text 1",
        "",
        "disk full on /data/pg",
        "web-1 | not a prefix here, just text 22",
        "   spaced    out  ",
    ]
    raw.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app, ["patterns", str(raw), "--input-format", "raw", "--per-line", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(set(r) == {"line", "pattern_id", "template"} for r in rows)
    assert (
        rows[0]["template"] == "web-<NUM> | not a prefix here, just text <NUM>"
    )  # no prefix parsing
    assert rows[0]["pattern_id"] == rows[3]["pattern_id"]
    assert rows[1]["template"] == ""
    assert rows[2]["template"] == "disk full on <PATH>"
    assert rows[4]["template"] == "spaced out"


def test_per_line_reads_standard_input() -> None:
    result = runner.invoke(
        app,
        ["patterns", "-", "--input-format", "raw", "--per-line", "--format", "jsonl"],
        input="a 1\nb\na 2",
    )
    assert result.exit_code == 0, result.output
    assert [r["template"] for r in jsonl(result.stdout)] == ["a <NUM>", "b", "a <NUM>"]


def test_jsonl_summary_from_compose_file(compose_log: Path) -> None:
    result = runner.invoke(app, ["patterns", str(compose_log), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["count"] for r in rows] == [6, 3, 1]
    top = rows[0]
    assert top["template"] == "ERROR timeout after <DUR> calling db at <IP>"
    assert top["services"] == ["api"]
    assert top["first_seen"] == "2025-08-01T12:30:00Z"
    assert top["last_seen"] == "2025-08-01T12:32:00Z"
    assert top["levels"] == ["error"]
    assert rows[1]["services"] == ["web"]


def test_level_and_service_filters(compose_log: Path) -> None:
    warn = runner.invoke(
        app, ["patterns", str(compose_log), "--format", "jsonl", "--level", "warn"]
    )
    assert [r["count"] for r in jsonl(warn.stdout)] == [6, 1]
    web = runner.invoke(
        app, ["patterns", str(compose_log), "--format", "jsonl", "--service", "web"]
    )
    assert {s for r in jsonl(web.stdout) for s in r["services"]} == {"web"}  # type: ignore[attr-defined]
    window = runner.invoke(
        app,
        ["patterns", str(compose_log), "--format", "jsonl", "--until", "2025-08-01T12:30:59Z"],
    )
    assert [r["count"] for r in jsonl(window.stdout)] == [5]


def test_text_output(compose_log: Path) -> None:
    result = runner.invoke(app, ["patterns", str(compose_log)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "3 patterns in 10 records"
    assert lines[2].startswith("6x  ")
    assert "api  [2025-08-01T12:30:00Z .. 2025-08-01T12:32:00Z]" in lines[2]
    assert lines[3].strip() == "ERROR timeout after <DUR> calling db at <IP>"


def test_patterns_from_the_store(compose_log: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingested = runner.invoke(app, ["ingest", str(compose_log), "--store", str(store)])
    assert ingested.exit_code == 0, ingested.output
    result = runner.invoke(
        app, ["patterns", "--store", str(store), "--format", "jsonl", "--service", "api"]
    )
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["count"] for r in rows] == [6]
    from_file = jsonl(
        runner.invoke(app, ["patterns", str(compose_log), "--format", "jsonl"]).stdout
    )
    assert rows[0]["pattern_id"] == from_file[0]["pattern_id"]  # same template, same id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "xml"],
            "Error: --format 'xml' is not supported by patterns (allowed: text, json, jsonl)",
        ),
        (
            ["--per-line", "--format", "jsonl"],
            "Error: --per-line reads one message per line: it needs --input-format raw and PATHs",
        ),
        (
            ["--input-format", "raw", "--per-line"],
            "Error: --per-line prints JSON Lines: use --format jsonl",
        ),
        (
            ["--input-format", "raw", "--per-line", "--format", "jsonl", "--level", "error"],
            "Error: --per-line reads bare lines: --since/--until/--service/--level do not apply",
        ),
        (
            ["--input-format", "syslog"],
            "Error: --input-format 'syslog' is not an input format (allowed: compose, raw, json-file, journal, events, inspect, ps)",
        ),
        (
            ["--level", "loud"],
            "Error: --level 'loud' is not a level (allowed: trace, debug, info, warn, error, fatal, unknown)",
        ),
    ],
)
def test_bad_options_give_one_error_line(compose_log: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["patterns", str(compose_log), *args])
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_missing_file_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "patterns",
            str(tmp_path / "nope.log"),
            "--input-format",
            "raw",
            "--per-line",
            "--format",
            "jsonl",
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope.log'}: no such file"


def test_old_input_spelling_still_works(tmp_path: Path) -> None:
    raw = tmp_path / "raw.log"
    raw.write_text("a 1\na 2\n", encoding="utf-8")
    result = runner.invoke(
        app, ["patterns", str(raw), "--input", "raw", "--per-line", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    assert len(jsonl(result.stdout)) == 2
    assert "patterns --input is deprecated; use --input-format" in result.stderr


def test_paths_with_store_are_read_and_stored(compose_log: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(
        app, ["patterns", str(compose_log), "--store", str(store), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    from_files = json.loads(result.stdout)
    from_store = json.loads(
        runner.invoke(app, ["patterns", "--store", str(store), "--format", "json"]).stdout
    )
    assert from_files and from_files == from_store
