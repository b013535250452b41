"""`incidentlog report [PATH...]`: the post-incident report (Markdown, HTML, JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incidentlog.commands import cli_errors, make_request, write_output
from incidentlog.commands.options import (
    InputFormatOption,
    LakeOption,
    LogZoneOption,
    OutputOption,
    PathsArgument,
    ProjectOption,
    RedactOption,
    RulesOption,
    ServiceOption,
    SinceOption,
    StoreOption,
    UntilOption,
    check_format,
    choices,
)

FORMATS = ("md", "html", "json")


def report(
    paths: PathsArgument = None,
    store: StoreOption = None,
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    rules: RulesOption = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="md, html or json.")
    ] = "md",
    input_format: InputFormatOption = None,
    log_tz: LogZoneOption = None,
    output: OutputOption = None,
    no_redact: RedactOption = False,
    project: ProjectOption = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", help="Directory searched for templates before the built-ins."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="Pretend the time is this (RFC 3339); for reproducible reports."),
    ] = None,
) -> None:
    """The post-incident report: root causes, timeline, action plan (Markdown, HTML, JSON).

    Examples:

      incidentlog report compose.log events.jsonl inspect.json ps.txt -o report.md

      incidentlog report --since 3h --format html -o report.html
    """
    from incidentlog.progress import shown
    from incidentlog.render.report import report_from
    from incidentlog.sources import EvidenceSource
    from incidentlog.timespec import parse_time

    with cli_errors():
        check_format(fmt, FORMATS, "report")
        clock = parse_time(now) if now else None
        request = make_request(
            paths,
            store=store,
            lake=lake,
            since=since,
            until=until,
            services=service,
            rules=rules,
            input_format=input_format,
            log_zone=log_tz,
            project=project,
            now=clock,
        )
        with shown("report"):
            text = report_from(
                EvidenceSource(request),
                fmt=fmt,
                template_dir=template,
                redact=not no_redact,
                now=clock,
            )
        write_output(text, output)
