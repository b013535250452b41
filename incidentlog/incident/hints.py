"""What a failing service's own log says to do about it.

Applications often name their own remedy next to the failure (Odoo: "Database
erp not initialized, you can force it with `-i base`"; Frigate: "SHM size ...
is too small, recommend increasing it to at least 371MB"). A rule's fix is
written for every application with that failure; the application's sentence
is about this one, so the report quotes it beside the fix.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final

import polars as pl

from incidentlog.redact import redact_expr
from incidentlog.schema import Level

__all__ = ["HINT_LOOKBACK", "own_hints"]

_DO: Final = (
    "force|run|set|use|increase|raise|add|enable|install|upgrade|create|specify|change|mount"
)
HINT: Final = (
    r"(?i)\b(?:you (?:can|should|must|need to|may need to|might want to) (?:" + _DO + r")\b"
    r"|please (?:" + _DO + r"|check that|make sure)\b"
    r"|recommend(?:ed|s)? (?:increasing|setting|using|raising|adding|to (?:set|increase|raise"
    r"|use|add))\b"
    r"|consider (?:increasing|setting|raising|adding|mounting)\b"
    r"|try (?:running|setting|increasing|adding)\b"
    r"|to fix this,? (?:run|set|add|increase)\b)"
)
"""A sentence that tells the operator what to do (not `HINT:` as such: PostgreSQL's
hints are mostly about where the log goes)."""
_NOT_HINTS: Final = r"(?i)\bnpm (?:notice|warn)\b|deprecat|new version|update available|--help\b"
"""Advice that is about something else: package managers' update notices, deprecations."""
HINT_LOOKBACK: Final = timedelta(minutes=10)
"""How long before a cause's first evidence a hint still counts as about it (Frigate
warns about its SHM size about a minute before it crashes)."""
_MAX_CHARS: Final = 200


def own_hints(
    logs: pl.DataFrame,
    service: str,
    since: datetime | None,
    until: datetime | None,
    *,
    redact: bool = True,
) -> str | None:
    """The first sentence of `service`'s warnings and errors between `since` (less
    HINT_LOOKBACK) and `until` that says what to do, redacted; None when none does."""
    serious = pl.col("level").is_in([Level.WARN, Level.ERROR, Level.FATAL, Level.UNKNOWN])
    window = pl.lit(True)
    if since is not None:
        window &= pl.col("ts").is_null() | (pl.col("ts") >= since - HINT_LOOKBACK)
    if until is not None:
        window &= pl.col("ts").is_null() | (pl.col("ts") <= until)
    found = (
        logs.lazy()
        .filter(
            (pl.col("service") == service)
            & serious
            & window
            & pl.col("message").str.contains(HINT)
            & ~pl.col("message").str.contains(_NOT_HINTS)
        )
        .head(1)
        .select(redact_expr("message") if redact else pl.col("message"))
        .collect()
    )
    return _sentence(found.item()) if found.height else None


def _sentence(message: str) -> str:
    """The clause of the line that holds the advice: after the last `: `, `] ` or `> `
    before it (times, levels, pids and logger names go), before a logfmt line's next
    `key=`, cut at `_MAX_CHARS`."""
    lines = pl.Series(message.splitlines() or [""])
    found = lines.str.find(HINT)
    row = found.arg_min() if found.null_count() < found.len() else 0
    line, at = lines[row or 0], found[row or 0]
    start = max(line.rfind(sep, 0, len(line) if at is None else at) for sep in _CLAUSE_STARTS)
    clause = line[start + 2 :] if start >= 0 else line
    for more in lines[(row or 0) + 1 :]:  # a sentence the application wrapped
        if clause.rstrip().endswith((".", "!", "?")) or not more.strip():
            break
        clause += " " + more
    clause = " ".join(_LOGFMT_REST.sub("", clause).split())
    return clause if len(clause) <= _MAX_CHARS else clause[: _MAX_CHARS - 1] + "…"


_CLAUSE_STARTS: Final = (": ", "] ", "> ")
_LOGFMT_REST: Final = re.compile(r"\"\s+[\w.]+=.*$")
"""`" providerName=docker` after a logfmt message: the next key, not the sentence."""
