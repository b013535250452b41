"""The only place where frame columns and dtypes are defined.

Every stage returns frames of these schemas; `conform` checks (and casts) at
stage boundaries so a drifting column fails loudly instead of downstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

import polars as pl

from incidentlog.errors import SchemaError, UsageError


class Level(StrEnum):
    """Log level, least to most severe (the Enum order is the severity order)."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    FATAL = "fatal"
    UNKNOWN = "unknown"


LEVEL_ALIASES = {"warning": "warn", "err": "error", "critical": "fatal", "crit": "fatal"}
"""Other names people give levels, as `--level` accepts them."""


def levels_at_least(level: str) -> list[str]:
    """The level names at `level` or more severe, for a `--level` filter.

    `warn` keeps warn, error and fatal; aliases (`warning`, `crit`, …) are
    accepted; `unknown` (no level could be inferred) matches only itself.
    """
    name = LEVEL_ALIASES.get(level.lower(), level.lower())
    try:
        wanted = Level(name)
    except ValueError:
        allowed = ", ".join(item.value for item in Level)
        raise UsageError(f"--level {level!r} is not a level (allowed: {allowed})") from None
    if wanted is Level.UNKNOWN:
        return [Level.UNKNOWN.value]
    ranked = [item.value for item in Level if item is not Level.UNKNOWN]
    return ranked[ranked.index(wanted.value) :]


class Stream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """Finding severity, least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Category(StrEnum):
    """Failure taxonomy: the ids are a public contract (DESIGN.md)."""

    MISSING_BINARY = "missing-binary"
    EVENT_LOOP_CONFLICT = "event-loop-conflict"
    HEALTHCHECK_FAILED = "healthcheck-failed"
    OOM_KILLED = "oom-killed"
    CONNECTION_REFUSED = "connection-refused"
    DNS_RESOLUTION = "dns-resolution"
    PORT_IN_USE = "port-in-use"
    PERMISSION_DENIED = "permission-denied"
    MISSING_MODULE = "missing-module"
    DISK_FULL = "disk-full"
    AUTH_FAILURE = "auth-failure"
    TLS_ERROR = "tls-error"
    TIMEOUT = "timeout"
    CRASH_LOOP = "crash-loop"
    SEGFAULT = "segfault"
    RESOURCE_EXHAUSTED = "resource-exhausted"
    CONFIG_ERROR = "config-error"
    UNHANDLED_EXCEPTION = "unhandled-exception"


class EventAction(StrEnum):
    """Lifecycle and health actions kept in the `events` frame."""

    CREATE = "create"
    START = "start"
    RESTART = "restart"
    STOP = "stop"
    KILL = "kill"
    DIE = "die"
    OOM = "oom"
    DESTROY = "destroy"
    HEALTH_STATUS = "health_status"
    PROBE = "probe"
    SNAPSHOT = "snapshot"


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    STARTING = "starting"


LEVEL_DTYPE = pl.Enum([lvl.value for lvl in Level])
STREAM_DTYPE = pl.Enum([s.value for s in Stream])
ACTION_DTYPE = pl.Enum([a.value for a in EventAction])
STATUS_DTYPE = pl.Enum([s.value for s in HealthStatus])
TS_DTYPE = pl.Datetime("ns", "UTC")


def _columns(spec: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """Typed identity, so mypy sees the schema mapping's value type."""
    return spec


ORIGIN_COLUMNS = _columns(
    {
        "ts": TS_DTYPE,
        "seq": pl.UInt64(),
        "host": pl.String(),
        "project": pl.String(),
        "service": pl.String(),
        "container": pl.String(),
    }
)
"""When, in what order, and from where: the leading columns of `logs` and `events`."""

LOGS_SCHEMA = pl.Schema(
    _columns(
        {
            **ORIGIN_COLUMNS,
            "stream": STREAM_DTYPE,
            "level": LEVEL_DTYPE,
            "message": pl.String(),
            "id": pl.UInt64(),
        }
    )
)

EVENTS_SCHEMA = pl.Schema(
    _columns(
        {
            **ORIGIN_COLUMNS,
            "action": ACTION_DTYPE,
            "status": STATUS_DTYPE,
            "exit_code": pl.Int32(),
            "restart_count": pl.Int32(),
            "output": pl.String(),
            "id": pl.UInt64(),
        }
    )
)
"""`probe` rows are health-check results from `docker inspect` (`output` is
what the probe printed). `snapshot` rows are container state from `docker
ps`/`inspect`: `output` holds the state text (`Up 3 minutes (unhealthy)`),
`exit_code` the last exit code, `restart_count` the engine's restart counter
and `status` the health at that moment."""

FINDINGS_SCHEMA = pl.Schema(
    _columns(
        {
            "id": pl.UInt64(),
            "rule": pl.String(),
            "category": pl.String(),
            "severity": pl.Enum([s.value for s in Severity]),
            "fields": pl.String(),
        }
    )
)
"""`id` is the matched log record or event; `fields` is a JSON object of what
the rule extracted."""


def conform(frame: pl.DataFrame, schema: pl.Schema, stage: str) -> pl.DataFrame:
    """Return `frame` with exactly `schema`'s columns, in order, cast to its dtypes.

    A missing column is a bug in the stage that produced the frame, so it
    raises `SchemaError` naming the stage rather than filling with nulls.
    """
    missing = [name for name in schema.names() if name not in frame.columns]
    if missing:
        raise SchemaError(f"{stage} produced a frame without {', '.join(missing)}")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


# ---- record ids ----------------------------------------------------------------

LOG_IDENTITY = ("host", "container", "ts", "stream", "message")
"""What makes a log record itself (with its occurrence at that instant): its `id` hashes these."""
EVENT_IDENTITY = ("host", "container", "ts", "action", "status", "exit_code", "output")
_ID_SEED = 0x1D_C1DE


def row_ids(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """A 64-bit hash of `columns` per row, the same for the same values in any
    batch (Polars' row hash with a fixed seed; a third of the cost of hashing a
    struct of the same columns)."""
    return frame.select(columns).hash_rows(_ID_SEED)


def id_fingerprint() -> str:
    """The ids this Polars gives to fixed records, in every dtype ids are
    hashed from (text, time, integers, and the action and status of events
    as enums, as `docker events` gives them, and as text, as `docker inspect`
    and `ps` do).

    Polars promises the same row hash only within one version: a store
    records this, and refuses appends from a Polars whose hash differs, which
    would store re-ingested records a second time under new ids.
    """
    moment = datetime(2025, 8, 1, 12, 30, 0, 123456, tzinfo=UTC)
    log = pl.DataFrame(
        {"host": "h", "container": "web-1", "ts": moment, "stream": "stderr"}
        | {"message": "Traceback (most recent call last):\n  ValueError: x"},
        schema={name: LOGS_SCHEMA[name] for name in LOG_IDENTITY} | {"stream": pl.String()},
    )
    event = pl.DataFrame(
        {"host": "h", "container": "web-1", "ts": moment, "action": "die"}
        | {"status": "unhealthy", "exit_code": 137, "output": "OOMKilled"},
        schema={name: EVENTS_SCHEMA[name] for name in EVENT_IDENTITY},
    )
    as_text = event.with_columns(pl.col("action", "status").cast(pl.String))
    content = row_ids(log, LOG_IDENTITY)
    repeat = pl.DataFrame({"_content": content, "_k": pl.Series([1], dtype=pl.UInt64)})
    ids = [
        content,
        row_ids(repeat, ("_content", "_k")),
        row_ids(event, EVENT_IDENTITY),
        row_ids(as_text, EVENT_IDENTITY),
    ]
    return "-".join(f"{column[0]:016x}" for column in ids)
