"""`incidentlog collect` and `incidentlog status`: the live Docker Engine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from incidentlog.commands import cli_errors, write_output
from incidentlog.commands.options import (
    RulesOption,
    StoreOption,
    WebhookFormatOption,
    WebhookOption,
    check_format,
    choices,
    env_shown,
)
from incidentlog.errors import UsageError

ProjectOption = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Compose project (default: every container)."),
]
DockerHostOption = Annotated[
    str | None,
    typer.Option(
        "--docker-host",
        help="Docker Engine address (default: $DOCKER_HOST, else $DOCKER_CONTEXT or the "
        "current docker context, else the local socket)."
        + env_shown("DOCKER_HOST, DOCKER_CONTEXT"),
    ),
]
STATUS_FORMATS = ("text", "json")


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
    webhook: WebhookOption = None,
    webhook_format: WebhookFormatOption = "slack",
    tz: Annotated[str | None, typer.Option(help="Time zone for digest display.")] = None,
    rules: RulesOption = None,
    keep_days: Annotated[
        int | None,
        typer.Option(
            help="Remove whole days older than this many days, at the start and hourly "
            "(as `store prune --before Nd`)."
        ),
    ] = None,
) -> None:
    """Stream a live project's logs, events and health probes into the store (Ctrl-C stops).

    Examples:

      incidentlog collect -p shop --store ./history

      incidentlog collect -p shop --digest-every 1h --digest-dir ./digests
    """
    from incidentlog.live.command import Retention, collect_command
    from incidentlog.live.schedule import DigestSchedule
    from incidentlog.store import default_store_path
    from incidentlog.timespec import parse_duration

    with cli_errors():
        schedule = None
        if digest_every is not None:
            schedule = DigestSchedule(
                store=store or default_store_path(),
                every=parse_duration(digest_every),
                directory=digest_dir,
                webhook=webhook,
                webhook_format=webhook_format,
                tz=tz,
                rule_paths=rules or [],
                warn=lambda message: typer.echo(message, err=True),
            )
        elif digest_dir:
            raise UsageError("--digest-dir goes with --digest-every")
        elif webhook and webhook != os.environ.get("INCIDENTLOG_WEBHOOK_URL"):
            raise UsageError("--webhook goes with --digest-every")
        retention = None
        if keep_days is not None:
            retention = Retention(
                store or default_store_path(),
                keep_days,
                warn=lambda message: typer.echo(message, err=True),
            )
        stats = collect_command(
            project=project,
            store=store,
            since=since,
            follow=follow,
            docker_host=docker_host,
            live=sys.stderr.isatty(),
            schedule=schedule,
            wait=wait,
            retention=retention,
        )
    typer.echo(stats.summary(), err=True)


def status(
    project: ProjectOption = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(STATUS_FORMATS), help="text or json.")
    ] = "text",
    docker_host: DockerHostOption = None,
) -> None:
    """Every service's health now; exit 0 ok, 1 warning (>25% unhealthy), 2 critical (>50%), 3 unknown.

    Example: incidentlog status -p shop || page-someone
    """
    from incidentlog.errors import StatusUnknownError
    from incidentlog.live.status import read_status, render_json, render_text

    with cli_errors():
        try:
            check_format(fmt, STATUS_FORMATS, "status")
        except UsageError as exc:  # status's own convention: 3 = cannot tell
            raise StatusUnknownError(str(exc)) from None
        report = read_status(project, docker_host)
        write_output(render_json(report) if fmt == "json" else render_text(report), None)
    raise typer.Exit(int(report.verdict))
