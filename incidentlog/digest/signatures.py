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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from incidentlog.digest.model import Signature, moved
from incidentlog.digest.period import Period
from incidentlog.redact import redact_expr
from incidentlog.schema import TS_DTYPE, Category, EventAction, Level

if TYPE_CHECKING:
    from incidentlog.sources import History
    from incidentlog.store import Store

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
SUMMARY_CACHE: Final = "finding-summaries"
"""The store's cache of the findings summary of whole UTC hours."""
TEMPLATE_CACHE: Final = "pattern-templates-1"
"""The store's cache of the error-pattern templates of a digest's batch (the number
is the format's: bump it when template mining changes)."""
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
    logs: pl.LazyFrame | Callable[[Period], pl.LazyFrame],
    events: pl.DataFrame,
    period: Period,
    previous: Period,
    history_start: datetime | None,
    rule_paths: Sequence[str | Path],
    history: History,
    hour_files: Callable[[Period], list[str]] | None = None,
) -> tuple[pl.DataFrame, set[tuple[str, str]]]:
    """(summary of this period's and the previous period's findings, keys seen before).

    `logs` is the store's records, or a function giving a window's (pruned) scan.
    "Seen before" looks back one UTC day at a time, newest first, and stops as
    soon as every finding of the period has been seen: memory stays that of
    one day. The hours of the period's own day run only the rules found now;
    a whole earlier day runs all rules once, and its (service, rule) pairs are
    kept in the store's `SIGNATURE_CACHE` (one file per day, valid while the
    day's store files and the rule packs are the same), so an hourly digest
    over a long history reads the days it already knows instead of detecting
    on them again. The summaries of whole hours (`hour_files` names the store
    files holding an hour's records) are kept too: an hourly digest's period
    is the next one's previous period.
    """
    from incidentlog.detect.rules import rule_sources_key

    rules_key = rule_sources_key(rule_paths)
    detector = _Detector(logs, events, rule_paths)
    files = hour_files if hour_files is not None else (lambda window: None)
    found_now = _summary(history, period, rules_key, files(period), detector)
    found_before = _summary(history, previous, rules_key, files(previous), detector)
    now = found_now.with_columns(pl.lit("now").alias("_when"))
    before = found_before.with_columns(pl.lit("prev").alias("_when"))
    pending = set(now.select("service", "rule").iter_rows())
    seen: set[tuple[str, str]] = set()
    end = period.start
    day = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if pending and history_start is not None and end > history_start and day < end:
        found = _cached_part_day(history, Period(day, end), rules_key, pending, detector)
        seen |= found
        pending -= found
        end = day
    categories = dict(zip(now.get_column("rule"), now.get_column("category"), strict=True))
    while pending and history_start is not None and end > history_start:
        start = end - _DAY
        rules = frozenset(rule for _, rule in pending)
        alone = not {categories.get(rule) for rule in rules} & _WITH_OTHER_RULES
        found = _cached_day(
            history,
            Period(start, end),
            rules_key,
            detector.pairs,
            possible=partial(detector.may_find, rules=rules),
            only=(
                partial(_rules_day, history, rules_key, frozenset(pending), detector)
                if alone
                else None
            ),
        )
        seen |= found & pending
        pending -= found
        end = start
    return pl.concat([now, before]), seen


class _Detector:
    """Detection over windows of the digest's records, the rules loaded at first use
    (a digest whose detections are all cached never compiles them)."""

    def __init__(
        self,
        logs: pl.LazyFrame | Callable[[Period], pl.LazyFrame],
        events: pl.DataFrame,
        rule_paths: Sequence[str | Path],
    ) -> None:
        self.logs = logs
        """The records, or a function giving those of a window (a pruned scan)."""
        self.events = events
        self.rule_paths = rule_paths
        self._ruleset: Any = None
        self._compiled: Any = None

    def findings(
        self,
        window: Period,
        rules: frozenset[str] | None = None,
        services: frozenset[str] | None = None,
    ) -> pl.DataFrame:
        """Findings of `window` with every rule, or with the rules of ids `rules`; over the
        records and events of `services` only, when given (for `per_container` rules)."""
        from incidentlog.detect import compile_rules, detect_findings
        from incidentlog.detect.rules import RuleSet

        ruleset = self._rules()
        if rules is None:
            if self._compiled is None:
                self._compiled = compile_rules(ruleset)
            compiled = self._compiled
        else:
            kept = tuple(r for r in ruleset.rules if r.id in rules)
            compiled = compile_rules(RuleSet(rules=kept, packs=ruleset.packs))
        logs = self.logs if isinstance(self.logs, pl.LazyFrame) else self.logs(window)
        within = window.contains()
        if services is not None:
            within = within & pl.col("service").is_in(sorted(services))
        records = logs.filter(within)
        if window.length <= _READ_FIRST:
            records = records.collect().lazy()
        return detect_findings(records, self.events.filter(within), compiled)

    def per_container(self, rule: str) -> bool:
        """Whether `rule`'s findings of a service come from that service's own records and
        events alone (the banner-repeats inference: a container's first line repeating), so
        detection may read only the services asked about."""
        from incidentlog.detect import Source

        found = self._rules().get(rule)
        return (
            found is not None
            and found.source is Source.INFERRED
            and found.infer == ("banner-repeats")
        )

    def may_find(self, window: Period, rules: frozenset[str]) -> bool:
        """Whether detection over `window` could find any of `rules`: False only when they
        are all text rules and no message and no probe output of the window holds what
        each of their matches must (a literal of the rule): a whole day skipped for a
        scan of its messages (0.1-0.2 s against 1.3 s of detection per million)."""
        from incidentlog.detect import Source, could_match

        chosen = [r for r in self._rules().rules if r.id in rules]
        if len(chosen) < len(rules) or any(r.source is not Source.LOGS for r in chosen):
            return True
        test = could_match(chosen)
        logs = self.logs if isinstance(self.logs, pl.LazyFrame) else self.logs(window)
        held = logs.filter(window.contains() & test).select(pl.len()).collect().item()
        probes = self.events.filter(
            window.contains()
            & pl.col("action").is_in([EventAction.PROBE.value, EventAction.HEALTH_STATUS.value])
            & pl.col("output").is_not_null()
        )
        return (
            bool(held)
            or not probes.select(pl.col("output").alias("message")).filter(test).is_empty()
        )

    def _rules(self) -> Any:
        """The rule set, loaded at first use; without the `unrecognized-errors` inference,
        whose repeating error lines are the digest's own error patterns already."""
        from incidentlog.detect import load_rules

        if self._ruleset is None:
            loaded = load_rules(self.rule_paths)
            kept = tuple(r for r in loaded.rules if r.infer != "unrecognized-errors")
            self._ruleset = replace(loaded, rules=kept)
        return self._ruleset

    def event_ids(self, window: Period) -> str:
        """The window's events, by their content ids: what its detection reads of the
        events (new events of a later hour leave an hour's findings as they were)."""
        ids = self.events.filter(window.contains()).get_column("id").sort()
        return hashlib.sha256(
            ids.cast(pl.String).fill_null("").str.join(",").item().encode()
        ).hexdigest()

    def summary(self, window: Period) -> pl.DataFrame:
        from incidentlog.detect import summarize_findings

        return summarize_findings(self.findings(window))

    def pairs(
        self,
        window: Period,
        rules: frozenset[str] | None = None,
        services: frozenset[str] | None = None,
    ) -> set[tuple[str, str]]:
        found = self.findings(window, rules, services)
        return set(found.select("service", "rule").unique().iter_rows())


def _summary(
    history: History,
    window: Period,
    rules_key: str,
    hour_files: list[str] | None,
    detector: _Detector,
) -> pl.DataFrame:
    """The findings summary of `window`; of a whole UTC hour whose store files are
    known (`hour_files`), kept in the store's `SUMMARY_CACHE` (an hourly digest's
    period is the next one's previous period)."""
    from incidentlog.store import Store

    whole_hour = window.length == _HOUR and not (window.start.minute or window.start.second)
    if hour_files is None or not whole_hour or not isinstance(history, Store):
        return detector.summary(window)
    key = json.dumps({"rules": rules_key, "logs": hour_files, "events": detector.event_ids(window)})
    return _kept_frame(
        history.cache_dir(SUMMARY_CACHE),
        f"{window.start:%Y-%m-%dT%H}",
        key,
        partial(detector.summary, window),
    )


def _kept_frame(
    folder: Path, name: str, key: str, make: Callable[[], pl.DataFrame]
) -> pl.DataFrame:
    """The frame kept in `folder` as `name` for `key`, else `make()`'s, kept there in
    place of `name`'s entries for other keys (a read-only store: no cache, same answer)."""
    path = folder / f"{name}.{_digest(key)}.parquet"
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        pass
    frame = make()
    _keep(path, frame.write_parquet, replacing=f"{name}.*.parquet")
    return frame


def _keep_text(path: Path, text: str, *, replacing: str | None = None) -> None:
    _keep(path, lambda temporary: temporary.write_text(text), replacing=replacing)


def _keep(path: Path, write: Callable[[Path], object], *, replacing: str | None) -> None:
    """A cache entry written atomically by `write`, after removing the entries the glob
    `replacing` names beside it (a read-only store: no cache, same answer)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if replacing is not None:
            for old in path.parent.glob(replacing):
                old.unlink()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        write(temporary)
        temporary.replace(path)
    except OSError:
        pass


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _day_key(history: Store, rules_key: str, day: str) -> dict[str, Any]:
    """What a whole day's detections depend on: the rule packs, and every store file of
    the day (name, size, modification time)."""
    from incidentlog.store import DATASETS

    files = [
        [f"{dataset}/{file.name}", file.stat().st_size, file.stat().st_mtime_ns]
        for dataset in DATASETS
        for file in history.day_files(dataset, day)
    ]
    return {"rules": rules_key, "files": files}


_WITH_OTHER_RULES: Final = frozenset(
    {Category.UNHANDLED_EXCEPTION.value, Category.OOM_KILLED.value}
)
"""Categories whose findings other rules' findings can remove (`drop_generic`,
`drop_arbiter_kills`, and the fallbacks `detect_findings` adds only when nothing lasting
was found): their presence on a day needs every rule run. Any other rule's findings are
the same whichever rules run with it."""
_HOUR: Final = timedelta(hours=1)
_DAY: Final = timedelta(days=1)
_READ_FIRST: Final = timedelta(hours=1)
"""Windows up to this long (an hourly digest's period and previous period) are
read into memory before detection: a scan of the day's files filtered by time
and by the rules' prefilter runs the prefilter on every record of the day
(Polars evaluates the two at once), 0.2 s for an hour instead of 0.02 s on its
42k records. Longer windows stay scans: memory stays bounded."""


def _cached_part_day(
    history: History,
    window: Period,
    rules_key: str,
    pending: set[tuple[str, str]],
    detector: _Detector,
) -> set[tuple[str, str]]:
    """The pending pairs found in the part of the period's day before it, running
    only the rules found now (a `per_container` one over its services' records); kept (per window, rules and the day's files), so the
    digest of the same hour again detects nothing."""
    from incidentlog.store import Store

    rules = frozenset(rule for _, rule in pending)
    if not isinstance(history, Store):  # the lake keeps no local cache
        return _detect_pairs(detector, window, pending, {}, screen=False)
    day = f"{window.start:%Y-%m-%d}"
    files = [
        [f"{dataset}/{f.name}", f.stat().st_size]
        for dataset in ("logs", "events")
        for f in history.day_files(dataset, day)
    ]
    key = json.dumps(
        {"rules": rules_key, "ids": sorted(rules), "files": files, "end": window.end.isoformat()}
    )
    end = f"{window.end:%Y-%m-%dT%H%M%S}"
    path = history.cache_dir(SIGNATURE_CACHE) / f"{end}.{_digest(key)}.json"
    try:
        return {(s, r) for s, r in json.loads(path.read_text())} & pending
    except (OSError, ValueError, TypeError):
        pass
    found = _detect_pairs(detector, window, pending, {}, screen=False)
    _keep_text(path, json.dumps(sorted(found)), replacing=f"{end}.*.json")
    return found


def _rules_day(
    history: History,
    rules_key: str,
    pending: frozenset[tuple[str, str]],
    detector: _Detector,
    day: Period,
) -> set[tuple[str, str]]:
    """Which of the (service, rule) pairs `pending` a whole UTC day holds, detected with
    those rules alone; a `per_container` rule over the records of the services asked about
    only (a tenth of the day's records when 2 of 20 services are asked about). Kept per
    day in one entry that grows with what was asked (valid while the day's files and the
    rule packs are the same): hourly digests that look back for different pairs share it.
    The entry maps a rule checked for every service to the services found, and
    `rule@service` for one service checked alone to that service or nothing."""
    from incidentlog.store import Store

    if not isinstance(history, Store):  # the lake keeps no local cache
        return _detect_pairs(detector, day, set(pending), {})
    name = f"{day.start:%Y-%m-%d}"
    key = _day_key(history, rules_key, name)
    path = history.cache_dir(SIGNATURE_CACHE) / f"{name}.by-rule.json"
    checked: dict[str, list[str]] = {}
    try:
        kept = json.loads(path.read_text())
        if kept["key"] == key:
            checked = {str(rule): list(services) for rule, services in kept["checked"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    missing = {(s, r) for s, r in pending if r not in checked and f"{r}@{s}" not in checked}
    if missing:
        _detect_pairs(detector, day, missing, checked)
        _keep_text(path, json.dumps({"key": key, "checked": checked}))
    return {(s, r) for s, r in pending if s in checked.get(r, checked.get(f"{r}@{s}", []))}


def _detect_pairs(
    detector: _Detector,
    day: Period,
    asked: set[tuple[str, str]],
    checked: dict[str, list[str]],
    *,
    screen: bool = True,
) -> set[tuple[str, str]]:
    """The pairs of `asked` detection finds on `day`, what was checked entered in
    `checked` (`_rules_day`'s entry); with `screen`, a day none of whose messages can
    match the rules is not detected on (`may_find`)."""
    scoped = {(s, r) for s, r in asked if detector.per_container(r)}
    whole = frozenset(r for _, r in asked - scoped)
    found: set[tuple[str, str]] = set()
    if whole:
        if not screen or detector.may_find(day, whole):
            found |= detector.pairs(day, whole)
        for rule in whole:
            checked[rule] = sorted(s for s, r in found if r == rule)
    if scoped:
        services = frozenset(s for s, _ in scoped)
        found |= detector.pairs(day, frozenset(r for _, r in scoped), services) & scoped
        for s, r in scoped:
            checked[f"{r}@{s}"] = [s] if (s, r) in found else []
    return found & asked


def _cached_day(
    history: History,
    day: Period,
    rules_key: str,
    compute: Callable[[Period], set[tuple[str, str]]],
    possible: Callable[[Period], bool] = lambda day: True,
    only: Callable[[Period], set[tuple[str, str]]] | None = None,
) -> set[tuple[str, str]]:
    """The (service, rule) pairs found on a whole UTC day: from the cache when it
    was made from the same store files and rule packs, else computed (and kept,
    when the store is writable). Without that cache, `only` when given (the pairs
    looked for, found by their rules alone: a fraction of the cost of every rule;
    the day's own cache is then not made), else nothing when `possible` says the
    pairs looked for cannot be there."""
    from incidentlog.store import Store

    if not isinstance(history, Store):  # the lake keeps no local cache
        return only(day) if only is not None else compute(day) if possible(day) else set()
    name = f"{day.start:%Y-%m-%d}"
    key = _day_key(history, rules_key, name)
    path = history.cache_dir(SIGNATURE_CACHE) / f"{name}.json"
    try:
        kept = json.loads(path.read_text())
        if kept["key"] == key:
            return {(service, rule) for service, rule in kept["pairs"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if only is not None:
        return only(day)
    if not possible(day):
        return set()
    found = compute(day)
    _keep_text(path, json.dumps({"key": key, "pairs": sorted(found)}))
    return found


def pattern_frame(
    logs: pl.LazyFrame,
    period: Period,
    previous: Period,
    rollups: pl.DataFrame | None = None,
    history: History | None = None,
) -> pl.DataFrame:
    """Per (service, pattern): counts now, before, before the period, first seen, a sample.

    With `rollups` (the rollup rows of the lookback, `digest.rollups`) only the
    period's own errors are read, for the samples; the batch mined is the same,
    and its templates are kept in `history`'s cache when it is a store.
    """
    start = pattern_start(period, previous)
    if rollups is not None:
        return _pattern_frame_rolled(logs, period, previous, rollups, history)
    errors = (
        logs.filter(is_error() & (pl.col("ts") >= start) & (pl.col("ts") < period.end))
        .select("ts", "seq", "service", "message")
        .collect()
    )
    if errors.is_empty():
        return _empty_patterns()
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


def pattern_start(period: Period, previous: Period) -> datetime:
    """Where the batch of error patterns starts."""
    return min(previous.start, period.start - PATTERN_LOOKBACK)


def _empty_patterns() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "service": pl.String,
            "pattern_id": pl.String,
            "template": pl.String,
            "count": pl.UInt32,
            "count_previous": pl.UInt32,
            "count_before": pl.UInt32,
            "first_seen": TS_DTYPE,
            "last_seen": TS_DTYPE,
            "sample": pl.String,
        }
    )


def _pattern_frame_rolled(
    logs: pl.LazyFrame,
    period: Period,
    previous: Period,
    rollups: pl.DataFrame,
    history: History | None,
) -> pl.DataFrame:
    """`pattern_frame` from the rollups' masked texts and the period's own errors."""
    from incidentlog.patterns import masked_texts

    bucket = pl.col("bucket")
    start = pattern_start(period, previous)
    rows = rollups.filter(
        pl.col("masked").is_not_null() & (bucket >= start) & (bucket < period.end)
    )
    if rows.is_empty():
        return _empty_patterns()
    table = _templates(rows, Period(start, period.end), history)
    now = (bucket >= period.start) & (bucket < period.end)
    in_previous = (bucket >= previous.start) & (bucket < previous.end)
    counts = (
        rows.join(table, on="masked", how="left")
        .group_by("service", "pattern_id")
        .agg(
            pl.col("template").first(),
            pl.col("n").filter(now).sum().cast(pl.UInt32).alias("count"),
            pl.col("n").filter(in_previous).sum().cast(pl.UInt32).alias("count_previous"),
            pl.col("n").filter(bucket < period.start).sum().cast(pl.UInt32).alias("count_before"),
            pl.col("first_ts").filter(now).min().alias("first_seen"),
            pl.col("last_ts").filter(now).max().alias("last_seen"),
        )
    )
    errors = (
        logs.filter(is_error() & period.contains())
        .select("ts", "seq", "service", "message")
        .collect()
    )
    samples = (
        errors.with_columns(masked_texts(errors.get_column("message")).alias("masked"))
        .join(table.select("masked", "pattern_id"), on="masked", how="left")
        .sort("ts", "seq")
        .group_by("service", "pattern_id")
        .agg(pl.col("message").first().alias("sample"))
    )
    return counts.join(
        samples, on=["service", "pattern_id"], how="left", nulls_equal=True
    ).with_columns(_sample("sample"), redact_expr("template"))


def _templates(rows: pl.DataFrame, batch: Period, history: History | None) -> pl.DataFrame:
    """`template_table` of the rollup pattern rows of `batch` (`masked`, `n`, `file`):
    kept in a store's `TEMPLATE_CACHE`, one entry per batch end, valid for the same
    rollup files (name and size) and bounds. Merging a week of distinct texts is a
    quarter of a cached digest's time; the next digest of the same hour reads it."""
    from incidentlog.patterns import template_table
    from incidentlog.store import Store

    def merged() -> pl.DataFrame:
        texts = rows.group_by("masked").agg(pl.col("n").sum())
        return template_table(texts.get_column("masked"), texts.get_column("n"))

    if not isinstance(history, Store):
        return merged()
    files = sorted(rows.get_column("file").unique().to_list())
    key = json.dumps(
        {"files": files, "start": batch.start.isoformat(), "end": batch.end.isoformat()}
    )
    name = f"{batch.end.astimezone(UTC):%Y-%m-%dT%H%M}"
    return _kept_frame(history.cache_dir(TEMPLATE_CACHE), name, key, merged)


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
