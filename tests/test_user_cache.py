"""The user cache (`incidentlog.usercache`): compiled templates kept between runs change
no output, one folder per escaping, and a damaged or unwritable cache is no cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from incidentlog.render.report import generate_report

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
LOG = (
    "db-1   | 2025-10-31T08:00:00.000000000Z FATAL:  password authentication failed"
    ' for user "app"\n'
    "db-1 exited with code 1\n"
    "web-1  | 2025-10-31T08:00:01.000000000Z <script>alert(1)</script> connection refused\n"
)


def _reports(tmp_path: Path) -> tuple[str, str]:
    log = tmp_path / "up.log"
    log.write_text(LOG, encoding="utf-8")
    md = generate_report([str(log)], fmt="md", now=NOW)
    html = generate_report([str(log)], fmt="html", now=NOW)
    return md, html


def test_compiled_templates_are_kept_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("INCIDENTLOG_CACHE", str(cache))
    first = _reports(tmp_path)
    folders = sorted(p.name for p in cache.glob("templates-*"))
    assert folders == [
        f"templates-{jinja2.__version__}-html",
        f"templates-{jinja2.__version__}-text",
    ]
    assert all(any((cache / f).iterdir()) for f in folders)
    assert "&lt;script&gt;" in first[1] and "<script>alert" not in first[1]

    compiled = 0
    real = jinja2.Environment.compile

    def counting(self: jinja2.Environment, *args: object, **kwargs: object) -> object:
        nonlocal compiled
        compiled += 1
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(jinja2.Environment, "compile", counting)
        again = _reports(tmp_path)
    assert compiled == 0  # every template came from the cache
    assert again == first

    for entry in cache.glob("templates-*/*"):
        entry.write_bytes(entry.read_bytes()[:20])  # damaged: compiled again, same output
    assert _reports(tmp_path) == first


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("INCIDENTLOG_CACHE", str(blocked / "cache"))
    without = _reports(tmp_path)
    monkeypatch.setenv("INCIDENTLOG_CACHE", str(tmp_path / "cache"))
    assert _reports(tmp_path) == without
