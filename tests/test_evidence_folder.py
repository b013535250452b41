"""`incidentlog report DIR`: an evidence folder as people collect it."""

from __future__ import annotations

import codecs
import gzip
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidentlog.cli import app

runner = CliRunner()
CASE = "ev-folder-with-override"


def folder(repo_root: Path, tmp_path: Path) -> Path:
    target = tmp_path / "evidence"
    shutil.copytree(repo_root / "tests" / "corpus" / CASE, target)
    (target / "expected.toml").unlink()
    return target


def test_report_on_a_folder_names_compose_services(repo_root: Path, tmp_path: Path) -> None:
    evidence = folder(repo_root, tmp_path)
    result = runner.invoke(app, ["report", str(evidence), "--format", "json"])
    assert result.exit_code == 0, result.output
    incident = json.loads(result.stdout)
    causes = {(i["category"], tuple(i["services"])) for i in incident["issues"]}
    assert causes == {("auth-failure", ("mailer",)), ("disk-full", ("api",))}
    assert {s["name"] for s in incident["services"]} == {"api", "db", "mailer"}
    notes = "\n".join(incident["notes"])
    assert "topology from docker-compose.yml + docker-compose.override.yml" in notes
    for skipped in ("README.md: a document", "notes.txt: a document", "screenshot.png: an image"):
        assert skipped in notes
    markdown = runner.invoke(app, ["report", str(evidence)]).stdout
    assert "crm-mailer" not in markdown.split("## Critical issues")[0]


def test_ingest_of_a_folder_lists_what_it_skipped(repo_root: Path, tmp_path: Path) -> None:
    evidence = folder(repo_root, tmp_path)
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(evidence), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "up.log.1.gz (compose): 1 lines -> 1 records" in result.stdout
    assert result.stdout.count("skipped ") == 3
    assert "services: api, db, mailer" in result.stdout


def test_a_hostile_compose_file_beside_the_logs_is_a_note(tmp_path: Path) -> None:
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghij"):
        bomb.append(f"{name}: &{name} [" + ",".join([f"*{'abcdefghij'[i]}"] * 10) + "]")
    (tmp_path / "docker-compose.yml").write_text("\n".join(bomb) + "\nservices: {}\n")
    (tmp_path / "compose.log").write_text("web-1  | ERROR connect ECONNREFUSED 10.0.0.2:5432\n")
    result = runner.invoke(app, ["report", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any("alias bomb" in n for n in notes)


def test_gzipped_logs_are_read(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "compose.log.2.gz", "wt") as out:
        out.write('db-1  | FATAL:  password authentication failed for user "app"\n')
    result = runner.invoke(app, ["detect", str(tmp_path), "--format", "jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(r["service"], r["category"]) for r in rows} == {("db", "auth-failure")}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_log_saved_as_utf16_by_powershell_is_read(tmp_path: Path, encoding: str) -> None:
    """Windows PowerShell 5's `docker compose logs > file` writes UTF-16 with a BOM
    and CRLF: read as text, every line, non-ASCII kept (not "binary data")."""
    from incidentlog.ingest import read_inputs

    lines = [
        f"api-1  | 2025-08-01T10:00:{i % 60:02d}.{i:09d}Z GET /café/{i} 200" for i in range(3000)
    ]
    lines.append(
        'db-1  | 2025-08-01T10:01:00.000000000Z FATAL:  password authentication failed for user "app"'
    )
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    path = tmp_path / "compose.txt"
    path.write_bytes(bom + "\r\n".join(lines).encode(encoding) + "\r\n".encode(encoding))
    ingested = read_inputs([str(path)])
    messages = ingested.logs.get_column("message").to_list()
    assert len(messages) == len(lines) and ingested.summary.rejected_lines == 0
    assert messages[2999] == "GET /café/2999 200"
    result = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(r["service"], r["category"]) for r in rows} == {("db", "auth-failure")}


def test_utf16_on_standard_input_is_read(tmp_path: Path) -> None:
    import subprocess
    import sys

    text = 'db-1  | FATAL:  password authentication failed for user "app"\r\n'
    done = subprocess.run(
        [sys.executable, "-m", "incidentlog", "detect", "-", "--format", "jsonl"],
        input=codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {(r["service"], r["category"]) for r in rows} == {("db", "auth-failure")}


def test_overlapping_captures_count_each_record_once(tmp_path: Path) -> None:
    from incidentlog.ingest import read_inputs

    text = "api-1  | 2025-08-01T10:00:00.000000000Z ERROR boom\n"
    (tmp_path / "first.log").write_text(text * 1 + "api-1  | 2025-08-01T10:00:01.000000000Z ok\n")
    (tmp_path / "second.log").write_text(text)
    result = read_inputs([tmp_path])
    assert result.logs.get_column("message").to_list() == ["ERROR boom", "ok"]
    assert result.summary.repeated == 1
    assert "1 records and events were in two inputs: kept once" in result.summary.describe()
