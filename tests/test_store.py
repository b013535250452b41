"""The Parquet history: layout, atomic and idempotent writes, scans, info, compaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from incidentlog.errors import StoreError
from incidentlog.ingest import ingest_into_store, read_inputs
from incidentlog.schema import (
    EVENT_IDENTITY,
    EVENTS_SCHEMA,
    LOG_IDENTITY,
    LOGS_SCHEMA,
    id_fingerprint,
    row_ids,
)
from incidentlog.store import FORMAT_VERSION, MARKER, STORE_ENV, Store, default_store_path

COMPOSE = (
    "Attaching to api-1, web-1\n"
    "web-1  | 2025-07-31T23:59:59.900000000Z GET / 200\n"
    "api-1  | 2025-08-01T00:00:00.100000000Z ERROR:app:boom\n"
    "api-1  | 2025-08-01T00:00:00.100000001Z Traceback (most recent call last):\n"
    'api-1  | 2025-08-01T00:00:00.100000002Z   File "/app/main.py", line 3, in <module>\n'
    "api-1  | 2025-08-01T00:00:00.100000003Z KeyError: 'x'\n"
    "web-1  | 2025-08-01T12:30:00.000000000Z GET /health 200\n"
    "web-1  | 2025-08-01T12:30:00.000000000Z GET /health 200\n"
    "web-1 exited with code 1\n"
)
EVENT = {
    "status": "die",
    "id": "c0ffee" * 10 + "abcd",
    "from": "web",
    "Type": "container",
    "Action": "die",
    "Actor": {
        "ID": "c0ffee" * 10 + "abcd",
        "Attributes": {
            "com.docker.compose.project": "shop",
            "com.docker.compose.service": "web",
            "exitCode": "1",
            "name": "web-1",
        },
    },
    "scope": "local",
    "time": 1754051401,
    "timeNano": 1754051401000000000,
}


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    compose = tmp_path / "compose.log"
    compose.write_text(COMPOSE)
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(EVENT) + "\n")
    return [compose, events]


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_layout_by_day_and_undated(tmp_path: Path, inputs: list[Path]) -> None:
    store = tmp_path / "store"
    summary, written = ingest_into_store(inputs, store=store, host="h1")
    # 4 timed records (the logged traceback is one), compose's exit line placed at the
    # time of the line before it, and `Attaching to` without a time
    assert written.written == {"logs": 6, "events": 1}
    assert summary.records == 6
    assert written.duplicates == summary.already_stored == 0
    assert (store / MARKER).is_file()
    days = sorted(p.name for p in (store / "logs").iterdir())
    assert days == ["day=2025-07-31", "day=2025-08-01", "day=undated"]
    assert [p.name for p in (store / "events").iterdir()] == ["day=2025-08-01"]
    undated = pl.read_parquet(store / "logs/day=undated")
    assert undated.get_column("container").to_list() == ["compose"]
    assert undated.get_column("message").to_list() == ["Attaching to api-1, web-1"]
    # atomic writes leave no temporary files behind
    assert not [p for p in files(store) if p.name.endswith(".tmp")]


def test_store_reports_its_own_layout(tmp_path: Path, inputs: list[Path]) -> None:
    """Every path inside the store comes from the store; asking creates nothing,
    and the paths are those existing stores already have."""
    root = tmp_path / "store"
    ingest_into_store(inputs, store=root, host="h1")
    history = Store.open(root)
    assert history.cache_dir("finding-signatures") == root / "cache" / "finding-signatures"
    assert history.checkpoints_dir() == root / "checkpoints"
    assert history.day_files("logs", "undated") == sorted(
        (root / "logs" / "day=undated").glob("*.parquet")
    )
    # (`cache` too when a writer keeps the digest's rollups: derived, safe to delete)
    assert sorted(p.name for p in root.iterdir() if p.name != "cache") == [
        ".lock",
        "events",
        MARKER,
        "logs",
    ]


def test_files_group_services_in_arrival_order(tmp_path: Path) -> None:
    """Rows are grouped by service (row-group statistics prune by service), each
    service's rows in arrival order, even when the input interleaves them."""
    log = tmp_path / "mixed.log"
    log.write_text(
        "web-1  | 2025-08-01T12:00:03Z w1\n"
        "api-1  | 2025-08-01T12:00:01Z a1\n"
        "web-1  | 2025-08-01T12:00:04Z w2\n"
        "db-1   | 2025-08-01T12:00:02Z d1\n"
        "api-1  | 2025-08-01T12:00:05Z a2\n"
    )
    ingest_into_store([log], store=tmp_path / "store", host="h1")
    (day_file,) = (tmp_path / "store/logs/day=2025-08-01").glob("*.parquet")
    frame = pl.read_parquet(day_file)
    assert frame.get_column("message").to_list() == ["a1", "a2", "d1", "w1", "w2"]
    assert frame.columns == LOGS_SCHEMA.names()  # no `day` column inside the files


def test_repeats_found_across_batches_and_containers(tmp_path: Path) -> None:
    """Known ids are probed per container and time range: a repeat is still
    found when other containers' batches came in between (compose dumping one
    container after another), and nothing else is dropped."""
    log = tmp_path / "blocks.log"
    log.write_text(
        "".join(f"web-1  | 2025-08-01T12:00:0{i}Z web {i}\n" for i in range(6))
        + "".join(f"api-1  | 2025-08-01T12:00:0{i}Z api {i}\n" for i in range(6))
    )
    logs = read_inputs([log], host="h").logs
    web, api = logs.filter(pl.col("service") == "web"), logs.filter(pl.col("service") == "api")
    history = Store.open(tmp_path / "store", create=True)
    result = history.append(
        [("logs", web.head(4)), ("logs", api.head(3)), ("logs", web.tail(3)), ("logs", api)]
    )
    assert result.written["logs"] == 12
    assert result.duplicates == 1 + 3  # web 3 came twice, api 0-2 twice
    again = history.append([("logs", web.slice(2, 2)), ("logs", api.tail(1))])
    assert (again.written["logs"], again.duplicates) == (0, 3)
    assert history.scan("logs").collect().get_column("id").is_unique().all()


def test_reingest_adds_nothing(tmp_path: Path, inputs: list[Path]) -> None:
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    before = files(store)
    summary, written = ingest_into_store(inputs, store=store, host="h1")
    assert written.written == {"logs": 0, "events": 0}
    assert written.duplicates == summary.already_stored == 7
    assert written.files == 0
    assert files(store) == before
    history = Store.open(store)
    assert history.scan("logs").collect().height == 6
    assert history.scan("logs").collect().get_column("id").is_unique().all()


def test_same_input_from_another_host_is_new(tmp_path: Path, inputs: list[Path]) -> None:
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    _, written = ingest_into_store(inputs, store=store, host="h2")
    assert written.written == {"logs": 6, "events": 1}
    logs = Store.open(store).scan("logs").collect()
    assert sorted(logs.get_column("host").unique().to_list()) == ["h1", "h2"]


def test_overlapping_capture_adds_only_new_lines(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = tmp_path / "a.log"
    first.write_text("web-1  | 2025-08-01T12:00:00.1Z one\nweb-1  | 2025-08-01T12:00:00.2Z two\n")
    second = tmp_path / "b.log"
    second.write_text(first.read_text() + "web-1  | 2025-08-01T12:00:00.3Z three\n")
    ingest_into_store([first], store=store, host="h")
    _, written = ingest_into_store([second], store=store, host="h")
    assert (written.written["logs"], written.duplicates) == (1, 2)
    messages = Store.open(store).scan("logs").collect().sort("ts").get_column("message")
    assert messages.to_list() == ["one", "two", "three"]


def test_scan_prunes_by_time_and_service(tmp_path: Path, inputs: list[Path]) -> None:
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    history = Store.open(store)
    assert history.scan("logs").collect().schema == LOGS_SCHEMA
    assert history.scan("events").collect().schema == EVENTS_SCHEMA
    since = datetime(2025, 8, 1, tzinfo=UTC)
    until = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
    window = history.scan("logs", since=since, until=until).collect()
    assert window.get_column("service").to_list() == ["api"]  # undated excluded
    web = history.scan("logs", services=["web"]).collect()
    assert web.height == 4  # its 3 records and compose's line about it
    assert history.scan("logs", since=datetime(2025, 8, 2, tzinfo=UTC)).collect().is_empty()
    late_web = history.scan("logs", since=until, services=["web"]).collect()
    assert late_web.get_column("message").to_list() == [
        *["GET /health 200"] * 2,
        "web-1 exited with code 1",  # (at the time of the line before it)
    ]


def test_scan_of_empty_store(tmp_path: Path) -> None:
    history = Store.open(tmp_path / "store", create=True)
    assert history.scan("logs").collect().is_empty()
    assert history.scan("logs").collect_schema() == LOGS_SCHEMA
    info = history.info()
    assert (info.logs.rows, info.logs.files, info.events.rows) == (0, 0, 0)


def test_info(tmp_path: Path, inputs: list[Path]) -> None:
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    info = Store.open(store).info()
    assert info.logs.rows == 6
    assert info.logs.files == len(list((store / "logs").rglob("*.parquet")))
    assert info.logs.bytes == sum(p.stat().st_size for p in (store / "logs").rglob("*.parquet"))
    assert info.logs.services == {"api": 1, "compose": 1, "web": 4}
    assert info.logs.first_ts == datetime(2025, 7, 31, 23, 59, 59, 900000, tzinfo=UTC)
    assert info.logs.last_ts == datetime(2025, 8, 1, 12, 30, tzinfo=UTC)
    assert info.events.rows == 1
    assert info.events.services == {"web": 1}


def test_compact_merges_files_and_keeps_rows(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for i in range(4):
        path = tmp_path / f"part{i}.log"
        path.write_text(
            f"web-1  | 2025-08-01T12:00:0{i}Z line {i}\napi-1  | 2025-08-01T12:00:0{i}Z x\n"
        )
        ingest_into_store([path], store=store, host="h")
    history = Store.open(store)
    rows_before = history.scan("logs").collect().sort("id")
    assert len(list((store / "logs/day=2025-08-01").glob("*.parquet"))) == 4
    done = history.compact()
    assert (done.before, done.after) == (4, 1)
    assert len(list((store / "logs/day=2025-08-01").glob("*.parquet"))) == 1
    assert history.scan("logs").collect().sort("id").equals(rows_before)
    assert not [p for p in files(store) if p.name.endswith(".tmp")]
    again = history.compact()
    assert again.before == again.after == 1
    # still idempotent after compaction
    _, written = ingest_into_store([tmp_path / "part0.log"], store=store, host="h")
    assert written.written["logs"] == 0


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no incidentlog store here \(ingest something first"):
        Store.open(tmp_path / "absent")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"exists and is not an incidentlog store"):
        Store.open(occupied, create=True)
    future = tmp_path / "future"
    future.mkdir()
    (future / MARKER).write_text('{"format": 99}')
    with pytest.raises(
        StoreError, match=rf"store format 99, this incidentlog reads {FORMAT_VERSION}$"
    ):
        Store.open(future)
    older = tmp_path / "older"
    older.mkdir()
    (older / MARKER).write_text('{"format": 1}')
    with pytest.raises(StoreError, match=r"store format 1, .*older incidentlog: ingest into a new"):
        Store.open(older)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / MARKER).write_text("{not json")
    with pytest.raises(StoreError, match=r"unreadable store marker"):
        Store.open(broken)


def test_default_store_path_honours_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env-store"))
    assert default_store_path() == tmp_path / "env-store"
    monkeypatch.delenv(STORE_ENV)
    assert default_store_path().name == "store"
    assert "incidentlog" in str(default_store_path())


def _ingest_process(store: Path, path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, STORE_ENV: str(store)}
    return subprocess.Popen(
        [sys.executable, "-m", "incidentlog", "ingest", str(path), "--host", "h"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _big_log(path: Path, service: str, n: int) -> Path:
    path.write_text(
        "".join(
            f"{service}-1  | 2025-08-01T12:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i:09d}Z line {i}\n"
            for i in range(n)
        )
    )
    return path


def test_concurrent_ingests_same_and_different_inputs(tmp_path: Path) -> None:
    store = tmp_path / "store"
    Store.open(store, create=True)
    same = _big_log(tmp_path / "same.log", "web", 20_000)
    other = _big_log(tmp_path / "other.log", "api", 20_000)
    processes = [
        _ingest_process(store, same),
        _ingest_process(store, same),
        _ingest_process(store, other),
        _ingest_process(store, other),
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    logs = Store.open(store).scan("logs").collect()
    assert logs.height == 40_000
    assert logs.get_column("id").is_unique().all()
    assert logs.group_by("service").len().sort("service").rows() == [
        ("api", 20_000),
        ("web", 20_000),
    ]
    assert not [p for p in files(store) if p.name.endswith(".tmp")]
    for parquet in store.rglob("*.parquet"):
        pl.read_parquet(parquet)  # every visible file is complete


def test_scan_window_in_other_time_zones(tmp_path: Path) -> None:
    """Day partitions are UTC days: an aware bound in +05:00 or a naive (UTC) one still finds the row."""
    from datetime import timedelta, timezone

    path = tmp_path / "late.log"
    path.write_text("web-1  | 2025-07-31T21:00:00Z late evening\n")
    ingest_into_store([path], store=tmp_path / "store", host="h")
    history = Store.open(tmp_path / "store")
    plus5 = timezone(timedelta(hours=5))
    assert (
        history.scan("logs", since=datetime(2025, 8, 1, 1, 0, tzinfo=plus5)).collect().height == 1
    )
    assert history.scan("logs", since=datetime(2025, 7, 31, 20, 0)).collect().height == 1
    assert (
        history.scan("logs", until=datetime(2025, 8, 1, 1, 59, tzinfo=plus5)).collect().is_empty()
    )


def test_ids_made_by_another_polars_hash_refuse_appends(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polars keeps its row hash only within a version. After an upgrade that
    changes it, re-ingesting would store every record again under new ids:
    the store notices (it records the ids of fixed records) and refuses."""
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    marker = json.loads((store / MARKER).read_text())
    assert marker["ids"] == id_fingerprint()
    assert marker["polars"] == pl.__version__
    before = files(store)

    import incidentlog.store as store_module

    monkeypatch.setattr(store_module, "id_fingerprint", lambda: "0-0-0")  # an "upgraded" hash
    with pytest.raises(
        StoreError,
        match=rf"made by Polars {pl.__version__}, whose row hash differs .*"
        rf"install polars=={pl.__version__} to add to this store, or ingest into a new --store",
    ):
        ingest_into_store(inputs, store=store, host="h1")
    assert files(store) == before  # nothing added
    assert Store.open(store).scan("logs").collect().height == 6  # reading is unaffected

    monkeypatch.undo()
    _, again = ingest_into_store(inputs, store=store, host="h1")  # the same Polars: a no-op
    assert again.written == {"logs": 0, "events": 0}


def test_a_store_without_recorded_ids_adopts_this_polars(
    tmp_path: Path, inputs: list[Path]
) -> None:
    store = tmp_path / "store"
    ingest_into_store(inputs, store=store, host="h1")
    (store / MARKER).write_text(json.dumps({"format": FORMAT_VERSION}))  # as session 3 wrote it
    _, written = ingest_into_store(inputs, store=store, host="h1")
    assert written.duplicates == 7
    assert json.loads((store / MARKER).read_text())["ids"] == id_fingerprint()


def test_the_fingerprint_covers_the_ids_ingest_gives(inputs: list[Path]) -> None:
    """Ingest's ids are `row_ids` of the identity columns as parsed (stream as
    text; the action and status of `docker events` as enums), and of
    (content, occurrence) for a repeat: hashes the fingerprint takes, so a
    change of them shows in it."""
    result = read_inputs(inputs, host="h")
    logs = result.logs.filter(pl.col("ts").is_not_null())  # (undated: occurrence = line number)
    content = row_ids(logs.with_columns(pl.col("stream").cast(pl.String)), LOG_IDENTITY)
    plain = logs.get_column("id") == content
    assert plain.sum() == logs.height - 1 == 4  # all but the second identical `GET /health`
    (repeat,) = (~plain).arg_true().to_list()
    occurrence = pl.DataFrame(
        {"_content": [content[repeat]], "_k": pl.Series([1], dtype=pl.UInt64)}
    )
    assert logs.get_column("id")[repeat] == row_ids(occurrence, ("_content", "_k"))[0]
    events = result.events
    assert events.get_column("id").to_list() == row_ids(events, EVENT_IDENTITY).to_list()


def test_compact_orders_files_by_time_and_drops_repeated_ids(tmp_path: Path) -> None:
    """Files whose names sort against their time order: the merged file still
    has each service's rows in time order (files by their earliest time), and
    a file copied in twice (ids already stored) ends up once."""
    store = tmp_path / "store"
    for hour in (3, 1, 2):  # out of time order, and writers' names are random
        path = tmp_path / f"h{hour}.log"
        path.write_text(
            "".join(
                f"{svc}-1  | 2025-08-01T0{hour}:00:0{i}Z {svc} line {i}\n"
                for i in range(3)
                for svc in ("web", "api")
            )
        )
        ingest_into_store([path], store=store, host="h")
    day = store / "logs/day=2025-08-01"
    earliest = {f: pl.read_parquet(f).get_column("ts").min() for f in day.glob("*.parquet")}
    by_time = sorted(earliest, key=lambda f: str(earliest[f]))
    for name, file in zip(("c", "b", "a"), by_time, strict=True):  # names against time order
        file.rename(day / f"{name}.parquet")
    (day / "d-copy.parquet").write_bytes((day / "a.parquet").read_bytes())
    history = Store.open(store)
    assert history.scan("logs").collect().height == 18 + 6
    done = history.compact()
    assert (done.before, done.after) == (4, 1)
    merged = pl.read_parquet(next(day.glob("*.parquet")))
    assert merged.height == 18
    assert merged.get_column("id").n_unique() == 18
    assert merged.get_column("service").to_list() == ["api"] * 9 + ["web"] * 9
    for service in ("api", "web"):
        ts = merged.filter(pl.col("service") == service).get_column("ts")
        assert ts.is_sorted(), service
