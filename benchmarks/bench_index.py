"""What grep's text index costs ingest: time, peak RSS and disk, with and without it.

    python benchmarks/bench_index.py --repeat 2 /path/to/gen1m.log

The input is a `gen_compose_logs.py --timestamps` output. Each run ingests it
into a fresh store (`incidentlog ingest FILE --store S --format json`, a new
process, timed whole, peak RSS from GNU time), once as shipped (the digest's
rollups written, no text index: it is opt-in) and once with the text index
turned on (the same command after `write_with(TEXT_INDEX)`), interleaved
`--repeat` times. Prints a Markdown block with the medians and issue 15's targets (the
index adds at most 10 % time and 5 % disk). Reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from timed import run_timed

WITH_INDEX = """
import sys
from incidentlog.store.rollups import write_with
from incidentlog.store.textindex import TEXT_INDEX
write_with(TEXT_INDEX)
from incidentlog.cli import main
sys.argv = ["incidentlog", *sys.argv[1:]]
main()
"""


def ingest(file: Path, store: Path, index: bool) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one ingest process."""
    python = [sys.executable, "-c", WITH_INDEX] if index else [sys.executable, "-m", "incidentlog"]
    command = [*python, "ingest", str(file), "--store", str(store), "--format", "json"]
    run = run_timed(command)
    if run.returncode != 0:
        raise SystemExit(f"Error: {' '.join(command)}: {run.stderr.strip()}")
    return run.seconds, run.rss_mib


def sizes(store: Path) -> tuple[float, float]:
    """(MB of the store's data files, MB of its text index)."""
    data = sum(p.stat().st_size for p in store.glob("*/day=*/*.parquet"))
    index = sum(p.stat().st_size for p in store.glob("cache/grep-*/**/*.parquet"))
    return data / 1e6, index / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the block to this file")
    args = parser.parse_args()
    load = os.getloadavg()
    times: dict[bool, list[float]] = {True: [], False: []}
    rss: dict[bool, list[float]] = {True: [], False: []}
    data_mb = index_mb = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-index-") as work:
        for i in range(args.repeat):
            for index in (True, False) if i % 2 == 0 else (False, True):
                store = Path(work) / f"store-{index}-{i}"
                seconds, peak = ingest(args.input, store, index)
                times[index].append(seconds)
                rss[index].append(peak)
                if index:
                    data_mb, index_mb = sizes(store)
                shutil.rmtree(store)
                print(f"{time.strftime('%H:%M:%S')} index={index} {seconds:.1f} s", file=sys.stderr)
    with_s, without_s = statistics.median(times[True]), statistics.median(times[False])
    extra_time = with_s / without_s - 1
    extra_disk = index_mb / data_mb
    lines = [
        f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
        f"load average at start {load[0]:.2f}; {args.input.name}; "
        f"median of {args.repeat} interleaved ingests each",
        "",
        "| ingest | seconds | peak RSS MiB | data MB | text index MB |",
        "|---|---:|---:|---:|---:|",
        f"| without the text index (as shipped) | {without_s:.1f} | {max(rss[False]):.0f} | {data_mb:.1f} | — |",
        f"| with it (opt-in) | {with_s:.1f} | {max(rss[True]):.0f} | {data_mb:.1f} | "
        f"{index_mb:.2f} |",
        "",
        f"- time +{extra_time:.1%} (target ≤ 10 %) — {'met' if extra_time <= 0.10 else 'NOT met'}",
        f"- disk +{extra_disk:.1%} (target ≤ 5 %) — {'met' if extra_disk <= 0.05 else 'NOT met'}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
