"""The columns detection adds: findings, their per-(service, rule) summary, fields."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from incidentlog.detect.rules import Rule
from incidentlog.schema import (
    FINDINGS_SCHEMA,
    ORIGIN_COLUMNS,
    TS_DTYPE,
)

__all__ = [
    "FIELD_PREFIX",
    "FINDINGS_COLUMNS",
    "SEVERITY_DTYPE",
    "SUMMARY_COLUMNS",
    "fields_json",
    "minute_before",
    "rule_columns",
]

SEVERITY_DTYPE: pl.DataType = FINDINGS_SCHEMA["severity"]


FIELD_PREFIX = "f."
"""Fields travel as columns `f.<name>` until they are encoded as one JSON object."""


FINDINGS_COLUMNS = pl.Schema(
    {
        **dict(FINDINGS_SCHEMA.items()),
        "source": pl.String(),
        **ORIGIN_COLUMNS,
        "reporter": pl.String(),
        "message": pl.String(),
        "pack": pl.String(),
        "title": pl.String(),
        "remediation": pl.String(),
        "fix": pl.String(),
        "transient": pl.Boolean(),
    }
)
"""`detect_findings` output: FINDINGS_SCHEMA first, then handy columns.
`service`/`container` are what the evidence is ABOUT (a watcher line naming
another container counts for that container); `reporter` is the service whose
output carried it. `message` is the matched text, unredacted; `title` and
`remediation` are the rule's templates (filled in by `summarize_findings`)."""


SUMMARY_COLUMNS = pl.Schema(
    {
        "service": pl.String(),
        "category": pl.String(),
        "rule": pl.String(),
        "severity": SEVERITY_DTYPE,
        "count": pl.UInt32(),
        "first_seen": TS_DTYPE,
        "last_seen": TS_DTYPE,
        "containers": pl.List(pl.String()),
        "fields": pl.String(),
        "evidence": pl.String(),
        "title": pl.String(),
        "remediation": pl.String(),
        "fix": pl.String(),
        "transient": pl.Boolean(),
        "source": pl.String(),
        "pack": pl.String(),
    }
)


def fields_json(frame: pl.DataFrame) -> pl.Expr:
    """One JSON object per row from the non-null `f.<name>` columns (keys sorted)."""
    names = sorted(c[len(FIELD_PREFIX) :] for c in frame.columns if c.startswith(FIELD_PREFIX))
    pieces = [
        pl.when(pl.col(FIELD_PREFIX + n).is_not_null()).then(
            pl.struct(pl.col(FIELD_PREFIX + n).alias(n))
            .struct.json_encode()
            .str.slice(1)
            .str.head(-1)
        )
        for n in names
    ]
    if not pieces:
        return pl.lit("{}")
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("")
    return pl.concat_str(pl.lit("{"), body, pl.lit("}"))


def rule_columns(rule: Rule) -> list[pl.Expr]:
    """The rule's own columns on each of its findings."""
    return [
        pl.lit(rule.id).alias("rule"),
        pl.lit(rule.category.value).alias("category"),
        pl.lit(rule.severity.value).cast(SEVERITY_DTYPE).alias("severity"),
        pl.lit(rule.pack).alias("pack"),
        pl.lit(rule.title).alias("title"),
        pl.lit(rule.remediation).alias("remediation"),
        pl.lit(rule.fix.value).alias("fix"),
    ]


def minute_before(ts: pl.Expr) -> pl.Expr:
    """A minute before `ts`, as `docker compose logs --since` takes it (RFC 3339 in UTC):
    the lines that led to a failure come with it."""
    return (ts - timedelta(minutes=1)).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
