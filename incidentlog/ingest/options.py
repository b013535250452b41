"""Ingest options: the user's choices, checked once."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from incidentlog.errors import FormatError, UsageError
from incidentlog.ingest.lines import CHUNK_BYTES
from incidentlog.ingest.sniff import InputFormat
from incidentlog.topology import Topology


@dataclass(frozen=True)
class IngestOptions:
    fmt: InputFormat | None = None
    service: str | None = None
    project: str | None = None
    host: str = field(default_factory=socket.gethostname)
    chunk_bytes: int = CHUNK_BYTES
    topology: Topology | None = None
    """The stack's compose files, when the caller read them (else found beside the inputs)."""
    log_zone: str = "UTC"
    """The zone of application timestamps printed without one (`ingest.apptime`)."""

    @classmethod
    def build(
        cls,
        *,
        fmt: InputFormat | str | None = None,
        service: str | None = None,
        project: str | None = None,
        host: str | None = None,
        log_zone: str | None = None,
    ) -> IngestOptions:
        """Options from user values: `fmt` and `log_zone` checked, `host` defaulting
        to this machine."""
        return cls(
            fmt=input_format(fmt),
            service=service,
            project=project or os.environ.get("COMPOSE_PROJECT_NAME") or None,
            host=host or socket.gethostname(),
            log_zone=zone_name(log_zone) if log_zone else "UTC",
        )


def zone_name(zone: str) -> str:
    """An IANA zone name (`Europe/Berlin`) or `UTC`, checked."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--log-tz {zone!r} is not a time zone name (e.g. UTC, Europe/Berlin)"
        ) from None
    return zone


def input_format(fmt: InputFormat | str | None) -> InputFormat | None:
    """A `--format` value checked against InputFormat (None when none was given)."""
    if not fmt:
        return None
    try:
        return InputFormat(fmt)
    except ValueError:
        allowed = ", ".join(f.value for f in InputFormat)
        raise FormatError(f"unknown --format {fmt!r} (expected one of {allowed})") from None
