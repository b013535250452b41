"""Log records as text people read and as JSON Lines: what `grep` prints.

Text is shaped like `docker compose logs --timestamps` (so habits and scripts
carry over, and the output can be ingested again): every line of a
multi-line record carries the record's prefix and time. Built with Polars
string expressions in chunks, never a Python loop over records. Secrets are
masked (with the body lines of a private key printed one record per line,
`redact_records_expr`), and text output shows control characters visibly
(`^[`, `^M`, `<U+009B>`), coloured or not: a terminal never obeys log text.
JSON keeps the exact text, escaped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Final, TextIO

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.redact import json_safe, one_line, redact_records_expr, visible_expr
from incidentlog.search import GrepResult

__all__ = [
    "COLOR_MODES",
    "TS_FORMAT",
    "grep_chunks",
    "grep_counts_json",
    "grep_counts_jsonl",
    "grep_counts_text",
    "grep_json",
    "grep_jsonl",
    "grep_text",
    "use_color",
    "write_chunks",
]

TS_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%.9fZ"
"""Docker's fixed RFC 3339 nanosecond stamp, as `docker compose logs --timestamps` prints it."""

_COMPOSE_COLORS: Final = ("36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1")
"""The prefix colours `docker compose logs` cycles through (cmd/formatter/colors.go)."""
_HIGHLIGHT: Final = "\x1b[1;31m"
_RESET: Final = "\x1b[0m"
_CHUNK_ROWS: Final = 50_000
COLOR_MODES: Final = ("auto", "always", "never")


def _shown_message(records: pl.DataFrame, redact: bool) -> pl.DataFrame:
    """`records` with their messages redacted (a private key's lines as a block, per
    host and container, in the records' order) unless `redact` is off."""
    if not redact or records.is_empty():
        return records
    return records.with_columns(redact_records_expr("message", over=("host", "container")))


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, _CHUNK_ROWS):
        yield frame.slice(start, _CHUNK_ROWS)


def grep_text(
    result: GrepResult,
    *,
    color: bool = False,
    redact: bool = True,
) -> Iterator[str]:
    """`container  | 2025-08-01T12:30:01.000000000Z message` lines, in chunks.

    Every line of a multi-line record is printed with the record's prefix and
    time, as Docker stamps each line, so the output parses back into the same
    records. With `color` the prefix is coloured as compose colours it, control
    characters are made visible, and `highlight` (a Rust regex) is marked in
    matching records.
    """
    records = _shown_message(result.records, redact)
    if records.is_empty():
        return
    records = records.with_columns(visible_expr("container", newlines=False))
    width = int(records.get_column("container").str.len_chars().max() or 0)  # type: ignore[arg-type]
    prefix = pl.col("container").str.pad_end(width) + pl.lit(" |")
    if color:
        services = records.get_column("service").unique(maintain_order=True).to_list()
        codes = {s: _COMPOSE_COLORS[i % len(_COMPOSE_COLORS)] for i, s in enumerate(services)}
        code = pl.col("service").replace_strict(codes, return_dtype=pl.String)
        prefix = pl.lit("\x1b[") + code + pl.lit("m") + prefix + pl.lit(_RESET)
    stamp = (pl.lit(" ") + pl.col("ts").dt.to_string(TS_FORMAT)).fill_null("")
    message = visible_expr("message")
    if color and result.highlight is not None:
        marked = message.str.replace_all(result.highlight, _HIGHLIGHT + "${0}" + _RESET)
        message = pl.when(pl.col("match")).then(marked).otherwise(message)
    for chunk in _chunks(records):
        lines = (
            chunk.select(
                prefix.alias("_prefix"),
                stamp.alias("_stamp"),
                message.str.split("\n").alias("_line"),
            )
            .explode("_line")
            .select(
                pl.concat_str(
                    pl.col("_prefix"), pl.col("_stamp"), pl.lit(" "), pl.col("_line")
                ).str.join("\n")
            )
            .item()
        )
        yield lines + "\n"


def grep_jsonl(result: GrepResult, *, redact: bool = True) -> Iterator[str]:
    """One JSON object per record: ts, service, container, level, message, and the rest."""
    records = _shown_message(result.records, redact)
    if records.is_empty():
        return
    columns = [
        pl.col("ts").dt.to_string(TS_FORMAT).alias("ts"),
        pl.col("service"),
        pl.col("container"),
        pl.col("level").cast(pl.String),
        pl.col("message"),
        pl.col("stream").cast(pl.String),
        pl.col("host"),
        pl.col("project"),
        pl.col("id"),
        pl.col("match"),
    ]
    for chunk in _chunks(records):
        yield json_safe(chunk.select(columns).write_ndjson())


def grep_counts_text(result: GrepResult) -> str:
    """`service:count` per service with matches, as `grep -c` prints `file:count`."""
    return "".join(f"{one_line(s)}:{n}\n" for s, n in result.counts.iter_rows())


def grep_counts_jsonl(result: GrepResult) -> str:
    """`{"service": "...", "count": N}` per service with matches."""
    return json_safe(
        "".join(
            json.dumps({"service": s, "count": n}, ensure_ascii=False) + "\n"
            for s, n in result.counts.iter_rows()
        )
    )


def write_chunks(chunks: Iterable[str], stream: TextIO | None = None) -> bool:
    """Write `chunks`; False when the reader went away (`grep ... | head`), quietly."""
    out = stream or sys.stdout
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # Python would complain while flushing stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
        return False
    return True


def use_color(mode: str, stream: TextIO | None = None) -> bool:
    """`--color auto` colours a terminal unless $NO_COLOR is set; always/never force it."""
    if mode not in COLOR_MODES:
        raise UsageError(f"--color {mode!r} is not supported (allowed: {', '.join(COLOR_MODES)})")
    if mode != "auto":
        return mode == "always"
    out = stream or sys.stdout
    return out.isatty() and not os.environ.get("NO_COLOR")


def grep_json(result: GrepResult, *, redact: bool = True) -> str:
    """Every record as one JSON array (the objects of `grep_jsonl`)."""
    lines = "".join(grep_jsonl(result, redact=redact)).splitlines()
    return "[" + ",\n".join(lines) + "]\n"


def grep_counts_json(result: GrepResult) -> str:
    """`[{"service": "...", "count": N}, …]`."""
    rows = [{"service": s, "count": n} for s, n in result.counts.iter_rows()]
    return json_safe(json.dumps(rows, ensure_ascii=False) + "\n")


def grep_chunks(
    result: GrepResult, *, fmt: str, count: bool, color: bool, redact: bool
) -> Iterable[str]:
    """What `grep` prints, in chunks: counts or records, as text, json or jsonl."""
    if count:
        counts = {"text": grep_counts_text, "json": grep_counts_json, "jsonl": grep_counts_jsonl}
        return [counts[fmt](result)]
    if fmt == "jsonl":
        return grep_jsonl(result, redact=redact)
    if fmt == "json":
        return [grep_json(result, redact=redact)]
    return grep_text(result, color=color, redact=redact)
