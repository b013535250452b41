"""Reading one input: lines in batches, parsed on worker threads, rejects tallied.

Structured documents (inspect, ps) are read whole; line formats are read in
batches of about CHUNK_BYTES, parsed on PARSE_WORKERS threads (Polars
releases the GIL) and stitched here, in input order, into records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import polars as pl

from incidentlog.errors import FormatError, InputError
from incidentlog.ingest.apptime import read_app_times
from incidentlog.ingest.compose import COMPOSE_SERVICE, parse_compose_lines, parse_raw_lines
from incidentlog.ingest.events import parse_event_lines
from incidentlog.ingest.journal import journal_header, parse_journal_lines
from incidentlog.ingest.jsonfile import (
    hold_open_partials,
    identity_for_log_path,
    parse_jsonfile_lines,
    rejoin_partials,
)
from incidentlog.ingest.levels import with_level
from incidentlog.ingest.lines import STDIN, open_input, read_line_batches
from incidentlog.ingest.names import NAMELESS
from incidentlog.ingest.options import IngestOptions
from incidentlog.ingest.records import Batch, Occurrences, finish_events, finish_logs
from incidentlog.ingest.sessions import (
    FENCE,
    MAX_SESSION_BYTES,
    READ_VERBS,
    Block,
    Cut,
    Section,
    cut_headers,
    cut_markdown,
    cut_session,
    cut_tables,
    file_service,
    is_paste,
    label_of,
    looks_logged,
    named_service,
    viewer,
    without_colours,
)
from incidentlog.ingest.snapshots import inspect_rows, ps_rows, rows_to_frame
from incidentlog.ingest.sniff import (
    SNIFF_BYTES,
    InputFormat,
    looks_binary,
    paste_margin,
    sniff_format,
    without_margin,
)
from incidentlog.ingest.stitch import stitch_records
from incidentlog.ingest.summary import SourceSummary
from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA, TS_DTYPE, empty
from incidentlog.text import plural
from incidentlog.topology import looks_like_compose

Opened = tuple[str, InputFormat, BinaryIO, bytes]
"""An input ready to read: its name, format, stream and the head read to sniff it."""


def open_source(source: str, options: IngestOptions) -> Opened:
    """Open `source` and tell its format (forced by `options`, else sniffed from its head)."""
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


def open_sources(
    source: str, options: IngestOptions, notes: list[str], composes: list[tuple[str, bytes]]
) -> list[Opened]:
    """`open_source`, or, for a pasted terminal session or Markdown text (`sessions.py`),
    one input per command's output or code block; what could not be read and the prompt
    lines go to `notes`, a compose file pasted with the logs to `composes` (where, text)."""
    opened = open_source(source, options)
    _, _, stream, head = opened
    if (
        options.fmt is not None
        or source == STDIN
        or not is_paste(head)
        or Path(source).stat().st_size > MAX_SESSION_BYTES
    ):
        return [opened]
    data = without_colours(head + stream.read())
    stream.close()
    markdown = FENCE.search(data) is not None
    blocks, fences = cut_markdown(data) if markdown else ([Block(1, data, fenced=True)], 0)
    sections: list[Opened] = []
    prompts = headers = 0
    tables_cut = False
    label = None
    for block in blocks:
        parts, cut_at, header_lines, tables = _cut_block(block.data)
        if not block.fenced:
            label = label_of(block.data)  # (`**api logs:**` names the code block below it)
        elif label is not None:
            parts = [replace(p, named=label) if p.command is p.named is None else p for p in parts]
            label = None
        prompts, headers, tables_cut = (
            prompts + cut_at,
            headers + header_lines,
            tables_cut or tables,
        )
        for part in parts:
            line = block.first_line + part.first_line - 1
            command = part.command and _shown(part.command)
            what = f"{source}:{line}" + (f" ({command})" if command else "")
            what += f" ({_shown(part.named)})" if part.named else ""
            lines = part.data.count(b"\n") + (0 if part.data.endswith(b"\n") else 1)
            fmt = sniff_format(part.data[:SNIFF_BYTES])
            unread = _unread(part, fmt, fenced=block.fenced)
            if unread == COMPOSE_FILE:
                composes.append((f"{source}:{line}", without_margin(part.data)))
            elif unread or fmt is None:
                notes.append(f"{what}: {plural(lines, 'line')} not read ({unread})")
            else:
                named = file_service(part.named) if part.named else named_service(part.command)
                section = Section(part.data, named, source, part.command)
                sections.append((what, fmt, section, section.read(SNIFF_BYTES)))
    kind = (
        "Markdown text"
        if markdown
        else "terminal session"
        if prompts
        else "ps table with logs"
        if tables_cut
        else "set of logs under headers"
        if headers
        else "terminal session"
    )
    if not sections:
        holds = "a compose file but no" if composes else "no"
        raise InputError(
            f"{source}: a pasted {kind} with {holds} logs, events, inspect or ps output"
        )
    cutters = [
        plural(n, what)
        for n, what in ((prompts, "prompt line"), (fences, "fence line"), (headers, "header line"))
        if n
    ]
    skipped = f" ({' and '.join(cutters)} not read)" if cutters else ""
    if cutters or len(sections) > 1:  # (else nothing was cut: podman-compose's echoes)
        notes.append(
            f"{source}: a pasted {kind}, read as {plural(len(sections), 'input')}{skipped}"
        )
    return sections


def _cut_block(data: bytes) -> tuple[list[Cut], int, int, bool]:
    """A paste's block cut at its prompt lines (else around its headerless ps tables),
    then at its `==> FILE <==` headers: (parts, prompt lines, header lines, tables cut)."""
    cut = cut_session(data)
    tables = cut_tables(data) if cut is None else None
    commands, prompts = (
        cut
        if cut is not None
        else (tables, 0)
        if tables is not None
        else ([Cut(None, None, 1, data)], 0)
    )
    parts: list[Cut] = []
    headers = 0
    for command in commands:
        files, header_lines = cut_headers(command)
        parts += files
        headers += header_lines
    return parts, prompts, headers, tables is not None


def _viewed_log(part: Cut, fmt: InputFormat | None) -> bool:
    """Output of a log viewer (`dmesg`, `tail app.log`) that is a log."""
    if viewer(part.command) is None:
        return False
    return fmt in (InputFormat.COMPOSE, InputFormat.JOURNAL) or (
        fmt is InputFormat.RAW and looks_logged(part.data[:SNIFF_BYTES])
    )


COMPOSE_FILE = "compose"
"""`_unread`'s answer for a compose file pasted with the logs."""


def _unread(part: Cut, fmt: InputFormat | None, *, fenced: bool) -> str | None:
    """Why a part of a paste is not read as logs (None: it is), or COMPOSE_FILE for a
    compose file (`cat docker-compose.yml`, a ```yaml block): the stack's topology."""
    head = part.data[:SNIFF_BYTES]
    if looks_like_compose(without_margin(head)):
        return COMPOSE_FILE
    if part.verb is not None and part.verb not in READ_VERBS and not _viewed_log(part, fmt):
        return "not logs, events, inspect or ps"
    if fmt is None or looks_binary(head):
        return "not a format incidentlog reads"
    if not fenced and part.command is None and fmt is InputFormat.RAW and not looks_logged(head):
        return "the text around the paste's code blocks"
    return None


def _shown(command: str, limit: int = 80) -> str:
    """A pasted command as a name may show it: printable, one line, short."""
    text = "".join(ch if ch.isprintable() else " " for ch in command)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_source(
    source: str,
    fmt: InputFormat,
    binary: BinaryIO,
    head: bytes,
    options: IngestOptions,
    summary: SourceSummary,
    seq0: int,
    observe: Callable[[pl.DataFrame], None] | None = None,
) -> Iterator[Batch]:
    """The finished batches of one opened input (lines tallied in `summary`);
    `seq0` is the arrival number of its first line; `observe` sees each batch of
    lines (`container`, `text`) before stitching holds records back."""
    if fmt in (InputFormat.INSPECT, InputFormat.PS):
        document = head + binary.read()
        text = document.decode("utf-8", errors="replace")
        summary.lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if fmt is InputFormat.INSPECT:
            named = binary.service if isinstance(binary, Section) else None
            rows = inspect_rows(text, source, named or raw_service(source))
            rejects = list[tuple[int, str, str]]()
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
    named = binary.service if isinstance(binary, Section) else None
    origin = binary.origin if isinstance(binary, Section) else source
    service = options.service or named or raw_service(origin)
    if fmt is InputFormat.RAW and not options.service and not named:
        summary.note = (
            f"no service prefix: records attributed to service {service!r} (set --service)"
        )
    if fmt is InputFormat.JOURNAL:
        header = journal_header(head)
        zone = (
            f"in {header.abbreviation}, the zone journalctl's header names"
            if header and header.zone
            else f"as {options.log_zone} (set --log-tz if the host logs in another zone)"
        )
        summary.note = (
            "journal or syslog lines: a time printed without a year is read in the year the"
            " messages' own dates say, else the latest that is not in the future; one"
            f" without a zone {zone}"
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
        if observe is not None:
            observe(kept)
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
    margin = paste_margin(head).decode("utf-8", errors="replace")
    for batch in read_line_batches(binary, head=head, chunk_bytes=options.chunk_bytes):
        n = batch.lines.len()
        lines = batch.lines.str.strip_prefix(margin) if margin else batch.lines
        summary.lines += n
        summary.invalid_utf8 += batch.invalid_utf8
        yield pl.DataFrame(
            {
                "line": lines,
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
    named = binary.service if isinstance(binary, Section) else None
    origin = binary.origin if isinstance(binary, Section) else source
    service = options.service or named or raw_service(origin)
    identity = identity_for_log_path(Path(source)) if fmt is InputFormat.JSONFILE else None
    header = journal_header(head) if fmt is InputFormat.JOURNAL else None
    journal_zone = header.zone if header and header.zone else options.log_zone
    journal_end = (  # (year-less times: the latest year that is not after the header's end)
        header.end.replace(tzinfo=ZoneInfo(journal_zone)) if header and header.end else None
    )

    def parse(lines: pl.DataFrame) -> pl.DataFrame:
        if fmt is InputFormat.COMPOSE:
            parsed = parse_compose_lines(lines).with_columns(stream=pl.lit("unknown"))
            parsed = _flag_bad_stamps(_dated_by_application(parsed, options.log_zone))
        elif fmt is InputFormat.RAW:
            parsed = parse_raw_lines(lines, service).with_columns(stream=pl.lit("unknown"))
            parsed = _flag_bad_stamps(_dated_by_application(parsed, options.log_zone))
        elif fmt is InputFormat.JOURNAL:
            parsed = parse_journal_lines(lines, journal_zone, journal_end).with_columns(
                stream=pl.lit("unknown")
            )
            parsed = _flag_bad_stamps(_dated_by_application(parsed, options.log_zone))
        else:
            assert identity is not None
            parsed = parse_jsonfile_lines(lines, identity)
        # a stitched record keeps its first line's level (the head decides, never a
        # word deep in a stack trace); a rejoined split line, its first piece's
        return with_level(parsed, "text")

    held: pl.DataFrame | None = None  # pieces of a split json-file line still to be completed
    columns = [*_STITCHED, "level"]
    anchor = _Anchor()
    carry = _ApplicationClock(options.log_zone)
    compose_clock = _ComposeLineClock()
    for parsed in _in_order_on_workers(parse, _line_frames(binary, head, options, summary, seq0)):
        kept = _keep(parsed, summary)
        if fmt in (InputFormat.COMPOSE, InputFormat.JOURNAL):
            kept = compose_clock.place(anchor.attach(kept, summary), summary)
            columns = [*_STITCHED, "level", "joined", "wrapped", "host"]
        if "app_ts" in kept.columns:
            kept = carry.place(kept, summary)
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
UNKNOWN = "unknown"


def raw_service(source: str) -> str:
    """The service of a log without `name |` prefixes (and no --service): its file's name
    (`api.log` -> `api`), unless the name says nothing (`compose.log`, `-`): `unknown`."""
    if source == STDIN:
        return UNKNOWN
    stem = Path(source).name.split(".")[0]
    return UNKNOWN if stem.lower() in NAMELESS or not stem else stem


class _Anchor:
    """Lines that lost their `name |` prefix (a terminal wrap, a paste, `docker logs`
    output mixed in) belong to the record before them: they take its container and
    service and are stitched into it. Kept across batches, in input order."""

    def __init__(self) -> None:
        self.container: str | None = None
        self.service: str | None = None

    def attach(self, kept: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
        last_container = pl.lit(self.container, dtype=pl.String)
        last_service = pl.lit(self.service, dtype=pl.String)
        if kept.get_column("joined").any():
            kept = kept.with_columns(
                container=pl.coalesce(pl.col("container").forward_fill(), last_container),
                service=pl.coalesce(
                    pl.when(pl.col("container").is_not_null())
                    .then(pl.col("service"))
                    .forward_fill(),
                    last_service,
                ),
            )
            lost = kept.get_column("container").is_null()
            summary.joined_lines += int((kept.get_column("joined") & ~lost).sum())
            summary.unattributed_lines += int(lost.sum())
            kept = kept.with_columns(
                container=pl.col("container").fill_null(UNKNOWN),
                service=pl.col("service").fill_null(UNKNOWN),
                joined=pl.col("joined") & ~lost,
                wrapped=pl.col("wrapped") & ~lost,
            )
        if kept.height:
            self.container, self.service = kept.select(
                pl.col("container").last(), pl.col("service").last()
            ).row(0)
        return kept


def _dated_by_application(parsed: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Lines the engine did not date get their application's own time (`apptime`);
    `app_ts` and `naive_ts` say which did, and which had no zone (read in `zone`).

    A stamp put before the line when it was printed (`printed_ts`: a CI runner's, `ts`'s
    of `logs -f | ts`) dates the lines that have no time of their own, and those whose
    time names no zone (it may be local): `docker compose logs` run later prints minutes
    of history at one moment, so an application time with a zone is the better one."""
    printed = parsed.get_column("printed_ts") if "printed_ts" in parsed.columns else None
    parsed = parsed.drop("printed_ts", strict=False)
    ts = parsed.get_column("ts")
    undated = ts.is_null().arg_true()
    if not undated.len():
        return parsed
    found = read_app_times(parsed.get_column("text").gather(undated), zone)
    app, naive = found.ts, found.naive & found.ts.is_not_null()
    if printed is not None:
        at_print = printed.gather(undated)
        app = pl.select(
            pl.when(pl.lit(naive) & pl.lit(at_print).is_not_null()).then(None).otherwise(app)
        ).to_series()
        naive = naive & at_print.is_null()

    def flags(values: pl.Series) -> pl.Series:  # a new Series each: `scatter` writes in place
        return pl.repeat(False, parsed.height, dtype=pl.Boolean, eager=True).scatter(
            undated, values
        )

    dated = app if printed is None else app.fill_null(printed.gather(undated))
    return parsed.with_columns(
        ts=ts.scatter(undated, dated),
        app_ts=flags(app.is_not_null()),
        naive_ts=flags(naive),
    )


class _ApplicationClock:
    """Lines without a time of a container whose application dates its lines (an
    uncaught traceback, a print among logging calls) take the time of its last
    dated line: a container's lines are in order, so that time is when they
    happened at the earliest. Kept across batches, per container, in input order."""

    def __init__(self, zone: str = "UTC") -> None:
        self.last = pl.DataFrame(schema={"_key": pl.String, "_last": TS_DTYPE})
        self.last_any: datetime | None = None
        """The last application time of any container (across batches)."""
        self.zone = zone
        """Where a time of day without a date or zone is read (`--log-tz`)."""

    def _times_of_day(self, kept: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
        """Undated lines that print a time of day only (pino-pretty's `[11:20:35.431]
        ERROR`, Elixir's `19:02:21.311 [error]`, Bitnami's `kafka 10:22:31.41 ERROR ==>`)
        on the date of the last dated line before them (the next day when the clock went
        back more than 12 hours)."""
        undated = kept.get_column("ts").is_null().arg_true()
        if "text" not in kept.columns or not undated.len():
            return kept
        found = (
            kept.get_column("text")
            .gather(undated)
            .str.extract(TIME_OF_DAY, 1)
            .str.replace(",", ".", literal=True)
            .str.to_time("%H:%M:%S%.f", strict=False)
        )
        if found.is_null().all():
            return kept
        clock = pl.repeat(None, kept.height, dtype=pl.Time, eager=True).scatter(undated, found)
        reference = (
            pl.when("app_ts")
            .then("ts")
            .forward_fill()
            .fill_null(pl.lit(self.last_any, dtype=TS_DTYPE))
        )
        local = reference.dt.convert_time_zone(self.zone)
        on_day = (
            local.dt.truncate("1d").dt.replace_time_zone(None)
            + pl.duration(nanoseconds=pl.col("_tod").cast(pl.Int64))
        ).dt.replace_time_zone(self.zone, ambiguous="earliest", non_existent="null")
        on_day = on_day.dt.convert_time_zone("UTC").cast(TS_DTYPE)
        rolled = (
            pl.when(on_day < reference - pl.duration(hours=12))
            .then(on_day + pl.duration(days=1))
            .otherwise(on_day)
            .cast(TS_DTYPE)
        )
        frame = kept.with_columns(_tod=clock).with_columns(_ref=reference, _day=rolled)
        dated = pl.col("ts").is_null() & pl.col("_tod").is_not_null() & pl.col("_ref").is_not_null()
        summary.app_times += int(frame.select(dated.sum()).item())
        return frame.with_columns(
            ts=pl.when(dated).then("_day").otherwise("ts"), app_ts=pl.col("app_ts") | dated
        ).drop("_tod", "_ref", "_day")

    def place(self, kept: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
        if not kept.get_column("app_ts").any() and self.last.is_empty():
            return kept.drop("app_ts")
        kept = self._times_of_day(kept, summary)
        # any dated line of the batch counts: the application's time, or one the parser
        # cut from the line's start (`2025-03-03T07:41:14.902Z pid=1 … INFO: Booted`)
        app_time = pl.col("ts")
        # compose's own line about a container (`web-1 exited with code 1`) is its container's,
        # also when it names it with the project (v1's `shop_web_1` for the prefix `web_1`)
        own = pl.col("container") == COMPOSE_SERVICE
        known = pl.concat(
            [kept.get_column("container").unique(), self.last.get_column("_key")]
        ).implode()
        named = pl.col("service")
        unprefixed = named.str.replace(r"^[^_-]+[_-]", "")
        key = (
            pl.when(~own)
            .then("container")
            .when(~named.is_in(known) & unprefixed.is_in(known))
            .then(unprefixed)
            .otherwise(named)
        )
        frame = kept.with_columns(_key=key).join(
            self.last, on="_key", how="left", maintain_order="left"
        )
        # compose prints its line as it sees what it tells, after the lines before it of
        # any container (`up` interleaves them as they come): no earlier than those either
        before = app_time.forward_fill().fill_null(pl.lit(self.last_any, dtype=TS_DTYPE))
        frame = (
            frame.with_columns(
                _clock=pl.coalesce(app_time.forward_fill().over("_key"), pl.col("_last"))
            )
            .with_columns(
                _clock=pl.when(own).then(pl.max_horizontal("_clock", before)).otherwise("_clock")
            )
            .with_columns(
                # the container's next known time: a later dated line, or compose's line
                # about it (its exit), placed above
                _next=pl.coalesce("ts", pl.when(own).then("_clock")).backward_fill().over("_key")
            )
            .with_columns(
                # a line without a time was printed after the container's last dated line
                # and before its next one: a crash's traceback comes right before the exit,
                # a start-up banner right before the first dated line; the last dated line
                # can be minutes earlier. After the container's last time, that time.
                _clock=pl.when(~own & (pl.col("_next") >= pl.col("_clock")))
                .then("_next")
                .otherwise("_clock")
            )
        )
        placed = pl.col("ts").is_null() & pl.col("_clock").is_not_null()
        summary.placed_times += int(frame.select(placed.sum()).item())
        self.last = (
            pl.concat(
                [self.last, frame.filter(pl.col("ts").is_not_null()).select("_key", _last="ts")]
            )
            .group_by("_key", maintain_order=True)
            .last()
        )
        last_any = frame.select(app_time.drop_nulls().last()).item()
        self.last_any = last_any if isinstance(last_any, datetime) else self.last_any
        return frame.with_columns(ts=pl.coalesce("ts", "_clock")).drop(
            "app_ts", "_key", "_last", "_clock", "_next"
        )


class _ComposeLineClock:
    """Compose prints its own lines (`web-1 exited with code 1`, `Container db Healthy`)
    without a time, also under `--timestamps`, as it sees what they tell: such a line right
    after a line the engine dated takes that line's time, so that an exit sits in the
    timeline where it happened, not among the undated evidence. (After a line an
    application dated, or an undated one, it is left to `_ApplicationClock`.) Kept across
    batches."""

    def __init__(self) -> None:
        self.last: datetime | None = None
        """The engine time of the last line of the previous batch, if it had one."""

    def place(self, kept: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
        if kept.is_empty():
            return kept
        engine = pl.col("ts").is_not_null()
        if "app_ts" in kept.columns:
            engine = engine & ~pl.col("app_ts")
        engine_ts = pl.when(engine).then("ts")
        undated = (pl.col("container") == COMPOSE_SERVICE) & pl.col("ts").is_null()
        count = int(kept.select(undated.sum()).item())
        if count:
            before = engine_ts.shift(1, fill_value=pl.lit(self.last, dtype=TS_DTYPE))
            kept = kept.with_columns(ts=pl.when(undated).then(before).otherwise("ts"))
            summary.placed_compose_times += count - int(kept.select(undated.sum()).item())
        last = kept.tail(1).select(engine_ts).item()
        self.last = last if isinstance(last, datetime) else None
        return kept


_STAMP_LIKE = r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}"
"""What starts a line whose timestamp did not parse (it then stays in the text)."""


TIME_OF_DAY = (
    r"^(?:\[|[a-z][\w.-]* )?([0-2][0-9]:[0-5][0-9]:[0-5][0-9](?:[.,][0-9]{1,9})?)\]? +"
    r"(?:(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL)\b"
    r"|\[(?:debug|info|notice|warn|warning|error|critical|alert|emergency)\])"
)
"""A time of day then a level, with no date: pino-pretty `[11:20:35.431] ERROR (1): …`,
Elixir's Logger `19:02:21.311 [error] …`, Bitnami's scripts `kafka 10:22:31.41 ERROR ==> …`."""


def _flag_bad_stamps(parsed: pl.DataFrame) -> pl.DataFrame:
    """`bad_ts`: a compose or raw line that starts with something shaped like a
    timestamp which is no real time (the parser left it in the text)."""
    return parsed.with_columns(
        bad_ts=pl.col("ts").is_null() & pl.col("text").str.contains(_STAMP_LIKE).fill_null(False)
    )


def _keep(parsed: pl.DataFrame, summary: SourceSummary) -> pl.DataFrame:
    """Rows without a reject reason; the others are tallied with a sample (and
    kept rows whose timestamp is no real time are counted)."""
    kept = pl.col("reject").is_null() if "reject" in parsed.columns else pl.lit(True)
    if "bad_ts" in parsed.columns:
        summary.invalid_timestamps += int(parsed.select((pl.col("bad_ts") & kept).sum()).item())
        parsed = parsed.drop("bad_ts")
    if "app_ts" in parsed.columns:  # `app_ts` stays for `_ApplicationClock`
        app, naive = parsed.select(
            (pl.col("app_ts") & kept).sum(), (pl.col("naive_ts") & kept).sum()
        ).row(0)
        summary.app_times += app
        summary.naive_times += naive
        parsed = parsed.drop("naive_ts")
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
