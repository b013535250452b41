"""Nothing lost, nothing doubled: ingest and compaction killed at every write,
rename and unlink; readers running during compactions; disk full on a small
tmpfs; a read-only store.

A kill is simulated in a child process that counts the filesystem steps of
the store (temporary writes, renames, unlinks, fsyncs) and calls `os._exit`
at step K, without running any cleanup, for every K until the run completes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.ingest import ingest_into_store
from incidentlog.store import Store

REPO = Path(__file__).resolve().parents[1]
KILLED = 77

KILLER = textwrap.dedent(
    """
    import os, pathlib, sys
    import polars as pl

    target = int(sys.argv[1])
    count = 0

    def step(path=None):
        global count
        count += 1
        if count == target:
            if path is not None and os.path.exists(path):  # killed half-way through a write
                with open(path, "r+b") as f:
                    f.truncate(os.path.getsize(path) // 2)
            os._exit(77)

    def wrap(original, is_write=False):
        def wrapper(self, *args, **kwargs):
            if not is_write:
                step()
            result = original(self, *args, **kwargs)
            if is_write:
                step(args[0] if args else None)
            return result
        return wrapper

    pathlib.Path.replace = wrap(pathlib.Path.replace)
    pathlib.Path.unlink = wrap(pathlib.Path.unlink)
    pathlib.Path.write_bytes = wrap(pathlib.Path.write_bytes)
    pl.DataFrame.write_parquet = wrap(pl.DataFrame.write_parquet, is_write=True)
    pl.LazyFrame.sink_parquet = wrap(pl.LazyFrame.sink_parquet, is_write=True)
    fsync = os.fsync
    os.fsync = lambda fd: (step(), fsync(fd))[1]

    from incidentlog.cli import app
    sys.argv = ["incidentlog", *sys.argv[2:]]
    try:
        app()
    except SystemExit as exc:
        os._exit(exc.code or 0)
    """
)


def _killed_at(step: int, *args: str) -> int:
    """Run `incidentlog ARGS` killed at filesystem step `step`; its exit code
    (KILLED when it was killed)."""
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(step), *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def _log(folder: Path, name: str, day: int, start: int, count: int) -> Path:
    path = folder / name
    path.write_text(
        "".join(
            f"{service}-1  | 2025-08-0{day}T{10 + i // 60:02d}:{i % 60:02d}:00.000000000Z "
            f"{service} line {i}\n"
            for i in range(start, start + count)
            for service in ("api", "web")
        )
    )
    return path


def _rows(store: Path) -> pl.DataFrame:
    return Store.open(store).scan("logs").collect().sort("id")


def _leftovers(store: Path) -> list[Path]:
    return [p for p in store.rglob(".*") if p.is_file() and p.name != ".lock"]


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    """Three inputs over two days: a store of several small files per day."""
    return [
        _log(tmp_path, "a.log", 1, 0, 30),
        _log(tmp_path, "b.log", 1, 30, 30),
        _log(tmp_path, "c.log", 2, 0, 30),
    ]


def test_compact_killed_at_every_step_loses_and_doubles_nothing(
    tmp_path: Path, parts: list[Path]
) -> None:
    pristine = tmp_path / "pristine"
    for part in [*parts, parts[0]]:  # (a.log twice: adds nothing)
        ingest_into_store([part], store=pristine, host="h")
    clean_store = tmp_path / "clean"
    shutil.copytree(pristine, clean_store)
    Store.open(clean_store).compact()
    clean = _rows(clean_store)
    assert clean.height == 180
    step = 0
    while True:
        step += 1
        store = tmp_path / f"killed-{step}"
        shutil.copytree(pristine, store)
        code = _killed_at(step, "store", "compact", "--store", str(store))
        # a reader, before anyone cleans up: every row once
        assert _rows(store).equals(clean), f"killed at step {step}"
        Store.open(store).compact()  # the next writer recovers, then compacts
        assert _rows(store).equals(clean), f"killed at step {step}"
        assert not _leftovers(store), f"killed at step {step}: {_leftovers(store)}"
        for day in ("2025-08-01", "2025-08-02"):
            assert len(Store.open(store).day_files("logs", day)) == 1
        if code != KILLED:
            assert code == 0
            break
    assert step > 8  # journal, merged file, fsync, rename, each unlink: all kill points


def test_ingest_killed_at_every_step_then_rerun_equals_a_clean_run(
    tmp_path: Path, parts: list[Path]
) -> None:
    clean_store = tmp_path / "clean"
    ingest_into_store(parts, store=clean_store, host="h")
    clean = _rows(clean_store)
    step = 0
    while True:
        step += 1
        store = tmp_path / f"killed-{step}"
        args = ["ingest", *map(str, parts), "--store", str(store), "--host", "h"]
        code = _killed_at(step, *args)
        if store.exists() and (store / "incidentlog-store.json").exists():
            seen = _rows(store)
            assert seen.get_column("id").n_unique() == seen.height  # nothing doubled
            assert seen.join(clean, on="id", how="anti").is_empty()  # nothing foreign
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert _rows(store).equals(clean), f"killed at step {step}"
        assert not _leftovers(store), f"killed at step {step}: {_leftovers(store)}"
        if code != KILLED:
            break
    assert step > 4


def test_readers_during_compactions_see_every_row_once(tmp_path: Path, parts: list[Path]) -> None:
    pristine = tmp_path / "pristine"
    for part in parts:
        ingest_into_store([part], store=pristine, host="h")
    expected = _rows(pristine).get_column("id")
    store = tmp_path / "store"
    reads = 0
    for _ in range(4):
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(pristine, store)
        compacting = subprocess.Popen(
            [sys.executable, "-m", "incidentlog", "store", "compact", "--store", str(store)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stderr=subprocess.PIPE,
            text=True,
        )
        while compacting.poll() is None:
            assert _rows(store).get_column("id").equals(expected)
            reads += 1
        _, errors = compacting.communicate()
        assert compacting.returncode == 0, errors
        assert _rows(store).get_column("id").equals(expected)
    assert reads > 4


def test_stale_temporary_files_are_removed_by_the_next_writer(
    tmp_path: Path, parts: list[Path]
) -> None:
    store = tmp_path / "store"
    ingest_into_store(parts[:1], store=store, host="h")
    day = store / "logs/day=2025-08-01"
    (day / ".dead-writer-0.parquet.tmp").write_bytes(b"PAR1 half a file")
    (day / ".compact-x.compact.json").write_text('{"merged": "compact-x.parquet", "replaces": []}')
    checked = CliRunner().invoke(app, ["store", "check", "--store", str(store)])
    assert "2 files left by killed writers" in checked.output
    ingest_into_store(parts[1:2], store=store, host="h")
    assert not _leftovers(store)


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    return done.returncode == 0


def _big_log(path: Path, lines: int) -> Path:
    body = "".join(
        f"svc{i % 5}-1  | 2025-08-0{1 + i * 3 // lines}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:"
        f"{i % 60:02d}.{i:09d}Z request {i:08x} {'x' * 40} {i * 7919 % 100003}\n"
        for i in range(lines)
    )
    path.write_text(body)
    return path


def test_disk_full_during_ingest_says_what_was_stored_and_rerun_completes(
    tmp_path: Path,
) -> None:
    if os.environ.get("CI") != "true" and os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "3m"):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        log = _big_log(tmp_path / "big.log", 150_000)
        store = small / "store"
        result = CliRunner().invoke(app, ["ingest", str(log), "--store", str(store)])
        assert result.exit_code == 1
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.output
        assert "disk full" in errors[0]
        assert "running the same command again adds the rest" in errors[0]
        assert "Traceback" not in result.output
        assert not [p for p in small.rglob("*.tmp")]  # temporary files removed
        stored = Store.open(store).scan("logs").select(pl.len()).collect().item()
        assert f"{stored} records" in errors[0]
        # once there is room, the same command completes it
        roomy = tmp_path / "roomy"
        shutil.copytree(store, roomy)
        again = CliRunner().invoke(app, ["ingest", str(log), "--store", str(roomy)])
        assert again.exit_code == 0, again.output
        assert Store.open(roomy).scan("logs").select(pl.len()).collect().item() == 150_000
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_read_only_store_is_one_error_line(tmp_path: Path, parts: list[Path]) -> None:
    folder = tmp_path / "ro"
    mounted = _mount_tmpfs(folder, "8m")
    store = folder / "store"
    ingest_into_store(parts[:1], store=store, host="h")
    try:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        else:
            for path in [store, *store.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        for args in (
            ["ingest", str(parts[1])],
            ["store", "compact"],
            ["store", "check", "--repair"],
            ["store", "prune", "--before", "1d"],
        ):
            result = CliRunner().invoke(app, [*args, "--store", str(store)])
            assert result.exit_code == 1, (args, result.output)
            assert result.output.startswith("Error: "), result.output
            assert "cannot" in result.output and "Traceback" not in result.output
        # reading still works
        result = CliRunner().invoke(app, ["grep", "-c", "line", "--store", str(store)])
        assert result.exit_code == 0 and "api:30" in result.output
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
