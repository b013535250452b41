"""Ingest: every input shape into the `logs` and `events` frames of schema.py.

`iter_ingest` streams batches (bounded memory, for the store); `read_inputs`
collects them (for commands that work on files directly). Every input line is
accounted for in the `IngestSummary`: kept, or rejected with a reason.

    ingest/pipeline.py   iter_ingest, read_inputs, ingest_into_store
    ingest/reading.py    one input: opened, read in batches, parsed on workers
    ingest/sessions.py   a pasted terminal session: one input per command's output
    ingest/records.py    finishing records (ids, occurrences) and identities
    ingest/summary.py    what each input yielded and rejected
    ingest/options.py    the user's choices
    the parsers          compose.py, jsonfile.py, events.py, snapshots.py,
                         lines.py, sniff.py, levels.py, stitch.py
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentlog.ingest.options import IngestOptions
    from incidentlog.ingest.pipeline import (
        IngestResult,
        ingest_into_store,
        iter_ingest,
        read_inputs,
    )
    from incidentlog.ingest.reading import PARSE_WORKERS
    from incidentlog.ingest.records import Batch, Occurrences, finish_events, finish_logs
    from incidentlog.ingest.sniff import InputFormat
    from incidentlog.ingest.summary import IngestSummary, Rejected, SourceSummary

_HOMES = {
    "IngestOptions": "options",
    "IngestResult": "pipeline",
    "ingest_into_store": "pipeline",
    "iter_ingest": "pipeline",
    "read_inputs": "pipeline",
    "PARSE_WORKERS": "reading",
    "Batch": "records",
    "Occurrences": "records",
    "finish_events": "records",
    "finish_logs": "records",
    "InputFormat": "sniff",
    "IngestSummary": "summary",
    "Rejected": "summary",
    "SourceSummary": "summary",
}


def __getattr__(name: str) -> Any:
    """The package's names, imported when first used: readers that need one
    light parser module (`ingest.events`) do not pay for the pipeline's
    imports (90 ms of every digest)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "PARSE_WORKERS",
    "Batch",
    "IngestOptions",
    "IngestResult",
    "IngestSummary",
    "InputFormat",
    "Occurrences",
    "Rejected",
    "SourceSummary",
    "finish_events",
    "finish_logs",
    "ingest_into_store",
    "iter_ingest",
    "read_inputs",
]
