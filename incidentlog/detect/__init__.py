"""Detect: classify failure signatures from logs, health probes and lifecycle events.

Rules are data (TOML packs in `incidentlog/rules/`, user packs via `--rules`),
validated by `load_rules` (`rules.py`), compiled once to Polars expressions
and matched by `detect_findings` (`matcher.py`); `summarize_findings`
aggregates per (service, rule); `run_detect` (`run.py`) is the one call a
command makes.
"""

from __future__ import annotations

from incidentlog.detect.matcher import (
    FINDINGS_COLUMNS,
    SUMMARY_COLUMNS,
    CompiledRules,
    compile_rules,
    could_match,
    detect_findings,
    service_of_container,
    summarize_findings,
)
from incidentlog.detect.rules import Fix, Rule, RuleSet, Source, When, check_rules, load_rules
from incidentlog.detect.run import (
    FAIL_EXIT_CODE,
    DetectResult,
    check_fail_on,
    check_rule_packs,
    fails_at,
    list_rules,
    run_detect,
)

__all__ = [
    "FAIL_EXIT_CODE",
    "FINDINGS_COLUMNS",
    "SUMMARY_COLUMNS",
    "CompiledRules",
    "DetectResult",
    "Fix",
    "Rule",
    "RuleSet",
    "Source",
    "When",
    "check_fail_on",
    "check_rule_packs",
    "check_rules",
    "compile_rules",
    "could_match",
    "detect_findings",
    "fails_at",
    "list_rules",
    "load_rules",
    "run_detect",
    "service_of_container",
    "summarize_findings",
]
