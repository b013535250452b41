"""Scheduled digests while collecting: boundaries, files, and the Slack-compatible webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from incidentlog.errors import RuleError
from incidentlog.ingest import ingest_into_store
from incidentlog.live.schedule import DigestSchedule, UsageError, floor_time

HOUR = timedelta(hours=1)


def assert_slack_limits(message: dict[str, Any]) -> None:
    """A Block Kit message within Slack's documented limits."""
    assert isinstance(message["text"], str) and 0 < len(message["text"]) <= 3000
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        assert block["type"] in ("header", "section", "context")
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
        else:
            assert 0 < len(block["elements"]) <= 10


@pytest.fixture
def store(tmp_path: Path) -> Path:
    log = tmp_path / "compose.log"
    log.write_text(
        "api-1  | 2025-08-01T13:05:00.000000000Z ERROR: boom one\n"
        "api-1  | 2025-08-01T13:10:00.000000000Z ERROR: boom two\n"
        "web-1  | 2025-08-01T13:20:00.000000000Z INFO: fine\n"
    )
    path = tmp_path / "store"
    ingest_into_store([log], store=path)
    return path


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    busy: ClassVar[int] = 0
    """Answer this many posts with 429 and `Retry-After: 1` first (as Slack does)."""

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        if type(self).busy:
            type(self).busy -= 1
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
            return
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Hook.received = []
    _Hook.busy = 0
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", _Hook.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_floor_time_aligns_to_the_interval() -> None:
    moment = datetime(2025, 8, 1, 13, 47, 12, tzinfo=UTC)
    assert floor_time(moment, HOUR) == datetime(2025, 8, 1, 13, tzinfo=UTC)
    assert floor_time(moment, timedelta(minutes=15)) == datetime(2025, 8, 1, 13, 45, tzinfo=UTC)


def test_digest_written_once_per_boundary(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    schedule = DigestSchedule(store=store, directory=out)
    assert schedule.tick(datetime(2025, 8, 1, 13, 30, tzinfo=UTC)) is None  # started mid-hour
    assert schedule.tick(datetime(2025, 8, 1, 13, 59, tzinfo=UTC)) is None
    path = schedule.tick(datetime(2025, 8, 1, 14, 0, 1, tzinfo=UTC))
    assert path == out / "digest-20250801T1300Z.md"
    text = path.read_text()
    assert "2025-08-01 13:00" in text
    assert "api" in text
    assert schedule.tick(datetime(2025, 8, 1, 14, 30, tzinfo=UTC)) is None  # same interval
    assert sorted(p.name for p in out.iterdir()) == ["digest-20250801T1300Z.md"]


def test_changed_digest_is_posted_as_slack_blocks(
    store: Path, webhook: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = webhook
    schedule = DigestSchedule(store=store, webhook=url, directory=tmp_path / "d")
    schedule.last_boundary = datetime(2025, 8, 1, 13, tzinfo=UTC)
    path = schedule.tick(datetime(2025, 8, 1, 14, 0, 5, tzinfo=UTC))
    assert len(received) == 1
    message = received[0]
    assert_slack_limits(message)
    text = json.dumps(message)
    # (the store's first hour: no change against an hour before the history is claimed)
    assert "`api` 2 errors" in text and "(+2)" not in text
    assert f"Full digest: {path}" in text
    assert "|---|" not in text and "**" not in text  # no Markdown tables or bold


def test_failed_post_warns_and_goes_on(store: Path, tmp_path: Path) -> None:
    warnings: list[str] = []
    schedule = DigestSchedule(
        store=store,
        directory=tmp_path / "d",
        webhook="http://127.0.0.1:9/unreachable",
        warn=warnings.append,
    )
    schedule.last_boundary = datetime(2025, 8, 1, 13, tzinfo=UTC)
    path = schedule.tick(datetime(2025, 8, 1, 14, 0, 5, tzinfo=UTC))
    assert path is not None and path.exists()
    assert len(warnings) == 1 and "not posted" in warnings[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": timedelta(seconds=10), "directory": Path("d")}, "at least 1m"),
        ({}, "needs --digest-dir or --webhook"),
        ({"webhook": "ftp://x"}, "not an http"),
    ],
)
def test_invalid_schedules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DigestSchedule(store=Path("s"), **kwargs)  # type: ignore[arg-type]


BOOM_PACK = """
[pack]
name = "ops"

[[rules]]
id = "ops.boom"
category = "config-error"
severity = "high"
any = ["boom"]
patterns = ['ERROR: boom (?P<what>\\w+)']
title = "boom {what} in {service}"
remediation = "look at {service}"
fix = "investigate"
"""


def test_scheduled_digest_uses_extra_rule_packs(store: Path, tmp_path: Path) -> None:
    """`collect --digest-every` with `--rules`: the scheduled digest detects with the packs."""
    pack = tmp_path / "ops.toml"
    pack.write_text(BOOM_PACK, encoding="utf-8")
    texts = {}
    for name, rules in (("builtin", ()), ("extra", (pack,))):
        schedule = DigestSchedule(store=store, directory=tmp_path / name, rule_paths=rules)
        schedule.last_boundary = datetime(2025, 8, 1, 13, tzinfo=UTC)
        path = schedule.tick(datetime(2025, 8, 1, 14, 0, 5, tzinfo=UTC))
        assert path is not None
        texts[name] = path.read_text(encoding="utf-8")
    assert "ops.boom" not in texts["builtin"]
    assert "`ops.boom`" in texts["extra"] and "boom one in api" in texts["extra"]


def test_a_bad_rule_pack_fails_when_the_schedule_is_made(tmp_path: Path) -> None:
    """Not at the first boundary, an hour into collecting."""
    pack = tmp_path / "bad.toml"
    pack.write_text('[pack]\nname = "bad"\n\n[[rules]]\nid = "bad.one"\n', encoding="utf-8")
    with pytest.raises(RuleError, match=r"bad\.one"):
        DigestSchedule(store=tmp_path / "s", directory=tmp_path / "d", rule_paths=[pack])


def test_a_429_is_retried_after_retry_after(
    store: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    _Hook.busy = 1
    schedule = DigestSchedule(store=store, webhook=url)
    schedule.last_boundary = datetime(2025, 8, 1, 13, tzinfo=UTC)
    schedule.tick(datetime(2025, 8, 1, 14, 0, 5, tzinfo=UTC))
    assert len(received) == 1 and _Hook.busy == 0


def test_a_big_stack_stays_within_slack_limits(tmp_path: Path) -> None:
    """60 services with errors and hostile names: limits kept, names escaped."""
    from incidentlog.digest import Period, build_digest
    from incidentlog.render.slack import slack_payload

    log = tmp_path / "compose.log"
    log.write_text(
        "".join(f"svc{i:02d}-1  | 2025-08-01T13:0{i % 10}:00Z ERROR boom {i}\n" for i in range(59)),
        encoding="utf-8",
    )
    evil = tmp_path / "evil.log"
    evil.write_text("2025-08-01T13:30:00Z ERROR boom\n", encoding="utf-8")
    store = tmp_path / "store"
    ingest_into_store([log], store=store)
    ingest_into_store([evil], store=store, service="evil<!channel>", fmt="raw")
    hour = Period(datetime(2025, 8, 1, 13, tzinfo=UTC), datetime(2025, 8, 1, 14, tzinfo=UTC))
    digest = build_digest(hour, store=store)
    message = slack_payload(digest)
    assert_slack_limits(message)
    text = json.dumps(message)
    assert "and 45 more" in text
    assert "<!channel>" not in text


def test_digest_command_posts_with_the_url_from_the_environment(
    store: Path, webhook: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from incidentlog.cli import app

    url, received = webhook
    monkeypatch.setenv("INCIDENTLOG_WEBHOOK_URL", url)
    args = ["digest", "--store", str(store), "--hour", "2025-08-01T13"]
    result = CliRunner().invoke(app, [*args, "--webhook-format", "json"])
    assert result.exit_code == 0, result.output
    assert received[-1]["period"]["start"] == "2025-08-01T13:00:00Z"
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "blocks" in received[-1]
    monkeypatch.setenv("INCIDENTLOG_WEBHOOK_URL", "http://127.0.0.1:9/hooks/T000/SECRET")
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1
    assert failed.stderr.startswith("Error: --webhook http://127.0.0.1:9/…: not posted")
    assert "SECRET" not in failed.stderr
