"""Restarts inferred from a start-up banner that repeats after errors (no exits, no events)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import read_inputs


def findings(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    ingested = read_inputs([str(path)])
    found = detect_findings(ingested.logs, ingested.events, load_rules())
    return found.filter(pl.col("rule") == "core.banner-repeats")


LOOP = """\
worker-1  | 2025-08-01T10:00:00.000000000Z Starting worker 1.4.2 (pid 7)
api-1     | 2025-08-01T10:00:00.500000000Z GET /health 200
worker-1  | 2025-08-01T10:00:01.000000000Z ERROR cannot read queue settings
worker-1  | 2025-08-01T10:00:03.000000000Z Starting worker 1.4.2 (pid 7)
worker-1  | 2025-08-01T10:00:04.000000000Z ERROR cannot read queue settings
worker-1  | 2025-08-01T10:00:08.000000000Z Starting worker 1.4.2 (pid 8)
worker-1  | 2025-08-01T10:00:09.000000000Z ERROR cannot read queue settings
"""


def test_a_banner_that_repeats_after_errors_is_a_crash_loop(tmp_path: Path) -> None:
    found = findings(tmp_path, LOOP)
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["service"] == "worker" and row["category"] == "crash-loop"
    assert row["severity"] == "medium"
    fields = json.loads(row["fields"])
    assert fields["restarts"] == "2"
    assert fields["banner"].startswith("Starting worker 1.4.2")
    assert row["message"].startswith("Starting worker")  # the record of the first restart


def test_a_heartbeat_is_not_a_banner(tmp_path: Path) -> None:
    beat = "".join(
        f"api-1  | 2025-08-01T10:00:{i:02d}.000000000Z GET /health 200\n"
        + (f"api-1  | 2025-08-01T10:00:{i:02d}.500000000Z ERROR slow query\n" if i % 3 == 0 else "")
        for i in range(30)
    )
    assert findings(tmp_path, beat).is_empty()


def test_a_banner_without_errors_between_is_not_a_restart(tmp_path: Path) -> None:
    calm = LOOP.replace("ERROR cannot read queue settings", "queue connected")
    assert findings(tmp_path, calm).is_empty()


def test_an_error_repeating_is_not_a_banner(tmp_path: Path) -> None:
    repeating = "".join(
        f"db-1  | 2025-08-01T10:00:{i:02d}.000000000Z ERROR could not connect to 10.0.0.{i}\n"
        f"db-1  | 2025-08-01T10:00:{i:02d}.500000000Z FATAL giving up\n"
        for i in range(5)
    )
    assert findings(tmp_path, repeating).is_empty()


def test_restarts_the_engine_reported_are_left_to_the_event_rules(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"status":"die","id":"abc","from":"img","Type":"container","Action":"die",'
        '"Actor":{"ID":"abc","Attributes":{"exitCode":"1","name":"shop-worker-1",'
        '"com.docker.compose.project":"shop","com.docker.compose.service":"worker"}},'
        '"time":1754042402,"timeNano":1754042402000000000}\n',
        encoding="utf-8",
    )
    path = tmp_path / "compose.log"
    path.write_text(LOOP, encoding="utf-8")
    ingested = read_inputs([str(path), str(events)])
    found = detect_findings(ingested.logs, ingested.events, load_rules())
    assert found.filter(pl.col("rule") == "core.banner-repeats").is_empty()
    assert not found.filter(pl.col("rule") == "core.container-exit-nonzero").is_empty()
