"""grep's text index (`store.textindex`) skips row groups, never results.

The store here is written in row groups of 256 records so that one day has
dozens: every query must give the same records with the index, without it
(the plain scan), after its cache is deleted (rebuilt) and after compaction
rewrote the files (a new index, the old one an orphan); a text in a row group
must never be skipped, and a rare or absent text must skip most of them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog import search
from incidentlog.ingest import ingest_into_store
from incidentlog.search import GrepQuery, grep_history, required_literals
from incidentlog.sources import EvidenceSource, Request
from incidentlog.store import Store, textindex, writer
from incidentlog.store import rollups as file_caches
from incidentlog.store.textindex import TEXT_INDEX, block_mask, trigram_keys

ROWS = 256
ASYNCIO = "asyncio.run() cannot be called from a running event loop"

QUERIES = [
    GrepQuery(ASYNCIO, fixed=True),
    GrepQuery("Connection refused", fixed=True),
    GrepQuery("CONNECTION REFUSED", fixed=True, ignore_case=True),
    GrepQuery("no record says this", fixed=True),
    GrepQuery("Agent registry sync failed"),
    GrepQuery(r"refused.*\d+$"),
    GrepQuery("get /", ignore_case=True),
    GrepQuery("health", fixed=True, invert=True),
    GrepQuery("unhealthy", fixed=True, limit=3),
    GrepQuery("sync fail(ed)?"),
    GrepQuery("Connection refused", fixed=True, before=2, after=1),
]


@pytest.fixture(scope="module")
def store(sample_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2025-08-01 incident in small row groups, the index written by ingest."""
    seed = sample_logs / "2025-08-01-health-checks"
    path = tmp_path_factory.mktemp("index") / "store"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "ROW_GROUP_ROWS", ROWS)
        patch.setattr(textindex, "ROW_GROUP_ROWS", ROWS)
        patch.setitem(file_caches._EAGER, TEXT_INDEX.name, TEXT_INDEX)
        inputs = [seed / n for n in ("compose.log", "events.jsonl", "inspect.json", "ps.txt")]
        ingest_into_store(inputs, store=path, host="vm1")
    return path


def index_files(store: Path) -> list[Path]:
    return sorted((store / "cache" / TEXT_INDEX.name).rglob("*.parquet"))


def found(store: Path, query: GrepQuery, **request: Any) -> pl.DataFrame:
    return grep_history(query, EvidenceSource(Request(store=store, **request))).records


def plain(store: Path, query: GrepQuery, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(search, "_text_keys", lambda query: [])
        return found(store, query)


def test_ingest_writes_an_index_of_many_blocks(store: Path) -> None:
    (index,) = index_files(store)
    frame = pl.read_parquet(index)
    data = sorted(store.glob("logs/day=*/*.parquet"))
    assert frame.height > 20
    assert frame.get_column("rows").sum() == pl.scan_parquet(data).select(pl.len()).collect().item()
    assert set(frame.get_column("rows").to_list()[:-1]) == {ROWS}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.pattern)
def test_same_records_with_and_without_the_index(
    store: Path, query: GrepQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_index = found(store, query)
    assert with_index.equals(plain(store, query, monkeypatch))


def test_a_window_and_services_with_the_index(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = GrepQuery("Connection refused", fixed=True)
    window = {
        "since": datetime(2025, 8, 1, 12, tzinfo=UTC),
        "until": datetime(2025, 8, 1, 13, tzinfo=UTC),
    }
    with_index = found(store, query, services=("agent-*",), **window)
    with monkeypatch.context() as patch:
        patch.setattr(search, "_text_keys", lambda query: [])
        without = found(store, query, services=("agent-*",), **window)
    assert with_index.height > 0
    assert with_index.equals(without)


def test_rare_and_absent_texts_skip_most_row_groups(store: Path) -> None:
    (index,) = index_files(store)
    frame = pl.read_parquet(index)
    absent = block_mask(frame, trigram_keys(["no record says this"], ignore_case=False))
    assert not any(absent)
    rare = found(store, GrepQuery("Agent registry sync failed", fixed=True))
    kept = block_mask(frame, trigram_keys(["Agent registry sync failed"], ignore_case=False))
    assert 0 < sum(kept) < len(kept) / 2
    assert rare.height > 0


def test_deleted_indexes_change_nothing(store: Path, tmp_path: Path) -> None:
    """One file's index deleted: rebuilt by the next search; the whole folder
    deleted: the store is not indexed any more, every file is read whole."""
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    before = [found(copy, q) for q in QUERIES]
    (index,) = index_files(copy)
    index.unlink()
    rebuilt = [found(copy, q) for q in QUERIES]
    assert index_files(copy) == [index]
    shutil.rmtree(copy / "cache")
    scanned = [found(copy, q) for q in QUERIES]
    assert index_files(copy) == []
    for a, b, c in zip(before, rebuilt, scanned, strict=True):
        assert a.equals(b) and a.equals(c)


def test_a_store_without_the_index_builds_none(
    store: Path, tmp_path: Path, sample_logs: Path
) -> None:
    """Ingest writes no index unless asked (it costs ingest time): grep then scans."""
    path = tmp_path / "store"
    ingest_into_store([sample_logs / "2025-08-01-health-checks" / "compose.log"], store=path)
    query = GrepQuery(ASYNCIO, fixed=True)
    assert found(path, query).height == found(store, query).height > 0
    assert not (path / "cache" / TEXT_INDEX.name).exists()


def test_compacted_files_get_a_new_index(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    query = GrepQuery("Connection refused", fixed=True)
    before = found(copy, query)
    ingest_into_store(  # a second file on the day: compaction has two to merge
        [_late_line(tmp_path)], store=copy, host="vm1"
    )
    Store.open(copy).compact()
    old = index_files(copy)
    after = found(copy, query)
    assert after.height == before.height + 1
    (data,) = sorted(copy.glob("logs/day=*/*.parquet"))
    current = index_files(copy)
    assert [p.name.split(".")[0] for p in current] == [data.stem]
    assert set(old) - set(current)  # the merged files' indexes are gone


def _late_line(folder: Path) -> Path:
    path = folder / "late.log"
    path.write_text(
        "api-1  | 2025-08-01T13:59:59.000000000Z connect: Connection refused (a late line)\n"
    )
    return path


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_text_is_never_skipped_where_it_is(store: Path, data: st.DataObject) -> None:
    """Any piece of any record, in any case: every row group holding it is kept."""
    (index,) = index_files(store)
    frame = pl.read_parquet(index)
    (file,) = sorted(store.glob("logs/day=*/*.parquet"))
    messages = pl.read_parquet(file, columns=["message"]).get_column("message")
    row = data.draw(st.integers(0, messages.len() - 1))
    message = messages[row]
    start = data.draw(st.integers(0, max(0, len(message) - 3)))
    piece = message[start : start + data.draw(st.integers(3, 40))]
    upper = data.draw(st.booleans())
    ascii_upper = "".join(c.upper() if c.isascii() else c for c in piece)
    text, fold = (ascii_upper, True) if upper else (piece, False)
    assert block_mask(frame, trigram_keys([text], ignore_case=fold))[row // ROWS]


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("Connection refused", ["Connection refused"]),
        (r"refused.*5432", ["refused", "5432"]),
        (r"colou?r map", ["colo", "r map"]),
        (r"ab*c{2,3}d+e", ["a", "d", "e"]),
        (r"^GET /api/v\d+/items$", ["GET /api/v", "/items"]),
        (r"error [a-z]+ failed", ["error ", " failed"]),
        (r"x[]a]y", ["x", "y"]),
        (r"timeout|refused", []),
        (r"(timeout) now", []),
        (r"\x41BC", []),
        (r"\pL+ end", []),
        (r"a[[:alpha:]]b", []),
        (r"dot\.com", ["dot", "com"]),
    ],
)
def test_required_literals(pattern: str, literals: list[str]) -> None:
    assert required_literals(pattern) == literals


def test_without_an_index_a_read_only_store_is_scanned_whole(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    before = [found(copy, q) for q in QUERIES]
    shutil.rmtree(copy / "cache")
    monkeypatch.setattr(textindex.os, "access", lambda path, mode: False)
    after = [found(copy, q) for q in QUERIES]
    assert all(a.equals(b) for a, b in zip(before, after, strict=True))
    assert index_files(copy) == []  # nothing built, nothing written: every file read whole
