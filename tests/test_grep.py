"""`incidentlog grep` on the bundled 2025-08-01 incident, checked against the raw text.

The oracle is the compose log itself, read line by line in the test: grep's
counts, windows and contexts must agree with what the file says.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.errors import UsageError
from incidentlog.ingest import ingest_into_store
from incidentlog.search import GrepQuery, grep_history
from incidentlog.sources import EvidenceSource, Request, glob_to_regex

LINE = re.compile(
    r"^(?P<container>\S+?)\s+\| (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (?P<text>.*)$"
)
ASYNCIO = "asyncio.run() cannot be called from a running event loop"


@pytest.fixture(scope="module")
def seed(sample_logs: Path) -> Path:
    return sample_logs / "2025-08-01-health-checks"


@pytest.fixture(scope="module")
def store(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grep") / "store"
    inputs = [seed / name for name in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
    ingest_into_store(inputs, store=path, host="vm1")
    return path


@pytest.fixture(scope="module")
def raw(seed: Path) -> list[tuple[str, str, str]]:
    """(service, ts, text) of every line of compose.log with a timestamp."""
    out = []
    for line in (seed / "compose.log").read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match:
            service = re.sub(r"-\d+$", "", match["container"])
            out.append((service, match["ts"], match["text"]))
    return out


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_fixed_string_counts_per_service_match_the_raw_file(store: Path, raw: list) -> None:
    code, out, _ = run("grep", "-F", ASYNCIO, "--store", str(store), "--count", "--format", "jsonl")
    assert code == 0
    rows = jsonl(out)
    assert all(set(r) == {"service", "count"} for r in rows)  # the contract, exactly
    expected = Counter(service for service, _, text in raw if ASYNCIO in text)
    assert {r["service"]: r["count"] for r in rows} == dict(expected)
    assert expected["agent-monitor"] == 126  # the README's ground truth: 126 crashes


def test_records_contract_and_time_order(store: Path) -> None:
    code, out, _ = run(
        "grep", "Connection refused|unhealthy|ERROR", "--store", str(store), "--format", "jsonl"
    )
    assert code == 0
    rows = jsonl(out)
    assert rows
    for row in rows:
        assert {"ts", "service", "container", "level", "message"} <= set(row)
    stamps = [str(r["ts"]) for r in rows]
    assert stamps == sorted(stamps)  # one timeline across services
    assert len({r["service"] for r in rows}) > 1


def test_service_globs_time_window_and_level(store: Path, raw: list) -> None:
    code, out, _ = run(
        "grep",
        ".",
        "--store",
        str(store),
        "--service",
        "agent-*",
        "--since",
        "2025-08-01T13:00:00Z",
        "--until",
        "2025-08-01T13:30:00Z",
        "--level",
        "error",
        "--format",
        "jsonl",
    )
    assert code == 0
    rows = jsonl(out)
    assert rows
    assert {r["service"] for r in rows} <= {
        "agent-monitor",
        "agent-discovery",
        "agent-scheduler",
        "agent-pool",
    }
    assert all("2025-08-01T13:00:00" <= str(r["ts"]) <= "2025-08-01T13:30:00" for r in rows)
    assert {r["level"] for r in rows} <= {"error", "fatal"}
    # Oracle: registry sync failures of agent-discovery in the window, from the raw text.
    expected = sum(
        1
        for service, ts, text in raw
        if service == "agent-discovery"
        and "13:00:00" <= ts[11:19] < "13:30:00"
        and "ERROR - Agent registry sync failed" in text
    )
    assert sum(1 for r in rows if r["service"] == "agent-discovery") == expected


def test_ignore_case_invert_and_limit(store: Path, raw: list) -> None:
    base = ["--store", str(store), "--service", "nginx", "--count", "--format", "jsonl"]
    _, everything, _ = run("grep", ".", *base)
    _, upper, _ = run("grep", "get /", *base)
    _, folded, _ = run("grep", "-i", "get /", *base)
    _, inverted, _ = run("grep", "-v", "-i", "get /", *base)
    total = jsonl(everything)[0]["count"]
    hits = jsonl(folded)[0]["count"]
    assert hits == sum(1 for s, _, t in raw if s == "nginx" and "get /" in t.lower())
    assert hits > 0
    assert upper == ""  # case-sensitive: access logs say GET
    assert jsonl(inverted)[0]["count"] == total - hits
    code, out, _ = run(
        "grep",
        "-i",
        "get /",
        "--store",
        str(store),
        "--service",
        "nginx",
        "-m",
        "3",
        "--format",
        "jsonl",
    )
    rows = jsonl(out)
    assert code == 0 and len(rows) == 3
    first = sorted(ts for s, ts, t in raw if s == "nginx" and "get /" in t.lower())[:3]
    assert [r["ts"] for r in rows] == first


def test_category_and_rule_filters_keep_what_detection_matched(store: Path, raw: list) -> None:
    code, out, _ = run(
        "grep", ".", "--store", str(store), "--category", "event-loop-conflict", "-c"
    )
    assert code == 0
    counts = dict(line.split(":") for line in out.splitlines())
    # Both rules of the category: asyncio.run() in a running loop (the traceback's
    # last line) and "coroutine ... was never awaited" (a record of its own).
    expected = Counter(
        service for service, _, text in raw if ASYNCIO in text or "was never awaited" in text
    )
    assert {k: int(v) for k, v in counts.items()} == dict(expected)
    code, out, _ = run(
        "grep",
        "never awaited",
        "--store",
        str(store),
        "--rule",
        "python.coroutine-never-awaited",
        "-c",
    )
    assert code == 0
    assert "agent-monitor:126" in out.splitlines()


def test_context_stays_within_the_container(store: Path) -> None:
    code, out, _ = run(
        "grep",
        "Starting API server",
        "--store",
        str(store),
        "--service",
        "agent-monitor",
        "-m",
        "1",
        "-B",
        "1",
        "-A",
        "2",
        "--format",
        "jsonl",
    )
    assert code == 0
    rows = jsonl(out)
    assert [r["match"] for r in rows] == [False, True, False, False]
    assert {r["container"] for r in rows} == {"agent-monitor-1"}
    assert "Collectors started" in str(rows[0]["message"])
    assert str(rows[2]["message"]).startswith("Traceback (most recent call last):")
    # -C n is -B n -A n
    _, same, _ = run(
        "grep",
        "Starting API server",
        "--store",
        str(store),
        "--service",
        "agent-monitor",
        "-m",
        "1",
        "-C",
        "1",
        "--format",
        "jsonl",
    )
    assert [r["match"] for r in jsonl(same)] == [False, True, False]


def test_text_output_is_compose_shaped_and_ingests_back(store: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        "grep",
        "-F",
        ASYNCIO,
        "--store",
        str(store),
        "--service",
        "agent-monitor",
        "-m",
        "2",
        "--color",
        "never",
    )
    assert code == 0
    lines = out.splitlines()
    assert all(LINE.match(line) for line in lines)
    assert "\x1b" not in out
    # A traceback is one record printed whole: every line carries the record's prefix and time.
    assert len(lines) > 2 * 10
    assert len({LINE.match(line)["ts"] for line in lines}) == 2  # type: ignore[index]
    # Parse it back: the same two records.
    again = tmp_path / "again.log"
    again.write_text(out, encoding="utf-8")
    code, back, _ = run("grep", "-F", ASYNCIO, str(again), "--format", "jsonl")
    _, original, _ = run(
        "grep",
        "-F",
        ASYNCIO,
        "--store",
        str(store),
        "--service",
        "agent-monitor",
        "-m",
        "2",
        "--format",
        "jsonl",
    )
    assert [r["message"] for r in jsonl(back)] == [r["message"] for r in jsonl(original)]


def test_colour_on_demand(store: Path) -> None:
    _, out, _ = run("grep", "-F", "Ready", "--store", str(store), "--color", "always", "-m", "2")
    assert out.startswith("\x1b[36m")  # compose's first prefix colour
    assert "\x1b[1;31mReady\x1b[0m" in out  # the match highlighted


def test_files_and_store_agree(store: Path, seed: Path) -> None:
    _, from_store, _ = run("grep", "-i", "unhealthy|refused", "--store", str(store), "-c")
    code, from_file, _ = run("grep", "-i", "unhealthy|refused", str(seed / "compose.log"), "-c")
    assert code == 0
    assert from_file == from_store


def test_host_and_project_filters(store: Path) -> None:
    assert run("grep", "Ready", "--store", str(store), "--host", "vm1", "-c")[0] == 0
    assert run("grep", "Ready", "--store", str(store), "--project", "mcp", "-c")[0] == 0
    assert run("grep", "Ready", "--store", str(store), "--host", "elsewhere")[0] == 1
    assert run("grep", "Ready", "--store", str(store), "--project", "other")[0] == 1


def test_secrets_are_masked_unless_asked(tmp_path: Path) -> None:
    log = tmp_path / "compose.log"
    log.write_text(
        "api-1  | 2025-08-01T12:00:00.000000000Z connecting with password=hunter2 to db\n"
        "api-1  | 2025-08-01T12:00:01.000000000Z Authorization: Bearer abcdefghijklmnopqrstuvwxyz\n",
        encoding="utf-8",
    )
    _, out, _ = run("grep", "password|Bearer", str(log))
    assert "hunter2" not in out and "abcdefghijklmnop" not in out
    assert "password=***" in out
    _, out, _ = run("grep", "password", str(log), "--format", "jsonl")
    assert "hunter2" not in out
    _, shown, _ = run("grep", "password", str(log), "--show-secrets")
    assert "hunter2" in shown


def test_control_characters_never_reach_a_terminal(tmp_path: Path) -> None:
    log = tmp_path / "compose.log"
    log.write_bytes(b"api-1  | 2025-08-01T12:00:00.000000000Z evil \x1b]0;pwned\x07 title\n")
    _, out, _ = run("grep", "evil", str(log), "--color", "always")
    assert "\x1b]0;" not in out and "\x07" not in out


def test_exit_codes_like_grep(store: Path) -> None:
    assert run("grep", "no such text anywhere 12345", "--store", str(store))[0] == 1
    code, out, err = run("grep", "(unclosed", "--store", str(store))
    assert code == 2 and out == ""
    assert err.startswith("Error: invalid regex '(unclosed': unclosed group")
    assert err.count("\n") == 1
    code, _, err = run("grep", "x", "--store", str(store), "--level", "loud")
    assert code == 2 and "--level 'loud' is not a level" in err
    code, _, err = run("grep", "x", "--store", str(store), "--category", "bad-thing")
    assert code == 2 and "is not a category" in err
    code, _, err = run("grep", "x", "--store", str(store), "--format", "xml")
    assert code == 2 and "--format 'xml'" in err
    code, _, err = run("grep", "x", "--store", str(store / "missing"))
    assert code == 2 and err.startswith("Error:") and "no incidentlog store" in err
    code, _, err = run("grep", "x", "--store", str(store), "--since", "yesterday-ish")
    assert code == 2 and err.startswith("Error:")


def test_query_object_validation() -> None:
    with pytest.raises(UsageError, match="context must be 0 or more"):
        grep_history(GrepQuery("x", before=-1), EvidenceSource(Request(paths=("/dev/null",))))
    with pytest.raises(UsageError, match="--limit 0: must be 1 or more"):
        grep_history(GrepQuery("x", limit=0), EvidenceSource(Request(paths=("/dev/null",))))


@pytest.mark.parametrize(
    ("globs", "yes", "no"),
    [
        (["agent-*"], ["agent-monitor", "agent-"], ["xagent-monitor", "agent"]),
        (["db", "web?"], ["db", "web1"], ["db1", "web", "web12"]),
        (["[ab]pi"], ["api", "bpi"], ["cpi"]),
        (["[!a]pi"], ["bpi"], ["api"]),
        (["a.b"], ["a.b"], ["aXb"]),
    ],
)
def test_glob_to_regex(globs: list[str], yes: list[str], no: list[str]) -> None:
    pattern = re.compile(glob_to_regex(globs))
    assert all(pattern.match(name) for name in yes)
    assert not any(pattern.match(name) for name in no)


def test_standard_input_and_undated_records_in_arrival_order(sample_logs: Path) -> None:
    """`compose up` output without timestamps: the records without a time keep the order
    they arrived in (compose's own lines are no earlier than the dated line before them,
    postgres's last, and carry its time)."""
    text = (sample_logs / "2025-10-03-dns-config" / "up.log").read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["grep", "-i", "error", "-", "--format", "jsonl"], input=text)
    assert result.exit_code == 0
    rows = jsonl(result.stdout)
    dated = [r for r in rows if r["ts"] is not None]
    assert [(r["service"], r["ts"]) for r in dated] == [("api", "2025-10-03T09:14:02.318000000Z")]
    assert str(dated[0]["message"]).strip() == "Container shop-api-1  Error"
    rows = [r for r in rows if r["ts"] is None]
    assert len(rows) >= 3
    firsts = [str(r["message"]).splitlines()[0] for r in rows]
    positions = [text.index(first) for first in firsts]
    assert positions == sorted(positions)
    assert any("could not translate host name" in str(r["message"]) for r in rows)
