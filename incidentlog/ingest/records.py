"""Finishing records: host, project, level and content ids; identities from labels.

A record's id hashes its content and, when identical records share an
instant, its occurrence number; `Occurrences` carries those counts across
batches (and, for `collect`, across restarts), so the same input always
gives the same ids and the store's id check makes re-ingesting a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import polars as pl

from incidentlog.ingest.compose import service_from_container
from incidentlog.ingest.levels import with_level
from incidentlog.ingest.options import IngestOptions
from incidentlog.schema import (
    EVENT_IDENTITY,
    EVENTS_SCHEMA,
    LOG_IDENTITY,
    LOGS_SCHEMA,
    TS_DTYPE,
    EventAction,
    conform,
    row_ids,
)


@dataclass(frozen=True)
class Batch:
    """One step of ingest: finished logs and events (either may be empty)."""

    logs: pl.DataFrame
    events: pl.DataFrame


_SEEN_SCHEMA = pl.Schema(
    {"_content": pl.UInt64(), "container": pl.String(), "ts": TS_DTYPE, "_seen": pl.UInt64()}
)


@dataclass
class Occurrences:
    """How often each recent record was already emitted.

    Occurrence numbers must not restart at a batch boundary (nor at the
    stitching carry-over, which emits each container's last record one batch
    later), or two identical records at the same instant would get the same
    id and the store would drop one. Identical records share container and
    ts, and a container's records arrive in time order or close to it, so the
    counts kept are those of each container's last minute (`RECENT`).
    """

    latest: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SEEN_SCHEMA))


def finish_logs(records: pl.DataFrame, options: IngestOptions, seen: Occurrences) -> pl.DataFrame:
    """Add host, project, level and the content id; conform to LOGS_SCHEMA."""
    if "project" not in records.columns:
        records = records.with_columns(project=pl.lit(None, dtype=pl.String))
    if "level" not in records.columns:
        records = with_level(records, "message")
    host = pl.lit(options.host)
    if "host" in records.columns:  # (a swarm task's node, where the input names one)
        host = pl.coalesce(pl.col("host"), host)
    frame = records.with_columns(
        host=host,
        project=pl.coalesce(pl.col("project"), pl.lit(options.project, dtype=pl.String)),
    )
    frame = frame.with_columns(_content=row_ids(frame, LOG_IDENTITY))
    # identical records at the same instant are told apart by occurrence; without a
    # time, by their line in the input, so re-ingesting the same input is a no-op
    content = pl.col("_content")
    counts = seen.latest.select("_content", "_seen")
    repeats_earlier = (
        frame.get_column("_content").is_in(counts.get_column("_content").implode()).any()
    )
    if repeats_earlier:
        frame = frame.join(counts, on="_content", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(_seen=pl.lit(None, dtype=counts.schema["_seen"]))
    occurrence = pl.when(pl.col("ts").is_null()).then(pl.col("lineno")).otherwise(0)
    if repeats_earlier or frame.get_column("_content").n_unique() < frame.height:
        occurrence = (
            pl.when(pl.col("ts").is_null())
            .then(pl.col("lineno"))
            .otherwise(
                pl.col("_seen").fill_null(0) + pl.int_range(pl.len(), dtype=pl.UInt64).over(content)
            )
        )
    frame = frame.with_columns(_k=occurrence.cast(pl.UInt64))
    if frame.get_column("_k").max() or 0:  # some records repeat: their occurrence goes in the id
        nth = row_ids(frame, ("_content", "_k"))
        frame = frame.with_columns(id=pl.when(pl.col("_k") == 0).then(content).otherwise(nth))
    else:
        frame = frame.with_columns(id=content)
    _remember_latest(frame, seen)
    return conform(frame, LOGS_SCHEMA, "ingest")


RECENT: Final = timedelta(minutes=1)
"""How far behind its container's latest instant a record's occurrence count is kept."""


def _remember_latest(frame: pl.DataFrame, seen: Occurrences) -> None:
    """Keep the occurrence counts of each container's records of its last `RECENT`.

    Not only those at its latest instant: a container's times may go back a little
    (threads of one application; stitching holds a container's last record back
    and emits it with the next batch), so an identical record can follow one that
    is no longer the latest."""
    rows = frame.select("container", "ts", "_content", "_k")
    # (recent records are near the end of a batch: a cheap cut first)
    earliest_latest = rows.group_by("container").agg(pl.col("ts").max()).get_column("ts").min()
    if not isinstance(earliest_latest, datetime):  # nothing timed
        return
    recent = pl.col("ts") >= pl.col("ts").max().over("container") - RECENT
    timed = rows.filter(pl.col("ts") >= earliest_latest - RECENT).filter(recent)
    emitted = timed.group_by("_content").agg(
        pl.col("container").first(), pl.col("ts").first(), (pl.col("_k").max() + 1).alias("_seen")
    )
    merged = (
        pl.concat([seen.latest, emitted.select(seen.latest.columns)])
        .group_by("_content")
        .agg(pl.col("container").first(), pl.col("ts").first(), pl.col("_seen").max())
    )
    seen.latest = merged.filter(recent)


def finish_events(frame: pl.DataFrame, options: IngestOptions) -> pl.DataFrame:
    frame = frame.with_columns(
        host=pl.lit(options.host),
        project=pl.coalesce(pl.col("project"), pl.lit(options.project, dtype=pl.String)),
    )
    # a service guessed from an unlabelled name (`shop_web_1`) loses the project prefix
    guessed = pl.col("service") == service_from_container(pl.col("container"))
    frame = frame.with_columns(
        service=pl.when(guessed.fill_null(False))
        .then(service_from_container(pl.col("container"), pl.col("project")))
        .otherwise(pl.col("service"))
    )
    frame = frame.with_columns(id=row_ids(frame, EVENT_IDENTITY))
    return conform(frame, EVENTS_SCHEMA, "ingest")


def vouched() -> pl.Expr:
    """Rows whose service compose vouches for: its labels (a project), or a `ps` table's
    SERVICE column naming another service than the container's name says
    (`container_name: LibreChat` of service `api`)."""
    named = (pl.col("action") == EventAction.SNAPSHOT.value) & (
        pl.col("service") != service_from_container(pl.col("container"))
    )
    return pl.col("project").is_not_null() | named.fill_null(False)


def learn_identities(known: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Container → (project, service) pairs that compose vouches for (`vouched`)."""
    labelled = events.filter(vouched()).select("container", "project", "service")
    return pl.concat([known, labelled]).unique("container", keep="last")


def apply_identities(batch: Batch, known: pl.DataFrame, options: IngestOptions) -> Batch:
    """Complete project and service from labelled sources seen earlier.

    `docker ps` names (`mcp-web-1`) and compose log prefixes (`web-1`) carry no
    labels; a labelled container of the same name, or the project prefix of a
    known project, tells which compose service they belong to.
    """
    if known.is_empty():
        return batch
    projects = known.get_column("project").unique().drop_nulls().to_list()

    def complete(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
        if frame.is_empty():
            return frame
        joined = frame.join(known, on="container", how="left", suffix="_known")
        service = pl.col("service")
        for project in projects:
            service = (
                pl.when(
                    pl.col("project_known").is_null()
                    & pl.col("container").str.starts_with(f"{project}-")
                )
                .then(pl.col("service").str.strip_prefix(f"{project}-"))
                .otherwise(service)
            )
        joined = joined.with_columns(
            service=pl.coalesce(pl.col("service_known"), service),
            project=pl.coalesce(
                pl.col("project"),
                pl.col("project_known"),
                pl.lit(projects[0] if len(projects) == 1 else None, dtype=pl.String),
            ),
        )
        return conform(joined, schema, "ingest")

    return Batch(complete(batch.logs, LOGS_SCHEMA), complete(batch.events, EVENTS_SCHEMA))
