"""Search records by text, level, host, project and detection finding.

A query is pushed down as far as it goes: the evidence source (files, or the
store's scans pruned by day partition and, through Parquet row-group
statistics, by service and time) gives the records of the window and
services; host, project and level predicates come next, and the regex runs
last, on what survived. Only the matching rows (and their context) are
collected. The output views are in `incidentlog.render.records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.schema import Category, levels_at_least
from incidentlog.sources import EvidenceSource

__all__ = ["GrepQuery", "GrepResult", "grep_history"]


@dataclass(frozen=True)
class GrepQuery:
    """What to look for; every filter is optional and they all combine with AND."""

    pattern: str
    fixed: bool = False
    ignore_case: bool = False
    invert: bool = False
    level: str | None = None
    """Minimum level: `warn` keeps warn, error and fatal."""
    categories: tuple[str, ...] = ()
    """Only records a detection finding of one of these categories matched."""
    rules: tuple[str, ...] = ()
    """Only records one of these rule ids matched."""
    hosts: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    before: int = 0
    after: int = 0
    limit: int | None = None
    """At most this many matching records (the earliest); context comes on top."""


@dataclass(frozen=True)
class GrepResult:
    records: pl.DataFrame
    """LOGS_SCHEMA columns plus `match` (False for context rows), in time order."""
    counts: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"service": pl.String, "count": pl.UInt32})
    )
    """Matching records per service (context rows not counted), by service name."""
    highlight: str | None = None
    """A Rust regex marking what matched, for colour output (None with -v)."""

    @property
    def matched(self) -> int:
        return int(self.counts.get_column("count").sum())


# ---- query building -----------------------------------------------------------


def _regex(query: GrepQuery) -> str | None:
    """The Rust regex to run, or None for a case-sensitive fixed string (a literal search)."""
    if query.fixed and not query.ignore_case:
        return None
    body = pl.escape_regex(query.pattern) if query.fixed else query.pattern
    return f"(?i){body}" if query.ignore_case else body


def _check_regex(pattern: str) -> None:
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        reason = next((ln.removeprefix("error: ") for ln in lines if ln.startswith("error:")), "")
        reason = reason or lines[0].removeprefix("regex error: ")
        raise UsageError(
            f"invalid regex {pattern!r}: {reason} (Rust regex syntax; -F searches a fixed string)"
        ) from None


def _text_match(query: GrepQuery) -> pl.Expr:
    regex = _regex(query)
    if regex is None:
        hit = pl.col("message").str.contains(query.pattern, literal=True)
    else:
        _check_regex(regex)
        hit = pl.col("message").str.contains(regex)
    return ~hit if query.invert else hit


def _text_keys(query: GrepQuery) -> list[int]:
    """The trigrams (`store.textindex`) of the text every match holds: the store
    then reads only the row groups that may hold them. None with -v."""
    if query.invert:
        return []
    texts = [query.pattern] if query.fixed else required_literals(query.pattern)
    if not any(len(t.encode()) >= 3 for t in texts):
        return []
    from incidentlog.store.textindex import trigram_keys

    return trigram_keys(texts, ignore_case=query.ignore_case)


_ESCAPED_CLASSES = frozenset("xpPuU0123456789")
"""After a backslash: a code point or class spelled with more characters (`\\x41`,
`\\pL`): a regex using them gives no literal (rather than a wrong one)."""


def required_literals(pattern: str) -> list[str]:
    """Runs of plain characters every match of the (valid) Rust regex `pattern` holds.

    Conservative: alternation or a group gives none; a character under `?`, `*`
    or `{…}` is left out; escapes, classes, `.` and anchors end a run."""
    if any(c in pattern for c in "|()"):
        return []
    runs: list[str] = []
    current: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c in "\\[?*{+.^$":
            if c in "?*{" and current:
                current.pop()  # the character before may be absent
            runs.append("".join(current))
            current = []
            end = _skip(pattern, i)
            if end < 0:
                return []
            i = end
            continue
        current.append(c)
        i += 1
    runs.append("".join(current))
    return [r for r in runs if r]


def _skip(pattern: str, i: int) -> int:
    """Where the metacharacter syntax starting at `pattern[i]` ends; -1 for syntax
    read no further (nested classes, long escapes)."""
    c = pattern[i]
    if c == "\\":
        return -1 if pattern[i + 1 : i + 2] in _ESCAPED_CLASSES else i + 2
    if c == "{":
        end = pattern.find("}", i)
        return -1 if end < 0 else end + 1
    if c == "[":
        j = i + 1
        if pattern[j : j + 1] == "^":
            j += 1
        if pattern[j : j + 1] == "]":
            j += 1
        while j < len(pattern) and pattern[j] != "]":
            if pattern[j] == "[":
                return -1
            j += 2 if pattern[j] == "\\" else 1
        return j + 1
    return i + 1


def _check(query: GrepQuery) -> None:
    for option, value in (("-A", query.after), ("-B", query.before)):
        if value < 0:
            raise UsageError(f"{option} {value}: context must be 0 or more lines")
    if query.limit is not None and query.limit < 1:
        raise UsageError(f"--limit {query.limit}: must be 1 or more")
    allowed = {c.value for c in Category}
    unknown = [c for c in query.categories if c not in allowed]
    if unknown:
        raise UsageError(
            f"--category {unknown[0]!r} is not a category (allowed: {', '.join(sorted(allowed))})"
        )


def _filters(query: GrepQuery) -> pl.Expr:
    """Host, project and level: cheap predicates that run before the regex."""
    mask = pl.lit(True)
    if query.hosts:
        mask = mask & pl.col("host").is_in(list(query.hosts))
    if query.projects:
        mask = mask & pl.col("project").is_in(list(query.projects))
    if query.level is not None:
        mask = mask & pl.col("level").is_in(levels_at_least(query.level))
    return mask


def _finding_ids(candidates: pl.DataFrame, source: EvidenceSource, query: GrepQuery) -> pl.Series:
    """Ids of the candidate records that a finding of the wanted category/rule matched
    (one list value, for `is_in`); the rules are the source's (built-ins and `--rules`)."""
    from incidentlog.detect import detect_findings

    ruleset = source.ruleset
    known = {rule.id for rule in ruleset.rules}
    missing = [r for r in query.rules if r not in known]
    if missing:
        raise UsageError(
            f"--rule {missing[0]!r} is not a loaded rule (see `incidentlog rules list`)"
        )
    findings = detect_findings(candidates, source.events().collect(), ruleset)
    wanted = pl.lit(False)
    if query.categories:
        wanted = wanted | pl.col("category").is_in(list(query.categories))
    if query.rules:
        wanted = wanted | pl.col("rule").is_in(list(query.rules))
    return (
        findings.filter(wanted & (pl.col("source") == "logs")).get_column("id").unique().implode()
    )


_ORDER = ["ts", "seq", "container"]
"""Time order; records without a time keep their arrival order (seq), at the end."""


def grep_history(
    query: GrepQuery, source: EvidenceSource, *, count_only: bool = False
) -> GrepResult:
    """Records of `source` (its window and services) matching `query`.

    With `count_only` only the counts are wanted: the scan then reads the columns
    the filters need and `service`, not whole records (about twice as fast).
    """
    _check(query)
    text = _text_match(query)
    by_finding = bool(query.categories or query.rules)
    context = query.before > 0 or query.after > 0
    logs = source.logs(text_keys=() if context else _text_keys(query)).filter(_filters(query))

    if not context:
        matched = logs.filter(text)
        if by_finding:
            rows = matched.collect()
            ids = _finding_ids(rows, source, query)
            matched = rows.lazy().filter(pl.col("id").is_in(ids))
        if count_only and not by_finding:
            matched = matched.select(["service", *(_ORDER if query.limit is not None else [])])
        ordered = (
            matched.sort(_ORDER, nulls_last=True) if "ts" in matched.collect_schema() else matched
        )
        if query.limit is not None:
            ordered = ordered.head(query.limit)
        records = ordered.with_columns(pl.lit(True).alias("match")).collect()
    else:
        records = _with_context(logs, text, source, query)
    counts = (
        records.filter("match").group_by("service").agg(pl.len().alias("count")).sort("service")
    )
    highlight = None if query.invert else (_regex(query) or pl.escape_regex(query.pattern))
    return GrepResult(records=records, counts=counts, highlight=highlight)


def _with_context(
    logs: pl.LazyFrame, text: pl.Expr, source: EvidenceSource, query: GrepQuery
) -> pl.DataFrame:
    """Matches plus up to `before`/`after` neighbouring records of the same container."""
    frame = logs.sort(_ORDER, nulls_last=True).with_columns(text.alias("_hit")).collect()
    if query.categories or query.rules:
        candidates = frame.filter("_hit")
        ids = _finding_ids(candidates.drop("_hit"), source, query)
        frame = frame.with_columns(pl.col("_hit") & pl.col("id").is_in(ids))
    if query.limit is not None:
        frame = frame.with_columns(
            pl.col("_hit") & (pl.col("_hit").cast(pl.UInt32).cum_sum() <= query.limit)
        )
    stream = ["host", "container"]
    hit = pl.col("_hit").cast(pl.UInt8)
    near = [pl.col("_hit")]
    if query.after:
        near.append(hit.rolling_max(query.after + 1, min_samples=1).over(stream) > 0)
    if query.before:
        near.append(
            hit.reverse().rolling_max(query.before + 1, min_samples=1).reverse().over(stream) > 0
        )
    return (
        frame.sort([*stream, "ts", "seq"], nulls_last=True)
        .filter(pl.any_horizontal(near))
        .sort(_ORDER, nulls_last=True)
        .rename({"_hit": "match"})
    )
