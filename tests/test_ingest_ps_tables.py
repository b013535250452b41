"""A `docker ps` / `docker compose ps` table pasted without its prompt line, then logs:
the table is read as ps state rows, the logs as logs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from report_helpers import report_json

from incidentlog.ingest import read_inputs
from incidentlog.ingest.sessions import cut_tables

DOCKER_PS = (
    "CONTAINER ID   IMAGE         COMMAND                  CREATED          STATUS"
    "                         PORTS      NAMES\n"
    '8f2a61c0b9d4   shop-worker   "celery -A shop work…"   12 minutes ago   Restarting (1) 5 seconds ago'
    "                          shop-worker-1\n"
    'd41b09e8c7a2   redis:7       "docker-entrypoint.s…"   12 minutes ago   Exited (137) 2 minutes ago'
    "                            shop-redis-1\n"
    'e7f3a9b2c1d0   postgres:16   "docker-entrypoint.s…"   12 minutes ago   Up 12 minutes (healthy)'
    "        5432/tcp   shop-db-1\n"
)
LOGS = (
    "worker-1  | 2026-12-03T08:41:02.118Z consumer: Cannot connect to redis://redis:6379/0\n"
    "worker-1 exited with code 1\n"
    "db-1      | 2026-12-03T08:38:55.402Z database system is ready to accept connections\n"
)
COMPOSE_PS = (
    "NAME            IMAGE        COMMAND                  SERVICE   CREATED         STATUS\n"
    'notes-app-1     notes:2.3    "node dist/server.js"    app       4 minutes ago   Restarting (1) 12 seconds ago\n'
    'notes-mongo-1   mongo:7      "docker-entrypoint.s…"   mongo     4 minutes ago   Up 4 minutes\n'
)


def _read(tmp_path: Path, text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    path = tmp_path / "paste.txt"
    path.write_text(text)
    result = read_inputs([path], host="h")
    return result.logs, result.events


def test_a_table_then_logs_is_cut_in_two() -> None:
    cuts = cut_tables((DOCKER_PS + "\n" + LOGS).encode())
    assert cuts is not None
    assert [c.verb for c in cuts] == ["ps", None]
    assert cuts[0].data.count(b"\n") == 4 and cuts[1].data.startswith(b"\nworker-1")


def test_a_table_alone_or_logs_alone_are_not_cut() -> None:
    assert cut_tables(DOCKER_PS.encode()) is None
    assert cut_tables(LOGS.encode()) is None


def test_the_table_gives_states_and_the_logs_records(tmp_path: Path) -> None:
    logs, events = _read(tmp_path, DOCKER_PS + "\n" + LOGS)
    states = dict(events.filter(pl.col("action") == "snapshot").select("service", "output").rows())
    assert states["worker"].startswith("Restarting (1)")
    assert states["redis"].startswith("Exited (137)")
    codes = dict(events.select("service", "exit_code").rows())
    assert codes["redis"] == 137
    assert set(logs.get_column("service")) == {"worker", "db"}
    assert logs.filter(pl.col("message").str.contains("Cannot connect")).height == 1


def test_a_compose_ps_table_right_before_the_logs(tmp_path: Path) -> None:
    """No blank line between: the first `name |` line ends the table."""
    text = COMPOSE_PS + "app-1    | 2026-12-04T10:02:31.884Z Error: Cannot find module\n"
    logs, events = _read(tmp_path, text)
    assert sorted(events.get_column("service").to_list()) == ["app", "mongo"]
    assert logs.select("service", "message").rows() == [("app", "Error: Cannot find module")]


def test_logs_then_a_table(tmp_path: Path) -> None:
    logs, events = _read(tmp_path, LOGS + "\n" + DOCKER_PS)
    assert events.filter(pl.col("action") == "snapshot").height == 3
    assert logs.height == 3


NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_container_the_table_shows_exited_is_the_cause_upstream(tmp_path: Path) -> None:
    """`Exited (137)` in the table, and others cannot resolve its name: it is the cause."""
    text = DOCKER_PS + "\n" + LOGS.replace("Cannot connect to redis://redis:6379/0", _DNS)
    report = report_json(tmp_path, text, NOW)
    first = report["issues"][0]
    assert first["services"] == ["redis"] and "137" in first["title"]
    assert [s["service"] for s in first["symptoms"]] == ["worker"]


def test_a_one_shot_that_exited_0_is_no_finding(tmp_path: Path) -> None:
    table = DOCKER_PS.replace("Exited (137) 2 minutes ago", "Exited (0) 2 minutes ago  ")
    report = report_json(tmp_path, table + "\n" + LOGS, NOW)
    assert all("redis" not in i["services"] for i in report["issues"])


_DNS = "Error -2 connecting to redis:6379. Name or service not known."
