"""Review L: what review I's fixes left in the report (a full disk while pulling advised as
the service's volume, compose's own run labelled as a service called compose, a probable
OOM kill summed up and planned as a certain one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import first_screen, issue_titles, report_md

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

PULL_DISK_FULL = (
    "$ docker compose up -d\n"
    "[+] Running 2/3\n"
    " ⠿ db Pulled                                                      12.3s\n"
    " ✘ analytics Error failed to register layer: write /var/lib/docker/overlay2/9c1e/diff"
    "/opt/spark/jars/spark-core.jar: no space left on device  41.2s\n"
)


def test_a_full_disk_while_pulling_frees_dockers_data_root_and_pulls_again(
    tmp_path: Path,
) -> None:
    md = report_md(tmp_path, PULL_DISK_FULL, NOW)
    now = first_screen(md)
    assert "volume or host disk behind analytics" not in now
    assert "then restart analytics" not in now
    assert "Docker's data root" in now
    for command in ("docker image prune", "docker builder prune", "docker system df"):
        assert command in now
    assert "not `docker system prune`" in now
    plan = now[now.index("```bash") :]
    assert plan.index("docker image prune") < plan.index("docker compose pull analytics")
    assert plan.index("docker compose pull analytics") < plan.index(
        "docker compose up -d analytics"
    )
    assert "\ndocker system prune" not in plan


def test_a_full_disk_in_the_services_own_output_keeps_the_volume_advice(
    tmp_path: Path,
) -> None:
    text = (
        "analytics-1  | 2026-03-01T09:00:00Z ERROR write /data/events/part-0001.parquet:"
        " no space left on device\n"
    )
    now = first_screen(report_md(tmp_path, text, NOW))
    assert "volume or host disk behind analytics" in now
    assert "docker compose pull analytics" not in now


def test_compose_own_line_about_no_service_is_the_compose_runs_not_a_service_called_compose(
    tmp_path: Path,
) -> None:
    md = report_md(
        tmp_path,
        "$ docker compose up -d\nno matching manifest for linux/arm64/v8 in the manifest list"
        " entries\n",
        NOW,
    )
    now = first_screen(md)
    assert "1. **the compose run** (" in now
    assert "**compose**" not in now
    (heading,) = issue_titles(md)
    assert heading.endswith("(the compose run)")
    assert "(compose)" not in md


GUNICORN_KILL = (
    "app-1  | [2026-03-01 09:14:02 +0000] [7] [INFO] Booting worker with pid: 7\n"
    "app-1  | [2026-03-01 09:31:40 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL!"
    " Perhaps out of memory?\n"
)


def test_a_probable_oom_kill_is_summed_up_as_probable_and_planned_confirmation_first(
    tmp_path: Path,
) -> None:
    md = report_md(tmp_path, GUNICORN_KILL, NOW)
    assert "| **Root causes** | Probable out-of-memory kills (not confirmed) (app) |" in md
    plan = md[md.index("```bash") :]
    first = plan.splitlines()[2]
    assert first.startswith("docker inspect --format '{{.Name}} {{.State.OOMKilled}}'")
    assert plan.index("dmesg") < plan.index("docker compose up -d --force-recreate app")


def test_an_oom_kill_the_kernel_confirms_keeps_the_certain_root_cause(tmp_path: Path) -> None:
    text = GUNICORN_KILL + (
        "app-1  | Memory cgroup out of memory: Killed process 7 (gunicorn) total-vm:912000kB\n"
    )
    md = report_md(tmp_path, text, NOW)
    assert "| **Root causes** | Out-of-memory kills (app) |" in md
    assert "OOMKilled" not in md[md.index("```bash") :].split("```")[0]
