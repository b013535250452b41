"""`incidentlog ingest PATH...`: parse files (or stdin) into the history store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from incidentlog.commands import check_input_format, cli_errors, write_output
from incidentlog.commands.options import (
    INPUT_FORMATS,
    InputFormatOption,
    LogZoneOption,
    OutputOption,
    ProjectOption,
    ServiceOption,
    StoreOption,
    check_format,
    choices,
    deprecated,
)
from incidentlog.errors import UsageError

FORMATS = ("text", "json")


def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files to read; - reads standard input.")],
    store: StoreOption = None,
    input_format: InputFormatOption = None,
    log_tz: LogZoneOption = None,
    service: ServiceOption = None,
    project: ProjectOption = None,
    host: Annotated[
        str | None, typer.Option(help="Docker host the input came from (default: this machine).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", metavar=choices(FORMATS), help="Summary format: text or json."),
    ] = "text",
    output: OutputOption = None,
) -> None:
    """Parse logs, events, inspect and ps output into the history store.

    Examples:

      docker compose logs --timestamps --no-color | incidentlog ingest -

      incidentlog ingest compose.log events.jsonl inspect.json ps.txt
    """
    from incidentlog.ingest import ingest_into_store
    from incidentlog.redact import json_safe

    _keep_caches()
    with cli_errors():
        fmt, input_format, output = _old_spellings(fmt, input_format, output)
        check_format(fmt, FORMATS, "ingest")
        check_input_format(input_format)
        if service and len(service) > 1:
            raise UsageError("ingest takes one --service (the service of unprefixed input)")
        summary, written = ingest_into_store(
            paths,
            store=store,
            fmt=input_format,
            service=service[0] if service else None,
            project=project,
            host=host,
            progress=sys.stderr.isatty(),
            log_zone=log_tz,
        )
        if fmt == "json":
            document = summary.to_dict() | {
                "written": written.written,
                "already_stored": written.duplicates,
            }
            text = json_safe(json.dumps(document, default=str, ensure_ascii=False) + "\n")
        else:
            text = (
                f"{summary.describe()}\nstore: {written.written['logs']} records and "
                f"{written.written['events']} events added, {written.duplicates} already stored\n"
            )
        write_output(text, output)
    if summary.records + summary.events == 0 and summary.rejected_lines:
        typer.echo(
            "Error: nothing could be read from the input (see the rejected lines above)", err=True
        )
        raise typer.Exit(1)


def _keep_caches() -> None:
    """Write the digest's rollups along with the store files (cheaper than the
    digest rebuilding them from the data later)."""
    from incidentlog.digest.rollups import DIGEST_ROLLUPS
    from incidentlog.store.rollups import write_with

    write_with(DIGEST_ROLLUPS)


def _old_spellings(
    fmt: str, input_format: str | None, output: Path | None
) -> tuple[str, str | None, Path | None]:
    """`--format compose` (the input format, before `--input-format`) and `--output json`
    (the summary format, before `--format`) keep working for one release."""
    if fmt in INPUT_FORMATS and input_format is None:
        deprecated(f"ingest --format {fmt}", f"--input-format {fmt}")
        input_format, fmt = fmt, "text"
    if output is not None and str(output) in FORMATS and not output.exists():
        deprecated(f"ingest --output {output}", f"--format {output}")
        fmt, output = str(output), None
    return fmt, input_format, output
