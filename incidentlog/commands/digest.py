"""`incidentlog digest`: the error digest of a period, against the one before."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from incidentlog.commands import cli_errors, write_output
from incidentlog.commands.options import (
    LakeOption,
    OutputOption,
    RulesOption,
    StoreOption,
    WebhookFormatOption,
    WebhookOption,
    check_format,
    choices,
)

if TYPE_CHECKING:
    from incidentlog.digest.model import Digest

FORMATS = ("md", "html", "json")


def digest(
    store: StoreOption = None,
    lake: LakeOption = None,
    since: Annotated[
        str | None,
        typer.Option(help="Period from this time until now: a duration (1h) or a time."),
    ] = None,
    hour: Annotated[
        str | None, typer.Option(help="Period of one hour, e.g. 2025-08-01T13 (read in --tz).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar=choices(FORMATS), help="md, html or json.")
    ] = "md",
    output: OutputOption = None,
    quiet_if_unchanged: Annotated[
        bool, typer.Option(help="Print (and write) nothing when nothing changed.")
    ] = False,
    tz: Annotated[str | None, typer.Option(help="Time zone for display and --hour (UTC).")] = None,
    template: Annotated[
        Path | None, typer.Option(help="Directory searched for templates before the built-ins.")
    ] = None,
    rules: RulesOption = None,
    webhook: WebhookOption = None,
    webhook_format: WebhookFormatOption = "slack",
) -> None:
    """The error digest of a period (default: the last full hour), against the one before.

    Examples:

      incidentlog digest --hour 2025-08-01T13 --store ./history

      incidentlog digest --since 24h --format html -o digest.html

      INCIDENTLOG_WEBHOOK_URL=https://hooks.slack.com/services/… incidentlog digest --quiet-if-unchanged -o /var/lib/incidentlog/last.md
    """
    from incidentlog.progress import shown
    from incidentlog.render.digest import digest_of, render_digest

    with cli_errors():
        check_format(fmt, FORMATS, "digest")
        if webhook:
            from incidentlog.live.notify import check_webhook

            check_webhook(webhook, webhook_format)
        with shown("digest"):
            digest = digest_of(
                since=since, hour=hour, tz=tz, store=store, lake=lake, rule_paths=rules or []
            )
        if quiet_if_unchanged and digest.unchanged:
            return
        write_output(render_digest(digest, fmt, template), output)
        if webhook and not digest.unchanged:
            _post(webhook, digest, webhook_format, output)


def _post(url: str, digest: Digest, style: str, output: Path | None) -> None:
    """Post the digest; a failure is one Error line (the digest was still written)."""
    from incidentlog.errors import IncidentlogError
    from incidentlog.live.notify import post_digest, shown

    try:
        post_digest(url, digest, style=style, link=str(output) if output else None)
    except OSError as exc:
        raise IncidentlogError(f"--webhook {shown(url)}: not posted ({exc})") from None
