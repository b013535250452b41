"""Patterns: message templates with stable ids, so unknown errors group themselves."""

from incidentlog.patterns.mining import (
    MASKS,
    PATTERN_COLUMNS,
    REDACTION_HINTS,
    SUMMARY_COLUMNS,
    WILDCARD,
    mask_expr,
    masked_texts,
    merge_templates,
    mine_patterns,
    pattern_id,
    redact_hinted,
    summarize_patterns,
    template_table,
)

__all__ = [
    "MASKS",
    "PATTERN_COLUMNS",
    "REDACTION_HINTS",
    "SUMMARY_COLUMNS",
    "WILDCARD",
    "mask_expr",
    "masked_texts",
    "merge_templates",
    "mine_patterns",
    "pattern_id",
    "redact_hinted",
    "summarize_patterns",
    "template_table",
]
