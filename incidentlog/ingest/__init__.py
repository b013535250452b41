"""Ingest: every input shape into the `logs` and `events` frames of schema.py.

`iter_ingest` streams batches (bounded memory, for the store); `read_inputs`
collects them (for commands that work on files directly). Every input line is
accounted for in the `IngestSummary`: kept, or rejected with a reason.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from incidentlog.errors import FormatError, InputError
from incidentlog.ingest.compose import (
    parse_compose_lines,
    parse_raw_lines,
    service_from_container,
)
from incidentlog.ingest.events import parse_event_lines
from incidentlog.ingest.jsonfile import (
    hold_open_partials,
    identity_for_log_path,
    parse_jsonfile_lines,
    rejoin_partials,
)
from incidentlog.ingest.levels import with_level
from incidentlog.ingest.lines import CHUNK_BYTES, STDIN, open_input, read_line_batches
from incidentlog.ingest.snapshots import inspect_rows, ps_rows, rows_to_frame
from incidentlog.ingest.sniff import SNIFF_BYTES, InputFormat, looks_binary, sniff_format
from incidentlog.ingest.stitch import stitch_records
from incidentlog.schema import (
    EVENT_IDENTITY,
    EVENTS_SCHEMA,
    LOG_IDENTITY,
    LOGS_SCHEMA,
    TS_DTYPE,
    conform,
    empty,
    row_ids,
)

if TYPE_CHECKING:
    from incidentlog.store import AppendResult

__all__ = [
    "Batch",
    "IngestOptions",
    "IngestResult",
    "IngestSummary",
    "InputFormat",
    "Occurrences",
    "SourceSummary",
    "finish_events",
    "finish_logs",
    "ingest_into_store",
    "iter_ingest",
    "read_inputs",
]


@dataclass(frozen=True)
class IngestOptions:
    fmt: InputFormat | None = None
    service: str | None = None
    project: str | None = None
    host: str = field(default_factory=socket.gethostname)
    chunk_bytes: int = CHUNK_BYTES

    @classmethod
    def build(
        cls,
        *,
        fmt: InputFormat | str | None = None,
        service: str | None = None,
        project: str | None = None,
        host: str | None = None,
    ) -> IngestOptions:
        """Options from user values: `fmt` checked, `host` defaulting to this machine."""
        return cls(
            fmt=_input_format(fmt),
            service=service,
            project=project,
            host=host or socket.gethostname(),
        )


@dataclass
class Rejected:
    count: int = 0
    sample_line: int = 0
    sample: str = ""


@dataclass
class SourceSummary:
    """What one input yielded; `lines == kept_lines + sum(rejected counts)`."""

    source: str
    format: InputFormat
    lines: int = 0
    kept_lines: int = 0
    records: int = 0
    events: int = 0
    invalid_utf8: int = 0
    rejected: dict[str, Rejected] = field(default_factory=dict)
    services: set[str] = field(default_factory=set)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    note: str = ""

    @property
    def rejected_lines(self) -> int:
        return sum(r.count for r in self.rejected.values())

    def reject(self, reason: str, count: int, line: int, sample: str) -> None:
        entry = self.rejected.setdefault(reason, Rejected(sample_line=line, sample=sample[:200]))
        entry.count += count

    def saw(self, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        self.services.update(frame.get_column("service").drop_nulls().unique().to_list())
        ts = frame.get_column("ts").drop_nulls()
        if ts.len():
            lo, hi = ts.min(), ts.max()
            assert isinstance(lo, datetime) and isinstance(hi, datetime)
            self.first_ts = lo if self.first_ts is None else min(self.first_ts, lo)
            self.last_ts = hi if self.last_ts is None else max(self.last_ts, hi)


@dataclass
class IngestSummary:
    sources: list[SourceSummary] = field(default_factory=list)
    already_stored: int = 0
    """Records and events skipped because the store already held them."""
    skipped: list[str] = field(default_factory=list)
    """Inputs that could not be read at all (one message each), when others could."""

    @property
    def records(self) -> int:
        return sum(s.records for s in self.sources)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sources)

    @property
    def lines(self) -> int:
        return sum(s.lines for s in self.sources)

    @property
    def rejected_lines(self) -> int:
        return sum(s.rejected_lines for s in self.sources)

    def to_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "records": self.records,
            "events": self.events,
            "rejected_lines": self.rejected_lines,
            "skipped": list(self.skipped),
            "sources": [
                {
                    "source": s.source,
                    "format": s.format.value,
                    "lines": s.lines,
                    "records": s.records,
                    "events": s.events,
                    "invalid_utf8": s.invalid_utf8,
                    "services": sorted(s.services),
                    "first_ts": s.first_ts.isoformat() if s.first_ts else None,
                    "last_ts": s.last_ts.isoformat() if s.last_ts else None,
                    "rejected": {
                        reason: {"count": r.count, "line": r.sample_line, "sample": r.sample}
                        for reason, r in s.rejected.items()
                    },
                    "note": s.note,
                }
                for s in self.sources
            ],
        }

    def describe(self) -> str:
        """The human summary: per source what was read, kept and rejected (with a sample)."""
        out: list[str] = []
        for s in self.sources:
            span = (
                f"{s.first_ts:%Y-%m-%d %H:%M:%S} .. {s.last_ts:%Y-%m-%d %H:%M:%S} UTC"
                if s.first_ts and s.last_ts
                else "no timestamps"
            )
            out.append(
                f"{s.source} ({s.format.value}): {s.lines} lines -> {s.records} records, "
                f"{s.events} events; {len(s.services)} services; {span}"
            )
            if s.services:
                out.append(f"  services: {', '.join(sorted(s.services))}")
            if s.invalid_utf8:
                out.append(f"  {s.invalid_utf8} invalid UTF-8 sequences replaced with U+FFFD")
            for reason, r in sorted(s.rejected.items(), key=lambda item: -item[1].count):
                out.append(
                    f"  rejected {r.count} lines: {reason}; e.g. line {r.sample_line}: {r.sample[:120]!r}"
                )
            if s.note:
                out.append(f"  note: {s.note}")
        out.extend(f"skipped {problem}" for problem in self.skipped)
        out.append(
            f"total: {self.lines} lines -> {self.records} records, {self.events} events, "
            f"{self.rejected_lines} lines rejected"
        )
        return "\n".join(out)


@dataclass(frozen=True)
class Batch:
    logs: pl.DataFrame
    events: pl.DataFrame


@dataclass(frozen=True)
class IngestResult:
    logs: pl.DataFrame
    events: pl.DataFrame
    summary: IngestSummary


def read_inputs(
    sources: Sequence[str | Path],
    *,
    service: str | None = None,
    fmt: InputFormat | str | None = None,
    project: str | None = None,
    host: str | None = None,
) -> IngestResult:
    """Parse `sources` (paths, or `-` for stdin) into in-memory frames."""
    options = IngestOptions.build(fmt=fmt, service=service, project=project, host=host)
    summary = IngestSummary()
    logs: list[pl.DataFrame] = []
    events: list[pl.DataFrame] = []
    for batch in iter_ingest(sources, options, summary):
        logs.append(batch.logs)
        events.append(batch.events)
    return IngestResult(
        logs=pl.concat(logs) if logs else empty(LOGS_SCHEMA),
        events=pl.concat(events) if events else empty(EVENTS_SCHEMA),
        summary=summary,
    )


def ingest_into_store(
    sources: Sequence[str | Path],
    *,
    store: Path | None = None,
    fmt: InputFormat | str | None = None,
    service: str | None = None,
    project: str | None = None,
    host: str | None = None,
    progress: bool = False,
) -> tuple[IngestSummary, AppendResult]:
    """Stream `sources` into the history store (created on first use)."""
    from incidentlog.store import Store

    options = IngestOptions.build(fmt=fmt, service=service, project=project, host=host)
    history = Store.open(store, create=True)
    summary = IngestSummary()

    def frames() -> Generator[tuple[str, pl.DataFrame]]:
        for batch in iter_ingest(sources, options, summary, progress=progress):
            yield "logs", batch.logs
            yield "events", batch.events

    with closing(frames()) as batches:  # on a store error, inputs are closed at once
        written = history.append(batches)
    summary.already_stored = written.duplicates
    return summary, written


def _input_format(fmt: InputFormat | str | None) -> InputFormat | None:
    if not fmt:
        return None
    try:
        return InputFormat(fmt)
    except ValueError:
        allowed = ", ".join(f.value for f in InputFormat)
        raise FormatError(f"unknown --format {fmt!r} (expected one of {allowed})") from None


def iter_ingest(
    sources: Sequence[str | Path],
    options: IngestOptions,
    summary: IngestSummary,
    *,
    progress: bool = False,
) -> Iterator[Batch]:
    """Yield frames batch by batch, filling `summary` as it goes.

    Structured sources (inspect, events, ps) are read first: their compose
    labels name the project and service of each container, which then
    completes the log records that carry only a replica name.
    """
    if not sources:
        raise InputError("no input given (pass files, or - for standard input)")
    if options.fmt is not None and not isinstance(options.fmt, InputFormat):
        raise FormatError(f"unknown --format {options.fmt!r}")
    opened = []
    for source in sources:
        try:
            opened.append(_open(str(source), options))
        except InputError as exc:  # one unreadable input among several is reported, not fatal
            if len(sources) == 1:
                raise
            summary.skipped.append(str(exc))
    if not opened:
        raise InputError(f"nothing could be read: {'; '.join(summary.skipped)}")
    bar = _Progress(opened) if progress else None
    opened.sort(
        key=lambda item: item[1] in (InputFormat.COMPOSE, InputFormat.RAW, InputFormat.JSONFILE)
    )
    identities = pl.DataFrame(
        schema={"container": pl.String, "project": pl.String, "service": pl.String}
    )
    seq = 0
    try:
        for source, fmt, stream, head in opened:
            source_summary = SourceSummary(source=source, format=fmt)
            summary.sources.append(source_summary)
            for batch in _read_source(source, fmt, stream, head, options, source_summary, seq):
                batch = _apply_identities(batch, identities, options)
                seq += batch.logs.height + batch.events.height
                source_summary.records += batch.logs.height
                source_summary.events += batch.events.height
                source_summary.saw(batch.logs)
                source_summary.saw(batch.events)
                if fmt in (InputFormat.INSPECT, InputFormat.EVENTS, InputFormat.PS):
                    identities = _learn_identities(identities, batch.events)
                if bar:
                    bar.advance(stream)
                yield batch
            if source != STDIN:
                stream.close()
    finally:  # also when the consumer stops early: no input is left open
        for source, _, stream, _ in opened:
            if source != STDIN:
                stream.close()
        if bar:
            bar.close()


class _Progress:
    """A byte-based progress bar on stderr for long inputs (terminals only)."""

    MIN_BYTES = 64 * 1024 * 1024

    def __init__(self, opened: list[tuple[str, InputFormat, BinaryIO, bytes]]) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        sizes = [Path(src).stat().st_size for src, *_ in opened if src != STDIN]
        self.total = sum(sizes)
        self.done = 0
        self.last: dict[int, int] = {}
        self.bar: Progress | None = None
        if self.total >= self.MIN_BYTES:
            self.bar = Progress(
                "ingest", BarColumn(), DownloadColumn(), TimeRemainingColumn(), transient=True
            )
            self.task = self.bar.add_task("ingest", total=self.total)
            self.bar.start()

    def advance(self, stream: BinaryIO) -> None:
        if self.bar is None:
            return
        try:
            position = stream.tell()
        except (OSError, AttributeError, ValueError):
            return
        delta = position - self.last.get(id(stream), 0)
        self.last[id(stream)] = position
        self.bar.advance(self.task, delta)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _open(source: str, options: IngestOptions) -> tuple[str, InputFormat, BinaryIO, bytes]:
    stream = open_input(source)
    head = stream.read(SNIFF_BYTES)
    if options.fmt is None and looks_binary(head):
        if source != STDIN:
            stream.close()
        raise FormatError(
            f"{source}: binary data, not a text log (force a format with --format to read it anyway)"
        )
    fmt = options.fmt or sniff_format(head)
    if fmt is None:
        if source != STDIN:
            stream.close()
        if not head.strip():
            raise InputError(f"{source}: empty input")
        raise FormatError(
            f"{source}: format not recognised "
            f"(expected one of {', '.join(f.value for f in InputFormat)}; force one with --format)"
        )
    return source, fmt, stream, head


def _read_source(
    source: str,
    fmt: InputFormat,
    binary: BinaryIO,
    head: bytes,
    options: IngestOptions,
    summary: SourceSummary,
    seq0: int,
) -> Iterator[Batch]:
    if fmt in (InputFormat.INSPECT, InputFormat.PS):
        document = head + binary.read()
        text = document.decode("utf-8", errors="replace")
        summary.lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if fmt is InputFormat.INSPECT:
            rows, rejects = inspect_rows(text, source), list[tuple[int, str, str]]()
        else:
            rows, rejects = ps_rows(text, source)
        for number, reason, line in rejects:
            summary.reject(reason, 1, number, line)
        summary.kept_lines = summary.lines - summary.rejected_lines
        frame = rows_to_frame(rows).with_columns(
            seq=pl.int_range(seq0, seq0 + len(rows), dtype=pl.UInt64)
        )
        yield Batch(empty(LOGS_SCHEMA), finish_events(frame, options))
        return
    service = options.service or (Path(source).stem if source != STDIN else "stdin")
    if fmt is InputFormat.RAW and not options.service:
        summary.note = (
            f"no service prefix: records attributed to service {service!r} (set --service)"
        )
    if fmt is InputFormat.EVENTS:
        for lines in _line_frames(binary, head, options, summary, seq0):
            parsed = _keep(parse_event_lines(lines), summary)
            yield Batch(empty(LOGS_SCHEMA), finish_events(parsed, options))
        return
    carry: pl.DataFrame | None = None
    seen = Occurrences()
    # later batches are parsed on worker threads (`_kept_lines`) while this one is stitched
    for kept in _kept_lines(source, fmt, binary, head, options, summary, seq0):
        if carry is not None:
            kept = pl.concat([carry, kept], how="diagonal_relaxed")
        records, carry = stitch_records(kept, final=False)
        yield Batch(finish_logs(records, options, seen), empty(EVENTS_SCHEMA))
    if carry is not None and carry.height:
        records, _ = stitch_records(carry, final=True)
        yield Batch(finish_logs(records, options, seen), empty(EVENTS_SCHEMA))


def _line_frames(
    binary: BinaryIO, head: bytes, options: IngestOptions, summary: SourceSummary, seq0: int
) -> Iterator[pl.DataFrame]:
    """Batches of `line`, `seq` (arrival order) and `lineno` (1-based, per input)."""
    seq = seq0
    for batch in read_line_batches(binary, head=head, chunk_bytes=options.chunk_bytes):
        n = batch.lines.len()
        summary.lines += n
        summary.invalid_utf8 += batch.invalid_utf8
        yield pl.DataFrame(
            {
                "line": batch.lines,
                "seq": pl.int_range(seq, seq + n, dtype=pl.UInt64, eager=True),
                "lineno": pl.int_range(
                    batch.first_line, batch.first_line + n, dtype=pl.UInt64, eager=True
                ),
            }
        )
        seq += n


def _kept_lines(
    source: str,
    fmt: InputFormat,
    binary: BinaryIO,
    head: bytes,
    options: IngestOptions,
    summary: SourceSummary,
    seq0: int,
) -> Iterator[pl.DataFrame]:
    """Parsed log lines with their level, ready for stitching (rejects tallied in `summary`).

    Batches are parsed on worker threads, several at once (Polars releases the
    GIL); reading, tallying and rejoining split json-file lines stay here, in
    input order.
    """
    service = options.service or (Path(source).stem if source != STDIN else "stdin")
    identity = identity_for_log_path(Path(source)) if fmt is InputFormat.JSONFILE else None

    def parse(lines: pl.DataFrame) -> pl.DataFrame:
        if fmt is InputFormat.COMPOSE:
            parsed = parse_compose_lines(lines).with_columns(stream=pl.lit("unknown"))
        elif fmt is InputFormat.RAW:
            parsed = parse_raw_lines(lines, service).with_columns(stream=pl.lit("unknown"))
        else:
            assert identity is not None
            parsed = parse_jsonfile_lines(lines, identity)
        # a stitched record keeps its first line's level (the head decides, never a
        # word deep in a stack trace); a rejoined split line, its first piece's
        return with_level(parsed, "text")

    held: pl.DataFrame | None = None  # pieces of a split json-file line still to be completed
    columns = [*_STITCHED, "level"]
    for parsed in _in_order_on_workers(parse, _line_frames(binary, head, options, summary, seq0)):
        kept = _keep(parsed, summary)
        if fmt is InputFormat.JSONFILE:
            if held is not None:
                kept = pl.concat([held, kept])
            kept, held = hold_open_partials(kept)
            kept = rejoin_partials(kept)
        yield kept.select(*columns, *(["project"] if "project" in kept.columns else []))
    if held is not None and held.height:  # the input ended inside a split line
        yield rejoin_partials(held).select(*columns, "project")


PARSE_WORKERS = 2
"""Batches parsed at once: one per core of the machines this is measured on;
each holds one batch in memory."""


def _in_order_on_workers(
    work: Callable[[pl.DataFrame], pl.DataFrame], items: Iterator[pl.DataFrame]
) -> Iterator[pl.DataFrame]:
    """`work(item)` for each item on a thread pool, yielded in input order.

    Items are drawn (read) on the caller's thread; at most PARSE_WORKERS + 1
    are in flight, so memory stays bounded.
    """
    with ThreadPoolExecutor(
        max_workers=PARSE_WORKERS, thread_name_prefix="incidentlog-parse"
    ) as pool:
        pending: deque[Future[pl.DataFrame]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > PARSE_WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_STITCHED = ("seq", "lineno", "ts", "container", "service", "stream", "text")
"""Columns of a parsed line that stitching needs (plus `project` when known)."""


def _keep(parsed: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
    """Rows without a reject reason; the others are tallied with a sample."""
    if "reject" not in parsed.columns:
        return parsed
    if parsed.get_column("reject").null_count() == parsed.height:  # the usual case
        summary.kept_lines += parsed.height
        return parsed.drop("reject")
    bad = parsed.filter(pl.col("reject").is_not_null())
    if bad.height:
        tally = bad.group_by("reject").agg(
            pl.len().alias("n"), pl.col("lineno").first(), pl.col("line").first()
        )
        for reason, n, lineno, line in tally.iter_rows():
            summary.reject(reason, n, lineno, line)
    good = parsed.filter(pl.col("reject").is_null())
    summary.kept_lines += good.height
    return good.drop("reject")


_SEEN_SCHEMA = pl.Schema(
    {"_content": pl.UInt64(), "container": pl.String(), "ts": TS_DTYPE, "_seen": pl.UInt64()}
)


@dataclass
class Occurrences:
    """How often each record at a container's latest instant was already emitted.

    Occurrence numbers must not restart at a batch boundary (nor at the
    stitching carry-over, which emits each container's last record one batch
    later), or two identical records at the same instant would get the same
    id and the store would drop one. Identical records share container and
    ts, and a container's records arrive in order, so only the counts at each
    container's latest instant need to be kept: a few rows per container.
    """

    latest: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SEEN_SCHEMA))


def finish_logs(records: pl.DataFrame, options: IngestOptions, seen: Occurrences) -> pl.DataFrame:
    """Add host, project, level and the content id; conform to LOGS_SCHEMA."""
    if "project" not in records.columns:
        records = records.with_columns(project=pl.lit(None, dtype=pl.String))
    if "level" not in records.columns:
        records = with_level(records, "message")
    frame = records.with_columns(
        host=pl.lit(options.host),
        project=pl.coalesce(pl.col("project"), pl.lit(options.project, dtype=pl.String)),
    )
    frame = frame.with_columns(_content=row_ids(frame, LOG_IDENTITY))
    # identical records at the same instant are told apart by occurrence; without a
    # time, by their line in the input, so re-ingesting the same input is a no-op
    content = pl.col("_content")
    counts = seen.latest.select("_content", "_seen")
    repeats_earlier = (
        frame.get_column("_content").is_in(counts.get_column("_content").implode()).any()
    )
    if repeats_earlier:
        frame = frame.join(counts, on="_content", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(_seen=pl.lit(None, dtype=counts.schema["_seen"]))
    occurrence = pl.when(pl.col("ts").is_null()).then(pl.col("lineno")).otherwise(0)
    if repeats_earlier or frame.get_column("_content").n_unique() < frame.height:
        occurrence = (
            pl.when(pl.col("ts").is_null())
            .then(pl.col("lineno"))
            .otherwise(
                pl.col("_seen").fill_null(0) + pl.int_range(pl.len(), dtype=pl.UInt64).over(content)
            )
        )
    frame = frame.with_columns(_k=occurrence.cast(pl.UInt64))
    if frame.get_column("_k").max() or 0:  # some records repeat: their occurrence goes in the id
        nth = row_ids(frame, ("_content", "_k"))
        frame = frame.with_columns(id=pl.when(pl.col("_k") == 0).then(content).otherwise(nth))
    else:
        frame = frame.with_columns(id=content)
    _remember_latest(frame, seen)
    return conform(frame, LOGS_SCHEMA, "ingest")


def _remember_latest(frame: pl.DataFrame, seen: Occurrences) -> None:
    """Keep the occurrence counts of each container's records at its latest instant."""
    rows = frame.select("container", "ts", "_content", "_k")
    # (the latest instants are near the end of a batch: a cheap cut first)
    earliest_latest = rows.group_by("container").agg(pl.col("ts").max()).get_column("ts").min()
    if earliest_latest is None:  # nothing timed
        return
    timed = rows.filter(pl.col("ts") >= earliest_latest).filter(
        pl.col("ts") == pl.col("ts").max().over("container")
    )
    emitted = timed.group_by("_content").agg(
        pl.col("container").first(), pl.col("ts").first(), (pl.col("_k").max() + 1).alias("_seen")
    )
    merged = (
        pl.concat([seen.latest, emitted.select(seen.latest.columns)])
        .group_by("_content")
        .agg(pl.col("container").first(), pl.col("ts").first(), pl.col("_seen").max())
    )
    seen.latest = merged.filter(pl.col("ts") == pl.col("ts").max().over("container"))


def finish_events(frame: pl.DataFrame, options: IngestOptions) -> pl.DataFrame:
    frame = frame.with_columns(
        host=pl.lit(options.host),
        project=pl.coalesce(pl.col("project"), pl.lit(options.project, dtype=pl.String)),
    )
    # a service guessed from an unlabelled name (`shop_web_1`) loses the project prefix
    guessed = pl.col("service") == service_from_container(pl.col("container"))
    frame = frame.with_columns(
        service=pl.when(guessed.fill_null(False))
        .then(service_from_container(pl.col("container"), pl.col("project")))
        .otherwise(pl.col("service"))
    )
    frame = frame.with_columns(id=row_ids(frame, EVENT_IDENTITY))
    return conform(frame, EVENTS_SCHEMA, "ingest")


def _learn_identities(known: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Container → (project, service) pairs that compose labels vouch for."""
    labelled = events.filter(pl.col("project").is_not_null()).select(
        "container", "project", "service"
    )
    return pl.concat([known, labelled]).unique("container", keep="last")


def _apply_identities(batch: Batch, known: pl.DataFrame, options: IngestOptions) -> Batch:
    """Complete project and service from labelled sources seen earlier.

    `docker ps` names (`mcp-web-1`) and compose log prefixes (`web-1`) carry no
    labels; a labelled container of the same name, or the project prefix of a
    known project, tells which compose service they belong to.
    """
    if known.is_empty():
        return batch
    projects = known.get_column("project").unique().drop_nulls().to_list()

    def complete(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
        if frame.is_empty():
            return frame
        joined = frame.join(known, on="container", how="left", suffix="_known")
        service = pl.col("service")
        for project in projects:
            service = (
                pl.when(
                    pl.col("project_known").is_null()
                    & pl.col("container").str.starts_with(f"{project}-")
                )
                .then(pl.col("service").str.strip_prefix(f"{project}-"))
                .otherwise(service)
            )
        joined = joined.with_columns(
            service=pl.coalesce(pl.col("service_known"), service),
            project=pl.coalesce(
                pl.col("project"),
                pl.col("project_known"),
                pl.lit(projects[0] if len(projects) == 1 else None, dtype=pl.String),
            ),
        )
        return conform(joined, schema, "ingest")

    return Batch(complete(batch.logs, LOGS_SCHEMA), complete(batch.events, EVENTS_SCHEMA))
