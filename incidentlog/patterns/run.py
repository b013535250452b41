"""Patterns as one call: the templates of an evidence source's records, or of raw lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from incidentlog.patterns.mining import summarize_patterns
from incidentlog.redact import mask_key_blocks_expr
from incidentlog.schema import levels_at_least
from incidentlog.sources import EvidenceSource

__all__ = ["PatternsResult", "read_raw_messages", "run_patterns"]

_COLUMNS = ("ts", "service", "level", "message")


@dataclass(frozen=True)
class PatternsResult:
    summary: pl.DataFrame
    """One row per template: mining.SUMMARY_COLUMNS, most frequent first."""
    records: int
    """Records mined (after the time, service and level filters)."""


def run_patterns(source: EvidenceSource, *, level: str | None = None) -> PatternsResult:
    """Templates of the source's records (its window and services), at `level` or worse."""
    levels = levels_at_least(level) if level is not None else None
    # a private key printed one record per line is masked as a block, before any filter
    logs = source.logs().with_columns(mask_key_blocks_expr("message")).select(_COLUMNS)
    if levels is not None:
        logs = logs.filter(pl.col("level").cast(pl.String).is_in(levels))
    frame = logs.collect()
    return PatternsResult(summary=summarize_patterns(frame), records=frame.height)


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
