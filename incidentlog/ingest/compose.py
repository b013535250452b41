"""Parse `docker compose logs` / `docker compose up` text (compose v1 and v2).

    web-1      | 2025-08-01T12:30:00.123456789Z message      (v2, --timestamps)
    web_1      | message                                     (v1)
    web-1 exited with code 1                                 (compose's own line)

One regex extraction per batch splits prefix, timestamp and message; compose's
own status lines are kept as records of the `compose` service because they
are evidence (exits, unhealthy dependencies).
"""

from __future__ import annotations

import polars as pl

from incidentlog.schema import TS_DTYPE

COMPOSE_SERVICE = "compose"

ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]"

_PREFIX = r"^([A-Za-z0-9][A-Za-z0-9_.-]*?[ \t]*\| ?)"
"""`name<padding> | message`; compose pads the name column to align `|`."""

COMPOSE_OWN = (
    r"^(?:Attaching to |Gracefully stopping|Aborting on container exit|"
    r"\S+ exited with code -?\d+|dependency failed to start|"
    r"ERROR: for |ERROR: |WARNING: |WARN\[\d+\]|\[\+\] |"
    r"(?:Creating|Starting|Stopping|Removing|Recreating|Killing|Pulling|Building) \S+ \.\.\.|"
    r"[ ✔✘⠿]*\s*(?:Container|Network|Volume|Image) \S+\s+"
    r"(?:Creating|Created|Starting|Started|Stopping|Stopped|Removing|Removed|Recreate|Recreated|"
    r"Waiting|Healthy|Running|Error|Exited|Killing|Killed|Pulling|Pulled|Built|Building)|"
    r"(?:Error response from daemon|service \S+ .*(?:failed|didn't complete successfully)|"
    r"Container \S+ .*(?:unhealthy|exited)))"
)
"""Lines compose itself prints around the service logs (v1 and v2)."""


def strip_ansi(text: pl.Expr) -> pl.Expr:
    """Remove colour codes (runs without --no-color); cheap when there are none."""
    return (
        pl.when(text.str.contains("\x1b", literal=True))
        .then(text.str.replace_all(ANSI, ""))
        .otherwise(text)
    )


def parse_timestamp(stamp: pl.Expr) -> pl.Expr:
    """RFC 3339 (any fraction, `Z` or offset, `T` or space) to UTC nanoseconds."""
    normal = stamp.str.replace(" ", "T", literal=True).str.replace(",", ".", literal=True)
    normal = normal.str.replace(r"Z$", "+00:00")
    return normal.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="ns", time_zone="UTC", strict=False
    ).cast(TS_DTYPE)


def parse_timestamps(stamps: pl.Series) -> pl.Series:
    """`parse_timestamp` for a whole column, fast when all stamps are engine-style `...Z`."""
    fast = stamps.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.fZ", time_unit="ns", time_zone="UTC", strict=False
    ).cast(TS_DTYPE)
    if fast.null_count() == stamps.null_count():
        return fast
    return pl.select(parse_timestamp(pl.lit(stamps))).to_series()


_STAMP = r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d))(?: |$)"


def with_timestamp(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Split a leading engine timestamp off `column` into `ts` (UTC ns); the rest stays."""
    stamp = frame.get_column(column).str.extract(_STAMP, 1)
    ts = parse_timestamps(stamp)
    cut = pl.when(pl.lit(ts).is_not_null()).then(pl.lit(stamp).str.len_bytes() + 1).otherwise(0)
    return frame.with_columns(ts=ts, **{column: pl.col(column).str.slice(cut)})


def service_from_container(container: pl.Expr, project: pl.Expr | None = None) -> pl.Expr:
    """Compose service of a container name: `web-1` (v2) or `web_1` (v1) → `web`.

    With the project known, its prefix goes too: `shop-web-1` / `shop_web_1` → `web`.
    """
    service = (
        pl.when(container.str.contains(r"-\d+$"))
        .then(container.str.replace(r"-\d+$", ""))
        .otherwise(container.str.replace(r"_\d+$", ""))
    )
    if project is None:
        return service
    prefixed = service.str.starts_with(project + "-") | service.str.starts_with(project + "_")
    return (
        pl.when(prefixed.fill_null(False))
        .then(service.str.slice(project.str.len_chars() + 1))
        .otherwise(service)
    )


def parse_compose_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """From `line` (+ `seq`) to container, service, ts, text and a `reject` reason.

    A line is rejected only when it has no `name |` prefix and is not one of
    compose's own lines; blank lines between records are kept as text.
    Built step by step: each regex runs once over the batch.
    """
    frame = lines.with_columns(text=strip_ansi(pl.col("line")))
    prefix = frame.get_column("text").str.extract(_PREFIX, 1)
    frame = frame.with_columns(
        container=prefix.str.extract(r"^([^ \t|]+)", 1),
        text=pl.col("text").str.slice(prefix.str.len_chars().fill_null(0)),
    )
    unprefixed = pl.col("container").is_null()
    frame = frame.with_columns(own=unprefixed & pl.col("text").str.contains(COMPOSE_OWN))
    frame = with_timestamp(frame, "text")
    return frame.with_columns(
        container=pl.when(pl.col("own"))
        .then(pl.lit(COMPOSE_SERVICE))
        .otherwise(pl.col("container")),
        service=pl.when(pl.col("own"))
        .then(pl.lit(COMPOSE_SERVICE))
        .otherwise(service_from_container(pl.col("container"))),
        reject=pl.when(unprefixed & ~pl.col("own") & (pl.col("text").str.strip_chars() != ""))
        .then(pl.lit("no `service |` prefix (for --no-log-prefix output pass --service NAME)"))
        .when(unprefixed & ~pl.col("own"))
        .then(pl.lit("blank line"))
        .otherwise(None),
    ).drop("own")


def parse_raw_lines(lines: pl.DataFrame, service: str) -> pl.DataFrame:
    """Lines with no compose prefix (`--no-log-prefix`, a plain log file): one service."""
    frame = lines.with_columns(
        text=strip_ansi(pl.col("line")),
        container=pl.lit(service),
        service=pl.lit(service),
        reject=pl.lit(None, dtype=pl.String),
    )
    return with_timestamp(frame, "text")
