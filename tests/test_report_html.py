"""The HTML report opened in a real browser (headless Chromium): the rendered page states
the report's facts, and script text from a log line stays text (the page title is ours)."""

from __future__ import annotations

import base64
import hashlib
import html as htmlmod
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentlog.render.report import generate_report

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if path:
        return path
    reason = "headless Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI needs {reason}", pytrace=False)
    pytest.skip(reason)


def _dump_dom(page: Path, profile: Path) -> str:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _text(dom: str) -> str:
    """Visible text, roughly: tags dropped, entities of interest decoded, spaces collapsed."""
    body = re.sub(r"<style.*?</style>", " ", dom, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


@pytest.mark.slow
def test_seed_report_renders_in_chromium(sample_logs: Path, tmp_path: Path) -> None:
    folder = sample_logs / "2025-08-01-health-checks"
    inputs = [str(folder / n) for n in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
    page = tmp_path / "report.html"
    page.write_text(generate_report(inputs, fmt="html", now=NOW), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    assert "<title>Incident report: mcp — 2025-08-01</title>" in dom
    text = _text(dom)
    assert "6 of 24 services need attention" in text
    assert "Started 2025-08-01 12:30:14 UTC" in text
    assert "docker compose up -d --force-recreate cloudflare-tunnel frontend staff-frontend" in text
    assert '"cloudflared", "tunnel", "--metrics", "localhost:2000", "ready"' in text
    assert "scripts/start_agent_monitor.py:42" in text
    assert "await server.serve()" in text
    assert "Healthy at the end 18:" in text
    assert dom.count("<table>") == 5
    assert dom.count("<details>") == 4  # the timeline's table under its drawing, the appendix
    assert "Mermaid" not in text  # the page draws the timeline itself


# Runs in Chromium after the page has loaded: where the timeline's SVG and its bars are
# laid out, their fill, and whether each bar is what the browser shows at its centre.
PROBE = """
const svg = document.querySelector("figure.timeline svg");
const box = svg.getBoundingClientRect();
const bars = [...svg.querySelectorAll("rect.tl-bar")].map((bar) => {
  bar.scrollIntoView({block: "center", inline: "center"});
  const r = bar.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return {title: bar.querySelector("title").textContent, width: r.width, height: r.height,
          fill: getComputedStyle(bar).fill, shown: hit === bar};
});
document.body.setAttribute("data-probe", JSON.stringify({
  ns: svg.namespaceURI, width: box.width, height: box.height,
  display: getComputedStyle(svg).display, visibility: getComputedStyle(svg).visibility,
  ticks: [...svg.querySelectorAll("text")].map((t) => t.firstChild.nodeValue), bars: bars}));
"""


def _with_probe(page: str) -> str:
    """The page with PROBE allowed by its hash: the rest of its Content-Security-Policy stays."""
    digest = base64.b64encode(hashlib.sha256(PROBE.encode()).digest()).decode()
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert csp in page
    page = page.replace(csp, f"{csp}; script-src 'sha256-{digest}'")
    return page.replace("</body>", f"<script>{PROBE}</script>\n</body>")


@pytest.mark.slow
def test_timeline_is_an_svg_chromium_shows(sample_logs: Path, tmp_path: Path) -> None:
    folder = sample_logs / "2025-08-01-health-checks"
    inputs = [str(folder / n) for n in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
    html = generate_report(inputs, fmt="html", now=NOW)
    assert "<script" not in html  # the report itself has none; only this test adds one
    page = tmp_path / "report.html"
    page.write_text(_with_probe(html), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    found = re.search(r'data-probe="([^"]+)"', dom)
    assert found, "the probe did not run"
    probe = json.loads(htmlmod.unescape(found.group(1)))
    assert probe["ns"] == "http://www.w3.org/2000/svg"  # parsed as SVG, not shown as text
    assert probe["width"] > 500 and probe["height"] > 150
    assert (probe["display"], probe["visibility"]) == ("block", "visible")
    bars = {b["title"].split(":")[0]: b for b in probe["bars"]}
    data = json.loads(generate_report(inputs, fmt="json", now=NOW))
    assert set(bars) == {g["section"] for g in data["gantt"] if g["tag"] != "milestone"}
    for service, bar in bars.items():
        assert bar["shown"], service  # nothing covers it
        assert bar["width"] >= 2 and bar["height"] >= 10, service
        assert bar["fill"] not in ("none", "rgba(0, 0, 0, 0)"), service
    # the two-hour bars are long, grafana's 20 s is a sliver
    assert bars["frontend"]["width"] > 20 * bars["grafana"]["width"]
    assert bars["frontend"]["fill"] != bars["grafana"]["fill"]  # failing vs recovered
    assert {"13:00", "13:30", "14:00", "14:30", "#1", "#2, #3, #4"} <= set(probe["ticks"])


@pytest.mark.slow
def test_script_in_a_log_line_does_not_run(tmp_path: Path) -> None:
    log = tmp_path / "compose.log"
    script = "<script>document.title='PWNED';document.body.dataset.pwned='1'</script>"
    log.write_text(
        f"web-1  | 2025-08-01T12:00:00.000000000Z INFO hello {script}\n"
        "web-1  | 2025-08-01T12:00:01.000000000Z Traceback (most recent call last):\n"
        'web-1  | 2025-08-01T12:00:01.000000000Z   File "/app/main.py", line 9, in <module>\n'
        f"web-1  | 2025-08-01T12:00:01.000000000Z     asyncio.run(main())  # {script}\n"
        "web-1  | 2025-08-01T12:00:01.000000000Z RuntimeError: asyncio.run() cannot be called"
        " from a running event loop\n"
    )
    page = tmp_path / "report.html"
    page.write_text(generate_report([str(log)], fmt="html", now=NOW), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    assert "PWNED" not in dom.split("</title>")[0]
    assert "data-pwned" not in dom
    assert "document.title='PWNED'" in _text(dom)  # shown, as text
