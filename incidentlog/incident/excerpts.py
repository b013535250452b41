"""Evidence: a few records around the first occurrence of a finding, and code frames.

Excerpt lines are raw (redacted when asked) log text; the views put them in
fences. Long records (tracebacks) keep their first and last lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import polars as pl

from incidentlog.incident.model import Excerpt, ExcerptLine
from incidentlog.redact import redact_expr
from incidentlog.text import clock, plural

__all__ = ["CodeFrame", "code_frames", "excerpts"]

EXCERPT_BEFORE: Final = 2
EXCERPT_AFTER: Final = 1
EXCERPT_MAX_LINES: Final = 60
RECORD_HEAD: Final = 6
RECORD_TAIL: Final = 40
"""A very long record (traceback) shows its first and last lines: the error is at the end."""
EXCERPT_KEPT: Final = 5
"""Probe results or events shown (docker inspect keeps the last 5 probe results)."""
BRIEF_MAX_LINES: Final = 8
_PY_APP_FRAME: Final = re.compile(r'^\s*File "[^"]+", line \d+, in ')
_NODE_APP_FRAME: Final = re.compile(r"^\s*at .*\((?!node:)(?![^)]*node_modules)[^)]+:\d+:\d+\)")
_ERROR_LINE: Final = re.compile(r"^\s*(?:[\w.]+)?(?:Error|Exception)\b[^\n]*:")
_GO_APP_FRAME: Final = re.compile(
    r"^\s+/(?!usr/local/go/|go/pkg/mod/)(?![^\s]*/vendor/)\S+\.go:\d+"
)
"""A Go frame's file line outside the runtime, the module cache and vendored code (the
function it names is on the line before)."""
EXCERPT_LINE_CHARS: Final = 240
_PY_FRAME_CODE: Final = r'File "[^"\n]+", line \d+, in [^\n]*\n[ \t]+[^\n]+'
_PY_FRAME_CODE_GROUPS: Final = (
    r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), in (?P<function>[^\n]*)\n[ \t]+(?P<code>[^\n]+)'
)
_PY_LIBRARY: Final = r"site-packages/|dist-packages/|/lib/python\d|<frozen |File \"<"


@dataclass(frozen=True)
class CodeFrame:
    """The innermost application frame of a Python traceback that shows its source line
    (and the application frame that called it, when the traceback shows one)."""

    file: str
    line: str
    code: str
    function: str = ""
    caller: CodeFrame | None = None


def code_frames(findings: pl.DataFrame) -> dict[tuple[str, str], CodeFrame]:
    """(service, rule) -> the innermost app frame with code, of the first traceback."""
    app = (
        pl.col("message")
        .str.extract_all(_PY_FRAME_CODE)
        .list.eval(pl.element().filter(~pl.element().str.contains(_PY_LIBRARY)))
    )
    frames = (
        findings.filter(pl.col("message").str.contains('File "', literal=True))
        .sort("ts", "seq", nulls_last=True)
        .select(
            "service",
            "rule",
            app.list.last().str.extract_groups(_PY_FRAME_CODE_GROUPS).alias("_f"),
            app.list.get(-2, null_on_oob=True)
            .str.extract_groups(_PY_FRAME_CODE_GROUPS)
            .alias("_c"),
        )
        .unnest("_f")
        .drop_nulls("code")
        .unique(subset=["service", "rule"], keep="first")
    )
    return {(r["service"], r["rule"]): _frame(r, r["_c"]) for r in frames.iter_rows(named=True)}


def _frame(row: dict[str, str], caller: dict[str, str | None] | None) -> CodeFrame:
    up = None
    if caller and caller.get("code"):
        up = CodeFrame(
            str(caller["file"]),
            str(caller["line"]),
            str(caller["code"]).strip(),
            str(caller["function"]).strip(),
        )
    return CodeFrame(row["file"], row["line"], row["code"].strip(), row["function"].strip(), up)


def excerpts(
    wanted: Iterable[tuple[str, str]],
    logs: pl.DataFrame,
    findings: pl.DataFrame,
    *,
    redact: bool,
) -> dict[tuple[str, str], Excerpt]:
    """An excerpt per wanted (service, rule): its first occurrence in the logs with the records
    around it, or the probe results / events the evidence kept."""
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
        key = (row["service"], row["rule"])
        if row["source"] == "logs":
            found = _log_excerpt(logs, row, text)
        else:
            rows = findings.filter((pl.col("service") == key[0]) & (pl.col("rule") == key[1])).sort(
                "ts", "seq", nulls_last=True
            )
            found = _kept_excerpt(rows, row, text)
        if found is not None:
            out[key] = found
    return out


def _log_excerpt(logs: pl.DataFrame, row: dict[str, Any], text: pl.Expr) -> Excerpt | None:
    """The matched record of a container's log in full, with the records around it."""
    window = _log_window(logs, row["log_container"], row["id"], text)
    if window is None:
        return None
    lines = _lines(window)
    first_ts = next((x.ts for x in lines if x.match and x.ts is not None), None)
    return Excerpt(
        service=row["service"],
        container=row["log_container"] or "",
        rule=row["rule"],
        source="logs",
        lines=lines[:EXCERPT_MAX_LINES],
        label="first occurrence in the logs" + (f", at {clock(first_ts)}" if first_ts else ""),
        brief=_brief([x for x in lines if x.match]),
    )


def _kept_excerpt(rows: pl.DataFrame, row: dict[str, Any], text: pl.Expr) -> Excerpt:
    """Probe results or events: the ones the evidence kept; `brief` says alike ones once."""
    source, total = row["source"], rows.height
    kept = rows.head(EXCERPT_KEPT).with_columns(text.alias("message"), pl.lit(True).alias("_m"))
    lines = _lines(kept)
    stamps = [x.ts for x in lines if x.ts is not None]
    span = f", {clock(min(stamps))} to {clock(max(stamps))}" if len(stamps) > 1 else ""
    brief: list[ExcerptLine] = []
    for line in lines:
        if line.text not in {b.text for b in brief}:
            brief.append(line)
    alike = ", all alike" if len(brief) == 1 and total > 1 else ""
    if source == "probe":
        label = f"the last {plural(total, 'probe result')} docker inspect kept{span}{alike}"
    else:
        counted = plural(total, "event")
        shown = f"the first {len(stamps)} of {counted}" if total > kept.height else counted
        label = f"{shown}{span}{alike}"
    return Excerpt(
        service=row["service"],
        container=row["container"] or "",
        rule=row["rule"],
        source=source,
        lines=lines,
        label=label,
        brief=brief[:BRIEF_MAX_LINES],
    )


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
    """The records as lines: very long records cut in the middle, long lines at the end."""
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


def _brief(record: list[ExcerptLine]) -> list[ExcerptLine]:
    """The lines of a record that say what happened: its first line, the innermost
    application frames (Python: the last two with their source line; Node: the first
    `at` line outside node_modules; Go: the first frame outside the runtime and the
    module cache, with its function), error lines, and its last line."""
    if len(record) <= BRIEF_MAX_LINES:
        return record
    texts = [x.text for x in record]
    keep = {0, len(record) - 1}
    app = [
        i for i, t in enumerate(texts) if _PY_APP_FRAME.match(t) and not re.search(_PY_LIBRARY, t)
    ]
    for i in app[-2:]:
        keep |= {i, i + 1} if i + 1 < len(texts) else {i}
    if not app:
        node = [i for i, t in enumerate(texts) if _NODE_APP_FRAME.match(t)]
        keep |= set(node[:1])
        keep |= {i for i, t in enumerate(texts) if _ERROR_LINE.match(t)}
        go = [i for i, t in enumerate(texts) if _GO_APP_FRAME.match(t)]
        keep |= {go[0] - 1, go[0]} if go else set()  # (Go prints the innermost first)
    picked = [*sorted(keep)[: BRIEF_MAX_LINES - 1], len(record) - 1]
    out: list[ExcerptLine] = []
    prev = -1
    for i in sorted(set(picked)):
        if prev >= 0 and i != prev + 1:
            out.append(ExcerptLine(None, "…", True))
        out.append(record[i])
        prev = i
    return out
