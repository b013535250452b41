"""Detection findings and rule listings as text people read, JSON and JSON Lines.

Text shows every value on its line with control characters made visible
(`redact.one_line`); JSON keeps the exact values, escaped (`redact.json_safe`).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from incidentlog.redact import json_safe, one_line
from incidentlog.text import iso

__all__ = [
    "detect_json",
    "detect_jsonl",
    "detect_text",
    "rules_json",
    "rules_text",
    "summary_records",
]

EVIDENCE_CHARS = 300


def summary_records(summary: pl.DataFrame) -> list[dict[str, Any]]:
    """One JSON object per (service, rule), in summary order."""
    rows: list[dict[str, Any]] = []
    for row in summary.iter_rows(named=True):
        rows.append(
            {
                "service": row["service"],
                "category": row["category"],
                "rule": row["rule"],
                "severity": row["severity"],
                "count": row["count"],
                "first_seen": iso(row["first_seen"]),
                "last_seen": iso(row["last_seen"]),
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
    return json_safe(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in summary_records(summary))
    )


def detect_json(summary: pl.DataFrame) -> str:
    """`--format json`: the same objects as one JSON array."""
    return json_safe(json.dumps(summary_records(summary), indent=2, ensure_ascii=False) + "\n")


def _when(rec: dict[str, Any]) -> str:
    when = rec["first_seen"] or "no time"
    if rec["last_seen"] and rec["last_seen"] != rec["first_seen"]:
        when = f"{rec['first_seen']} .. {rec['last_seen']}"
    return str(when)


def _finding_lines(rec: dict[str, Any]) -> list[str]:
    transient = ", transient" if rec["transient"] else ""
    lines = [
        f"  {rec['severity'].upper():<8} {one_line(rec['category'])}: {one_line(rec['title'])}"
        f"  [{one_line(rec['rule'])}, {rec['count']}x{transient}, {_when(rec)}]"
    ]
    evidence = rec["evidence"].split("\n")
    if rec["evidence"]:
        first = one_line(evidence[0])[:EVIDENCE_CHARS]
        shown = first if len(evidence) == 1 else f"{first} (+{len(evidence) - 1} lines)"
        lines.append(f"      evidence: {shown}")
    lines.append(f"      fix ({one_line(rec['fix'])}): {one_line(rec['remediation'])}")
    return lines


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
    records = summary_records(summary)
    lines: list[str] = []
    for service in worst.get_column("service").to_list():
        lines.append(one_line(service))
        for rec in records:
            if rec["service"] == service:
                lines.extend(_finding_lines(rec))
        lines.append("")
    return "\n".join(lines)


def rules_text(rules: pl.DataFrame) -> str:
    """`rules list`: one rule per line, then the count."""
    lines = [
        f"{one_line(r['id']):<48} {one_line(r['category']):<20} {r['severity']:<8} "
        f"{one_line(r['source']):<6} {one_line(r['fix'])}"
        for r in rules.iter_rows(named=True)
    ]
    return "\n".join(lines) + f"\n{rules.height} rules\n"


def rules_json(rules: pl.DataFrame) -> str:
    """`rules list --format json`: every rule as an object."""
    return json_safe(json.dumps(rules.to_dicts(), indent=2, ensure_ascii=False) + "\n")
