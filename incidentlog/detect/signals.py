"""What detection adds to raw matches: innermost app frames, health streaks, OOM,
crash loops, startup transients, and the fields as one JSON object.

Each step is a frame -> frame function over whole columns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from incidentlog.detect.access import SERVER_ERROR_ACCESS
from incidentlog.detect.columns import FIELD_PREFIX, SEVERITY_DTYPE
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.ingest.names import replica_base
from incidentlog.schema import (
    Category,
    EventAction,
    Level,
    Severity,
)

__all__ = [
    "OOM_WINDOW",
    "crash_loops",
    "drop_arbiter_kills",
    "drop_generic",
    "health_streaks",
    "mark_oom",
    "traceback_frames",
    "transient",
    "with_field",
]

_SPECIFIC_OVER = Category.UNHANDLED_EXCEPTION.value


_TRANSIENT_CATEGORIES = (Category.CONNECTION_REFUSED.value, Category.DNS_RESOLUTION.value)
_NOT_RECOVERY = (
    SERVER_ERROR_ACCESS + "|"
    r"(?i)\b(?:retrying|trying again|will retry|retry(?: in| after|ing)|reconnecting|"
    r"attempt \d+|waiting for|backing off|back-?off|sleeping)\b|"
    r"^\s*(?:Stack trace:|#\d+ |at |Traceback|File \"|\.\.\. \d+ more|Caused by:|$)|"
    r"^\s*[\[\]{}(),;]+\s*$|^\s+[\w$]+: (?:['\"\[{]|-?\d)|"
    r"(?i)\b(?:please make sure|make sure (?:that )?(?:the|your)|is the (?:\w+ )?server running)\b"
)
"""Info lines that are still the failure: a 5xx in an access log, a retry notice, a stack
frame printed on its own line, the properties of an error object (`  code: 'ECONNREFUSED'`, `}`), the hint a
client prints under its error (`Please make sure your database server is running`).
They do not show the service working again."""


_PY_FRAME = r'File "[^"\n]+", line \d+'


_PY_FRAME_GROUPS = r'File "(?P<file>[^"\n]+)", line (?P<line>\d+)'


_PY_LIBRARY = r"site-packages/|dist-packages/|/lib/python\d|<frozen |^<"


_NODE_FRAME = r"\bat (?:[^\n(]*\()?(?:file://)?/[^\s():]+:\d+:\d+"


_NODE_FRAME_GROUPS = r"\bat (?:[^\n(]*\()?(?:file://)?(?P<file>/[^\s():]+):(?P<line>\d+):\d+"


_NODE_LIBRARY = r"/node_modules/|node:internal|^node:"


_GO_FRAME = r"\t/[^\s:]+\.go:\d+"


_GO_FRAME_GROUPS = r"\t(?P<file>/[^\s:]+\.go):(?P<line>\d+)"


_GO_LIBRARY = r"^\t/usr/local/go/|GOROOT|/pkg/mod/|/go/src/runtime/"


OOM_WINDOW = timedelta(seconds=60)


def traceback_frames(findings: pl.DataFrame) -> pl.DataFrame:
    """Fill fields `file`/`line` with the innermost application frame of a traceback."""
    message = pl.col("message")

    def innermost(frame_rx: str, groups_rx: str, library_rx: str, *, first: bool) -> pl.Expr:
        frames = message.str.extract_all(frame_rx).list.eval(
            pl.element().filter(~pl.element().str.contains(library_rx))
        )
        return (frames.list.first() if first else frames.list.last()).str.extract_groups(groups_rx)

    # Python prints the innermost frame last; Node and Go print it first (Go's first
    # goroutine is the one that panicked: a frame of a later one is another's)
    frame = pl.coalesce(
        innermost(_PY_FRAME, _PY_FRAME_GROUPS, _PY_LIBRARY, first=False),
        innermost(_NODE_FRAME, _NODE_FRAME_GROUPS, _NODE_LIBRARY, first=True),
        innermost(_GO_FRAME, _GO_FRAME_GROUPS, _GO_LIBRARY, first=True),
    )
    for name in ("file", "line"):
        if FIELD_PREFIX + name not in findings.columns:
            findings = findings.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + name))
    has_frames = message.str.contains_any(['File "', "    at ", "\t/"])
    return (
        findings.with_columns(
            pl.when(pl.col("source") != "events")
            .then(pl.when(has_frames).then(frame))
            .alias("_frame")
        )
        .with_columns(
            pl.coalesce(pl.col(FIELD_PREFIX + n), pl.col("_frame").struct.field(n)).alias(
                FIELD_PREFIX + n
            )
            for n in ("file", "line")
        )
        .drop("_frame")
    )


def drop_generic(findings: pl.DataFrame) -> pl.DataFrame:
    """`unhandled-exception` only where no more specific category matched the record."""
    specific = findings.filter(pl.col("category") != _SPECIFIC_OVER).select("source", "id").unique()
    generic = pl.col("category") == _SPECIFIC_OVER
    kept_generic = findings.filter(generic).join(specific, on=["source", "id"], how="anti")
    return pl.concat([findings.filter(~generic), kept_generic], how="vertical")


_ARBITER_KILL = r"(?:Worker \(pid:|child )(\d+)(?:\) was sent SIGKILL| exited on signal 9\b)"
_ARBITER_TIMEOUT = r"(?:WORKER TIMEOUT \(pid:|child )(\d+)(?:\)|, script .* execution timed out)"


def drop_arbiter_kills(findings: pl.DataFrame) -> pl.DataFrame:
    """gunicorn says `Worker (pid:8) was sent SIGKILL! Perhaps out of memory?` for every
    SIGKILL, also its own after `WORKER TIMEOUT (pid:8)`, and php-fpm `child 41 exited on
    signal 9` after its own `child 41, script … execution timed out …, terminating`: that
    kill is the timeout's, not the OOM killer's (the timeout finding stays)."""
    kills = findings.filter(
        (pl.col("category") == Category.OOM_KILLED.value) & (pl.col("source") == "logs")
    ).with_columns(_pid=pl.col("message").str.extract(_ARBITER_KILL, 1))
    kills = kills.filter(pl.col("_pid").is_not_null())
    if kills.is_empty():
        return findings
    timeouts = (
        findings.filter(pl.col("message").str.contains(_ARBITER_TIMEOUT))
        .select(
            "container",
            _pid=pl.col("message").str.extract(_ARBITER_TIMEOUT, 1),
            _timed_out=pl.col("ts"),
        )
        .drop_nulls("_pid")
        .unique()
    )
    explained = (
        kills.join(timeouts, on=["container", "_pid"])
        .filter(
            pl.col("ts").is_null()
            | pl.col("_timed_out").is_null()
            | (pl.col("_timed_out") <= pl.col("ts"))
        )
        .select("source", "id", "rule")
        .unique()
    )
    return findings.join(explained, on=["source", "id", "rule"], how="anti")


def with_field(findings: pl.DataFrame, name: str, value: pl.Expr) -> pl.DataFrame:
    column = FIELD_PREFIX + name
    if column in findings.columns:
        value = pl.coalesce(pl.col(column), value)
    return findings.with_columns(value.cast(pl.String).alias(column))


def health_streaks(findings: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Longest run of consecutive failing probes / unhealthy statuses per container."""
    checks = events.filter(
        pl.col("action").is_in([EventAction.HEALTH_STATUS.value, EventAction.PROBE.value])
    )
    if checks.is_empty():
        return findings
    failing = (
        pl.when(pl.col("action") == EventAction.PROBE.value)
        .then(pl.col("exit_code").fill_null(0) != 0)
        .otherwise(pl.col("status") == "unhealthy")
    ).fill_null(False)
    streaks = (
        checks.sort("ts", "seq", nulls_last=False)
        .with_columns(failing.alias("_failing"), pl.col("action").cast(pl.String).alias("_kind"))
        .with_columns(pl.col("_failing").rle_id().over("container", "_kind").alias("_run"))
        .filter(pl.col("_failing"))
        .group_by("container", "_kind", "_run")
        .agg(pl.len().alias("_n"))
        .group_by("container")
        .agg(pl.col("_n").max().alias("_streak"))
    )
    is_health = (pl.col("category") == Category.HEALTHCHECK_FAILED.value) & (
        pl.col("source") != "logs"
    )
    joined = findings.join(streaks, on="container", how="left")
    joined = with_field(joined, "streak", pl.when(is_health).then(pl.col("_streak")))
    return joined.drop("_streak")


def mark_oom(events: pl.DataFrame) -> pl.DataFrame:
    """Column `_oom`: an oom event of the same container within OOM_WINDOW, or OOMKilled state."""
    ooms = events.filter(pl.col("action") == EventAction.OOM.value).select(
        "container", pl.col("ts").alias("_oom_ts")
    )
    near = (
        events.select("id", "container", "ts")
        .join(ooms, on="container", how="inner")
        .filter((pl.col("ts") - pl.col("_oom_ts")).abs() <= OOM_WINDOW)
        .get_column("id")
        .unique()
        .implode()
    )
    in_state = pl.col("output").fill_null("").str.contains(r"(?i)oom-?killed")
    return events.with_columns(
        (pl.col("id").is_in(near) | in_state | (pl.col("action") == EventAction.OOM.value)).alias(
            "_oom"
        )
    )


def crash_loops(findings: pl.DataFrame, data_end: pl.DataFrame, stable: timedelta) -> pl.DataFrame:
    """Per service: restarts, distinct exit codes, median interval, loop closed or not."""
    crash = pl.col("category") == Category.CRASH_LOOP.value
    rows = findings.filter(crash)
    if rows.is_empty():
        return findings
    if FIELD_PREFIX + "exit_code" not in findings.columns:
        findings = findings.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + "exit_code"))
        rows = rows.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + "exit_code"))
    has_events = (pl.col("source") == "events").any().over("service")
    counted = rows.filter((pl.col("source") == "events") | ~has_events)
    per_service = (
        counted.sort("ts", "seq", nulls_last=True)
        .group_by("service")
        .agg(
            pl.len().alias("_restarts"),
            pl.col(FIELD_PREFIX + "exit_code")
            .drop_nulls()
            .cast(pl.Int64, strict=False)
            .unique()
            .sort()
            .cast(pl.String)
            .str.join(", ")
            .alias("_codes"),
            pl.col("ts").diff().dt.total_seconds().median().alias("_interval"),
            pl.col("ts").max().alias("_last_crash"),
        )
        .join(data_end, on="service", how="left")
        .with_columns(
            (
                (pl.col("_last_activity") > pl.col("_last_crash"))
                & (pl.col("_data_end") - pl.col("_last_crash") >= stable)
            )
            .fill_null(False)
            .alias("_closed")
        )
    )
    joined = findings.join(per_service, on="service", how="left")
    interval = pl.when(pl.col("_interval").is_not_null()).then(
        pl.concat_str(pl.col("_interval").round(0).cast(pl.Int64).cast(pl.String), pl.lit("s"))
    )
    times = (
        pl.when(pl.col("_restarts") == 1)
        .then(pl.lit("once"))
        .otherwise(pl.concat_str(pl.col("_restarts").cast(pl.String), pl.lit(" times")))
    )
    for name, value in (
        ("restarts", pl.col("_restarts")),
        ("times", times),
        ("exit_codes", pl.col("_codes").replace("", None)),
        ("interval", interval),
        ("closed", pl.col("_closed").cast(pl.String).str.to_lowercase()),
    ):
        joined = with_field(joined, name, pl.when(crash).then(value))
    return joined.drop(
        "_restarts", "_codes", "_interval", "_last_crash", "_last_activity", "_data_end"
    )


_BARE_NAME: Final = r"^[A-Za-z][A-Za-z0-9_-]*$"
"""A host name without a domain: a compose service's or container's, or a wrong one."""


def _name_nobody_has(findings: pl.DataFrame, logs: pl.LazyFrame) -> pl.Series:
    """Per finding: a name that did not resolve (`redis-cache`) and is no service's and no
    container's of a stack whose other services logged: a wrong name, which no retry
    fixes, so the service's burst of such failures is never transient."""
    column = FIELD_PREFIX + "host"
    nothing = pl.Series([False] * findings.height, dtype=pl.Boolean)
    if column not in findings.columns:
        return nothing
    host = pl.col(column).str.to_lowercase()
    bare = (
        (pl.col("category") == Category.DNS_RESOLUTION.value)
        & host.str.contains(_BARE_NAME)
        & (host != "localhost")
    ).fill_null(False)
    if not findings.select(bare.any()).item():
        return nothing
    names = logs.select("service", "container").unique().collect()
    services = set(names.get_column("service").drop_nulls().to_list()) - {COMPOSE_SERVICE}
    containers = names.get_column("container").drop_nulls().to_list()
    known = {n.lower() for n in (*services, *containers, *map(replica_base, containers))}
    others = pl.lit(len(services)) - pl.col("service").is_in(sorted(services)).cast(pl.Int64)
    return findings.select(bare & ~host.is_in(sorted(known)) & (others >= 1)).to_series()


def transient(findings: pl.DataFrame, logs: pl.LazyFrame, window: timedelta) -> pl.DataFrame:
    """A short refused/DNS burst (at start-up, or a dependency restarting) followed by
    normal logs and never again: low, transient; so is a traceback the service logged
    within that burst (the client library's exception for the same refusal).

    The bursts are few; the records of their services are streamed past them
    (a join with the bursts, then the time test), never held.
    """
    misnamed = findings.filter(_name_nobody_has(findings, logs)).select("service", "category")
    burst = (
        findings.filter(
            pl.col("category").is_in(_TRANSIENT_CATEGORIES) & pl.col("ts").is_not_null()
        )
        .join(misnamed, on=["service", "category"], how="anti")
        .group_by("service", "category")
        .agg(pl.col("ts").min().alias("_first"), pl.col("ts").max().alias("_last"))
    )
    if burst.is_empty():
        return findings.with_columns(pl.lit(False).alias("transient"))
    burst_services = burst.get_column("service").unique().implode()
    mine = logs.filter(pl.col("service").is_in(burst_services) & pl.col("ts").is_not_null())
    finding_ids = findings.filter(pl.col("source") == "logs").get_column("id").implode()
    normal = mine.filter(
        ~pl.col("level").is_in([Level.WARN.value, Level.ERROR.value, Level.FATAL.value])
        & ~pl.col("id").is_in(finding_ids)
        & (pl.col("container") != COMPOSE_SERVICE)  # `api-1 exited with code 1` is no recovery
    ).select("service", pl.col("ts").alias("_ok_ts"), "message")
    # a service that crashes after its burst did not recover from it
    crashed = (
        findings.filter(
            (pl.col("category") == Category.CRASH_LOOP.value) & pl.col("ts").is_not_null()
        )
        .group_by("service")
        .agg(pl.col("ts").max().alias("_crash"))
    )
    bursts = (
        burst.join(crashed, on="service", how="left")
        .filter(pl.col("_crash").is_null() | (pl.col("_crash") < pl.col("_first")))
        .drop("_crash")
        .lazy()
    )
    recovered = (
        normal.join(bursts, on="service", how="inner")
        .filter(
            (pl.col("_ok_ts") > pl.col("_last"))
            & (pl.col("_ok_ts") - pl.col("_last") <= window)
            & (pl.col("_last") - pl.col("_first") <= window)
        )
        # (the text test last: only the few records just after a burst are read)
        .filter(~pl.col("message").str.contains(_NOT_RECOVERY))
        .select("service", "category")
        .unique()
        .with_columns(pl.lit(True).alias("transient"))
        .collect(engine="streaming")
    )
    spans = recovered.join(burst, on=["service", "category"]).select("service", "_first", "_last")
    ts, slack = pl.col("ts"), timedelta(seconds=5)
    traces = (
        findings.filter(pl.col("category") == Category.UNHANDLED_EXCEPTION.value)
        .join(spans, on="service")
        .filter((ts >= pl.col("_first") - slack) & (ts <= pl.col("_last") + slack))
        .select("id", "rule", pl.lit(True).alias("_trace"))
        .unique()
    )
    out = (
        findings.join(recovered, on=["service", "category"], how="left")
        .join(traces, on=["id", "rule"], how="left", nulls_equal=True)
        .with_columns(pl.col("transient").fill_null(False) | pl.col("_trace").fill_null(False))
        .drop("_trace")
    )
    return out.with_columns(
        pl.when(pl.col("transient"))
        .then(pl.lit(Severity.LOW.value).cast(SEVERITY_DTYPE))
        .otherwise(pl.col("severity"))
        .alias("severity")
    )
