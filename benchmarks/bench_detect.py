#!/usr/bin/env python3
"""How much detection adds to ingest, on generated `docker compose logs` output.

    python benchmarks/bench_detect.py /tmp/bench/gen10m.log
    python benchmarks/bench_detect.py 1000000          # generate 1M lines first

A number argument generates that many lines with the deterministic generator
(`--generator`, default /work/shared/bench/gen_compose_logs.py; needs numpy,
`pip install -e '.[bench]'`) into a temporary file. Prints lines/s of ingest
alone, of detection alone and of both, and detection time as a percentage of
ingest time (issue 3's target: at most 50 %). `--frame` skips incidentlog's
ingest and builds the logs frame with a few Polars expressions instead (for
when ingest is unavailable; its time is then not comparable).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from incidentlog.detect import compile_rules, detect_findings, load_rules, summarize_findings
from incidentlog.schema import LOGS_SCHEMA

DEFAULT_GENERATOR = Path("/work/shared/bench/gen_compose_logs.py")


def generate(lines: int, generator: Path, directory: Path) -> Path:
    target = directory / f"gen_{lines}.log"
    with target.open("wb") as out:
        subprocess.run(
            [sys.executable, str(generator), "--lines", str(lines), "--timestamps", "--seed", "1"],
            stdout=out,
            check=True,
        )
    return target


def frame_from_file(path: Path) -> pl.DataFrame:
    """A LOGS_SCHEMA frame, one record per line (no stitching, no level inference)."""
    raw = pl.read_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
    )
    head = r"^(\S+)\s+\| (\S+) "
    return (
        raw.with_row_index("seq")
        .with_columns(
            pl.col("line").str.extract(head, 1).alias("container"),
            pl.col("line")
            .str.extract(head, 2)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC", time_unit="ns")
            .alias("ts"),
            pl.col("line").str.replace(head, "").alias("message"),
        )
        .with_columns(
            pl.col("container").str.replace(r"[-_]\d+$", "").alias("service"),
            pl.col("seq").alias("id"),
            pl.lit("bench").alias("host"),
            pl.lit(None, pl.String).alias("project"),
            pl.lit("unknown").alias("stream"),
            pl.lit("unknown").alias("level"),
        )
        .select(pl.col(n).cast(t) for n, t in LOGS_SCHEMA.items())
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("input", help="generated log file, or a number of lines to generate")
    ap.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    ap.add_argument(
        "--frame", action="store_true", help="build the frame without incidentlog ingest"
    )
    ap.add_argument("--repeat", type=int, default=1, help="detection runs (best time is kept)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.input)
        if args.input.isdigit():
            path = generate(int(args.input), args.generator, Path(tmp))
        lines = sum(1 for _ in path.open("rb"))

        start = time.perf_counter()
        if args.frame:
            logs, events = frame_from_file(path), None
        else:
            from incidentlog.ingest import read_inputs

            result = read_inputs([path])
            logs, events = result.logs, result.events
        ingest_s = time.perf_counter() - start

        start = time.perf_counter()
        rules = load_rules()
        compiled = compile_rules(rules)
        compile_s = time.perf_counter() - start

        detect_s = float("inf")
        findings = pl.DataFrame()
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            findings = detect_findings(logs, events, compiled)
            summary = summarize_findings(findings)
            detect_s = min(detect_s, time.perf_counter() - start)

    report = {
        "input": str(args.input),
        "lines": lines,
        "records": logs.height,
        "rules": len(rules),
        "ingest": "polars frame (--frame)" if args.frame else "incidentlog.ingest.read_inputs",
        "ingest_s": round(ingest_s, 3),
        "compile_s": round(compile_s, 3),
        "detect_s": round(detect_s, 3),
        "findings": findings.height,
        "summary_rows": summary.height,
        "ingest_lines_per_s": round(lines / ingest_s),
        "detect_lines_per_s": round(lines / detect_s),
        "ingest_plus_detect_lines_per_s": round(lines / (ingest_s + detect_s)),
        "detect_over_ingest_pct": round(100 * detect_s / ingest_s, 1),
    }
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>32}: {value}")


if __name__ == "__main__":
    main()
