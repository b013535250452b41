"""`incidentlog lake push|commit|compact|plan`: one history for many hosts, on Iceberg."""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from incidentlog.commands import cli_errors, make_request
from incidentlog.commands.options import (
    LakeOption,
    ServiceOption,
    SinceOption,
    StoreOption,
    UntilOption,
    choices,
)
from incidentlog.errors import UsageError

if TYPE_CHECKING:
    from incidentlog.lake import Lake

app = typer.Typer(
    help="The lake: push this host's history, commit what hosts pushed, compact, plan.",
    no_args_is_help=True,
)


def _open(lake: str | None) -> Lake:
    from incidentlog.lake import Lake

    if not lake:
        raise UsageError("--lake NAME is required (a pyiceberg catalog name)")
    return Lake.open(lake)


def _say(line: str) -> None:
    print(f"incidentlog: {line}", file=sys.stderr, flush=True)


@app.command("push")
def push(
    lake: LakeOption = None,
    store: StoreOption = None,
    host: Annotated[
        str | None, typer.Option(help="This host's name (default: the machine's hostname).")
    ] = None,
) -> None:
    """Upload the store's closed files the lake does not have yet to its landing prefix.

    Example: incidentlog lake push --lake prod --store /var/lib/incidentlog
    """
    from incidentlog.lake.push import StoreFile
    from incidentlog.lake.push import push as push_files
    from incidentlog.store import DATASETS, Store

    with cli_errors():
        opened = _open(lake)
        history = Store.open(store)
        files = [
            StoreFile(dataset, day, path)
            for dataset in DATASETS
            for day in history.layout.days(dataset)
            for path in history.day_files(dataset, day)
        ]
        name = host or socket.gethostname()
        ledger = history.cache_dir(f"lake-{opened.name}")
        result = push_files(opened, files, host=name, ledger_dir=ledger)
    typer.echo(
        f"pushed: {result.rows['logs']} records and {result.rows['events']} events "
        f"in {result.files} files ({result.already} already landed, "
        f"{result.skipped} store files with nothing new)"
    )


@app.command("commit")
def commit(
    lake: LakeOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep committing what lands, until interrupted.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between looks with --follow.")] = 5.0,
    max_files: Annotated[int, typer.Option(help="Landing files per commit.")] = 1000,
    lease_ttl: Annotated[
        float, typer.Option(help="Seconds the lease lasts unless renewed.")
    ] = 60.0,
) -> None:
    """Register landed files in the tables (one committer at a time holds the lease).

    Example: incidentlog lake commit --lake prod --follow
    """
    from incidentlog.lake.commit import CommitOptions, Committer

    with cli_errors():
        if interval <= 0 or max_files < 1 or lease_ttl <= 0:
            raise UsageError("--interval, --max-files and --lease-ttl must be positive")
        options = CommitOptions(
            max_files=max_files, interval=interval, lease_ttl=lease_ttl, follow=follow
        )
        result = Committer(_open(lake), options).run(say=_say)
    typer.echo(
        f"committed: {result.files} files in {result.batches} commits "
        f"({result.recovered} batches a stopped committer had claimed)"
    )


@app.command("compact")
def compact(
    lake: LakeOption = None,
    keep_snapshots: Annotated[
        int, typer.Option(help="Snapshots kept for time travel; older ones expire.")
    ] = 50,
    grace_minutes: Annotated[
        float,
        typer.Option(help="Unreferenced data files younger than this are left alone."),
    ] = 60.0,
) -> None:
    """Rewrite closed days sorted by (service, ts) without duplicates; expire and clean up.

    Example: incidentlog lake compact --lake prod
    """
    from datetime import timedelta

    from incidentlog.lake.compact import compact as compact_lake

    with cli_errors():
        if keep_snapshots < 1 or grace_minutes < 0:
            raise UsageError("--keep-snapshots must be at least 1, --grace-minutes not negative")
        result = compact_lake(
            _open(lake),
            keep=keep_snapshots,
            grace=timedelta(minutes=grace_minutes),
            say=_say,
        )
    typer.echo(
        f"compacted: {result.days} days, {result.files_before} files -> {result.files_after}, "
        f"{result.duplicates} duplicates dropped, {result.deleted} unreferenced files deleted"
    )


@app.command("plan")
def plan(
    lake: LakeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    host: Annotated[list[str] | None, typer.Option(help="Docker host; repeatable.")] = None,
    dataset: Annotated[
        str, typer.Option(metavar=choices(("logs", "events")), help="logs or events.")
    ] = "logs",
) -> None:
    """The data files (and row groups) a read with these filters plans: what pruning left.

    Example: incidentlog lake plan --lake prod --since 2h --host web-7 --service api
    """
    from incidentlog.lake import DATASETS
    from incidentlog.lake.read import plan as plan_files

    with cli_errors():
        if dataset not in DATASETS:
            raise UsageError(f"--dataset {dataset!r} is not a lake table (allowed: logs, events)")
        request = make_request(since=since, until=until, services=service)
        planned = plan_files(
            _open(lake),
            dataset,
            since=request.since,
            until=request.until,
            services=request.services,
            hosts=tuple(host or ()),
        )
    for item in planned:
        typer.echo(
            f"{item.path}\t{item.rows} rows\t{item.row_groups_read}/{item.row_groups} row groups"
        )
    typer.echo(f"planned: {len(planned)} files")
