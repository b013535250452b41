"""Detection as one call: findings of an evidence source, and the rule-pack listings.

`incidentlog detect` and `incidentlog rules list|check` call these; the text
and JSON views are in `incidentlog.render.findings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from incidentlog.detect.matcher import detect_findings, summarize_findings
from incidentlog.detect.rules import RuleSet, check_rules, load_rules
from incidentlog.errors import UsageError
from incidentlog.progress import step
from incidentlog.schema import Severity
from incidentlog.sources import EvidenceSource

__all__ = [
    "FAIL_EXIT_CODE",
    "DetectResult",
    "check_fail_on",
    "check_rule_packs",
    "fails_at",
    "list_rules",
    "run_detect",
]

FAIL_EXIT_CODE: Final = 3
"""Exit code of `detect --fail-on` when a finding reaches that severity."""

_SEVERITY_ORDER: Final = list(Severity)


@dataclass(frozen=True)
class DetectResult:
    findings: pl.DataFrame
    """One row per (record, rule) match: matcher.FINDINGS_COLUMNS."""
    summary: pl.DataFrame
    """One row per (service, rule): matcher.SUMMARY_COLUMNS, most severe first."""
    records: int
    events: int


def run_detect(
    source: EvidenceSource, *, redact: bool = True, rules: RuleSet | None = None
) -> DetectResult:
    """Findings of the source's records and events with its rules (or `rules`).

    The source's services select *findings* (attribution first, so a watcher
    line about `frontend` counts for `frontend`), not the records read.
    """
    step("reading the evidence")
    logs = source.logs(select=False).collect()
    events = source.events().collect()
    project = source.request.project
    ruleset = rules if rules is not None else source.ruleset
    findings = detect_findings(logs, events, ruleset, projects=[project] if project else [])
    services = source.services()
    if services is not None:
        findings = findings.filter(pl.col("service").is_in(services))
    return DetectResult(
        findings=findings,
        summary=summarize_findings(findings, redact=redact),
        records=logs.height,
        events=events.height,
    )


def check_fail_on(fail_on: str | None) -> None:
    """Reject a `--fail-on` that is not a severity, before any work is done."""
    if fail_on is not None and fail_on not in set(Severity):
        allowed = ", ".join(s.value for s in Severity)
        raise UsageError(f"--fail-on {fail_on!r} is not a severity (allowed: {allowed})")


def fails_at(summary: pl.DataFrame, threshold: Severity | str | None) -> bool:
    """True when a finding reaches `threshold` (the `--fail-on` test)."""
    if threshold is None or summary.is_empty():
        return False
    level = _SEVERITY_ORDER.index(Severity(threshold))
    worst = summary.get_column("severity").to_physical().max()
    return worst is not None and int(worst) >= level  # type: ignore[arg-type]


def list_rules(rule_paths: Sequence[str | Path] = ()) -> pl.DataFrame:
    """Every loaded rule: id, pack, category, severity, source, fix, title."""
    ruleset = load_rules(rule_paths)
    schema = {
        name: pl.String for name in ("id", "pack", "category", "severity", "source", "fix", "title")
    }
    return pl.DataFrame(
        [
            {
                "id": r.id,
                "pack": r.pack,
                "category": r.category.value,
                "severity": r.severity.value,
                "source": r.source.value,
                "fix": r.fix.value,
                "title": r.title,
            }
            for r in ruleset.rules
        ],
        schema=schema,
        orient="row",
    )


def check_rule_packs(paths: Sequence[str | Path]) -> tuple[list[str], RuleSet | None]:
    """(every problem with file and rule id, the rules when there is none)."""
    problems = check_rules(paths)
    if problems:
        return list(problems), None
    return [], load_rules(paths)
