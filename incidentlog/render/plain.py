"""Models as JSON-ready data, and the small words every text output shares."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["iso", "to_plain"]


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z` (None stays None)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def to_plain(value: Any) -> Any:
    """Dataclasses, dicts, lists and datetimes as JSON-ready values (times as `iso`)."""
    if isinstance(value, datetime):
        return iso(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value
