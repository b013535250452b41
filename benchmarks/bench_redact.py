#!/usr/bin/env python3
"""Redaction: the cost of the secret families, against the redaction before them.

    python benchmarks/bench_redact.py /tmp/bench/gen1m.log --baseline 21a1ab2

The messages of a generated `docker compose logs --timestamps` file (the
lines without their `service | timestamp ` prefix; `gen_compose_logs.py
--timestamps --seed 1`), with `--secret-rate` of them (default 1 %) replaced
by a line of the hostile corpus (tests/hostile/secrets.toml: every family),
so both clean text and matches are measured. In one process, on the same
in-memory column, interleaved, best of `--repeat`:

- baseline: `redact_expr` of `incidentlog/redact.py` at git revision
  `--baseline` (15 patterns applied one after another);
- `redact_expr`: every family joined into one regex, plus the key-material
  line test (what report, digest and detect run);
- `redact_series`: the same, run only on the messages holding a family's
  literal (what pattern mining runs);
- `redact_records_expr`: `redact_expr` plus private keys printed one record
  per line, a window per container (what grep runs);
- `visible_expr`: control characters shown visibly (every text output).

Prints a Markdown block (environment, then seconds, MB/s and the ratio to the
baseline per step) and checks that the new redaction masks every corpus
secret it was given (exit 1 when one survives). `--markdown FILE` also writes
the block to FILE. Timings vary on a shared machine: compare ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.corpus import secrets  # noqa: E402

from incidentlog.redact import (  # noqa: E402
    FAMILIES,
    redact_expr,
    redact_records_expr,
    redact_series,
    visible_expr,
)


def baseline_module(revision: str) -> types.ModuleType:
    """`incidentlog/redact.py` as it was at `revision` (a module of its own)."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:incidentlog/redact.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    if source.returncode != 0:
        raise SystemExit(f"Error: no incidentlog/redact.py at {revision}: {source.stderr.strip()}")
    module = types.ModuleType("baseline_redact")
    exec(compile(source.stdout, f"redact.py@{revision}", "exec"), module.__dict__)
    return module


def read_messages(path: Path, rate: float) -> pl.DataFrame:
    """The file's messages (host, container, message), every 1/rate-th a corpus line."""
    lines = pl.read_csv(
        path, has_header=False, separator="\x1f", quote_char=None, new_columns=["line"]
    )
    frame = lines.select(
        pl.lit("h").alias("host"),
        pl.col("line").str.extract(r"^(\S+)").alias("container"),
        pl.col("line").str.replace(r"^[^|]*\| \S+ ", "").alias("message"),
    )
    corpus = [s.line for s in secrets()]
    every = max(1, round(1 / rate)) if rate > 0 else 0
    if every:
        index = pl.int_range(pl.len())
        pick = pl.lit(pl.Series(corpus)).gather((index // every) % len(corpus))
        frame = frame.with_columns(
            pl.when(index % every == 0).then(pick).otherwise(pl.col("message")).alias("message")
        )
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("log", type=Path, help="a generated compose log")
    parser.add_argument("--baseline", default="21a1ab2", help="git revision of the baseline")
    parser.add_argument("--secret-rate", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    old = baseline_module(args.baseline)
    frame = read_messages(args.log, args.secret_rate)
    size_mb = frame.get_column("message").str.len_bytes().sum() / 1e6
    steps: dict[str, Callable[[], object]] = {
        f"baseline redact_expr ({args.baseline})": lambda: frame.select(old.redact_expr("message")),
        "redact_expr": lambda: frame.select(redact_expr("message")),
        "redact_series (hinted)": lambda: redact_series(frame.get_column("message")),
        "redact_records_expr": lambda: frame.select(redact_records_expr("message")),
        "visible_expr": lambda: frame.select(visible_expr("message")),
    }
    load_start = os.getloadavg()[0]
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeat):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    best = {name: min(t) for name, t in times.items()}
    base = next(iter(best.values()))

    shown = frame.select(redact_expr("message")).get_column("message")
    survived = [s.family for s in secrets() if shown.str.contains(s.secret, literal=True).any()]

    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    out = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.machine()}), load average {load_start:.1f} at start and "
        f"{os.getloadavg()[0]:.1f} at end; Polars {pl.__version__}; git {rev}; "
        f"best of {args.repeat} interleaved runs.",
        "",
        f"{args.log.name}: {frame.height:,} messages, {size_mb:.0f} MB, "
        f"{args.secret_rate:.1%} replaced by hostile-corpus lines; "
        f"{len(FAMILIES)} families now.",
        "",
        "| step | seconds | MB/s | vs baseline |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in best.items():
        out.append(
            f"| {name} | {seconds:.2f} | {size_mb / seconds:.0f} | **{seconds / base:.2f}×** |"
        )
    out.append("")
    out.append(
        "Every corpus secret masked." if not survived else f"NOT masked: {', '.join(survived)}"
    )
    block = "\n".join(out) + "\n"
    print(block)
    if args.markdown:
        args.markdown.write_text(block, encoding="utf-8")
    if survived:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
