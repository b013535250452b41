"""Findings aggregated per (service, rule), with rule texts filled from their fields."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from incidentlog.detect.columns import FIELD_PREFIX, SUMMARY_COLUMNS, fields_json
from incidentlog.redact import redact_expr

__all__ = ["FALLBACKS", "summarize_findings"]


def _field_names(findings: pl.DataFrame) -> list[str]:
    keys = (
        findings.select(pl.col("fields").str.extract_all(r'[{,]"[A-Za-z0-9_]+":').explode())
        .get_column("fields")
        .drop_nulls()
        .str.slice(2)
        .str.head(-2)
        .unique()
        .sort()
    )
    return keys.to_list()


FALLBACKS = {
    "binary": "the missing executable",
    "module": "the missing module",
    "host": "the target host",
    "port": "the port",
    "path": "the path",
    "env": "the variable",
    "user": "the user",
    "container": "the container",
    "file": "the application code",
    "exit_code": "a non-zero code",
}
"""What a placeholder reads when its field was not extracted for that finding."""


def _fill(template: pl.Expr, names: Sequence[str]) -> pl.Expr:
    """Placeholders filled from fields (fallback text when missing); `{{`/`}}` are braces."""
    template = template.str.replace_all("{{", "\x00", literal=True).str.replace_all(
        "}}", "\x01", literal=True
    )
    for name in names:
        value = pl.col("service") if name == "service" else pl.col(FIELD_PREFIX + name)
        template = template.str.replace_all(
            "{" + name + "}", value.fill_null(FALLBACKS.get(name, f"the {name}")), literal=True
        )
    for name, text in FALLBACKS.items():
        template = template.str.replace_all("{" + name + "}", text, literal=True)
    template = template.str.replace_all(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", "the $1")
    return template.str.replace_all("\x00", "{", literal=True).str.replace_all(
        "\x01", "}", literal=True
    )


def summarize_findings(findings: pl.DataFrame, *, redact: bool = True) -> pl.DataFrame:
    """Findings aggregated per (service, rule), most severe first (SUMMARY_COLUMNS);
    the evidence (the first matched record) with secrets masked unless `redact` is off."""
    if findings.is_empty():
        return pl.DataFrame(schema=SUMMARY_COLUMNS)
    names = _field_names(findings)
    ordered = findings.with_row_index("_order")
    keys = ["service", "rule"]
    aggregated = ordered.group_by(keys).agg(
        pl.col("category").first(),
        pl.col("severity").max(),
        pl.len().alias("count"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("container").drop_nulls().unique().sort().alias("containers"),
        pl.col("message").sort_by("_order").first().alias("evidence"),
        pl.col("title").first(),
        pl.col("remediation").first(),
        pl.col("fix").first(),
        pl.col("transient").all(),
        pl.col("source").first(),
        pl.col("pack").first(),
        pl.col("_order").min(),
    )
    if names:
        dtype = pl.Struct({n: pl.String for n in names})
        long = (
            ordered.select(*keys, "_order", pl.col("fields").str.json_decode(dtype).alias("_f"))
            .unnest("_f")
            .unpivot(index=[*keys, "_order"], on=names, variable_name="_key", value_name="_value")
            .drop_nulls("_value")
            .group_by(*keys, "_key", "_value")
            .agg(pl.len().alias("_n"), pl.col("_order").min().alias("_at"))
            .sort("_n", "_at", descending=[True, False])
            .group_by(*keys, "_key", maintain_order=True)
            .first()
        )
        wide = long.pivot(on="_key", index=keys, values="_value")
        wide = wide.rename({n: FIELD_PREFIX + n for n in names if n in wide.columns})
        for n in names:
            if FIELD_PREFIX + n not in wide.columns:
                wide = wide.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
        aggregated = aggregated.join(wide, on=keys, how="left")
    for n in names:
        if FIELD_PREFIX + n not in aggregated.columns:
            aggregated = aggregated.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
    placeholders = sorted({*names, "service"})
    aggregated = aggregated.with_columns(
        fields_json(aggregated).alias("fields"),
        (
            redact_expr(pl.col("evidence").str.strip_chars_end())
            if redact
            else pl.col("evidence").str.strip_chars_end()
        ).alias("evidence"),
        _fill(pl.col("title"), placeholders).alias("title"),
        _fill(pl.col("remediation"), placeholders).alias("remediation"),
    )
    aggregated = aggregated.sort(
        pl.col("severity").to_physical(), "count", "_order", descending=[True, True, False]
    )
    return aggregated.select(pl.col(n).cast(t) for n, t in SUMMARY_COLUMNS.items())
