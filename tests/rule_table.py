"""Rule tables: realistic lines and near misses, each with the rule it must (or must not)
find and the fields it must extract, all read through ingest and detect at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.ingest import read_inputs

Found = dict[str, list[tuple[str, dict[str, str]]]]
"""Per row's service (`s<index>`): the (rule, fields) of each finding."""


class Row(NamedTuple):
    name: str
    text: str
    rule: str | None
    fields: dict[str, str]


def row(label: str, text: str, rule: str | None, /, **fields: str) -> Row:
    return Row(label, text, rule, fields)


def findings_by_row(rows: list[Row], folder: Path) -> Found:
    """Every row's lines as its own service's (`s<index>-1`), dated apart, read and
    detected together."""
    path = folder / "compose.log"
    lines = []
    for n, r in enumerate(rows):
        for i, line in enumerate(r.text.split("\n")):
            lines.append(f"s{n}-1  | 2026-01-01T00:{n // 60:02d}:{n % 60:02d}.{i:06d}Z {line}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingested = read_inputs([str(path)])
    findings = detect_findings(ingested.logs, ingested.events, compile_rules(load_rules()))
    out: Found = {}
    for service, rule, fields in findings.select("service", "rule", "fields").iter_rows():
        out.setdefault(service, []).append((rule, json.loads(fields or "{}")))
    return out


def check_row(rows: list[Row], index: int, found: Found, rules: set[str]) -> None:
    """Row `index` found its rule alone among `rules`, with its fields (a near miss: none)."""
    r = rows[index]
    got = [(rule, f) for rule, f in found.get(f"s{index}", []) if rule in rules]
    if r.rule is None:
        assert not got, f"{r.name}: expected none of {rules}, got {got}"
        return
    assert {rule for rule, _ in got} == {r.rule}, f"{r.name}: expected {r.rule}, got {got}"
    fields = [f for rule, f in got if rule == r.rule]
    assert any(all(f.get(k) == v for k, v in r.fields.items()) for f in fields), (r.name, fields)
