"""The JSON document: the model as JSON-ready data (`incidentlog report --format json`)."""

from __future__ import annotations

from typing import Any

from incidentlog.incident.model import Incident
from incidentlog.text import to_plain

__all__ = ["incident_to_dict"]


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """The incident as JSON-ready data: times as RFC 3339 UTC strings, prose as plain text."""
    out = to_plain(incident)
    assert isinstance(out, dict)
    return out
