"""Digests where people read them: a Slack message (mrkdwn and Block Kit), or plain JSON.

Slack shows Markdown tables as pipes and asterisks, so the message is built
from blocks: a header, the headline, a line per service with errors, the new
signatures, and where the full digest is. Every part stays inside Slack's
limits (50 blocks, 3,000 characters a section, 150 a header, 10 context
elements), cut at line ends, with "… and N more". Text from the logs is
escaped for mrkdwn (`&`, `<`, `>`) and names are code spans, so nothing in a
service name or a log line can mention a channel or open a link.
"""

from __future__ import annotations

from typing import Any, Final

from incidentlog.digest.model import Digest, ServiceDigest, Signature
from incidentlog.render.digest import digest_to_dict, headline, period_label
from incidentlog.text import plural

__all__ = [
    "HEADER_CHARS",
    "MAX_BLOCKS",
    "SECTION_CHARS",
    "json_payload",
    "slack_payload",
]

MAX_BLOCKS: Final = 50
SECTION_CHARS: Final = 3000
HEADER_CHARS: Final = 150
FALLBACK_CHARS: Final = 3000
"""The notification text (`text`), shown where blocks are not."""
SERVICES_SHOWN: Final = 15
SIGNATURES_SHOWN: Final = 10


def mrkdwn(text: object) -> str:
    """Untrusted text as mrkdwn that shows as itself (Slack's three escapes)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name(text: object) -> str:
    """A service or id as a code span (a backtick in it would end the span)."""
    return "`" + mrkdwn(str(text).replace("`", "'")) + "`"


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else (str(value) if value else "±0")


def _service_line(s: ServiceDigest, compared: bool = True) -> str:
    """`3 errors (+2), 1 restart`; no change shown when `compared` is False (no history)."""
    change = f" ({_signed(s.errors - s.errors_previous)})" if compared else ""
    parts = [f"{plural(s.errors, 'error')}{change}"]
    if s.restarts:
        parts.append(plural(s.restarts, "restart"))
    if s.oom_kills:
        parts.append(plural(s.oom_kills, "OOM kill"))
    if s.health_transitions:
        parts.append(plural(s.health_transitions, "health change"))
    if s.silent:
        parts.append("went silent")
    return f"• {_name(s.service)} " + ", ".join(parts)


def _signature_line(s: Signature) -> str:
    what = mrkdwn(" ".join(s.title.split())[:200])
    return f"• {_name(s.service)} {what} ({s.count}×)"


def _section(title: str, lines: list[str], shown: int) -> dict[str, Any]:
    """A mrkdwn section of at most `shown` lines and SECTION_CHARS characters."""
    body = f"*{title}*"
    kept = 0
    for line in lines[:shown]:
        if len(body) + len(line) + 40 > SECTION_CHARS:
            break
        body += "\n" + line
        kept += 1
    if kept < len(lines):
        body += f"\n… and {len(lines) - kept} more"
    return {"type": "section", "text": {"type": "mrkdwn", "text": body}}


def slack_payload(digest: Digest, *, link: str | None = None) -> dict[str, Any]:
    """The digest as a Slack Block Kit message; `link` says where the full digest is."""
    title = f"Error digest: {period_label(digest)}"
    line = headline(digest)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:HEADER_CHARS]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(line)[:SECTION_CHARS]}},
    ]
    busy = [s for s in digest.services if s.errors or s.restarts or s.oom_kills or s.silent]
    if busy:
        lines = [_service_line(s, digest.has_previous) for s in busy]
        blocks.append(_section("Services", lines, SERVICES_SHOWN))
    if digest.new_signatures:
        lines = [_signature_line(s) for s in digest.new_signatures]
        blocks.append(_section("New signatures", lines, SIGNATURES_SHOWN))
    if link:
        where = (
            f"<{link}|full digest>" if link.startswith(("http://", "https://")) else mrkdwn(link)
        )
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Full digest: {where}"}]}
        )
    return {"text": line[:FALLBACK_CHARS], "blocks": blocks[:MAX_BLOCKS]}


def json_payload(digest: Digest, *, link: str | None = None) -> dict[str, Any]:
    """The digest's JSON document (`digest --format json`) for other receivers, with `link`."""
    return digest_to_dict(digest) | {"link": link}
