"""What `incidentlog patterns` does, as library calls: read, filter, mine, render.

The CLI only parses options (times into datetimes), calls `run_patterns` or
`run_per_line` and prints what the renderers return.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.patterns.mining import PATTERN_COLUMNS, mine_patterns, summarize_patterns
from incidentlog.schema import Level
from incidentlog.timespec import within_window

__all__ = [
    "FORMATS",
    "PatternsResult",
    "UsageError",
    "check_options",
    "levels_at_least",
    "patterns_jsonl",
    "patterns_text",
    "per_line_jsonl",
    "read_raw_messages",
    "run_patterns",
]

FORMATS: Final = ("text", "jsonl")
_TEMPLATE_WIDTH: Final = 300
_SHOWN_SERVICES: Final = 4
_JSONL_SLICE: Final = 100_000


@dataclass(frozen=True)
class PatternsResult:
    summary: pl.DataFrame
    """One row per template: mining.SUMMARY_COLUMNS, most frequent first."""
    records: int
    """Records mined (after the time, service and level filters)."""


def check_options(
    fmt: str,
    *,
    per_line: bool,
    input_format: str | None,
    has_paths: bool,
    store: str | Path | None,
    filters: bool,
) -> None:
    """Reject an unknown --format and option combinations that mean nothing."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported by patterns (allowed: text, jsonl)")
    if input_format is not None:
        from incidentlog.ingest import InputFormat

        allowed = [item.value for item in InputFormat]
        if input_format not in allowed:
            raise UsageError(
                f"--input {input_format!r} is not an input format (allowed: {', '.join(allowed)})"
            )
    if has_paths and store is not None:
        raise UsageError("give PATHs (read from files) or --store (read the history), not both")
    if per_line:
        if input_format != "raw" or not has_paths:
            raise UsageError(
                "--per-line reads one message per line: it needs --input raw and PATHs"
            )
        if fmt != "jsonl":
            raise UsageError("--per-line prints JSON Lines: use --format jsonl")
        if filters:
            raise UsageError(
                "--per-line reads bare lines: --since/--until/--service/--level do not apply"
            )


def levels_at_least(level: str) -> list[str]:
    """The level names at `level` or more severe (`unknown` matches only itself)."""
    try:
        wanted = Level(level)
    except ValueError:
        allowed = ", ".join(item.value for item in Level)
        raise UsageError(f"--level {level!r} is not a level (allowed: {allowed})") from None
    if wanted is Level.UNKNOWN:
        return [Level.UNKNOWN.value]
    ordered = [item for item in Level if item is not Level.UNKNOWN]
    return [item.value for item in ordered[ordered.index(wanted) :]]


def read_raw_messages(paths: Sequence[str]) -> pl.Series:
    """Every line of `paths` (`-` is standard input) as one message, in order,
    without any prefix or header parsing; invalid UTF-8 becomes U+FFFD."""
    from incidentlog.ingest.lines import open_input, read_line_batches

    parts: list[pl.Series] = []
    for source in paths:
        stream = open_input(source)
        try:
            parts.extend(batch.lines for batch in read_line_batches(stream))
        finally:
            if source != "-":
                stream.close()
    if not parts:
        return pl.Series("message", [], dtype=pl.String)
    return pl.concat(parts).rename("message")


_COLUMNS: Final = ("ts", "service", "level", "message")


def run_patterns(
    paths: Sequence[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Sequence[str] = (),
    level: str | None = None,
    input_format: str | None = None,
    store: str | Path | None = None,
) -> PatternsResult:
    """Templates of the records in `paths` (parsed on the fly, not stored) or, with
    no paths, of the history store (`store`, or the default one)."""
    levels = levels_at_least(level) if level is not None else None
    if paths:
        from incidentlog.ingest import read_inputs

        hint = services[0] if len(services) == 1 else None
        logs = read_inputs(list(paths), fmt=input_format, service=hint).logs.select(_COLUMNS)
        logs = within_window(logs, since, until)
        if services:
            logs = logs.filter(pl.col("service").is_in(list(services)))
    else:
        from incidentlog.store import Store

        history = Store.open(Path(store) if store is not None else None)
        scan = history.scan("logs", since=since, until=until, services=services)
        logs = scan.select(_COLUMNS).collect()
    if levels is not None:
        logs = logs.filter(pl.col("level").cast(pl.String).is_in(levels))
    return PatternsResult(summary=summarize_patterns(logs), records=logs.height)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value.isoformat().replace("+00:00", "Z")


def summary_records(summary: pl.DataFrame) -> list[dict[str, Any]]:
    """The JSONL objects of `patterns --format jsonl`, in summary order."""
    return [
        {
            "pattern_id": row["pattern_id"],
            "template": row["template"],
            "count": row["count"],
            "first_seen": _iso(row["first_seen"]),
            "last_seen": _iso(row["last_seen"]),
            "services": row["services"],
            "levels": row["levels"],
            "example": row["example"],
        }
        for row in summary.iter_rows(named=True)
    ]


def patterns_jsonl(summary: pl.DataFrame) -> str:
    """One JSON object per template, newline-terminated ("" when none)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in summary_records(summary))


def patterns_text(result: PatternsResult) -> str:
    """Templates most frequent first: count, id, services and time span, then the template."""
    summary = result.summary
    if summary.is_empty():
        return "No records.\n"
    lines = [f"{summary.height} patterns in {result.records} records", ""]
    width = len(str(summary.get_column("count").max()))
    indent = " " * (width + 3)
    for rec in summary_records(summary):
        services = rec["services"]
        shown = ", ".join(services[:_SHOWN_SERVICES])
        if len(services) > _SHOWN_SERVICES:
            shown += f" (+{len(services) - _SHOWN_SERVICES})"
        when = rec["first_seen"] or "no time"
        if rec["last_seen"] and rec["last_seen"] != rec["first_seen"]:
            when = f"{rec['first_seen']} .. {rec['last_seen']}"
        lines.append(f"{rec['count']:>{width}}x  {rec['pattern_id']}  {shown}  [{when}]")
        template = rec["template"]
        if len(template) > _TEMPLATE_WIDTH:
            template = template[:_TEMPLATE_WIDTH] + " …"
        lines.append(f"{indent}{template}")
    return "\n".join(lines) + "\n"


def per_line_jsonl(messages: pl.Series) -> Iterator[str]:
    """The measurement contract: for each message in order, the JSON Lines text
    `{"line": n, "pattern_id": …, "template": …}` (n from 1), in slices."""
    mined = mine_patterns(messages).with_row_index("line", offset=1)
    frame = mined.select(pl.col("line").cast(pl.Int64), *PATTERN_COLUMNS)
    for start in range(0, frame.height, _JSONL_SLICE):
        buffer = io.BytesIO()
        frame.slice(start, _JSONL_SLICE).write_ndjson(buffer)
        yield buffer.getvalue().decode("utf-8")
