"""What `incidentlog detect` and `incidentlog rules list|check` do, as library calls.

The CLI only parses options (times into datetimes), calls these, prints the
text they return and exits with the code they say.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from incidentlog.detect.matcher import detect_findings, summarize_findings
from incidentlog.detect.rules import RuleSet, check_rules, load_rules
from incidentlog.errors import UsageError
from incidentlog.schema import Severity
from incidentlog.timespec import within_window

__all__ = [
    "FAIL_EXIT_CODE",
    "DetectResult",
    "UsageError",
    "check_options",
    "detect_jsonl",
    "detect_text",
    "fails_at",
    "list_rules",
    "list_rules_text",
    "run_detect",
    "run_rules_check",
]

FAIL_EXIT_CODE = 3
"""Exit code of `detect --fail-on` when a finding reaches that severity."""

_SEVERITY_ORDER = list(Severity)


@dataclass(frozen=True)
class DetectResult:
    findings: pl.DataFrame
    """One row per (record, rule) match: matcher.FINDINGS_COLUMNS."""
    summary: pl.DataFrame
    """One row per (service, rule): matcher.SUMMARY_COLUMNS, most severe first."""
    records: int
    events: int


def _from_store(
    store: str | Path | None, since: datetime | None, until: datetime | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    from incidentlog.store import Store

    history = Store.open(Path(store) if store is not None else None)
    logs = history.scan("logs", since=since, until=until).collect()
    events = history.scan("events", since=since, until=until).collect()
    return logs, events


def run_detect(
    paths: Sequence[str | Path] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: Sequence[str] = (),
    rule_paths: Sequence[str | Path] = (),
    store: str | Path | None = None,
    service_hint: str | None = None,
    project: str | None = None,
    rules: RuleSet | None = None,
) -> DetectResult:
    """Findings from files (ingested on the fly; also stored when `store` is given) or,
    without paths, from the history store (`store`, or the default one).

    `services` keeps findings about those services only (attribution first, so a
    watcher line about `frontend` counts for `frontend`). `service_hint` names
    the service of input that carries no compose prefix.
    """
    ruleset = rules if rules is not None else load_rules(rule_paths)
    if paths:
        from incidentlog.ingest import read_inputs

        result = read_inputs(list(paths), service=service_hint, project=project)
        logs, events = result.logs, result.events
        if store is not None:
            from incidentlog.store import Store

            Store.open(Path(store), create=True).append([("logs", logs), ("events", events)])
    else:
        logs, events = _from_store(store, since, until)
    logs = within_window(logs, since, until)
    events = within_window(events, since, until)
    findings = detect_findings(logs, events, ruleset, projects=[project] if project else [])
    if services:
        findings = findings.filter(pl.col("service").is_in(list(services)))
    return DetectResult(
        findings=findings,
        summary=summarize_findings(findings),
        records=logs.height,
        events=events.height,
    )


def check_options(fmt: str, fail_on: str | None) -> None:
    """Reject an unknown --format or --fail-on before any work is done."""
    if fmt not in ("text", "jsonl"):
        raise UsageError(f"--format {fmt!r} is not supported by detect (allowed: text, jsonl)")
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


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value.isoformat().replace("+00:00", "Z")


def summary_records(summary: pl.DataFrame) -> list[dict[str, Any]]:
    """The JSONL objects of issue 3, one per (service, rule), in summary order."""
    rows: list[dict[str, Any]] = []
    for row in summary.iter_rows(named=True):
        rows.append(
            {
                "service": row["service"],
                "category": row["category"],
                "rule": row["rule"],
                "severity": row["severity"],
                "count": row["count"],
                "first_seen": _iso(row["first_seen"]),
                "last_seen": _iso(row["last_seen"]),
                "containers": row["containers"],
                "fields": json.loads(row["fields"]),
                "evidence": row["evidence"],
                "title": row["title"],
                "remediation": row["remediation"],
                "fix": row["fix"],
                "transient": row["transient"],
                "source": row["source"],
            }
        )
    return rows


def detect_jsonl(summary: pl.DataFrame) -> str:
    """`--format jsonl`: one JSON object per line, newline-terminated ("" when none)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in summary_records(summary))


def detect_text(summary: pl.DataFrame) -> str:
    """`--format text`: findings grouped by service, services and findings most severe first."""
    if summary.is_empty():
        return "No findings.\n"
    worst = (
        summary.group_by("service")
        .agg(
            pl.col("severity").to_physical().max().alias("_worst"),
            pl.col("count").sum().alias("_total"),
        )
        .sort("_worst", "_total", "service", descending=[True, True, False])
    )
    lines: list[str] = []
    records = summary_records(summary)
    for service in worst.get_column("service").to_list():
        lines.append(f"{service}")
        for rec in records:
            if rec["service"] != service:
                continue
            when = rec["first_seen"] or "no time"
            if rec["last_seen"] and rec["last_seen"] != rec["first_seen"]:
                when = f"{rec['first_seen']} .. {rec['last_seen']}"
            transient = ", transient" if rec["transient"] else ""
            lines.append(
                f"  {rec['severity'].upper():<8} {rec['category']}: {rec['title']}"
                f"  [{rec['rule']}, {rec['count']}x{transient}, {when}]"
            )
            evidence = rec["evidence"].splitlines()
            if evidence:
                shown = (
                    evidence[0]
                    if len(evidence) == 1
                    else f"{evidence[0]} (+{len(evidence) - 1} lines)"
                )
                lines.append(f"      evidence: {shown[:300]}")
            lines.append(f"      fix ({rec['fix']}): {rec['remediation']}")
        lines.append("")
    return "\n".join(lines)


def list_rules(rule_paths: Sequence[str | Path] = ()) -> pl.DataFrame:
    """Every loaded rule: id, pack, category, severity, source, fix, title."""
    ruleset = load_rules(rule_paths)
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
        schema={
            "id": pl.String,
            "pack": pl.String,
            "category": pl.String,
            "severity": pl.String,
            "source": pl.String,
            "fix": pl.String,
            "title": pl.String,
        },
        orient="row",
    )


def list_rules_text(rule_paths: Sequence[str | Path] = ()) -> str:
    frame = list_rules(rule_paths)
    lines = [
        f"{r['id']:<48} {r['category']:<20} {r['severity']:<8} {r['source']:<6} {r['fix']}"
        for r in frame.iter_rows(named=True)
    ]
    return "\n".join(lines) + f"\n{frame.height} rules\n"


def run_rules_check(paths: Sequence[str | Path]) -> tuple[str, int]:
    """(text, exit code) of `incidentlog rules check PATH...`: every problem, or OK."""
    problems = check_rules(paths)
    if problems:
        return "".join(f"{p}\n" for p in problems), 1
    ruleset = load_rules(paths)
    return f"OK: {len(ruleset)} rules in {len(ruleset.packs)} packs\n", 0
