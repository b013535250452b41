"""The command line: Typer wiring only.

Each command lives in `incidentlog/commands/` (one module per command) and
its shared options in `commands/options.py`. Errors of every kind come out
as one `Error: …` line on stderr, never a box or a traceback: library errors
with their exit code (1 trouble, 2 usage), Click's own usage errors (an
unknown option, a missing argument) with 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from incidentlog.commands import (
    collect,
    detect,
    digest,
    grep,
    ingest,
    lake,
    patterns,
    report,
    rules,
    store,
)
from incidentlog.errors import IncidentlogError

# Typer vendors Click; its exception classes are reached through a public one.
_CLICK: dict[str, type[Exception]] = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
_ClickException = _CLICK["ClickException"]
_UsageError = _CLICK["UsageError"]


DEBUG_ENV = "INCIDENTLOG_DEBUG"
"""Set it to see the traceback of an internal error instead of one line."""


class _PlainErrors(TyperGroup):
    """Usage errors as one `Error:` line (exit 2) instead of Typer's boxed panel."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except _ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            if message:  # (empty when help was printed for a group called without a command)
                typer.echo(f"Error: {message}{hint}", err=True)
            code = 2 if isinstance(exc, _UsageError) else exc.exit_code  # type: ignore[attr-defined]
        except typer.Abort:
            typer.echo("Error: interrupted", err=True)
            code = 130
        except IncidentlogError as exc:  # raised while options were converted
            typer.echo(f"Error: {exc}", err=True)
            code = exc.exit_code
        except BaseException as exc:  # a bug: one line, never a traceback (locals may hold secrets)
            panic = type(exc).__name__ == "PanicException"  # Rust inside Polars: no Exception
            if os.environ.get(DEBUG_ENV) or not (isinstance(exc, Exception) or panic):
                raise
            name = type(exc).__name__
            detail = " ".join(str(exc).split())[:200]
            typer.echo(
                f"Error: internal error ({name}: {detail}); please report it, with the "
                f"traceback that {DEBUG_ENV}=1 prints",
                err=True,
            )
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"incidentlog {version('incidentlog')}")
        raise typer.Exit()


ENVIRONMENT = (
    "Environment: INCIDENTLOG_STORE (the store), INCIDENTLOG_RULES (more rule packs, "
    "separated by :), INCIDENTLOG_CONFIG (the config file), INCIDENTLOG_CACHE (parsed rule "
    "packs and compiled templates), INCIDENTLOG_WEBHOOK_URL (where "
    "digests are posted), COMPOSE_PROJECT_NAME (the project of input that does not name it), "
    "DOCKER_HOST and DOCKER_CONTEXT (the engine collect and status read), NO_COLOR, "
    f"{DEBUG_ENV}=1 (a traceback instead of one line on an internal error)."
)


def _make_app(names: Sequence[str]) -> typer.Typer:
    """The Typer app with the commands `names` (in `_COMMANDS` order)."""
    made = typer.Typer(
        name="incidentlog",
        cls=_PlainErrors,
        help="Post-incident reports, error digests and a greppable history from Docker Compose logs.",
        epilog=ENVIRONMENT,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=True,
    )
    made.callback()(_root)
    for name, register in _COMMANDS.items():
        if name in names:
            register(made)
    return made


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Post-incident reports, error digests and a greppable history from Docker Compose logs."""


_COMMANDS: dict[str, Callable[[typer.Typer], object]] = {
    "ingest": lambda a: a.command("ingest")(ingest.ingest),
    "store": lambda a: a.add_typer(store.app, name="store"),
    "detect": lambda a: a.command("detect")(detect.detect),
    "report": lambda a: a.command("report")(report.report),
    "rules": lambda a: a.add_typer(rules.app, name="rules"),
    "patterns": lambda a: a.command("patterns")(patterns.patterns),
    "collect": lambda a: a.command("collect")(collect.collect),
    "status": lambda a: a.command("status")(collect.status),
    "grep": lambda a: a.command("grep")(grep.grep),
    "digest": lambda a: a.command("digest")(digest.digest),
    "lake": lambda a: a.add_typer(lake.app, name="lake"),
}
"""Each command, as it is added to the app (the order of `--help`)."""

app = _make_app(list(_COMMANDS))
"""Every command (what `--help`, completion and the tests see)."""

COMPLETE_ENV = "_INCIDENTLOG_COMPLETE"


def main() -> None:
    """Console entry point. A command named on the command line is run by an app
    holding that command alone: Typer reads the signature of every command it
    holds before parsing (a tenth of a second for all of them)."""
    named = sys.argv[1] if len(sys.argv) > 1 else ""
    if named in _COMMANDS and COMPLETE_ENV not in os.environ:
        _make_app([named])()
    else:
        app()
