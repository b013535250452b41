"""One module per command: check the options, call the library, print the result.

A command module imports its library lazily (inside the function), so that
`incidentlog --help` and `--version` load neither Polars nor the pipeline.
Library errors become one `Error: …` line and the error's exit code
(`cli_errors`); shared options are declared once in `options.py`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from incidentlog.errors import IncidentlogError, UsageError

if TYPE_CHECKING:
    from incidentlog.sources import Request

__all__ = ["check_input_format", "cli_errors", "make_request", "write_output"]


@contextmanager
def cli_errors(minimum_exit: int = 1) -> Iterator[None]:
    """Turn library errors into one `Error: ...` line and the error's exit code
    (at least `minimum_exit`: grep keeps 1 for "no match", so its errors exit 2)."""
    reader = sys.modules.get("incidentlog.store.reader")
    if reader is not None:  # name a damaged file of this command's scans only
        reader.forget_scans()
    try:
        yield
    except IncidentlogError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(max(exc.exit_code, minimum_exit)) from None
    except KeyboardInterrupt:
        typer.echo("Error: interrupted", err=True)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):  # a command's own way out (grep -f: Ctrl-C is 130)
        raise
    except Exception as exc:
        if _unreadable_parquet(exc):
            typer.echo(f"Error: {_parquet_problem(exc)}", err=True)
            raise typer.Exit(max(1, minimum_exit)) from None
        if minimum_exit <= 1:
            raise  # cli.py makes it one line, exit 1
        _internal_error(exc, minimum_exit)
    except BaseException as exc:  # a Rust panic inside Polars is no Exception
        if type(exc).__name__ != "PanicException":
            raise
        from incidentlog.store.reader import damaged_scanned_file

        if damaged_scanned_file() is not None:  # damaged bytes made the reader panic
            typer.echo(f"Error: {_parquet_problem(exc)}", err=True)
            raise typer.Exit(max(1, minimum_exit)) from None
        _internal_error(exc, max(1, minimum_exit))


def _internal_error(exc: BaseException, code: int) -> None:
    """A bug in a command whose exit 1 means something else (grep: no match):
    the one line cli.py prints for it, with the command's error exit code."""
    from incidentlog.cli import DEBUG_ENV

    if os.environ.get(DEBUG_ENV):
        raise exc
    detail = " ".join(str(exc).split())[:200]
    typer.echo(
        f"Error: internal error ({type(exc).__name__}: {detail}); please report it, with "
        f"the traceback that {DEBUG_ENV}=1 prints",
        err=True,
    )
    raise typer.Exit(code) from None


def _unreadable_parquet(exc: Exception) -> bool:
    """A Polars error about Parquet data: a store file damaged inside (a truncated
    one is found when it is opened, with its name: store/reader.py), or any Polars
    error while a file this command scanned is damaged (a broken schema in a footer)."""
    if not type(exc).__module__.startswith("polars"):
        return False
    if "parquet" in str(exc).lower():
        return True
    from incidentlog.store.reader import damaged_scanned_file

    return damaged_scanned_file() is not None


def _parquet_problem(exc: BaseException) -> str:
    """Which store file a Parquet error came from, and what to do about it."""
    from incidentlog.store.reader import damaged_scanned_file

    found = damaged_scanned_file()
    if found is None:
        detail = " ".join(str(exc).split())[:200]
        return f"a Parquet file could not be read ({detail})"
    file, problem = found
    return (
        f"{file}: {problem}; `incidentlog store check --repair` moves it aside "
        "(re-ingest its input to restore its rows)"
    )


def write_output(text: str, output: Path | None) -> None:
    """`text` to FILE (`-o`), or to standard output."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise IncidentlogError(f"-o {output}: cannot write ({exc.strerror or exc})") from None


def check_input_format(input_format: str | None) -> None:
    """A usage error unless `input_format` is one ingest reads (or None: sniffed)."""
    if input_format is None:
        return
    from incidentlog.ingest.sniff import InputFormat

    allowed = [f.value for f in InputFormat]
    if input_format not in allowed:
        raise UsageError(
            f"--input-format {input_format!r} is not an input format (allowed: {', '.join(allowed)})"
        )


def _lake_alone(lake: str | None, paths: Sequence[str] | None, store: Path | None) -> None:
    """`--lake` reads the lake: PATHs or `--store` beside it would mean two sources."""
    if lake is not None and (paths or store is not None):
        raise UsageError("--lake reads the lake: give it without PATHs and --store")


def make_request(
    paths: Sequence[str] | None = None,
    *,
    store: Path | None = None,
    lake: str | None = None,
    since: str | None = None,
    until: str | None = None,
    services: Sequence[str] | None = None,
    rules: Sequence[Path] | None = None,
    input_format: str | None = None,
    project: str | None = None,
    host: str | None = None,
    log_zone: str | None = None,
    now: datetime | None = None,
) -> Request:
    """The evidence request of the shared options (times parsed, formats checked)."""
    from incidentlog.ingest.options import zone_name
    from incidentlog.sources import Request
    from incidentlog.timespec import parse_window

    check_input_format(input_format)
    _lake_alone(lake, paths, store)
    start, end = parse_window(since, until, now=now)
    return Request(
        paths=tuple(paths or ()),
        store=store,
        lake=lake,
        since=start,
        until=end,
        services=tuple(dict.fromkeys(services or ())),
        rule_paths=tuple(rules or ()),
        input_format=input_format,
        project=project,
        host=host,
        log_zone=zone_name(log_zone) if log_zone else None,
    )
