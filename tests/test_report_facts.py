"""Each fact a report states, checked against the sample's own evidence (inspect, events,
ps, the logs), not against a snapshot: failing streaks, crash and restart counts, restart
policies, mounts, probe ports, excerpt labels, the Now block, and the report's length."""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incidentlog.render.report import generate_report

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
HC = "2025-08-01-health-checks"
OOM = "2025-09-14-postgres-oom"
DNS = "2025-10-03-dns-config"
INPUTS = {
    HC: ["compose.log", "events.jsonl", "inspect.json", "ps.txt"],
    OOM: ["compose.log", "events.jsonl", "inspect.json", "ps.txt"],
    DNS: ["up.log"],
}
BEFORE_LINES = 353
"""The bundled incident's Markdown report before the first-screen rework (issue 17)."""


def _report(sample_logs: Path, name: str, fmt: str = "md") -> str:
    cwd = Path.cwd()
    os.chdir(sample_logs / name)
    try:
        return generate_report(INPUTS[name], fmt=fmt, now=NOW)
    finally:
        os.chdir(cwd)


def _body(md: str) -> str:
    """The Markdown before its appendix."""
    return md.split("\n## Appendix\n")[0]


def _section(md: str, heading: str) -> str:
    return md.split(f"\n{heading}\n")[1].split("\n## ")[0]


def _issue(md: str, number: int) -> str:
    return md.split(f"\n### {number}. ")[1].split("\n### ")[0].split("\n## ")[0]


def _inspect(sample_logs: Path, name: str) -> dict[str, dict[str, Any]]:
    """inspect's containers by compose service."""
    items = json.loads((sample_logs / name / "inspect.json").read_text())
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in items}


def _events(sample_logs: Path, name: str) -> list[dict[str, Any]]:
    path = sample_logs / name / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _ps_not_healthy(sample_logs: Path, name: str) -> dict[str, str]:
    """Services whose `docker compose ps` status is not `Up … (healthy)`: their status."""
    lines = (sample_logs / name / "ps.txt").read_text().splitlines()
    header = lines[0]
    service_at, status_at = header.index("SERVICE"), header.index("STATUS")
    out = {}
    for line in lines[1:]:
        service = line[service_at:].split()[0]
        status = line[status_at:].split("   ")[0].strip()
        if "(healthy)" not in status:
            out[service] = status
    return out


@pytest.fixture(scope="module")
def hc(sample_logs: Path) -> tuple[str, dict[str, Any]]:
    return _report(sample_logs, HC), json.loads(_report(sample_logs, HC, fmt="json"))


# --------------------------------------------------------------------------- the bundled incident


def test_first_screen_names_every_service_that_needs_attention_and_the_first_command(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    md, data = hc
    first = "\n".join(md.splitlines()[:40])
    attention = _ps_not_healthy(sample_logs, HC)
    assert len(attention) == 6
    for service, status in attention.items():
        row = next(line for line in first.splitlines() if line.startswith(f"| {service} |"))
        assert status in row  # the state as `docker compose ps` printed it
    assert "\ndocker compose " in first
    assert sorted(data["needs_attention"]) == sorted(attention)
    # the report is written months after the evidence: a write-up, no update is due today
    assert "Next update" not in md and data["next_update_at"] is None
    cwd = Path.cwd()
    os.chdir(sample_logs / HC)
    try:
        same_day = generate_report(INPUTS[HC], now=datetime(2025, 8, 1, 15, 0, tzinfo=UTC))
    finally:
        os.chdir(cwd)
    assert re.search(r"\*\*Next update\*\* by 15:15 UTC:", same_day)
    os.chdir(sample_logs / HC)
    try:
        next_day = generate_report(INPUTS[HC], now=datetime(2025, 8, 2, 9, 0, tzinfo=UTC))
    finally:
        os.chdir(cwd)
    assert re.search(r"\*\*Next update\*\* by 09:15 UTC on 2025-08-02:", next_day)


def test_failing_streak_is_the_engines(sample_logs: Path, hc: tuple[str, dict[str, Any]]) -> None:
    md, data = hc
    inspect = _inspect(sample_logs, HC)
    by_name = {s["name"]: s for s in data["services"]}
    unhealthy = [s for s, c in inspect.items() if c["State"]["Health"]["Status"] == "unhealthy"]
    assert len(unhealthy) == 5
    now = _section(md, "## Now")
    for service in unhealthy:
        streak = inspect[service]["State"]["Health"]["FailingStreak"]
        assert by_name[service]["probe"]["failing_streak"] == streak
        row = next(line for line in now.splitlines() if line.startswith(f"| {service} |"))
        assert f"{streak} failed probes in a row" in row
        # 241 probes 30 s apart reach back to the first probe after the container started
        interval = inspect[service]["Config"]["Healthcheck"]["Interval"] / 1e9
        last = datetime.fromisoformat(inspect[service]["State"]["Health"]["Log"][-1]["Start"])
        started = datetime.fromisoformat(inspect[service]["State"]["StartedAt"])
        first_probe = last.timestamp() - (streak - 1) * interval
        assert abs(first_probe - (started.timestamp() + interval)) < interval
        assert "every probe since it started" in row
    assert "5 consecutive failures" not in md
    symptoms = [y for i in data["issues"] for y in i["symptoms"] if y["service"] in unhealthy]
    assert {y["count"] for y in symptoms} == {241}


def test_crashes_and_restarts_one_number_each(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    md, data = hc
    dies = Counter(
        e["Actor"]["Attributes"]["com.docker.compose.service"]
        for e in _events(sample_logs, HC)
        if e["Action"] == "die"
    )
    restart_count = _inspect(sample_logs, HC)["agent-monitor"]["RestartCount"]
    assert (dies["agent-monitor"], restart_count) == (126, 125)
    monitor = next(s for s in data["services"] if s["name"] == "agent-monitor")
    assert (monitor["exits"], monitor["restarts"]) == (126, 125)
    body = _body(md)
    assert "crashed 126 times (exit code 1)" in body
    assert "restarted 125 times" in body
    assert "126 restarts" not in md and "125 crashes" not in md and "exited 125" not in md
    assert "126 error records" not in md
    # no internal counts or rule ids in the body (they stay in JSON)
    assert not re.search(r"\bfindings?\b", body)
    for rule in {r for i in data["issues"] for r in i["rules"]}:
        assert rule not in md


def test_restart_policy_and_mounts_only_as_the_evidence_shows(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    md, data = hc
    inspect = _inspect(sample_logs, HC)
    policies = {c["HostConfig"]["RestartPolicy"]["Name"] for c in inspect.values()}
    assert policies == {"unless-stopped"}
    assert "restart: always" not in md
    assert "`restart: unless-stopped`" in md
    assert all(c["Mounts"] == [] for c in inspect.values())
    assert "mounted from the host" not in md and "docker compose restart" not in md
    assert {s["restart_policy"] for s in data["services"]} == {"unless-stopped"}
    assert all(s["mounts"] == [] for s in data["services"])


def test_probe_fixes_run_in_their_images(sample_logs: Path, hc: tuple[str, dict[str, Any]]) -> None:
    md, data = hc
    assert "PORT" not in md
    inspect = _inspect(sample_logs, HC)
    tunnel = inspect["cloudflare-tunnel"]
    port = re.search(r"localhost:(\d+)", " ".join(tunnel["Config"]["Healthcheck"]["Test"]))
    assert port is not None and port.group(1) == "2000"
    now = _section(md, "## Now")
    fix = next(line for line in now.splitlines() if "**cloudflare-tunnel**" in line)
    assert '"cloudflared", "tunnel", "--metrics", "localhost:2000", "ready"' in fix
    assert '"CMD"' in fix  # exec form: the image has no shell
    # the front ends' probes: their shell is BusyBox's (its wording), which ships wget
    for service in ("frontend", "staff-frontend"):
        output = inspect[service]["State"]["Health"]["Log"][-1]["Output"].strip()
        assert re.fullmatch(r"/bin/sh: curl: not found", output)
        url = re.search(r"http://\S+", inspect[service]["Config"]["Healthcheck"]["Test"][1])
        assert url is not None
        assert f"wget -q --spider {url.group(0)} || exit 1" in now
    issue = next(i for i in data["issues"] if i["fields"].get("binary") == "curl")
    assert issue["fix_kind"] == "change-config"


def test_asyncio_fix_fits_the_frames(sample_logs: Path, hc: tuple[str, dict[str, Any]]) -> None:
    _md, data = hc
    log = (sample_logs / HC / "compose.log").read_text()
    # registry.py: sync_forever calls self.refresh() without await; refresh calls asyncio.run
    assert re.search(r"line 35, in sync_forever\n[^\n]*\|[^\n]*Z {5}self\.refresh\(\)", log)
    registry = next(i for i in data["issues"] if "agent-discovery" in i["services"])
    assert "already async" not in registry["fix"]
    assert "`async def refresh`" in registry["fix"]
    assert "`await self.refresh()`" in registry["fix"]
    assert "`agents = await self._fetch_agents()`" in registry["fix"]
    # start_agent_monitor.py: main awaits uvicorn.run( -> main is a coroutine
    assert re.search(r"line 42, in main\n[^\n]*\|[^\n]*Z {5}await uvicorn\.run\(", log)
    monitor = next(i for i in data["issues"] if i["services"] == ["agent-monitor"])
    assert "`await server.serve()`" in monitor["fix"] and "in `main`" in monitor["fix"]


def test_evidence_is_labelled_by_what_it_is(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    md, data = hc
    inspect = _inspect(sample_logs, HC)
    for issue in data["issues"]:
        for ex in issue["evidence"]:
            stamps = [line["ts"] for line in ex["lines"] if line["ts"]]
            if ex["source"] == "probe":
                kept = [p["Start"][:23] for p in inspect[ex["service"]]["State"]["Health"]["Log"]]
                assert [s[:23] for s in stamps] == kept
                assert ex["label"].startswith("the last 5 probe results docker inspect kept")
                assert "first occurrence" not in ex["label"]
            else:
                assert ex["label"].startswith("first occurrence in the logs")
    assert "first occurrence" not in "".join(
        line for line in md.splitlines() if "docker inspect kept" in line
    )


def test_impact_counts_only_what_the_cause_explains(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    _md, data = hc
    log = (sample_logs / HC / "compose.log").read_text()
    assert "no recent network activity" in log  # cloudflared's own, self-healing errors
    tunnel = next(i for i in data["issues"] if i["services"] == ["cloudflare-tunnel"])
    assert "error" not in tunnel["impact"] and "was logged" not in tunnel["impact"]
    registry = next(i for i in data["issues"] if "agent-discovery" in i["services"])
    syncs = log.count("agent_discovery.registry - ERROR - Agent registry sync failed")
    assert f"the error was logged {syncs} times" in registry["impact"]


def test_users_and_detection(sample_logs: Path, hc: tuple[str, dict[str, Any]]) -> None:
    md, data = hc
    log = (sample_logs / HC / "compose.log").read_text()
    front = next(i for i in data["issues"] if "frontend" in i["services"])
    for service in ("frontend", "staff-frontend"):
        ready = re.findall(rf"^{service}-1 +\| \S+ +(✓ Ready in \d+ms)$", log, re.M)
        assert ready and f"`{ready[-1]}`" in front["user_impact"]
    assert "only the probe fails" in front["user_impact"]
    probes = len(re.findall(r'^agent-discovery-1 .*"GET /health HTTP/1.1" 503', log, re.M))
    registry = next(i for i in data["issues"] if "agent-discovery" in i["services"])
    assert (
        f"agent-discovery: its log shows {probes} probe requests answered 503"
        in (registry["user_impact"])
    )
    # detection: for the first root cause, and per service from its start to `unhealthy`
    assert data["detection_delay_seconds"] < 1
    events = _events(sample_logs, HC)
    started = {
        e["Actor"]["Attributes"]["com.docker.compose.service"]: e["timeNano"]
        for e in reversed(events)
        if e["Action"] == "start"
    }
    for e in events:
        if e["Action"] == "health_status: unhealthy":
            service = e["Actor"]["Attributes"]["com.docker.compose.service"]
            took = (e["timeNano"] - started[service]) / 1e9
            state = next(s for s in data["services"] if s["name"] == service)
            assert state["unhealthy_after_seconds"] == pytest.approx(took, abs=0.01)
    summary = _section(md, "## What happened")
    assert "flagged 5 services 90 s after they started (3 failed probes 30 s apart" in summary
    assert "`start_period`" in _body(md)


def test_report_length_and_layout(hc: tuple[str, dict[str, Any]]) -> None:
    md, _ = hc
    body = _body(md)
    assert len(body.splitlines()) <= BEFORE_LINES // 2
    assert len(re.findall(r"^## Timeline$", md, re.M)) == 1 and "mermaid" not in body
    # the appendix keeps the same bars as Mermaid source (GitHub draws it)
    mermaid = md.split("```mermaid\n")[1].split("```")[0]
    assert "crash loop (exited 126 times) :crit, 2025-08-01 12:30:14" in mermaid
    assert "grafana" in mermaid and "restarts" not in mermaid
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings[:2] == ["Now", "What happened"] and headings[-1] == "Appendix"
    assert "Files to look at" not in "".join(_section(md, "## Critical issues"))
    appendix = md.split("\n## Appendix\n")[1]
    stats = _section("\n" + appendix, "### Per-service statistics").split("### ")[0]
    assert "| consul |" not in stats  # nothing to count: left out
    assert "| agent-monitor | Restarting (1) 34 seconds ago | — | 126 | 125 | 126 |" in stats
    assert 'File "/usr/local/lib/python3.11/site-packages/uvicorn/server.py"' in appendix


def test_html_folds_the_appendix(sample_logs: Path) -> None:
    page = _report(sample_logs, HC, fmt="html")
    sections = re.findall(r"<details>\s*<summary>([^<]+)</summary>", page)
    assert sections == [
        "The timeline as a table",  # under its drawing
        "Per-service statistics",
        "Evidence in full",
        "Monitoring thresholds",
    ]
    main = page.split("<h2>Appendix</h2>")[0]
    assert main.count("<details>") == 1 and "docker compose up -d" in main
    assert "mermaid" not in page.lower()  # the page draws the timeline itself


def test_json_keeps_every_key_of_schema_version_1(hc: tuple[str, dict[str, Any]]) -> None:
    _, data = hc
    top = {
        "schema_version", "generated_at", "found", "project", "redacted", "inputs",
        "window_start", "window_end", "started_at", "first_unhealthy_at",
        "detection_delay_seconds", "ended_at", "ongoing", "duration_seconds", "summary",
        "severity", "services_total", "affected", "unhealthy", "crash_looping", "healthy",
        "needs_attention", "recovered", "transient", "peak_failing", "peak_at", "issues",
        "timeline", "gantt", "services", "thresholds", "action_plan", "files",
        "improvements", "notes",
    }  # fmt: skip
    assert top <= set(data)
    issue = {
        "id", "rank", "category", "severity", "title", "services", "containers", "problem",
        "root_cause", "fix", "fix_kind", "impact", "first_seen", "last_seen", "count", "rules",
        "fields", "ranking", "resolved_at", "ongoing", "symptoms", "evidence", "files",
    }  # fmt: skip
    assert all(issue <= set(i) for i in data["issues"])
    service = {
        "name", "state", "state_text", "needs_attention", "reason", "first_unhealthy",
        "recovered_at", "unhealthy_seconds", "restarts", "errors", "findings", "issues",
        "transient",
    }  # fmt: skip
    assert all(service <= set(s) for s in data["services"])
    excerpt = {"service", "container", "rule", "source", "lines"}
    assert all(excerpt <= set(e) for i in data["issues"] for e in i["evidence"])
    assert data["gantt"] and data["thresholds"]


# --------------------------------------------------------------------------- the other samples


def test_oom_facts(sample_logs: Path) -> None:
    md = _report(sample_logs, OOM)
    data = json.loads(_report(sample_logs, OOM, fmt="json"))
    events = _events(sample_logs, OOM)
    oom_kills = sum(e["Action"] == "oom" for e in events)
    deaths = [e["Actor"]["Attributes"]["exitCode"] for e in events if e["Action"] == "die"]
    db = _inspect(sample_logs, OOM)["db"]
    assert (oom_kills, deaths, db["RestartCount"]) == (3, ["137", "137"], 2)
    impact = data["issues"][0]["impact"]
    assert (
        "OOM-killed 3 times, 2 of them took the container down (exit code 137: killed by SIGKILL)"
        in impact
    )
    assert "restarted 2 times by its restart policy `always`" in impact
    assert db["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert db["HostConfig"]["Memory"] == 1 << 30
    assert "1 GiB now" in data["issues"][0]["fix"]
    now = _section(md, "## Now")
    assert "Nothing needs attention now" in now and not _ps_not_healthy_v1(sample_logs)
    table = _issue(md, 1).split("| downstream |")[1].split("\n\n")[0]
    rows = {r.split("|")[1].strip() for r in table.splitlines()[2:]}
    assert rows == {"api", "web", "worker"}  # db's own symptoms are not a table row


def _ps_not_healthy_v1(sample_logs: Path) -> list[str]:
    """docker-compose v1 `ps`: rows whose State is not `Up`."""
    rows = (sample_logs / OOM / "ps.txt").read_text().splitlines()[2:]
    return [r for r in rows if r.strip() and "   Up" not in r]


def test_dns_facts(sample_logs: Path) -> None:
    md = _report(sample_logs, DNS)
    data = json.loads(_report(sample_logs, DNS, fmt="json"))
    log = re.sub(r"\x1b\[[0-9;]*[mK]", "", (sample_logs / DNS / "up.log").read_text())
    for service in ("worker", "notifier"):
        assert f"{service}-1 exited with code 1" in log
    assert "container shop-api-1 is unhealthy" in log
    assert " Container shop-postgres-1  Healthy" in log
    assert sorted(data["needs_attention"]) == ["api", "notifier", "web", "worker"]
    assert sorted(data["healthy"]) == ["postgres", "redis"]
    states = {s["name"]: s["state"] for s in data["services"]}
    assert states["worker"] == states["notifier"] == "exited" and states["api"] == "unhealthy"
    now = _section(md, "## Now")
    assert "| worker | exited with code 1 |" in now
    assert "docker compose up -d --force-recreate api notifier worker\n" in now
    assert "docker compose up -d web\n" in now  # it never started: it waits for api
    assert "Crash-loop detection" not in md  # nothing was restarted


def test_no_incident_facts(sample_logs: Path) -> None:
    cwd = Path.cwd()
    os.chdir(sample_logs / "no-incident")
    try:
        md = generate_report(["compose.log", "events.jsonl", "ps.txt"], now=NOW)
    finally:
        os.chdir(cwd)
    assert md.startswith("# No incident found")
    stats = md.split("### Per-service statistics")[1]
    assert "| db | Up 19 minutes (healthy) | — | 1 | 1 | 0 |" in stats
    assert "| app |" not in stats


def _policies(sample_logs: Path, name: str) -> set[str]:
    """The restart policies the evidence shows: inspect's, else the compose file's (`no` when
    a service sets none, as compose does)."""
    folder = sample_logs / name
    if (folder / "inspect.json").is_file():
        items = json.loads((folder / "inspect.json").read_text())
        return {c["HostConfig"]["RestartPolicy"]["Name"] for c in items}
    text = (folder / "docker-compose.yml").read_text()
    return set(re.findall(r"^\s+restart: (\S+)", text, re.M)) | {"no"}


@pytest.mark.parametrize("name", [HC, OOM, DNS])
def test_every_sample_keeps_the_first_screen_and_states_only_shown_facts(
    sample_logs: Path, name: str
) -> None:
    md = _report(sample_logs, name)
    data = json.loads(_report(sample_logs, name, fmt="json"))
    first = md.splitlines()[:40]
    for service in data["needs_attention"]:
        assert any(line.startswith(f"| {service} |") for line in first), service
    assert any(line.startswith(f"{data['compose_cli']} ") for line in first)
    body = _body(md)
    assert not re.search(r"\bfindings?\b", body)
    for rule in {r for i in data["issues"] for r in i["rules"]}:
        assert rule not in md
    assert "PORT" not in md and "<service>" not in md
    shown = _policies(sample_logs, name)
    stated = re.findall(r"restart policy `([a-z-]+)`|ran under `restart: ([a-z-]+)`", md)
    for policy in {p for pair in stated for p in pair if p}:
        assert policy in shown, policy
    # a symptom table only ties other services to the cause
    for issue in data["issues"]:
        section = _issue(md, issue["id"])
        if "| downstream |" in section:
            rows = section.split("| downstream |")[1].split("\n\n")[0].splitlines()[2:]
            assert not {r.split("|")[1].strip() for r in rows} & set(issue["services"])


def test_recovered_on_their_own_only_names_services_that_failed(
    sample_logs: Path, hc: tuple[str, dict[str, Any]]
) -> None:
    """grafana was unhealthy for 20 s; agent-pool only logged a WARNING retry to redis at
    start-up and connected 0.2 s later: not a failure, not listed."""
    md, data = hc
    log = (sample_logs / HC / "compose.log").read_text()
    pool = [line for line in log.splitlines() if line.startswith("agent-pool-1 ")]
    assert any("Redis not ready, retrying" in line for line in pool)
    assert not any(" - ERROR - " in line for line in pool)
    assert data["transient"] == ["grafana"]
    row = next(line for line in md.splitlines() if line.startswith("| **Recovered on"))
    assert "grafana, unhealthy from 12:30:42 to 12:31:02 (20 s)" in row
    assert "agent-pool" not in row
    events = [e for e in _events(sample_logs, HC) if "grafana" in e["Actor"]["Attributes"]["name"]]
    health = [e["Action"] for e in events if e["Action"].startswith("health_status")]
    assert health == ["health_status: unhealthy", "health_status: healthy"]


def _html_text(page: str) -> str:
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html.unescape(text).split())


@pytest.mark.parametrize("name", [HC, OOM, DNS])
def test_markdown_html_and_json_state_the_same_numbers(sample_logs: Path, name: str) -> None:
    md = _report(sample_logs, name)
    page = _html_text(_report(sample_logs, name, fmt="html"))
    data = json.loads(_report(sample_logs, name, fmt="json"))
    plain = " ".join(md.replace("**", "").replace("\\", "").replace("|", " ").split())
    total, affected = data["services_total"], len(data["affected"])
    facts = [f"Affected {affected} of {total} services"]
    if data["needs_attention"]:
        n = len(data["needs_attention"])
        facts.append(f"{n} of {total} services need{'s' if n == 1 else ''} attention")
    for s in data["services"]:
        if s["exits"] > 1:  # a crash loop, or OOM kills that took the container down
            oom = f"{s['exits']} of them took the container down"
            facts.append(oom if oom in plain else f"crashed {s['exits']} times")
        if s["restarts"] and s["restart_policy"]:
            facts.append(f"restarted {s['restarts']} times by its restart policy")
        streak = (s.get("probe") or {}).get("failing_streak")
        if s["needs_attention"] and streak:
            facts.append(f"{streak} failed probes in a row")
    for fact in facts:
        assert fact in plain, fact
        assert fact in page, fact
    # the statistics table holds the JSON's counts
    for s in data["services"]:
        if s["exits"] or s["restarts"] or s["errors"]:
            cells = f"| {s['exits']} | {s['restarts']} | {s['errors']} |"
            row = next(
                line
                for line in md.splitlines()
                if line.startswith(f"| {s['name']} |") and line.endswith(cells)
            )
            assert row, s["name"]
