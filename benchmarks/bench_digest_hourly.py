"""The hourly digest as it runs in production: each hour's logs and events ingested, then
that hour's digest, for this checkout and a baseline checkout in the same run.

    python benchmarks/bench_digest_hourly.py --gen ../shared/bench/gen_compose_logs.py \\
        [--lines-per-day 1000000] [--hours 3] [--repeat 3] [--baseline /path/to/checkout]

`bench_digest.py` times digests over a store that does not change between them; here a
day and a half of generated history is ingested, then for each of `--hours` hours: the
hour's logs and a health-check event every ten minutes (as `collect` writes them), then
`digest --hour` of that hour, a fresh process timed whole (wall and CPU seconds). The
Markdown of the last digest must be the baseline's, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timed import incidentlog_at, run_timed

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def generate(gen: Path, out: Path, lines: int, start: datetime, hours: int, seed: int) -> Path:
    with out.open("wb") as sink:
        subprocess.run(
            [
                sys.executable,
                str(gen),
                "--lines",
                str(lines),
                "--seed",
                str(seed),
                "--timestamps",
                "--start",
                start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "--span-hours",
                str(hours),
            ],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    return out


def health_events(out: Path, start: datetime, hours: int) -> Path:
    """A `docker events` health_status line every ten minutes, as a live stack has."""
    name = "shop-api-1"
    container = hashlib.sha256(name.encode()).hexdigest()
    attributes = {"name": name, "com.docker.compose.project": "shop"}
    attributes["com.docker.compose.service"] = "api"
    lines = []
    for minute in range(0, hours * 60, 10):
        nanos = int((start + timedelta(minutes=minute)).timestamp()) * 10**9
        lines.append(
            json.dumps(
                {
                    "status": "health_status: healthy",
                    "id": container,
                    "Type": "container",
                    "Action": "health_status: healthy",
                    "Actor": {"ID": container, "Attributes": attributes},
                    "time": nanos // 10**9,
                    "timeNano": nanos,
                }
            )
        )
    out.write_text("\n".join(lines) + "\n")
    return out


def incidentlog(src: Path | None, *args: str) -> tuple[float, float, str]:
    python, env = incidentlog_at(src)
    run = run_timed([*python, *args], env=env)
    if run.returncode != 0:
        raise SystemExit(f"Error: incidentlog {' '.join(args)}: {run.stderr.strip()}")
    return run.seconds, run.cpu_seconds, run.stdout


def one_run(
    src: Path | None, inputs: list[list[Path]], hours: list[str], store: Path
) -> tuple[list[tuple[float, float]], str]:
    """(wall, CPU) seconds of each hour's digest after that hour's ingest; the last Markdown."""
    incidentlog(src, "ingest", *map(str, inputs[0]), "--store", str(store))
    times, text = [], ""
    for hour, files in zip(hours, inputs[1:], strict=True):
        incidentlog(src, "ingest", *map(str, files), "--store", str(store))
        wall, cpu, text = incidentlog(
            src, "digest", "--hour", hour, "--store", str(store), "--format", "md"
        )
        times.append((wall, cpu))
    return times, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gen", type=Path, required=True)
    parser.add_argument("--lines-per-day", type=int, default=1_000_000)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()
    per_hour = args.lines_per_day // 24
    first = 12
    with tempfile.TemporaryDirectory(prefix="digest-hourly-") as folder:
        work = Path(folder)
        day2 = DAY + timedelta(days=1)
        history = [
            generate(args.gen, work / "d1.log", args.lines_per_day, DAY, 24, 1),
            generate(args.gen, work / "d2.log", per_hour * first, day2, first, 2),
            health_events(work / "d2.jsonl", day2, first),
        ]
        inputs, hours = [history], []
        for i in range(args.hours):
            start = day2 + timedelta(hours=first + i)
            log = generate(args.gen, work / f"h{i}.log", per_hour, start, 1, 10 + i)
            inputs.append([log, health_events(work / f"h{i}.jsonl", start, 1)])
            hours.append(start.strftime("%Y-%m-%dT%H"))
        trees: dict[str, Path | None] = {"this checkout": None}
        if args.baseline is not None:
            trees["baseline"] = args.baseline
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        texts: dict[str, str] = {}
        for round_ in range(args.repeat):
            for name, src in trees.items():  # (interleaved: the machine's load hits both)
                store = work / f"store-{round_}"
                times, texts[name] = one_run(src, inputs, hours, store)
                results[name].extend(times)
                subprocess.run(["rm", "-rf", str(store)], check=True)
    print(
        f"{args.lines_per_day:,} lines a day; {args.hours} hourly ingests and digests × {args.repeat}"
    )
    print("\n| tree | digests | median s | worst s | median CPU s | worst CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, times in results.items():
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        print(
            f"| {name} | {len(times)} | {statistics.median(walls):.2f} | {max(walls):.2f} | "
            f"{statistics.median(cpus):.2f} | {max(cpus):.2f} |"
        )
    if len(set(texts.values())) > 1:
        print("\nThe last digest differs from the baseline's.")


if __name__ == "__main__":
    main()
