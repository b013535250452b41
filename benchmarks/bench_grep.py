"""How fast `incidentlog grep` searches a history, against ripgrep on the raw file.

    python benchmarks/bench_grep.py --workdir /tmp/grepbench \\
        1m=/tmp/bench/gen1m.log 10m=/tmp/bench/gen10m.log 50m=/tmp/grepbench/gen50m.log

Each NAME=FILE is a `gen_compose_logs.py --timestamps --seed 1` output. Its store
(`WORKDIR/store-NAME`) is ingested once and reused. Then, in the same run and on
the same page-cached file, each query runs as the installed `incidentlog` command
(a new process each time: start-up and imports count) and as `rg` with the
equivalent regex, interleaved, `--repeat` times; the table shows medians and the
ratio incidentlog / rg. Both tools must report the same count, or the run fails.

Queries:

- window: one service over two hours, case-insensitive regex (`--service api
  --since 13:00 --until 15:00 -i timeout` on `--day`, default 2025-08-01); rg
  has to read the whole file with `^api-\\d+ +\\| 2025-08-01T1[34]:.*timeout`.
- literal: a fixed string over the whole history (`-F 'Connection refused'`).
- rare: with `--rare TEXT`, a fixed string held by a few records (a request id).

Targets (issue 15, for the input named 10m or the only one): window at most
0.5x rg and at most 1.5x `python -c "import polars"`; literal at most 4x rg;
rare at most 1x rg. Reported, never asserted. Machines are noisy: compare
ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LITERAL = "Connection refused"


@dataclass
class Query:
    name: str
    incidentlog: list[str]
    rg: list[str]


def queries(store: Path, file: Path, cli: list[str], day: str, rare: str | None) -> list[Query]:
    base = [*cli, "grep", "--store", str(store), "--count", "--format", "jsonl"]
    window = (f"{day}T13:00:00Z", f"{day}T15:00:00Z")
    window_rg = rf"^api-\d+ +\| {day}T1[34]:.*timeout"
    extra = (
        [
            Query(
                f"rare: -F '{rare}', whole history",
                [*base, "-F", rare],
                ["rg", "-c", "-F", rare, str(file)],
            )
        ]
        if rare
        else []
    )
    return [
        Query(
            "window: api, 2 h, -i timeout",
            [
                *base,
                "-i",
                "timeout",
                "--service",
                "api",
                "--since",
                window[0],
                "--until",
                window[1],
            ],
            ["rg", "-c", "-i", window_rg, str(file)],
        ),
        Query(
            f"literal: -F '{LITERAL}', whole history",
            [*base, "-F", LITERAL],
            ["rg", "-c", "-F", LITERAL, str(file)],
        ),
        *extra,
    ]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"Error: {' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed, done.stdout


def before_cell(seconds: object) -> str:
    return f"{seconds:.2f} s" if isinstance(seconds, float) else "—"


def total(tool: str, out: str) -> int:
    if tool == "rg" or not out.strip():
        return int(out.strip() or 0) if tool == "rg" else 0
    return sum(json.loads(line)["count"] for line in out.splitlines())


def ensure_store(name: str, file: Path, workdir: Path, cli: list[str]) -> tuple[Path, float | None]:
    store = workdir / f"store-{name}"
    if (store / "incidentlog-store.json").is_file():
        return store, None
    print(f"ingesting {file} into {store} ...", file=sys.stderr)
    start = time.perf_counter()
    subprocess.run(
        [*cli, "ingest", str(file), "--store", str(store), "--output", "json"],
        check=True,
        capture_output=True,
    )
    return store, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("inputs", nargs="+", help="NAME=FILE, e.g. 10m=/tmp/bench/gen10m.log")
    parser.add_argument("--workdir", type=Path, required=True, help="where the stores live")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--incidentlog", default=None, help="command (default: this Python's -m incidentlog)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the result block here")
    parser.add_argument("--day", default="2025-08-01", help="day of the window query")
    parser.add_argument("--rare", help="a fixed string held by a few records")
    parser.add_argument(
        "--before", type=Path, help="an older checkout, timed on the same store (no text index)"
    )
    args = parser.parse_args()
    before_env = {**os.environ, "PYTHONPATH": str(args.before)} if args.before else None
    if not shutil.which("rg"):
        raise SystemExit("Error: rg (ripgrep) is not installed (apt-get install ripgrep)")
    # -P: `python -m` would put the current directory first on the path, and a run started
    # in a checkout would time that checkout's code as `before` too
    cli = (
        args.incidentlog.split()
        if args.incidentlog
        else [sys.executable, "-P", "-m", "incidentlog"]
    )
    args.workdir.mkdir(parents=True, exist_ok=True)

    load_start = os.getloadavg()
    floor = statistics.median(timed([*cli, "--help"])[0] for _ in range(args.repeat))
    imports = statistics.median(
        timed([sys.executable, "-c", "import polars"])[0] for _ in range(args.repeat)
    )
    rows: list[dict[str, object]] = []
    for spec in args.inputs:
        name, _, path = spec.partition("=")
        file = Path(path)
        store, ingest_s = ensure_store(name, file, args.workdir, cli)
        lines = int(
            subprocess.run(
                ["wc", "-l", str(file)], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )
        store_mb = sum(p.stat().st_size for p in store.glob("*/day=*/*.parquet")) / 1e6
        index_mb = sum(p.stat().st_size for p in store.glob("cache/grep-*/**/*.parquet")) / 1e6
        for query in queries(store, file, cli, args.day, args.rare):
            tools = ["incidentlog", "rg", *(["before"] if before_env else [])]
            times: dict[str, list[float]] = {tool: [] for tool in tools}
            counts: dict[str, int] = {}
            for i in range(args.repeat):
                for tool in tools[i % len(tools) :] + tools[: i % len(tools)]:
                    cmd = query.rg if tool == "rg" else query.incidentlog
                    elapsed, out = timed(cmd, before_env if tool == "before" else None)
                    times[tool].append(elapsed)
                    counts[tool] = total(tool, out)
            if len(set(counts.values())) != 1:
                raise SystemExit(f"Error: {query.name} on {name}: counts differ: {counts}")
            ours, theirs = statistics.median(times["incidentlog"]), statistics.median(times["rg"])
            row = {
                "input": name,
                "lines": lines,
                "raw_mb": file.stat().st_size / 1e6,
                "store_mb": store_mb,
                "query": query.name,
                "matches": counts["rg"],
                "incidentlog_s": ours,
                "rg_s": theirs,
                "ratio": ours / theirs,
                "import_ratio": ours / imports,
                "ingest_s": ingest_s,
                "index_mb": index_mb,
                "before_s": statistics.median(times["before"]) if before_env else None,
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)

    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    rg_version = subprocess.run(
        ["rg", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    out = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"load average {load_start[0]:.1f} at start and {os.getloadavg()[0]:.1f} at end; {rg_version}; "
        f"git {revision or '?'}; median of {args.repeat} interleaved runs; page cache warm.",
        "",
        f"Start-up floor: `incidentlog --help` {floor:.2f} s; `python -c 'import polars'` {imports:.2f} s.",
        "",
        "| input | lines | raw MB | store MB | index MB | query | matches | incidentlog | rg "
        "| incidentlog / rg | incidentlog / import polars | before (--before) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['input']} | {r['lines']:,} | {r['raw_mb']:.0f} | {r['store_mb']:.0f} "
            f"| {r['index_mb']:.1f} | {r['query']} | {r['matches']:,} "
            f"| {r['incidentlog_s']:.2f} s | {r['rg_s']:.2f} s | **{r['ratio']:.2f}×** "
            f"| {r['import_ratio']:.2f}× "
            f"| {before_cell(r['before_s'])} |"
        )
    targets = {"window": 0.5, "literal": 4.0, "rare": 1.0}
    out.append("")
    for r in rows:
        if r["input"] == "10m" or len(args.inputs) == 1:
            kind = str(r["query"]).split(":")[0]
            met = "met" if float(r["ratio"]) <= targets[kind] else "NOT met"  # type: ignore[arg-type]
            out.append(
                f"- target {kind} ≤ {targets[kind]}× rg on {r['input']}: {float(r['ratio']):.2f}× — {met}"
            )  # type: ignore[arg-type]
            if kind == "window":
                ratio = float(r["import_ratio"])  # type: ignore[arg-type]
                verdict = "met" if ratio <= 1.5 else "NOT met"
                out.append(
                    f"- target window ≤ 1.5× `import polars` on {r['input']}: {ratio:.2f}× — {verdict}"
                )
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
