"""Issue 14's probes, each run through the CLI: one `Error:` line and the
documented exit code (usage 2, trouble 1; grep's errors 2), or correct output;
never a traceback. Plus retention (`store prune`, issue 16)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.errors import UsageError
from incidentlog.ingest import ingest_into_store
from incidentlog.store import MARKER, Store


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def one_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    log = tmp_path / "compose.log"
    log.write_text(
        "api-1  | 2025-08-01T00:00:00.100000000Z ERROR:app:boom\n"
        "web-1  | 2025-08-01T12:30:00.000000000Z GET /health 200\n"
        "web-1  | 2025-08-02T12:30:00.000000000Z GET /health 500\n"
    )
    root = tmp_path / "store"
    ingest_into_store([log], store=root, host="h")
    return root


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["grep", "x", "--since", "1000000d"], 2, "too long a duration"),
        (["grep", "x", "--since", "99999999999999999999"], 2, "Unix time out of range"),
        (["grep", "x", "--since", ""], 2, "an empty time is not a time"),
        (["grep", "x", "--until", "2025-02-30T00:00:00Z"], 2, "day is out of range"),
        (["digest", "--hour", "9999-12-31T23"], 2, "out of range"),
        (["digest", "--hour", "0001-01-01T00"], 2, "out of range"),
        (["digest", "--since", "-1h"], 2, "is not in the past"),
        (["report", "--since", "1000000d"], 2, "too long a duration"),
    ],
)
def test_time_overflows_are_usage_errors(
    store: Path, args: list[str], code: int, message: str
) -> None:
    exit_code, _, stderr = run(*args, "--store", str(store))
    assert exit_code == code
    assert message in one_error(stderr)


def test_since_zero_is_unix_time_zero(store: Path) -> None:
    code, out, _ = run("grep", "-c", "boom", "--since", "0", "--store", str(store))
    assert (code, out) == (0, "api:1\n")
    code, out, _ = run("digest", "--since", "0", "--store", str(store))
    assert code == 0 and "ERROR:app:boom" in out


@pytest.mark.parametrize("marker", ["[]", "null", '"x"', "", "{"])
def test_a_marker_that_is_no_object_is_one_error(store: Path, marker: str) -> None:
    (store / MARKER).write_text(marker)
    for args in (["grep", "x"], ["store", "info"], ["ingest", "-"]):
        code, _, stderr = run(*args, "--store", str(store))
        assert code == (2 if args[0] == "grep" else 1)
        assert "unreadable store marker" in one_error(stderr)


def test_collect_refuses_a_project_that_is_a_path(tmp_path: Path) -> None:
    code, _, stderr = run("collect", "-p", "../../x", "--wait", "--store", str(tmp_path / "s"))
    assert code == 2
    assert "is not a compose project name" in one_error(stderr)
    assert not (tmp_path / "s").exists()


def test_grep_internal_errors_exit_2_not_1(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import incidentlog.search

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(incidentlog.search, "grep_history", broken)
    code, _, stderr = run("grep", "x", "--store", str(store))
    assert code == 2
    assert "internal error (RuntimeError: a bug)" in one_error(stderr)


def _parquet_of(store: Path, day: str) -> Path:
    (file,) = (store / f"logs/day={day}").glob("*.parquet")
    return file


@pytest.mark.parametrize("damage", ["truncated", "zeroed inside", "empty", "foreign"])
def test_a_damaged_store_file_is_named_checked_and_repaired(store: Path, damage: str) -> None:
    bad = _parquet_of(store, "2025-08-01")
    data = bad.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "zeroed inside":
        bad.write_bytes(data[:4] + b"\0" * (len(data) - 12) + data[-8:])
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_text("not parquet at all, written by something else\n")
    for args, code in (
        (["grep", "GET"], 2),
        (["digest", "--since", "0"], 1),
        (["report"], 1),
        (["detect"], 1),
    ):
        exit_code, _, stderr = run(*args, "--store", str(store))
        assert exit_code == code, (args, stderr)
        assert str(bad) in one_error(stderr)
    # other days keep working
    code, out, _ = run("grep", "-c", "GET", "--since", "2025-08-02Z", "--store", str(store))
    assert (code, out) == (0, "web:1\n")
    code, out, _ = run("store", "check", "--store", str(store))
    assert code == 1 and f"bad: {bad}" in out
    code, out, _ = run("store", "check", "--repair", "--store", str(store), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["bad"][0]["file"] == str(bad)
    assert Path(report["bad"][0]["moved_to"]).is_file() and not bad.exists()
    code, out, _ = run("grep", "-c", "GET", "--store", str(store))
    assert (code, out) == (0, "web:1\n")
    assert run("store", "check", "--store", str(store))[0] == 0


def test_deep_json_is_a_rejected_document_not_a_recursion_error(tmp_path: Path) -> None:
    deep_object = tmp_path / "events.jsonl"
    deep_object.write_text('{"a":' * 50_000 + "1" + "}" * 50_000 + "\n")
    deep_list = tmp_path / "inspect.json"
    deep_list.write_text("[" * 50_000 + "]" * 50_000 + "\n")
    code, _, stderr = run("ingest", str(deep_object), "--store", str(tmp_path / "s"))
    assert code == 0, stderr
    code, _, stderr = run("ingest", str(deep_list), "--store", str(tmp_path / "s"))
    assert code == 1 and "format not recognised" in one_error(stderr)
    for fmt in ("events", "json-file", "ps"):
        code, _, stderr = run("report", "--input-format", fmt, str(deep_object))
        assert code == 0, (fmt, stderr)
    code, _, stderr = run("report", "--input-format", "inspect", str(deep_list))
    assert code == 1 and "nested too deeply" in one_error(stderr)


def test_a_deeply_nested_compose_file_is_a_note(tmp_path: Path) -> None:
    """libyaml's loader overflowed the C stack (a segfault) on 50 000 nested `[`."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: " + "[" * 50_000 + "]" * 50_000 + "\n"
    )
    (tmp_path / "compose.log").write_text("web-1  | 2025-08-01T00:00:00Z ERROR boom\n")
    code, out, _ = run("report", str(tmp_path))
    assert code == 0
    assert "ignored compose file compose.yaml: nested deeper than 64" in out


def test_invalid_timestamps_are_counted(tmp_path: Path) -> None:
    compose = tmp_path / "compose.log"
    compose.write_text(
        "api-1  | 2025-13-45T99:00:00.000000000Z ERROR bad month\n"
        "api-1  | 2025-08-01T00:00:00.000000000Z fine\n"
        "api-1  | 2025-02-30T10:00:00Z no such day\n"
    )
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {
                "status": "die",
                "id": "c0ffee",
                "Type": "container",
                "Action": "die",
                "Actor": {"ID": "c0ffee", "Attributes": {"name": "web-1"}},
                "time": 99999999999999,  # past what nanoseconds hold: once wrapped to 1976
            }
        )
        + "\n"
    )
    code, out, stderr = run(
        "ingest", str(compose), str(events), "--store", str(tmp_path / "s"), "--format", "json"
    )
    assert code == 0, stderr
    counts = {s["format"]: s["invalid_timestamps"] for s in json.loads(out)["sources"]}
    assert counts == {"compose": 2, "events": 1}
    stored = Store.open(tmp_path / "s").scan("events").collect()
    assert stored.get_column("ts").to_list() == [None]
    code, out, stderr = run("ingest", str(compose), "--store", str(tmp_path / "t"))
    assert "kept 2 lines whose timestamp is no valid time, without a time" in stderr + out


def test_a_million_distinct_names_cost_follows_lines(tmp_path: Path) -> None:
    """Per-name work is bounded: 20 000 names, one line each, ingest and re-ingest
    (found twice) with every line kept once. (Speed: benchmarks/, not here.)"""
    log = tmp_path / "names.log"
    log.write_text(
        "".join(
            f"s{i}-1  | 2025-08-01T00:00:{i % 60:02d}.{i:09d}Z hello {i}\n" for i in range(20_000)
        )
    )
    summary, written = ingest_into_store([log], store=tmp_path / "s", host="h")
    assert written.written["logs"] == 20_000 and len(summary.sources[0].services) == 20_000
    _, again = ingest_into_store([log], store=tmp_path / "s", host="h")
    assert (again.written["logs"], again.duplicates) == (0, 20_000)


# ---- retention -----------------------------------------------------------------


def _thirty_days(tmp_path: Path) -> Path:
    start = datetime(2025, 7, 1, tzinfo=UTC)
    lines = []
    for day in range(30):
        for hour in (1, 7, 13, 19):
            stamp = (start + timedelta(days=day, hours=hour)).strftime("%Y-%m-%dT%H:%M:%S")
            lines.append(f"api-1  | {stamp}.000000000Z ERROR:app:boom on day {day}\n")
            lines.append(f"web-1  | {stamp}.000000000Z GET /health 200\n")
    log = tmp_path / "month.log"
    log.write_text("".join(lines))
    store = tmp_path / "store"
    ingest_into_store([log], store=store, host="h")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "status": "die",
                    "id": "c0ffee",
                    "Type": "container",
                    "Action": "die",
                    "Actor": {"ID": "c0ffee", "Attributes": {"name": "api-1", "exitCode": "1"}},
                    "timeNano": int((start + timedelta(days=d, hours=2)).timestamp()) * 10**9,
                }
            )
            + "\n"
            for d in range(30)
        )
    )
    ingest_into_store([events], store=store, host="h")
    return store


def test_prune_on_a_30_day_store_keeps_exactly_the_kept_days(tmp_path: Path) -> None:
    store = _thirty_days(tmp_path)
    # caches of a pruned and of a kept day, in the layouts the store's caches use
    for day in ("2025-07-05", "2025-07-25"):
        folder = store / f"cache/rollups/logs/day={day}"
        folder.mkdir(parents=True)
        (folder / "x.123.parquet").write_bytes(b"cache")
        (store / "cache/finding-signatures").mkdir(parents=True, exist_ok=True)
        (store / f"cache/finding-signatures/{day}.json").write_text("{}")
        (store / f"cache/finding-signatures/{day}T13.abc.parquet").write_bytes(b"cache")
    kept_window = ("--since", "2025-07-21Z", "--store", str(store))
    grep_before = run("grep", "-c", "boom", *kept_window)[1]
    digest_before = run("digest", "--hour", "2025-07-25T13", "--store", str(store))[1]
    assert grep_before == "api:40\n"

    code, out, stderr = run(
        "store", "prune", "--before", "2025-07-21T06:00:00Z", "--store", str(store)
    )
    assert code == 0, stderr
    assert out.startswith(
        "removed 20 days before 2025-07-21 06:00:00 UTC (2025-07-01 .. 2025-07-20)"
    )
    assert "180 rows in 40 files" in out and "10 days kept" in out  # 160 records, 20 events
    for dataset in ("logs", "events"):
        days = Store.open(store).layout.days(dataset)
        assert days == [f"2025-07-{d}" for d in range(21, 31)]  # 2025-07-21 is not cut
    caches = sorted(str(p.relative_to(store)) for p in (store / "cache").rglob("*") if p.is_file())
    assert {
        "cache/finding-signatures/2025-07-25.json",
        "cache/finding-signatures/2025-07-25T13.abc.parquet",
        "cache/rollups/logs/day=2025-07-25/x.123.parquet",
    } <= set(caches)  # the kept day's caches stay
    pruned_days = [f"2025-07-{d:02d}" for d in range(1, 21)]
    assert not [c for c in caches if any(day in c for day in pruned_days)]  # the others go
    assert any("day=2025-07-2" in c for c in caches if "rollups-" in c)  # ingest's rollups stay
    # grep and digest agree with what they said before, and with each other
    assert run("grep", "-c", "boom", "--store", str(store))[1] == grep_before
    assert run("grep", "-c", "boom", *kept_window)[1] == grep_before
    assert run("digest", "--hour", "2025-07-25T13", "--store", str(store))[1] == digest_before
    digest_json = json.loads(
        run("digest", "--since", "2025-06-01T00:00:00Z", "--store", str(store), "--format", "json")[
            1
        ]
    )
    assert "40" in json.dumps(digest_json)  # the 40 kept errors, none of the pruned
    total = Store.open(store).scan("logs").select(pl.len()).collect().item()
    assert total == 80


def test_prune_partial_and_dry_run(tmp_path: Path) -> None:
    store = _thirty_days(tmp_path)
    before = Store.open(store).scan("logs").select(pl.len()).collect().item()
    code, out, _ = run(
        "store", "prune", "--before", "2025-07-21T12:00:00Z", "--dry-run", "--store", str(store)
    )
    assert code == 0 and out.startswith("would remove 20 days")
    assert Store.open(store).scan("logs").select(pl.len()).collect().item() == before
    code, out, _ = run(
        "store",
        "prune",
        "--before",
        "2025-07-21T12:00:00Z",
        "--partial",
        "--store",
        str(store),
        "--format",
        "json",
    )
    done = json.loads(out)
    assert code == 0 and len(done["days"]) == 20
    assert done["partial_rows"] == 4 + 1  # 01:00 and 07:00 of api and web; the 02:00 event
    left = Store.open(store).scan("logs").collect()
    assert left.height == 80 - 4
    assert left.get_column("ts").min() == datetime(2025, 7, 21, 13, tzinfo=UTC)


def test_prune_refuses_a_bad_time(store: Path) -> None:
    code, _, stderr = run("store", "prune", "--before", "soon", "--store", str(store))
    assert code == 2 and "is not a time" in one_error(stderr)


def test_collect_keep_days_prunes_at_the_start_then_hourly(tmp_path: Path) -> None:
    from incidentlog.live.command import Retention

    store = _thirty_days(tmp_path)
    said: list[str] = []
    retention = Retention(store, 5, warn=said.append)
    now = datetime(2025, 7, 30, 18, tzinfo=UTC)
    done = retention.tick(now)
    assert done is not None and done.days[-1] == "2025-07-24"  # whole days before 07-25 18:00
    assert Store.open(store).layout.days("logs") == [f"2025-07-{d}" for d in range(25, 31)]
    assert said and said[0].startswith("keep-days: removed 24 days")
    assert retention.tick(now + timedelta(days=3)) is None  # not an hour yet: nothing runs
    retention.last = (retention.last or 0) - Retention.EVERY
    assert retention.tick(now + timedelta(days=3)) is not None
    assert Store.open(store).layout.days("logs") == [f"2025-07-{d}" for d in range(28, 31)]
    with pytest.raises(UsageError, match="keep at least 1 day"):
        Retention(store, 0, warn=said.append)
    # a store not made yet: nothing to prune, no error
    assert Retention(tmp_path / "new", 3, warn=said.append).tick(now) is None
