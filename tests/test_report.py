"""The post-incident report: golden reports of every sample incident (read them when
they change), formats, templates and CLI errors. The facts each report states are checked
against the samples' evidence in test_report_facts.py."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from report_helpers import first_screen, issue_titles, report_json, report_md
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.incident.advice import advice
from incidentlog.incident.issues import Cause, Finding, Unit
from incidentlog.render.report import generate_report
from incidentlog.topology import ContainerConfig

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
SAMPLES = {
    "2025-08-01-health-checks": ["compose.log", "events.jsonl", "inspect.json", "ps.txt"],
    "2025-09-14-postgres-oom": ["compose.log", "events.jsonl", "inspect.json", "ps.txt"],
    "2025-10-03-dns-config": ["up.log"],
    "no-incident": ["compose.log", "events.jsonl", "ps.txt"],
}


def _report(sample_logs: Path, name: str, fmt: str = "md", **kw: object) -> str:
    """The report of one sample, run from inside its folder so paths print the same everywhere."""
    cwd = Path.cwd()
    os.chdir(sample_logs / name)
    try:
        return generate_report(SAMPLES[name], fmt=fmt, now=NOW, **kw)  # type: ignore[arg-type]
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_golden_report(sample_logs: Path, name: str, update_golden: bool) -> None:
    text = _report(sample_logs, name)
    golden = GOLDEN / f"{name}.md"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden report {golden.name}: run pytest --update-golden"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name}: the report changed; if that is intended, run `pytest --update-golden` "
        "and read the diff of tests/golden/"
    )


@pytest.fixture(scope="module")
def seed_md(sample_logs: Path) -> str:
    return _report(sample_logs, "2025-08-01-health-checks")


def test_markdown_parses_cleanly(seed_md: str) -> None:
    tokens = MarkdownIt("commonmark").enable("table").parse(seed_md)
    kinds = [t.type for t in tokens]
    assert kinds.count("table_open") == 5  # now, what happened, timeline; appendix: 2
    fences = [t for t in tokens if t.type == "fence"]
    # the timeline once in the body, as a table; its bars as Mermaid in the appendix
    assert [f.info for f in fences].count("mermaid") == 1
    assert seed_md.index("```mermaid") > seed_md.index("\n## Appendix\n")
    assert sum(f.info == "bash" for f in fences) == 3  # apply now; verify; watch
    assert not [t for t in tokens if t.type in ("html_block", "html_inline")]


def test_postgres_oom_is_one_root_cause_with_downstream_symptoms(sample_logs: Path) -> None:
    data = json.loads(_report(sample_logs, "2025-09-14-postgres-oom", fmt="json"))
    assert data["found"] is True
    assert len(data["issues"]) == 1
    issue = data["issues"][0]
    assert issue["category"] == "oom-killed"
    assert issue["services"] == ["db"]
    downstream = {s["service"]: s["via"] for s in issue["symptoms"] if s["service"] != "db"}
    assert downstream == {"api": "host db", "web": "depends_on db", "worker": "depends_on db"}
    assert "upstream of api, web and worker" in issue["ranking"]
    assert data["ongoing"] is False
    assert data["ended_at"].startswith("2025-09-14T14:08:58")
    assert data["needs_attention"] == []


def test_dns_config_names_the_missing_service(sample_logs: Path) -> None:
    data = json.loads(_report(sample_logs, "2025-10-03-dns-config", fmt="json"))
    by_cat = {i["category"]: i for i in data["issues"]}
    assert set(by_cat) == {"dns-resolution", "config-error"}
    dns = by_cat["dns-resolution"]
    assert dns["services"] == ["api", "notifier"]
    assert "`db` is not a service of this stack" in dns["root_cause"]
    assert {"service": "web", "category": "not-started"}.items() <= next(
        s for s in dns["symptoms"] if s["service"] == "web"
    ).items()
    # only postgres and redis print times: the exits compose prints after them are no
    # earlier than postgres's last line
    assert data["started_at"] == "2025-10-03T09:14:02.318000Z"


def test_no_incident(sample_logs: Path) -> None:
    md = _report(sample_logs, "no-incident")
    assert md.startswith("# No incident found: blog — 2025-10-20\n")
    assert "## Now" not in md and "## Critical issues" not in md and "## Verify" not in md
    data = json.loads(_report(sample_logs, "no-incident", fmt="json"))
    assert data["found"] is False and data["issues"] == []
    assert data["healthy"] == ["app", "db"]


def test_service_focus(sample_logs: Path) -> None:
    data = json.loads(
        _report(sample_logs, "2025-08-01-health-checks", fmt="json", services=["frontend"])
    )
    assert [i["services"] for i in data["issues"]] == [["frontend", "staff-frontend"]]
    assert [s["name"] for s in data["services"]] == ["frontend"]


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_service_focus_keeps_the_first_evidence_of_a_multi_service_issue(
    sample_logs: Path, fmt: str
) -> None:
    """`report --service agent-scheduler`: the asyncio.run() issue spans agent-discovery and
    agent-scheduler; its first-evidence row stays in the timeline."""
    folder = sample_logs / "2025-08-01-health-checks"
    args = [str(folder / n) for n in SAMPLES["2025-08-01-health-checks"]]
    options = ["--service", "agent-scheduler", "--format", fmt, "--now", "2025-11-01T09:00:00Z"]
    result = CliRunner().invoke(app, ["report", *args, *options])
    assert result.exit_code == 0, result.output
    if fmt == "md":
        timeline = result.output.split("## Timeline")[1].split("\n## ")[0]
        assert (
            "| 12:31:15 | agent-discovery and agent-scheduler | first evidence of issue #2: "
            in timeline
        )
        return
    data = json.loads(result.output)
    [issue] = data["issues"]
    assert issue["services"] == ["agent-discovery", "agent-scheduler"]
    first = [e for e in data["timeline"] if e["kind"] == "first-error"]
    assert [e["services"] for e in first] == [["agent-discovery", "agent-scheduler"]]
    assert first[0]["ts"] == issue["first_seen"]
    assert all(e["services"] == [] for e in data["timeline"] if e["kind"] in ("start", "end"))


PROSE_FIELDS = ("problem", "root_cause", "fix", "impact", "ranking", "user_impact")
MARKDOWN_ESCAPE = re.compile(r"\\[\\`*_\[\]<>&~]")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_json_prose_is_plain_text(sample_logs: Path, name: str) -> None:
    """JSON carries the exact text: no Markdown escaping (code spans keep their backticks)."""
    data = json.loads(_report(sample_logs, name, fmt="json"))
    prose = [data["summary"], data["detection"], data["users"]]
    prose += [s["detail"] for s in data["services"]]
    for issue in data["issues"]:
        prose += [issue[f] for f in PROSE_FIELDS]
        prose += [y["description"] for y in issue["symptoms"]]
        prose += [f["hint"] for f in issue["files"]]
    prose += [s["title"] for p in data["action_plan"] for s in p["steps"]]
    prose += [x for imp in data["improvements"] for x in imp["items"]]
    assert all(isinstance(p, str) for p in prose)
    assert not [p for p in prose if MARKDOWN_ESCAPE.search(p)]


def test_json_prose_unescaped_where_markdown_escapes(sample_logs: Path) -> None:
    data = json.loads(_report(sample_logs, "2025-10-03-dns-config", fmt="json"))
    config = next(i for i in data["issues"] if i["category"] == "config-error")
    assert config["problem"] == "worker exited: Environment variable DATABASE_URL is not set"
    assert config["root_cause"].startswith("Environment variable DATABASE_URL is not set;")
    md = _report(sample_logs, "2025-10-03-dns-config")
    assert "worker exited: Environment variable DATABASE\\_URL is not set" in md


def test_template_override_of_one_block(sample_logs: Path, tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        '{% extends "builtin/report.md.j2" %}{% block improvements %}OUR OWN{% endblock %}'
    )
    md = _report(sample_logs, "no-incident", template_dir=tmp_path)
    assert "No incident found" in md
    md = _report(sample_logs, "2025-08-01-health-checks", template_dir=tmp_path)
    assert "OUR OWN" in md and "## Long-term stability improvements" not in md
    assert "## Now" in md and "## Verify, then watch" in md


def test_cli_report_writes_file_and_reports_errors(sample_logs: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = sample_logs / "no-incident"
    out = tmp_path / "r.html"
    args = ["report", str(folder / "compose.log"), str(folder / "events.jsonl")]
    result = runner.invoke(
        app, [*args, "--format", "html", "-o", str(out), "--now", "2025-11-01T09:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    result = runner.invoke(app, [*args, "--format", "pdf"])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == "Error: --format 'pdf' is not supported by report (allowed: md, html, json)"
    )
    bad = tmp_path / "tpl"
    bad.mkdir()
    (bad / "report.md.j2").write_text("{{ i.no_such_field }}")
    result = runner.invoke(app, [*args, "--template", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: report.md.j2: ")
    assert "no attribute 'no_such_field'" in result.output
    result = runner.invoke(app, [*args, "--template", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "not a directory" in result.output


def test_probe_fix_when_only_some_services_have_a_config() -> None:
    """An image built elsewhere: change the probe, naming the images that are known
    (a service without a config, e.g. missing from inspect, used to raise KeyError)."""
    finding = Finding(
        service="web",
        category="missing-binary",
        rule="probe-missing-binary",
        severity="critical",
        count=3,
        first_seen=None,
        last_seen=None,
        containers=[],
        fields={"binary": "curl"},
        evidence="/bin/sh: curl: not found",
        title="Health check command `curl` is not in the image",
        remediation="Install `curl`.",
        fix="rebuild-image",
        transient=False,
        source="probe",
    )
    other = replace(finding, service="api")
    cause = Cause(
        category="missing-binary",
        members=[Unit("web", "missing-binary", [finding]), Unit("api", "missing-binary", [other])],
        services=["api", "web"],
        findings=[finding, other],
        primary=finding,
        first_seen=None,
        last_seen=None,
        symptoms=[],
    )
    configs = {"web": ContainerConfig(image="registry.example/tools:1.2", built_here=False)}
    got = advice(cause, {}, configs, set(), None)
    assert got.kind == "change-config"
    assert str(got.fix).startswith("The image (`registry.example/tools:1.2`) is not built here")
    assert "PORT" not in str(got.fix)
    assert (
        str(got.problem)
        == "The health check of api and web cannot run: `curl` is missing from the image"
    )


def test_a_rejected_login_is_one_issue_on_both_sides(tmp_path: Path) -> None:
    """The database refusing `app` and the client that logs in as `app` are one wrong password:
    one issue naming both services, whatever address the client dialled."""
    data = report_json(
        tmp_path,
        "db-1   | 2026-11-30 09:12:03.501 UTC [34] FATAL:  password authentication"
        ' failed for user "app"\n'
        "web-1  | Traceback (most recent call last):\n"
        'web-1  |   File "/app/manage.py", line 22, in <module>\n'
        'web-1  | psycopg.OperationalError: connection to server at "172.20.0.2",'
        ' port 5432 failed: FATAL:  password authentication failed for user "app"\n'
        "web-1 exited with code 1\n",
        NOW,
    )
    auth = [i for i in data["issues"] if i["category"] == "auth-failure"]
    assert len(auth) == 1, [i["title"] for i in data["issues"]]
    assert auth[0]["services"] == ["db", "web"]


def test_compose_progress_lines_tell_the_states(tmp_path: Path) -> None:
    """`docker compose up` progress lines end with the time each step took, and a failed
    one-shot dependency is printed twice (its progress line, then the error)."""
    up = (
        "[+] Running 4/5\n"
        " ⠿ Network shop_default        Created      0.1s\n"
        " ⠿ Container shop-redis-1      Started      0.9s\n"
        " ⠿ Container shop-db-1         Healthy     11.3s\n"
        ' ✘ Container shop-migrate-1    service "migrate" didn\'t complete successfully:'
        " exit 1   12.0s\n"
        " ⠿ Container shop-api-1        Created      0.2s\n"
        'service "migrate" didn\'t complete successfully: exit 1\n'
        "migrate-1  | Traceback (most recent call last):\n"
        'migrate-1  |   File "/app/migrate.py", line 3, in <module>\n'
        "migrate-1  | KeyError: 'DATABASE_URL'\n"
    )
    data = report_json(tmp_path, up, NOW)
    states = {s["name"]: (s["state"], s["state_text"], s["exits"]) for s in data["services"]}
    assert states == {
        "api": ("created", "Created", 0),
        "db": ("healthy", "Healthy", 0),
        "migrate": ("exited", "exited with code 1", 1),
        "redis": ("running", "Started", 0),
    }
    # a container compose last called `Created` that logs afterwards is running
    data = report_json(tmp_path, up + "api-1  | Listening on :8080\n", NOW)
    (api,) = [s for s in data["services"] if s["name"] == "api"]
    assert (api["state"], api["state_text"]) == ("running", "running")


def test_of_two_findings_at_once_the_one_naming_the_host_leads(tmp_path: Path) -> None:
    """A generic name-resolution rule (here the one that matched more records) and psycopg's
    (which says which host) match the same record: the issue names the host."""
    log = tmp_path / "worker.log"
    log.write_text(
        "2026-12-01 07:14:22,901 ERROR celery.app.trace Task sync raised unexpected\n"
        "Traceback (most recent call last):\n"
        '  File "/app/orders/tasks.py", line 41, in sync_inventory\n'
        "    conn = psycopg2.connect(settings.DATABASE_URL)\n"
        'psycopg2.OperationalError: could not translate host name "postgres" to address:'
        " Temporary failure in name resolution\n"
        "2026-12-01 07:14:25,017 ERROR sync: lookup failed: Temporary failure in name"
        " resolution\n",
        encoding="utf-8",
    )
    data = json.loads(generate_report([str(log)], fmt="json", now=NOW))
    issue = data["issues"][0]
    assert issue["category"] == "dns-resolution"
    assert "`postgres` does not resolve" in issue["fix"], issue["fix"]


GUNICORN_BOOT = """\
web-1  | 2026-01-05T12:00:00.000000000Z [2026-01-05 12:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0
web-1  | 2026-01-05T12:00:01.000000000Z [2026-01-05 12:00:01 +0000] [7] [ERROR] Exception in worker process
web-1  | 2026-01-05T12:00:01.000000001Z Traceback (most recent call last):
web-1  | 2026-01-05T12:00:01.000000002Z   File "/app/wsgi.py", line 2, in <module>
web-1  | 2026-01-05T12:00:01.000000003Z     from flask_cors import CORS
web-1  | 2026-01-05T12:00:01.000000004Z ModuleNotFoundError: No module named 'flask_cors'
web-1  | 2026-01-05T12:00:01.100000000Z [2026-01-05 12:00:01 +0000] [7] [INFO] Worker exiting (pid: 7)
web-1  | 2026-01-05T12:00:01.300000000Z [2026-01-05 12:00:01 +0000] [1] [ERROR] Reason: Worker failed to boot.
web-1 exited with code 3
"""


def test_an_after_effect_is_evidence_of_the_failure_it_follows(tmp_path: Path) -> None:
    (issue,) = report_json(tmp_path, GUNICORN_BOOT, NOW)["issues"]  # not `Worker failed to boot`
    assert issue["category"] == "missing-module"
    assert "flask_cors" in issue["title"]
    # an uncaught exception an hour later is a failure of its own
    later = (
        "web-1  | 2026-01-05T13:10:00.000000000Z Traceback (most recent call last):\n"
        'web-1  | 2026-01-05T13:10:00.000000001Z   File "/app/jobs.py", line 9, in run\n'
        "web-1  | 2026-01-05T13:10:00.000000002Z KeyError: 'tenant'\n"
    )
    data = report_json(tmp_path, GUNICORN_BOOT + later, NOW)
    assert sorted(i["category"] for i in data["issues"]) == [
        "missing-module",
        "unhandled-exception",
    ]


def test_a_quiet_log_without_states_does_not_claim_every_service_healthy(tmp_path: Path) -> None:
    quiet = "api-1  | 2026-01-01T10:00:00Z hello\napi-1  | 2026-01-01T10:00:05Z GET / 200\n"
    md = report_md(tmp_path, quiet, NOW)
    assert "every service healthy" not in md
    assert "0 healthy or running at the end (1 with no state in the evidence" in md


def test_a_stack_stopped_with_ctrl_c_is_stopped_once_each(tmp_path: Path) -> None:
    stop = (
        "Attaching to relay-broker-1, relay-web-1\n"
        "relay-web-1     | [2026-12-01 08:00:02 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000\n"
        "Gracefully stopping... (press Ctrl+C again to force)\n"
        " ✔ Container relay-web-1       Stopped      0.7s\n"
        " ✔ Container relay-broker-1    Stopped      2.1s\n"
        "relay-web-1 exited with code 0\n"
        "relay-broker-1 exited with code 143\n"
        "canceled\n"
    )
    data = report_json(tmp_path, stop, NOW)
    assert data["issues"] == []
    exits = {s["name"]: s["exits"] for s in data["services"]}
    # `Stopped` and `exited with code` are one exit (two names prove no project prefix)
    assert exits == {"relay-broker": 1, "relay-web": 1}
    md = report_md(tmp_path, stop, NOW)
    assert "2 stopped (exited with code 143, exited with code 0)" in md


def test_the_now_line_says_which_services_show_no_state(tmp_path: Path) -> None:
    up = (
        "db-1   | 2026-01-01T10:00:00.000000000Z LOG:  checkpoint starting: time\n"
        "api-1  | 2026-01-01T10:00:01.000000000Z Error: connect ECONNREFUSED 10.9.9.9:6379\n"
        "api-1  | 2026-01-01T10:00:02.000000000Z Error: connect ECONNREFUSED 10.9.9.9:6379\n"
    )
    md = report_md(tmp_path, up, NOW)
    assert "; 0 are healthy, 1 looks fine in its logs but shows no state (db)." in md
    assert "| **Healthy at the end** | 0; 1 more looks fine in its logs, with no state" in md
    # a service that logged errors is not said to look fine
    errors = up + 'db-1   | 2026-01-01T10:00:03.000000000Z ERROR:  relation "jobs" is locked\n'
    md = report_md(tmp_path, errors, NOW)
    assert "; 0 are healthy, 1 shows no state in the evidence." in md


def test_compose_lines_alone_do_not_claim_every_service_is_running(tmp_path: Path) -> None:
    conflict = (
        'Error response from daemon: Conflict. The container name "/shop-db-1" is already in'
        ' use by container "3f2a". You have to remove (or rename) that container to be able'
        " to reuse that name.\n"
    )
    md = report_md(tmp_path, conflict, NOW)
    assert "every service is running" not in md
    assert "**Nothing started**: the evidence holds only compose's own lines" in md
    assert "`docker rm -f shop-db-1`" in md


def test_a_failed_image_build_is_the_state_of_its_service(tmp_path: Path) -> None:
    build = (
        " => ERROR [web 4/6] RUN npm ci --omit=dev                14.6s\n"
        "------\n"
        " > [web 4/6] RUN npm ci --omit=dev:\n"
        "4.117 npm error code EUSAGE\n"
        "------\n"
        'failed to solve: process "/bin/sh -c npm ci --omit=dev" did not complete'
        " successfully: exit code: 1\n"
    )
    (web,) = report_json(tmp_path, build, NOW)["services"]
    assert (web["name"], web["state"], web["state_text"]) == (
        "web",
        "build failed",
        "image build failed",
    )


@pytest.mark.parametrize(
    ("paste", "title", "commands"),
    [
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
            " Is the docker daemon running?\n",
            "The Docker daemon is not reachable",
            ["sudo systemctl start docker", "docker info", "docker compose up -d"],
        ),
        (
            "yaml: line 14: did not find expected key\n",
            "YAML syntax error",
            ["docker compose config --quiet", "docker compose up -d"],
        ),
    ],
)
def test_a_project_that_never_started_is_the_incident(
    tmp_path: Path, paste: str, title: str, commands: list[str]
) -> None:
    """Compose's own error naming no service, and nothing else: the project never
    started. That is the incident (it was "No incident found"), and its commands
    name no service (there was `docker compose restart compose`)."""
    data = report_json(tmp_path, paste, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["compose"] and title in issue["title"]
    (fix,) = data["action_plan"][0]["steps"]
    assert fix["commands"] == commands
    md = report_md(tmp_path, paste, NOW)
    assert "**Nothing started**" in md
    assert "| **Affected** | the compose project: no service's own line is in the evidence |" in md
    assert "docker compose logs -f --tail 20\n" in md  # (verify: no service named)
    assert not re.search(r"docker compose \w+ .*\bcompose\b", md)


def test_compose_lines_are_an_echo_beside_a_service_failure(tmp_path: Path) -> None:
    paste = (
        "db-1  | 2026-03-01T10:00:00.000000000Z FATAL:  password authentication failed"
        ' for user "app"\n'
        "Error response from daemon: network proxy declared as external, but could not be found\n"
    )
    services = [i["services"] for i in report_json(tmp_path, paste, NOW)["issues"]]
    assert services == [["db"]]


def test_an_exit_compose_marks_restarting_is_a_restarting_service(tmp_path: Path) -> None:
    paste = (
        "worker-1  | 2026-03-01T10:00:00.000000000Z processing batch 1/40\n"
        "worker-1 exited with code 137 (restarting)\n"
        "worker-1  | 2026-03-01T10:00:20.000000000Z processing batch 1/40\n"
        "worker-1 exited with code 137 (restarting)\n"
    )
    data = report_json(tmp_path, paste, NOW)
    (worker,) = data["services"]
    assert worker["state"] == "restarting" and worker["needs_attention"]
    assert worker["state_text"] == "exited with code 137 (restarting)"
    assert worker["failing_since"] == "2026-03-01T10:00:00Z"  # (compose's lines, placed)
    md = report_md(tmp_path, paste, NOW)
    assert "| worker | exited with code 137 (restarting): crashed 2 times" in md
    assert "not restarted" not in md


def test_a_health_check_failing_in_the_last_lines_is_still_failing(tmp_path: Path) -> None:
    """No state in the evidence, and the service's last records are its failures: not
    "recovered on its own" (that needs a record after them)."""
    failing = (
        "api-1 | 2026-03-01T10:00:00.000000000Z info: Now listening on: http://[::]:8080\n"
        "api-1 | 2026-03-01T10:00:30.000000000Z       Health check npgsql with status Unhealthy"
        " completed after 5004.8ms with message 'Timeout during connecting to db:5432'\n"
    )
    assert report_json(tmp_path, failing, NOW)["found"]
    recovered = failing + (
        "api-1 | 2026-03-01T10:01:00.000000000Z       Health check npgsql completed: Healthy\n"
    )
    data = report_json(tmp_path, recovered, NOW)
    assert not data["found"] and [s["transient"] for s in data["services"]] == [True]


@pytest.mark.parametrize(
    "after",
    [
        "Please make sure your database server is running at `db:5432`.",
        "  code: 'ECONNREFUSED',",
        "}",
    ],
)
def test_what_a_client_prints_under_its_error_is_no_recovery(tmp_path: Path, after: str) -> None:
    paste = (
        "api-1  | 2026-03-01T10:00:00.000000000Z Server listening on port 3000\n"
        "api-1  | 2026-03-01T10:00:01.000000000Z Error: P1001: Can't reach database server"
        " at `db:5432`\n"
        f"api-1  | 2026-03-01T10:00:02.000000000Z {after}\n"
    )
    data = report_json(tmp_path, paste, NOW)
    assert data["found"] and data["issues"][0]["services"] == ["api"]


def test_a_name_that_does_not_resolve_leads_and_names_the_listener(tmp_path: Path) -> None:
    """A JDBC client logs `refused` and `UnknownHostException: postgres` together: the
    name is the cause, and db, which listens on 5432, is the service it meant."""
    paste = (
        "db_1   | 2026-11-20T10:00:00.000000000Z 2026-11-20 10:00:00.000 UTC [1] LOG:  database"
        " system is ready to accept connections\n"
        "web_1  | 2026-11-20T10:00:03.412000000Z 2026-11-20 10:00:03.412 ERROR 1 --- [main]"
        " o.h.engine.jdbc.spi.SqlExceptionHelper : Connection to postgres:5432 refused.\n"
        'web_1  | 2026-11-20T10:00:03.412000000Z Exception in thread "main"'
        " java.net.UnknownHostException: postgres\n"
        "legacy_web_1 exited with code 1\n"
    )
    (issue,) = report_json(tmp_path, paste, NOW)["issues"]
    assert (
        issue["category"] == "dns-resolution" and issue["title"] == "Cannot resolve host postgres"
    )
    md = report_md(tmp_path, paste, NOW)
    assert "Point web at `db:5432` (the compose service name)" in md


@pytest.mark.parametrize(
    ("paste", "wanted"),
    [
        (
            "php-1  | 2026-02-09T16:20:31.000000000Z PHP Fatal error:  Uncaught Error: Call to"
            " undefined function mysqli_connect() in /var/www/html/lib/db.php:7\n",
            "`RUN docker-php-ext-install mysqli`",
        ),
        (
            "db-1  | 2026-02-09T16:20:31.000000000Z 2026-02-09 16:20:31.000 UTC [40] FATAL:  role"
            ' "root" does not exist\n',
            "`pg_isready -U ${POSTGRES_USER} -d ${POSTGRES_DB}`",
        ),
        (  # Django's missing table: the command that applies the migrations now
            'api-1  | django.db.utils.ProgrammingError: relation "orders_order" does not exist\n',
            "`docker compose exec api python manage.py migrate`",
        ),
        (  # an npm script's tool: the image's node_modules hidden by a bind mount
            "web-1  | > shop@1.0.0 dev\nweb-1  | > vite --host\nweb-1  | sh: 1: vite: not found\n"
            "web-1 exited with code 127\n",
            "(`- /app/node_modules` under the service's `volumes:`",
        ),
    ],
)
def test_fixes_fit_the_failure(tmp_path: Path, paste: str, wanted: str) -> None:
    md = report_md(tmp_path, paste, NOW)
    assert wanted in md
    assert "composer install" not in md and "ALTER ROLE" not in md and "apk add" not in md


def test_a_client_refused_by_the_broker_is_the_brokers_issue(tmp_path: Path) -> None:
    paste = (
        "rabbitmq-1  | 2026-08-01T12:30:00.201234000Z 2026-08-01 12:30:00.201234+00:00 [error]"
        " <0.901.0> PLAIN login refused: user 'worker' - invalid credentials\n"
        "worker-1    | 2026-08-01T12:30:00.300000000Z [2026-08-01 12:30:00,300:"
        " ERROR/MainProcess] consumer: Cannot connect to amqp://worker:**@rabbitmq:5672//:"
        " (403) ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN.\n"
    )
    (issue,) = report_json(tmp_path, paste, NOW)["issues"]
    assert issue["services"] == ["rabbitmq"]
    assert [y["service"] for y in issue["symptoms"]] == ["worker"]
    md = report_md(tmp_path, paste, NOW)
    assert "RabbitMQ refused the login of `worker`" in md and "`guest` only works" not in md


def test_two_rules_on_one_record_are_one_issue(tmp_path: Path) -> None:
    paste = (
        "certbot-1  | 2026-02-11T22:14:09.900000000Z Certbot failed to authenticate some domains"
        " (authenticator: webroot). The Certificate Authority reported these problems:\n"
        "certbot-1  | 2026-02-11T22:14:09.900100000Z   Domain: app.example.com\n"
        "certbot-1  | 2026-02-11T22:14:09.900300000Z   Detail: 203.0.113.80: Fetching"
        " http://app.example.com/.well-known/acme-challenge/vX9q2: Connection refused\n"
        "certbot-1 exited with code 1\n"
    )
    (issue,) = report_json(tmp_path, paste, NOW)["issues"]
    assert issue["services"] == ["certbot"] and len(issue["rules"]) >= 2


def test_a_service_failing_downstream_at_the_end_is_not_healthy(tmp_path: Path) -> None:
    """proxy runs but answers 502 through api and db until the paste ends: it is not
    "healthy at the end" (it was), and the Now line says it fails downstream."""
    log = Path(__file__).parent / "corpus" / "cr-cascade-initdb-nginx-502" / "compose.log"
    data = json.loads(generate_report([str(log)], fmt="json", now=NOW))
    assert data["healthy"] == []
    md = generate_report([str(log)], fmt="md", now=NOW)
    assert "0 are healthy, 2 run but fail downstream (proxy, worker)." in md
    assert "| **Healthy at the end** | 0 |" in md


def test_compose_v1_logs_get_docker_compose_commands(tmp_path: Path) -> None:
    """`web_1 | …` is docker-compose v1's output: its user may have no `docker compose`,
    so the commands are v1's, without the options only v2 has."""
    v1 = (
        "db_1   | 2026-03-01T10:00:00.000000000Z 2026-03-01 10:00:00.000 UTC [1] FATAL:  password"
        ' authentication failed for user "app"\n'
        "web_1  | 2026-03-01T10:00:01.000000000Z Error: connect ECONNREFUSED db:5432\n"
    )
    data = report_json(tmp_path, v1, NOW)
    assert data["compose_cli"] == "docker-compose"
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert "docker-compose up -d --force-recreate db" in commands
    assert "docker-compose ps --filter status=restarting" in commands
    assert not [c for c in commands if c.startswith("docker compose")]
    assert "(`docker-compose ps`)" in report_md(tmp_path, v1, NOW)
    v2 = v1.replace("db_1 ", "db-1 ").replace("web_1 ", "web-1 ")
    assert report_json(tmp_path, v2, NOW)["compose_cli"] == "docker compose"


def test_v1_up_output_alone_gets_docker_compose_commands(tmp_path: Path) -> None:
    """`docker-compose up` output holds only compose's own lines, whose names are v1's
    (`Recreating proj_web_1 ... error`): v1's commands (before: `docker compose`, which a
    v1 user may not have); v2's `Container proj-web-1  Error` keeps v2's."""
    v1 = (
        "Starting proj_redis_1 ... done\n"
        "Recreating proj_web_1 ... error\n"
        "ERROR: for proj_web_1  Cannot start service web: driver failed programming external"
        " connectivity on endpoint proj_web_1: Bind for 0.0.0.0:8080 failed: port is already"
        " allocated\n"
        "ERROR: Encountered errors while bringing up the project.\n"
    )
    data = report_json(tmp_path, v1, NOW)
    assert data["compose_cli"] == "docker-compose"
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert "docker-compose up -d --force-recreate web" in commands
    v2 = (
        " ✘ Container proj-web-1  Error response from daemon: driver failed programming"
        " external connectivity on endpoint proj-web-1: Bind for 0.0.0.0:8080 failed: port is"
        " already allocated\n"
    )
    assert report_json(tmp_path, v2, NOW)["compose_cli"] == "docker compose"


def test_swarm_stack_logs_get_the_stacks_commands(tmp_path: Path) -> None:
    """`docker service logs` of a stack (`shop_db.1.<task>@<node> | …`): `docker compose`
    does not reach a stack's services, so every command is the stack's."""
    swarm = (
        "2026-03-01T10:00:00.000000000Z shop_db.1.p9q8r7s6t5u4@node-1    | 2026-03-01 10:00:00"
        '.000 UTC [1] FATAL:  password authentication failed for user "app"\n'
        "2026-03-01T10:00:01.000000000Z shop_web.1.k2x8j3mq0v1z@node-2    | Error: connect"
        " ECONNREFUSED db:5432\n"
    )
    data = report_json(tmp_path, swarm, NOW)
    assert data["compose_cli"] == "docker stack"
    assert data["project"] == "shop"
    assert sorted(s["name"] for s in data["services"]) == ["db", "web"]
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert (
        "docker stack deploy -c docker-compose.yml shop && docker service update --force shop_db"
        in commands
    )
    assert "docker stack ps shop" in commands
    assert [c for c in commands if c.startswith("docker service logs")]
    assert not [c for c in commands if "docker compose" in c and "build" not in c]
    md = report_md(tmp_path, swarm, NOW)
    assert "(`docker stack ps shop`)" in md
    assert "these logs are a swarm stack's" in md


def test_a_dependency_restarting_on_request_is_no_incident(tmp_path: Path) -> None:
    """redis stops on request (exit 0) and is back 1 s later; the celery worker logs the
    lost connection, its traceback and one refusal, then `Connected to` again: a blip,
    not an incident, and the reconnect line is no restart of the worker."""
    log = Path(__file__).parent / "corpus" / "re-celery-broker-restart-blip" / "compose.log"
    data = json.loads(generate_report([str(log)], fmt="json", now=NOW))
    assert not data["found"]
    worker = next(s for s in data["services"] if s["name"] == "worker")
    assert worker["transient"] and worker["restarts"] == 0


def test_a_service_only_compose_names_counts_among_the_services(tmp_path: Path) -> None:
    """v1 refuses the compose file for db's and api's keys; only db logged: both need
    attention, and the totals say 2 of 2 (they said "2 of 1")."""
    paste = (
        "ERROR: The Compose file './docker-compose.yml' is invalid because:\n"
        "services.db.healthcheck value Additional properties are not allowed"
        " ('start_period' was unexpected)\n"
        "services.api.healthcheck value 'start_interval' does not match any of the regexes:"
        " '^x-'\n"
        "db_1 | LOG:  database system was shut down at 2025-09-01 22:00:00 UTC\n"
    )
    data = report_json(tmp_path, paste, NOW)
    assert data["services_total"] == 2 and data["needs_attention"] == ["api", "db"]
    md = report_md(tmp_path, paste, NOW)
    assert "**2 of 2 services need attention**" in md
    assert "| **Affected** | 2 of 2 services: the 2 above |" in md


def test_a_dependency_healthy_too_late_leaves_its_dependants_unstarted(tmp_path: Path) -> None:
    """`up` gave up on index's health check and left web `Created`; `ps` later shows index
    healthy. Not "no incident": web never started, which is index's issue, still open;
    the plan starts web and the fix names the service, not the container."""
    log = Path(__file__).parent / "corpus" / "hc-dependency-healthy-too-late" / "compose.log"
    data = json.loads(generate_report([str(log)], fmt="json", now=NOW))
    assert data["found"] and data["ongoing"]
    assert "web" in data["needs_attention"]
    (issue,) = data["issues"]
    assert issue["services"] == ["index"]
    assert [(y["service"], y["category"]) for y in issue["symptoms"]] == [("web", "not-started")]
    assert "depends_on: index: condition: service_healthy" in issue["fix"]
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert "docker compose up -d web" in commands
    web = next(s for s in data["services"] if s["name"] == "web")
    assert web["state"] == "created"


def test_a_name_no_service_has_is_no_transient_blip(tmp_path: Path) -> None:
    """Two requests fail 5 s apart because web asks for `redis-cache`, and web serves a
    static file after: not a start-up blip that passed, since no service or container of
    the paste has that name (cache logged): the issue names the wrong host. The same
    burst for a name the stack has (`cache`, restarting) stays a transient blip."""

    def paste(host: str) -> str:
        return (
            "cache-1  | 1:M 05 Mar 2026 14:02:11.009 * Ready to accept connections tcp\n"
            "web-1    | [2026-03-05 14:02:12 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000\n"
            f"web-1    | 2026-03-05 14:02:14,227 ERROR redis.exceptions.ConnectionError: Error -2"
            f" connecting to {host}:6379. Name or service not known.\n"
            f"web-1    | 2026-03-05 14:02:19,870 ERROR redis.exceptions.ConnectionError: Error -2"
            f" connecting to {host}:6379. Name or service not known.\n"
            'web-1    | 2026-03-05 14:02:25,004 INFO "GET /static/site.css HTTP/1.1" 200 18112\n'
        )

    wrong = report_json(tmp_path, paste("redis-cache"), NOW)
    assert wrong["found"] and wrong["needs_attention"] == ["web"]
    assert wrong["issues"][0]["category"] == "dns-resolution"
    assert "`redis-cache` is no service here" in wrong["issues"][0]["root_cause"]
    assert not report_json(tmp_path, paste("cache"), NOW)["found"]


def test_a_database_killed_and_back_is_running_and_killed_when_compose_saw_it(
    tmp_path: Path,
) -> None:
    """`up` output, application times only: db is killed (137) while api logs, then comes
    back (crash recovery) and api serves again. db runs at the end; its exit sits after
    the api line printed before it (not at db's own last line, a minute earlier); the
    fix says what a 137 is."""
    paste = (
        "db_1   | 2026-02-17 02:59:12.774 UTC [27] LOG:  checkpoint complete\n"
        'api_1  | 2026-02-17 03:00:41,880 INFO "GET /healthz HTTP/1.1" 200 2\n'
        "db_1 exited with code 137\n"
        "api_1  | 2026-02-17 03:01:17,449 ERROR psycopg2.OperationalError: server closed the"
        " connection unexpectedly\n"
        "db_1   | 2026-02-17 03:01:20.114 UTC [29] LOG:  database system was not properly shut"
        " down; automatic recovery in progress\n"
        "db_1   | 2026-02-17 03:01:25.731 UTC [1] LOG:  database system is ready to accept"
        " connections\n"
        'api_1  | 2026-02-17 03:01:31,007 INFO "GET /healthz HTTP/1.1" 200 2\n'
    )
    data = report_json(tmp_path, paste, NOW)
    db = next(s for s in data["services"] if s["name"] == "db")
    assert db["state"] == "running"
    assert db["failing_since"] == "2026-02-17T03:00:41.880000Z"
    issue = data["issues"][0]
    assert issue["services"] == ["db"] and "docker.compose-exited-137" in issue["rules"]
    assert "Exit 137 is SIGKILL" in issue["fix"]
    assert "$(docker-compose ps -aq db)" in report_md(tmp_path, paste, NOW)


@pytest.mark.parametrize("mark", ["-", "⠙", "✘"])
def test_a_daemon_error_is_about_the_container_left_starting(tmp_path: Path, mark: str) -> None:
    """The error that ends `up`'s progress block names nothing: it is about the container
    left unfinished (`Starting`, whatever spinner frame or console dash marks it), not
    the last one listed, which started; that container was created and never ran."""
    paste = (
        "[+] Running 3/4\n"
        " ✔ Container prices-cache-1    Started      0.6s\n"
        f" {mark} Container prices-worker-1   Starting     1.0s\n"
        " ✔ Container prices-flower-1   Started      1.1s\n"
        "Error response from daemon: failed to create task for container: failed to create"
        " shim task: OCI runtime create failed: runc create failed: unable to start container"
        ' process: exec: "bash": executable file not found in $PATH: unknown\n'
        "flower-1  | [I 260304 10:21:09 command:168] Visit me at http://0.0.0.0:5555\n"
    )
    data = report_json(tmp_path, paste, NOW)
    assert data["issues"][0]["services"] == ["worker"]
    worker = next(s for s in data["services"] if s["name"] == "worker")
    assert worker["state"] == "created" and "not started" in worker["state_text"]
    assert data["needs_attention"] == ["worker"]


def test_a_refusal_naming_a_url_of_a_crashed_service_is_its_symptom(tmp_path: Path) -> None:
    """frontdesk's `GET http://reports:8081/… -> Connection refused` names no host field,
    but its URL names reports, which is being OOM-killed: one issue, frontdesk a symptom
    (it was its own issue, told to add `depends_on` and be recreated)."""
    paste = (
        "reports-1    | 2025-05-11T06:02:30.000Z INFO reports listening on :8081\n"
        "reports-1 exited with code 137\n"
        "frontdesk-1  | 2025-05-11T06:03:10.008Z WARN  reports client: GET"
        " http://reports:8081/api/summary -> I/O error: Connection refused\n"
        "frontdesk-1  | 2025-05-11T06:04:02.551Z WARN  reports client: GET"
        " http://reports:8081/api/summary -> I/O error: Connection refused\n"
    )
    data = report_json(tmp_path, paste, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["reports"]
    assert [y["service"] for y in issue["symptoms"]] == ["frontdesk"]


def test_what_nginx_relays_from_php_fpm_by_address_is_phps(tmp_path: Path) -> None:
    """nginx logs PHP's fatal error (`FastCGI sent in stderr`) with the upstream as an
    address: the failure is the one PHP-FPM service's, not nginx's (nginx was told to be
    rebuilt)."""
    paste = (
        "php-1    | [02-Jun-2025 14:05:11] NOTICE: fpm is running, pid 1\n"
        'nginx-1  | 2025/06/02 14:06:58 [error] 29#29: *9 FastCGI sent in stderr: "PHP message:'
        " PHP Fatal error:  Uncaught UnexpectedValueException: The stream or file"
        ' \\"/var/www/html/storage/logs/laravel.log\\" could not be opened in append mode:'
        ' Failed to open stream: Permission denied" while reading response header from'
        ' upstream, client: 172.19.0.1, server: _, request: "GET / HTTP/1.1", upstream:'
        ' "fastcgi://172.19.0.2:9000", host: "localhost"\n'
    )
    data = report_json(tmp_path, paste, NOW)
    assert {s for i in data["issues"] for s in i["services"]} == {"php"}


def test_every_service_short_of_disk_is_one_issue(tmp_path: Path) -> None:
    """The Docker host's disk is every volume's: postgres's WAL, Redis's failed save and
    its client's MISCONF are one full disk, one issue (they were three, the client's
    with Redis's own advice); the client is that Redis server's downstream."""
    paste = (
        "db-1     | 2026-03-09 11:00:00.100 UTC [41] PANIC:  could not write to file"
        ' "pg_wal/xlogtemp.41": No space left on device\n'
        "queue-1  | 1:M 09 Mar 2026 11:00:01.020 # Write error saving DB on disk: No space left"
        " on device\n"
        'notify-1 | {"level":"error","time":"2026-03-09T11:00:09.882Z","msg":"enqueue failed",'
        '"err":"MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable'
        ' to persist to disk."}\n'
    )
    data = report_json(tmp_path, paste, NOW)
    (issue,) = data["issues"]
    assert issue["category"] == "disk-full"
    assert issue["services"] == ["db", "queue"]
    assert [y["service"] for y in issue["symptoms"]] == ["notify"]


def test_a_client_timing_out_on_a_name_it_cannot_resolve_is_one_issue(tmp_path: Path) -> None:
    """kafka cannot resolve `zookeeper` (the service is `zk`, which binds 2181), then
    times out waiting for it: one issue, not a second "timed out" one, and the fix
    names zk's address (its port from ZooKeeper's bind line, the default for the name)."""
    paste = (
        "zk-1     | 2025-02-20 08:30:02,502 [myid:1] - INFO  [main:o.a.z.s.NIOServerCnxnFactory"
        "@660] - binding to port 0.0.0.0/0.0.0.0:2181\n"
        "kafka-1  | [2025-02-20 08:30:04,955] WARN Unable to resolve address: zookeeper:2181"
        " (org.apache.zookeeper.client.StaticHostProvider)\n"
        "kafka-1  | java.net.UnknownHostException: zookeeper: Name or service not known\n"
        "kafka-1  | \tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)\n"
        "kafka-1  | [2025-02-20 08:30:22,930] ERROR Fatal error during KafkaServer startup."
        " Prepare to shutdown (kafka.server.KafkaServer)\n"
        "kafka-1  | kafka.zookeeper.ZooKeeperClientTimeoutException: Timed out waiting for"
        " connection while in state: CONNECTING\n"
        "kafka-1 exited with code 1\n"
    )
    data = report_json(tmp_path, paste, NOW)
    (issue,) = data["issues"]
    assert issue["category"] == "dns-resolution" and issue["services"] == ["kafka"]
    assert "Point kafka at `zk:2181`" in issue["fix"]


def test_a_missing_entrypoint_asks_for_images_started_in_ci_not_tested_probes(
    tmp_path: Path,
) -> None:
    """An executable the container starts with (not one a health check runs): the long-term
    advice is starting every image in CI, not testing health checks."""
    paste = "web-1  | exec /app/start.sh: no such file or directory\nweb-1 exited with code 1\n"
    titles = [x["title"] for x in report_json(tmp_path, paste, NOW)["improvements"]]
    assert "Images that are started before deploy" in titles
    assert "Health checks that are tested" not in titles


def test_an_issue_says_exited_only_of_the_services_that_exited(tmp_path: Path) -> None:
    """The database that refuses a login is part of the issue, but it did not exit."""
    text = (
        "db-1    | 2025-08-01T10:00:00.000000000Z LOG:  database system is ready to accept connections\n"
        "auth-1  | 2025-08-01T10:00:01.000000000Z starting auth\n"
        "db-1    | 2025-08-01T10:00:02.000000000Z FATAL:  password authentication failed"
        ' for user "auth_admin"\n'
        'auth-1  | 2025-08-01T10:00:02.100000000Z {"level":"fatal","msg":"migrations: FATAL:'
        ' password authentication failed for user \\"auth_admin\\" (SQLSTATE 28P01)"}\n'
        "auth-1 exited with code 1\n"
    )
    md = report_md(tmp_path, text, NOW)
    titles = [line for line in md.splitlines() if line.startswith("### 1. ")]
    assert titles and titles[0].startswith("### 1. auth exited: "), titles


def test_a_name_kept_as_printed_is_given_to_compose_through_its_label(tmp_path: Path) -> None:
    """`immich_server` may be a `container_name:` of the service `immich-server`: compose
    would not know it, so the commands ask the engine for the container's service."""
    text = (
        "immich_redis   | 2025-08-01T10:00:00.000000000Z Ready to accept connections tcp\n"
        "immich_server  | 2025-08-01T10:00:01.000000000Z Traceback (most recent call last):\n"
        'immich_server  | 2025-08-01T10:00:01.000000000Z   File "/app/main.py", line 3, in <module>\n'
        "immich_server  | 2025-08-01T10:00:01.000000000Z ModuleNotFoundError: No module named 'vecs'\n"
        "immich_server exited with code 1\n"
    )
    md = report_md(tmp_path, text, NOW)
    label = "$(docker inspect -f '{{index .Config.Labels \"com.docker.compose.service\"}}' immich_server)"
    commands = [line for line in md.splitlines() if line.startswith("docker compose ")]
    assert commands and all("immich_server" not in c or label in c for c in commands), commands
    assert f"docker compose up -d {label}" in commands


def test_services_left_created_behind_a_failed_one_shot_service_are_reported(
    tmp_path: Path,
) -> None:
    """`up` gives up on the services that wait for a one-shot service that failed
    (`service "migrate" didn't complete successfully: exit 1`): they never started."""
    text = (
        "[+] Running 3/3\n"
        " ✔ Container shop-db-1       Created                                     0.1s\n"
        " ✔ Container shop-migrate-1  Created                                     0.1s\n"
        " ✔ Container shop-web-1      Created                                     0.1s\n"
        "Attaching to db-1, migrate-1, web-1\n"
        "db-1       | 2025-08-01 10:00:00.000 UTC [1] LOG:  database system is ready to accept connections\n"
        "migrate-1  | Traceback (most recent call last):\n"
        "migrate-1  | ValueError: no such revision\n"
        "migrate-1 exited with code 1\n"
        'service "migrate" didn\'t complete successfully: exit 1\n'
    )
    data = report_json(tmp_path, text, NOW)
    assert sorted(data["needs_attention"]) == ["migrate", "web"]
    md = report_md(tmp_path, text, NOW)
    assert "# Then start web, which never started (it waits for migrate)" in md


def test_a_clients_misconf_is_the_redis_servers_symptom(tmp_path: Path) -> None:
    """MISCONF names no host, but it is Redis's own state: the writes it refuses are a
    symptom of the service whose log shows Redis's failed save, not a second cause."""
    text = (
        "broker-1     | 1:M 01 Aug 2025 10:00:00.000 * Ready to accept connections tcp\n"
        "broker-1     | 1:M 01 Aug 2025 10:01:00.000 # Failed opening the temp RDB file"
        " temp-9.rdb (in server root dir /data) for saving: Permission denied\n"
        "broker-1     | 1:M 01 Aug 2025 10:01:00.100 # Background saving error\n"
        "webserver-1  | [2025-08-01 10:01:05,000] [ERROR] [celery] redis.exceptions.ResponseError:"
        " MISCONF Redis is configured to save RDB snapshots, but it's currently unable to"
        " persist to disk.\n"
    )
    data = report_json(tmp_path, text, NOW)
    assert [i["services"] for i in data["issues"]] == [["broker"]]
    symptoms = data["issues"][0]["symptoms"]
    assert [(y["service"], y["via"]) for y in symptoms] == [
        ("webserver", "the Redis server, broker")
    ]


def test_a_service_ps_shows_restarting_is_not_said_to_be_fine(tmp_path: Path) -> None:
    """`ps` shows `Restarting (2)` (the 2 is the exit code) while the logs hold no exit
    line: the issue's impact says it restarts, never "No service was unhealthy or restarted"."""
    text = (
        "$ docker compose ps\n"
        "NAME                     IMAGE                     COMMAND                  SERVICE      CREATED         STATUS                         PORTS\n"
        'mon-prometheus-1         prom/prometheus:v2.53.2   "/bin/prometheus --c…"   prometheus   4 minutes ago   Restarting (2) 9 seconds ago\n'
        "$ docker compose logs prometheus\n"
        'prometheus-1  | ts=2025-08-01T10:00:00.000Z caller=main.go:1 level=error msg="Error opening'
        ' query log file" file=/prometheus/queries.active err="open /prometheus/queries.active:'
        ' permission denied"\n'
    )
    md = report_md(tmp_path, text, NOW)
    assert "restarting at the end of the evidence" in md
    assert "No service was unhealthy or restarted" not in md


def test_a_health_check_logging_in_as_root_is_low_noise(tmp_path: Path) -> None:
    """`role "root" does not exist` every 30 s is a health check without -U: an issue of
    low severity, never above the real cause."""
    text = (
        "db-1   | 2025-08-01 10:00:00.000 UTC [1] LOG:  database system is ready to accept connections\n"
        'db-1   | 2025-08-01 10:00:30.000 UTC [38] FATAL:  role "root" does not exist\n'
        'db-1   | 2025-08-01 10:01:00.000 UTC [46] FATAL:  role "root" does not exist\n'
        "app-1  | 2025-08-01 10:01:05,000 ERROR Required environment variable 'API_KEY' is not set\n"
        "app-1 exited with code 1\n"
    )
    data = report_json(tmp_path, text, NOW)
    by_service = {tuple(i["services"]): i for i in data["issues"]}
    assert by_service[("db",)]["severity"] == "low"
    assert by_service[("app",)]["severity"] == "high"
    assert data["severity"] == "high"
    assert data["summary"] == "Configuration errors (app)"
    assert [i["services"] for i in data["issues"]] == [["app"], ["db"]]  # the noise last
    assert data["started_at"].startswith("2025-08-01T10:01:05")


def test_a_printed_replica_name_is_named_to_compose_as_its_service(tmp_path: Path) -> None:
    """`events_db-1` is what compose v2 prints for the service `events_db` (the container is
    `<project>-events_db-1`): the engine knows no container `events_db-1`, so the commands
    name the service, never `$(docker inspect … events_db-1)` (which would answer nothing
    and leave `docker compose up -d` recreating everything)."""
    text = (
        "events_db-1 | 2025-08-01T10:00:00.000000000Z <Error> Code: 241. DB::Exception: Memory"
        " limit (total) exceeded: would use 903.11 MiB. (MEMORY_LIMIT_EXCEEDED)\n"
        "web_app-1   | 2025-08-01T10:00:01.000000000Z started\n"
        "events_db-1 exited with code 137\n"
    )
    md = report_md(tmp_path, text, NOW)
    assert "docker inspect" not in md
    assert "docker compose up -d --force-recreate events_db" in md


def test_a_refusal_by_address_on_mosquittos_port_is_mosquittos_symptom(tmp_path: Path) -> None:
    """Mosquitto says where it listens only by its banner: its default port 1883 names it
    behind `172.18.0.2:1883`, so the refused client is its downstream."""
    text = (
        "mosquitto    | 1718541600: mosquitto version 2.0.18 starting\n"
        "mosquitto    | 1718541600: Starting in local only mode. Connections will only be"
        " possible from clients running on this machine.\n"
        "zigbee2mqtt  | [2024-06-16 12:40:06] error: \tz2m: MQTT error: connect ECONNREFUSED"
        " 172.18.0.2:1883\n"
        "zigbee2mqtt exited with code 1\n"
    )
    data = report_json(tmp_path, text, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["mosquitto"]
    assert {y["service"] for y in issue["symptoms"]} == {"zigbee2mqtt"}


def test_a_dependant_that_gave_up_is_started_again_after_the_fix(tmp_path: Path) -> None:
    """A worker that exited while its broker was down does not come back when the broker
    does: the plan starts it again after the broker's fix."""
    text = (
        "broker-1  | 2025-08-01T10:00:00.000000000Z 2025-08-01 10:00:00.000000+00:00 [error]"
        " <0.214.0> Failed to create cookie file '/var/lib/rabbitmq/.erlang.cookie': eacces\n"
        "worker-1  | 2025-08-01T10:00:05.000000000Z [2025-08-01 10:00:05,000: ERROR/MainProcess]"
        " consumer: Cannot connect to amqp://app:**@broker:5672//: [Errno 111] Connection refused.\n"
        "worker-1  | 2025-08-01T10:00:06.000000000Z giving up after 1 attempt\n"
        "worker-1 exited with code 1\n"
    )
    md = report_md(tmp_path, text, NOW)
    plan = md[md.index("Then apply") : md.index("## What happened")]
    assert "docker compose up -d --force-recreate broker\n" in plan
    assert "# Then start worker again: it exited while broker failed, and stayed down\n" in plan
    assert plan.index("--force-recreate broker") < plan.index("docker compose up -d worker\n")


def test_an_undated_cause_ranks_where_the_input_puts_it(tmp_path: Path) -> None:
    """Lines a container printed before its first dated one have no time: their cause
    comes where the input puts it among the dated ones, not after all of them."""
    text = (
        "db-1      | 2025-08-01T10:00:00.000000000Z LOG:  database system is ready\n"
        "api-1     | OSError: [Errno 28] No space left on device\n"
        "worker-1  | 2025-08-01T10:00:05.000000000Z Traceback (most recent call last):\n"
        "worker-1  | 2025-08-01T10:00:05.000000000Z ModuleNotFoundError: No module named 'celery'\n"
    )
    issues = issue_titles(report_md(tmp_path, text, NOW))
    assert len(issues) == 2, issues
    assert "No space left" in issues[0] or "disk" in issues[0].lower(), issues


def test_an_uncaught_exception_beside_a_failure_to_reach_another_service_is_its_symptom(
    tmp_path: Path,
) -> None:
    """Spring's `Application run failed` in its own record (a blank line before the
    exception), beside the same service's failure to reach Elasticsearch: one symptom of
    the search service's cause, not a second issue that asks for a code change."""
    text = (
        "search-1  | 2025-08-01T10:00:00.000000000Z ERROR: [1] bootstrap checks failed\n"
        "search-1  | 2025-08-01T10:00:00.000000000Z [1]: max virtual memory areas"
        " vm.max_map_count [65530] is too low, increase to at least [262144]\n"
        "search-1 exited with code 78\n"
        "stock-1   | 2025-08-01T10:00:09.000000000Z 2025-08-01 10:00:09.000 ERROR 1 --- [main]"
        " o.s.boot.SpringApplication : Application run failed\n"
        "stock-1   | 2025-08-01T10:00:09.000000000Z \n"
        "stock-1   | 2025-08-01T10:00:09.000000000Z org.elasticsearch.client.transport."
        "NoNodeAvailableException: None of the configured nodes are available:"
        " [{#transport#-1}{a1}{search}{172.24.0.2:9300}]\n"
        "stock-1 exited with code 1\n"
    )
    md = report_md(tmp_path, text, NOW)
    titles = issue_titles(md)
    assert len(titles) == 1 and "search" in titles[0], titles
    assert "(code change)" not in md


def test_a_healthy_database_that_rejected_a_login_is_not_restarted(tmp_path: Path) -> None:
    """One wrong password, seen from both ends: the healthy database is part of the issue,
    but it needs no attention and the plan does not recreate it. The client's refusal on
    its own loopback port (its own backend, down for the same reason) folds into it."""
    text = (
        "db-1      | 2025-08-01T10:00:01.000000000Z 2025-08-01 10:00:01.000 UTC [41] FATAL:"
        '  password authentication failed for user "shop"\n'
        "app-1     | 2025-08-01T10:00:01.500000000Z psycopg2.OperationalError: connection to"
        ' server at "db" (172.19.0.2), port 5432 failed: FATAL:  password authentication'
        ' failed for user "shop"\n'
        "app-1     | 2025-08-01T10:00:02.000000000Z router: dial tcp 127.0.0.1:9000: connect:"
        " connection refused\n"
        "$ docker compose ps\n"
        "NAME      IMAGE         COMMAND                  SERVICE   CREATED          STATUS"
        "                    PORTS\n"
        'shop-app-1   shop-app   "/start"                 app       11 minutes ago   Up 11 minutes'
        " (unhealthy)\n"
        'shop-db-1    postgres:16  "docker-entrypoint.s…"   db        11 minutes ago   Up 11 minutes'
        " (healthy)   5432/tcp\n"
    )
    md = report_md(tmp_path, text, NOW)
    now = first_screen(md)
    assert "| app | Up 11 minutes (unhealthy) |" in now
    assert "| db |" not in now
    assert "docker compose up -d --force-recreate app\n" in now
    titles = issue_titles(md)
    assert len(titles) == 1, titles


def test_a_crash_a_process_manager_saw_is_no_exit_of_the_container(tmp_path: Path) -> None:
    """nodemon says `app crashed - waiting for file changes` and the container runs on:
    the issue says the service crashed inside its container, not that it exited."""
    text = (
        "api-1  | 2025-08-01T10:00:00.000000000Z [nodemon] starting `node src/index.js`\n"
        "api-1  | 2025-08-01T10:00:01.000000000Z Error: ER_NOT_SUPPORTED_AUTH_MODE: Client does"
        " not support authentication protocol requested by server\n"
        "api-1  | 2025-08-01T10:00:01.100000000Z [nodemon] app crashed - waiting for file"
        " changes before starting...\n"
    )
    titles = issue_titles(report_md(tmp_path, text, NOW))
    assert titles and titles[0].startswith("### 1. api crashed inside its container: "), titles
    exited = text + "api-1 exited with code 1\n"
    titles = issue_titles(report_md(tmp_path, exited, NOW))
    assert titles and titles[0].startswith("### 1. api exited: "), titles


def test_a_refusal_on_loopback_where_no_service_listens_is_no_service_named_127(
    tmp_path: Path,
) -> None:
    """A broker URL left at 127.0.0.1: the rule's advice names `{host}` as a service
    (`docker compose ps 127.0.0.1`), which is no service; the advice says what loopback
    is inside a container instead."""
    text = (
        "worker-1  | 2025-08-01T10:00:00.000000000Z [2025-08-01 10:00:00,000: ERROR/MainProcess]"
        " consumer: Cannot connect to amqp://guest:**@127.0.0.1:5672//: [Errno 111] Connection"
        " refused.\n"
        "worker-1  | 2025-08-01T10:00:02.000000000Z Trying again in 2.00 seconds... (1/100)\n"
    )
    md = report_md(tmp_path, text, NOW)
    now = first_screen(md)
    assert "compose service name of the server that should answer on 5672" in now
    assert "127.0.0.1`" in now and "ps 127.0.0.1" not in md and "depends_on: 127.0.0.1" not in md
