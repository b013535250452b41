"""Commands a CI job or a shell trace shows: `+ docker compose -f ci.yml logs api` is a
prompt, the CI's own lines are no container's, and the report's commands carry the
options that chose the stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentlog.incident.plan import compose_options
from incidentlog.ingest import read_inputs
from incidentlog.ingest.compose import CI_RUNNER_LINE
from incidentlog.ingest.sessions import cut_session
from incidentlog.render.report import generate_report

NOW = datetime(2026, 12, 6, tzinfo=UTC)
CASE = Path(__file__).parent / "corpus" / "rw-jenkins-xtrace-compose-file" / "compose.log"


def test_a_shell_trace_is_a_session() -> None:
    """`set -x` prints each command as `+ cmd`: with docker commands among them, they cut
    the paste as prompts do (`+ sleep 20` too: it ends the output before it)."""
    cut = cut_session(CASE.read_bytes())
    assert cut is not None
    cuts, prompt_lines = cut
    assert [c.command for c in cuts if c.command] == [
        "docker compose -f docker-compose.ci.yml up -d",
        "docker compose -f docker-compose.ci.yml logs api",
        "docker compose -f docker-compose.ci.yml ps",
    ]
    assert prompt_lines == 4


def test_jenkins_own_lines_are_counted_not_read() -> None:
    result = read_inputs([CASE])
    assert set(result.logs.get_column("service")) == {"api", "redis"}
    assert not [m for m in result.logs.get_column("message") if "Pipeline" in m]
    rejected = sum(
        r.count
        for s in result.summary.sources
        for k, r in s.rejected.items()
        if k == CI_RUNNER_LINE
    )
    assert rejected >= 1


def test_the_plan_keeps_the_options_that_chose_the_stack() -> None:
    """Every command the job ran named `-f docker-compose.ci.yml`: the plan's commands do
    too (before: `docker compose build api`, which reads another compose file)."""
    data = json.loads(generate_report([str(CASE)], fmt="json", now=NOW))
    assert data["compose_options"] == "-f docker-compose.ci.yml"
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    compose = [c for c in commands if c.startswith("docker compose ")]
    assert compose and all(
        c.startswith("docker compose -f docker-compose.ci.yml ") for c in compose
    )
    md = generate_report([str(CASE)], fmt="md", now=NOW)
    assert "(`docker compose -f docker-compose.ci.yml ps`)" in md


@pytest.mark.parametrize(
    ("commands", "options"),
    [
        (["docker compose -f ci.yml up -d", "sudo docker compose -f ci.yml logs api"], "-f ci.yml"),
        (
            ["docker compose -p shop --file=a.yml logs", "docker compose -p shop --file=a.yml ps"],
            "-p shop --file a.yml",
        ),
        (["docker-compose --ansi never -f ci.yml logs"], "-f ci.yml"),
        (["docker compose -f a.yml logs", "docker compose -f b.yml ps"], ""),  # (they differ)
        (["docker compose -f a.yml logs", "docker compose ps"], ""),
        (["docker compose --context prod -f a.yml logs"], ""),  # (an option not known)
        (["docker compose -f 'a.yml;rm -rf /' logs"], ""),  # (no shell text printed again)
        (["docker compose -f '`x`.yml' logs"], ""),  # (nor Markdown)
        (["docker ps -a", "tail -n 5 api.log"], ""),
    ],
)
def test_compose_options(commands: list[str], options: str) -> None:
    assert compose_options(commands) == options
