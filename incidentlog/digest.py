"""`incidentlog digest`: what changed in a period, as a diff against the period before.

`build_digest` reads the history store once per question, with Polars
aggregations over the pruned scans (never a loop over records):

- per service: errors (error + fatal), warnings and records in the period,
  the previous period of the same length, and the same hours a day earlier
  (wall clock in the display time zone, so a DST change does not shift it);
  errors per hour over the 24 hours ending with the period (the sparkline);
- signatures: detection findings (service + rule) and error patterns (service
  + pattern id, mined by `incidentlog.patterns` in one batch so ids compare),
  new = never seen before the period (findings: in the whole history; error
  patterns: in the `PATTERN_LOOKBACK` before it),
  vanished = seen in the previous period and not in this one, movers = the
  largest changes of the rest;
- lifecycle from events: restarts (a `start` after a `die` of the same
  container), OOM kills (`oom` events), health transitions (`health_status`
  changes; a first `healthy` is normal start-up and not listed);
- services that went silent: records in the previous period, none in this one.

`render_digest` turns the `Digest` into Markdown (Jinja, `templates/digest.md.j2`),
a self-contained HTML page with a matplotlib heatmap as inline SVG, or JSON.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.redact import redact_expr
from incidentlog.render.templates import render_template
from incidentlog.schema import EventAction, HealthStatus, Level

if TYPE_CHECKING:
    from incidentlog.store import Store

__all__ = [
    "FORMATS",
    "MOVER_MIN_DELTA",
    "MOVER_MIN_RATIO",
    "SPARK_CHARS",
    "Digest",
    "HealthTransition",
    "Pattern",
    "Period",
    "ServiceDigest",
    "Signature",
    "UsageError",
    "build_digest",
    "digest_to_dict",
    "display_zone",
    "error_patterns",
    "render_digest",
    "resolve_period",
    "run_digest",
    "sparkline",
]

FORMATS: Final = ("md", "html", "json")
SPARK_CHARS: Final = "▁▂▃▄▅▆▇█"
"""▁ is an hour without errors; ▂..█ scale the rest to the service's busiest hour."""
SPARK_HOURS: Final = 24
MOVER_MIN_DELTA: Final = 10
"""A count moved when it changed by at least this much ..."""
MOVER_MIN_RATIO: Final = 0.5
"""... and by at least this fraction of the previous period's count."""
SILENT_MIN_RECORDS: Final = 10
"""A service went silent when it logged at least this many records in the previous
period and none in this one (fewer is a quiet service, not a silent one)."""
TOP_PATTERNS: Final = 10
TOP_MOVERS: Final = 5
NEW_SHOWN: Final = 20
"""New signatures listed in Markdown/HTML (JSON has them all)."""
SAMPLE_CHARS: Final = 300
PATTERN_LOOKBACK: Final = timedelta(days=7)
"""How far back an error pattern counts as seen before: patterns are mined in
one batch (their ids depend on it), so the batch is bounded; findings look back
over the whole history (each old day detected once, then cached)."""
SIGNATURE_CACHE: Final = "finding-signatures"
"""The store's cache (`Store.cache_dir`) of the (service, rule) pairs detection
found per whole UTC day."""
MARKDOWN_TEMPLATE: Final = "digest.md.j2"
HTML_TEMPLATE: Final = "digest.html.j2"

_ERROR_LEVELS: Final = [Level.ERROR.value, Level.FATAL.value]
_HOUR_ARG: Final = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2})(?::00(?::00)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


# ---- periods ----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self) -> pl.Expr:
        return (pl.col("ts") >= self.start) & (pl.col("ts") < self.end)


def display_zone(name: str | None) -> ZoneInfo:
    """The IANA zone for display (`UTC` when none is given)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r} is not a time zone (use an IANA name such as UTC, Europe/Berlin)"
        ) from None


def _hour_start(value: str, zone: ZoneInfo) -> datetime:
    match = _HOUR_ARG.match(value.strip())
    if not match:
        raise UsageError(
            f"--hour {value!r} is not an hour (use YYYY-MM-DDTHH, e.g. 2025-08-01T13, "
            "read in --tz; or with an offset: 2025-08-01T13Z, 2025-08-01T15+02:00)"
        )
    day, hour, offset = match.groups()
    try:
        naive = datetime.fromisoformat(f"{day}T{hour}:00:00")
    except ValueError:
        raise UsageError(f"--hour {value!r}: no such date or hour") from None
    if offset:
        text = "+00:00" if offset == "Z" else offset
        if len(text) == 3:
            text += ":00"
        return datetime.fromisoformat(f"{naive.isoformat()}{text}").astimezone(UTC)
    local = naive.replace(tzinfo=zone)
    start = local.astimezone(UTC)
    if start.astimezone(zone).replace(tzinfo=None) != naive:
        raise UsageError(f"--hour {value!r} does not exist in {zone.key} (a DST gap)")
    return start


def resolve_period(
    *,
    since: str | None = None,
    hour: str | None = None,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> Period:
    """The digest period: `--hour` (that hour), `--since` (until now), or the last full hour."""
    from incidentlog.timespec import parse_time

    zone = zone or ZoneInfo("UTC")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if since and hour:
        raise UsageError("give --since or --hour, not both")
    if hour:
        start = _hour_start(hour, zone)
        return Period(start, start + timedelta(hours=1))
    if since:
        start = parse_time(since, now=now)
        if start >= now:
            raise UsageError(f"--since {since} is not in the past")
        return Period(start, now)
    local = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    end = local.astimezone(UTC)
    if end.astimezone(zone).minute != 0:  # a zone offset in half hours: floor in UTC too
        end = now.replace(minute=0, second=0, microsecond=0)
    return Period(end - timedelta(hours=1), end)


def _day_before(period: Period, zone: ZoneInfo) -> Period:
    """The same wall-clock hours a calendar day earlier, in the display zone."""
    start = (period.start.astimezone(zone) - timedelta(days=1)).astimezone(UTC)
    return Period(start, start + period.length)


# ---- the model ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceDigest:
    service: str
    errors: int
    warnings: int
    records: int
    errors_previous: int
    warnings_previous: int
    records_previous: int
    errors_day_before: int
    warnings_day_before: int
    restarts: int
    oom_kills: int
    health_transitions: int
    silent: bool
    """Logged SILENT_MIN_RECORDS or more in the previous period, nothing in this one."""
    last_seen: datetime | None
    """The last record before the period (for silent services)."""
    errors_24h: tuple[int, ...]
    """Errors per hour over the 24 hours ending at the period's end, oldest first."""
    moved: bool
    """Errors changed against the previous period by MOVER_MIN_DELTA and MOVER_MIN_RATIO."""
    uncovered_hours: int = 0
    """Leading sparkline hours that end before the history starts (no data: blank)."""

    @property
    def sparkline(self) -> str:
        return sparkline(self.errors_24h, blank=self.uncovered_hours)

    @property
    def errors_24h_max(self) -> int:
        return max(self.errors_24h, default=0)

    @property
    def reportable(self) -> bool:
        return bool(
            self.errors
            or self.warnings
            or self.errors_previous
            or self.warnings_previous
            or self.errors_day_before
            or self.warnings_day_before
            or self.errors_24h_max
            or self.restarts
            or self.oom_kills
            or self.health_transitions
            or self.silent
        )

    @property
    def errors_delta(self) -> int:
        return self.errors - self.errors_previous

    @property
    def errors_delta_day(self) -> int:
        return self.errors - self.errors_day_before

    @property
    def warnings_delta(self) -> int:
        return self.warnings - self.warnings_previous


@dataclass(frozen=True)
class Signature:
    """A finding (service + rule) or an error pattern (service + pattern id)."""

    kind: str
    """`finding` or `pattern`."""
    service: str
    id: str
    """The rule id, or the pattern id."""
    title: str
    """The finding's title, or the pattern's template (redacted)."""
    category: str | None
    severity: str | None
    count: int
    count_previous: int
    first_seen: datetime | None
    sample: str
    """One matching record, redacted."""

    @property
    def delta(self) -> int:
        return self.count - self.count_previous


@dataclass(frozen=True)
class Pattern:
    service: str
    pattern_id: str
    template: str
    count: int
    count_previous: int
    sample: str
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class HealthTransition:
    ts: datetime
    service: str
    container: str
    before: str
    after: str


@dataclass(frozen=True)
class Digest:
    period: Period
    previous: Period
    day_before: Period
    zone: str
    history_start: datetime | None
    history_end: datetime | None
    services: tuple[ServiceDigest, ...]
    new_signatures: tuple[Signature, ...]
    vanished_signatures: tuple[Signature, ...]
    top_movers: tuple[Signature, ...]
    top_patterns: tuple[Pattern, ...]
    health_transitions: tuple[HealthTransition, ...]
    hours: tuple[datetime, ...]
    """The start of each sparkline hour, oldest first."""
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def reported_services(self) -> tuple[ServiceDigest, ...]:
        """Services with something to report: errors or warnings in any compared
        period, errors in the last 24 hours, restarts, OOM kills, health changes, silence."""
        return tuple(s for s in self.services if s.reportable)

    @property
    def quiet_services(self) -> tuple[str, ...]:
        """The other services: they logged, without errors or warnings."""
        return tuple(s.service for s in self.services if not s.reportable)

    @property
    def silent_services(self) -> tuple[ServiceDigest, ...]:
        return tuple(s for s in self.services if s.silent)

    @property
    def restarts(self) -> int:
        return sum(s.restarts for s in self.services)

    @property
    def oom_kills(self) -> int:
        return sum(s.oom_kills for s in self.services)

    @property
    def has_previous(self) -> bool:
        """The history reaches into the previous period (else its counts mean "no data")."""
        return self.history_start is not None and self.history_start < self.previous.end

    @property
    def has_day_before(self) -> bool:
        return self.history_start is not None and self.history_start < self.day_before.end

    @property
    def shown_new_signatures(self) -> tuple[Signature, ...]:
        """The new signatures the Markdown lists (findings first, then the commonest patterns)."""
        ranked = sorted(self.new_signatures, key=lambda s: (s.kind != "finding", -s.count))
        return tuple(ranked[:NEW_SHOWN])

    @property
    def before_history(self) -> bool:
        """The store holds nothing before the end of the period."""
        return self.history_start is None or self.history_start >= self.period.end

    @property
    def unchanged(self) -> bool:
        """Nothing a reader must look at: no new, vanished or moved signature, no
        restart, OOM kill, health change or silent service, no service whose error
        count moved."""
        return not (
            self.new_signatures
            or self.vanished_signatures
            or self.top_movers
            or self.health_transitions
            or self.restarts
            or self.oom_kills
            or self.silent_services
            or any(s.moved for s in self.services)
        )


def sparkline(counts: Sequence[int], *, blank: int = 0) -> str:
    """One character per count: ▁ for 0, ▂..█ scaled to the largest count; the first
    `blank` counts (hours without data) are spaces."""
    top = max(counts, default=0)
    steps = len(SPARK_CHARS) - 1
    bars = [
        SPARK_CHARS[0] if n <= 0 else SPARK_CHARS[max(1, math.ceil(n * steps / top))]
        for n in counts
    ]
    return " " * blank + "".join(bars[blank:])


def moved(count: int, previous: int) -> bool:
    delta = abs(count - previous)
    return delta >= MOVER_MIN_DELTA and delta >= MOVER_MIN_RATIO * previous


# ---- building -----------------------------------------------------------------------


def error_patterns(records: pl.DataFrame) -> pl.DataFrame:
    """`pattern_id` and `template` per record (one batch: ids compare within it)."""
    from incidentlog.patterns import mine_patterns

    return mine_patterns(records.get_column("message"))


def _is_error() -> pl.Expr:
    return pl.col("level").is_in(_ERROR_LEVELS)


def _sample(column: str = "message") -> pl.Expr:
    """A record in one line, redacted: its first line, and for a multi-line record
    (a traceback) ` … ` and its last line, which names the exception."""
    lines = pl.col(column).str.strip_chars_end().str.split("\n")
    first = lines.list.first().str.slice(0, SAMPLE_CHARS)
    last = lines.list.last().str.strip_chars().str.slice(0, SAMPLE_CHARS)
    joined = pl.when(lines.list.len() > 1).then(first + " … " + last).otherwise(first)
    return redact_expr(joined).alias(column)


def _history_span(logs: pl.LazyFrame, events: pl.LazyFrame) -> tuple[datetime | None, ...]:
    spans = pl.concat(
        [
            logs.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")),
            events.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")),
        ]
    ).select(pl.col("lo").min(), pl.col("hi").max())
    lo, hi = spans.collect().row(0)
    return lo, hi


def _service_counts(
    logs: pl.LazyFrame, period: Period, previous: Period, day_before: Period, hours: Period
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-service counts in the three periods, errors per service and sparkline hour)."""
    err = _is_error()
    warn = pl.col("level") == Level.WARN.value
    first = min(previous.start, day_before.start, hours.start)
    rows = logs.filter((pl.col("ts") >= first) & (pl.col("ts") < period.end))
    counts = rows.group_by("service").agg(
        (err & period.contains()).sum().alias("errors"),
        (warn & period.contains()).sum().alias("warnings"),
        period.contains().sum().alias("records"),
        (err & previous.contains()).sum().alias("errors_previous"),
        (warn & previous.contains()).sum().alias("warnings_previous"),
        previous.contains().sum().alias("records_previous"),
        (err & day_before.contains()).sum().alias("errors_day_before"),
        (warn & day_before.contains()).sum().alias("warnings_day_before"),
        pl.col("ts").filter(pl.col("ts") < period.start).max().alias("last_seen"),
    )
    bin_ns = 3600 * 10**9
    hourly = (
        rows.filter(err & hours.contains())
        .with_columns(((pl.col("ts") - hours.start).dt.total_nanoseconds() // bin_ns).alias("hour"))
        .group_by("service", "hour")
        .agg(pl.len().alias("errors"))
    )
    return counts.collect(), hourly.collect()


def _lifecycle(events: pl.DataFrame, period: Period) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-service restarts and OOM kills in the period, health transitions in the period)."""
    ordered = events.filter(pl.col("ts").is_not_null() & pl.col("service").is_not_null()).sort(
        "container", "ts", "seq"
    )
    die = (pl.col("action") == EventAction.DIE.value).cast(pl.UInt32)
    restarts = ordered.filter(
        pl.col("action").is_in([EventAction.START.value, EventAction.DIE.value])
    ).with_columns((die.cum_sum().over("container") - die).alias("_dies_before"))
    per_service = pl.concat(
        [
            restarts.filter(
                (pl.col("action") == EventAction.START.value)
                & (pl.col("_dies_before") > 0)
                & period.contains()
            )
            .group_by("service")
            .agg(pl.len().alias("restarts")),
            ordered.filter((pl.col("action") == EventAction.OOM.value) & period.contains())
            .group_by("service")
            .agg(pl.len().alias("oom_kills")),
        ],
        how="diagonal_relaxed",
    )
    health = (
        ordered.filter(
            (pl.col("action") == EventAction.HEALTH_STATUS.value) & pl.col("status").is_not_null()
        )
        .with_columns(
            pl.col("status").cast(pl.String),
            pl.col("status").cast(pl.String).shift(1).over("container").alias("before"),
        )
        .filter(
            period.contains()
            & (pl.col("status") != pl.col("before").fill_null(HealthStatus.STARTING.value))
            & ~(pl.col("before").is_null() & (pl.col("status") == HealthStatus.HEALTHY.value))
        )
        .select(
            "ts",
            "service",
            "container",
            pl.col("before").fill_null(HealthStatus.STARTING.value),
            pl.col("status").alias("after"),
        )
    )
    return per_service, health


def _finding_signatures(
    logs: pl.LazyFrame,
    events: pl.DataFrame,
    period: Period,
    previous: Period,
    history_start: datetime | None,
    rule_paths: Sequence[str | Path],
    history: Store,
) -> tuple[pl.DataFrame, set[tuple[str, str]]]:
    """(summary of this period's and the previous period's findings, keys seen before).

    "Seen before" looks back one UTC day at a time, newest first, and stops as
    soon as every finding of the period has been seen: memory stays that of
    one day. The hours of the period's own day run only the rules found now;
    a whole earlier day runs all rules once, and its (service, rule) pairs are
    kept in the store's `SIGNATURE_CACHE` (one file per day, valid while
    the day's store files and the rules are the same), so an hourly digest over a long history reads
    the days it already knows instead of detecting on them again.
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
    history: Store,
    day: Period,
    rules_key: str,
    compute: Callable[[Period], set[tuple[str, str]]],
) -> set[tuple[str, str]]:
    """The (service, rule) pairs found on a whole UTC day: from the cache when
    it was made from the same store files and rules, else computed (and kept,
    when the store is writable)."""
    from incidentlog.store import DATASETS

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


def _pattern_frame(logs: pl.LazyFrame, period: Period, previous: Period) -> pl.DataFrame:
    """Per (service, pattern): counts now, before, before the period, first seen, a sample."""
    start = min(previous.start, period.start - PATTERN_LOOKBACK)
    errors = (
        logs.filter(_is_error() & (pl.col("ts") >= start) & (pl.col("ts") < period.end))
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


def build_digest(
    period: Period,
    *,
    store: Path | None = None,
    zone: ZoneInfo | None = None,
    rule_paths: Sequence[str | Path] = (),
) -> Digest:
    """The digest of `period` from the history store."""
    from incidentlog.store import Store

    zone = zone or ZoneInfo("UTC")
    history = Store.open(store)
    previous = Period(period.start - period.length, period.start)
    day_before = _day_before(period, zone)
    hours = Period(period.end - timedelta(hours=SPARK_HOURS), period.end)
    logs = history.scan("logs", until=period.end)
    all_events = history.scan("events", until=period.end)
    first, last = _history_span(history.scan("logs"), history.scan("events"))
    events = all_events.filter(pl.col("ts") < period.end).collect()

    counts, hourly = _service_counts(logs, period, previous, day_before, hours)
    per_service_events, health = _lifecycle(events, period)
    findings, seen_findings = _finding_signatures(
        logs, events, period, previous, first, rule_paths, history
    )
    patterns = _pattern_frame(logs, period, previous)

    uncovered = (
        0
        if first is None
        else sum(1 for i in range(SPARK_HOURS) if hours.start + timedelta(hours=i + 1) <= first)
    )
    services = _services(counts, hourly, per_service_events, health, uncovered)
    new, vanished, movers = _signatures(findings, seen_findings, patterns)
    top = (
        patterns.filter(pl.col("count") > 0)
        .sort(
            ["count", "first_seen", "service", "pattern_id"], descending=[True, False, False, False]
        )
        .head(TOP_PATTERNS)
    )
    return Digest(
        period=period,
        previous=previous,
        day_before=day_before,
        zone=zone.key,
        history_start=first,
        history_end=last,
        services=services,
        new_signatures=new,
        vanished_signatures=vanished,
        top_movers=movers,
        top_patterns=tuple(
            Pattern(
                service=r["service"],
                pattern_id=r["pattern_id"],
                template=r["template"],
                count=r["count"],
                count_previous=r["count_previous"],
                sample=r["sample"] or "",
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
            )
            for r in top.iter_rows(named=True)
        ),
        health_transitions=tuple(
            HealthTransition(r["ts"], r["service"], r["container"], r["before"], r["after"])
            for r in health.sort("ts", "container").iter_rows(named=True)
        ),
        hours=tuple(hours.start + timedelta(hours=i) for i in range(SPARK_HOURS)),
        totals={
            "errors": sum(s.errors for s in services),
            "warnings": sum(s.warnings for s in services),
            "records": sum(s.records for s in services),
            "errors_previous": sum(s.errors_previous for s in services),
            "warnings_previous": sum(s.warnings_previous for s in services),
            "errors_day_before": sum(s.errors_day_before for s in services),
        },
    )


def _services(
    totals: pl.DataFrame,
    hourly: pl.DataFrame,
    lifecycle: pl.DataFrame,
    health: pl.DataFrame,
    uncovered: int,
) -> tuple[ServiceDigest, ...]:
    numbers = [
        "errors",
        "warnings",
        "records",
        "errors_previous",
        "warnings_previous",
        "records_previous",
        "errors_day_before",
        "warnings_day_before",
    ]
    transitions = health.group_by("service").agg(pl.len().alias("health_transitions"))
    lifecycle = lifecycle.group_by("service").agg(
        pl.col("restarts").sum(), pl.col("oom_kills").sum()
    )
    names = pl.concat([f.select("service") for f in (totals, lifecycle, transitions)]).unique()
    frame = (
        names.join(totals, on="service", how="left")
        .join(lifecycle, on="service", how="left")
        .join(transitions, on="service", how="left")
        .with_columns(
            pl.col([*numbers, "restarts", "oom_kills", "health_transitions"]).fill_null(0)
        )
        .sort(["errors", "warnings", "service"], descending=[True, True, False])
    )
    by_hour: dict[str, list[int]] = {}
    for service, hour, n in hourly.select("service", "hour", "errors").iter_rows():
        by_hour.setdefault(service, [0] * SPARK_HOURS)[int(hour)] = int(n)
    out: list[ServiceDigest] = []
    for row in frame.iter_rows(named=True):
        out.append(
            ServiceDigest(
                service=row["service"],
                **{name: int(row[name]) for name in numbers},
                restarts=int(row["restarts"]),
                oom_kills=int(row["oom_kills"]),
                health_transitions=int(row["health_transitions"]),
                silent=row["records"] == 0 and row["records_previous"] >= SILENT_MIN_RECORDS,
                last_seen=row["last_seen"],
                errors_24h=tuple(by_hour.get(row["service"], [0] * SPARK_HOURS)),
                moved=moved(int(row["errors"]), int(row["errors_previous"])),
                uncovered_hours=uncovered,
            )
        )
    return tuple(out)


def _signatures(
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


# ---- rendering ------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _plain(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return _iso(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    """The JSON document: `period`, `services`, `new_signatures`, `top_patterns`, and more."""

    def span(p: Period) -> dict[str, Any]:
        return {"start": _iso(p.start), "end": _iso(p.end)}

    def signature(s: Signature) -> dict[str, Any]:
        return asdict(s) | {"delta": s.delta}

    document: dict[str, Any] = _plain(
        {
            "period": span(digest.period) | {"tz": digest.zone},
            "previous": span(digest.previous),
            "day_before": span(digest.day_before),
            "history": {"start": digest.history_start, "end": digest.history_end},
            "unchanged": digest.unchanged,
            "headline": headline(digest),
            "totals": digest.totals | {"restarts": digest.restarts, "oom_kills": digest.oom_kills},
            "services": [asdict(s) | {"errors_24h": list(s.errors_24h)} for s in digest.services],
            "hours": list(digest.hours),
            "new_signatures": [signature(s) for s in digest.new_signatures],
            "vanished_signatures": [signature(s) for s in digest.vanished_signatures],
            "top_movers": [signature(s) for s in digest.top_movers],
            "top_patterns": [asdict(p) for p in digest.top_patterns],
            "health_transitions": [asdict(h) for h in digest.health_transitions],
            "silent_services": [s.service for s in digest.silent_services],
        }
    )
    return document


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else ("±0" if value == 0 else f"−{-value}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def period_label(digest: Digest) -> str:
    """`2025-08-01 13:00–14:00 UTC` (or with both days when it spans midnight)."""
    zone = ZoneInfo(digest.zone)
    start = digest.period.start.astimezone(zone)
    end = digest.period.end.astimezone(zone)
    fmt = "%H:%M" if start.second == 0 and end.second == 0 else "%H:%M:%S"
    same_day = (
        start.date() == end.date() or (end - timedelta(microseconds=1)).date() == start.date()
    )
    tail = end.strftime(fmt) if same_day else end.strftime(f"%Y-%m-%d {fmt}")
    return f"{start.strftime('%Y-%m-%d ' + fmt)}–{tail} {start.tzname()}"


def headline(digest: Digest) -> str:
    """One line: what the period held, and whether anything changed."""
    label = period_label(digest)
    if digest.before_history:
        if digest.history_start is None:
            return f"{label}: the history is empty; nothing to compare."
        start = digest.history_start.astimezone(ZoneInfo(digest.zone))
        return (
            f"{label}: before the history, which starts at "
            f"{start.strftime('%Y-%m-%d %H:%M:%S %Z')}; nothing to compare."
        )
    if digest.history_end is not None and digest.history_end < digest.previous.start:
        end = digest.history_end.astimezone(ZoneInfo(digest.zone))
        return (
            f"{label}: nothing recorded since {end.strftime('%Y-%m-%d %H:%M:%S %Z')}, "
            "where the history ends (is ingest or collect still running?)."
        )
    t = digest.totals
    active = sum(1 for s in digest.services if s.records)
    before = "hour" if digest.period.length == timedelta(hours=1) else "period"
    counts = (
        f"{_plural(t['errors'], 'error')} ({_signed(t['errors'] - t['errors_previous'])} "
        f"on the previous {before}) and {_plural(t['warnings'], 'warning')} "
        f"from {_plural(active, 'service')}"
    )
    if digest.unchanged:
        return f"No change in {label}: {counts}; no new signatures, restarts or health changes."
    parts = [counts]
    if digest.new_signatures:
        parts.append(_plural(len(digest.new_signatures), "new signature"))
    if digest.restarts:
        parts.append(_plural(digest.restarts, "restart"))
    if digest.oom_kills:
        parts.append(_plural(digest.oom_kills, "OOM kill"))
    if digest.health_transitions:
        parts.append(_plural(len(digest.health_transitions), "health change"))
    if digest.silent_services:
        parts.append(f"{_plural(len(digest.silent_services), 'service')} went silent")
    return f"{label}: " + "; ".join(parts) + "."


def heatmap_svg(digest: Digest, *, rows: int = 20) -> str:
    """Errors per service per hour over the last 24 hours: a matplotlib heatmap as SVG.

    Text is drawn as paths (`svg.fonttype: path`) and matplotlib's comments are
    dropped, so service names from the logs never reach the page as markup; ids
    are salted for reproducible output.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    busy = sorted(
        (s for s in digest.services if s.errors_24h_max > 0),
        key=lambda s: (-sum(s.errors_24h), s.service),
    )[:rows]
    if not busy:
        return ""
    zone = ZoneInfo(digest.zone)
    matrix = [list(s.errors_24h) for s in busy]
    with matplotlib.rc_context(
        {"svg.fonttype": "path", "svg.hashsalt": "incidentlog", "font.size": 9}
    ):
        fig, ax = plt.subplots(figsize=(10, 0.8 + 0.32 * len(busy)), dpi=100)
        try:
            top = max(max(row) for row in matrix)
            image = ax.imshow(
                matrix, aspect="auto", cmap="Reds", norm=PowerNorm(0.5, vmin=0, vmax=top)
            )
            for y, row in enumerate(matrix):  # the count in each hour that had errors
                for x, n in enumerate(row):
                    if n:
                        dark = n > top * 0.35
                        ax.text(
                            x,
                            y,
                            str(n),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if dark else "black",
                        )
            ax.set_yticks(range(len(busy)), [s.service for s in busy])
            ax.set_xticks(
                range(len(digest.hours)),
                [h.astimezone(zone).strftime("%H") for h in digest.hours],
            )
            ax.set_xlabel(f"hour ({digest.zone}), ending {period_label(digest)}")
            ax.set_title("Errors per hour, last 24 hours")
            fig.colorbar(image, ax=ax, label="errors", pad=0.01)
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    svg = buffer.getvalue()
    # matplotlib annotates each drawn text in an (escaped) comment: drop them, so no
    # log-derived text is in the markup at all.
    return re.sub(r"<!--.*?-->\s*", "", svg[svg.index("<svg") :], flags=re.DOTALL)


def _environment(template_dir: Path | None, digest: Digest, *, html: bool) -> Any:
    from incidentlog.render.templates import template_environment

    zone = ZoneInfo(digest.zone)
    clock = "%H:%M:%S" if digest.period.length <= timedelta(days=1) else "%Y-%m-%d %H:%M:%S"
    env = template_environment(template_dir, html=html)
    env.filters.update(
        {
            "signed": _signed,
            "clock": lambda v: v.astimezone(zone).strftime(clock) if v else "—",
            "when": lambda v: v.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if v else "—",
        }
    )
    return env


def render_digest(digest: Digest, fmt: str = "md", template_dir: Path | None = None) -> str:
    """The digest as Markdown, a self-contained HTML page, or JSON."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    if fmt == "json":
        return json.dumps(digest_to_dict(digest), indent=2, ensure_ascii=False) + "\n"
    context = {
        "d": digest,
        "title": f"Error digest: {period_label(digest)}",
        "line": headline(digest),
    }
    markdown = render_template(
        _environment(template_dir, digest, html=False), MARKDOWN_TEMPLATE, "digest", **context
    )
    if fmt == "md":
        return markdown
    from markupsafe import Markup

    from incidentlog.render.markdown import markdown_to_html

    return render_template(
        _environment(template_dir, digest, html=True),
        HTML_TEMPLATE,
        "digest",
        body=Markup(markdown_to_html(markdown)),  # markdown-it output, raw HTML disabled
        chart=Markup(heatmap_svg(digest)),  # matplotlib SVG, text drawn as paths
        **context,
    )


def run_digest(
    *,
    since: str | None = None,
    hour: str | None = None,
    fmt: str = "md",
    tz: str | None = None,
    store: Path | None = None,
    quiet_if_unchanged: bool = False,
    template_dir: Path | None = None,
    now: datetime | None = None,
) -> str:
    """What `incidentlog digest` prints: the rendered digest, or "" when quiet and unchanged."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not supported (allowed: {', '.join(FORMATS)})")
    zone = display_zone(tz)
    period = resolve_period(since=since, hour=hour, zone=zone, now=now)
    digest = build_digest(period, store=store, zone=zone)
    if quiet_if_unchanged and digest.unchanged:
        return ""
    return render_digest(digest, fmt, template_dir)
