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

_PREFIX = r"^(?P<container>[A-Za-z0-9][A-Za-z0-9_.-]*?)[ \t]*\| ?(?P<rest>.*)$"
"""`name<padding> | message`; compose pads the name column to align `|`."""

TIMESTAMP = (
    r"^(?P<stamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)) ?(?P<body>.*)$"
)

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


def split_timestamp(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(ts, body): a leading engine timestamp parsed, and the text after it."""
    parts = text.str.extract_groups(TIMESTAMP)
    stamp = parts.struct.field("stamp")
    ts = parse_timestamp(stamp)
    body = pl.when(ts.is_not_null()).then(parts.struct.field("body")).otherwise(text)
    return ts, body


def service_from_container(container: pl.Expr) -> pl.Expr:
    """Compose service of a replica name: `web-1` (v2) or `web_1` (v1) → `web`."""
    return (
        pl.when(container.str.contains(r"-\d+$"))
        .then(container.str.replace(r"-\d+$", ""))
        .otherwise(container.str.replace(r"_\d+$", ""))
    )


def parse_compose_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """From `line` (+ `seq`) to container, service, ts, text and a `reject` reason.

    A line is rejected only when it has no `name |` prefix and is not one of
    compose's own lines; blank lines between records are kept as text.
    """
    clean = strip_ansi(pl.col("line"))
    parts = clean.str.extract_groups(_PREFIX)
    container = parts.struct.field("container")
    rest = parts.struct.field("rest")
    own = container.is_null() & clean.str.contains(COMPOSE_OWN)
    ts, body = split_timestamp(pl.when(container.is_not_null()).then(rest).otherwise(clean))
    frame = lines.with_columns(
        container=pl.when(own).then(pl.lit(COMPOSE_SERVICE)).otherwise(container),
        ts=ts,
        text=body,
        reject=pl.when(container.is_null() & ~own & (clean.str.strip_chars() != ""))
        .then(pl.lit("no `service |` prefix (for --no-log-prefix output pass --service NAME)"))
        .when(container.is_null() & ~own)
        .then(pl.lit("blank line"))
        .otherwise(None),
    )
    return frame.with_columns(
        service=pl.when(pl.col("container") == COMPOSE_SERVICE)
        .then(pl.lit(COMPOSE_SERVICE))
        .otherwise(service_from_container(pl.col("container"))),
    )


def parse_raw_lines(lines: pl.DataFrame, service: str) -> pl.DataFrame:
    """Lines with no compose prefix (`--no-log-prefix`, a plain log file): one service."""
    clean = strip_ansi(pl.col("line"))
    ts, body = split_timestamp(clean)
    return lines.with_columns(
        container=pl.lit(service),
        service=pl.lit(service),
        ts=ts,
        text=body,
        reject=pl.lit(None, dtype=pl.String),
    )
