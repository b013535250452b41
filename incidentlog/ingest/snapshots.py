"""Point-in-time container state: `docker inspect` JSON and `docker ps` output.

`inspect` carries the evidence the engine keeps nowhere else: the last health
probe results with their outputs (`.State.Health.Log`), `OOMKilled`, the exit
code and the restart counter. `ps` (table or `--format json`) carries the
state text (`Up 12 minutes (unhealthy)`, `Restarting (1) 5 seconds ago`).
Both are small documents, so they are parsed as JSON/text into rows here and
become one frame per input.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from incidentlog.errors import FormatError
from incidentlog.ingest.compose import parse_timestamp, service_from_container
from incidentlog.ingest.jsonfile import PROJECT_LABEL, SERVICE_LABEL
from incidentlog.ingest.jsontext import loads
from incidentlog.schema import EventAction, HealthStatus

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(
        (
            "stamp",
            "project",
            "service",
            "container",
            "action",
            "status",
            "exit_code",
            "restart_count",
            "output",
        ),
    )
    base.update(values)
    return base


def _labels_identity(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "container": name,
        "project": labels.get(PROJECT_LABEL),
        "service": labels.get(SERVICE_LABEL),
    }


_STATE_KEYS = frozenset({"Status", "OOMKilled", "ExitCode"})
_HEALTH_KEYS = frozenset({"Status", "FailingStreak", "Log"})


def is_bare_state(obj: object) -> bool:
    """A container's `.State` (or `.State.Health`) alone, as `docker inspect --format
    '{{json .State}}'` prints it: the most pasted answer to "was it OOM-killed?"."""
    return isinstance(obj, dict) and (set(obj) >= _STATE_KEYS or set(obj) >= _HEALTH_KEYS)


def inspect_rows(document: str, source: str, name: str | None = None) -> list[dict[str, Any]]:
    """Rows for each container in a `docker inspect` document (object or list); a bare
    `.State` or `.State.Health` (`--format '{{json .State}}'`) is container `name`'s."""
    try:
        data = loads(document)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{source}: invalid docker inspect JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    items = [_whole(item, name or source) for item in (data if isinstance(data, list) else [data])]
    rows: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("State"), dict):
            raise FormatError(f"{source}: not docker inspect output (an item has no State)")
        state = item["State"]
        labels = (item.get("Config") or {}).get("Labels") or {}
        who = _labels_identity(
            str(item.get("Name") or item.get("Id", "?")[:12]).lstrip("/"), labels
        )
        health = state.get("Health") or {}
        for probe in health.get("Log") or []:
            rows.append(
                _row(
                    **who,
                    stamp=probe.get("Start"),
                    action=EventAction.PROBE.value,
                    exit_code=probe.get("ExitCode"),
                    output=probe.get("Output"),
                )
            )
        finished = state.get("FinishedAt")
        if state.get("OOMKilled"):
            rows.append(
                _row(
                    **who,
                    stamp=finished,
                    action=EventAction.OOM.value,
                    exit_code=state.get("ExitCode"),
                )
            )
        moments = [state.get("StartedAt"), finished] + [
            p.get("End") for p in health.get("Log") or []
        ]
        latest = max((m for m in moments if m and m != _ZERO_TIME), default=None)
        rows.append(
            _row(
                **who,
                stamp=latest,
                action=EventAction.SNAPSHOT.value,
                status=health.get("Status") if health.get("Status") in set(HealthStatus) else None,
                exit_code=state.get("ExitCode"),
                restart_count=item.get("RestartCount"),
                output=_state_text(state),
            )
        )
    return rows


def _whole(item: Any, name: str) -> Any:
    """An inspect item: as printed, or a bare State (Health) put in its place."""
    if not is_bare_state(item):
        return item
    state = item if "OOMKilled" in item or "ExitCode" in item else {"Health": item}
    return {"Name": name, "State": state}


def _state_text(state: dict[str, Any]) -> str:
    parts = [str(state.get("Status", "unknown"))]
    if state.get("Restarting"):
        parts.append("restarting")
    if state.get("OOMKilled"):
        parts.append("oom-killed")
    if state.get("Error"):
        parts.append(f"error: {state['Error']}")
    return ", ".join(parts)


_PS_STATUS = re.compile(
    r"^(?:Up|Exited|Restarting|Created|Paused|Dead|Removing|running|exited|restarting)\b"
)
_PS_EXIT = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_PS_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def _ps_health(status: str) -> str | None:
    match = _PS_HEALTH.search(status)
    if not match:
        return None
    return HealthStatus.STARTING.value if "starting" in match.group(1) else match.group(1)


def ps_rows(document: str, source: str) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """Rows for a `docker ps` / `docker compose ps` snapshot, and rejected lines.

    Table form splits columns at runs of two or more spaces, as the CLI aligns
    them; `--format json` (one object per line or a list) is read by key.
    """
    rows: list[dict[str, Any]] = []
    rejects: list[tuple[int, str, str]] = []
    lines = document.splitlines()
    if document.lstrip().startswith(("{", "[")):
        return _ps_json_rows(document, lines, source)
    header = lines[0] if lines else ""
    if _V1_HEADER.match(header):
        return _compose_v1_ps_rows(lines)
    columns = re.split(r"\s{2,}", header.strip())
    starts = [header.index(col) for col in columns]
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = {
            col: line[start:end].strip()
            for col, start, end in zip(columns, starts, [*starts[1:], len(line) + 1], strict=True)
        }
        row_name = cells.get("NAME") or cells.get("NAMES")
        row_status = cells.get("STATUS") or ""
        if not row_name or not _PS_STATUS.match(row_status):
            rejects.append((number, "not a docker ps row (no NAME/STATUS)", line))
            continue
        rows.append(_ps_row(row_name, cells.get("SERVICE"), None, row_status))
    return rows, rejects


def _ps_json_rows(
    document: str, lines: list[str], source: str
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """`ps_rows` of `--format json` output: one object per line, or a list."""
    rows: list[dict[str, Any]] = []
    rejects: list[tuple[int, str, str]] = []
    objects: list[Any] = []
    stripped = document.strip()
    if stripped.startswith("["):
        try:
            objects = loads(stripped)
        except json.JSONDecodeError:
            raise FormatError(f"{source}: invalid docker ps JSON") from None
        if not isinstance(objects, list):
            raise FormatError(f"{source}: invalid docker ps JSON (not a list)")
    else:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = loads(line)
            except json.JSONDecodeError:
                rejects.append((number, "invalid JSON", line))
                continue
            if isinstance(value, dict):
                objects.append(value)
            else:
                rejects.append((number, "not a docker ps JSON object", line))
    for obj in objects:
        if not isinstance(obj, dict):  # (an item of a list that is no object: no container)
            continue
        name = str(obj.get("Name") or obj.get("Names") or "?")
        status = str(obj.get("Status") or obj.get("State") or "")
        labels = _ps_labels(obj.get("Labels"))
        service = obj.get("Service") or labels.get(SERVICE_LABEL)
        project = obj.get("Project") or labels.get(PROJECT_LABEL)
        rows.append(_ps_row(name, service, project, status))
    return rows, rejects


def _ps_labels(labels: Any) -> dict[str, str]:
    """`docker ps --format json` prints labels as one `k=v,k=v` string."""
    if isinstance(labels, dict):
        return {str(k): str(v) for k, v in labels.items()}
    if not isinstance(labels, str):
        return {}
    pairs = (item.partition("=") for item in labels.split(","))
    return {key: value for key, sep, value in pairs if sep}


def _label_string(labels: Any) -> dict[str, str]:
    """`docker ps --format json` gives labels as `k=v,k=v` (compose: a dict)."""
    if isinstance(labels, dict):
        return {str(k): str(v) for k, v in labels.items()}
    if not isinstance(labels, str):
        return {}
    pairs = (item.split("=", 1) for item in labels.split(",") if "=" in item)
    return {key: value for key, value in pairs}


_V1_HEADER = re.compile(r"^\s*Name\s+Command\s+State\s+Ports")
_V1_ROW = re.compile(
    r"^(?P<name>\S+)\s+.*?\s{2,}"
    r"(?P<state>Up(?: \((?:healthy|unhealthy|health: starting)\))?|Exit -?\d+|Restarting|Paused|Created|Dead)"
    r"(?:\s{2,}.*)?\s*$"
)
_V1_EXIT = re.compile(r"^Exit (-?\d+)")


def _compose_v1_ps_rows(
    lines: list[str],
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """`docker-compose ps` (v1): `Name  Command  State  Ports`, a dashed rule,
    then rows whose State reads `Up (healthy)`, `Exit 137` or `Restarting`."""
    rows: list[dict[str, Any]] = []
    rejects: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        match = _V1_ROW.match(line)
        if not match:
            rejects.append((number, "not a docker-compose ps row (no Name/State)", line))
            continue
        state = match["state"]
        exit_match = _V1_EXIT.match(state)
        row = _ps_row(match["name"], None, None, state)
        row["exit_code"] = int(exit_match.group(1)) if exit_match else None
        rows.append(row)
    return rows, rejects


def _ps_row(name: str, service: Any, project: Any, status: str) -> dict[str, Any]:
    exit_match = _PS_EXIT.match(status)
    return _row(
        container=name,
        service=service or None,
        project=project or _project_of(name, service),
        action=EventAction.SNAPSHOT.value,
        status=_ps_health(status),
        exit_code=int(exit_match.group(1)) if exit_match else None,
        output=status,
    )


def _project_of(name: str, service: Any) -> str | None:
    """The project of a `ps` table's NAME when its SERVICE column is beside it: compose
    names containers `<project>-<service>-<n>` (`_` in v1)."""
    if not service:
        return None
    found = re.match(rf"^(.+?)[-_]{re.escape(str(service))}[-_]\d+$", name)
    return found.group(1) if found else None


def rows_to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Snapshot rows to event columns (ts parsed; service from the name when unlabelled)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "stamp": pl.String,
            "project": pl.String,
            "service": pl.String,
            "container": pl.String,
            "action": pl.String,
            "status": pl.String,
            "exit_code": pl.Int32,
            "restart_count": pl.Int32,
            "output": pl.String,
        },
    )
    return frame.with_columns(
        ts=parse_timestamp(pl.col("stamp")),
        service=pl.coalesce(
            pl.col("service"), service_from_container(pl.col("container"), pl.col("project"))
        ),
    ).drop("stamp")
