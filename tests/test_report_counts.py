"""Counts and times a report states about bursty logs: how the errors came (spread out,
in bursts, at a pace), and the restarts a crash loop in the logs shows (compose's exit
lines the container logged on after, its start-up line coming back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from report_helpers import report_json, report_md

from incidentlog.incident.advice import Rhythm, rhythms

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


def _stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def _findings(offsets: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "service": ["api"] * len(offsets),
            "rule": ["r"] * len(offsets),
            "ts": [T0 + timedelta(seconds=s) for s in offsets],
        },
        schema={"service": pl.String, "rule": pl.String, "ts": pl.Datetime("ns", "UTC")},
    )


def _words(offsets: list[float]) -> str:
    return rhythms(_findings(offsets), [("api", "r")])[("api", "r")].words()


@pytest.mark.parametrize(
    ("offsets", "words"),
    [
        # three bursts of five, 3 s then 6 s apart: not "within a second", not a pace
        (
            [b + i * 0.001 for b in (0.0, 3.0, 9.0) for i in range(5)],
            " in 3 bursts of 5 over 9 s",
        ),
        # bursts of three every ten minutes: the pace is the bursts', not the mean gap
        (
            [b + i * 0.0004 for b in (0.0, 600.0, 1200.0) for i in range(3)],
            " in bursts of 3 about every 10 min",
        ),
        ([0.0, 60.0, 120.0, 181.0, 240.0], ", about every 60 s"),
        ([0.0, 0.2, 0.4, 0.9], " within a second"),
        # uneven gaps, no bursts: the span, never a made-up pace
        ([0.0, 3.0, 6.0, 9.0, 24.0, 30.0, 45.0, 84.0], " over 1 min 24 s"),
        # pairs a second apart are steady, not bursts
        ([s + d for s in range(5) for d in (0.0, 0.0001)], " over 4 s"),
    ],
)
def test_when_the_records_came(offsets: list[float], words: str) -> None:
    assert _words(offsets) == words


def test_undated_findings_have_no_rhythm() -> None:
    frame = _findings([0.0, 1.0]).with_columns(pl.lit(None, pl.Datetime("ns", "UTC")).alias("ts"))
    assert rhythms(frame, [("api", "r")]) == {}


def test_a_pace_reads_as_people_say_it() -> None:
    assert Rhythm(3, 600.0, 1, None, 300.0).words() == ", about every 5 min"
    assert Rhythm(3, 300.0, 1, None, 150.0).words() == ", about every 2 min 30 s"


def _bursts_log() -> str:
    """A sensor bridge that logs its start failure five times, in three bursts over 9 s."""
    lines = []
    for start in (0.0, 3.0, 9.0):
        for step in range(5):
            t = start + step * 0.001
            lines.append(
                f"bridge-1  | {_stamp(t)} [2025-06-02 10:00:{int(t):02d}] error: \tbridge: radio"
                f" stick did not answer handshake {step}\n"
            )
    return "".join(lines)


def test_errors_in_bursts_are_not_said_to_come_within_a_second(tmp_path: Path) -> None:
    md = report_md(tmp_path, _bursts_log(), NOW)
    assert "within a second" not in md
    assert "the error was logged 15 times in 3 bursts of 5 over 9 s" in md
    # (`error:` after the bracketed time is the level: the records are error records)
    data = report_json(tmp_path, _bursts_log(), NOW)
    (bridge,) = [s for s in data["services"] if s["name"] == "bridge"]
    assert bridge["errors"] == 15


CRASH_LOOP_V1 = (
    'Creating network "lab_default" with the default driver\n'
    "Attaching to lab_indexer_1\n"
    "indexer_1  | mkdir: refusing to create /srv/index/shards: Permission denied\n"
    "lab_indexer_1 exited with code 1\n"
    "indexer_1  | mkdir: refusing to create /srv/index/shards: Permission denied\n"
    "lab_indexer_1 exited with code 1\n"
    "indexer_1  | mkdir: refusing to create /srv/index/shards: Permission denied\n"
    "lab_indexer_1 exited with code 1\n"
)


def test_exits_with_output_between_them_are_restarts(tmp_path: Path) -> None:
    """Three exits, the container logging again after the first two: it was restarted
    twice, and not after the last exit."""
    data = report_json(tmp_path, CRASH_LOOP_V1, NOW)
    (indexer,) = [s for s in data["services"] if s["name"] == "indexer"]
    assert (indexer["exits"], indexer["restarts"]) == (3, 2)
    md = report_md(tmp_path, CRASH_LOOP_V1, NOW)
    assert "crashed 3 times (exit code 1); restarted 2 times, not after the last exit" in md
    assert "| info | an individual service restarted | 2 restarts (indexer 2) | **yes** |" in md


def test_exits_without_output_after_them_are_no_restarts(tmp_path: Path) -> None:
    text = (
        "api-1  | 2025-06-02T08:00:00.000000000Z Error: connect ECONNREFUSED cache:6379\n"
        "cache-1 exited with code 1\n"
        "cache-1 exited with code 1\n"
    )
    data = report_json(tmp_path, text, NOW)
    (cache,) = [s for s in data["services"] if s["name"] == "cache"]
    assert (cache["exits"], cache["restarts"]) == (2, 0)


def test_a_restart_pending_in_compose_output_is_not_the_engines_count(tmp_path: Path) -> None:
    text = (
        "worker-1  | 2025-06-02T08:00:00.000000000Z fatal: QUEUE_URL is not set\n"
        "worker-1 exited with code 2 (restarting)\n"
        "worker-1  | 2025-06-02T08:00:01.000000000Z fatal: QUEUE_URL is not set\n"
        "worker-1 exited with code 2 (restarting)\n"
    )
    md = report_md(tmp_path, text, NOW)
    assert "restarted 1 time (the restart after the last exit is still pending)" in md
    assert "RestartCount" not in md.split("## Appendix")[0].split("Impact")[1].split("\n")[0]


def test_a_clean_exit_and_return_is_a_restart_but_no_failure(tmp_path: Path) -> None:
    """A server stopped on request (exit 0) and back a second later: a restart, and the
    client's refusal in between stays a blip, not an incident."""
    text = (
        "kv-1      | 2025-06-02T08:00:00.000000000Z 1:M 02 Jun 2025 08:00:00.000 * Ready to accept connections tcp\n"
        "app-1     | 2025-06-02T08:00:01.000000000Z [2025-06-02 08:00:01,000: INFO/MainProcess] Connected to redis://kv:6379/0\n"
        "kv-1      | 2025-06-02T08:10:00.000000000Z 1:M 02 Jun 2025 08:10:00.000 # Redis is now ready to exit, bye bye...\n"
        "kv-1 exited with code 0\n"
        "app-1     | 2025-06-02T08:10:00.100000000Z [2025-06-02 08:10:00,100: ERROR/MainProcess] consumer: Cannot connect to redis://kv:6379/0: Error 111 connecting to kv:6379. Connection refused..\n"
        "kv-1      | 2025-06-02T08:10:01.000000000Z 1:M 02 Jun 2025 08:10:01.000 * Ready to accept connections tcp\n"
        "app-1     | 2025-06-02T08:10:02.000000000Z [2025-06-02 08:10:02,000: INFO/MainProcess] Connected to redis://kv:6379/0\n"
        "app-1     | 2025-06-02T08:20:00.000000000Z [2025-06-02 08:20:00,000: INFO/MainProcess] Task done\n"
    )
    data = report_json(tmp_path, text, NOW)
    (kv,) = [s for s in data["services"] if s["name"] == "kv"]
    assert kv["restarts"] == 1
    assert not data["found"]


def test_restarts_inferred_from_a_repeating_banner_are_counted(tmp_path: Path) -> None:
    """No exit lines, no events: the start-up line coming back after errors is what shows
    the restarts, and the impact and the threshold row say as many."""
    lines = []
    for n, t in enumerate((0, 20, 40)):
        lines += [
            f"sync-1  | {_stamp(t)} Launching mailbox sync daemon v3.2\n",
            f"sync-1  | {_stamp(t + 1)} ERROR mailbox store at /data/mail is read-only (try {n})\n",
        ]
    md = report_md(tmp_path, "".join(lines), NOW)
    assert "sync: restarted 2 times (inferred: its start-up line came back after errors)" in md
    assert "No service was unhealthy or restarted" not in md
    assert "| info | an individual service restarted | 2 restarts (sync 2) | **yes** |" in md


def test_the_corpus_crash_loop_in_bursts() -> None:
    """The corpus case that shows all three at once: `error:` levels after a bracketed
    time, errors in bursts, exits with output between them."""
    from incidentlog.render.report import generate_report

    log = Path(__file__).parent / "corpus" / "ce-indexer-crash-loop-bursts" / "compose.log"
    md = generate_report([str(log)], fmt="md", now=NOW)
    assert (
        "restarted 2 times, not after the last exit; the error was logged 9 times in 3 bursts"
        " of 3 over 9 s" in md
    )
    assert "| indexer | exited with code 1 | — | 3 | 2 | 9 |" in md
