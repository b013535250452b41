"""Match compiled rules against logs, probe outputs and lifecycle events.

Everything here is Polars expressions over whole columns: one literal
prefilter (`str.contains_any`, Aho-Corasick) over every message, then each
rule's regexes only on the rows that survived it. Python loops run over rules
and over distinct container names, never over log records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from incidentlog.detect.access import server_errors
from incidentlog.detect.attribution import attribute, service_of_container
from incidentlog.detect.columns import (
    FIELD_PREFIX,
    FINDINGS_COLUMNS,
    SUMMARY_COLUMNS,
    fields_json,
    rule_columns,
)
from incidentlog.detect.restarts import banner_restarts
from incidentlog.detect.rules import Rule, RuleSet, Source
from incidentlog.detect.signals import (
    crash_loops,
    drop_arbiter_kills,
    drop_generic,
    health_streaks,
    mark_oom,
    traceback_frames,
    transient,
)
from incidentlog.detect.stops import drop_shown_exits, drop_stop_exits
from incidentlog.detect.summary import summarize_findings
from incidentlog.detect.targets import target_errors, unrecognized_errors
from incidentlog.ingest.events import drop_repeated_ooms
from incidentlog.progress import step
from incidentlog.schema import (
    EVENTS_SCHEMA,
    LEVEL_DTYPE,
    LOGS_SCHEMA,
    TS_DTYPE,
    EventAction,
    Level,
    conform,
)
from incidentlog.text import SIGNALS

__all__ = [
    "FINDINGS_COLUMNS",
    "SUMMARY_COLUMNS",
    "CompiledRules",
    "compile_rules",
    "detect_findings",
    "service_of_container",
    "summarize_findings",
]


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Innermost application frame of a traceback, per runtime: all frames, then the
# last one that is not library or runtime code.


@dataclass(frozen=True)
class CompiledRules:
    """A RuleSet with its Polars expressions built once."""

    ruleset: RuleSet
    text_rules: tuple[Rule, ...]
    probe_rules: tuple[Rule, ...]
    event_rules: tuple[Rule, ...]
    inferred_rules: tuple[Rule, ...]
    prefilter: pl.Expr
    probe_prefilter: pl.Expr


def _flagged(rule: Rule, pattern: str) -> str:
    return f"(?i){pattern}" if rule.ignore_case else pattern


_RX_META = frozenset("\\.+*?()|[]{}^$#&-~")


def _rx_escape(literal: str) -> str:
    """`literal` as a Rust regex matching itself."""
    return "".join("\\" + ch if ch in _RX_META else ch for ch in literal)


def _literal_mask(literals: Iterable[str], ignore_case: bool) -> pl.Expr:
    """Any of `literals` occurs: one regex alternation (Rust regex uses SIMD/Aho-Corasick
    for literal sets; measured ~2x faster than `str.contains_any` on 1M lines)."""
    body = "|".join(_rx_escape(lit) for lit in sorted(set(literals)))
    return pl.col("message").str.contains(f"(?i:{body})" if ignore_case else body)


def could_match(rules: Iterable[Rule]) -> pl.Expr:
    """True for messages that could match at least one of `rules` (text rules: every
    match holds one of the rule's literals, or matches one of its patterns)."""
    exact: set[str] = set()
    folded: set[str] = set()
    unfiltered: list[pl.Expr] = []
    for rule in rules:
        if rule.any:
            (folded if rule.ignore_case else exact).update(rule.any)
        else:
            unfiltered.extend(
                pl.col("message").str.contains(_flagged(rule, p)) for p in rule.patterns
            )
    parts: list[pl.Expr] = []
    if exact:
        parts.append(_literal_mask(exact, ignore_case=False))
    if folded:
        parts.append(_literal_mask(folded, ignore_case=True))
    parts.extend(unfiltered)
    if not parts:
        return pl.lit(False)
    return pl.any_horizontal(parts).fill_null(False)


def _route(candidates: pl.DataFrame, rules: Sequence[Rule]) -> list[pl.DataFrame]:
    """For each rule, the candidate rows holding one of its literals.

    One Aho-Corasick pass (`str.extract_many`, overlapping) lists the literals
    each row holds; a join with the (literal, rule) table routes rows to rules,
    so each rule's regexes run only on rows that can match it.
    """
    indexed = candidates.with_row_index("_row")
    pairs: list[pl.DataFrame] = []
    for folded in (False, True):
        table = pl.DataFrame(
            [
                (lit.lower() if folded else lit, i)
                for i, rule in enumerate(rules)
                if rule.ignore_case == folded
                for lit in rule.any
            ],
            schema={"_hit": pl.String, "_rule": pl.UInt32},
            orient="row",
        ).unique()
        if table.is_empty():
            continue
        literals = sorted(set(table.get_column("_hit").to_list()))
        hits = indexed.select(
            "_row",
            pl.col("message")
            .str.extract_many(literals, ascii_case_insensitive=folded, overlapping=True)
            .alias("_hit"),
        ).explode("_hit")
        if folded:
            hits = hits.with_columns(pl.col("_hit").str.to_lowercase())
        pairs.append(hits.drop_nulls().unique().join(table, on="_hit").select("_rule", "_row"))
    routed: dict[int, pl.Series] = {}
    if pairs:
        for (rule_idx,), group in (
            pl.concat(pairs).unique().partition_by("_rule", as_dict=True, include_key=False).items()
        ):
            routed[int(str(rule_idx))] = group.get_column("_row").sort()
    out: list[pl.DataFrame] = []
    for i, rule in enumerate(rules):
        if not rule.any:
            out.append(candidates)
        elif i in routed:
            out.append(candidates[routed[i]])
        else:
            out.append(candidates.clear())
    return out


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    text_rules = ruleset.by_source(Source.LOGS)
    probe_rules = ruleset.by_source(Source.LOGS, Source.PROBE)
    return CompiledRules(
        ruleset=ruleset,
        text_rules=text_rules,
        probe_rules=probe_rules,
        event_rules=ruleset.by_source(Source.EVENTS),
        inferred_rules=ruleset.by_source(Source.INFERRED),
        prefilter=could_match(text_rules),
        probe_prefilter=could_match(probe_rules),
    )


# --------------------------------------------------------------------------- matching


def _text_rule_frame(rule: Rule, candidates: pl.DataFrame) -> pl.LazyFrame:
    """Rows of `candidates` (logs-shaped, with `message`) that `rule` matches, with fields."""
    message = pl.col("message")
    mask = pl.lit(True)
    if rule.min_level is not None:
        order = list(Level)
        mask = mask & (pl.col("level").to_physical() >= order.index(rule.min_level))
    matched = [message.str.contains(_flagged(rule, p)) for p in rule.patterns]
    mask = mask & pl.any_horizontal(matched)
    for pattern in rule.exclude:
        mask = mask & ~message.str.contains(_flagged(rule, pattern))
    frame = candidates.lazy().filter(mask.fill_null(False))
    extracted: list[pl.Expr] = []
    per_group: dict[str, list[pl.Expr]] = {}
    for i, pattern in enumerate(rule.patterns):
        names = [g for g in rule.groups if f"?P<{g}>" in pattern or f"?<{g}>" in pattern]
        if not names:
            continue
        extracted.append(message.str.extract_groups(_flagged(rule, pattern)).alias(f"_g{i}"))
        for name in names:
            per_group.setdefault(name, []).append(pl.col(f"_g{i}").struct.field(name))
    if extracted:
        frame = frame.with_columns(extracted)
    field_exprs = [
        pl.coalesce([e.replace("", None) for e in exprs]).alias(FIELD_PREFIX + name)
        for name, exprs in per_group.items()
    ]
    frame = frame.with_columns(*field_exprs, *rule_columns(rule))
    if rule.subject is not None:
        frame = frame.with_columns(
            pl.col(FIELD_PREFIX + rule.subject).str.strip_chars_start("/").alias("_subject")
        )
    keep = [c for c in frame.collect_schema().names() if not c.startswith("_g")]
    return frame.select(keep)


def _event_mask(rule: Rule) -> pl.Expr:
    when = rule.when
    mask = pl.lit(True)
    if when is None:
        return mask
    if when.action:
        mask = mask & pl.col("action").cast(pl.String).is_in([a.value for a in when.action])
    if when.status:
        mask = mask & pl.col("status").cast(pl.String).is_in([s.value for s in when.status])
    if when.exit_code:
        mask = mask & pl.col("exit_code").is_in(list(when.exit_code))
    if when.exit_code_not:
        mask = mask & pl.col("exit_code").is_not_null()
        mask = mask & ~pl.col("exit_code").is_in(list(when.exit_code_not))
    if when.oom is not None:
        mask = mask & (pl.col("_oom") == when.oom)
    return mask


def _event_message() -> pl.Expr:
    """The event as `docker events` prints its attributes, or the probe/ps text."""
    name = pl.col("container")
    action = pl.col("action").cast(pl.String)
    described = (
        pl.when(pl.col("action") == EventAction.HEALTH_STATUS.value)
        .then(pl.concat_str(pl.lit("container health_status: "), pl.col("status").cast(pl.String)))
        .otherwise(pl.concat_str(pl.lit("container "), action))
    )
    attrs = pl.concat_str(
        [
            pl.concat_str(pl.lit("exitCode="), pl.col("exit_code").cast(pl.String)),
            pl.concat_str(pl.lit("name="), name),
        ],
        separator=", ",
        ignore_nulls=True,
    )
    text = pl.concat_str(described, pl.lit(" ("), attrs, pl.lit(")"))
    keep_output = (
        pl.col("action").is_in([EventAction.PROBE.value, EventAction.SNAPSHOT.value])
        & pl.col("output").is_not_null()
    )
    return pl.when(keep_output).then(pl.col("output")).otherwise(text)


def _event_rule_frame(rule: Rule, events: pl.DataFrame) -> pl.LazyFrame:
    mask = _event_mask(rule)
    frame = (
        events.lazy().filter(mask.fill_null(False)).with_columns(_event_message().alias("message"))
    )
    if rule.patterns:
        matched = [pl.col("message").str.contains(_flagged(rule, p)) for p in rule.patterns]
        frame = frame.filter(pl.any_horizontal(matched).fill_null(False))
    for pattern in rule.exclude:
        frame = frame.filter(
            ~pl.col("message").str.contains(_flagged(rule, pattern)).fill_null(False)
        )
    signal = (
        pl.col("exit_code")
        .sub(128)
        .replace_strict(dict(SIGNALS), default=None, return_dtype=pl.String)
    )
    frame = frame.with_columns(
        pl.col("exit_code").cast(pl.String).alias(FIELD_PREFIX + "exit_code"),
        pl.when(pl.col("exit_code") > 128).then(signal).alias(FIELD_PREFIX + "signal"),
        *rule_columns(rule),
    )
    if rule.patterns:
        frame = frame.with_columns(
            pl.coalesce(
                [
                    pl.col("message")
                    .str.extract_groups(_flagged(rule, p))
                    .struct.field(g)
                    .replace("", None)
                    for p in rule.patterns
                    if f"?P<{g}>" in p or f"?<{g}>" in p
                ]
            ).alias(FIELD_PREFIX + g)
            for g in rule.groups
        )
    return frame.drop("action", "status", "exit_code", "output", "_oom")


# --------------------------------------------------------------------------- attribution


# --------------------------------------------------------------------------- engine logic


def _frames_fields(frame: pl.DataFrame, prefix: str, names: Iterable[str]) -> list[str]:
    return [c for c in frame.columns if c.startswith(prefix) and c[len(prefix) :] in names]


def _as_frame(
    data: pl.LazyFrame | pl.DataFrame | None, schema: pl.Schema, stage: str
) -> pl.DataFrame:
    if data is None:
        return pl.DataFrame(schema=schema)
    frame = data.collect() if isinstance(data, pl.LazyFrame) else data
    return conform(frame, schema, stage)


def detect_findings(
    logs: pl.LazyFrame | pl.DataFrame | None,
    events: pl.LazyFrame | pl.DataFrame | None,
    rules: RuleSet | CompiledRules,
    *,
    projects: Sequence[str] = (),
    transient_window: timedelta = timedelta(seconds=60),
    stable_after: timedelta = timedelta(minutes=5),
) -> pl.DataFrame:
    """One row per (record, rule) match, FINDINGS_COLUMNS, in time order."""
    step("detecting")
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules)
    log_lf = pl.LazyFrame(schema=LOGS_SCHEMA) if logs is None else logs.lazy()
    event_frame = drop_repeated_ooms(_as_frame(events, EVENTS_SCHEMA, "detect"))
    findings = _matches(compiled, log_lf, event_frame)
    # (the fallbacks count only when nothing else lasting is found: looked for at once
    # when no rule matched, else after the others are known, and only then)
    fallbacks_first = findings.is_empty()
    if fallbacks_first:
        findings = _fallbacks(findings, log_lf, compiled.inferred_rules)
    if findings.is_empty():
        return pl.DataFrame(schema=FINDINGS_COLUMNS)
    context = _Context.of(log_lf, event_frame, projects)
    findings = attribute(
        findings, context.services, context.containers, context.projects, log_lf, event_frame
    )
    findings = drop_arbiter_kills(findings)
    findings = drop_stop_exits(findings, log_lf, event_frame)
    findings = drop_shown_exits(findings)
    findings = traceback_frames(findings)
    findings = health_streaks(findings, event_frame)
    findings = crash_loops(findings, context.data_end, stable_after)
    targets = [
        target_errors(
            findings,
            log_lf,
            r,
            services=context.services,
            containers=context.containers,
            projects=context.projects,
        )
        for r in compiled.inferred_rules
        if r.infer == "target-errors"
    ]
    findings = pl.concat([findings, *(t for t in targets if t.height)], how="diagonal_relaxed")
    findings = transient(findings, log_lf, transient_window)
    if not fallbacks_first:
        findings = _fallbacks(findings, log_lf, compiled.inferred_rules)
    findings = findings.with_columns(fields_json(findings).alias("fields"))
    order = findings.sort("ts", "source", "seq", "rule", nulls_last=True)
    return order.select(pl.col(n).cast(t) for n, t in FINDINGS_COLUMNS.items())


def _fallbacks(findings: pl.DataFrame, logs: pl.LazyFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """`findings`, and when nothing lasting is among them (no finding above low severity
    that is not a transient blip), what a broken stack shows in words no rule knows:
    users answered with a 5xx (`server-errors`), error lines that repeat
    (`unrecognized-errors`). Beside a cause they are its impact and its echo (the report's
    "Users" line counts the answers), and a proxy's 502 is no failure of the proxy; so
    they are looked for only then (the access-log pass costs 0.3 s on a million lines).
    A digest looks back for them with every rule: their category, unhandled-exception,
    is one other rules' findings remove."""
    if not findings.is_empty():
        lasting = findings.filter(
            (pl.col("severity").cast(pl.String) != "low") & ~pl.col("transient")
        )
        if lasting.height:
            return findings
    extra = [
        server_errors(logs, r)
        if r.infer == "server-errors"
        else unrecognized_errors(findings, logs, r)
        for r in rules
        if r.infer in ("server-errors", "unrecognized-errors")
    ]
    kept = [
        e.with_columns(pl.col("service").alias("reporter"), pl.lit(False).alias("transient"))
        for e in extra
        if e.height
    ]
    if not kept:
        return findings
    return pl.concat([findings, *kept] if findings.width else kept, how="diagonal_relaxed")


def _matches(
    compiled: CompiledRules, log_lf: pl.LazyFrame, event_frame: pl.DataFrame
) -> pl.DataFrame:
    """Every rule's matches: log records past the prefilter, probe outputs, events."""
    candidates = conform(log_lf.filter(compiled.prefilter).collect(), LOGS_SCHEMA, "detect")
    probe_rows = (
        event_frame.filter(
            pl.col("action").is_in([EventAction.PROBE.value, EventAction.HEALTH_STATUS.value])
            & pl.col("output").is_not_null()
        )
        .with_columns(
            pl.col("output").alias("message"),
            pl.lit(Level.UNKNOWN.value).cast(LEVEL_DTYPE).alias("level"),
        )
        .filter(compiled.probe_prefilter)
    )
    parts: list[pl.LazyFrame] = []
    if not candidates.is_empty():
        base = candidates.drop("stream").with_columns(pl.lit("logs").alias("source"))
        routed = _route(base, compiled.text_rules)
        parts += [
            _text_rule_frame(r, rows)
            for r, rows in zip(compiled.text_rules, routed, strict=True)
            if rows.height
        ]
    if not probe_rows.is_empty():
        base = probe_rows.select(*[c for c in LOGS_SCHEMA.names() if c != "stream"]).with_columns(
            pl.lit("probe").alias("source")
        )
        routed = _route(base, compiled.probe_rules)  # (a rule per probe row: 9 s on the sample)
        parts += [
            _text_rule_frame(r, rows)
            for r, rows in zip(compiled.probe_rules, routed, strict=True)
            if rows.height
        ]
    if not event_frame.is_empty():
        ev = mark_oom(event_frame).with_columns(pl.lit("events").alias("source"))
        parts += [_event_rule_frame(r, ev) for r in compiled.event_rules]
    # (the others read the other rules' findings: see detect_findings)
    inferred = [
        banner_restarts(log_lf, event_frame, r)
        for r in compiled.inferred_rules
        if r.infer == "banner-repeats"
    ]
    # One by one, in memory: each is small (the rows routed to one rule), and
    # collect_all's parallel queries or the streaming engine's set-up cost more
    # than they save (1M lines: 1.4-1.6 s -> 1.1 s; an hour: 0.48 s -> 0.17 s).
    matched = [f for f in (p.collect(engine="in-memory") for p in parts) if f.height]
    # (a generic rule gives way to a specific one on the same record; an inference
    # says something else of that record, and whichever rules run, it stays)
    nonempty = [f for f in inferred if f.height]
    if matched:
        nonempty.insert(0, drop_generic(pl.concat(matched, how="diagonal_relaxed")))
    if not nonempty:
        return pl.DataFrame()
    findings = pl.concat(nonempty, how="diagonal_relaxed")
    return findings.drop("level") if "level" in findings.columns else findings


@dataclass(frozen=True)
class _Context:
    """What attribution and crash loops need of all records, as small summaries
    (never every record's columns: a day of a busy store is millions of rows)."""

    services: list[str]
    containers: dict[str, str]
    projects: list[str]
    data_end: pl.DataFrame
    """Per service: `_last_activity` (its last record or non-die event), `_data_end`."""

    @classmethod
    def of(
        cls, log_lf: pl.LazyFrame, event_frame: pl.DataFrame, projects: Sequence[str]
    ) -> _Context:
        combos = (
            log_lf.group_by("service", "container", "project", maintain_order=True)
            .agg(pl.col("ts").max())
            .collect(engine="streaming")
        )  # a few rows per container, in order of first appearance
        log_activity = combos.group_by("service").agg(pl.col("ts").max())
        services = sorted(
            set(combos.get_column("service").drop_nulls().to_list())
            | set(event_frame.get_column("service").drop_nulls().unique().to_list())
        )
        pairs = (
            pl.concat(
                [combos.select("container", "service"), event_frame.select("container", "service")]
            )
            .drop_nulls()
            .unique(subset="container", keep="first", maintain_order=True)
        )
        all_projects = sorted(
            set(projects)
            | set(combos.get_column("project").drop_nulls().to_list())
            | set(event_frame.get_column("project").drop_nulls().unique().to_list())
        )
        activity = pl.concat(
            [
                log_activity,
                event_frame.filter(pl.col("action") != EventAction.DIE.value).select(
                    "service", "ts"
                ),
            ]
        )
        end = pl.concat([log_activity.select("ts"), event_frame.select("ts")]).get_column("ts")
        data_end = (
            activity.group_by("service")
            .agg(pl.col("ts").max().alias("_last_activity"))
            .with_columns(pl.lit(end.max(), dtype=TS_DTYPE).alias("_data_end"))
        )
        return cls(
            services=services,
            containers=dict(pairs.iter_rows()),
            projects=all_projects,
            data_end=data_end,
        )
