"""`incidentlog digest`: the error digest of a period, against the one before."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incidentlog.commands import cli_errors, write_output
from incidentlog.commands.options import (
    LakeOption,
    OutputOption,
    RulesOption,
    StoreOption,
    check_format,
)

FORMATS = ("md", "html", "json")


def digest(
    store: StoreOption = None,
    lake: LakeOption = None,
    since: Annotated[
        str | None,
        typer.Option(help="Period from this time until now: a duration (1h) or a time."),
    ] = None,
    hour: Annotated[
        str | None, typer.Option(help="Period of one hour, e.g. 2025-08-01T13 (read in --tz).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    output: OutputOption = None,
    quiet_if_unchanged: Annotated[
        bool, typer.Option(help="Print (and write) nothing when nothing changed.")
    ] = False,
    tz: Annotated[str | None, typer.Option(help="Time zone for display and --hour (UTC).")] = None,
    template: Annotated[
        Path | None, typer.Option(help="Directory searched for templates before the built-ins.")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """The error digest of a period (default: the last full hour), against the one before.

    Examples:

      incidentlog digest --hour 2025-08-01T13 --store ./history

      incidentlog digest --since 24h --format html -o digest.html
    """
    from incidentlog.render.digest import run_digest

    with cli_errors():
        check_format(fmt, FORMATS, "digest")
        text = run_digest(
            since=since,
            hour=hour,
            fmt=fmt,
            tz=tz,
            store=store,
            lake=lake,
            quiet_if_unchanged=quiet_if_unchanged,
            template_dir=template,
            rule_paths=rules or [],
        )
        if text:
            write_output(text, output)
