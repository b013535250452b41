"""A variable a cron job finds unset in a container that runs cron: cron does not pass
the container's environment to its jobs, so setting it in compose is not the whole fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import report_json

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)

JOB = """\
cron-1  | 2025-03-01T02:00:00Z /usr/local/bin/sync.sh: line 5: REPORTS_URL: parameter not set
cron-1  | 2025-03-01T03:00:00Z /usr/local/bin/sync.sh: line 5: REPORTS_URL: parameter not set
"""


def test_a_job_under_cron_is_told_cron_drops_the_environment(tmp_path: Path) -> None:
    """Before: only "set it under `environment:`", which the container may already have."""
    text = "cron-1  | 2025-03-01T01:00:00Z crond: crond (busybox 1.36.1) started, log level 8\n"
    (issue,) = report_json(tmp_path, text + JOB, NOW)["issues"]
    assert issue["root_cause"].startswith("cron runs the script from cron")
    assert "`export -p > /etc/job.env`" in issue["fix"]
    assert "`. /etc/job.env`" in issue["fix"]


def test_debian_cron_counts_too(tmp_path: Path) -> None:
    text = "jobs-1  | 2025-03-01T01:00:00Z cron: (CRON) INFO (pidfile fd = 3)\n"
    (issue,) = report_json(tmp_path, text + JOB.replace("cron-1", "jobs-1"), NOW)["issues"]
    assert "cron starts its jobs" in issue["root_cause"]


def test_an_entrypoint_without_cron_keeps_the_rules_advice(tmp_path: Path) -> None:
    (issue,) = report_json(tmp_path, JOB.replace("cron-1", "sync-1"), NOW)["issues"]
    assert "cron" not in issue["fix"] + issue["root_cause"]
    assert issue["fix"].startswith("The entrypoint of sync requires `REPORTS_URL`")
