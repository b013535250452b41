"""`incidentlog grep PATTERN [PATH...]`: search the history (or files); exit 1 = no match."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentlog.commands import cli_errors, make_request, write_output
from incidentlog.commands.options import (
    InputFormatOption,
    LakeOption,
    OutputOption,
    PathsArgument,
    RedactOption,
    RulesOption,
    ServiceOption,
    SinceOption,
    StoreOption,
    UntilOption,
    check_format,
    deprecated,
)

FORMATS = ("text", "json", "jsonl")
EXIT_NO_MATCH = 1
"""Exit code when nothing matched, as grep."""
EXIT_ERROR = 2
"""Exit code on any error (a bad regex, an unknown level, a broken store), as grep."""


def grep(
    pattern: Annotated[str, typer.Argument(help="Rust-syntax regex (a fixed string with -F).")],
    paths: PathsArgument = None,
    store: StoreOption = None,
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    rules: RulesOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or jsonl.")] = "text",
    input_format: InputFormatOption = None,
    output: OutputOption = None,
    no_redact: RedactOption = False,
    fixed: Annotated[
        bool, typer.Option("-F", "--fixed-strings", help="PATTERN is a fixed string.")
    ] = False,
    ignore_case: Annotated[bool, typer.Option("-i", "--ignore-case")] = False,
    invert: Annotated[
        bool, typer.Option("-v", "--invert-match", help="Records that do not match.")
    ] = False,
    level: Annotated[
        str | None, typer.Option(help="Minimum level (warn keeps warn, error, fatal).")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(help="Records a finding of this category matched; repeatable."),
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option(help="Records this rule id matched; repeatable.")
    ] = None,
    host: Annotated[list[str] | None, typer.Option(help="Docker host; repeatable.")] = None,
    project: Annotated[
        list[str] | None,
        typer.Option(
            help="Records of this compose project (repeatable); one also names the project "
            "of input that does not (default: $COMPOSE_PROJECT_NAME)."
        ),
    ] = None,
    after: Annotated[
        int, typer.Option("-A", "--after-context", help="Records after each match, same container.")
    ] = 0,
    before: Annotated[
        int,
        typer.Option("-B", "--before-context", help="Records before each match, same container."),
    ] = 0,
    context: Annotated[
        int, typer.Option("-C", "--context", help="Records before and after each match.")
    ] = 0,
    count: Annotated[
        bool, typer.Option("-c", "--count", help="Matching records per service.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("-m", "--limit", help="At most N matches (the earliest).")
    ] = None,
    color: Annotated[str, typer.Option(help="auto (on a terminal), always or never.")] = "auto",
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", hidden=True, help="Deprecated: --no-redact.")
    ] = False,
) -> None:
    """Search the history (or files) by text, service, time, level and rule; exit 1: no match.

    Examples:

      incidentlog grep -F 'Connection refused' --service api --since 2h

      incidentlog grep Traceback --category event-loop-conflict -C 3
    """
    from incidentlog.render.records import grep_chunks, use_color, write_chunks
    from incidentlog.search import GrepQuery, grep_history
    from incidentlog.sources import EvidenceSource

    with cli_errors(minimum_exit=EXIT_ERROR):
        if show_secrets:
            deprecated("grep --show-secrets", "--no-redact")
            no_redact = True
        check_format(fmt, FORMATS, "grep")
        request = make_request(
            paths,
            store=store,
            lake=lake,
            since=since,
            until=until,
            services=service,
            rules=rules,
            input_format=input_format,
            project=project[0] if project and len(project) == 1 else None,
        )
        query = GrepQuery(
            pattern,
            fixed=fixed,
            ignore_case=ignore_case,
            invert=invert,
            level=level,
            categories=tuple(category or ()),
            rules=tuple(rule or ()),
            hosts=tuple(host or ()),
            projects=tuple(project or ()),
            before=max(before, context),
            after=max(after, context),
            limit=limit,
        )
        colored = use_color(color) and output is None
        result = grep_history(query, EvidenceSource(request), count_only=count)
        chunks = grep_chunks(result, fmt=fmt, count=count, color=colored, redact=not no_redact)
        if output is not None:
            write_output("".join(chunks), output)
        else:
            write_chunks(chunks)
    if not result.matched:
        raise typer.Exit(EXIT_NO_MATCH)
