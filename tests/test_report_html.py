"""The HTML report opened in a real browser (headless Chromium): the rendered page states
the report's facts, and script text from a log line stays text (the page title is ours)."""

from __future__ import annotations

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
    assert "docker compose up -d cloudflare-tunnel frontend staff-frontend" in text
    assert '"cloudflared", "tunnel", "--metrics", "localhost:2000", "ready"' in text
    assert "scripts/start_agent_monitor.py:42" in text
    assert "await server.serve()" in text
    assert "Healthy at the end 18:" in text
    assert dom.count("<table>") == 5
    assert dom.count("<details>") == 3  # the appendix, folded


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
