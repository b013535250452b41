"""A service others cannot reach, whose own errors no rule knows: the `target-errors`
inference names it, so the report blames it and not the clients."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import read_inputs
from incidentlog.render.report import generate_report

WORKER = [
    "worker-1  | 2025-03-01T10:00:05Z ERROR consumer: Cannot connect to"
    " amqp://app:**@queue:5672//: [Errno 111] Connection refused.",
    "worker-1  | 2025-03-01T10:00:09Z ERROR consumer: Cannot connect to"
    " amqp://app:**@queue:5672//: [Errno 111] Connection refused.",
]
QUEUE = [
    "queue-1   | 2025-03-01T10:00:01Z [info] starting the message queue 4.1",
    "queue-1   | 2025-03-01T10:00:02Z [error] the spool directory refused our lock: a frobnicated state",
    "queue-1   | 2025-03-01T10:00:02Z [error] boot aborted",
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "compose.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _findings(tmp_path: Path, lines: list[str]) -> pl.DataFrame:
    ingested = read_inputs([str(_write(tmp_path, lines))])
    return detect_findings(ingested.logs, ingested.events, load_rules())


def _targets(found: pl.DataFrame) -> pl.DataFrame:
    return found.filter(pl.col("rule") == "core.target-errors")


def test_the_unreachable_service_s_unknown_errors_are_its_finding(tmp_path: Path) -> None:
    found = _targets(_findings(tmp_path, QUEUE + WORKER))
    assert set(found.get_column("service")) == {"queue"}
    assert found.height == 2  # one per error record, the info line is none
    fields = json.loads(found.get_column("fields")[0])
    assert fields == {"errors": "2", "since": "2025-03-01T09:59:02Z"}
    assert "spool directory refused our lock" in found.sort("ts").get_column("message")[0]


def test_a_service_whose_errors_a_rule_knows_needs_no_inference(tmp_path: Path) -> None:
    known = [
        *QUEUE,
        "queue-1   | 2025-03-01T10:00:03Z [error] OSError: [Errno 28] No space left on device",
    ]
    assert _targets(_findings(tmp_path, known + WORKER)).is_empty()


def test_an_exit_is_a_symptom_and_the_errors_still_count(tmp_path: Path) -> None:
    found = _targets(_findings(tmp_path, [*QUEUE, *WORKER, "queue-1 exited with code 1"]))
    assert set(found.get_column("service")) == {"queue"}


def test_errors_of_a_service_nobody_reaches_are_no_finding(tmp_path: Path) -> None:
    alone = [line.replace("queue-1", "cache-1") for line in QUEUE]
    assert _targets(_findings(tmp_path, alone + WORKER)).is_empty()


def test_the_report_blames_the_unreachable_service_and_ties_the_client(tmp_path: Path) -> None:
    report = generate_report([_write(tmp_path, QUEUE + WORKER)])
    assert "### 1. queue failed with errors no rule knows" in report
    assert "| worker | Connection refused by queue:5672 |" in report
    assert "### 2." not in report  # the worker's refusals are the queue's symptom
    assert "docker compose logs --since 2025-03-01T09:59:02Z queue" in report


def test_lines_with_no_level_that_say_they_failed_count_too(tmp_path: Path) -> None:
    quiet = [
        "queue-1   | 2025-03-01T10:00:01Z starting the message queue 4.1",
        "queue-1   | 2025-03-01T10:00:02Z cannot go on with the default spool key",
    ]
    found = _targets(_findings(tmp_path, quiet + WORKER))
    assert found.height == 1
    assert "cannot go on" in found.get_column("message")[0]


LOOPING = [
    "kuma-1  | 2025-03-01T10:00:01Z [Error: the frobnicator cannot reach state 7] {",
    "kuma-1  | 2025-03-01T10:00:01Z   errno: 5,",
    "kuma-1  | 2025-03-01T10:00:01Z }",
    "kuma-1  | 2025-03-01T10:00:06Z [Error: the frobnicator cannot reach state 7] {",
    "kuma-1  | 2025-03-01T10:00:11Z [Error: the frobnicator cannot reach state 7] {",
]


def _unrecognized(found: pl.DataFrame) -> pl.DataFrame:
    return found.filter(pl.col("rule") == "core.unrecognized-errors")


def test_an_error_no_rule_knows_that_repeats_is_a_finding(tmp_path: Path) -> None:
    found = _unrecognized(_findings(tmp_path, LOOPING))
    assert set(found.get_column("service")) == {"kuma"}
    assert found.height == 3
    assert json.loads(found.get_column("fields")[0]) == {
        "errors": "3",
        "since": "2025-03-01T09:59:01Z",
    }
    report = generate_report([_write(tmp_path, LOOPING)])
    assert not report.startswith("# No incident found")
    assert "### 1. kuma keeps logging errors no rule knows" in report


def test_errors_that_do_not_repeat_are_no_finding(tmp_path: Path) -> None:
    varied = [
        "kuma-1  | 2025-03-01T10:00:01Z ERROR the frobnicator is cold",
        "kuma-1  | 2025-03-01T10:00:02Z ERROR a widget went missing",
        "kuma-1  | 2025-03-01T10:00:03Z ERROR the queue looked odd",
    ]
    assert _unrecognized(_findings(tmp_path, varied)).is_empty()


def test_beside_a_lasting_cause_unknown_errors_are_its_echo(tmp_path: Path) -> None:
    known = [*LOOPING, "db-1  | 2025-03-01T10:00:00Z OSError: [Errno 28] No space left on device"]
    found = _findings(tmp_path, known)
    assert _unrecognized(found).is_empty()
    assert "disk-full" in set(found.get_column("category"))
