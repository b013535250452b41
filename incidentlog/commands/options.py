"""The shared options: one spelling and one meaning on every command that takes them.

| option | meaning |
|---|---|
| `PATH...` | files to read (`-` is standard input); none reads the store |
| `--store DIR` | the history store (default `$INCIDENTLOG_STORE`, else the user data dir); with PATHs, what they hold is also added to it |
| `--lake NAME` | read the lake instead of the store: the pyiceberg catalog NAME (needs `incidentlog[lake]`) |
| `--since/--until` | the window: RFC 3339, Unix seconds, or a duration back from now |
| `--service NAME` | repeatable; names or globs; names the service of input without a compose prefix |
| `--rules PACK` | repeatable; rule packs added wherever findings are made |
| `--format` | the *output* format (text, md, html, json, jsonl: what fits the command) |
| `--input-format` | force what is read (compose, raw, json-file, journal, events, inspect, ps) |
| `-o/--output FILE` | write the output to FILE instead of standard output |
| `--project NAME` | the compose project of input that does not name it (`$COMPOSE_PROJECT_NAME`) |
| `--no-redact` | show secrets (masked by default) |

Old spellings keep working for one release with a note on stderr (`deprecated`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidentlog.errors import UsageError

__all__ = [
    "FormatOption",
    "InputFormatOption",
    "LakeOption",
    "LogZoneOption",
    "OutputOption",
    "PathsArgument",
    "ProjectOption",
    "RedactOption",
    "RulesOption",
    "ServiceOption",
    "SinceOption",
    "StoreOption",
    "UntilOption",
    "WebhookFormatOption",
    "WebhookOption",
    "check_format",
    "choices",
    "deprecated",
    "env_shown",
]

INPUT_FORMATS = ("compose", "raw", "json-file", "journal", "events", "inspect", "ps")
"""What ingest reads (`ingest.sniff.InputFormat`, not imported: --help loads no Polars)."""
LEVELS = ("trace", "debug", "info", "warn", "error", "fatal", "unknown")
"""`schema.Level`, least to most severe (aliases such as `warning` are accepted too)."""
SEVERITIES = ("info", "low", "medium", "high", "critical")
"""`schema.Severity`, least to most severe."""


def choices(values: tuple[str, ...]) -> str:
    """`[a|b|c]`: how --help shows an option's fixed choices. The command checks
    the value itself, so a wrong one stays its one-line `Error:` naming what is allowed."""
    return "[" + "|".join(values) + "]"


def env_shown(name: str) -> str:
    """Help's `[env var: NAME]` note, for a variable the library reads itself (as a
    default, or on top of the option) rather than Click, whose reading would change
    what the option means; escaped, since help text is Rich markup."""
    return f" \\[env var: {name}]"


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="History store directory (default: $INCIDENTLOG_STORE or the user data dir); "
        "with PATHs, what they hold is also added to it." + env_shown("INCIDENTLOG_STORE"),
        show_default=False,
    ),
]
LakeOption = Annotated[
    str | None,
    typer.Option(
        "--lake",
        help="Read the lake instead of the store: the pyiceberg catalog NAME "
        "(~/.pyiceberg.yaml or PYICEBERG_CATALOG__NAME__...); needs the lake extra.",
        show_default=False,
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", help="Start: RFC 3339, Unix seconds, or a duration back from now (90m, 2h)."
    ),
]
UntilOption = Annotated[str | None, typer.Option("--until", help="End, same forms as --since.")]
PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files to read (- for standard input; a compose file among or beside them is "
        "topology); none reads the store.",
        show_default=False,
    ),
]
ServiceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        help="Only this service (repeatable; globs such as agent-*); also names the service "
        "of input without a compose `name |` prefix.",
        show_default=False,
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="Extra rule pack (TOML file or directory); repeatable. The packs of "
        "$INCIDENTLOG_RULES (separated by :) are always added." + env_shown("INCIDENTLOG_RULES"),
        show_default=False,
    ),
]
InputFormatOption = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        metavar=choices(INPUT_FORMATS),
        help="Force the input format (default: sniffed from the content).",
    ),
]
LogZoneOption = Annotated[
    str | None,
    typer.Option(
        "--log-tz",
        metavar="ZONE",
        envvar="INCIDENTLOG_LOG_TZ",
        help="Zone of the times applications print without one, for lines with no engine "
        "time (docker compose logs without -t); e.g. Europe/Berlin (default: UTC)."
        + env_shown("INCIDENTLOG_LOG_TZ"),
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Write to FILE instead of standard output."),
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        help="Compose project of input that does not name it (default: $COMPOSE_PROJECT_NAME); "
        "its prefix is taken off container names to find their services."
        + env_shown("COMPOSE_PROJECT_NAME"),
        show_default=False,
    ),
]
WebhookOption = Annotated[
    str | None,
    typer.Option(
        "--webhook",
        envvar="INCIDENTLOG_WEBHOOK_URL",
        show_envvar=True,
        help="POST changed digests here (Slack incoming webhook by default); also "
        "$INCIDENTLOG_WEBHOOK_URL, which keeps the secret out of `ps` and crontabs.",
        show_default=False,
    ),
]
WebhookFormatOption = Annotated[
    str,
    typer.Option(
        "--webhook-format",
        metavar=choices(("slack", "json")),
        help="slack (Block Kit message) or json (the digest's JSON document).",
    ),
]
RedactOption = Annotated[
    bool, typer.Option("--no-redact", help="Show secrets (they are masked by default).")
]


def FormatOption(allowed: tuple[str, ...], default: str) -> object:  # noqa: N802 (a type factory)
    """`--format` for output, listing what this command allows."""
    return typer.Option(
        "--format",
        metavar=choices(allowed),
        help=f"Output format: {', '.join(allowed)} (default {default}).",
    )


def check_format(fmt: str, allowed: tuple[str, ...], command: str) -> str:
    """`fmt` if this command writes it; else a usage error naming what it writes."""
    if fmt not in allowed:
        raise UsageError(
            f"--format {fmt!r} is not supported by {command} (allowed: {', '.join(allowed)})"
        )
    return fmt


def deprecated(old: str, new: str) -> None:
    """One line on stderr: an old spelling that still works for one release."""
    print(f"incidentlog: {old} is deprecated; use {new}", file=sys.stderr)
