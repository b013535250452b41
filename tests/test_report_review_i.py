"""Review I: report outputs an earlier blind review found wrong or weak (pull lines credited
to the file's name, the compose tool advised as a service, a probable OOM called certain,
generic credential advice, an unsafe `down -v`, a server finding for its client's
statement, a systemd unit's run called a crash, podman prose naming docker)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import report_md

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_platform_error_naming_no_service_is_not_advised_for_compose(tmp_path: Path) -> None:
    md = report_md(
        tmp_path,
        "$ docker compose pull\nno matching manifest for linux/arm64/v8 in the manifest list entries\n",
        NOW,
    )
    assert "on compose" not in md and "of compose" not in md
    assert "`platform: linux/amd64` on the affected service" in md


GUNICORN_KILLS = (
    "app-1  | [2026-03-01 09:14:02 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)\n"
    "app-1  | [2026-03-01 09:14:02 +0000] [7] [INFO] Booting worker with pid: 7\n"
    "app-1  | [2026-03-01 09:31:40 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL!"
    " Perhaps out of memory?\n"
    "app-1  | [2026-03-01 09:31:40 +0000] [23] [INFO] Booting worker with pid: 23\n"
)


def test_a_supervisors_sigkill_is_a_probable_oom_kill_with_how_to_confirm(tmp_path: Path) -> None:
    md = report_md(tmp_path, GUNICORN_KILLS, NOW)
    assert "was killed by the kernel OOM killer" not in md
    assert "probably by the kernel OOM killer (not confirmed)" in md
    assert "docker inspect --format '{{.State.OOMKilled}}' $(docker compose ps -aq app)" in md
    assert "dmesg" in md


def test_the_kernels_own_oom_line_is_a_definite_oom_kill(tmp_path: Path) -> None:
    text = GUNICORN_KILLS + (
        "app-1  | Memory cgroup out of memory: Killed process 7 (gunicorn) total-vm:912000kB\n"
    )
    md = report_md(tmp_path, text, NOW)
    assert "app ran out of memory and was killed by the kernel OOM killer" in md
    assert "not confirmed" not in md
