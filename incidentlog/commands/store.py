"""`incidentlog store info|compact`: what the history holds; merging its small files."""

from __future__ import annotations

import json
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
    from incidentlog.store import StoreInfo

app = typer.Typer(
    help="What the history store holds, and merging its small files.", no_args_is_help=True
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
        before, after = Store.open(store).compact()
    typer.echo(f"compacted: {before} files -> {after}")
