#!/usr/bin/env python3
"""Ingest cost by distinct names: N lines with N container names against the
same N lines with 7 names, in the same run (issue 14: "a million distinct
service names took 143 s and 3.7 GB; cost should follow lines, not names").

    python benchmarks/bench_names.py --lines 1000000 --workdir /tmp/bench-names

Generates both files once (one line per name, or 7 names round-robin; the
same timestamps and messages), ingests each into a fresh store, and prints
CPU seconds (user + system of the child, the steady measure on a shared
machine), wall seconds and peak RSS, with the many-names run as a ratio of
the 7-names run. Nothing is asserted: the ratio is the result.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def generate(path: Path, lines: int, names: int | None) -> None:
    if path.exists():
        return
    with path.open("w") as out:
        for i in range(lines):
            name = f"s{i if names is None else i % names}"
            stamp = f"2025-08-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 10**9:09d}Z"
            out.write(f"{name}-1  | {stamp} hello {i}\n")


def ingest(log: Path, store: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, peak RSS in KB) of `incidentlog ingest`."""
    shutil.rmtree(store, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "incidentlog", "ingest", str(log), "--store", str(store)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-names"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    few = args.workdir / f"few-{args.lines}.log"
    many = args.workdir / f"many-{args.lines}.log"
    generate(few, args.lines, 7)
    generate(many, args.lines, None)
    results = {
        "7 names": ingest(few, args.workdir / "store-few"),
        f"{args.lines} names": ingest(many, args.workdir / "store-many"),
    }
    base = results["7 names"]
    print(f"| {args.lines} lines | CPU s | wall s | peak RSS MB | CPU ratio |")
    print("|---|---:|---:|---:|---:|")
    for label, (cpu, wall, rss) in results.items():
        print(f"| {label} | {cpu:.1f} | {wall:.1f} | {rss / 1024:.0f} | {cpu / base[0]:.1f}x |")


if __name__ == "__main__":
    main()
