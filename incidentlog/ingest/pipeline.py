"""The ingest pipeline: every input opened, read in order, identities completed.

`iter_ingest` streams batches (bounded memory, for the store); `read_inputs`
collects them (for commands that work on files directly); `ingest_into_store`
streams them into the history store.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from incidentlog.errors import FormatError, InputError
from incidentlog.ingest.folders import Expanded, expand_inputs
from incidentlog.ingest.identity import ServiceResolver
from incidentlog.ingest.lines import STDIN
from incidentlog.ingest.options import IngestOptions
from incidentlog.ingest.reading import Opened, open_sources, read_source
from incidentlog.ingest.records import Batch, apply_identities, learn_identities
from incidentlog.ingest.sessions import Section
from incidentlog.ingest.sniff import InputFormat
from incidentlog.ingest.summary import IngestSummary, SourceSummary
from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA, empty
from incidentlog.text import plural
from incidentlog.topology import Topology, pasted_topology, topology_for

if TYPE_CHECKING:
    from incidentlog.store import AppendResult

_LABELLED = (InputFormat.INSPECT, InputFormat.EVENTS, InputFormat.PS)
"""Formats whose compose labels tell which project and service a container is."""
_STATES = (InputFormat.PS, InputFormat.INSPECT)
"""Formats of container states: those no label vouches for (a v1 `ps` table, `docker
inspect NAME --format '{{json .State}}'`) are resolved once the logs are read."""
_LINES = (InputFormat.COMPOSE, InputFormat.RAW, InputFormat.JSONFILE, InputFormat.JOURNAL)
"""Log formats, read after the others so that their identities are known."""


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
    topology: Topology | None = None,
    log_zone: str | None = None,
) -> IngestResult:
    """Parse `sources` (paths, folders, or `-` for stdin) into in-memory frames;
    `topology` is the stack's compose files when the caller has read them."""
    options = replace(
        IngestOptions.build(
            fmt=fmt, service=service, project=project, host=host, log_zone=log_zone
        ),
        topology=topology,
    )
    summary = IngestSummary()
    logs: list[pl.DataFrame] = []
    events: list[pl.DataFrame] = []
    for batch in iter_ingest(sources, options, summary):
        logs.append(batch.logs)
        events.append(batch.events)
    # the same record in two inputs (overlapping captures) has the same id: kept once,
    # as the store would keep it
    return IngestResult(
        logs=_once(logs, LOGS_SCHEMA, summary),
        events=_once(events, EVENTS_SCHEMA, summary),
        summary=summary,
    )


def _once(frames: list[pl.DataFrame], schema: pl.Schema, summary: IngestSummary) -> pl.DataFrame:
    if not frames:
        return empty(schema)
    frame = pl.concat(frames)
    unique = frame.unique("id", keep="first", maintain_order=True)
    summary.repeated += frame.height - unique.height
    return unique


def ingest_into_store(
    sources: Sequence[str | Path],
    *,
    store: Path | None = None,
    fmt: InputFormat | str | None = None,
    service: str | None = None,
    project: str | None = None,
    host: str | None = None,
    progress: bool = False,
    log_zone: str | None = None,
) -> tuple[IngestSummary, AppendResult]:
    """Stream `sources` into the history store (created on first use)."""
    from incidentlog.store import Store

    options = IngestOptions.build(
        fmt=fmt, service=service, project=project, host=host, log_zone=log_zone
    )
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
    expanded = expand_inputs(sources)
    summary.skipped.extend(expanded.skipped)
    topology = options.topology or topology_for(expanded.compose, expanded.inputs)
    if not expanded.inputs:
        raise InputError(_nothing_to_read(sources, expanded))
    pasted: list[tuple[str, bytes]] = []
    opened = _open_all(expanded.inputs, options, summary, pasted)
    if pasted and not topology.files:  # (a compose file given or beside the inputs wins)
        topology = pasted_topology(pasted)
    summary.topology = topology
    bar = _Progress(opened) if progress else None
    opened.sort(key=lambda item: item[1] in _LINES)
    identities = pl.DataFrame(
        schema={"container": pl.String, "project": pl.String, "service": pl.String}
    )
    names = ServiceResolver(topology, options.project)
    # the containers a pasted session's commands name (`docker logs shop-api-1`), resolved
    # together however many sections apart they are: a prefix they share can be a project
    names.commanded.update(
        s.service for _, _, s, _ in opened if isinstance(s, Section) and s.service
    )
    names.seen.update(names.commanded)
    # ps rows, held until the logs are read: those no label vouches for are resolved
    # then, with all the names and projects the input shows
    tables: list[pl.DataFrame] = []
    seq = 0
    try:
        for source, fmt, stream, head in opened:
            source_summary = SourceSummary(source=source, format=fmt)
            summary.sources.append(source_summary)
            batches = read_source(
                source, fmt, stream, head, options, source_summary, seq, names.observe
            )
            for batch in batches:
                batch = Batch(names.resolve_logs(batch.logs), batch.events)
                batch = apply_identities(batch, identities, options)
                seq += batch.logs.height + batch.events.height
                _tally(source_summary, batch)
                if fmt in _LABELLED:
                    identities = learn_identities(identities, batch.events)
                    names.learn_labels(batch.events)
                if bar:
                    bar.advance(stream)
                if fmt in _STATES and not batch.events.is_empty():
                    tables.append(batch.events)
                    batch = Batch(batch.logs, batch.events.clear())
                yield batch
            _close(source, stream)
        if tables:
            yield Batch(empty(LOGS_SCHEMA), names.resolve_states(pl.concat(tables)))
    finally:  # also when the consumer stops early: no input is left open
        for source, _, stream, _ in opened:
            _close(source, stream)
        if bar:
            bar.close()
        summary.notes.extend(n for n in names.notes if n not in summary.notes)
        summary.names_as_printed.extend(names.as_printed)
        summary.notes.extend(_application_times(summary, options.log_zone))


def _application_times(summary: IngestSummary, zone: str) -> list[str]:
    """The note that times came from the applications, and in which zone those without
    one were read: a reader must know which times are a guess."""
    dated = sum(s.app_times for s in summary.sources)
    naive = sum(s.naive_times for s in summary.sources)
    placed = sum(s.placed_times for s in summary.sources)
    if not dated:
        return []
    are = "is" if dated == 1 else "are"
    note = (
        f"{plural(dated, 'line')} had no engine time and {are} dated"
        " by the application's own timestamp"
    )
    if naive:
        note += (
            f"; {naive} of them name no zone and are read as {zone}"
            " (set --log-tz if the containers log in another zone)"
        )
    if placed:
        note += (
            f"; {plural(placed, 'line')} without one {'is' if placed == 1 else 'are'} placed"
            " at their container's next dated line or exit (after its last, at that one):"
            " their times are approximate"
        )
    return [note]


def _nothing_to_read(sources: Sequence[str | Path], expanded: Expanded) -> str:
    given = ", ".join(str(s) for s in sources)
    if len(expanded.skipped) == 1 and not expanded.compose:
        return expanded.skipped[0]
    if expanded.skipped:
        shown = "; ".join(expanded.skipped[:3]) + ("; …" if len(expanded.skipped) > 3 else "")
        return f"{given}: no logs, events, inspect or ps output to read (skipped {shown})"
    files = ", ".join(p.name for p in expanded.compose)
    return f"{given}: only compose files ({files}); give the logs too"


def _open_all(
    sources: Sequence[str | Path],
    options: IngestOptions,
    summary: IngestSummary,
    pasted: list[tuple[str, bytes]],
) -> list[Opened]:
    """Every input opened and its format known; one unreadable input among
    several is noted in `summary` and skipped, not fatal; compose files pasted with
    the logs go to `pasted`."""
    if not sources:
        raise InputError("no input given (pass files, or - for standard input)")
    if options.fmt is not None and not isinstance(options.fmt, InputFormat):
        raise FormatError(f"unknown --format {options.fmt!r}")
    opened = []
    for source in sources:
        try:
            sections = open_sources(str(source), options, summary.notes, pasted)
            summary.commands += [s[2].command for s in sections if isinstance(s[2], Section)]
            opened.extend(sections)
        except InputError as exc:
            if len(sources) == 1:
                raise
            summary.skipped.append(str(exc))
    if not opened:
        raise InputError(f"nothing could be read: {'; '.join(summary.skipped)}")
    return opened


def _tally(summary: SourceSummary, batch: Batch) -> None:
    summary.records += batch.logs.height
    summary.events += batch.events.height
    summary.saw(batch.logs)
    summary.saw(batch.events)


def _close(source: str, stream: BinaryIO) -> None:
    if source != STDIN:
        stream.close()


class _Progress:
    """A byte-based progress bar on stderr for long inputs (terminals only)."""

    MIN_BYTES = 64 * 1024 * 1024

    def __init__(self, opened: list[Opened]) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        from incidentlog.progress import bar

        sizes = [
            stream.size if isinstance(stream, Section) else Path(src).stat().st_size
            for src, _, stream, _ in opened
            if src != STDIN
        ]
        self.total = sum(sizes)
        self.done = 0
        self.last: dict[int, int] = {}
        self.bar: Progress | None = None
        if self.total >= self.MIN_BYTES:
            self.bar = bar("ingest", BarColumn(), DownloadColumn(), TimeRemainingColumn())
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
