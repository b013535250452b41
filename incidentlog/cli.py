"""The command line: thin Typer wiring over the library.

Each command parses its options, calls one library function and prints the
result. Library errors (`IncidentlogError`) become one `Error: ...` line and
a non-zero exit; heavy modules (polars) are imported inside commands so that
`--help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from incidentlog.errors import IncidentlogError

app = typer.Typer(
    name="incidentlog",
    help="Post-incident reports, error digests and a greppable history from Docker Compose logs.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
store_app = typer.Typer(
    help="What the history store holds, and merging its small files.", no_args_is_help=True
)
app.add_typer(store_app, name="store")

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="History store directory (default: $INCIDENTLOG_STORE or the user data dir).",
    ),
]
SinceOption = Annotated[
    str | None, typer.Option(help="Start: RFC 3339, Unix time or a duration back (90m).")
]
UntilOption = Annotated[str | None, typer.Option(help="End, same forms as --since.")]
PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Files to read (- for standard input); none reads the store."),
]
ServiceOption = Annotated[
    str | None,
    typer.Option("--service", help="Service name for input without a compose `name |` prefix."),
]


class SummaryFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn library errors into one `Error: ...` line and the error's exit code."""
    try:
        yield
    except IncidentlogError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("Error: interrupted", err=True)
        raise typer.Exit(130) from None


def emit_json(obj: object) -> None:
    typer.echo(json.dumps(obj, default=str, ensure_ascii=False))


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files to read; - reads standard input.")],
    store: StoreOption = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Force the input format: compose, raw, json-file, events, inspect, ps (default: sniffed).",
        ),
    ] = None,
    service: ServiceOption = None,
    project: Annotated[
        str | None, typer.Option(help="Compose project, when the input does not say.")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Docker host the input came from (default: this machine).")
    ] = None,
    output: Annotated[
        SummaryFormat, typer.Option("--output", help="Summary format: text or json.")
    ] = SummaryFormat.TEXT,
) -> None:
    """Parse logs, events, inspect and ps output into the history store."""
    from incidentlog.ingest import ingest_into_store

    with cli_errors():
        summary, written = ingest_into_store(
            paths,
            store=store,
            fmt=fmt,
            service=service,
            project=project,
            host=host,
            progress=sys.stderr.isatty(),
        )
    if output is SummaryFormat.JSON:
        emit_json(
            summary.to_dict() | {"written": written.written, "already_stored": written.duplicates}
        )
    else:
        typer.echo(summary.describe())
        typer.echo(
            f"store: {written.written['logs']} records and {written.written['events']} events added, "
            f"{written.duplicates} already stored"
        )
    if summary.records + summary.events == 0 and summary.rejected_lines:
        typer.echo(
            "Error: nothing could be read from the input (see the rejected lines above)", err=True
        )
        raise typer.Exit(1)


@store_app.command("info")
def store_info(
    store: StoreOption = None,
    output: Annotated[
        SummaryFormat, typer.Option("--output", help="text or json.")
    ] = SummaryFormat.TEXT,
) -> None:
    """Size, time span, services and counts of the history store."""
    from incidentlog.store import Store

    with cli_errors():
        info = Store.open(store).info()
    if output is SummaryFormat.JSON:
        emit_json({"path": str(info.path), "logs": vars(info.logs), "events": vars(info.events)})
        return
    typer.echo(f"store: {info.path}")
    for name, data in (("logs", info.logs), ("events", info.events)):
        typer.echo(
            f"{name}: {data.rows} rows in {data.files} files ({data.bytes / 1e6:.1f} MB), "
            f"{data.first_ts or '-'} .. {data.last_ts or '-'}"
        )
        for service_name, count in data.services.items():
            typer.echo(f"  {service_name}: {count}")


@store_app.command("compact")
def store_compact(store: StoreOption = None) -> None:
    """Merge each day's small files into one, dropping duplicate rows."""
    from incidentlog.store import Store

    with cli_errors():
        before, after = Store.open(store).compact()
    typer.echo(f"compacted: {before} files -> {after}")


rules_app = typer.Typer(help="List and check rule packs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule pack (TOML file or directory); repeatable."),
]


@app.command()
def detect(
    paths: PathsArgument = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only findings about this service.")
    ] = None,
    rules: RulesOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text or jsonl.")] = "text",
    fail_on: Annotated[
        str | None,
        typer.Option(help="Exit 3 when a finding reaches this severity (info..critical)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Failure signatures found in logs, probes and events, per service and rule."""
    from incidentlog.detect.command import (
        FAIL_EXIT_CODE,
        check_options,
        detect_jsonl,
        detect_text,
        fails_at,
        run_detect,
    )
    from incidentlog.timespec import parse_window

    with cli_errors():
        check_options(fmt, fail_on)
        start, end = parse_window(since, until)
        result = run_detect(
            paths or [],
            since=start,
            until=end,
            services=service or [],
            service_hint=service[0] if service and len(service) == 1 else None,
            rule_paths=rules or [],
            store=store,
        )
    typer.echo(
        detect_jsonl(result.summary) if fmt == "jsonl" else detect_text(result.summary), nl=False
    )
    if fails_at(result.summary, fail_on):
        raise typer.Exit(FAIL_EXIT_CODE)


@app.command()
def report(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files to read (- for standard input; a docker-compose.yml among or beside "
            "them gives depends_on); none reads the store."
        ),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Report on this service only (repeatable)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", help="Directory searched for templates before the built-ins."),
    ] = None,
    no_redact: Annotated[
        bool, typer.Option("--no-redact", help="Show secrets (they are masked by default).")
    ] = False,
    rules: RulesOption = None,
    store: StoreOption = None,
    now: Annotated[
        str | None,
        typer.Option(help="Pretend the time is this (RFC 3339); for reproducible reports."),
    ] = None,
) -> None:
    """The post-incident report: root causes, timeline, action plan (Markdown, HTML, JSON)."""
    from incidentlog.render.report import generate_report
    from incidentlog.timespec import parse_time, parse_window

    with cli_errors():
        clock = parse_time(now) if now else None
        start, end = parse_window(since, until, now=clock)
        text = generate_report(
            paths or [],
            fmt=fmt,
            since=start,
            until=end,
            services=service or [],
            template_dir=template,
            redact=not no_redact,
            store=store,
            rule_paths=rules or [],
            now=clock,
        )
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise IncidentlogError(
                    f"-o {output}: cannot write ({exc.strerror or exc})"
                ) from None
    if output is None:
        typer.echo(text, nl=False)


@rules_app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """Every rule of the built-in packs (and --rules packs)."""
    from incidentlog.detect.command import list_rules_text

    with cli_errors():
        text = list_rules_text(rules or [])
    typer.echo(text, nl=False)


@rules_app.command("check")
def rules_check(
    paths: Annotated[list[Path], typer.Argument(help="Rule pack files or directories.")],
) -> None:
    """Validate rule packs: every problem at once, with file and rule id."""
    from incidentlog.detect.command import run_rules_check

    with cli_errors():
        text, code = run_rules_check(paths)
    typer.echo(text, nl=False)
    raise typer.Exit(code)


@app.command()
def patterns(
    paths: PathsArgument = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only this service (repeatable).")
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(help="Only records at this level or worse (trace..fatal, or unknown)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or jsonl.")] = "text",
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input", help="Force the input format: compose, raw, json-file (default: sniffed)."
        ),
    ] = None,
    per_line: Annotated[
        bool,
        typer.Option(
            "--per-line", help="With --input raw: one JSON object per input line, in order."
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Message templates with stable ids and counts, most frequent first."""
    from incidentlog.patterns.command import (
        check_options,
        patterns_jsonl,
        patterns_text,
        per_line_jsonl,
        read_raw_messages,
        run_patterns,
    )
    from incidentlog.timespec import parse_window

    with cli_errors():
        filters = bool(since or until or service or level)
        check_options(
            fmt,
            per_line=per_line,
            input_format=input_format,
            has_paths=bool(paths),
            store=store,
            filters=filters,
        )
        if per_line:
            for chunk in per_line_jsonl(read_raw_messages(paths or [])):
                typer.echo(chunk, nl=False)
            return
        start, end = parse_window(since, until)
        result = run_patterns(
            paths or [],
            since=start,
            until=end,
            services=service or [],
            level=level,
            input_format=input_format,
            store=store,
        )
    typer.echo(
        patterns_jsonl(result.summary) if fmt == "jsonl" else patterns_text(result), nl=False
    )


ProjectOption = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Compose project (default: every container)."),
]
DockerHostOption = Annotated[
    str | None,
    typer.Option(
        "--docker-host",
        help="Docker Engine address (default: $DOCKER_HOST, else the local socket).",
    ),
]


@app.command()
def collect(
    project: ProjectOption = None,
    store: StoreOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="For containers not collected before: logs from this time (90m, RFC 3339)."
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow/--no-follow", help="Keep following, or read what is there and exit."
        ),
    ] = True,
    docker_host: DockerHostOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            help="With --project: start even if it has no containers yet, and collect them "
            "as they are created (a collector started before `docker compose up`)."
        ),
    ] = False,
    digest_every: Annotated[
        str | None,
        typer.Option(help="Write a digest at each boundary of this interval (1h, 30m)."),
    ] = None,
    digest_dir: Annotated[
        Path | None, typer.Option(help="Where scheduled digests go (digest-<start>Z.md).")
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(help='POST each changed digest here as Slack-compatible JSON {"text": …}.'),
    ] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone for digest display.")] = None,
) -> None:
    """Stream a live project's logs, events and health probes into the store (Ctrl-C stops)."""
    from incidentlog.errors import UsageError
    from incidentlog.live.command import collect_command
    from incidentlog.live.schedule import DigestSchedule
    from incidentlog.store import default_store_path
    from incidentlog.timespec import parse_duration

    with cli_errors():
        schedule = None
        if digest_every:
            schedule = DigestSchedule(
                store=store or default_store_path(),
                every=parse_duration(digest_every),
                directory=digest_dir,
                webhook=webhook,
                tz=tz,
                warn=lambda message: typer.echo(message, err=True),
            )
        elif digest_dir or webhook:
            raise UsageError("--digest-dir and --webhook go with --digest-every")
        stats = collect_command(
            project=project,
            store=store,
            since=since,
            follow=follow,
            docker_host=docker_host,
            live=sys.stderr.isatty(),
            schedule=schedule,
            wait=wait,
        )
    typer.echo(stats.summary(), err=True)


@app.command()
def status(
    project: ProjectOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    docker_host: DockerHostOption = None,
) -> None:
    """Every service's health now; exit 0 ok, 1 warning (>25% unhealthy), 2 critical (>50%), 3 unknown."""
    from incidentlog.live.status import StatusUnknownError, read_status, render_json, render_text

    with cli_errors():
        if fmt not in ("text", "json"):
            raise StatusUnknownError(f"unknown --format {fmt!r} (expected text or json)")
        report = read_status(project, docker_host)
    typer.echo(render_json(report) if fmt == "json" else render_text(report), nl=False)
    raise typer.Exit(int(report.verdict))


@app.command("grep")
def grep_command(
    pattern: Annotated[str, typer.Argument(help="Rust-syntax regex (a fixed string with -F).")],
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files to search (- for standard input); none searches the store."),
    ] = None,
    fixed: Annotated[
        bool, typer.Option("-F", "--fixed-strings", help="PATTERN is a fixed string.")
    ] = False,
    ignore_case: Annotated[bool, typer.Option("-i", "--ignore-case")] = False,
    invert: Annotated[
        bool, typer.Option("-v", "--invert-match", help="Records that do not match.")
    ] = False,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Service name or glob (agent-*); repeatable."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
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
    project: Annotated[list[str] | None, typer.Option(help="Compose project; repeatable.")] = None,
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
    fmt: Annotated[str, typer.Option("--format", help="text or jsonl.")] = "text",
    limit: Annotated[
        int | None, typer.Option("-m", "--limit", help="At most N matches (the earliest).")
    ] = None,
    color: Annotated[str, typer.Option(help="auto (on a terminal), always or never.")] = "auto",
    show_secrets: Annotated[bool, typer.Option(help="Do not mask secrets in the output.")] = False,
    store: StoreOption = None,
) -> None:
    """Search the history (or files) by text, service, time, level and rule; exit 1: no match."""
    from incidentlog.search import (
        EXIT_ERROR,
        EXIT_NO_MATCH,
        GrepQuery,
        run_grep,
        use_color,
        write_chunks,
    )
    from incidentlog.timespec import parse_window

    try:
        start, end = parse_window(since, until)
        query = GrepQuery(
            pattern,
            fixed=fixed,
            ignore_case=ignore_case,
            invert=invert,
            services=tuple(service or ()),
            since=start,
            until=end,
            level=level,
            categories=tuple(category or ()),
            rules=tuple(rule or ()),
            hosts=tuple(host or ()),
            projects=tuple(project or ()),
            before=max(before, context),
            after=max(after, context),
            limit=limit,
        )
        chunks, matched = run_grep(
            query,
            paths or [],
            store=store,
            fmt=fmt,
            count=count,
            color=use_color(color),
            redact=not show_secrets,
        )
        write_chunks(chunks)
    except IncidentlogError as exc:  # grep's convention: 1 = no match, 2 = trouble
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(max(exc.exit_code, EXIT_ERROR)) from None
    if not matched:
        raise typer.Exit(EXIT_NO_MATCH)


@app.command()
def digest(
    since: Annotated[
        str | None, typer.Option(help="Period from this time until now: a duration (1h) or a time.")
    ] = None,
    hour: Annotated[
        str | None, typer.Option(help="Period of one hour, e.g. 2025-08-01T13 (read in --tz).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE.")] = None,
    quiet_if_unchanged: Annotated[
        bool, typer.Option(help="Print (and write) nothing when nothing changed.")
    ] = False,
    tz: Annotated[str | None, typer.Option(help="Time zone for display and --hour (UTC).")] = None,
    template: Annotated[
        Path | None, typer.Option(help="Directory searched for templates before the built-ins.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """The error digest of a period (default: the last full hour), against the one before."""
    from incidentlog.digest import run_digest

    with cli_errors():
        text = run_digest(
            since=since,
            hour=hour,
            fmt=fmt,
            tz=tz,
            store=store,
            quiet_if_unchanged=quiet_if_unchanged,
            template_dir=template,
        )
        if text and output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise IncidentlogError(f"{output}: cannot write ({exc.strerror})") from None
        elif text:
            typer.echo(text, nl=False)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except IncidentlogError as exc:  # raised outside a command body (option parsing)
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
