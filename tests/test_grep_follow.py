"""`grep --tail N` and `grep -f/--follow`, with a real writer adding store files meanwhile.

The follow tests run `incidentlog grep -f` as its own process while this
process ingests new files into the store (and compacts it underneath), the
way `collect` does; what the follower prints is checked record by record:
every new match once, none missed, none repeated after compaction, and a
clean exit on Ctrl-C (SIGINT) and on a closed pipe.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.follow import follow_matches
from incidentlog.ingest import ingest_into_store
from incidentlog.search import GrepQuery
from incidentlog.sources import Request
from incidentlog.store import Store

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 120
"""Seconds before a test that waits for the follower gives up (a hang, not a speed check)."""


def batch_text(batch: int, day: int = 1) -> str:
    """Five records of `web` and `db`, two of them with the word `needle`, all distinct."""
    lines = []
    for i in range(5):
        word = "needle" if i in (1, 2) else "hay"
        service = "web" if i % 2 else "db"
        stamp = f"2025-08-{day:02d}T10:{batch:02d}:{i:02d}.000000000Z"
        lines.append(f"{service}-1  | {stamp} batch {batch} line {i} {word}\n")
    return "".join(lines)


def write_batch(store: Path, tmp: Path, batch: int, day: int = 1) -> None:
    """Ingest one batch into the store: the store's own writer, files renamed into place."""
    path = tmp / f"batch-{batch}.log"
    path.write_text(batch_text(batch, day), encoding="utf-8")
    ingest_into_store([path], store=store)


def needles(batch: int) -> set[str]:
    return {f"batch {batch} line {i} needle" for i in (1, 2)}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


class Follower:
    """`incidentlog grep -f ... --format jsonl` as a process; its lines arrive on a queue."""

    def __init__(self, store: Path, *args: str, reader: bool = True) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "incidentlog", "grep", "-f", "needle"]
        self.process = subprocess.Popen(
            [*command, "--store", str(store), "--format", "jsonl", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        if reader:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def take(self, count: int) -> list[dict[str, object]]:
        return [json.loads(self.lines.get(timeout=HANG_GUARD)) for _ in range(count)]

    def close(self) -> None:
        """Kill it if still running; close its pipes."""
        self.process.kill()
        self.process.wait(timeout=HANG_GUARD)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=HANG_GUARD)
        return self.process.returncode, err.decode()


def test_follow_prints_every_new_match_once_while_the_store_grows(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)
    follower = Follower(store, "--tail", "1")
    try:
        first = follower.take(1)  # --tail 1: the last match already stored, then follow
        assert [r["message"] for r in first] == ["batch 0 line 2 needle"]

        def writer() -> None:
            for batch in range(1, 4):
                write_batch(store, tmp_path, batch)
            write_batch(store, tmp_path, 1)  # again: the store adds nothing
            Store.open(store).compact()  # one merged file holds everything shown
            write_batch(store, tmp_path, 4, day=2)  # a new day partition

        thread = threading.Thread(target=writer)
        thread.start()
        landed = follower.take(8)
        thread.join(timeout=HANG_GUARD)
        write_batch(store, tmp_path, 5)  # lands after the compacted file was listed
        landed += follower.take(2)
        code, err = follower.stop()
    finally:
        follower.close()
    messages = [str(r["message"]) for r in landed]
    assert len(messages) == len(set(messages)), "a record was printed twice"
    assert set(messages) == set().union(*(needles(b) for b in range(1, 6)))
    assert follower.lines.empty(), "records printed again after compaction"
    assert code == 130, err
    assert "Traceback" not in err and "Error" not in err


def test_follow_ends_quietly_when_the_reader_goes_away(tmp_path: Path) -> None:
    """`incidentlog grep -f needle | head -n 1`: the follower stops at its next write."""
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)
    follower = Follower(store, reader=False)
    try:
        assert follower.process.stdout is not None
        assert b"needle" in follower.process.stdout.readline()
        follower.process.stdout.close()  # as `head` exits
        write_batch(store, tmp_path, 1)
        write_batch(store, tmp_path, 2)
        follower.process.wait(timeout=HANG_GUARD)
        err = follower.process.stderr.read().decode() if follower.process.stderr else ""
    finally:
        follower.close()
    assert follower.process.returncode == 0
    assert err == ""


def test_follow_with_limit_stops_after_n_matches(tmp_path: Path) -> None:
    """`-m 3 -f` waits for the third match (one stored, two to come), then returns."""
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)
    batches = iter(range(1, 10))
    results = list(
        follow_matches(
            GrepQuery("needle", limit=3),
            Request(store=store),
            poll=lambda: write_batch(store, tmp_path, next(batches)),
        )
    )
    shown = [m for r in results for m in r.records.get_column("message").to_list()]
    assert shown == [
        "batch 0 line 1 needle",
        "batch 0 line 2 needle",
        "batch 1 line 1 needle",
    ]
    assert next(batches) == 2  # it stopped after one more batch, not later


def test_follow_limit_counts_only_records_not_shown_before(tmp_path: Path) -> None:
    """Compaction hands the follower a file of shown and new records at once; -m counts
    the new ones (the shown ones are dropped before the cap, not after)."""
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)

    def land_and_compact() -> None:
        write_batch(store, tmp_path, 1)
        Store.open(store).compact()

    results = list(
        follow_matches(GrepQuery("needle", limit=3), Request(store=store), poll=land_and_compact)
    )
    shown = [m for r in results for m in r.records.get_column("message").to_list()]
    assert shown == ["batch 0 line 1 needle", "batch 0 line 2 needle", "batch 1 line 1 needle"]
    assert len(results) == 2  # the stored matches, then the compacted file


def test_follow_respects_the_window_and_services(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)  # before --since
    batches = iter(range(1, 4))
    follow = follow_matches(
        GrepQuery("needle"),
        Request(store=store, services=("web",), since=datetime(2025, 8, 1, 10, 1, tzinfo=UTC)),
        poll=lambda: write_batch(store, tmp_path, next(batches)),
    )
    seen = [r.records for _, r in zip(range(4), follow, strict=False)]
    messages = [m for frame in seen for m in frame.get_column("message").to_list()]
    assert messages == ["batch 1 line 1 needle", "batch 2 line 1 needle", "batch 3 line 1 needle"]
    assert {s for frame in seen for s in frame.get_column("service").to_list()} == {"web"}


def _jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_tail_keeps_the_last_matches(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for batch in range(3):
        write_batch(store, tmp_path, batch)
    _, everything, _ = run("grep", "needle", "--store", str(store), "--format", "jsonl")
    code, last, _ = run("grep", "needle", "--store", str(store), "--format", "jsonl", "--tail", "3")
    assert code == 0
    assert _jsonl(last) == _jsonl(everything)[-3:]
    _, first, _ = run("grep", "needle", "--store", str(store), "--format", "jsonl", "-m", "3")
    assert _jsonl(first) == _jsonl(everything)[:3]


def test_tail_with_context_is_the_last_match_and_the_records_before_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for batch in range(3):
        write_batch(store, tmp_path, batch)
    args = ["--store", str(store), "--format", "jsonl"]
    _, db, _ = run("grep", "", "--service", "db", *args)
    records = [r["message"] for r in _jsonl(db)]  # db's records in order
    assert records[-2] == "batch 2 line 2 needle"  # the last match of all
    code, out, _ = run("grep", "needle", "--tail", "1", "-B", "3", *args)
    assert code == 0
    rows = _jsonl(out)
    assert [r["message"] for r in rows] == records[-5:-1]
    # batch 1's match is among the three before: context now, not a match
    assert [r["match"] for r in rows] == [False, False, False, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tail", "2", "-m", "2"], "-m keeps the first N matches and --tail the last N"),
        (["--tail", "2", "-c"], "-c counts matches"),
        (["--tail", "0"], "--tail 0: must be 1 or more"),
        (["-f", "--format", "json"], "use --format text or jsonl"),
        (["-f", "-C", "2"], "-A/-B/-C do not apply"),
    ],
)
def test_tail_and_follow_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    store = tmp_path / "store"
    write_batch(store, tmp_path, 0)
    code, _, err = run("grep", "needle", "--store", str(store), *args)
    assert code == 2
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1


def test_follow_refuses_paths(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(batch_text(0), encoding="utf-8")
    code, _, err = run("grep", "needle", str(path), "-f")
    assert code == 2 and "give no PATHs" in err
    code, _, err = run("grep", "needle", "--lake", "shared", "-f")
    assert code == 2 and "--lake" in err
