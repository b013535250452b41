"""One exception root; each subclass names what went wrong, none is tied to the CLI.

Messages say what, where and what is allowed, in one line, because the CLI
prints them as `Error: <message>` and exits non-zero.
"""

from __future__ import annotations


class IncidentlogError(Exception):
    """Something the user can fix went wrong; the message says what."""

    exit_code = 1


class InputError(IncidentlogError):
    """An input path or stream could not be read or understood at all."""


class FormatError(InputError):
    """An input was read but matches no supported format (or not the forced one)."""


class StoreError(IncidentlogError):
    """The history store is missing, unreadable or not an incidentlog store."""


class RuleError(IncidentlogError):
    """A rule pack is invalid; the message lists every problem with file and rule id."""


class TimeSpecError(IncidentlogError):
    """A --since/--until value is neither RFC 3339, Unix time nor a duration."""


class SchemaError(IncidentlogError):
    """A stage produced a frame that breaks the documented schema (a bug)."""


class EngineError(IncidentlogError):
    """The Docker Engine could not be reached or refused the request."""
