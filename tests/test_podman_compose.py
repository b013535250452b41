"""podman-compose's output: its echoed commands and `exit code: N` lines are its own, the
exit is the container's, and the report's commands are podman's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from incidentlog.incident.plan import compose_cli, for_cli
from incidentlog.incident.podman import PODMAN_CLI, for_podman, runs_podman
from incidentlog.ingest import read_inputs
from incidentlog.ingest.sessions import cut_session
from incidentlog.render.report import generate_report

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

UP = """podman-compose version: 1.0.6
['podman', '--version', '']
using podman version: 4.9.4
** excluding:  set()
['podman', 'network', 'exists', 'shop_default']
podman create --name=shop_db_1 --label io.podman.compose.project=shop --net shop_default postgres:16
2b9e41c07d3a8f1e6c5b2a9d0e4f7c1b3a5d8e2f6c9b0a1d4e7f2c5b8a0d3e6f
exit code: 0
podman create --name=shop_api_1 --requires=shop_db_1 --net shop_default localhost/shop_api
7c1d0e5a9b3f2e8d6c4a1b0f9e7d5c3a2b1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d
exit code: 0
podman start -a shop_db_1
podman start -a shop_api_1
[db]  | 2026-11-30 14:02:10.204 UTC [1] LOG:  database system is ready to accept connections
[api] | INFO:     Waiting for application startup.
[db]  | 2026-11-30 14:02:11.398 UTC [28] FATAL:  password authentication failed for user "shop"
[api] | asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "shop"
[api] | ERROR:    Application startup failed. Exiting.
exit code: 3
"""


def _logs(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "up.log"
    path.write_text(text)
    return read_inputs([path], host="h").logs.sort("seq")


def test_echoed_commands_are_podman_composes_own_lines(tmp_path: Path) -> None:
    logs = _logs(tmp_path, UP)
    own = logs.filter(pl.col("container") == "compose").get_column("message").to_list()
    assert "podman start -a shop_api_1" in own
    assert "['podman', 'network', 'exists', 'shop_default']" in own
    assert "exit code: 0" in own
    # nothing is glued to the last record of a container, nor a container called unknown
    assert (
        not logs.filter(pl.col("message").str.contains("exit code: 3$"))
        .filter(pl.col("container") != "compose")
        .height
    )
    assert set(logs.get_column("service")) <= {"api", "db", "compose"}


def test_the_exit_code_is_the_container_that_stopped_printing(tmp_path: Path) -> None:
    logs = _logs(tmp_path, UP)
    exit_line = logs.filter(pl.col("message").str.contains("exited with code 3"))
    assert exit_line.select("container", "service").row(0) == ("compose", "api")
    assert "exit code: 3" in exit_line.item(0, "message")  # (what podman-compose printed)


def test_a_container_that_prints_after_the_code_is_still_running(tmp_path: Path) -> None:
    text = UP.replace(
        "exit code: 3\n",
        "exit code: 3\n[db]  | 2026-11-30 14:02:12.001 UTC [29] LOG:  checkpoint starting\n",
    ).replace(
        "[api] | ERROR:    Application startup failed. Exiting.\n",
        "[api] | ERROR:    Application startup failed. Exiting.\n[db]  | 2026-11-30 14:02:11.9 UTC"
        " [28] LOG:  disconnection\n",
    )
    logs = _logs(tmp_path, text)
    exit_line = logs.filter(pl.col("message").str.contains("exited with code 3"))
    assert exit_line.get_column("service").to_list() == ["api"]


def test_a_codes_after_other_commands_are_theirs(tmp_path: Path) -> None:
    logs = _logs(tmp_path, UP)
    assert logs.filter(pl.col("message").str.contains("exited with code 0")).is_empty()


def test_echoed_commands_do_not_cut_the_paste_as_a_session() -> None:
    assert cut_session(UP.encode()) is None
    typed = b"$ podman-compose up\n" + UP.encode()
    cut = cut_session(typed)
    assert cut is not None and len(cut[0]) == 1 and cut[1] == 1


def test_podman_composes_lines_choose_its_commands(tmp_path: Path) -> None:
    logs = _logs(tmp_path, UP)
    assert runs_podman(logs)
    assert compose_cli(["api", "db"], podman=True) == PODMAN_CLI
    assert not runs_podman(_logs(tmp_path, "web-1  | hello\nweb-1 exited with code 1\n"))


SESSION = """\
me@box:~/shop$ podman-compose logs api
2026-12-05T10:00:00Z ERROR storage: cannot open /data/orders.db: Permission denied
me@box:~/shop$ podman ps -a
CONTAINER ID  IMAGE                      COMMAND      CREATED        STATUS                   PORTS  NAMES
3f2a1b0c9d8e  localhost/shop-api:latest  node app.js  2 minutes ago  Exited (1) 1 minute ago         shop_api_1
"""


def test_a_session_running_podman_gets_podmans_commands(tmp_path: Path) -> None:
    """A pasted session whose prompts ran podman-compose and podman, whose output holds
    none of podman-compose's own lines: the plan is podman's (before: `docker compose`),
    and the application's `<time> ERROR storage: …` line is api's, not a syslog line of
    host `ERROR`."""
    path = tmp_path / "session.txt"
    path.write_text(SESSION)
    data = json.loads(generate_report([str(path)], fmt="json", now=NOW))
    assert data["compose_cli"] == PODMAN_CLI
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert "podman-compose up -d --force-recreate api" in commands
    result = read_inputs([str(path)])
    assert result.logs.get_column("service").to_list() == ["api"]
    assert runs_podman(result.logs, ["podman-compose logs api"])
    assert not runs_podman(result.logs, ["podman ps", "docker compose logs api"])


@pytest.mark.parametrize(
    ("docker", "podman"),
    [
        (
            "docker compose up -d --force-recreate api db",
            "podman-compose up -d --force-recreate api db",
        ),
        ("docker compose logs -f --tail 20 api", "podman-compose logs -f --tail 20 api"),
        ("docker compose exec -T db psql -U app", "podman-compose exec db psql -U app"),
        ("docker compose build --progress plain web", "podman-compose build web"),
        ("docker ps --filter health=unhealthy", "podman ps --filter health=unhealthy"),
        (
            "docker inspect --format '{{.State.OOMKilled}}' $(docker compose ps -aq api)",
            "podman inspect --format '{{.State.OOMKilled}}' "
            "$(podman ps -aq --filter label=com.docker.compose.service=api)",
        ),
        ("docker compose ps", "podman-compose ps"),
        (
            "docker compose logs --since 1h | grep -i error",
            "podman-compose logs --since 1h | grep -i error",
        ),
        ("docker pull docker.io/library/redis:7", "podman pull docker.io/library/redis:7"),
    ],
)
def test_commands_are_podmans(docker: str, podman: str) -> None:
    assert for_podman(docker) == podman
    assert for_cli(docker, PODMAN_CLI) == podman


def test_restarting_containers_are_asked_of_podman() -> None:
    command = for_podman("docker compose ps --status restarting")
    assert command.startswith("podman ps -a --filter label=io.podman.compose.project")


def test_the_improvements_prose_is_podmans_too(tmp_path: Path) -> None:
    """The long-term prose names podman's commands as the plan does (before: `docker
    events` beside `podman-compose` commands)."""
    path = tmp_path / "up.log"
    path.write_text(UP)
    md = generate_report([str(path)], fmt="md", now=NOW)
    improvements = md[md.index("## Long-term stability improvements") :]
    improvements = improvements[: improvements.index("## Appendix")]
    assert "`podman events`" in improvements
    assert "docker events" not in improvements and "docker compose" not in improvements
