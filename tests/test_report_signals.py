"""Reports of limits and signals: inotify is a host sysctl (never a lower `nofile`), a bus
error is /dev/shm, an exit above 128 names its signal, and "it restarts and exits again"
only when it did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import first_screen, issue_titles, report_json, report_md

NOW = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)

FSNOTIFY = """\
shipper-1  | 2025-06-02T08:15:39.000000000Z level=info msg="starting shipper" version=3.1.0
shipper-1  | 2025-06-02T08:15:40.000000000Z level=error msg="cannot tail target" \
path=/var/log/app/*.log error="fsnotify.NewWatcher: too many open files"
shipper-1  | 2025-06-02T08:25:40.000000000Z level=error msg="cannot tail target" \
path=/var/log/app/*.log error="fsnotify.NewWatcher: too many open files"
"""


def test_inotify_exhaustion_is_a_host_sysctl_not_a_lower_nofile(tmp_path: Path) -> None:
    md = report_md(tmp_path, FSNOTIFY, NOW)
    titles = issue_titles(md)
    assert len(titles) == 1 and "inotify" in titles[0], titles
    assert "File descriptors exhausted" not in md
    screen = first_screen(md)
    assert "nofile: 65536" not in md
    assert "fs.inotify.max_user_instances" in screen
    assert "docker compose restart shipper" in screen


BUS_ONCE = """\
worker-1  | Bus error (core dumped)
worker-1 exited with code 135
"""


def test_bus_error_is_shm_size_and_exit_135_names_sigbus(tmp_path: Path) -> None:
    data = report_json(tmp_path, BUS_ONCE, NOW)
    (issue,) = data["issues"]
    assert "system.bus-error" in issue["rules"]
    assert 'shm_size: "512mb"' in issue["fix"]
    assert "exit code 135: killed by SIGBUS" in issue["impact"]
    md = report_md(tmp_path, BUS_ONCE, NOW)
    assert "docker compose up -d --force-recreate worker" in first_screen(md)
    assert "restarts and exits again" not in md


NVR = """\
nvr  | 2024-05-12 18:03:10.000000000  [INFO] starting recorder 0.13
nvr  | 2024-05-12 18:03:15.000000000  [WARNING] shared memory of 64.00MB is too small \
for 2 cameras, give the container at least 380MB
nvr  | 2024-05-12 18:03:20.000000000  Fatal Python error: Bus error
nvr  | 2024-05-12 18:03:20.000000000
nvr  | 2024-05-12 18:03:20.000000000  Thread 0x00007f12aa3fc6c0 (most recent call first):
nvr  | 2024-05-12 18:03:20.000000000    File "/opt/nvr/capture.py", line 88 in read_frame
nvr  | 2024-05-12 18:04:51.000000000  [INFO] recorder exited with code 1
nvr exited with code 1
"""


def test_shm_warning_and_bus_error_are_one_issue_from_the_warning(tmp_path: Path) -> None:
    data = report_json(tmp_path, NVR, NOW)
    (issue,) = data["issues"]
    assert {"system.bus-error", "limits.shm-exhausted"} <= set(issue["rules"])
    assert issue["first_seen"].startswith("2024-05-12T18:03:15")
    assert "shm_size" in issue["fix"]
    assert "restarts and exits again" not in issue["fix"]


ONCE = """\
jobs-1  | 2025-06-02T08:15:39.000000000Z starting job runner
jobs-1  | 2025-06-02T08:15:40.000000000Z fatal: setting "queue.name" is empty
jobs-1 exited with code 1
"""

LOOP = """\
jobs-1  | 2025-06-02T08:15:39.000000000Z starting job runner
jobs-1  | 2025-06-02T08:15:40.000000000Z fatal: setting "queue.name" is empty
jobs-1 exited with code 1 (restarting)
jobs-1  | 2025-06-02T08:15:42.000000000Z starting job runner
jobs-1  | 2025-06-02T08:15:43.000000000Z fatal: setting "queue.name" is empty
jobs-1 exited with code 1 (restarting)
"""


def test_unknown_exit_says_it_restarts_only_when_it_did(tmp_path: Path) -> None:
    once = report_json(tmp_path, ONCE, NOW)["issues"][0]
    assert "not restarted" in once["impact"]
    assert "restarts and exits again" not in once["fix"]
    loop = report_json(tmp_path, LOOP, NOW)["issues"][0]
    assert "not restarted" not in loop["impact"]
    assert "restarts and exits again until the cause is fixed" in loop["fix"]


def test_the_softwares_own_rule_leads_over_the_catch_all(tmp_path: Path) -> None:
    """The entrypoint's `chmod: … Operation not permitted` comes first, PostgreSQL's own
    error after it: the issue is PostgreSQL's (which uid owns the data), not "Permission
    denied" with advice for any program."""
    text = (
        "db-1  | 2025-06-03T08:40:01.000000000Z chmod: changing permissions of"
        " '/var/lib/postgresql/data': Operation not permitted\n"
        "db-1  | 2025-06-03T08:40:01.200000000Z initdb: error: could not change permissions"
        ' of directory "/var/lib/postgresql/data": Operation not permitted\n'
        "db-1 exited with code 1\n"
    )
    md = report_md(tmp_path, text, NOW)
    assert issue_titles(md) == ["### 1. db exited: PostgreSQL cannot use /var/lib/postgresql/data"]
    assert "chown -R 999:999" in first_screen(md)
