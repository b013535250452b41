"""A service others fail to reach, whose own errors no rule knows.

A worker is refused by `broker:5672`, and the broker's log holds error records that
no rule matched (a new version's wording, a crash dump): without a finding of its own
the broker is never named, and the report blames the worker. The `target-errors`
inference finds, for each service that a remote failure names as its host and that
has no finding but symptoms (exits, failed probes), its error records (and its lines
with no level that say they failed): one finding per record, so the report says when
it began and quotes the first. The `unrecognized-errors` inference, when nothing lasting
was found at all, does the same for a container whose error lines repeat: a stack
broken in words no rule knows is an incident, not "No incident found".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from incidentlog.detect.attribution import service_of_container
from incidentlog.detect.columns import FIELD_PREFIX, minute_before, rule_columns
from incidentlog.detect.restarts import line_key
from incidentlog.detect.rules import Rule
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.ingest.names import HOST_PROCESSES
from incidentlog.schema import Category, Level

__all__ = ["MIN_UNRECOGNIZED", "target_errors", "unrecognized_errors"]

_REMOTE: Final = [
    Category.CONNECTION_REFUSED.value,
    Category.DNS_RESOLUTION.value,
    Category.TIMEOUT.value,
]
"""Failures whose `host` is the service that was not there."""
_SYMPTOMS: Final = [Category.CRASH_LOOP.value, Category.HEALTHCHECK_FAILED.value]
"""What a service can show and still have no cause found."""
_ERRORS: Final = [Level.ERROR.value, Level.FATAL.value]
_FAILURE_WORDS: Final = (
    r"(?i)\b(?:error|fatal|failed|failure|cannot|can't|unable to|refus(?:e|es|ed|ing)"
    r"|denied|no such file|not found|panic|abort(?:ed|ing)?|exception)\b"
)
"""A line with no level word that still reports a failure (a shell's `cannot open …`, a
program's `Refusing to start …`): an error record for this purpose."""
MIN_UNRECOGNIZED: Final = 3
"""Error lines a container logs, one line again among them, before they are a finding."""


def target_errors(
    findings: pl.DataFrame,
    logs: pl.LazyFrame,
    rule: Rule,
    *,
    services: Sequence[str],
    containers: dict[str, str],
    projects: Sequence[str],
) -> pl.DataFrame:
    """Findings of `rule` (infer `target-errors`) on the error records of the services
    that `findings`' remote failures name, when those have no finding of their own but
    symptoms; fields `errors` (how many) and `since` (a minute before the first, for
    `docker compose logs --since`). The first record is the evidence the report quotes."""
    host = FIELD_PREFIX + "host"
    if findings.is_empty() or host not in findings.columns:
        return pl.DataFrame()
    named = (
        findings.filter(pl.col("category").is_in(_REMOTE) & pl.col(host).is_not_null())
        .select("service", host)
        .unique()
    )
    targets = {
        target
        for service, name in named.iter_rows()
        if (target := service_of_container(name, services, containers, projects)) != service
        and target in services
    }
    explained = set(
        findings.filter(~pl.col("category").is_in(_SYMPTOMS)).get_column("service").to_list()
    )
    targets -= explained
    if not targets:
        return pl.DataFrame()
    rows = logs.filter(pl.col("service").is_in(sorted(targets)) & _failed()).collect()
    return _findings(rows, rule)


def unrecognized_errors(findings: pl.DataFrame, logs: pl.LazyFrame, rule: Rule) -> pl.DataFrame:
    """Findings of `rule` (infer `unrecognized-errors`): the error records no finding holds
    of each container that logged at least MIN_UNRECOGNIZED of them, a line repeating
    among them (the same failure again, not one slip): a stack broken in words no rule
    knows is an incident, not "No incident found". Fields as `target_errors`'."""
    found = findings.get_column("id").unique().to_list() if "id" in findings.columns else []
    rows = (
        logs.filter(
            _failed()
            & ~pl.col("service").is_in(sorted(HOST_PROCESSES))
            & ~pl.col("id").is_in(found)
        )
        .with_columns(line_key("message").alias("_key"))
        .collect()
    )
    if rows.is_empty():
        return pl.DataFrame()
    repeated = (
        rows.group_by("container")
        .agg(pl.len().alias("_n"), (pl.col("_key").n_unique() < pl.len()).alias("_again"))
        .filter((pl.col("_n") >= MIN_UNRECOGNIZED) & pl.col("_again"))
        .get_column("container")
    )
    return _findings(rows.filter(pl.col("container").is_in(repeated.implode())).drop("_key"), rule)


def _failed() -> pl.Expr:
    """A container's own record that reports a failure: at error or fatal level, or with
    no level and words that say it failed."""
    return (pl.col("container") != COMPOSE_SERVICE) & (
        pl.col("level").cast(pl.String).is_in(_ERRORS)
        | (
            (pl.col("level") == Level.UNKNOWN.value)
            & pl.col("message").str.contains(_FAILURE_WORDS)
        )
    )


def _findings(rows: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """`rule`'s findings on `rows`, a service's failures, with `errors` (how many) and
    `since` (a minute before the first)."""
    if rows.is_empty():
        return pl.DataFrame()
    rows = rows.sort("service", "ts", "seq", nulls_last=True)
    per_service = [
        pl.len().alias("_errors"),
        pl.col("ts").min().alias("_start"),
    ]
    return (
        rows.join(rows.group_by("service").agg(per_service), on="service")
        .drop("stream", "level")
        .with_columns(
            pl.lit("logs").alias("source"),
            pl.col("_errors").cast(pl.String).alias(FIELD_PREFIX + "errors"),
            minute_before(pl.col("_start")).alias(FIELD_PREFIX + "since"),
            *rule_columns(rule),
        )
        .drop("_errors", "_start")
    )
