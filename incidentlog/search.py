"""`incidentlog grep`: search the history store (or files) by text, service, time and rule.

A query is pushed down as far as it goes: `Store.scan` prunes day partitions
and, through Parquet row-group statistics, services and times; host, project
and level predicates come next, and the regex runs last, on what survived.
Only the matching rows (and their context) are collected. Output is built
with Polars string expressions, never a Python loop over records: text in the
shape of `docker compose logs --timestamps` (so habits and scripts carry
over, and the output can be ingested again), or JSON Lines.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import polars as pl

from incidentlog.errors import UsageError
from incidentlog.redact import redact_expr
from incidentlog.schema import LOGS_SCHEMA, Category, Level

__all__ = [
    "COLOR_MODES",
    "EXIT_ERROR",
    "EXIT_NO_MATCH",
    "FORMATS",
    "GrepQuery",
    "GrepResult",
    "UsageError",
    "glob_to_regex",
    "grep_counts_jsonl",
    "grep_counts_text",
    "grep_history",
    "grep_jsonl",
    "grep_text",
    "levels_at_least",
    "run_grep",
    "use_color",
    "write_chunks",
]

EXIT_NO_MATCH = 1
"""Exit code when nothing matched, as grep."""
EXIT_ERROR = 2
"""Exit code on bad input (a bad regex, an unknown level), as grep."""

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.9fZ"
"""Docker's fixed RFC 3339 nanosecond stamp, as `docker compose logs --timestamps` prints it."""

_COMPOSE_COLORS = ("36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1")
"""The prefix colours `docker compose logs` cycles through (cmd/formatter/colors.go)."""
_HIGHLIGHT = "\x1b[1;31m"
_RESET = "\x1b[0m"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f]"
"""Control characters that could drive a terminal; shown as `?` when writing to one."""
_LEVEL_ALIASES = {"warning": "warn", "err": "error", "critical": "fatal", "crit": "fatal"}
_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class GrepQuery:
    """What to look for; every filter is optional and they all combine with AND."""

    pattern: str
    fixed: bool = False
    ignore_case: bool = False
    invert: bool = False
    services: tuple[str, ...] = ()
    """Service names or globs (`api`, `agent-*`); any of them."""
    since: datetime | None = None
    until: datetime | None = None
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


def glob_to_regex(globs: Iterable[str]) -> str:
    """One anchored Rust regex matching any of the shell globs (`*`, `?`, `[...]`)."""
    parts: list[str] = []
    for glob in globs:
        out: list[str] = []
        i = 0
        while i < len(glob):
            ch = glob[i]
            if ch == "*":
                out.append(".*")
            elif ch == "?":
                out.append(".")
            elif ch == "[" and "]" in glob[i + 2 :]:
                end = glob.index("]", i + 2)
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                i = end
            else:
                out.append(pl.escape_regex(ch))
            i += 1
        parts.append("".join(out))
    return "^(?:" + "|".join(parts) + ")$"


def _is_glob(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def levels_at_least(level: str) -> list[str]:
    """The level names at or above `level` (unknown never counts as a level)."""
    name = _LEVEL_ALIASES.get(level.lower(), level.lower())
    ranked = [lvl.value for lvl in Level if lvl is not Level.UNKNOWN]
    if name not in ranked:
        raise UsageError(f"--level {level!r} is not a level (allowed: {', '.join(ranked)})")
    return ranked[ranked.index(name) :]


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


def _check(query: GrepQuery) -> None:
    for option, value in (("-A", query.after), ("-B", query.before)):
        if value < 0:
            raise UsageError(f"{option} {value}: context must be 0 or more lines")
    if query.limit is not None and query.limit < 1:
        raise UsageError(f"--limit {query.limit}: must be 1 or more")
    if query.since and query.until and query.since > query.until:
        raise UsageError("--since is after --until")
    allowed = {c.value for c in Category}
    unknown = [c for c in query.categories if c not in allowed]
    if unknown:
        raise UsageError(
            f"--category {unknown[0]!r} is not a category (allowed: {', '.join(sorted(allowed))})"
        )


def _source(
    query: GrepQuery,
    paths: Sequence[str | Path],
    store: Path | None,
    services: list[str],
) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """Logs (pruned by the store where it can) and, for --category/--rule, events."""
    exact = [s for s in services if not _is_glob(s)]
    if paths:
        from incidentlog.ingest import read_inputs

        hint = exact[0] if len(exact) == 1 and len(services) == 1 else None
        result = read_inputs(list(paths), service=hint)
        logs = result.logs.lazy()
        events = result.events.lazy()
        window = pl.lit(True)
        if query.since is not None:
            window = window & (pl.col("ts") >= query.since)
        if query.until is not None:
            window = window & (pl.col("ts") <= query.until)
        logs, events = logs.filter(window), events.filter(window)
        if services:
            logs = logs.filter(pl.col("service").str.contains(glob_to_regex(services)))
        return logs, events

    from incidentlog.store import Store

    history = Store.open(store)
    wanted = services
    if any(_is_glob(s) for s in services):
        # Expand globs to names so the scan can prune row groups by service.
        names = (
            history.scan("logs", since=query.since, until=query.until)
            .select(pl.col("service").unique())
            .filter(pl.col("service").str.contains(glob_to_regex(services)))
            .collect()
            .get_column("service")
            .to_list()
        )
        wanted = sorted(set(names) | set(exact))
        if not wanted:
            return pl.LazyFrame(schema=LOGS_SCHEMA), None
    logs = history.scan("logs", since=query.since, until=query.until, services=wanted)
    if not (query.categories or query.rules):
        return logs, None
    return logs, history.scan("events", since=query.since, until=query.until)


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


def _finding_ids(
    candidates: pl.DataFrame, events: pl.LazyFrame | None, query: GrepQuery
) -> pl.Series:
    """Ids of the candidate records that a finding of the wanted category/rule matched
    (one list value, for `is_in`)."""
    from incidentlog.detect import detect_findings, load_rules

    ruleset = load_rules()
    known = {rule.id for rule in ruleset.rules}
    missing = [r for r in query.rules if r not in known]
    if missing:
        raise UsageError(
            f"--rule {missing[0]!r} is not a loaded rule (see `incidentlog rules list`)"
        )
    event_frame = events.collect() if events is not None else None
    findings = detect_findings(candidates, event_frame, ruleset)
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
    query: GrepQuery,
    paths: Sequence[str | Path] = (),
    *,
    store: Path | None = None,
    count_only: bool = False,
) -> GrepResult:
    """Records matching `query`, from `paths` (parsed on the fly) or the history store.

    With `count_only` only the counts are wanted: the scan then reads the columns
    the filters need and `service`, not whole records (about twice as fast).
    """
    _check(query)
    if paths and store is not None:
        raise UsageError("give PATHs to search files or --store to search a history, not both")
    services = list(dict.fromkeys(query.services))
    logs, events = _source(query, paths, store, services)
    logs = logs.filter(_filters(query))
    text = _text_match(query)
    by_finding = bool(query.categories or query.rules)
    context = query.before > 0 or query.after > 0

    if not context:
        matched = logs.filter(text)
        if by_finding:
            rows = matched.collect()
            ids = _finding_ids(rows, events, query)
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
        records = _with_context(logs, text, events, query)
    counts = (
        records.filter("match").group_by("service").agg(pl.len().alias("count")).sort("service")
    )
    highlight = None if query.invert else (_regex(query) or pl.escape_regex(query.pattern))
    return GrepResult(records=records, counts=counts, highlight=highlight)


def _with_context(
    logs: pl.LazyFrame, text: pl.Expr, events: pl.LazyFrame | None, query: GrepQuery
) -> pl.DataFrame:
    """Matches plus up to `before`/`after` neighbouring records of the same container."""
    frame = logs.sort(_ORDER, nulls_last=True).with_columns(text.alias("_hit")).collect()
    if query.categories or query.rules:
        candidates = frame.filter("_hit")
        ids = _finding_ids(candidates.drop("_hit"), events, query)
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


# ---- output -------------------------------------------------------------------


def _shown_message(redact: bool) -> pl.Expr:
    return redact_expr("message") if redact else pl.col("message")


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, _CHUNK_ROWS):
        yield frame.slice(start, _CHUNK_ROWS)


def grep_text(
    result: GrepResult,
    *,
    color: bool = False,
    redact: bool = True,
) -> Iterator[str]:
    """`container  | 2025-08-01T12:30:01.000000000Z message` lines, in chunks.

    Every line of a multi-line record is printed with the record's prefix and
    time, as Docker stamps each line, so the output parses back into the same
    records. With `color` the prefix is coloured as compose colours it, control
    characters are made visible, and `highlight` (a Rust regex) is marked in
    matching records.
    """
    records = result.records
    if records.is_empty():
        return
    width = int(records.get_column("container").str.len_chars().max() or 0)  # type: ignore[arg-type]
    prefix = pl.col("container").str.pad_end(width) + pl.lit(" |")
    if color:
        services = records.get_column("service").unique(maintain_order=True).to_list()
        codes = {s: _COMPOSE_COLORS[i % len(_COMPOSE_COLORS)] for i, s in enumerate(services)}
        code = pl.col("service").replace_strict(codes, return_dtype=pl.String)
        prefix = pl.lit("\x1b[") + code + pl.lit("m") + prefix + pl.lit(_RESET)
    stamp = (pl.lit(" ") + pl.col("ts").dt.to_string(TS_FORMAT)).fill_null("")
    message = _shown_message(redact)
    if color:
        message = message.str.replace_all(_CONTROL, "?")
        if result.highlight is not None:
            marked = message.str.replace_all(result.highlight, _HIGHLIGHT + "${0}" + _RESET)
            message = pl.when(pl.col("match")).then(marked).otherwise(message)
    for chunk in _chunks(records):
        lines = (
            chunk.select(
                prefix.alias("_prefix"),
                stamp.alias("_stamp"),
                message.str.split("\n").alias("_line"),
            )
            .explode("_line")
            .select(
                pl.concat_str(
                    pl.col("_prefix"), pl.col("_stamp"), pl.lit(" "), pl.col("_line")
                ).str.join("\n")
            )
            .item()
        )
        yield lines + "\n"


def grep_jsonl(result: GrepResult, *, redact: bool = True) -> Iterator[str]:
    """One JSON object per record: ts, service, container, level, message, and the rest."""
    if result.records.is_empty():
        return
    columns = [
        pl.col("ts").dt.to_string(TS_FORMAT).alias("ts"),
        pl.col("service"),
        pl.col("container"),
        pl.col("level").cast(pl.String),
        _shown_message(redact).alias("message"),
        pl.col("stream").cast(pl.String),
        pl.col("host"),
        pl.col("project"),
        pl.col("id"),
        pl.col("match"),
    ]
    for chunk in _chunks(result.records):
        yield chunk.select(columns).write_ndjson()


def grep_counts_text(result: GrepResult) -> str:
    """`service:count` per service with matches, as `grep -c` prints `file:count`."""
    return "".join(f"{s}:{n}\n" for s, n in result.counts.iter_rows())


def grep_counts_jsonl(result: GrepResult) -> str:
    """`{"service": "...", "count": N}` per service with matches."""
    return "".join(
        json.dumps({"service": s, "count": n}, ensure_ascii=False) + "\n"
        for s, n in result.counts.iter_rows()
    )


def write_chunks(chunks: Iterable[str], stream: TextIO | None = None) -> bool:
    """Write `chunks`; False when the reader went away (`grep ... | head`), quietly."""
    out = stream or sys.stdout
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # Python would complain while flushing stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
        return False
    return True


# ---- the command ---------------------------------------------------------------

FORMATS = ("text", "jsonl")
COLOR_MODES = ("auto", "always", "never")


def use_color(mode: str, stream: TextIO | None = None) -> bool:
    """`--color auto` colours a terminal unless $NO_COLOR is set; always/never force it."""
    if mode not in COLOR_MODES:
        raise UsageError(f"--color {mode!r} is not supported (allowed: {', '.join(COLOR_MODES)})")
    if mode != "auto":
        return mode == "always"
    out = stream or sys.stdout
    return out.isatty() and not os.environ.get("NO_COLOR")


def run_grep(
    query: GrepQuery,
    paths: Sequence[str | Path] = (),
    *,
    store: Path | None = None,
    fmt: str = "text",
    count: bool = False,
    color: bool = False,
    redact: bool = True,
) -> tuple[Iterable[str], bool]:
    """(output chunks, whether anything matched) for `incidentlog grep`."""
    if fmt not in FORMATS:
        raise UsageError(
            f"--format {fmt!r} is not supported by grep (allowed: {', '.join(FORMATS)})"
        )
    result = grep_history(query, paths, store=store, count_only=count)
    chunks: Iterable[str]
    if count:
        chunks = [grep_counts_jsonl(result) if fmt == "jsonl" else grep_counts_text(result)]
    elif fmt == "jsonl":
        chunks = grep_jsonl(result, redact=redact)
    else:
        chunks = grep_text(result, color=color, redact=redact)
    return chunks, result.matched > 0
