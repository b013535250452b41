"""Posting a digest to a webhook: Slack Block Kit or plain JSON, retried like Slack asks.

A 429 or a 5xx is retried after `Retry-After` seconds (or a short backoff),
a few times; anything else fails at once. The URL is a secret (it posts to
a channel): it can come from `$INCIDENTLOG_WEBHOOK_URL` instead of the
command line, and it is never printed whole.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from incidentlog.errors import UsageError

if TYPE_CHECKING:
    from incidentlog.digest.model import Digest

__all__ = ["ATTEMPTS", "STYLES", "WEBHOOK_ENV", "check_webhook", "post_digest", "post_json"]

WEBHOOK_ENV: Final = "INCIDENTLOG_WEBHOOK_URL"
STYLES: Final = ("slack", "json")
ATTEMPTS: Final = 4
MAX_WAIT: Final = 30.0
"""The longest `Retry-After` honoured, in seconds."""


def check_webhook(url: str, style: str) -> None:
    """A usage error unless `url` is http(s) and `style` one of STYLES."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--webhook {shown(url)!r} is not an http(s) URL")
    if style not in STYLES:
        raise UsageError(f"--webhook-format {style!r} is not one of {', '.join(STYLES)}")


def shown(url: str) -> str:
    """The URL without its path and query (where a webhook keeps its secret)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def _wait(error: urllib.error.HTTPError, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the error is final."""
    if error.code != 429 and error.code < 500:
        return None
    header = error.headers.get("Retry-After") if error.headers else None
    try:
        return min(float(header), MAX_WAIT) if header else float(2**attempt)
    except ValueError:
        return float(2**attempt)


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST `payload` as JSON; retries 429/5xx; returns the attempts it took.
    Raises OSError (urllib's errors are OSErrors) when it finally fails."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return attempt
        except urllib.error.HTTPError as exc:
            delay = _wait(exc, attempt)
            if delay is None or attempt == ATTEMPTS:
                raise
            sleep(delay)
    raise AssertionError("unreachable")


def post_digest(url: str, digest: Digest, *, style: str = "slack", link: str | None = None) -> int:
    """Post `digest` as a Slack message or its JSON document; the attempts it took."""
    from incidentlog.render.slack import json_payload, slack_payload

    payload = (
        slack_payload(digest, link=link) if style == "slack" else json_payload(digest, link=link)
    )
    return post_json(url, payload)
