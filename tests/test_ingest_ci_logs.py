"""A CI job's log pasted whole (GitHub Actions): its steps are commands, its own lines are
no container's, and its stamps say when a line was printed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from incidentlog.ingest import read_inputs
from incidentlog.ingest.compose import CI_RUNNER_LINE
from incidentlog.ingest.sessions import cut_session

CASE = Path(__file__).parent / "corpus" / "rw-github-actions-compose-wait" / "compose.log"


def test_each_step_is_a_command_and_its_header_is_not_output() -> None:
    """`##[group]Run docker compose logs postgres` is a prompt: what follows `##[endgroup]`
    is that command's output (the header between, the script and its shell, is counted
    with the prompts)."""
    cut = cut_session(CASE.read_bytes())
    assert cut is not None
    cuts, prompt_lines = cut
    assert [c.command for c in cuts] == [
        "docker compose up -d --wait",
        "docker compose logs postgres",
    ]
    assert prompt_lines == 5  # two steps, and the first one's three header lines
    assert not [c for c in cuts if b"shell: /usr/bin/bash" in c.data]


def test_the_runners_own_lines_are_counted_not_read() -> None:
    """`##[error]Process completed with exit code 1.` is the runner's verdict on the step,
    not a line of postgres (before: glued to compose's last line, so postgres's state read
    "…is unhealthy 2026-12-05T10:41:45.5301931Z ##[error]Process completed…")."""
    result = read_inputs([CASE])
    assert not result.logs.filter(pl.col("message").str.contains(r"##\[")).height
    rejected = [
        r for s in result.summary.sources for k, r in s.rejected.items() if k == CI_RUNNER_LINE
    ]
    assert [r.count for r in rejected] == [1]
    assert set(result.logs.get_column("service")) == {"api", "postgres"}


def test_an_application_time_with_a_zone_beats_the_time_a_line_was_printed() -> None:
    """`docker compose logs` in a later step prints history at one moment: postgres's own
    times (UTC) date its lines, not the runner's stamp 20 s later; compose's own lines,
    printed live, keep the runner's."""
    result = read_inputs([CASE])
    fatal = result.logs.filter(pl.col("message").str.contains("FATAL")).get_column("ts")
    assert fatal.to_list() == [
        datetime(2026, 12, 5, 10, 41, 25, 522000, tzinfo=UTC),
        datetime(2026, 12, 5, 10, 41, 35, 601000, tzinfo=UTC),
    ]
    unhealthy = result.logs.filter(pl.col("message").str.starts_with("dependency failed"))
    assert unhealthy.get_column("ts").item() == datetime(
        2026, 12, 5, 10, 41, 45, 521230, tzinfo=UTC
    )


def test_a_time_without_a_zone_keeps_the_printed_stamp(tmp_path: Path) -> None:
    """An application time without a zone may be local: the runner's stamp (UTC) dates the
    line instead."""
    path = tmp_path / "job.log"
    path.write_text(
        "2026-12-05T10:41:45.7000000Z api-1  | 2026-12-05 11:41:40 ERROR payment failed\n"
    )
    ts = read_inputs([path]).logs.get_column("ts").item()
    assert ts == datetime(2026, 12, 5, 10, 41, 45, 700000, tzinfo=UTC)


def test_runner_lines_in_a_log_without_prefixes_are_counted_not_read(tmp_path: Path) -> None:
    path = tmp_path / "api.log"
    path.write_text(
        "2026-12-05T10:41:45.1000000Z Error: connect ECONNREFUSED 127.0.0.1:5432\n"
        "2026-12-05T10:41:45.2000000Z ##[error]Process completed with exit code 1.\n"
    )
    result = read_inputs([path])
    assert result.logs.get_column("message").to_list() == [
        "Error: connect ECONNREFUSED 127.0.0.1:5432"
    ]
    assert sum(s.rejected_lines for s in result.summary.sources) == 1


GITLAB = Path(__file__).parent / "corpus" / "rw-gitlab-ci-compose-wait-exit" / "compose.log"


def test_a_gitlab_job_log_is_cut_at_its_coloured_prompts() -> None:
    """GitLab colours the script's `$ ` lines: without the colours they are prompts, and
    the commands read as typed (before: `docker compose logs worker [0;m`)."""
    result = read_inputs([GITLAB])
    commands = [s.source.split(" ", 1)[1] for s in result.summary.sources if " " in s.source]
    assert commands == ["(docker compose up -d --wait)", "(docker compose logs worker)"]


def test_the_gitlab_runners_lines_are_counted_not_read() -> None:
    """Its header (`Running with gitlab-runner`, `on RUNNER ID`), stage lines behind
    `section_start:…\\r` and its verdict `ERROR: Job failed: exit code 1` are the runner's
    (before: records of a service named after the paste, and of `compose`)."""
    result = read_inputs([GITLAB])
    assert set(result.logs.get_column("service")) == {"db", "worker"}
    rejected = sum(
        r.count
        for s in result.summary.sources
        for k, r in s.rejected.items()
        if k == CI_RUNNER_LINE
    )
    assert rejected == 4


def test_up_wait_names_the_container_that_exited_and_its_code() -> None:
    """`up --wait` says `container app-worker-1 exited (2)`: compose's own line about the
    worker, an exit with code 2 (before: glued to the line before it, no exit known)."""
    result = read_inputs([GITLAB])
    line = result.logs.filter(pl.col("message").str.starts_with("container app-worker-1"))
    assert line.select("container", "service").row(0) == ("compose", "worker")
