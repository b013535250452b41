"""Many hosts push while committers are killed: the table holds every record exactly once.

Eight hosts (separate stores, distinct host names) push in two rounds while a
committer runs; it is killed with SIGKILL twice and restarted, and a second
committer is started against the lease. The table must then hold exactly the
union of the eight stores' records: no (host, id) twice, none missing. The
fence is also tested on its own: a batch claimed by a committer that died
before committing is committed once by the next, and a commit on a stale
table fails instead of registering files twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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

require_lake_extra()

import polars as pl  # noqa: E402

import incidentlog  # noqa: E402
from incidentlog.ingest import ingest_into_store  # noqa: E402
from incidentlog.lake import Lake  # noqa: E402
from incidentlog.lake.commit import WATERMARK, CommitOptions, Committer, watermark  # noqa: E402
from incidentlog.lake.push import StoreFile, push  # noqa: E402
from incidentlog.lake.read import scan  # noqa: E402
from incidentlog.store import Store  # noqa: E402

HOSTS = [f"node-{i}" for i in range(8)]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with s3_emulator() as running:
        yield running


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    catalog = catalog_env(emulator, tmp_path)
    use_catalog(catalog, monkeypatch)
    Lake.open(CATALOG).table("logs")  # (made once here rather than by 8 racing hosts)
    Lake.open(CATALOG).table("events")
    source = str(Path(incidentlog.__file__).parent.parent)
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
    logs = tmp_path / "outputs"
    logs.mkdir()
    return {**os.environ, **catalog, "PYTHONPATH": path, "LAKE_TEST_LOGS": str(logs)}


_OUTPUTS: dict[int, Path] = {}


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """`incidentlog ARGS` in its own process, its output in a file (`_output`)."""
    log = Path(env["LAKE_TEST_LOGS"]) / f"{len(_OUTPUTS)}.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "incidentlog", *args], env=env, stdout=out, stderr=out
        )
    _OUTPUTS[process.pid] = log
    return process


def _output(process: subprocess.Popen[bytes]) -> str:
    return _OUTPUTS[process.pid].read_text(errors="replace")


def _store_keys(stores: list[Path]) -> pl.DataFrame:
    return pl.concat(
        pl.scan_parquet(sorted((s / "logs").rglob("*.parquet")), hive_partitioning=False)
        .select("host", "id")
        .collect()
        for s in stores
    )


def _lake_keys() -> pl.DataFrame:
    return scan(Lake.open(CATALOG), "logs").select("host", "id").collect()


def _ingest_round(stores: list[Path], tmp_path: Path, round_: int) -> None:
    """One more day of records in every host's store."""
    for host, store in zip(HOSTS, stores, strict=True):
        day = datetime(2025, 8, 1 + round_, tzinfo=UTC)
        log = compose_log(tmp_path / f"{host}-{round_}.log", host, per_hour=30, start=day)
        ingest_into_store([log], store=store, host=host)


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_eight_hosts_and_killed_committers_store_each_record_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    stores = [tmp_path / host for host in HOSTS]
    _ingest_round(stores, tmp_path, 0)
    committer = [
        "lake", "commit", "--lake", CATALOG, "--follow",
        "--interval", "0.2", "--lease-ttl", "3", "--max-files", "2",
    ]  # fmt: skip
    first = _cli(env, *committer)
    pushes = [_cli(env, "lake", "push", "--lake", CATALOG, "--store", str(s), "--host", h)
              for s, h in zip(stores, HOSTS, strict=True)]  # fmt: skip
    time.sleep(4)
    _kill(first)  # killed once
    restarted = _cli(env, *committer)
    for process in pushes:
        assert process.wait(timeout=300) == 0, _output(process)
    _ingest_round(stores, tmp_path, 1)
    pushes = [_cli(env, "lake", "push", "--lake", CATALOG, "--store", str(s), "--host", h)
              for s, h in zip(stores, HOSTS, strict=True)]  # fmt: skip
    time.sleep(5)
    _kill(restarted)  # killed twice
    final = _cli(env, *committer)
    second = _cli(env, *committer)  # against the lease: waits
    for process in pushes:
        assert process.wait(timeout=300) == 0, _output(process)
    expected = _store_keys(stores)
    deadline = time.monotonic() + 300
    while _lake_keys().height < expected.height and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(2)  # a last commit, if any, would show a duplicate now
    for process in (final, second):
        process.send_signal(signal.SIGINT)
    for process in (final, second):
        process.wait(timeout=60)
    outputs = [_output(p) for p in (first, restarted, final, second)]
    lake = _lake_keys()
    assert expected.height == expected.unique().height
    assert lake.height == expected.height, "records lost or doubled"
    assert lake.unique().height == lake.height, "a (host, id) twice"
    assert lake.join(expected, on=["host", "id"], how="anti").is_empty()
    assert sorted(lake.get_column("host").unique()) == HOSTS
    assert any("waiting for the lease" in out for out in outputs), outputs
    assert watermark(Lake.open(CATALOG).table("logs")) >= len(HOSTS)  # batches of 2 of 16 files


def _pushed_store(tmp_path: Path, host: str) -> list[StoreFile]:
    store = tmp_path / host
    ingest_into_store([compose_log(tmp_path / f"{host}.log", host)], store=store, host=host)
    opened = Store.open(store)
    return [
        StoreFile(d, day, f)
        for d in ("logs", "events")
        for day in opened.layout.days(d)
        for f in opened.day_files(d, day)
    ]


def test_a_batch_claimed_by_a_dead_committer_is_committed_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    lake = Lake.open(CATALOG)
    files = _pushed_store(tmp_path, "solo")
    push(lake, files, host="solo", ledger_dir=tmp_path / "ledger")
    dead = Committer(lake, CommitOptions())
    dead.batches["logs"].refresh()
    landed = [i.path for i in lake.objects("logs").list("landing")]
    assert dead.batches["logs"].claim(1, landed)  # ... and died before add_files
    result = Committer(Lake.open(CATALOG), CommitOptions()).run()
    assert result.recovered == 1
    table = Lake.open(CATALOG).table("logs")
    assert watermark(table) == 1
    keys = _lake_keys()
    assert keys.height == keys.unique().height > 0
    assert Committer(Lake.open(CATALOG), CommitOptions()).run().files == 0


def test_a_commit_on_a_stale_table_fails_instead_of_doubling(
    env: dict[str, str], tmp_path: Path
) -> None:
    from pyiceberg.exceptions import CommitFailedException

    lake = Lake.open(CATALOG)
    push(lake, _pushed_store(tmp_path, "racer"), host="racer", ledger_dir=tmp_path / "ledger")
    stale = lake.table("logs")  # a committer that read the table, then paused
    Committer(lake, CommitOptions()).run()
    urls = [lake.objects("logs").url(i.path) for i in lake.objects("logs").list("landing")]
    with pytest.raises(CommitFailedException):
        stale.add_files(urls, snapshot_properties={WATERMARK: "1"}, check_duplicate_files=False)
    keys = _lake_keys()
    assert keys.height == keys.unique().height


def test_a_second_committer_is_refused_while_the_lease_is_held(
    env: dict[str, str], tmp_path: Path
) -> None:
    from incidentlog.errors import LakeError

    lake = Lake.open(CATALOG)
    holder = Committer(lake, CommitOptions(lease_ttl=60))
    assert holder.lease.hold() is not None
    with pytest.raises(LakeError, match="another committer holds the lease"):
        Committer(Lake.open(CATALOG), CommitOptions()).run()


def test_entries_a_killed_committer_left_are_deleted_not_committed_again(
    env: dict[str, str], tmp_path: Path
) -> None:
    from incidentlog.lake.objects import INBOX, announcement

    lake = Lake.open(CATALOG)
    push(lake, _pushed_store(tmp_path, "solo"), host="solo", ledger_dir=tmp_path / "ledger")
    objects = lake.objects("logs")
    announced = [i.path for i in objects.list(INBOX)]
    assert announced  # push announces what it landed
    assert Committer(lake, CommitOptions()).run().files == len(announced)
    assert objects.list(INBOX) == []  # committed: no longer announced
    before = _lake_keys().height
    for path in announced:  # as left by a committer killed after add_files
        assert objects.create(path, b"")
    again = Committer(Lake.open(CATALOG), CommitOptions()).run()
    assert again.files == 0 and objects.list(INBOX) == []
    keys = _lake_keys()
    assert keys.height == keys.unique().height == before
    assert [announcement(p) for p in [i.path for i in objects.list("landing")]] == announced


def test_a_commit_lists_what_is_pending_not_the_history(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committer never lists the landing prefix, and lists the batches only
    from the last one it knows: a commit's work does not grow with the files
    committed before it (what made `lake commit` slow down over 1,000 commits)."""
    from incidentlog.lake import objects as objects_module
    from incidentlog.lake.objects import LEASE

    lake = Lake.open(CATALOG)
    committer = Committer(lake, CommitOptions())
    listed: list[tuple[str, int]] = []
    original = objects_module.Objects.list

    def counting(self: objects_module.Objects, prefix: str, after: str | None = None) -> list:  # type: ignore[type-arg]
        found = original(self, prefix, after)
        listed.append((prefix, len(found)))
        return found

    monkeypatch.setattr(objects_module.Objects, "list", counting)
    rounds = 4
    for host in HOSTS[:rounds]:
        store_files = _pushed_store(tmp_path, host)
        push(lake, store_files, host=host, ledger_dir=tmp_path / f"ledger-{host}")
        listed.clear()
        result = committer.run()
        assert result.files > 0
        assert all(prefix != "landing" for prefix, _ in listed)
        # The inbox holds this round's files only; batches: this round's new ones.
        largest = max(count for prefix, count in listed if prefix != LEASE)
        assert largest <= len(store_files) + 1, listed
    assert len(lake.objects("logs").list("landing")) > len(store_files) + 1  # the history grew
    keys = _lake_keys()
    assert keys.height == keys.unique().height
