#!/usr/bin/env python3
"""The lake against the local store, on this machine's S3 emulator and a SQLite catalog.

    python benchmarks/bench_lake.py parity 1000000      # 1M generated lines
    python benchmarks/bench_lake.py commits 1000         # metadata after 1,000 commits

`parity`: generates N lines (`--generator`, default
/work/shared/bench/gen_compose_logs.py; needs numpy), ingests them into a
local store (host `bench-1`), pushes and commits them to a lake, then runs
grep (text, jsonl, --count) and digest --format json over both and checks
the outputs are equal; prints the seconds of each over the store (the
baseline, same run) and over the lake, and their ratio.

`commits`: commits N one-file batches (`lake commit`'s own code, one landing
file each) and prints, every N/10 commits, the manifests of the current
snapshot, the size of the current metadata file, the metadata files kept,
the snapshots kept and the mean commit time of the last N/10: all should stay
flat (manifest merging, snapshot expiry, old metadata deleted).

Needs `pip install -e '.[lake-test]'` (the emulator is the tests' own).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lake_emulator import CATALOG, catalog_env, s3_emulator
from typer.testing import CliRunner

from incidentlog.cli import app

GENERATOR = "/work/shared/bench/gen_compose_logs.py"


def _use(env: dict[str, str]) -> None:
    import pyiceberg.catalog
    from pyiceberg.utils.config import Config

    os.environ.update(env)
    pyiceberg.catalog._ENV_CONFIG = Config()  # (read once at import)


def _timed(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = CliRunner().invoke(app, list(args))
    took = time.perf_counter() - start
    if result.exit_code not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: {result.output}")
    return took, result.stdout


def parity(lines: int, generator: str, work: Path) -> None:
    from incidentlog.ingest import ingest_into_store

    log = work / "gen.log"
    with log.open("wb") as out:
        subprocess.run(
            [sys.executable, generator, "--lines", str(lines), "--timestamps", "--seed", "7"],
            stdout=out,
            check=True,
        )
    store = work / "store"
    start = time.perf_counter()
    ingest_into_store([log], store=store, host="bench-1")
    print(f"ingest {lines} lines: {time.perf_counter() - start:.1f} s")
    took, out = _timed("lake", "push", "--lake", CATALOG, "--store", str(store))
    print(f"push: {took:.1f} s  ({out.strip()})")
    took, out = _timed("lake", "commit", "--lake", CATALOG)
    print(f"commit: {took:.1f} s  ({out.strip()})")
    queries = [
        ["grep", "-i", "timeout", "--color", "never"],
        ["grep", "-i", "error", "--format", "jsonl"],
        ["grep", "refused|panic", "--count"],
        ["grep", "-F", "GET", "--service", "nginx", "--since", "2025-08-01T10:00:00Z",
         "--until", "2025-08-01T12:00:00Z", "--count"],
        ["digest", "--hour", "2025-08-01T13", "--format", "json"],
    ]  # fmt: skip
    print("| query | store s | lake s | lake/store | equal |")
    print("|---|---|---|---|---|")
    for query in queries:
        base, expected = _timed(*query, "--store", str(store))
        lake, got = _timed(*query, "--lake", CATALOG)
        print(
            f"| `{' '.join(query)}` | {base:.2f} | {lake:.2f} | {lake / base:.2f} | {got == expected} |"
        )
        if got != expected:
            raise SystemExit(f"lake and store differ on {query}")


def commits(count: int) -> None:
    from incidentlog.lake import Lake
    from incidentlog.lake.commit import CommitOptions, Committer
    from incidentlog.lake.objects import LANDING, announcement
    from incidentlog.lake.schema import LAKE_SCHEMAS

    lake = Lake.open(CATALOG)
    table = lake.table("logs")
    objects = lake.objects("logs")
    committer = Committer(lake, CommitOptions(max_files=1))
    every = max(1, count // 10)
    print("| commits | manifests | metadata bytes | metadata files | snapshots | s/commit |")
    print("|---|---|---|---|---|---|")
    start = time.perf_counter()
    for i in range(1, count + 1):
        frame = pl.select(
                ts=pl.lit(datetime(2025, 8, 1, i % 24, 0, i % 60, tzinfo=UTC), pl.Datetime("us", "UTC")),
            ts_ns=pl.lit(i, pl.Int64),
                seq=pl.lit(i, pl.Int64),
                host=pl.lit("h"),
                project=pl.lit("p"),
                service=pl.lit("api"),
                container=pl.lit("api-1"),
                stream=pl.lit("stdout"),
                level=pl.lit("info"),
                message=pl.lit(f"line {i}"),
                id=pl.lit(i, pl.Int64),
        )  # fmt: skip
        assert frame.schema == LAKE_SCHEMAS["logs"]
        path = f"{LANDING}/day=2025-08-01/h-{i:06d}.parquet"
        buffer = io.BytesIO()
        frame.write_parquet(buffer, statistics=True)
        objects.create(path, buffer.getvalue())
        objects.create(announcement(path), b"")  # (as `lake push` does)
        while committer.step("logs") == 0:
            pass
        if i % every == 0:
            table = lake.table("logs")
            snapshot = table.current_snapshot()
            assert snapshot is not None
            manifests = len(snapshot.manifests(table.io))
            size = len(table.io.new_input(table.metadata_location).open().read())
            kept = len([m for m in objects.list("metadata") if m.path.endswith(".metadata.json")])
            took = (time.perf_counter() - start) / every
            print(
                f"| {i} | {manifests} | {size} | {kept} | {len(table.snapshots())} | {took:.3f} |"
            )
            start = time.perf_counter()
    rows = pl.scan_iceberg(lake.table("logs")).select(pl.len()).collect().item()
    print(f"rows in the table: {rows} (expected {count})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["parity", "commits"])
    parser.add_argument("n", type=int)
    parser.add_argument("--generator", default=GENERATOR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, s3_emulator() as emulator:
        work = Path(folder)
        _use(catalog_env(emulator, work))
        if args.what == "parity":
            parity(args.n, args.generator, work)
        else:
            commits(args.n)


if __name__ == "__main__":
    main()
