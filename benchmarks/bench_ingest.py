#!/usr/bin/env python3
"""Ingest speed and memory against `grep -c -F` and `lnav`, on the same generated file.

    python benchmarks/bench_ingest.py --gen ../shared/bench/gen_compose_logs.py \\
        --workdir /tmp/bench --lines 1000000 10000000

For each size, generates `docker compose logs --timestamps` output once with the
seeded generator (`--timestamps --seed 1`, cached in WORKDIR as `gen1m.log`,
`gen10m.log`, ...; needs numpy: `pip install -e '.[bench]'`), then times, in
the same run and interleaved, each tool on that file:

  incidentlog   `incidentlog ingest FILE --store <fresh store> --format json`
  grep          `grep -c -F 'Connection refused' FILE`     (the I/O floor)
  lnav          `lnav -n -c ':filter-in Connection refused' FILE`

Wall time is the median of `--repeat` runs (default 3 below 5M lines, else 1);
peak RSS is what GNU `/usr/bin/time -f %M` reports (the tool's `ru_maxrss`),
the largest over the repeats. Counting the file's lines warms the page cache
before the first run, so every tool reads from memory. Prints a Markdown table with
MB/s, lines/s, peak RSS and every tool's time as a ratio to lnav and to grep
(ratios, because a shared machine is noisy), then issue 2's targets for the
largest size: ingest <= 2x lnav's time, peak RSS < 1 GiB. Targets are
reported, not asserted; the run fails only when a tool fails or ingest's
record count is not sane (0 records, more records than lines, lines lost).
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
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from timed import GNU_TIME, run_timed

PATTERN = "Connection refused"
MIB = 1024 * 1024
TARGET_RATIO_LNAV = 2.0
TARGET_RSS_MIB = 1024.0
TOOLS = ("incidentlog", "lnav", "grep")


class BenchError(Exception):
    """A tool failed or produced an impossible result."""


@dataclass
class Run:
    seconds: float
    rss_mib: float
    output: int
    """What the tool produced: records (incidentlog), matching lines (grep, lnav)."""


@dataclass
class Measured:
    lines: int
    size: int
    tool: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return max(r.rss_mib for r in self.runs)


def size_name(lines: int) -> str:
    """1000000 -> 1m, 10000000 -> 10m, 250000 -> 250k, other counts as they are."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if lines % unit == 0:
            return f"{lines // unit}{suffix}"
    return str(lines)


def count_lines(path: Path) -> int:
    """Newline count (plus an unterminated last line); also warms the page cache."""
    count = 0
    last = b"\n"
    with path.open("rb") as stream:
        while chunk := stream.read(64 * MIB):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def generated_file(generator: Path, workdir: Path, lines: int) -> Path:
    """WORKDIR/gen<size>.log, generated once (atomically) and reused afterwards."""
    target = workdir / f"gen{size_name(lines)}.log"
    if target.exists():
        found = count_lines(target)
        if found != lines:
            raise BenchError(
                f"{target}: has {found} lines, expected {lines} (delete it to regenerate)"
            )
        print(f"reusing {target} ({found} lines)", file=sys.stderr)
        return target
    print(f"generating {target} ...", file=sys.stderr)
    partial = target.with_name(f".{target.name}.tmp")
    command = [sys.executable, str(generator), "--lines", str(lines), "--timestamps"]
    with partial.open("wb") as out:
        subprocess.run([*command, "--seed", "1"], stdout=out, check=True)
    partial.replace(target)
    count_lines(target)
    return target


def measure(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run `command`; return wall seconds, peak RSS (MiB) and its stdout (`timed.py`)."""
    run = run_timed(command, env=env)
    ok = run.returncode == 0 or (run.returncode == 1 and command[0] == "grep")
    if not ok or run.rss_mib == 0:
        raise BenchError(
            f"{' '.join(command)} exited with {run.returncode}: {run.stderr.strip()[-500:]}"
        )
    return run.seconds, run.rss_mib, run.stdout


def run_incidentlog(prefix: list[str], path: Path, lines: int, workdir: Path) -> Run:
    store = Path(tempfile.mkdtemp(prefix="store-", dir=workdir))
    shutil.rmtree(store)  # ingest creates it: a fresh, empty store every run
    try:
        seconds, rss, stdout = measure(
            [*prefix, "ingest", str(path), "--store", str(store), "--format", "json"]
        )
    finally:
        shutil.rmtree(store, ignore_errors=True)
    try:
        summary = json.loads(stdout)
    except ValueError:
        raise BenchError(f"incidentlog ingest printed no JSON summary: {stdout[:300]!r}") from None
    records, read = summary.get("records", 0), summary.get("lines", 0)
    written = summary.get("written", {}).get("logs", 0)
    if read != lines:
        raise BenchError(f"incidentlog read {read} lines of {path}, which has {lines}")
    if not 0 < records <= lines:
        raise BenchError(f"incidentlog made {records} records out of {lines} lines: not sane")
    if written != records:
        raise BenchError(f"incidentlog stored {written} of {records} records in a fresh store")
    return Run(seconds, rss, records)


def run_grep(path: Path) -> Run:
    seconds, rss, stdout = measure(["grep", "-c", "-F", PATTERN, str(path)])
    return Run(seconds, rss, int(stdout.strip() or 0))


def run_lnav(lnav: str, path: Path, home: Path) -> Run:
    # lnav keeps its config and session state under $HOME: use a private one
    env = os.environ | {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    seconds, rss, stdout = measure([lnav, "-n", "-c", f":filter-in {PATTERN}", str(path)], env=env)
    return Run(seconds, rss, stdout.count("\n"))


def bench_file(
    path: Path, lines: int, repeat: int, prefix: list[str], lnav: str, workdir: Path
) -> list[Measured]:
    size = path.stat().st_size
    results = {tool: Measured(lines, size, tool) for tool in TOOLS}
    home = workdir / "lnav-home"
    home.mkdir(exist_ok=True)
    for r in range(repeat):
        order = TOOLS[r % len(TOOLS) :] + TOOLS[: r % len(TOOLS)]  # rotate who runs first
        for tool in order:
            if tool == "incidentlog":
                run = run_incidentlog(prefix, path, lines, workdir)
            elif tool == "grep":
                run = run_grep(path)
            else:
                run = run_lnav(lnav, path, home)
            results[tool].runs.append(run)
            print(
                f"  {size_name(lines)} run {r + 1}/{repeat} {tool}: {run.seconds:.2f} s, "
                f"{run.rss_mib:.0f} MiB, output {run.output}",
                file=sys.stderr,
            )
    matches = results["grep"].runs[0].output
    if matches and not results["lnav"].runs[0].output:
        raise BenchError(f"lnav printed nothing, but grep finds {matches} lines in {path}")
    return [results[tool] for tool in TOOLS]


def table(measured: list[Measured]) -> str:
    head = (
        "| lines | size MB | tool | seconds | MB/s | lines/s | peak RSS MiB | output | "
        "× lnav time | × grep time |\n"
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    by_key = {(m.lines, m.tool): m for m in measured}
    for m in measured:
        lnav, grep = by_key[(m.lines, "lnav")], by_key[(m.lines, "grep")]
        out = m.runs[0].output
        what = f"{out:,} records" if m.tool == "incidentlog" else f"{out:,} lines"
        rows.append(
            f"| {m.lines:,} | {m.size / 1e6:,.0f} | {m.tool} | {m.seconds:.2f} | "
            f"{m.size / 1e6 / m.seconds:,.1f} | {m.lines / m.seconds:,.0f} | {m.rss_mib:,.0f} | "
            f"{what} | {m.seconds / lnav.seconds:.2f} | {m.seconds / grep.seconds:.1f} |"
        )
    return "\n".join(rows)


def targets(measured: list[Measured]) -> str:
    largest = max(m.lines for m in measured)
    by_tool = {m.tool: m for m in measured if m.lines == largest}
    ingest, lnav = by_tool["incidentlog"], by_tool["lnav"]
    ratio = ingest.seconds / lnav.seconds
    peak = max(m.rss_mib for m in measured if m.tool == "incidentlog")
    return "\n".join(
        [
            f"- ingest time / lnav time on {largest:,} lines: **{ratio:.2f}×** "
            f"(target ≤ {TARGET_RATIO_LNAV:g}×: {'met' if ratio <= TARGET_RATIO_LNAV else 'NOT met'})",
            f"- ingest peak RSS, largest over all sizes: **{peak:,.0f} MiB** "
            f"(target < {TARGET_RSS_MIB:,.0f} MiB: {'met' if peak < TARGET_RSS_MIB else 'NOT met'})",
        ]
    )


def environment(lnav: str, prefix: list[str]) -> str:
    def first_line(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError:
            return "?"
        return (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if done.stdout or done.stderr
            else "?"
        )

    try:
        import polars

        polars_version = polars.__version__
    except ImportError:
        polars_version = "?"
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    revision = first_line(
        ["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD"]
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc: {os.cpu_count()}; CPU: {cpu}; "
        f"load average at start: {load}\n"
        f"- Python {platform.python_version()}, Polars {polars_version}, incidentlog at git {revision} "
        f"(`{' '.join(prefix)}`), {first_line([lnav, '-V'])}, {first_line(['grep', '-V'])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--gen", type=Path, required=True, help="path to the seeded gen_compose_logs.py"
    )
    parser.add_argument(
        "--lines", type=int, nargs="+", default=[1_000_000, 10_000_000], help="file sizes in lines"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        required=True,
        help="where generated files are cached (gen1m.log ...)",
    )
    parser.add_argument(
        "--repeat", type=int, help="runs per tool and size (default: 3 below 5M lines, else 1)"
    )
    parser.add_argument("--lnav", default="lnav", help="lnav executable (default: lnav)")
    parser.add_argument(
        "--incidentlog",
        default=f"{sys.executable} -m incidentlog",
        help="command that runs incidentlog (default: this Python's -m incidentlog)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the results block to this file")
    args = parser.parse_args(argv)
    if not args.gen.is_file():
        parser.error(f"--gen {args.gen}: no such file")
    if not Path(GNU_TIME).is_file():
        parser.error(f"{GNU_TIME} (GNU time) not found: apt-get install time")
    if shutil.which(args.lnav) is None:
        parser.error(f"--lnav {args.lnav}: not found (apt-get install lnav)")
    if any(n <= 0 for n in args.lines) or (args.repeat is not None and args.repeat <= 0):
        parser.error("--lines and --repeat must be positive")
    args.workdir.mkdir(parents=True, exist_ok=True)
    prefix = args.incidentlog.split()
    header = environment(args.lnav, prefix)
    measured: list[Measured] = []
    try:
        for lines in args.lines:
            path = generated_file(args.gen, args.workdir, lines)
            repeat = args.repeat or (3 if lines < 5_000_000 else 1)
            measured += bench_file(path, lines, repeat, prefix, args.lnav, args.workdir)
    except BenchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    block = (
        f"{header}\n- load average at the end: {load} (above {os.cpu_count()}: other work "
        f"competed for the CPUs)\n\n{table(measured)}\n\n{targets(measured)}\n"
    )
    print(block)
    if args.markdown:
        args.markdown.write_text(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
