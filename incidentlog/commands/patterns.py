"""`incidentlog patterns [PATH...]`: message templates with stable ids and counts."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentlog.commands import cli_errors, make_request, write_output
from incidentlog.commands.options import (
    LEVELS,
    InputFormatOption,
    LakeOption,
    LogZoneOption,
    OutputOption,
    PathsArgument,
    ProjectOption,
    ServiceOption,
    SinceOption,
    StoreOption,
    UntilOption,
    check_format,
    choices,
    deprecated,
)
from incidentlog.errors import UsageError

FORMATS = ("text", "json", "jsonl")


def patterns(
    paths: PathsArgument = None,
    store: StoreOption = None,
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    level: Annotated[
        str | None,
        typer.Option(
            metavar=choices(LEVELS),
            help="Only records at this level or worse (trace..fatal, or unknown).",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text, json or jsonl.")
    ] = "text",
    input_format: InputFormatOption = None,
    log_tz: LogZoneOption = None,
    output: OutputOption = None,
    project: ProjectOption = None,
    per_line: Annotated[
        bool,
        typer.Option(
            "--per-line",
            help="With --input-format raw: one JSON object per input line, in order.",
        ),
    ] = False,
    old_input: Annotated[
        str | None, typer.Option("--input", hidden=True, help="Deprecated: --input-format.")
    ] = None,
) -> None:
    """Message templates with stable ids and counts, most frequent first.

    Examples:

      incidentlog patterns compose.log --level error

      incidentlog patterns --since 1h --service api --format jsonl
    """
    from incidentlog.patterns.run import read_raw_messages, run_patterns
    from incidentlog.render.patterns import (
        patterns_json,
        patterns_jsonl,
        patterns_text,
        per_line_jsonl,
    )
    from incidentlog.sources import EvidenceSource

    with cli_errors():
        if old_input is not None:
            deprecated("patterns --input", "--input-format")
            input_format = input_format or old_input
        check_format(fmt, FORMATS, "patterns")
        request = make_request(
            paths,
            store=store,
            lake=lake,
            since=since,
            until=until,
            services=service,
            input_format=input_format,
            log_zone=log_tz,
            project=project,
        )
        if per_line:
            _check_per_line(fmt, request.input_format, bool(paths), since, until, service, level)
            for chunk in per_line_jsonl(read_raw_messages(paths or [])):
                typer.echo(chunk, nl=False)
            return
        result = run_patterns(EvidenceSource(request), level=level)
        views = {
            "text": lambda: patterns_text(result),
            "json": lambda: patterns_json(result.summary),
            "jsonl": lambda: patterns_jsonl(result.summary),
        }
        write_output(views[fmt](), output)


def _check_per_line(
    fmt: str,
    input_format: str | None,
    has_paths: bool,
    *filters: object,
) -> None:
    """`--per-line` reads bare lines of files: raw input, JSON Lines, no filters."""
    if input_format != "raw" or not has_paths:
        raise UsageError(
            "--per-line reads one message per line: it needs --input-format raw and PATHs"
        )
    if fmt != "jsonl":
        raise UsageError("--per-line prints JSON Lines: use --format jsonl")
    if any(filters):
        raise UsageError(
            "--per-line reads bare lines: --since/--until/--service/--level do not apply"
        )
