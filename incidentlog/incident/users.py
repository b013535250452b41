"""What users saw: HTTP responses in the access logs, apart from the health probes.

A service can be unhealthy while it serves every request (its probe is what
fails), or answer `503` to its probes only. Access-log lines (nginx's
combined format, uvicorn's, most frameworks') carry the method, path and
status; requests to a service's own probe path are its probes, the rest are
users and other services. All counted in one pass over the logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

import polars as pl

from incidentlog.detect.access import access_request, probe_request
from incidentlog.incident.probes import probe_url
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.text import Code, Prose, clock, join_names, plural

__all__ = ["HttpCounts", "http_counts", "issue_users", "last_lines", "users_line"]

LAST_LINE_CHARS: Final = 80


@dataclass(frozen=True)
class HttpCounts:
    """One service's access log: requests other than its probes, and its probes."""

    requests: int
    server_errors: int
    """5xx among `requests`."""
    probes: int
    failed_probes: int
    """Probe requests answered with a 4xx or 5xx status."""
    probe_status: str | None
    """The status its failed probes got (the most frequent one)."""
    first_server_error: datetime | None = None
    last_server_error: datetime | None = None


def http_counts(logs: pl.DataFrame, probes: Mapping[str, str | None]) -> dict[str, HttpCounts]:
    """Per service that logged requests: users' requests and probe requests, by status."""
    paths = pl.DataFrame(
        {
            "service": list(probes),
            "_probe_path": [_path(c) for c in probes.values()],
        },
        schema={"service": pl.String, "_probe_path": pl.String},
    )
    path, status = access_request()
    hits = (
        logs.filter(pl.col("container") != COMPOSE_SERVICE)
        .select(
            "service",
            "ts",
            path.alias("path"),
            status.alias("status"),
            probe_request(path).alias("_conventional"),
        )
        .drop_nulls("status")
        .join(paths, on="service", how="left")
        .with_columns(
            (
                (pl.col("path") == pl.col("_probe_path")).fill_null(False) | pl.col("_conventional")
            ).alias("_probe"),
        )
    )
    server_error = (~pl.col("_probe")) & (pl.col("status") >= 500)
    grouped = hits.group_by("service").agg(
        pl.col("ts").filter(server_error).min().alias("first_server_error"),
        pl.col("ts").filter(server_error).max().alias("last_server_error"),
        (~pl.col("_probe")).sum().alias("requests"),
        ((~pl.col("_probe")) & (pl.col("status") >= 500)).sum().alias("server_errors"),
        pl.col("_probe").sum().alias("probes"),
        (pl.col("_probe") & (pl.col("status") >= 400)).sum().alias("failed_probes"),
        pl.col("status")
        .filter(pl.col("_probe") & (pl.col("status") >= 400))
        .mode()
        .first()
        .cast(pl.String)
        .alias("probe_status"),
    )
    return {
        r["service"]: HttpCounts(
            int(r["requests"]),
            int(r["server_errors"]),
            int(r["probes"]),
            int(r["failed_probes"]),
            r["probe_status"],
            r["first_server_error"],
            r["last_server_error"],
        )
        for r in grouped.iter_rows(named=True)
    }


def _path(command: str | None) -> str | None:
    found = probe_url(command)
    if found is None:
        return None
    return urlsplit(found[0]).path or "/"


def last_lines(logs: pl.DataFrame, services: Sequence[str]) -> dict[str, str]:
    """The last line each service printed itself (compose's lines about it left out)."""
    own = (
        logs.filter(
            pl.col("service").is_in(list(services)) & (pl.col("container") != COMPOSE_SERVICE)
        )
        .sort("ts", "seq", nulls_last=False)
        .group_by("service", maintain_order=True)
        .agg(pl.col("message").last())
    )
    return {
        s: _cut(text.strip().splitlines()[-1].strip())
        for s, text in own.iter_rows()
        if text and text.strip()
    }


def _cut(line: str) -> str:
    return line if len(line) <= LAST_LINE_CHARS else line[:LAST_LINE_CHARS] + " …"


def issue_users(
    services: Sequence[str],
    *,
    probe_only: bool,
    http: Mapping[str, HttpCounts],
    states: Mapping[str, tuple[str, int]],
    last: Mapping[str, str],
) -> Prose:
    """What users of an issue's services saw, as far as the logs show it.

    `states`: service -> (state at the end, restarts). A service whose probe cannot run
    itself runs (no restart) when its state says so; a crash-looping one serves nothing;
    otherwise its access log says how its probes and its other requests were answered."""
    parts: list[Prose] = []
    if probe_only:
        running = [s for s in services if states.get(s, ("", 0))[0] in ("unhealthy", "running")]
        if running and all(not states[s][1] for s in running):
            parts.append(_runs(running, last))
    for s in services:
        state, _ = states.get(s, ("", 0))
        counts = http.get(s)
        if state == "restarting":
            parts.append(Prose.of(f"{s} serves nothing: it never stays up"))
        elif counts is not None and not probe_only and (counts.failed_probes or counts.requests):
            parts.append(_answers(s, counts))
    return Prose.of(Prose.join(parts, ". "), ".") if parts else Prose()


def _runs(services: Sequence[str], last: Mapping[str, str]) -> Prose:
    shown = [
        Prose.of(f"{s}: ", Code(last[s])) if len(services) > 1 else Code(last[s])
        for s in services
        if s in last
    ]
    said = (
        Prose.of(
            " (last log line", "s" if len(shown) > 1 else "", ": ", Prose.join(shown, "; "), ")"
        )
        if shown
        else Prose()
    )
    verb = "run" if len(services) > 1 else "runs"
    return Prose.of(
        f"{join_names(services)} {verb} without a restart", said, "; only the probe fails"
    )


def _answers(service: str, counts: HttpCounts) -> Prose:
    bits: list[str] = []
    if counts.failed_probes:
        bits.append(
            f"its log shows {plural(counts.failed_probes, 'probe request')} answered "
            f"{counts.probe_status or 'with an error'}"
        )
    if counts.requests:
        bits.append(
            f"{plural(counts.requests, 'other request')}, "
            + (
                f"{counts.server_errors} answered with a 5xx status"
                if counts.server_errors
                else "none answered with a 5xx status"
            )
        )
    return Prose.of(f"{service}: " + "; ".join(bits))


def users_line(http: Mapping[str, HttpCounts]) -> Prose:
    """The access logs in one line: the busiest service's requests and their 5xx (when), then
    any other service that answered with a 5xx; probes left out."""
    if not http:
        return Prose()
    busiest = max(http, key=lambda s: (http[s].requests, s))
    top = http[busiest]
    if not top.requests:
        return Prose()
    answered = (
        f"{top.server_errors:,} of them answered with a 5xx status{_between(top)}"
        if top.server_errors
        else "none of them answered with a 5xx status"
    )
    others = [(s, c) for s, c in sorted(http.items()) if s != busiest and c.server_errors]
    tail = (
        "; other 5xx responses: "
        + ", ".join(f"{s} {c.server_errors:,}{_between(c)}" for s, c in others)
        if others
        else "; no other service logged a 5xx response to anything but its own probe"
    )
    return Prose.of(
        f"{busiest} logged {top.requests:,} requests besides its probes, {answered}{tail}."
    )


def _between(counts: HttpCounts) -> str:
    first, last = counts.first_server_error, counts.last_server_error
    if first is None or last is None:
        return ""
    return f" (at {clock(first)})" if first == last else f" ({clock(first)} to {clock(last)})"
