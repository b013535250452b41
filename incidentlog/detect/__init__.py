"""Detect: classify failure signatures from logs, health probes and lifecycle events.

Rules are data (TOML packs in `incidentlog/rules/`, user packs via `--rules`),
validated by `load_rules`, compiled once to Polars expressions and matched by
`detect_findings`; `summarize_findings` aggregates per (service, rule).
"""

from __future__ import annotations

from incidentlog.detect.command import (
    detect_jsonl,
    detect_text,
    fails_at,
    list_rules,
    run_detect,
    run_rules_check,
)
from incidentlog.detect.matcher import (
    FINDINGS_COLUMNS,
    SUMMARY_COLUMNS,
    CompiledRules,
    compile_rules,
    detect_findings,
    service_of_container,
    summarize_findings,
)
from incidentlog.detect.rules import Fix, Rule, RuleSet, Source, When, check_rules, load_rules

__all__ = [
    "FINDINGS_COLUMNS",
    "SUMMARY_COLUMNS",
    "CompiledRules",
    "Fix",
    "Rule",
    "RuleSet",
    "Source",
    "When",
    "check_rules",
    "compile_rules",
    "detect_findings",
    "detect_jsonl",
    "detect_text",
    "fails_at",
    "list_rules",
    "load_rules",
    "run_detect",
    "run_rules_check",
    "service_of_container",
    "summarize_findings",
]
