"""Restarts seen only in the logs: a container whose start-up banner repeats after errors.

Pasted excerpts often hold no `exited with code` lines and no events, yet a
crash loop shows: the same first line (an entrypoint preamble, initdb, a
server banner) comes back again and again, with errors in between. Per
container, the first record (numbers masked; not a warning or an error) is its banner; each later
record with the same key starts a new cycle. It is a restart when the cycle
before it held an error, and the banner is not a line the container repeats
all the time (a heartbeat). Containers whose restarts the engine reported
(start/die/restart events of their service) are left to the event rules.

One finding per container, on the record where the first restart shows,
with fields `restarts` (cycles that began again) and `banner`.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from incidentlog.detect.columns import FIELD_PREFIX, rule_columns
from incidentlog.detect.rules import Rule
from incidentlog.schema import EventAction, Level

__all__ = ["BANNER_CHARS", "MAX_BANNER_SHARE", "banner_restarts", "line_key"]

BANNER_CHARS: Final = 80
"""How much of the first record makes its key (numbers masked): enough to tell
`Starting gunicorn 21.2.0` from any other line, short to compare."""
MAX_BANNER_SHARE: Final = 0.6
"""A first line that is more than this share of a container's records is a
heartbeat or request log, not a banner."""
_ERRORS: Final = [Level.ERROR.value, Level.FATAL.value]
MIN_BANNER_LETTERS: Final = 8
"""A banner says something (`Starting worker 1.4.2`); a blank line or `}` does not."""
_NOT_BANNERS: Final = [Level.WARN.value, *_ERRORS]
"""A first line at these levels is a failure repeating, not a start-up banner."""
_CONNECTION_LINE: Final = (
    r"(?i)\b(?:connected to|connecting to|connection (?:established|restored|re-?established)"
    r"|re-?connect(?:ed|ing)?)\b"
)
"""A first line that reports a connection (celery's `Connected to redis://…`) comes
back whenever the client reconnects after its server restarted: no banner."""
_REQUEST_LINE: Final = r'"[A-Z]{3,7} \S+ HTTP/[\d.]+"'
"""A first line that is an access-log entry (nginx's `"GET /v1 HTTP/1.1" 502`) comes back
with every request for the same path: a client retrying, not the server restarting."""
_LIFECYCLE: Final = [EventAction.START.value, EventAction.DIE.value, EventAction.RESTART.value]


def banner_restarts(logs: pl.LazyFrame, events: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Findings of `rule` (source `inferred`, infer `banner-repeats`) for restarts in `logs`.

    Two streaming passes, no sort of the records: the first finds each
    container's first record (its banner) and counts its records; the second
    keeps only the banner's repeats and the errors, a few rows per container,
    from which the cycles are numbered.
    """
    reported = events.filter(pl.col("action").is_in(_LIFECYCLE)).get_column("service").unique()
    records = logs.filter(~pl.col("service").is_in(reported.implode()))
    firsts = (
        records.group_by("container")
        .agg(
            pl.col("message").min_by("seq").alias("_first"),
            pl.col("level").cast(pl.String).min_by("seq").alias("_first_level"),
            pl.len().alias("_records"),
        )
        .filter(~pl.col("_first_level").is_in(_NOT_BANNERS))
        .select("container", "_records", line_key("_first").alias("_banner"))
        .filter(
            (pl.col("_banner").str.count_matches(r"[A-Za-z]") >= MIN_BANNER_LETTERS)
            & ~pl.col("_banner").str.contains(_CONNECTION_LINE)
            & ~pl.col("_banner").str.contains(_REQUEST_LINE)
        )
        .collect(engine="streaming")
    )
    if firsts.is_empty():
        return pl.DataFrame()
    # A record with the banner's key holds each of the banner's digit-free parts
    # as they are: the longest one finds the candidates before any key is made.
    longest = (
        pl.col("_banner")
        .str.split("0")
        .list.eval(pl.element().sort_by(pl.element().str.len_bytes(), descending=True).first())
        .list.first()
    )
    marks = (
        records.join(firsts.lazy().with_columns(longest.alias("_part")), on="container")
        .filter(
            pl.col("message").str.contains(pl.col("_part"), literal=True)
            | pl.col("level").cast(pl.String).is_in(_ERRORS)
        )
        .with_columns((line_key("message") == pl.col("_banner")).alias("_is_banner"))
        .filter(pl.col("_is_banner") | pl.col("level").cast(pl.String).is_in(_ERRORS))
        .select("container", "seq", "id", "_is_banner")
        .collect(engine="streaming")
        .sort("container", "seq")
        .with_columns(pl.col("_is_banner").cum_sum().over("container").alias("_cycle"))
    )
    failed = marks.filter(~pl.col("_is_banner")).select("container", "_cycle").unique()
    banners = (
        marks.filter(pl.col("_is_banner"))
        .join(
            failed.with_columns(pl.col("_cycle") + 1, pl.lit(True).alias("_after_failure")),
            on=["container", "_cycle"],
            how="left",
        )
        .group_by("container")
        .agg(
            (pl.len() - 1).alias("_repeats"),
            pl.col("_after_failure").fill_null(False).sum().alias("_restarts"),
            pl.col("id").filter(pl.col("_cycle") == 2).first().alias("_id"),
        )
        .join(firsts, on="container")
        .filter(
            (pl.col("_restarts") >= 1)
            & (pl.col("_restarts") * 2 >= pl.col("_repeats"))
            & (pl.col("_repeats") + 1 <= pl.col("_records") * MAX_BANNER_SHARE)
        )
    )
    if banners.is_empty():
        return pl.DataFrame()
    ids = banners.get_column("_id").implode()
    rows = logs.filter(pl.col("id").is_in(ids)).unique("id").collect()
    first_line = pl.col("message").str.split("\n").list.first().str.slice(0, BANNER_CHARS)
    return (
        rows.join(
            banners.select("container", "_id", "_restarts"),
            left_on=["container", "id"],
            right_on=["container", "_id"],
        )
        .drop("stream", "level")
        .with_columns(
            pl.lit("logs").alias("source"),
            pl.col("_restarts").cast(pl.String).alias(FIELD_PREFIX + "restarts"),
            pl.when(pl.col("_restarts") == 1)
            .then(pl.lit("once"))
            .otherwise(pl.col("_restarts").cast(pl.String) + " times")
            .alias(FIELD_PREFIX + "times"),
            first_line.alias(FIELD_PREFIX + "banner"),
            *rule_columns(rule),
        )
        .drop("_restarts")
    )


def line_key(column: str) -> pl.Expr:
    """What makes two records the same line: the first characters, numbers masked."""
    return pl.col(column).str.slice(0, BANNER_CHARS).str.replace_all(r"[0-9]+", "0")
