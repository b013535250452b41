"""`incidentlog detect [PATH...]`: failure signatures per service and rule."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentlog.commands import cli_errors, make_request, write_output
from incidentlog.commands.options import (
    SEVERITIES,
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

FORMATS = ("text", "json", "jsonl")


def detect(
    paths: PathsArgument = None,
    store: StoreOption = None,
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    rules: RulesOption = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text, json or jsonl.")
    ] = "text",
    input_format: InputFormatOption = None,
    log_tz: LogZoneOption = None,
    output: OutputOption = None,
    no_redact: RedactOption = False,
    project: ProjectOption = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            metavar=choices(SEVERITIES),
            help="Exit 3 when a finding reaches this severity (info..critical).",
        ),
    ] = None,
) -> None:
    """Failure signatures found in logs, probes and events, per service and rule.

    Examples:

      incidentlog detect compose.log events.jsonl inspect.json

      incidentlog detect --since 2h --format jsonl --fail-on high
    """
    from incidentlog.detect import FAIL_EXIT_CODE, check_fail_on, fails_at, run_detect
    from incidentlog.progress import shown
    from incidentlog.render.findings import detect_json, detect_jsonl, detect_text
    from incidentlog.sources import EvidenceSource

    with cli_errors():
        check_format(fmt, FORMATS, "detect")
        check_fail_on(fail_on)
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
        )
        with shown("detect"):
            result = run_detect(EvidenceSource(request), redact=not no_redact)
        views = {"text": detect_text, "json": detect_json, "jsonl": detect_jsonl}
        write_output(views[fmt](result.summary), output)
    if fails_at(result.summary, fail_on):
        raise typer.Exit(FAIL_EXIT_CODE)
