"""`incidentlog grep PATTERN [PATH...]`: search the history (or files); exit 1 = no match."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from incidentlog.commands import cli_errors, make_request, write_output
from incidentlog.commands.options import (
    LEVELS,
    InputFormatOption,
    LakeOption,
    LogZoneOption,
    OutputOption,
    PathsArgument,
    RedactOption,
    RulesOption,
    ServiceOption,
    SinceOption,
    StoreOption,
    UntilOption,
    check_format,
    choices,
    deprecated,
    env_shown,
)
from incidentlog.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from incidentlog.search import GrepQuery
    from incidentlog.sources import Request

FORMATS = ("text", "json", "jsonl")
EXIT_NO_MATCH = 1
"""Exit code when nothing matched, as grep."""
EXIT_ERROR = 2
"""Exit code on any error (a bad regex, an unknown level, a broken store), as grep."""


# grep's own options (the shared ones are in `commands/options.py`)
_Format = Annotated[
    str, typer.Option("--format", metavar=choices(FORMATS), help="text, json or jsonl.")
]
_Fixed = Annotated[bool, typer.Option("-F", "--fixed-strings", help="PATTERN is a fixed string.")]
_IgnoreCase = Annotated[bool, typer.Option("-i", "--ignore-case")]
_Invert = Annotated[bool, typer.Option("-v", "--invert-match", help="Records that do not match.")]
_Level = Annotated[
    str | None,
    typer.Option(metavar=choices(LEVELS), help="Minimum level (warn keeps warn, error, fatal)."),
]
_Category = Annotated[
    list[str] | None,
    typer.Option(help="Records a finding of this category matched; repeatable."),
]
_Rule = Annotated[list[str] | None, typer.Option(help="Records this rule id matched; repeatable.")]
_Host = Annotated[list[str] | None, typer.Option(help="Docker host; repeatable.")]
_Project = Annotated[
    list[str] | None,
    typer.Option(
        help="Records of this compose project (repeatable); one also names the project "
        "of input that does not (default: $COMPOSE_PROJECT_NAME)."
        + env_shown("COMPOSE_PROJECT_NAME")
    ),
]
_After = Annotated[
    int, typer.Option("-A", "--after-context", help="Records after each match, same container.")
]
_Before = Annotated[
    int,
    typer.Option("-B", "--before-context", help="Records before each match, same container."),
]
_Context = Annotated[
    int, typer.Option("-C", "--context", help="Records before and after each match.")
]
_Count = Annotated[bool, typer.Option("-c", "--count", help="Matching records per service.")]
_Limit = Annotated[
    int | None, typer.Option("-m", "--limit", help="At most N matches (the earliest).")
]
_Tail = Annotated[
    int | None, typer.Option("--tail", help="The last N matches (-m keeps the first N).")
]
_Follow = Annotated[
    bool,
    typer.Option(
        "-f",
        "--follow",
        help="Keep reading the store: print new matches as collect or ingest write "
        "them (Ctrl-C stops; with --tail N, the last N first).",
    ),
]
_Color = Annotated[
    str,
    typer.Option(
        metavar=choices(("auto", "always", "never")),
        help="auto (on a terminal, unless $NO_COLOR is set), always or never."
        + env_shown("NO_COLOR"),
    ),
]
_ShowSecrets = Annotated[
    bool, typer.Option("--show-secrets", hidden=True, help="Deprecated: --no-redact.")
]


def grep(
    pattern: Annotated[str, typer.Argument(help="Rust-syntax regex (a fixed string with -F).")],
    paths: PathsArgument = None,
    store: StoreOption = None,
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    rules: RulesOption = None,
    fmt: _Format = "text",
    input_format: InputFormatOption = None,
    log_tz: LogZoneOption = None,
    output: OutputOption = None,
    no_redact: RedactOption = False,
    fixed: _Fixed = False,
    ignore_case: _IgnoreCase = False,
    invert: _Invert = False,
    level: _Level = None,
    category: _Category = None,
    rule: _Rule = None,
    host: _Host = None,
    project: _Project = None,
    after: _After = 0,
    before: _Before = 0,
    context: _Context = 0,
    count: _Count = False,
    limit: _Limit = None,
    tail: _Tail = None,
    follow: _Follow = False,
    color: _Color = "auto",
    show_secrets: _ShowSecrets = False,
) -> None:
    """Search the history (or files) by text, service, time, level and rule; exit 1: no match.

    Examples:

      incidentlog grep -F 'Connection refused' --service api --since 2h

      incidentlog grep Traceback --category event-loop-conflict -C 3

      incidentlog grep -f --tail 20 --level error --service api
    """
    from incidentlog.render.records import use_color
    from incidentlog.search import GrepQuery

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
            log_zone=log_tz,
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
        _check_tail_follow(
            tail, follow, limit=limit, count=count, fmt=fmt, elsewhere=bool(paths or lake or output)
        )
        if follow:
            matched = _follow(query, request, tail, color=colored, redact=not no_redact, fmt=fmt)
        else:
            matched = _search_once(query, request, tail, count, output, colored, not no_redact, fmt)
    if not matched:
        raise typer.Exit(EXIT_NO_MATCH)


def _search_once(
    query: GrepQuery,
    request: Request,
    tail: int | None,
    count: bool,
    output: Path | None,
    color: bool,
    redact: bool,
    fmt: str,
) -> int:
    """One search (the last `tail` matches when asked), printed or written to `output`;
    returns how many matched."""
    from incidentlog.render.records import grep_chunks, write_chunks
    from incidentlog.search import grep_history
    from incidentlog.sources import EvidenceSource

    result = grep_history(query, EvidenceSource(request), count_only=count)
    if tail is not None:
        from incidentlog.follow import last_matches

        result = last_matches(result, tail, before=query.before, after=query.after)
    chunks = grep_chunks(result, fmt=fmt, count=count, color=color, redact=redact)
    if output is not None:
        write_output("".join(chunks), output)
    else:
        write_chunks(chunks)
    return result.matched


def _check_tail_follow(
    tail: int | None, follow: bool, *, limit: int | None, count: bool, fmt: str, elsewhere: bool
) -> None:
    """--tail and --follow print records: not with -c; --tail not with -m; follow not as
    JSON, and only of the store to standard output (`elsewhere`: PATHs, --lake or -o)."""
    if tail is not None and limit is not None:
        raise UsageError("-m keeps the first N matches and --tail the last N: give one of them")
    if (tail is not None or follow) and count:
        raise UsageError("-c counts matches: --tail and --follow print them")
    if tail is not None and tail < 1:
        raise UsageError(f"--tail {tail}: must be 1 or more")
    if follow and fmt == "json":
        raise UsageError("--follow prints records as they land: use --format text or jsonl")
    if follow and elsewhere:
        raise UsageError(
            "--follow reads the store as it grows and prints to standard output: "
            "give no PATHs, --lake or -o"
        )


def _follow(
    query: GrepQuery, request: Request, tail: int | None, *, color: bool, redact: bool, fmt: str
) -> int:
    """Print matches as they land until Ctrl-C (exit 130, quietly), the reader goes
    away (`| head`) or -m matches were printed; returns how many were printed."""
    from incidentlog.follow import follow_matches
    from incidentlog.render.records import grep_chunks, write_chunks

    matched = 0
    try:
        for result in follow_matches(query, request, tail=tail):
            chunks = grep_chunks(result, fmt=fmt, count=False, color=color, redact=redact)
            if not write_chunks(chunks):
                break
            matched += result.matched
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    return matched
