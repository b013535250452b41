"""Message templates as text people read, JSON, JSON Lines, and the per-line contract.

Text shows templates and service names with control characters made visible
(`redact.one_line`); JSON keeps them exact, escaped (`redact.json_safe`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, Final

import polars as pl

from incidentlog.patterns.mining import PATTERN_COLUMNS, mine_patterns
from incidentlog.patterns.run import PatternsResult
from incidentlog.redact import json_safe, one_line
from incidentlog.text import iso

__all__ = [
    "patterns_json",
    "patterns_jsonl",
    "patterns_text",
    "per_line_jsonl",
    "summary_records",
]

_TEMPLATE_WIDTH: Final = 300
_SHOWN_SERVICES: Final = 4
_JSONL_SLICE: Final = 100_000


def summary_records(summary: pl.DataFrame) -> list[dict[str, Any]]:
    """One JSON object per template, in summary order."""
    return [
        {
            "pattern_id": row["pattern_id"],
            "template": row["template"],
            "count": row["count"],
            "first_seen": iso(row["first_seen"]),
            "last_seen": iso(row["last_seen"]),
            "services": row["services"],
            "levels": row["levels"],
            "example": row["example"],
        }
        for row in summary.iter_rows(named=True)
    ]


def patterns_jsonl(summary: pl.DataFrame) -> str:
    """One JSON object per template, newline-terminated ("" when none)."""
    return json_safe(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in summary_records(summary))
    )


def patterns_json(summary: pl.DataFrame) -> str:
    """The same objects as one JSON array."""
    return json_safe(json.dumps(summary_records(summary), indent=2, ensure_ascii=False) + "\n")


def patterns_text(result: PatternsResult) -> str:
    """Templates most frequent first: count, id, services and time span, then the template."""
    summary = result.summary
    if summary.is_empty():
        return "No records.\n"
    lines = [f"{summary.height} patterns in {result.records} records", ""]
    width = len(str(summary.get_column("count").max()))
    indent = " " * (width + 3)
    for rec in summary_records(summary):
        services = [one_line(s) for s in rec["services"]]
        shown = ", ".join(services[:_SHOWN_SERVICES])
        if len(services) > _SHOWN_SERVICES:
            shown += f" (+{len(services) - _SHOWN_SERVICES})"
        when = rec["first_seen"] or "no time"
        if rec["last_seen"] and rec["last_seen"] != rec["first_seen"]:
            when = f"{rec['first_seen']} .. {rec['last_seen']}"
        lines.append(f"{rec['count']:>{width}}x  {rec['pattern_id']}  {shown}  [{when}]")
        template = one_line(rec["template"])
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
        yield json_safe(buffer.getvalue().decode("utf-8"))
