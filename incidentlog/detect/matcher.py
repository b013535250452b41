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

from incidentlog.detect.rules import Rule, RuleSet, Source
from incidentlog.redact import redact_expr
from incidentlog.schema import (
    EVENTS_SCHEMA,
    FINDINGS_SCHEMA,
    LEVEL_DTYPE,
    LOGS_SCHEMA,
    ORIGIN_COLUMNS,
    TS_DTYPE,
    Category,
    EventAction,
    Level,
    Severity,
    conform,
)

__all__ = [
    "FINDINGS_COLUMNS",
    "SUMMARY_COLUMNS",
    "CompiledRules",
    "compile_rules",
    "detect_findings",
    "service_of_container",
    "summarize_findings",
]

SEVERITY_DTYPE: pl.DataType = FINDINGS_SCHEMA["severity"]
FIELD_PREFIX = "f."
"""Fields travel as columns `f.<name>` until they are encoded as one JSON object."""

FINDINGS_COLUMNS = pl.Schema(
    {
        **dict(FINDINGS_SCHEMA.items()),
        "source": pl.String(),
        **ORIGIN_COLUMNS,
        "reporter": pl.String(),
        "message": pl.String(),
        "pack": pl.String(),
        "title": pl.String(),
        "remediation": pl.String(),
        "fix": pl.String(),
        "transient": pl.Boolean(),
    }
)
"""`detect_findings` output: FINDINGS_SCHEMA first, then handy columns.
`service`/`container` are what the evidence is ABOUT (a watcher line naming
another container counts for that container); `reporter` is the service whose
output carried it. `message` is the matched text, unredacted; `title` and
`remediation` are the rule's templates (filled in by `summarize_findings`)."""

SUMMARY_COLUMNS = pl.Schema(
    {
        "service": pl.String(),
        "category": pl.String(),
        "rule": pl.String(),
        "severity": SEVERITY_DTYPE,
        "count": pl.UInt32(),
        "first_seen": TS_DTYPE,
        "last_seen": TS_DTYPE,
        "containers": pl.List(pl.String()),
        "fields": pl.String(),
        "evidence": pl.String(),
        "title": pl.String(),
        "remediation": pl.String(),
        "fix": pl.String(),
        "transient": pl.Boolean(),
        "source": pl.String(),
        "pack": pl.String(),
    }
)

_SPECIFIC_OVER = Category.UNHANDLED_EXCEPTION.value
_TRANSIENT_CATEGORIES = (Category.CONNECTION_REFUSED.value, Category.DNS_RESOLUTION.value)
_SIGNALS = {1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REPLICA = re.compile(r"[-_]\d+$")

# Innermost application frame of a traceback, per runtime: all frames, then the
# last one that is not library or runtime code.
_PY_FRAME = r'File "[^"\n]+", line \d+'
_PY_FRAME_GROUPS = r'File "(?P<file>[^"\n]+)", line (?P<line>\d+)'
_PY_LIBRARY = r"site-packages/|dist-packages/|/lib/python\d|<frozen |^<"
_NODE_FRAME = r"\bat (?:[^\n(]*\()?(?:file://)?/[^\s():]+:\d+:\d+"
_NODE_FRAME_GROUPS = r"\bat (?:[^\n(]*\()?(?:file://)?(?P<file>/[^\s():]+):(?P<line>\d+):\d+"
_NODE_LIBRARY = r"/node_modules/|node:internal|^node:"
_GO_FRAME = r"\t/[^\s:]+\.go:\d+"
_GO_FRAME_GROUPS = r"\t(?P<file>/[^\s:]+\.go):(?P<line>\d+)"
_GO_LIBRARY = r"^\t/usr/local/go/|GOROOT|/pkg/mod/|/go/src/runtime/"

OOM_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class CompiledRules:
    """A RuleSet with its Polars expressions built once."""

    ruleset: RuleSet
    text_rules: tuple[Rule, ...]
    probe_rules: tuple[Rule, ...]
    event_rules: tuple[Rule, ...]
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


def _prefilter(rules: Iterable[Rule]) -> pl.Expr:
    """True for messages that could match at least one of `rules`."""
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
        prefilter=_prefilter(text_rules),
        probe_prefilter=_prefilter(probe_rules),
    )


# --------------------------------------------------------------------------- matching


def _rule_columns(rule: Rule) -> list[pl.Expr]:
    return [
        pl.lit(rule.id).alias("rule"),
        pl.lit(rule.category.value).alias("category"),
        pl.lit(rule.severity.value).cast(SEVERITY_DTYPE).alias("severity"),
        pl.lit(rule.pack).alias("pack"),
        pl.lit(rule.title).alias("title"),
        pl.lit(rule.remediation).alias("remediation"),
        pl.lit(rule.fix.value).alias("fix"),
    ]


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
    frame = frame.with_columns(*field_exprs, *_rule_columns(rule))
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
        .replace_strict({k: v for k, v in _SIGNALS.items()}, default=None, return_dtype=pl.String)
    )
    frame = frame.with_columns(
        pl.col("exit_code").cast(pl.String).alias(FIELD_PREFIX + "exit_code"),
        pl.when(pl.col("exit_code") > 128).then(signal).alias(FIELD_PREFIX + "signal"),
        *_rule_columns(rule),
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


def service_of_container(
    name: str,
    services: Iterable[str],
    containers: dict[str, str] | None = None,
    projects: Iterable[str] = (),
) -> str:
    """The compose service a container name (`/mcp-frontend-1`, `mcp_db_1`) belongs to.

    A container seen in the input maps to its service; otherwise strip `/`, a
    replica suffix `-N`/`_N` and a known project prefix, preferring a name that
    matches a service seen in the input.
    """
    known = set(services)
    name = name.strip().lstrip("/")
    if containers and name in containers:
        return containers[name]
    base = _REPLICA.sub("", name)
    if base in known or name in known:
        return base if base in known else name
    for project in sorted(projects, key=len, reverse=True):
        for sep in ("-", "_"):
            if project and base.startswith(project + sep) and len(base) > len(project) + 1:
                return base[len(project) + 1 :]
    parts = re.split(r"[-_]", base)
    for i in range(1, len(parts)):
        for sep in ("-", "_"):
            candidate = sep.join(parts[i:])
            if candidate in known:
                return candidate
    return base


def _attribute(
    findings: pl.DataFrame,
    services: list[str],
    containers: dict[str, str],
    projects: list[str],
) -> pl.DataFrame:
    """Point findings with a subject at the container/service the evidence names."""
    if "_subject" not in findings.columns:
        return findings.with_columns(pl.col("service").alias("reporter"))
    names = findings.get_column("_subject").drop_nulls().unique().to_list()
    mapping = {n: service_of_container(n, services, containers, projects) for n in names}
    subject_service = pl.col("_subject").replace_strict(
        mapping, default=None, return_dtype=pl.String
    )
    return findings.with_columns(
        pl.col("service").alias("reporter"),
        pl.coalesce(subject_service, pl.col("service")).alias("service"),
        pl.coalesce(pl.col("_subject"), pl.col("container")).alias("container"),
    ).drop("_subject")


# --------------------------------------------------------------------------- engine logic


def _frames_fields(frame: pl.DataFrame, prefix: str, names: Iterable[str]) -> list[str]:
    return [c for c in frame.columns if c.startswith(prefix) and c[len(prefix) :] in names]


def _traceback_frames(findings: pl.DataFrame) -> pl.DataFrame:
    """Fill fields `file`/`line` with the innermost application frame of a traceback."""
    message = pl.col("message")

    def innermost(frame_rx: str, groups_rx: str, library_rx: str) -> pl.Expr:
        last = (
            message.str.extract_all(frame_rx)
            .list.eval(pl.element().filter(~pl.element().str.contains(library_rx)))
            .list.last()
        )
        return last.str.extract_groups(groups_rx)

    frame = pl.coalesce(
        innermost(_PY_FRAME, _PY_FRAME_GROUPS, _PY_LIBRARY),
        innermost(_NODE_FRAME, _NODE_FRAME_GROUPS, _NODE_LIBRARY),
        innermost(_GO_FRAME, _GO_FRAME_GROUPS, _GO_LIBRARY),
    )
    for name in ("file", "line"):
        if FIELD_PREFIX + name not in findings.columns:
            findings = findings.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + name))
    has_frames = message.str.contains_any(['File "', "    at ", "\t/"])
    return (
        findings.with_columns(
            pl.when(pl.col("source") != "events")
            .then(pl.when(has_frames).then(frame))
            .alias("_frame")
        )
        .with_columns(
            pl.coalesce(pl.col(FIELD_PREFIX + n), pl.col("_frame").struct.field(n)).alias(
                FIELD_PREFIX + n
            )
            for n in ("file", "line")
        )
        .drop("_frame")
    )


def _drop_generic(findings: pl.DataFrame) -> pl.DataFrame:
    """`unhandled-exception` only where no more specific category matched the record."""
    specific = findings.filter(pl.col("category") != _SPECIFIC_OVER).select("source", "id").unique()
    generic = pl.col("category") == _SPECIFIC_OVER
    kept_generic = findings.filter(generic).join(specific, on=["source", "id"], how="anti")
    return pl.concat([findings.filter(~generic), kept_generic], how="vertical")


def _with_field(findings: pl.DataFrame, name: str, value: pl.Expr) -> pl.DataFrame:
    column = FIELD_PREFIX + name
    if column in findings.columns:
        value = pl.coalesce(pl.col(column), value)
    return findings.with_columns(value.cast(pl.String).alias(column))


def _health_streaks(findings: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Longest run of consecutive failing probes / unhealthy statuses per container."""
    checks = events.filter(
        pl.col("action").is_in([EventAction.HEALTH_STATUS.value, EventAction.PROBE.value])
    )
    if checks.is_empty():
        return findings
    failing = (
        pl.when(pl.col("action") == EventAction.PROBE.value)
        .then(pl.col("exit_code").fill_null(0) != 0)
        .otherwise(pl.col("status") == "unhealthy")
    ).fill_null(False)
    streaks = (
        checks.sort("ts", "seq", nulls_last=False)
        .with_columns(failing.alias("_failing"), pl.col("action").cast(pl.String).alias("_kind"))
        .with_columns(pl.col("_failing").rle_id().over("container", "_kind").alias("_run"))
        .filter(pl.col("_failing"))
        .group_by("container", "_kind", "_run")
        .agg(pl.len().alias("_n"))
        .group_by("container")
        .agg(pl.col("_n").max().alias("_streak"))
    )
    is_health = (pl.col("category") == Category.HEALTHCHECK_FAILED.value) & (
        pl.col("source") != "logs"
    )
    joined = findings.join(streaks, on="container", how="left")
    joined = _with_field(joined, "streak", pl.when(is_health).then(pl.col("_streak")))
    return joined.drop("_streak")


def _mark_oom(events: pl.DataFrame) -> pl.DataFrame:
    """Column `_oom`: an oom event of the same container within OOM_WINDOW, or OOMKilled state."""
    ooms = events.filter(pl.col("action") == EventAction.OOM.value).select(
        "container", pl.col("ts").alias("_oom_ts")
    )
    near = (
        events.select("id", "container", "ts")
        .join(ooms, on="container", how="inner")
        .filter((pl.col("ts") - pl.col("_oom_ts")).abs() <= OOM_WINDOW)
        .get_column("id")
        .unique()
        .implode()
    )
    in_state = pl.col("output").fill_null("").str.contains(r"(?i)oom-?killed")
    return events.with_columns(
        (pl.col("id").is_in(near) | in_state | (pl.col("action") == EventAction.OOM.value)).alias(
            "_oom"
        )
    )


def _crash_loops(findings: pl.DataFrame, data_end: pl.DataFrame, stable: timedelta) -> pl.DataFrame:
    """Per service: restarts, distinct exit codes, median interval, loop closed or not."""
    crash = pl.col("category") == Category.CRASH_LOOP.value
    rows = findings.filter(crash)
    if rows.is_empty():
        return findings
    has_events = (pl.col("source") == "events").any().over("service")
    counted = rows.filter((pl.col("source") == "events") | ~has_events)
    per_service = (
        counted.sort("ts", "seq", nulls_last=True)
        .group_by("service")
        .agg(
            pl.len().alias("_restarts"),
            pl.col(FIELD_PREFIX + "exit_code")
            .drop_nulls()
            .cast(pl.Int64, strict=False)
            .unique()
            .sort()
            .cast(pl.String)
            .str.join(", ")
            .alias("_codes"),
            pl.col("ts").diff().dt.total_seconds().median().alias("_interval"),
            pl.col("ts").max().alias("_last_crash"),
        )
        .join(data_end, on="service", how="left")
        .with_columns(
            (
                (pl.col("_last_activity") > pl.col("_last_crash"))
                & (pl.col("_data_end") - pl.col("_last_crash") >= stable)
            )
            .fill_null(False)
            .alias("_closed")
        )
    )
    if FIELD_PREFIX + "exit_code" not in findings.columns:
        findings = findings.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + "exit_code"))
    joined = findings.join(per_service, on="service", how="left")
    interval = pl.when(pl.col("_interval").is_not_null()).then(
        pl.concat_str(pl.col("_interval").round(0).cast(pl.Int64).cast(pl.String), pl.lit("s"))
    )
    for name, value in (
        ("restarts", pl.col("_restarts")),
        ("exit_codes", pl.col("_codes").replace("", None)),
        ("interval", interval),
        ("closed", pl.col("_closed").cast(pl.String).str.to_lowercase()),
    ):
        joined = _with_field(joined, name, pl.when(crash).then(value))
    return joined.drop(
        "_restarts", "_codes", "_interval", "_last_crash", "_last_activity", "_data_end"
    )


def _transient(findings: pl.DataFrame, logs: pl.LazyFrame, window: timedelta) -> pl.DataFrame:
    """A refused/DNS burst at startup, followed by normal logs and never again: low, transient.

    The bursts are few; the records of their services are streamed past them
    (a join with the bursts, then the time test), never held.
    """
    burst = (
        findings.filter(
            pl.col("category").is_in(_TRANSIENT_CATEGORIES) & pl.col("ts").is_not_null()
        )
        .group_by("service", "category")
        .agg(pl.col("ts").min().alias("_first"), pl.col("ts").max().alias("_last"))
    )
    if burst.is_empty():
        return findings.with_columns(pl.lit(False).alias("transient"))
    burst_services = burst.get_column("service").unique().implode()
    mine = logs.filter(pl.col("service").is_in(burst_services) & pl.col("ts").is_not_null())
    finding_ids = findings.filter(pl.col("source") == "logs").get_column("id").implode()
    normal = mine.filter(
        ~pl.col("level").is_in([Level.WARN.value, Level.ERROR.value, Level.FATAL.value])
        & ~pl.col("id").is_in(finding_ids)
    ).select("service", pl.col("ts").alias("_ok_ts"))
    starts = mine.group_by("service").agg(pl.col("ts").min().alias("_start"))
    bursts = burst.lazy().join(starts, on="service", how="left")
    recovered = (
        normal.join(bursts, on="service", how="inner")
        .filter(
            (pl.col("_ok_ts") > pl.col("_last"))
            & (pl.col("_ok_ts") - pl.col("_last") <= window)
            & (pl.col("_last") - pl.col("_start") <= window)
        )
        .select("service", "category")
        .unique()
        .with_columns(pl.lit(True).alias("transient"))
        .collect(engine="streaming")
    )
    out = findings.join(recovered, on=["service", "category"], how="left").with_columns(
        pl.col("transient").fill_null(False)
    )
    return out.with_columns(
        pl.when(pl.col("transient"))
        .then(pl.lit(Severity.LOW.value).cast(SEVERITY_DTYPE))
        .otherwise(pl.col("severity"))
        .alias("severity")
    )


def _fields_json(frame: pl.DataFrame) -> pl.Expr:
    """One JSON object per row from the non-null `f.<name>` columns (keys sorted)."""
    names = sorted(c[len(FIELD_PREFIX) :] for c in frame.columns if c.startswith(FIELD_PREFIX))
    pieces = [
        pl.when(pl.col(FIELD_PREFIX + n).is_not_null()).then(
            pl.struct(pl.col(FIELD_PREFIX + n).alias(n))
            .struct.json_encode()
            .str.slice(1)
            .str.head(-1)
        )
        for n in names
    ]
    if not pieces:
        return pl.lit("{}")
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("")
    return pl.concat_str(pl.lit("{"), body, pl.lit("}"))


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
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules)
    log_lf = pl.LazyFrame(schema=LOGS_SCHEMA) if logs is None else logs.lazy()
    candidates = conform(log_lf.filter(compiled.prefilter).collect(), LOGS_SCHEMA, "detect")
    event_frame = _as_frame(events, EVENTS_SCHEMA, "detect")
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
        parts += [_text_rule_frame(r, base) for r in compiled.probe_rules]
    if not event_frame.is_empty():
        ev = _mark_oom(event_frame).with_columns(pl.lit("events").alias("source"))
        parts += [_event_rule_frame(r, ev) for r in compiled.event_rules]
    collected = pl.collect_all(parts) if parts else []
    nonempty = [f for f in collected if f.height]
    if not nonempty:
        return pl.DataFrame(schema=FINDINGS_COLUMNS)
    findings = pl.concat(nonempty, how="diagonal_relaxed")
    if "level" in findings.columns:
        findings = findings.drop("level")

    # what the rules below need of all records, as small summaries (never every
    # record's columns: a day of a busy store is millions of rows)
    combos = (
        log_lf.group_by("service", "container", "project", maintain_order=True)
        .agg(pl.col("ts").max())
        .collect(engine="streaming")
    )  # a few rows per container, in order of first appearance
    log_services = combos.select(pl.col("service").drop_nulls().unique())
    log_pairs = combos.select("container", "service").drop_nulls()
    log_projects = combos.select(pl.col("project").drop_nulls().unique())
    log_activity = combos.group_by("service").agg(pl.col("ts").max())
    services = sorted(
        set(log_services.get_column("service").to_list())
        | set(event_frame.get_column("service").drop_nulls().unique().to_list())
    )
    pairs = (
        pl.concat([log_pairs, event_frame.select("container", "service")])
        .drop_nulls()
        .unique(subset="container", keep="first", maintain_order=True)
    )
    container_map = dict(
        zip(
            pairs.get_column("container").to_list(),
            pairs.get_column("service").to_list(),
            strict=True,
        )
    )
    all_projects = sorted(
        set(projects)
        | set(log_projects.get_column("project").to_list())
        | set(event_frame.get_column("project").drop_nulls().unique().to_list())
    )
    findings = _attribute(findings, services, container_map, all_projects)
    findings = _drop_generic(findings)
    findings = _traceback_frames(findings)
    findings = _health_streaks(findings, event_frame)
    activity = pl.concat(
        [
            log_activity,
            event_frame.filter(pl.col("action") != EventAction.DIE.value).select("service", "ts"),
        ]
    )
    data_end = activity.group_by("service").agg(pl.col("ts").max().alias("_last_activity"))
    data_end = data_end.with_columns(
        pl.lit(
            pl.concat([log_activity.select("ts"), event_frame.select("ts")]).get_column("ts").max(),
            dtype=TS_DTYPE,
        ).alias("_data_end")
    )
    findings = _crash_loops(findings, data_end, stable_after)
    findings = _transient(findings, log_lf, transient_window)
    findings = findings.with_columns(_fields_json(findings).alias("fields"))
    order = findings.sort("ts", "source", "seq", "rule", nulls_last=True)
    return order.select(pl.col(n).cast(t) for n, t in FINDINGS_COLUMNS.items())


# --------------------------------------------------------------------------- summary


def _field_names(findings: pl.DataFrame) -> list[str]:
    keys = (
        findings.select(pl.col("fields").str.extract_all(r'[{,]"[A-Za-z0-9_]+":').explode())
        .get_column("fields")
        .drop_nulls()
        .str.slice(2)
        .str.head(-2)
        .unique()
        .sort()
    )
    return keys.to_list()


FALLBACKS = {
    "binary": "the missing executable",
    "module": "the missing module",
    "host": "the target host",
    "port": "the port",
    "path": "the path",
    "env": "the variable",
    "user": "the user",
    "container": "the container",
    "file": "the application code",
    "exit_code": "a non-zero code",
}
"""What a placeholder reads when its field was not extracted for that finding."""


def _fill(template: pl.Expr, names: Sequence[str]) -> pl.Expr:
    """Placeholders filled from fields (fallback text when missing); `{{`/`}}` are braces."""
    template = template.str.replace_all("{{", "\x00", literal=True).str.replace_all(
        "}}", "\x01", literal=True
    )
    for name in names:
        value = pl.col("service") if name == "service" else pl.col(FIELD_PREFIX + name)
        template = template.str.replace_all(
            "{" + name + "}", value.fill_null(FALLBACKS.get(name, f"the {name}")), literal=True
        )
    for name, text in FALLBACKS.items():
        template = template.str.replace_all("{" + name + "}", text, literal=True)
    template = template.str.replace_all(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", "the $1")
    return template.str.replace_all("\x00", "{", literal=True).str.replace_all(
        "\x01", "}", literal=True
    )


def summarize_findings(findings: pl.DataFrame, *, redact: bool = True) -> pl.DataFrame:
    """Findings aggregated per (service, rule), most severe first (SUMMARY_COLUMNS);
    the evidence (the first matched record) with secrets masked unless `redact` is off."""
    if findings.is_empty():
        return pl.DataFrame(schema=SUMMARY_COLUMNS)
    names = _field_names(findings)
    ordered = findings.with_row_index("_order")
    keys = ["service", "rule"]
    aggregated = ordered.group_by(keys).agg(
        pl.col("category").first(),
        pl.col("severity").max(),
        pl.len().alias("count"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("container").drop_nulls().unique().sort().alias("containers"),
        pl.col("message").sort_by("_order").first().alias("evidence"),
        pl.col("title").first(),
        pl.col("remediation").first(),
        pl.col("fix").first(),
        pl.col("transient").all(),
        pl.col("source").first(),
        pl.col("pack").first(),
        pl.col("_order").min(),
    )
    if names:
        dtype = pl.Struct({n: pl.String for n in names})
        long = (
            ordered.select(*keys, "_order", pl.col("fields").str.json_decode(dtype).alias("_f"))
            .unnest("_f")
            .unpivot(index=[*keys, "_order"], on=names, variable_name="_key", value_name="_value")
            .drop_nulls("_value")
            .group_by(*keys, "_key", "_value")
            .agg(pl.len().alias("_n"), pl.col("_order").min().alias("_at"))
            .sort("_n", "_at", descending=[True, False])
            .group_by(*keys, "_key", maintain_order=True)
            .first()
        )
        wide = long.pivot(on="_key", index=keys, values="_value")
        wide = wide.rename({n: FIELD_PREFIX + n for n in names if n in wide.columns})
        for n in names:
            if FIELD_PREFIX + n not in wide.columns:
                wide = wide.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
        aggregated = aggregated.join(wide, on=keys, how="left")
    for n in names:
        if FIELD_PREFIX + n not in aggregated.columns:
            aggregated = aggregated.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
    placeholders = sorted({*names, "service"})
    aggregated = aggregated.with_columns(
        _fields_json(aggregated).alias("fields"),
        (
            redact_expr(pl.col("evidence").str.strip_chars_end())
            if redact
            else pl.col("evidence").str.strip_chars_end()
        ).alias("evidence"),
        _fill(pl.col("title"), placeholders).alias("title"),
        _fill(pl.col("remediation"), placeholders).alias("remediation"),
    )
    aggregated = aggregated.sort(
        pl.col("severity").to_physical(), "count", "_order", descending=[True, True, False]
    )
    return aggregated.select(pl.col(n).cast(t) for n, t in SUMMARY_COLUMNS.items())
