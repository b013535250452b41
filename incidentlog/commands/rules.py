"""`incidentlog rules list|check`: the rule packs, and validating your own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incidentlog.commands import cli_errors, write_output
from incidentlog.commands.options import RulesOption, check_format, choices

app = typer.Typer(help="List and check rule packs.", no_args_is_help=True)
FORMATS = ("text", "json")


@app.command("list")
def list_(
    rules: RulesOption = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="text or json.")
    ] = "text",
) -> None:
    """Every rule of the built-in packs (and --rules packs).

    Example: incidentlog rules list --rules ./my-rules.toml
    """
    from incidentlog.detect import list_rules
    from incidentlog.render.findings import rules_json, rules_text

    with cli_errors():
        check_format(fmt, FORMATS, "rules list")
        frame = list_rules(rules or [])
        write_output(rules_json(frame) if fmt == "json" else rules_text(frame), None)


@app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="Rule pack files or directories.")],
) -> None:
    """Validate rule packs: every problem at once, with file and rule id; exit 1 on a problem.

    Example: incidentlog rules check ./rules/
    """
    from incidentlog.detect import check_rule_packs

    with cli_errors():
        problems, ruleset = check_rule_packs(paths)
    if problems:
        typer.echo("".join(f"{p}\n" for p in problems), nl=False)
        raise typer.Exit(1)
    assert ruleset is not None
    typer.echo(f"OK: {len(ruleset)} rules in {len(ruleset.packs)} packs")
