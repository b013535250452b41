"""Every error class: one root, each subclass names what went wrong, none is tied to the CLI.

Messages say what, where and what is allowed, in one line, because the CLI
prints them as `Error: <message>` and exits with the class's `exit_code`:
1 for trouble at run time, 2 for a usage error (a bad option value, time,
format or template), 3 when `status` cannot tell.
"""

from __future__ import annotations

__all__ = [
    "ComposeFileError",
    "EngineError",
    "FormatError",
    "IncidentlogError",
    "InputError",
    "LakeError",
    "RuleError",
    "SchemaError",
    "StatusUnknownError",
    "StoreError",
    "TemplateError",
    "TimeSpecError",
    "UsageError",
]


class IncidentlogError(Exception):
    """Something the user can fix went wrong; the message says what."""

    exit_code = 1


class UsageError(IncidentlogError):
    """An option value, or a combination of options, the command does not accept."""

    exit_code = 2


class InputError(IncidentlogError):
    """An input path or stream could not be read or understood at all."""


class FormatError(InputError):
    """An input was read but matches no supported format (or not the forced one)."""


class ComposeFileError(InputError):
    """A compose file could not be used (it becomes a note in the report, not a failure)."""


class StoreError(IncidentlogError):
    """The history store is missing, unreadable or not an incidentlog store."""


class LakeError(IncidentlogError):
    """The lake (an Iceberg catalog and its object store) is not set up, unreachable or refused."""


class RuleError(IncidentlogError):
    """A rule pack is invalid; the message lists every problem with file and rule id."""


class TimeSpecError(UsageError):
    """A --since/--until value is neither RFC 3339, Unix time nor a duration."""


class TemplateError(UsageError):
    """A template is missing, invalid, or uses a value the model does not have."""


class SchemaError(IncidentlogError):
    """A stage produced a frame that breaks the documented schema (a bug)."""


class EngineError(IncidentlogError):
    """The Docker Engine could not be reached or refused the request."""


class StatusUnknownError(EngineError):
    """The engine could not say (unreachable, refused, unknown project): `status` exits 3."""

    exit_code = 3
