"""Pruning and compaction: a window and a host plan few files; compaction loses and doubles nothing.

Eight hosts push three days each. A two-hour window and one host plan at
most two data files (the day partition and the host's file statistics);
after compaction a service filter reads only the row groups holding that
service. Compaction while hosts push and the committer commits keeps every
record once, and deletes landing files only once no snapshot references them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lake_emulator import (
    CATALOG,
    Emulator,
    catalog_env,
    compose_log,
    require_lake_extra,
    s3_emulator,
    use_catalog,
)
from typer.testing import CliRunner

require_lake_extra()

import polars as pl  # noqa: E402

from incidentlog.cli import app  # noqa: E402
from incidentlog.ingest import ingest_into_store  # noqa: E402
from incidentlog.lake import Lake  # noqa: E402
from incidentlog.lake.commit import CommitOptions, Committer  # noqa: E402
from incidentlog.lake.compact import compact  # noqa: E402
from incidentlog.lake.push import StoreFile, push  # noqa: E402
from incidentlog.lake.read import plan, scan  # noqa: E402
from incidentlog.store import Store  # noqa: E402

HOSTS = [f"node-{i}" for i in range(8)]
START = datetime(2025, 8, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with s3_emulator() as running:
        yield running


def _push_host(
    lake: Lake, root: Path, host: str, *, days: int = 3, start: datetime = START
) -> None:
    store = root / host
    log = compose_log(root / f"{host}-{start:%d}.log", host, days=days, per_hour=20, start=start)
    ingest_into_store([log], store=store, host=host)
    opened = Store.open(store)
    files = [
        StoreFile(d, day, f)
        for d in ("logs", "events")
        for day in opened.layout.days(d)
        for f in opened.day_files(d, day)
    ]
    push(lake, files, host=host, ledger_dir=opened.cache_dir(f"lake-{CATALOG}"))


@pytest.fixture
def lake(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    use_catalog(catalog_env(emulator, tmp_path), monkeypatch)
    opened = Lake.open(CATALOG)
    for host in HOSTS:
        _push_host(opened, tmp_path, host)
    Committer(opened, CommitOptions()).run()
    return opened


def _keys(stores: list[Path]) -> pl.DataFrame:
    files = [f for s in stores for f in sorted((s / "logs").rglob("*.parquet"))]
    return pl.scan_parquet(files, hive_partitioning=False).select("host", "id").collect()


def test_a_two_hour_window_and_one_host_plan_at_most_two_files(lake: Lake) -> None:
    since = START + timedelta(days=1, hours=10)
    until = since + timedelta(hours=2)
    everything = plan(lake, "logs")
    assert len(everything) == 3 * len(HOSTS)
    window = plan(lake, "logs", since=since, until=until)
    assert len(window) == len(HOSTS)  # one day partition
    planned = plan(lake, "logs", since=since, until=until, hosts=["node-3"])
    assert 1 <= len(planned) <= 2
    output = CliRunner().invoke(
        app,
        [
            *("lake", "plan", "--lake", CATALOG, "--host", "node-3"),
            *("--since", since.isoformat(), "--until", until.isoformat()),
        ],
    )
    assert output.exit_code == 0, output.output
    assert output.stdout.endswith(f"planned: {len(planned)} files\n")
    assert all("/landing/day=2025-08-02/node-3-" in item.path for item in planned)
    rows = scan(lake, "logs", since=since, until=until).filter(pl.col("host") == "node-3")
    assert rows.select(pl.len()).collect().item() == 2 * 20 + 1


def test_after_compaction_a_service_reads_only_its_row_groups(lake: Lake) -> None:
    import pyarrow.parquet as pq

    table = lake.table("logs")
    with table.transaction() as change:
        change.set_properties({"write.parquet.row-group-limit": "500"})
    result = compact(lake, keep=1, grace=timedelta(0))
    assert result.days == 3
    assert result.files_before == 3 * len(HOSTS)
    assert result.files_after == 3
    for item in plan(lake, "logs", services=["api"]):
        with lake.table("logs").io.new_input(item.path).open() as stream:
            groups = pq.ParquetFile(stream)
            holding = sum(
                "api" in groups.read_row_group(i, columns=["service"]).column(0).to_pylist()
                for i in range(groups.num_row_groups)
            )
        assert item.row_groups > 4
        assert item.row_groups_read == holding < item.row_groups
    landing = lake.objects("logs").list("landing")
    assert landing == []  # no snapshot references them any more
    assert scan(lake, "logs").select(pl.len()).collect().item() == 3 * 24 * 20 * len(HOSTS)


def test_landing_files_stay_while_a_snapshot_references_them(lake: Lake) -> None:
    before = len(lake.objects("logs").list("landing"))
    compact(lake, keep=50, grace=timedelta(0))
    assert len(lake.objects("logs").list("landing")) == before
    old = min(lake.table("logs").snapshots(), key=lambda s: s.timestamp_ms)
    count = pl.scan_iceberg(lake.table("logs"), snapshot_id=old.snapshot_id).select(pl.len())
    assert count.collect().item() > 0  # time travel still reads them


def test_compaction_under_concurrent_pushes_loses_and_doubles_nothing(
    lake: Lake, tmp_path: Path
) -> None:
    late = [f"late-{i}" for i in range(4)]
    errors: list[BaseException] = []

    def hosts_and_committer() -> None:
        try:
            for i, host in enumerate(late):
                _push_host(lake, tmp_path, host, days=1, start=START + timedelta(days=i % 3))
                Committer(lake, CommitOptions()).run()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    worker = threading.Thread(target=hosts_and_committer)
    worker.start()
    results = [compact(lake, keep=1, grace=timedelta(0)) for _ in range(3)]
    worker.join()
    assert not errors
    Committer(lake, CommitOptions()).run()
    # (a host that lost its ledger pushes its records again; compaction drops them)
    for path in (tmp_path / "late-0").rglob("lake-*"):
        for file in sorted(path.rglob("*"), reverse=True):
            file.unlink() if file.is_file() else file.rmdir()
        path.rmdir()
    _push_host(lake, tmp_path, "late-0", days=1, start=START)
    Committer(lake, CommitOptions()).run()
    doubled = scan(lake, "logs").select(pl.len()).collect().item()
    final = compact(lake, keep=1, grace=timedelta(0))
    expected = _keys([tmp_path / h for h in HOSTS + late])
    got = scan(lake, "logs").select("host", "id").collect()
    assert doubled > expected.height
    assert final.duplicates == doubled - expected.height
    assert got.height == expected.unique().height == expected.height
    assert got.join(expected, on=["host", "id"], how="anti").is_empty()
    assert sum(r.days for r in results) >= 3
