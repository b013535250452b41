"""Mask secrets in log text before it is shown as evidence or written to a report.

One Polars expression (`redact_expr`) chains `str.replace_all` over a fixed
list of Rust-syntax regexes; `redact` applies the same expression to one
string so both paths can never disagree.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["MASK", "REDACTIONS", "redact", "redact_expr"]

MASK: Final = "***"

_KEYWORDS: Final = (
    r"api[_-]?key|apikey|access[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token"
    r"|token|secret|client[_-]?secret|password|passwd|pwd"
    r"|secret[_-]?key(?:[_-]?base)?|(?:encryption|signing|master|private)[_-]?key"
)
"""Names of settings that hold a secret (`DJANGO_SECRET_KEY`, `SECRET_KEY_BASE`,
`jwt_secret`, ...), with any prefix; a `secret_name` is not one."""

REDACTIONS: Final[tuple[tuple[str, str, str], ...]] = (
    # (name, Rust regex, replacement); order matters: blocks and tokens first.
    (
        "private-key",
        r"(?s)(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(?:(-----END [A-Z0-9 ]*PRIVATE KEY-----)|\z)",
        "${1}" + MASK + "${2}",
    ),
    ("jwt", r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", MASK),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", MASK),
    (
        "aws-secret-key",
        r"(?i)(aws_?secret_?access_?key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40}",
        "${1}" + MASK,
    ),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})", MASK),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", MASK),
    ("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", MASK),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}", MASK),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", MASK),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}", MASK),
    (
        "curl-user",
        r"(\bcurl\b[^\n]*?\s(?:-u|--user)\s*[\"']?[^:\s\"']+:)[^\s\"']+",
        "${1}" + MASK,
    ),
    ("url-password", r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", "${1}" + MASK + "@"),
    (
        "authorization-header",
        r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
        r"[^\s\"',;]+",
        "${1}" + MASK,
    ),
    ("bearer-token", r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{16,}=*", "${1}" + MASK),
    (
        "key-value-secret",
        r"(?i)([A-Za-z0-9_.-]*(?:"
        + _KEYWORDS
        + r")[\"']?\s*[=:]\s*[\"']?)(?:\*\*\*|[^\s&,;\"'*][^\s&,;\"']*)",
        "${1}" + MASK,
    ),
)


def redact_expr(column: str | pl.Expr = "message") -> pl.Expr:
    """`column` with every secret masked as `***` (keeps its output name)."""
    expr = pl.col(column) if isinstance(column, str) else column
    for _name, pattern, replacement in REDACTIONS:
        expr = expr.str.replace_all(pattern, replacement)
    return expr


def redact(text: str) -> str:
    """`text` with every secret masked, through the same expression as `redact_expr`."""
    frame = pl.DataFrame({"text": [text]}, schema={"text": pl.String})
    value = frame.select(redact_expr("text")).item()
    return str(value)
