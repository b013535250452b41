"""Score the built-in rule packs on the labelled corpus in tests/corpus/.

Each case directory holds a `docker compose logs` excerpt (`compose.log`),
optionally `events.jsonl` (docker events), `inspect.json` (docker inspect),
compose files and more logs, a `README.md` saying what real situation it
mimics, and `expected.toml`: the (service, category) pairs the case must
produce (`[[expect]]`, with optional `fields`), or `clean = true`.

The real pipeline runs on every case, read as an evidence folder
(`read_inputs([folder])` -> `detect_findings`), and
precision/recall are computed per category over (case, service, category)
triples. Run it to print the Markdown table used in the README:

    python benchmarks/score_corpus.py [--details]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.detect.matcher import CompiledRules
from incidentlog.ingest import read_inputs
from incidentlog.schema import Category

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
INPUT_FILES = ("compose.log", "events.jsonl", "inspect.json")

Pair = tuple[str, str]
"""(service, category)."""


@dataclass(frozen=True)
class Expectation:
    service: str
    category: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    description: str
    clean: bool
    expect: tuple[Expectation, ...]

    @property
    def pairs(self) -> set[Pair]:
        return {(e.service, e.category) for e in self.expect}

    @property
    def inputs(self) -> list[str]:
        return [str(self.path / n) for n in INPUT_FILES if (self.path / n).exists()]


@dataclass
class CaseResult:
    case: Case
    predicted: set[Pair]
    fields: dict[Pair, list[dict[str, str]]]
    """Every fields object the findings of that (service, category) carried."""

    @property
    def missed(self) -> set[Pair]:
        return self.case.pairs - self.predicted

    @property
    def spurious(self) -> set[Pair]:
        return self.predicted - self.case.pairs

    @property
    def wrong_fields(self) -> list[str]:
        problems = []
        for e in self.case.expect:
            if not e.fields or (e.service, e.category) not in self.predicted:
                continue
            seen = self.fields.get((e.service, e.category), [])
            if not any(all(f.get(k) == v for k, v in e.fields.items()) for f in seen):
                problems.append(f"{e.service}/{e.category}: expected {e.fields}, got {seen}")
        return problems


@dataclass(frozen=True)
class Score:
    category: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_cases(root: Path = CORPUS) -> list[Case]:
    cases = []
    for path in sorted(p for p in root.iterdir() if (p / "expected.toml").is_file()):
        data = tomllib.loads((path / "expected.toml").read_text(encoding="utf-8"))
        expect = tuple(
            Expectation(
                e["service"], e["category"], {k: str(v) for k, v in e.get("fields", {}).items()}
            )
            for e in data.get("expect", [])
        )
        cases.append(
            Case(path.name, path, data.get("description", ""), bool(data.get("clean")), expect)
        )
    return cases


def run_case(case: Case, rules: CompiledRules) -> CaseResult:
    # the case folder is read as the evidence folder people collect: logs, events,
    # inspect and compose files are used; README.md and expected.toml are skipped
    ingested = read_inputs([case.path])
    findings = detect_findings(ingested.logs, ingested.events, rules)
    predicted: set[Pair] = set()
    fields: dict[Pair, list[dict[str, str]]] = {}
    for row in findings.select("service", "category", "fields").iter_rows(named=True):
        pair = (row["service"], row["category"])
        predicted.add(pair)
        fields.setdefault(pair, []).append(
            {k: str(v) for k, v in json.loads(row["fields"] or "{}").items()}
        )
    return CaseResult(case, predicted, fields)


def run_corpus(cases: Iterable[Case] | None = None) -> list[CaseResult]:
    compiled = compile_rules(load_rules())
    return [run_case(c, compiled) for c in (load_cases() if cases is None else cases)]


def score(results: Sequence[CaseResult]) -> tuple[list[Score], Score]:
    """Per-category scores (every taxonomy id, in taxonomy order) and the overall one."""
    counts = {c.value: [0, 0, 0] for c in Category}
    for r in results:
        for _, cat in r.predicted & r.case.pairs:
            counts.setdefault(cat, [0, 0, 0])[0] += 1
        for _, cat in r.spurious:
            counts.setdefault(cat, [0, 0, 0])[1] += 1
        for _, cat in r.missed:
            counts.setdefault(cat, [0, 0, 0])[2] += 1
    per = [Score(cat, *v) for cat, v in counts.items()]
    total = Score("overall", *(sum(s[i] for s in counts.values()) for i in range(3)))
    return per, total


def markdown_table(per: Sequence[Score], total: Score) -> str:
    rows = [
        "| category | expected | found | false positives | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in [*per, total]:
        name = f"**{s.category}**" if s is total else f"`{s.category}`"
        rows.append(
            f"| {name} | {s.tp + s.fn} | {s.tp} | {s.fp} | {s.precision:.3f} | {s.recall:.3f} |"
        )
    return "\n".join(rows)


def confusion(results: Sequence[CaseResult]) -> list[str]:
    lines = []
    for r in results:
        for pair in sorted(r.missed):
            lines.append(f"{r.case.name}: missed {pair[0]}/{pair[1]}")
        for pair in sorted(r.spurious):
            lines.append(f"{r.case.name}: spurious {pair[0]}/{pair[1]}")
        for problem in r.wrong_fields:
            lines.append(f"{r.case.name}: fields {problem}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every miss and false positive")
    args = parser.parse_args(argv)
    pl.Config.set_tbl_rows(-1)
    results = run_corpus()
    per, total = score(results)
    clean = sum(1 for r in results if r.case.clean)
    print(f"{len(results)} cases ({clean} clean), {total.tp + total.fn} expected findings\n")
    print(markdown_table(per, total))
    if args.details:
        print()
        print("\n".join(confusion(results)) or "no misses, no false positives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
