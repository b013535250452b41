"""`incidentlog store info|compact|check|prune`: what the history holds; merging its
small files; finding (and moving aside) files that cannot be read; removing old days."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from incidentlog.commands import cli_errors, write_output
from incidentlog.commands.options import (
    LakeOption,
    OutputOption,
    StoreOption,
    check_format,
    choices,
    deprecated,
)

if TYPE_CHECKING:
    from incidentlog.store import CheckResult, StoreInfo

app = typer.Typer(
    help="What the history store holds, merging its small files, checking its files, "
    "removing old days.",
    no_args_is_help=True,
)
FORMATS = ("text", "json")


@app.command("info")
def info(
    store: StoreOption = None,
    lake: LakeOption = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text or json.")
    ] = "text",
    output: OutputOption = None,
) -> None:
    """Size, time span, services and counts of the history store.

    Example: incidentlog store info --store ./history --format json
    """
    from incidentlog.redact import json_safe, one_line
    from incidentlog.store import Store

    with cli_errors():
        if output is not None and str(output) in FORMATS and not output.exists():
            deprecated(f"store info --output {output}", f"--format {output}")
            fmt, output = str(output), None
        check_format(fmt, FORMATS, "store info")
        data = _lake_info(lake) if lake is not None else Store.open(store).info()
        if fmt == "json":
            document = {
                "path": str(data.path),
                "logs": vars(data.logs),
                "events": vars(data.events),
            }
            text = json_safe(json.dumps(document, default=str, ensure_ascii=False) + "\n")
        else:  # service names are log text: control characters shown, one line each
            lines = [f"store: {one_line(data.path)}"]
            for name, part in (("logs", data.logs), ("events", data.events)):
                lines.append(
                    f"{name}: {part.rows} rows in {part.files} files ({part.bytes / 1e6:.1f} MB), "
                    f"{part.first_ts or '-'} .. {part.last_ts or '-'}"
                )
                lines.extend(
                    f"  {one_line(name_)}: {count}" for name_, count in part.services.items()
                )
            text = "\n".join(lines) + "\n"
        write_output(text, output)


def _lake_info(name: str) -> StoreInfo:
    """The lake's totals, shaped as the store's (`path` names the lake)."""
    from pathlib import Path

    from incidentlog.lake import Lake
    from incidentlog.lake.read import table_info
    from incidentlog.store import DatasetInfo, StoreInfo

    lake = Lake.open(name)
    logs, events = (DatasetInfo(**table_info(lake, d)) for d in ("logs", "events"))  # type: ignore[arg-type]
    return StoreInfo(Path(f"lake {name}"), logs, events)


@app.command("compact")
def compact(store: StoreOption = None) -> None:
    """Merge each day's small files into one, dropping duplicate rows.

    Example: incidentlog store compact --store ./history
    """
    from incidentlog.progress import shown
    from incidentlog.store import Store

    with cli_errors(), shown("compact"):
        done = Store.open(store).compact()
    typer.echo(f"compacted: {done.before} files -> {done.after}")
    for problem in done.skipped:
        typer.echo(
            f"skipped a day with a bad file: {problem} (`incidentlog store check --repair` "
            "moves it aside)",
            err=True,
        )


EXIT_BAD_FILES = 1
"""`store check` found files it cannot read (and --repair was not given)."""


@app.command("check")
def check(
    store: StoreOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            help="Move bad files to the store's quarantine folder and clean up after "
            "killed writers."
        ),
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text or json.")
    ] = "text",
    output: OutputOption = None,
) -> None:
    """Read every store file whole and list those that cannot be read (exit 1);
    with --repair, move them into <store>/quarantine/ so every other file reads again.

    Ingesting a quarantined file's input again restores its rows (ingest adds only
    what is missing).

    Example: incidentlog store check --repair --store ./history
    """
    from incidentlog.store import Store

    with cli_errors():
        check_format(fmt, FORMATS, "store check")
        result = Store.open(store).check(repair=repair)
        moved = dict(result.moved)
        if fmt == "json":
            document = {
                "files": result.files,
                "bad": [
                    {"file": str(f), "problem": why, "moved_to": str(moved.get(f) or "") or None}
                    for f, why in result.bad
                ],
                "leftovers": [str(p) for p in result.leftovers],
                "recovered": vars(result.recovery) if result.recovery else None,
            }
            text = json.dumps(document, ensure_ascii=False) + "\n"
        else:
            text = _check_text(result, moved)
        write_output(text, output)
    if not result.ok:
        raise typer.Exit(EXIT_BAD_FILES)


def _check_text(result: CheckResult, moved: dict[Path, Path]) -> str:
    lines = [f"checked {result.files} files: {len(result.bad)} bad"]
    for file, why in result.bad:
        lines.append(f"bad: {file}: {why}")
        if file in moved:
            lines.append(f"  moved to {moved[file]}")
    if result.bad and not moved:
        lines.append("run `incidentlog store check --repair` to move them aside")
    if moved:
        lines.append("ingest their inputs again to restore their rows")
    if result.leftovers:
        lines.append(
            f"{len(result.leftovers)} files left by killed writers (--repair removes them)"
        )
    done = result.recovery
    if done and (done.completed or done.abandoned or done.temporaries):
        lines.append(
            f"cleaned up: {done.completed} interrupted compactions completed, "
            f"{done.abandoned} abandoned, {done.temporaries} temporary files removed"
        )
    return "\n".join(lines) + "\n"


@app.command("prune")
def prune(
    before: Annotated[
        str,
        typer.Option(
            help="Remove the days that end before this time: a duration back from now "
            "(30d, 720h) or a time, as --since takes it."
        ),
    ],
    store: StoreOption = None,
    partial: Annotated[
        bool,
        typer.Option(help="Also remove the earlier rows of the day holding that time."),
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Say what would go; remove nothing.")] = False,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text or json.")
    ] = "text",
) -> None:
    """Remove whole old days (records, events and their caches) and say what was freed.

    A day is removed only when all of it is older than --before (never half a day
    unless --partial); records without a time are kept.

    Examples:

      incidentlog store prune --before 30d --store ./history

      incidentlog store prune --before 2025-07-01T00:00:00Z --dry-run
    """
    from incidentlog.store import Store
    from incidentlog.timespec import parse_time

    with cli_errors():
        check_format(fmt, FORMATS, "store prune")
        cutoff = parse_time(before)
        done = Store.open(store).prune(cutoff, partial=partial, dry_run=dry_run)
    if fmt == "json":
        document = {**vars(done), "cutoff": done.cutoff.isoformat(), "dry_run": dry_run}
        typer.echo(json.dumps(document))
        return
    typer.echo(done.describe(dry_run=dry_run))
