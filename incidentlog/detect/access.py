"""Access logs: the requests a service answered, and its 5xx answers as a finding.

A paste that holds only a proxy's access log (nginx answering `502` for three
minutes) shows users failing and no cause: no rule's text matches, yet it is an
incident. The `server-errors` inference finds the services that answered a
share of their requests with a 5xx status, one finding per such response, so
the report can say who failed, when, and where to look next (a gateway status
points at the upstream, a 500 at the service's own error log). The parsing here
is the one the report's "Users" line counts with.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from incidentlog.detect.columns import FIELD_PREFIX, minute_before, rule_columns
from incidentlog.detect.rules import Rule
from incidentlog.ingest.compose import COMPOSE_SERVICE

__all__ = [
    "MIN_SERVER_ERRORS",
    "MIN_SERVER_ERROR_SHARE",
    "PROBE_PATH",
    "SERVER_ERRORS_FIELD",
    "SERVER_ERROR_ACCESS",
    "access_request",
    "probe_request",
    "server_errors",
]

_METHOD: Final = (
    "(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK"
    "|REPORT|SEARCH)"
)
"""HTTP's methods and WebDAV's (Nextcloud's desktop clients send PROPFIND and REPORT)."""
SERVER_ERROR_ACCESS: Final = (
    rf'"{_METHOD} \S+ HTTP/[0-9.]+" 5\d\d\b|'
    rf"\b{_METHOD} /\S* 5\d\d\b|"
    r"\|\s*5\d\d\s*\||"
    r'"(?:status|statusCode|status_code|DownstreamStatus)"\s*:\s*"?5\d\d\b|'
    r"\b(?:status|status_code)=5\d\d\b|"
    r"\bCompleted 5\d\d [A-Z]|(?:^|\] )Sent 5\d\d in \d"
)
"""An access-log line of a request answered with a 5xx: combined format and uvicorn
(`"GET /x HTTP/1.1" 502`), morgan (`POST /v1/x 500 3ms`), gin (`| 500 |`), JSON and logfmt
status fields, Rails's `Completed 500 …` and Phoenix's `Sent 500 in …`. Logged at info by
most servers, it is the failure, not a recovery."""

_ACCESS: Final = rf'"{_METHOD} (?P<path>\S+) HTTP/[0-9.]+" (?P<status>[1-5]\d\d)\b'
_ACCESS_BARE: Final = rf"\b{_METHOD} (?P<path>/\S*) (?P<status>[1-5]\d\d)(?: [\d-]|$)"
"""An access line without the quoted request: morgan's `dev` and `tiny` formats and the
like (`POST /v1/sessions 500 3ms`, `GET /x 200 12 - 3.1 ms`)."""
_GIN: Final = rf"\|\s*(?P<status>[1-5]\d\d)\s*\|.*\|\s*{_METHOD}\s+\"?(?P<path>/[^\s\"]*)"
"""gin's and echo's table (`| 502 |   1.2ms | 172.18.0.1 | GET      "/api/x"`)."""
_LOGFMT: Final = r"\b(?:status|status_code)=(?P<status>[1-5]\d\d)\b"
_LOGFMT_PATH: Final = r"\b(?:path|uri|url)=\"?(?P<path>/[^\s\"?]*)"
_JSON_METHOD: Final = rf'"(?:method|RequestMethod|request_method)"\s*:\s*"{_METHOD}"'
_JSON_STATUS: Final = (
    r'"(?:status|DownstreamStatus|statusCode|status_code)"\s*:\s*"?(?P<status>[1-5]\d\d)\b'
)
_JSON_PATH: Final = r'"(?:uri|RequestPath|path|url|request_uri)"\s*:\s*"(?P<path>/[^"?]*)'
"""A JSON access log: Caddy (`"request":{"method":"GET","uri":"/x"},"status":500`),
Traefik (`"RequestMethod":"GET","RequestPath":"/x","DownstreamStatus":502`), pino-http
(`"req":{"method":"GET","url":"/x"},"res":{"statusCode":500}`) and the like: a line
that names a method and a status."""
_APP_STATUS: Final = r"(?:\bCompleted |(?:^|\] )Sent )([1-5]\d\d)(?: [A-Z]| in \d)"
"""A framework's own line for a request it answered, path on another line: Rails
(`Completed 500 Internal Server Error in 13ms`), Phoenix (`Sent 500 in 2074ms`)."""

PROBE_PATH: Final = (
    r"^/(?:api/|-/|_/|actuator/|v\d+/)?(?:health|healthz|healthcheck|health-check|ready|readyz"
    r"|readiness|live|livez|liveness|ping)\b"
)
"""Paths that are a health probe's by convention, whoever sends them (`/healthz`,
`/api/health`, authentik's `/-/health/live/`, Spring's `/actuator/health`): without the
compose file's health check, their answers are no users' requests."""
_LOOPBACK_CLIENT: Final = r"^(?:INFO:\s+)?(?:127\.0\.0\.1|::1|\[::1\])(?::\d+)?\s"
"""A request from the container to itself (nginx's `127.0.0.1 - - […]`, uvicorn's
`INFO:     127.0.0.1:41406 - …`): its own HEALTHCHECK, not a user."""
MIN_SERVER_ERRORS: Final = 3
MIN_SERVER_ERROR_SHARE: Final = 0.02
"""A service answers this many 5xx responses, and this share of its requests, before
it is a finding: one 500 in a busy hour is a bug to file, not an incident."""
SERVER_ERRORS_FIELD: Final = "answered"
"""The field only `server-errors` findings carry (`19 of 40 requests`): how the
report tells user impact from a cause."""

_REASONS: Final = {
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    507: "Insufficient Storage",
    508: "Loop Detected",
}
_UPSTREAM: Final = (
    " Find which service {service} forwards those paths to (its proxy configuration), then"
    " read that service's state and logs for the same minutes (`docker compose ps`,"
    " `docker compose logs --since <start> <upstream>`)."
)
_NEXT: Final = {
    502: "A 502 is its upstream's failure: it refused the connection, closed it or crashed."
    + _UPSTREAM,
    503: "A 503 says no upstream was there to take the request (stopped, unhealthy, not yet"
    " registered with the proxy) or the service shed load." + _UPSTREAM,
    504: "A 504 is its upstream not answering in time: a hung or overloaded service, or a"
    " slow query behind it." + _UPSTREAM,
}
_OWN: Final = (
    "{service} failed on those requests and this evidence holds no reason: read its own"
    " error log for the same minutes (`docker compose logs --since <start> {service}`),"
    " raise its log level if that shows no traceback, and check what it calls (database,"
    " cache, other services) at that time."
)


def access_request() -> tuple[pl.Expr, pl.Expr]:
    """(path, status) of an access-log line in `message`, null when it is none: the
    formats `SERVER_ERROR_ACCESS` knows, with any status."""
    message = pl.col("message")
    combined = message.str.extract_groups(_ACCESS)
    bare = message.str.extract_groups(_ACCESS_BARE)
    gin = message.str.extract_groups(_GIN)
    json_status = pl.when(message.str.contains(_JSON_METHOD)).then(
        message.str.extract(_JSON_STATUS, 1)
    )
    logfmt = message.str.extract(_LOGFMT, 1)
    path = pl.coalesce(
        combined.struct.field("path"),
        bare.struct.field("path"),
        gin.struct.field("path"),
        pl.when(json_status.is_not_null()).then(message.str.extract(_JSON_PATH, 1)),
        pl.when(logfmt.is_not_null()).then(message.str.extract(_LOGFMT_PATH, 1)),
    )
    status = pl.coalesce(
        combined.struct.field("status"),
        bare.struct.field("status"),
        gin.struct.field("status"),
        json_status,
        logfmt,
        message.str.extract(_APP_STATUS, 1),
    ).cast(pl.Int32)
    return path, status


def probe_request(path: pl.Expr) -> pl.Expr:
    """Whether an access line (its `path` from `access_request`) is a health probe's: a
    probe path by convention, or a request the container sent itself."""
    return path.fill_null("").str.contains(PROBE_PATH) | pl.col("message").str.contains(
        _LOOPBACK_CLIENT
    )


def server_errors(logs: pl.LazyFrame, rule: Rule) -> pl.DataFrame:
    """Findings of `rule` (infer `server-errors`): each 5xx answer of a container that
    answered at least MIN_SERVER_ERRORS of them, and MIN_SERVER_ERROR_SHARE of its
    requests (probe paths left out), with fields `status` (its most frequent 5xx),
    `reason` (its reason phrase), `answered` (`19 of 40 requests`); the remediation says
    where to look next (the upstream for a gateway status, else the service's own error
    log), from a minute before the first 5xx."""
    own = logs.filter(pl.col("container") != COMPOSE_SERVICE)
    failing = (
        own.filter(pl.col("message").str.contains(SERVER_ERROR_ACCESS))
        .group_by("container")
        .len()
        .filter(pl.col("len") >= MIN_SERVER_ERRORS)
        .collect()
        .get_column("container")
    )
    if failing.is_empty():
        return pl.DataFrame()
    path, status = access_request()
    requests = (
        own.filter(pl.col("container").is_in(failing.implode()))
        .with_columns(path.alias("_path"), status.alias("_status"))
        .filter(pl.col("_status").is_not_null() & ~probe_request(pl.col("_path")))
        .collect()
    )
    server_error = pl.col("_status") >= 500
    per_container = (
        requests.group_by("container")
        .agg(
            pl.len().alias("_requests"),
            server_error.sum().alias("_errors"),
            pl.col("_status").filter(server_error).mode().min().alias("_top"),
            pl.col("ts").filter(server_error).min().alias("_first"),
        )
        .filter(
            (pl.col("_errors") >= MIN_SERVER_ERRORS)
            & (pl.col("_errors") >= pl.col("_requests") * MIN_SERVER_ERROR_SHARE)
        )
    )
    if per_container.is_empty():
        return pl.DataFrame()
    reason = pl.col("_top").replace_strict(_REASONS, default="", return_dtype=pl.String)
    advice = pl.col("_top").replace_strict(_NEXT, default=_OWN, return_dtype=pl.String)
    return (
        requests.filter(server_error)
        .join(per_container, on="container")
        .drop("stream", "level", "_path", "_status")
        .with_columns(
            pl.lit("logs").alias("source"),
            pl.col("_top").cast(pl.String).alias(FIELD_PREFIX + "status"),
            reason.alias(FIELD_PREFIX + "reason"),
            pl.format("{} of {} requests", "_errors", "_requests").alias(
                FIELD_PREFIX + SERVER_ERRORS_FIELD
            ),
            advice.alias("_next"),
            *rule_columns(rule),
        )
        .with_columns(
            pl.col("remediation").str.replace(
                "{next}",
                pl.col("_next").str.replace_all(
                    "<start>",
                    minute_before(pl.col("_first")).fill_null("<start>"),
                    literal=True,
                ),
                literal=True,
            )
        )
        .drop("_requests", "_errors", "_top", "_first", "_next")
    )
