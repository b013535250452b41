"""Fuzzing (hypothesis, bounded: CI runs it in seconds) over the parsers this
tool exposes to untrusted text: --since/--until, --hour, JSON inputs (events,
inspect, ps, json-file), compose files, store files. Each may refuse its
input with the tool's own error, never crash. The `@example`s are the corpus
of crashes found so far (kept as regression cases)."""

from __future__ import annotations

import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.digest.period import resolve_period
from incidentlog.errors import ComposeFileError, IncidentlogError, TimeSpecError, UsageError
from incidentlog.ingest import read_inputs
from incidentlog.schema import LOGS_SCHEMA
from incidentlog.store.reader import check_file
from incidentlog.timespec import parse_time
from incidentlog.topology import load_compose

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2025, 8, 1, 14, tzinfo=UTC)

time_alphabet = st.sampled_from([*"0123456789-+:.TZzdhmsuµnw ", "ms", "us", "ns"])
time_like = st.lists(time_alphabet, max_size=40).map("".join)


@FUZZ
@given(st.one_of(st.text(max_size=40), time_like))
@example("1000000d")
@example("99999999999999999999")
@example("9" * 400 + "h")
@example("-2562047h")
@example("0")
@example("")
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:59:59-01:00")
def test_parse_time_refuses_or_gives_a_utc_time(text: str) -> None:
    try:
        parsed = parse_time(text, now=NOW)
    except TimeSpecError:
        return
    assert parsed.utcoffset() == timedelta(0)


@FUZZ
@given(st.text(max_size=30), st.sampled_from(["UTC", "Asia/Kolkata", "America/St_Johns"]))
@example("9999-12-31T23", "UTC")
@example("0001-01-01T00", "UTC")
@example("2025-03-09T02", "America/St_Johns")
def test_digest_periods_refuse_or_fit_the_calendar(hour: str, zone: str) -> None:
    try:
        period = resolve_period(since=None, hour=hour, now=NOW, zone=ZoneInfo(zone))
    except UsageError:
        return
    assert period.end - period.start == timedelta(hours=1)


def _nested(depth: int, kind: str) -> str:
    return ('{"a":' * depth + "1" + "}" * depth) if kind == "{" else "[" * depth + "]" * depth


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["Action", "status", "time", "timeNano", "Actor", "State", "log", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@SLOW
@given(
    st.lists(st.one_of(json_values.map(json.dumps), st.text(max_size=30)), min_size=1, max_size=6),
    st.sampled_from(["events", "inspect", "ps", "json-file", None]),
)
@example([_nested(50_000, "{")], "events")
@example([_nested(50_000, "[")], "inspect")
@example([_nested(50_000, "[")], "ps")
@example([_nested(50_000, "{")], "json-file")
@example([_nested(50_000, "{")], None)
@example(['{"status":"die","time":99999999999999}'], "events")
def test_json_inputs_refuse_or_parse(lines: list[str], fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.txt"
        path.write_text("\n".join(lines) + "\n")
        try:
            result = read_inputs([path], fmt=fmt, host="h")
        except IncidentlogError:
            return
        assert result.logs.height + result.events.height <= len(lines) + 1
        assert all(s.lines >= s.invalid_timestamps for s in result.summary.sources)


yaml_text = st.lists(
    st.sampled_from(
        [
            "services:",
            "  web:",
            "    image: x",
            "&a [",
            "*a",
            "]",
            "[",
            "{",
            "}",
            "- ",
            "<<: *a",
            "    depends_on: [db]",
            "x: &a [1, 2]",
            "y: [*a, *a, *a]",
            "!reset",
            "!!python/object",
            ":",
        ]
    ),
    max_size=30,
).map("\n".join)


@SLOW
@given(yaml_text)
@example("services:\n  web:\n    image: " + "[" * 50_000 + "]" * 50_000)
@example(
    "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))
    + "services:\n  web:\n    labels: *a8\n"
)
def test_compose_files_refuse_or_load(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "compose.yaml"
        path.write_text(text)
        try:
            load_compose([path])
        except ComposeFileError:
            return


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("fuzz")
    log = folder / "compose.log"
    log.write_text(
        "".join(
            f"api-1  | 2025-08-01T00:00:{i % 60:02d}.{i:09d}Z line {i} {'x' * (i % 50)}\n"
            for i in range(500)
        )
    )
    store = folder / "store"
    CliRunner().invoke(app, ["ingest", str(log), "--store", str(store)])
    (file,) = (store / "logs/day=2025-08-01").glob("*.parquet")
    return file.read_bytes()


def _damage(original: bytes, rng: random.Random) -> bytes:
    """`original` cut short (half the time) and up to 20 bytes changed."""
    damaged = bytearray(original)
    if rng.random() < 0.5:
        damaged = damaged[: rng.randrange(len(damaged) + 1)]
    for _ in range(rng.randint(0, 20)):
        if damaged:
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    return bytes(damaged)


@pytest.mark.parametrize("seed", range(25))
def test_damaged_store_files_are_one_error_naming_them(store_file: bytes, seed: int) -> None:
    """Seeded random damage rather than hypothesis: Polars may panic or fail with an
    error on the same bytes depending on its threads, which hypothesis reads as a
    flaky strategy; every outcome must still be one Error line naming the file."""
    damaged = _damage(store_file, random.Random(seed))
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        day = store / "logs/day=2025-08-01"
        day.mkdir(parents=True)
        (store / "incidentlog-store.json").write_text('{"format": 2}')
        bad = day / "a.parquet"
        bad.write_bytes(damaged)
        problem = check_file(bad, LOGS_SCHEMA)
        result = CliRunner().invoke(app, ["grep", "-c", "line", "--store", str(store)])
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
            assert str(bad) in lines[0] or "could not be read" in lines[0], lines[0]
        else:  # (changed bytes Parquet cannot notice: read as they are)
            assert result.exit_code in (0, 1), result.output
            if problem is None:  # read as the store reads it
                frame = pl.scan_parquet(bad, schema=LOGS_SCHEMA, hive_partitioning=False)
                assert frame.collect().height >= 0
