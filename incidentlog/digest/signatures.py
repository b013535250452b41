"""Signatures: what was found in a period, and whether it was seen before.

A signature is a detection finding (service + rule) or an error pattern
(service + pattern id, mined by `incidentlog.patterns` in one batch so ids
compare). New = never seen before the period (findings: in the whole
history, each whole earlier day detected once and cached in the store;
error patterns: in the `PATTERN_LOOKBACK` before it), vanished = seen in the
previous period and not in this one, movers = the largest changes of the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from incidentlog.digest.model import Signature, moved
from incidentlog.digest.period import Period
from incidentlog.redact import redact_expr
from incidentlog.schema import Level

if TYPE_CHECKING:
    from incidentlog.sources import History

__all__ = [
    "PATTERN_LOOKBACK",
    "SAMPLE_CHARS",
    "SIGNATURE_CACHE",
    "TOP_MOVERS",
    "classify_signatures",
    "error_patterns",
    "finding_signatures",
    "is_error",
    "pattern_frame",
]

TOP_MOVERS: Final = 5
SAMPLE_CHARS: Final = 300
PATTERN_LOOKBACK: Final = timedelta(days=7)
"""How far back an error pattern counts as seen before: patterns are mined in
one batch (their ids depend on it), so the batch is bounded; findings look back
over the whole history (each old day detected once, then cached)."""
SIGNATURE_CACHE: Final = "finding-signatures"
"""The store's cache (`Store.cache_dir`) of the (service, rule) pairs detection
found per whole UTC day."""

_ERROR_LEVELS: Final = [Level.ERROR.value, Level.FATAL.value]


def is_error() -> pl.Expr:
    """The record's level is error or fatal."""
    return pl.col("level").is_in(_ERROR_LEVELS)


def _sample(column: str = "message") -> pl.Expr:
    """A record in one line, redacted: its first line, and for a multi-line record
    (a traceback) ` … ` and its last line, which names the exception. Redacted whole
    before it is cut, so a secret is never shortened out of its recognisable shape."""
    lines = redact_expr(pl.col(column)).str.strip_chars_end().str.split("\n")
    first = lines.list.first().str.slice(0, SAMPLE_CHARS)
    last = lines.list.last().str.strip_chars().str.slice(0, SAMPLE_CHARS)
    joined = pl.when(lines.list.len() > 1).then(first + " … " + last).otherwise(first)
    return joined.alias(column)


def error_patterns(records: pl.DataFrame) -> pl.DataFrame:
    """`pattern_id` and `template` per record (one batch: ids compare within it)."""
    from incidentlog.patterns import mine_patterns

    return mine_patterns(records.get_column("message"))


def finding_signatures(
    logs: pl.LazyFrame,
    events: pl.DataFrame,
    period: Period,
    previous: Period,
    history_start: datetime | None,
    rule_paths: Sequence[str | Path],
    history: History,
) -> tuple[pl.DataFrame, set[tuple[str, str]]]:
    """(summary of this period's and the previous period's findings, keys seen before).

    "Seen before" looks back one UTC day at a time, newest first, and stops as
    soon as every finding of the period has been seen: memory stays that of
    one day. The hours of the period's own day run only the rules found now;
    a whole earlier day runs all rules once, and its (service, rule) pairs are
    kept in the store's `SIGNATURE_CACHE` (one file per day, valid while the
    day's store files and the rules are the same), so an hourly digest over a
    long history reads the days it already knows instead of detecting on them
    again.
    """
    from incidentlog.detect import compile_rules, detect_findings, load_rules, summarize_findings
    from incidentlog.detect.rules import RuleSet

    ruleset = load_rules(rule_paths)
    compiled = compile_rules(ruleset)

    def findings(window: Period, rules: Any = compiled) -> pl.DataFrame:
        return detect_findings(
            logs.filter(window.contains()), events.filter(window.contains()), rules
        )

    def pairs(found: pl.DataFrame) -> set[tuple[str, str]]:
        return set(found.select("service", "rule").unique().iter_rows())

    now = summarize_findings(findings(period)).with_columns(pl.lit("now").alias("_when"))
    before = summarize_findings(findings(previous)).with_columns(pl.lit("prev").alias("_when"))
    pending = set(now.select("service", "rule").iter_rows())
    seen: set[tuple[str, str]] = set()
    end = period.start
    day = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if pending and history_start is not None and end > history_start and day < end:
        rules = {rule for _, rule in pending}
        subset = RuleSet(
            rules=tuple(r for r in ruleset.rules if r.id in rules), packs=ruleset.packs
        )
        found = pairs(findings(Period(day, end), compile_rules(subset))) & pending
        seen |= found
        pending -= found
        end = day
    rules_key = hashlib.sha256(repr(ruleset.rules).encode()).hexdigest()
    while pending and history_start is not None and end > history_start:
        start = end - timedelta(days=1)
        found = _cached_day(history, Period(start, end), rules_key, lambda d: pairs(findings(d)))
        seen |= found & pending
        pending -= found
        end = start
    return pl.concat([now, before]), seen


def _cached_day(
    history: History,
    day: Period,
    rules_key: str,
    compute: Callable[[Period], set[tuple[str, str]]],
) -> set[tuple[str, str]]:
    """The (service, rule) pairs found on a whole UTC day: from the cache when
    it was made from the same store files and rules, else computed (and kept,
    when the store is writable)."""
    from incidentlog.store import DATASETS, Store

    if not isinstance(history, Store):  # the lake keeps no local cache
        return compute(day)
    name = f"{day.start:%Y-%m-%d}"
    files = [
        [f"{dataset}/{file.name}", file.stat().st_size, file.stat().st_mtime_ns]
        for dataset in DATASETS
        for file in history.day_files(dataset, name)
    ]
    key = {"rules": rules_key, "files": files}
    path = history.cache_dir(SIGNATURE_CACHE) / f"{name}.json"
    try:
        kept = json.loads(path.read_text())
        if kept["key"] == key:
            return {(service, rule) for service, rule in kept["pairs"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = compute(day)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "pairs": sorted(found)}))
        temporary.replace(path)
    except OSError:  # a read-only store: no cache, same answer
        pass
    return found


def pattern_frame(logs: pl.LazyFrame, period: Period, previous: Period) -> pl.DataFrame:
    """Per (service, pattern): counts now, before, before the period, first seen, a sample."""
    start = min(previous.start, period.start - PATTERN_LOOKBACK)
    errors = (
        logs.filter(is_error() & (pl.col("ts") >= start) & (pl.col("ts") < period.end))
        .select("ts", "seq", "service", "message")
        .collect()
    )
    if errors.is_empty():
        return pl.DataFrame(
            schema={
                "service": pl.String,
                "pattern_id": pl.String,
                "template": pl.String,
                "count": pl.UInt32,
                "count_previous": pl.UInt32,
                "count_before": pl.UInt32,
                "first_seen": errors.schema["ts"],
                "last_seen": errors.schema["ts"],
                "sample": pl.String,
            }
        )
    mined = pl.concat([errors, error_patterns(errors)], how="horizontal")
    now = period.contains()
    return (
        mined.sort("ts", "seq")
        .group_by("service", "pattern_id")
        .agg(
            pl.col("template").first(),
            now.sum().cast(pl.UInt32).alias("count"),
            previous.contains().sum().cast(pl.UInt32).alias("count_previous"),
            (pl.col("ts") < period.start).sum().cast(pl.UInt32).alias("count_before"),
            pl.col("ts").filter(now).min().alias("first_seen"),
            pl.col("ts").filter(now).max().alias("last_seen"),
            pl.col("message").filter(now).first().alias("sample"),
        )
        .with_columns(_sample("sample"), redact_expr("template"))
    )


def classify_signatures(
    findings: pl.DataFrame, seen_findings: set[tuple[str, str]], patterns: pl.DataFrame
) -> tuple[tuple[Signature, ...], tuple[Signature, ...], tuple[Signature, ...]]:
    """(new, vanished, top movers) over findings and error patterns."""
    table = (
        findings.group_by("service", "rule")
        .agg(
            pl.col("count").filter(pl.col("_when") == "now").sum().alias("count"),
            pl.col("count").filter(pl.col("_when") == "prev").sum().alias("count_previous"),
            pl.col("category").first(),
            pl.col("severity").cast(pl.String).first(),
            pl.col("title").first(),
            pl.col("first_seen").filter(pl.col("_when") == "now").min(),
            pl.col("evidence").sort_by(pl.col("_when") != "now").first().alias("sample"),
            (pl.col("source") == "events").all().alias("_state"),
        )
        .with_columns(_sample("sample"))
        .sort("service", "rule")
    )
    new: list[Signature] = []
    vanished: list[Signature] = []
    movers: list[Signature] = []
    for r in table.iter_rows(named=True):
        sig = Signature(
            kind="finding",
            service=r["service"],
            id=r["rule"],
            title=r["title"],
            category=r["category"],
            severity=r["severity"],
            count=int(r["count"]),
            count_previous=int(r["count_previous"]),
            first_seen=r["first_seen"],
            sample=r["sample"] or "",
        )
        if r["_state"] and sig.count == 0:
            continue  # a state change (unhealthy, a die) is not repeated while the state lasts
        _classify(sig, (sig.service, sig.id) in seen_findings, new, vanished, movers)
    for r in patterns.sort("service", "pattern_id").iter_rows(named=True):
        sig = Signature(
            kind="pattern",
            service=r["service"],
            id=r["pattern_id"],
            title=r["template"],
            category=None,
            severity=None,
            count=int(r["count"]),
            count_previous=int(r["count_previous"]),
            first_seen=r["first_seen"],
            sample=r["sample"] or "",
        )
        _classify(sig, r["count_before"] > 0, new, vanished, movers)
    movers.sort(key=lambda s: (-abs(s.delta), s.service, s.id))
    return tuple(new), tuple(vanished), tuple(movers[:TOP_MOVERS])


def _classify(
    sig: Signature,
    seen_before: bool,
    new: list[Signature],
    vanished: list[Signature],
    movers: list[Signature],
) -> None:
    if sig.count > 0 and not seen_before:
        new.append(sig)
    elif sig.count == 0 and sig.count_previous > 0:
        vanished.append(sig)
    elif moved(sig.count, sig.count_previous):
        movers.append(sig)
