"""Exits a stop caused (Ctrl+C, `docker compose down`, `docker stop`) are not crash loops."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import read_inputs


def crash_services(tmp_path: Path, log: str, events: list[dict[str, object]] = ()) -> set[str]:  # type: ignore[assignment]
    files = []
    path = tmp_path / "compose.log"
    path.write_text(log, encoding="utf-8")
    files.append(str(path))
    if events:
        ev = tmp_path / "events.jsonl"
        ev.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        files.append(str(ev))
    ingested = read_inputs(files)
    found = detect_findings(ingested.logs, ingested.events, load_rules())
    return set(found.filter(pl.col("category") == "crash-loop").get_column("service").to_list())


def event(action: str, second: int, exit_code: int | None = None) -> dict[str, object]:
    attrs: dict[str, str] = {
        "name": "shop-web-1",
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "web",
    }
    if exit_code is not None:
        attrs["exitCode"] = str(exit_code)
    return {
        "Type": "container",
        "Action": action,
        "status": action,
        "id": "c0ffee",
        "Actor": {"ID": "c0ffee", "Attributes": attrs},
        "time": 1754042400 + second,
        "timeNano": (1754042400 + second) * 10**9,
    }


def test_exits_after_gracefully_stopping_are_the_stops(tmp_path: Path) -> None:
    log = (
        "web-1  | listening on :8080\n"
        "Gracefully stopping... (press Ctrl+C again to force)\n"
        "web-1 exited with code 137\n"
        "db-1 exited with code 143\n"
    )
    assert crash_services(tmp_path, log) == set()


def test_the_exit_that_made_compose_abort_is_kept(tmp_path: Path) -> None:
    log = (
        "migrate-1  | relation missing\n"
        "migrate-1 exited with code 1\n"
        "Aborting on container exit...\n"
        "web-1 exited with code 143\n"
    )
    assert crash_services(tmp_path, log) == {"migrate"}


def test_an_exit_137_without_a_stop_is_kept(tmp_path: Path) -> None:
    assert crash_services(tmp_path, "web-1  | working\nweb-1 exited with code 137\n") == {"web"}


def test_die_after_a_kill_event_is_the_stop(tmp_path: Path) -> None:
    stopped = [event("kill", 10), event("die", 11, 143), event("stop", 11)]
    assert crash_services(tmp_path, "web-1  | bye\n", stopped) == set()
    killed = [event("die", 11, 137)]
    assert crash_services(tmp_path, "web-1  | bye\n", killed) == {"web"}


def test_one_oom_kill_per_death_whatever_the_sources(tmp_path: Path) -> None:
    """The engine's `oom` event and inspect's `OOMKilled` of the same death are one kill."""
    from datetime import UTC, datetime, timedelta

    from incidentlog.ingest.events import drop_repeated_ooms
    from incidentlog.schema import EVENTS_SCHEMA

    t0 = datetime(2025, 8, 1, 12, tzinfo=UTC)
    rows = [
        {"ts": t0, "container": "db", "action": "oom", "seq": 0},
        {"ts": t0 + timedelta(seconds=1), "container": "db", "action": "oom", "seq": 1},
        {"ts": t0 + timedelta(minutes=5), "container": "db", "action": "oom", "seq": 2},
        {"ts": t0, "container": "web", "action": "oom", "seq": 3},
    ]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("ts").cast(EVENTS_SCHEMA["ts"]), pl.col("action").cast(EVENTS_SCHEMA["action"])
    )
    kept = drop_repeated_ooms(frame)
    assert kept.get_column("seq").to_list() == [0, 2, 3]
