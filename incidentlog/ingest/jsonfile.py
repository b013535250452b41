"""Parse json-file logging driver files (`/var/lib/docker/containers/<id>/<id>-json.log`).

Each line is `{"log": "...\\n", "stream": "stdout", "time": "RFC3339Nano"}`.
Docker splits lines longer than 16 KiB into several entries; every entry but
the last lacks the trailing newline, which is how they are rejoined here.
The container's name and compose labels come from `config.v2.json` beside
the log file when it is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from incidentlog.ingest.compose import parse_timestamp, service_from_container, strip_ansi
from incidentlog.ingest.jsontext import loads

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerIdentity:
    container: str
    service: str | None
    project: str | None


def identity_for_log_path(path: Path) -> ContainerIdentity:
    """Name and compose labels of the container whose json-file log `path` is."""
    config = path.parent / "config.v2.json"
    fallback = ContainerIdentity(path.parent.name[:12] or path.stem, None, None)
    try:
        data = loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fallback
    name = str(data.get("Name") or "").lstrip("/") or fallback.container
    labels = (data.get("Config") or {}).get("Labels") or {}
    return ContainerIdentity(name, labels.get(SERVICE_LABEL), labels.get(PROJECT_LABEL))


def parse_jsonfile_lines(lines: pl.DataFrame, identity: ContainerIdentity) -> pl.DataFrame:
    """From `line` to ts, stream, text (+ `partial`, `reject`): one row per JSON entry."""
    line = pl.col("line")
    log = line.str.json_path_match("$.log")
    stream = line.str.json_path_match("$.stream")
    stamp = line.str.json_path_match("$.time")
    service = (
        pl.lit(identity.service)
        if identity.service
        else service_from_container(pl.lit(identity.container))
    )
    return lines.with_columns(
        bad_ts=stamp.is_not_null() & parse_timestamp(stamp).is_null(),
        container=pl.lit(identity.container),
        service=service,
        project=pl.lit(identity.project, dtype=pl.String),
        stream=pl.when(stream.is_in(["stdout", "stderr"]))
        .then(stream)
        .otherwise(pl.lit("unknown")),
        ts=parse_timestamp(stamp),
        text=strip_ansi(log.str.strip_suffix("\n").str.strip_suffix("\r")),
        partial=~log.str.ends_with("\n"),
        reject=pl.when(log.is_null())
        .then(pl.lit('not a json-file log entry (no "log" field)'))
        .otherwise(None),
    )


def hold_open_partials(entries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off each stream's trailing pieces of a line whose last piece is yet to come.

    A split line can straddle a batch boundary; its pieces are held back and
    prepended to the next batch, so `rejoin_partials` always sees whole lines.
    """
    complete_after = (~pl.col("partial")).cast(pl.UInt32).cum_sum(reverse=True).over("stream")
    flagged = entries.with_columns(_open=complete_after == 0)
    return (
        flagged.filter(~pl.col("_open")).drop("_open"),
        flagged.filter(pl.col("_open")).drop("_open"),
    )


def rejoin_partials(entries: pl.DataFrame) -> pl.DataFrame:
    """Join entries Docker split at 16 KiB back into one line, per stream.

    An entry whose predecessor (same stream) was partial continues it; the
    joined line keeps the first entry's time and seq.
    """
    prev_partial = pl.col("partial").shift(1).over("stream").fill_null(False)
    grouped = entries.with_columns(_line=(~prev_partial).cum_sum().over("stream"))
    attrs = [c for c in entries.columns if c not in ("text", "stream", "partial")]
    return (
        grouped.group_by(["stream", "_line"], maintain_order=True)
        .agg(*(pl.col(c).first() for c in attrs), pl.col("text").str.join(""))
        .drop("_line")
        .sort("seq")
    )
