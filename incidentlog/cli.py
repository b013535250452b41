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
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files to read (- for standard input); none reads the store."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Start: RFC 3339, Unix time or a duration back (90m).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End, same forms as --since.")] = None,
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


def main() -> None:
    """Console entry point."""
    try:
        app()
    except IncidentlogError as exc:  # raised outside a command body (option parsing)
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
