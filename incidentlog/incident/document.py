"""The JSON document: the model as JSON-ready data (`incidentlog report --format json`)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

from incidentlog.incident.model import Incident
from incidentlog.text import Prose

__all__ = ["incident_to_dict"]


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """The incident as JSON-ready data: times as RFC 3339 UTC strings, prose as plain text."""
    out = _plain(incident)
    assert isinstance(out, dict)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Prose):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
