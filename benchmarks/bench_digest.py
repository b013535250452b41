"""The hourly digest on a long history: with rollups, without, and the code before them.

    python benchmarks/bench_digest.py --hour 2026-03-31T13 [--hours 4] [--repeat 3] \\
        [--baseline /path/to/an/older/incidentlog/checkout] 30d=/bench/store30 90d=/bench/store90

Each store is a history ingested from `gen_compose_logs.py --start DAY` one day
at a time (see the README). Every digest is a fresh process
(`python -m incidentlog digest --hour H --store S --format md`), timed whole,
its peak RSS from GNU time; the page cache is warm. Per store, in this order:

- `older store`: the cache folder deleted, so the first digest builds the
  rollups of the lookback's store files and detects what it needs;
- `after ingest`: every cache but the rollups deleted (findings, templates), the rollups kept (what ingest
  writes: `tests/test_digest_rollups.py` shows they are what a rebuild makes),
  then the digests of `--hours` consecutive hours ending with `--hour`, each
  hour's digest the first one of that hour;
- `again`: the same hours once more (everything cached);
- `baseline`: with `--baseline`, the same hours with that checkout (today's
  digest without rollups), whose Markdown must be byte-identical.

Prints a Markdown block: environment, one row per (store, case) with the
median and worst seconds and the largest RSS, and issue 15's targets (every
digest after ingest ≤ 1 s, the first on an older store ≤ 15 s, RSS ≤ 500 MiB,
flat from the smallest to the largest store) reported as met or not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timed import incidentlog_at, run_timed

from incidentlog.digest.rollups import DIGEST_ROLLUPS


@dataclass
class Case:
    store: str
    case: str
    seconds: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """User + system CPU seconds: on a shared, busy machine the steadier measure."""


def run_digest(src: Path | None, store: Path, hour: str) -> tuple[float, float, str, float]:
    """(seconds, peak RSS MiB, Markdown, CPU seconds) of one digest process."""
    python, env = incidentlog_at(src)
    command = [*python, "digest", "--hour", hour, "--store", str(store), "--format", "md"]
    run = run_timed(command, env=env)
    if run.returncode != 0:
        raise SystemExit(f"Error: {' '.join(command)}: {run.stderr.strip()}")
    return run.seconds, run.rss_mib, run.stdout, run.cpu_seconds


def record(case: Case, run: tuple[float, float, str, float]) -> str:
    seconds, rss, text, cpu = run
    case.seconds.append(seconds)
    case.rss_mib.append(rss)
    case.cpu.append(cpu)
    return text


def hours_of(last: str, count: int) -> list[str]:
    end = datetime.strptime(last, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return [(end - timedelta(hours=i)).strftime("%Y-%m-%dT%H") for i in reversed(range(count))]


def clear(store: Path, *names: str) -> None:
    for name in names:
        shutil.rmtree(store / "cache" / name, ignore_errors=True)


def bench_store(
    name: str, store: Path, hours: list[str], repeat: int, src: Path | None, baseline: Path | None
) -> tuple[list[Case], list[str]]:
    cases = {c: Case(name, c) for c in ("older store", "after ingest", "again", "baseline")}
    problems: list[str] = []
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        shutil.rmtree(store / "cache", ignore_errors=True)
        record(cases["older store"], run_digest(src, store, hours[-1]))
        made = [d.name for d in (store / "cache").iterdir() if d.name != DIGEST_ROLLUPS.name]
        clear(store, *made)  # every cache a digest makes; the rollups are ingest's
        for hour in hours:
            outputs[hour] = record(cases["after ingest"], run_digest(src, store, hour))
        for hour in hours:
            text = record(cases["again"], run_digest(src, store, hour))
            if text != outputs[hour]:
                problems.append(f"{name} {hour}: a cached digest differs from the first")
        print(f"{name}: {time.strftime('%H:%M:%S')} one round done", file=sys.stderr)
    if baseline is not None:
        for hour in hours:
            text = record(cases["baseline"], run_digest(baseline, store, hour))
            if text != outputs[hour]:
                problems.append(f"{name} {hour}: differs from the baseline's digest")
    return [c for c in cases.values() if c.seconds], problems


def environment(src: Path | None, baseline: Path | None) -> str:
    load = os.getloadavg()
    rev = subprocess.run(
        ["git", "-C", str(src or Path(__file__).parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
        f"- incidentlog git {rev or '?'}; baseline: {baseline or 'none'}"
    )


def table(cases: list[Case]) -> list[str]:
    lines = [
        "| store | case | digests | median s | worst s | median CPU s | worst CPU s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        lines.append(
            f"| {c.store} | {c.case} | {len(c.seconds)} | {statistics.median(c.seconds):.2f} | "
            f"{max(c.seconds):.2f} | {statistics.median(c.cpu):.2f} | {max(c.cpu):.2f} | "
            f"{max(c.rss_mib):.0f} |"
        )
    return lines


def targets(cases: list[Case], names: list[str]) -> list[str]:
    def of(case: str) -> list[Case]:
        return [c for c in cases if c.case == case]

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    after = max(max(c.seconds) for c in of("after ingest") + of("again"))
    older = max(max(c.seconds) for c in of("older store"))
    rss = max(max(c.rss_mib) for c in cases if c.case != "baseline")
    after_cpu = max(max(c.cpu) for c in of("after ingest") + of("again"))
    lines = [
        f"- every digest after ingest (first and later) ≤ 1 s: worst {after:.2f} s — {met(after <= 1)}",
        f"- the same in CPU seconds (user + system): worst {after_cpu:.2f} s — {met(after_cpu <= 1)}",
        f"- first digest of an older store (rollups built) ≤ 15 s: worst {older:.2f} s — "
        f"{met(older <= 15)}",
        f"- peak RSS ≤ 500 MiB: {rss:.0f} MiB — {met(rss <= 500)}",
    ]
    if len(names) > 1:
        first = statistics.median(
            next(c for c in of("after ingest") if c.store == names[0]).seconds
        )
        last = statistics.median(
            next(c for c in of("after ingest") if c.store == names[-1]).seconds
        )
        lines.append(
            f"- flat from {names[0]} to {names[-1]}: median after ingest {first:.2f} s → "
            f"{last:.2f} s ({last / first:.2f}×)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="+", help="NAME=PATH of a store, smallest first")
    parser.add_argument("--hour", required=True, help="the last hour digested, YYYY-MM-DDTHH")
    parser.add_argument("--hours", type=int, default=4, help="consecutive hours (default 4)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--src", type=Path, help="the incidentlog checkout to measure")
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--markdown", type=Path, help="also write the block to this file")
    args = parser.parse_args()
    named = [s.split("=", 1) for s in args.stores]
    hours = hours_of(args.hour, args.hours)
    lines = [environment(args.src, args.baseline), ""]
    cases: list[Case] = []
    problems: list[str] = []
    for name, path in named:
        found, wrong = bench_store(name, Path(path), hours, args.repeat, args.src, args.baseline)
        cases += found
        problems += wrong
    lines += [*table(cases), "", *targets(cases, [n for n, _ in named])]
    lines += [f"- output: {'; '.join(problems) if problems else 'identical'}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
