"""Evidence: a few records around the first occurrence of a finding, and code frames.

Excerpt lines are raw (redacted when asked) log text; the views put them in
fences. Long records (tracebacks) keep their first and last lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import polars as pl

from incidentlog.incident.model import Excerpt, ExcerptLine
from incidentlog.redact import redact_expr

__all__ = ["CodeFrame", "code_frames", "excerpts"]

EXCERPT_BEFORE: Final = 2
EXCERPT_AFTER: Final = 1
EXCERPT_MAX_LINES: Final = 24
RECORD_HEAD: Final = 3
RECORD_TAIL: Final = 10
"""A long record (traceback) shows its first and last lines: the error is at the end."""
EXCERPT_LINE_CHARS: Final = 240
_PY_FRAME_CODE: Final = r'File "[^"\n]+", line \d+, in [^\n]*\n[ \t]+[^\n]+'
_PY_FRAME_CODE_GROUPS: Final = (
    r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), in [^\n]*\n[ \t]+(?P<code>[^\n]+)'
)
_PY_LIBRARY: Final = r"site-packages/|dist-packages/|/lib/python\d|<frozen |File \"<"


@dataclass(frozen=True)
class CodeFrame:
    """The innermost application frame of a Python traceback that shows its source line."""

    file: str
    line: str
    code: str


def code_frames(findings: pl.DataFrame) -> dict[tuple[str, str], CodeFrame]:
    """(service, rule) -> the innermost app frame with code, of the first traceback."""
    frames = (
        findings.filter(pl.col("message").str.contains('File "', literal=True))
        .sort("ts", "seq", nulls_last=True)
        .select(
            "service",
            "rule",
            pl.col("message")
            .str.extract_all(_PY_FRAME_CODE)
            .list.eval(pl.element().filter(~pl.element().str.contains(_PY_LIBRARY)))
            .list.last()
            .str.extract_groups(_PY_FRAME_CODE_GROUPS)
            .alias("_f"),
        )
        .unnest("_f")
        .drop_nulls("code")
        .unique(subset=["service", "rule"], keep="first")
    )
    return {
        (r["service"], r["rule"]): CodeFrame(r["file"], r["line"], r["code"].strip())
        for r in frames.iter_rows(named=True)
    }


def excerpts(
    wanted: Iterable[tuple[str, str]],
    logs: pl.DataFrame,
    findings: pl.DataFrame,
    *,
    redact: bool,
) -> dict[tuple[str, str], Excerpt]:
    """An excerpt per wanted (service, rule): its log context, or its first findings."""
    first = (
        findings.sort("ts", "seq", nulls_last=True)
        .unique(subset=["service", "rule"], keep="first")
        .join(logs.select("id", pl.col("container").alias("log_container")), on="id", how="left")
        .select("service", "rule", "id", "source", "container", "log_container")
        .join(
            pl.DataFrame(
                [{"service": s, "rule": r} for s, r in wanted],
                schema={"service": pl.String, "rule": pl.String},
                orient="row",
            ),
            on=["service", "rule"],
            how="semi",
        )
    )
    text = redact_expr("message") if redact else pl.col("message")
    out: dict[tuple[str, str], Excerpt] = {}
    for row in first.iter_rows(named=True):
        service, rule, source, container = (
            row["service"],
            row["rule"],
            row["source"],
            row["container"],
        )
        if source == "logs":
            window = _log_window(logs, row["log_container"], row["id"], text)
            if window is None:
                continue
            container = row["log_container"]
        else:
            window = (
                findings.filter((pl.col("service") == service) & (pl.col("rule") == rule))
                .sort("ts", "seq", nulls_last=True)
                .head(3)
                .with_columns(text.alias("message"), pl.lit(True).alias("_m"))
            )
        out[(service, rule)] = Excerpt(
            service=service,
            container=container or "",
            rule=rule,
            source=source,
            lines=_lines(window)[:EXCERPT_MAX_LINES],
        )
    return out


def _log_window(
    logs: pl.DataFrame, container: str | None, record: int, text: pl.Expr
) -> pl.DataFrame | None:
    """The matched record of a container's log with the records around it (`_m` marks it)."""
    stream = (
        logs.filter(pl.col("container") == container)
        .sort("ts", "seq", nulls_last=True)
        .with_row_index("_i")
    )
    hit = stream.filter(pl.col("id") == record).get_column("_i")
    if hit.is_empty():
        return None
    i = int(hit[0])
    window = stream.slice(max(0, i - EXCERPT_BEFORE), EXCERPT_BEFORE + EXCERPT_AFTER + 1)
    return window.with_columns(text.alias("message"), (pl.col("_i") == i).alias("_m"))


def _lines(window: pl.DataFrame) -> list[ExcerptLine]:
    """The records as lines: long records cut in the middle, long lines cut at the end."""
    lines: list[ExcerptLine] = []
    for rec in window.select("ts", "message", "_m").iter_rows(named=True):
        parts = (rec["message"] or "").rstrip().split("\n")
        if len(parts) > RECORD_HEAD + RECORD_TAIL + 1:
            skipped = len(parts) - RECORD_HEAD - RECORD_TAIL
            parts = [*parts[:RECORD_HEAD], f"… ({skipped} lines)", *parts[-RECORD_TAIL:]]
        ts: datetime | None = rec["ts"]
        for j, part in enumerate(parts):
            cut = part if len(part) <= EXCERPT_LINE_CHARS else part[:EXCERPT_LINE_CHARS] + " …"
            lines.append(ExcerptLine(ts if j == 0 else None, cut, bool(rec["_m"])))
    return lines
