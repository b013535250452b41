"""Parse `docker events` lines into the `events` frame.

`--format '{{json .}}'` lines are read in both shapes: the current one
(`Type`, `Action`, `Actor.Attributes`, `timeNano`) and the legacy one
(`status`, `id`, `from`, `time`), which the engine still prints alongside.
So are the lines `docker events` prints without `--format`, which people
paste as often: `2025-08-01T10:00:05.323456789Z container die 3f2a… (exitCode=137,
image=shop-web, name=shop-web-1)`. Compose labels on the actor give project
and service. Only container lifecycle and health actions are kept; the rest
(exec_*, attach, network events...) are counted as ignored.
"""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl

from incidentlog.ingest.compose import parse_timestamp, service_from_container
from incidentlog.schema import ACTION_DTYPE, STATUS_DTYPE, TS_DTYPE, EventAction

_KEPT = [a.value for a in EventAction if a not in (EventAction.PROBE, EventAction.SNAPSHOT)]


_MAX_EPOCH_SECONDS = (2**63 - 1) // 1_000_000_000


def _field(path: str) -> pl.Expr:
    return pl.col("line").str.json_path_match(path)


TEXT_EVENT = (
    r"^(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?) "
    r"(?P<type>[a-z]+) (?P<action>[a-z_]+(?:: [^(]*?)?) (?P<id>\S+) \((?P<attributes>.*)\)\s*$"
)
"""A `docker events` line without `--format`: time, type, action (`health_status:
unhealthy`), actor id, then the actor's attributes as `key=value, …`; `docker compose
events` prints the same with a time without `T` or zone (`2026-12-06 01:21:10.554120`)."""


def _text(part: str) -> pl.Expr:
    """A named part of a text event line (null for JSON lines), extracted once per line."""
    return pl.col("_text").struct.field(part)


def _attribute(key: str) -> pl.Expr:
    """One `key=value` of a text event's attributes (values hold no `, `)."""
    return _text("attributes").str.extract(r"(?:^|, )" + re.escape(key) + r"=([^,]*)", 1)


def _event_time(text: pl.Expr) -> pl.Expr:
    """An event's printed time: RFC 3339, or compose's without a zone (read as UTC)."""
    naive = (
        text.str.replace(" ", "T", literal=True)
        .str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", time_unit="ns", strict=False)
        .dt.replace_time_zone("UTC")
        .cast(TS_DTYPE)
    )
    return pl.coalesce(parse_timestamp(text), naive)


def parse_event_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """From `line` (+ `seq`) to events columns and a `reject` reason per line."""
    lines = lines.with_columns(pl.col("line").str.extract_groups(TEXT_EVENT).alias("_text"))
    # (`docker compose events --json`: lower-case `action`, `type`, `attributes`, `service`;
    # Compose v1's: `event`, `container`, `service`)
    action_text = pl.coalesce(
        _field("$.Action"),
        _field("$.status"),
        _field("$.action"),
        _field("$.event"),
        _text("action"),
    )
    kind = pl.coalesce(_field("$.Type"), _field("$.type"), _text("type"), pl.lit("container"))
    action = action_text.str.extract(r"^([a-z_]+)", 1)
    status = action_text.str.extract(r"^health_status: *(\w+)", 1)
    attrs = "$.Actor.Attributes"
    project = pl.coalesce(
        _field(f"{attrs}['com.docker.compose.project']"), _attribute("com.docker.compose.project")
    )
    name = pl.coalesce(
        _field(f"{attrs}.name"),
        _field("$.attributes.name"),
        _field("$.id").str.slice(0, 12),
        _field("$.container").str.slice(0, 12),
        _attribute("name"),
        _text("id").str.slice(0, 12),
    )
    service = pl.coalesce(
        _field(f"{attrs}['com.docker.compose.service']"),
        _field("$.service"),
        _attribute("com.docker.compose.service"),
        service_from_container(name, project),
    )
    seconds = _field("$.time").cast(pl.Int64, strict=False)
    nanos = pl.coalesce(
        _field("$.timeNano").cast(pl.Int64, strict=False),
        # (seconds past Int64 nanoseconds, years 1677 to 2262, would wrap around)
        pl.when(seconds.abs() < _MAX_EPOCH_SECONDS).then(seconds * 1_000_000_000),
    )
    stamp = _event_time(pl.coalesce(_text("time"), _field("$.time")))
    ts = pl.coalesce(
        pl.from_epoch(nanos, time_unit="ns").dt.replace_time_zone("UTC").cast(TS_DTYPE), stamp
    )
    parsed = lines.with_columns(
        ts=ts,
        project=project,
        service=service,
        container=name,
        action=pl.when(action.is_in(_KEPT)).then(action),
        status=status.cast(STATUS_DTYPE, strict=False),
        exit_code=pl.coalesce(
            _field(f"{attrs}.exitCode"), _field("$.attributes.exitCode"), _attribute("exitCode")
        ).cast(pl.Int32, strict=False),
        restart_count=pl.lit(None, dtype=pl.Int32),
        output=pl.lit(None, dtype=pl.String),
        bad_ts=(nanos.is_null() & pl.coalesce(_field("$.timeNano"), _field("$.time")).is_not_null())
        | (stamp.is_null() & _text("time").is_not_null())
        | (nanos.is_null() & stamp.is_null() & _field("$.time").is_not_null()),
        _kind=kind,
        _action_text=action_text,
    )
    reject = (
        pl.when(pl.col("_action_text").is_null())
        .then(pl.lit("not a docker event (no Action/status)"))
        .when(pl.col("_kind") != "container")
        .then(pl.lit("ignored: not a container event"))
        .when(pl.col("action").is_null())
        .then(pl.lit("ignored: action not tracked (exec, attach, ...)"))
        .otherwise(None)
    )
    return parsed.with_columns(
        reject=reject, action=pl.col("action").cast(ACTION_DTYPE, strict=False)
    ).drop("_kind", "_action_text", "_text")


OOM_SAME_DEATH = timedelta(seconds=5)
"""An `oom` row this close to another of the same container is the same kill seen by
another source (the engine's `oom` event, and inspect's `OOMKilled`)."""


def drop_repeated_ooms(events: pl.DataFrame) -> pl.DataFrame:
    """`events` with one `oom` row per kill: the earliest of those within OOM_SAME_DEATH
    of each other, per container (undated rows are kept)."""
    oom = pl.col("action") == EventAction.OOM.value
    if events.filter(oom).height < 2:
        return events
    ordered = events.with_row_index("_row")
    ooms = ordered.filter(oom & pl.col("ts").is_not_null()).sort("container", "ts")
    repeated = ooms.filter(
        (pl.col("container") == pl.col("container").shift(1))
        & (pl.col("ts") - pl.col("ts").shift(1) <= OOM_SAME_DEATH)
    ).get_column("_row")
    return ordered.filter(~pl.col("_row").is_in(repeated.implode())).drop("_row")
