"""What dating lines by the applications' own times costs ingest.

    python benchmarks/bench_apptime.py --repeat 3 [--before /older/checkout] /path/to/gen1m.log

The input is a `gen_compose_logs.py --timestamps` output. Its engine stamps are
cut once (`web-1  | 2025-…Z text` -> `web-1  | text`: what `docker compose logs`
prints without `-t`, the usual paste; the generator's applications print their
own times, as Postgres, Python's logging, nginx and pino do). Each run ingests
a file into a fresh store (`incidentlog ingest FILE --store S --format json`, a
new process timed whole, peak RSS from GNU time), interleaved `--repeat` times:

  engine times      the file as generated (no line needs an application time)
  no engine times   the cut file: every line's time is read from its text
  before            the cut file with `--before`'s checkout (lines stay undated)

Prints a Markdown block: medians, the ratio of each to `engine times` in the
same run, and how many records each run dated. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from timed import incidentlog_at, run_timed

_ENGINE_STAMP = re.compile(rb"\| \d{4}-\d{2}-\d{2}T[0-9:.]+Z ")


def cut_engine_stamps(source: Path, target: Path) -> None:
    """`source` as `docker compose logs` prints it without `-t` (streamed)."""
    with source.open("rb") as read, target.open("wb") as write:
        for line in read:
            write.write(_ENGINE_STAMP.sub(b"| ", line, count=1))


def ingest(file: Path, store: Path, src: Path | None) -> tuple[float, float, int, str]:
    """(seconds, peak RSS MiB, records, time span) of one ingest process."""
    shutil.rmtree(store, ignore_errors=True)
    python, env = incidentlog_at(src)
    command = [*python, "ingest", str(file), "--store", str(store), "--format", "json"]
    run = run_timed(command, env=env)
    if run.returncode != 0:
        raise SystemExit(f"Error: {' '.join(command)}: {run.stderr.strip()}")
    summary = json.loads(run.stdout)
    source = summary["sources"][0]
    span = f"{source['first_ts'] or 'none'} .. {source['last_ts'] or 'none'}"
    return run.seconds, run.rss_mib, summary["records"], span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a gen_compose_logs.py --timestamps output")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", type=Path, help="an older checkout, for its cost on the cut file"
    )
    parser.add_argument("--workdir", type=Path, help="where the cut file and stores go")
    parser.add_argument("--markdown", type=Path, help="also write the block to this file")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-apptime-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cut = workdir / f"{args.file.stem}-no-t.log"
    if not cut.exists():
        cut_engine_stamps(args.file, cut)
    cases: dict[str, tuple[Path, Path | None]] = {
        "engine times": (args.file, None),
        "no engine times": (cut, None),
    }
    if args.before:
        cases["before (no engine times)"] = (cut, args.before)
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    rss: dict[str, float] = dict.fromkeys(cases, 0.0)
    shown: dict[str, str] = {}
    for _ in range(args.repeat):
        for name, (file, src) in cases.items():
            took, peak, records, span = ingest(file, workdir / "store", src)
            seconds[name].append(took)
            rss[name] = max(rss[name], peak)
            shown[name] = f"{records:,} records, {span}"
        print(f"{time.strftime('%H:%M:%S')} one round done", file=sys.stderr)
    load = os.getloadavg()
    base = statistics.median(seconds["engine times"])
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.repeat} repeats",
        f"- input: {args.file.name} ({args.file.stat().st_size / 1e6:.0f} MB)",
        "",
        "| ingest | median s | × engine times | peak RSS MiB | what it stored |",
        "|---|---:|---:|---:|---|",
    ]
    for name in cases:
        median = statistics.median(seconds[name])
        lines.append(
            f"| {name} | {median:.2f} | {median / base:.2f}× | {rss[name]:.0f} | {shown[name]} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
