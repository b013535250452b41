"""Reports of a log text written to a temporary file, as a user would run them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentlog.render.report import generate_report


def report_md(tmp_path: Path, text: str, now: datetime) -> str:
    """The Markdown report of `text` read as the file `up.log`."""
    log = tmp_path / "up.log"
    log.write_text(text, encoding="utf-8")
    return generate_report([str(log)], fmt="md", now=now)


def report_json(tmp_path: Path, text: str, now: datetime) -> dict[str, Any]:
    """The JSON report of `text` read as the file `up.log`."""
    log = tmp_path / "up.log"
    log.write_text(text, encoding="utf-8")
    data: dict[str, Any] = json.loads(generate_report([str(log)], fmt="json", now=now))
    return data


def issue_titles(md: str) -> list[str]:
    """The numbered issue headings of a Markdown report (`### 1. api exited: …`)."""
    return [line for line in md.splitlines() if re.match(r"### \d+\. ", line)]


def first_screen(md: str) -> str:
    """The report's first screen: everything before "What happened" (the Now section)."""
    return md[: md.index("## What happened")]
