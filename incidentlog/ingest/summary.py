"""What ingest accounts for: per input, every line kept or rejected with a reason.

The samples of rejected lines are log text: redacted wherever they are shown,
and the human summary shows control characters visibly (`redact.one_line`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from incidentlog.ingest.sniff import InputFormat
from incidentlog.redact import one_line, redact
from incidentlog.topology import Topology


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
    joined_lines: int = 0
    """Lines without a `name |` prefix joined to the record before them."""
    unattributed_lines: int = 0
    """Lines without a prefix before any prefixed line: kept under service `unknown`."""
    invalid_timestamps: int = 0
    """Lines kept whose timestamp is no real time (month 13, out of range): stored
    without a time (as undated when nothing places them)."""
    app_times: int = 0
    """Lines without an engine time dated by their application's own (`apptime`)."""
    naive_times: int = 0
    """Of those, the ones whose time had no zone (read in the `--log-tz` zone)."""
    placed_times: int = 0
    """Lines with no time of their own placed at their container's last application time."""
    placed_compose_times: int = 0
    """Compose's own lines (`web-1 exited with code 1`, never stamped) placed at the time of
    the dated line before them."""

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
    repeated: int = 0
    """Records and events read twice (overlapping inputs), kept once."""
    skipped: list[str] = field(default_factory=list)
    """Inputs that could not be read at all (one message each), when others could, and
    files of evidence folders that were not used (with why)."""
    notes: list[str] = field(default_factory=list)
    """What the whole input made ingest decide: compose files used, container names kept."""
    topology: Topology | None = None
    """The compose files given or found beside the inputs, as ingest used them."""
    names_as_printed: list[str] = field(default_factory=list)
    """Container names kept as printed: maybe a `container_name:`, not the service."""
    commands: list[str | None] = field(default_factory=list)
    """The commands a pasted session ran whose output was read (`podman-compose logs`)."""

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
            "notes": list(self.notes),
            "repeated": self.repeated,
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
                        reason: {
                            "count": r.count,
                            "line": r.sample_line,
                            "sample": redact(r.sample),
                        }
                        for reason, r in s.rejected.items()
                    },
                    "note": s.note,
                    "joined_lines": s.joined_lines,
                    "unattributed_lines": s.unattributed_lines,
                    "invalid_timestamps": s.invalid_timestamps,
                    "app_times": s.app_times,
                    "naive_times": s.naive_times,
                    "placed_times": s.placed_times,
                    "placed_compose_times": s.placed_compose_times,
                }
                for s in self.sources
            ],
        }

    def describe(self) -> str:
        """The human summary: per source what was read, kept and rejected (with a sample)."""
        out: list[str] = []
        for s in self.sources:
            out.extend(_describe_source(s))
        out.extend(f"skipped {one_line(problem)}" for problem in self.skipped)
        out.extend(f"note: {one_line(note)}" for note in self.notes)
        if self.repeated:
            out.append(f"{self.repeated} records and events were in two inputs: kept once")
        out.append(
            f"total: {self.lines} lines -> {self.records} records, {self.events} events, "
            f"{self.rejected_lines} lines rejected"
        )
        return "\n".join(out)


def _describe_source(s: SourceSummary) -> list[str]:
    """The lines of `IngestSummary.describe` for one input (names and samples one line each)."""
    span = (
        f"{s.first_ts:%Y-%m-%d %H:%M:%S} .. {s.last_ts:%Y-%m-%d %H:%M:%S} UTC"
        if s.first_ts and s.last_ts
        else "no timestamps"
    )
    out = [
        f"{one_line(s.source)} ({s.format.value}): {s.lines} lines -> {s.records} records, "
        f"{s.events} events; {len(s.services)} services; {span}"
    ]
    if s.services:
        out.append(f"  services: {', '.join(one_line(n) for n in sorted(s.services))}")
    if s.invalid_utf8:
        out.append(f"  {s.invalid_utf8} invalid UTF-8 sequences replaced with U+FFFD")
    for reason, r in sorted(s.rejected.items(), key=lambda item: -item[1].count):
        sample = redact(r.sample)[:120]  # repr shows control characters as escapes
        out.append(
            f"  rejected {r.count} lines: {one_line(reason)}; e.g. line {r.sample_line}: {sample!r}"
        )
    if s.joined_lines:
        out.append(
            f"  joined {s.joined_lines} lines without a `name |` prefix to the record before them"
        )
    if s.unattributed_lines:
        out.append(
            f"  kept {s.unattributed_lines} lines before any `name |` prefix under "
            "service `unknown`"
        )
    if s.invalid_timestamps:
        out.append(
            f"  kept {s.invalid_timestamps} lines whose timestamp is no valid time, without a time"
        )
    if s.app_times:
        naive = f" ({s.naive_times} without a zone)" if s.naive_times else ""
        out.append(f"  dated {s.app_times} lines by the application's own timestamp{naive}")
    if s.placed_times:
        out.append(
            f"  placed {s.placed_times} lines without a time between their container's dated"
            " lines (at the next, or after the last at the last): approximate times"
        )
    if s.placed_compose_times:
        out.append(
            f"  placed {s.placed_compose_times} of compose's own lines (never stamped)"
            " at the time of the dated line before them"
        )
    if s.note:
        out.append(f"  note: {one_line(s.note)}")
    return out
