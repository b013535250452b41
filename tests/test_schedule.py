"""Scheduled digests while collecting: boundaries, files, and the Slack-compatible webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from incidentlog.errors import RuleError
from incidentlog.ingest import ingest_into_store
from incidentlog.live.schedule import DigestSchedule, UsageError, floor_time

HOUR = timedelta(hours=1)


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
    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Hook.received = []
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


def test_changed_digest_is_posted_as_slack_text(
    store: Path, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    schedule = DigestSchedule(store=store, webhook=url)
    schedule.last_boundary = datetime(2025, 8, 1, 13, tzinfo=UTC)
    schedule.tick(datetime(2025, 8, 1, 14, 0, 5, tzinfo=UTC))
    assert len(received) == 1
    assert set(received[0]) == {"text"}
    assert "api" in received[0]["text"]


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
