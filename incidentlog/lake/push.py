"""`lake push`: a host's store files, as lake rows, to the landing prefix.

Each (dataset, day) with store files not pushed yet becomes landing files
`landing/day=<D>/<host>-<hash>.parquet` (at most FILE_ROWS rows each; the
hash is of the rows' ids, so the name says what is inside), written with a
create-only put: nothing is ever overwritten. Then an empty inbox entry
announces the file to the committer (`objects.INBOX`). Rows are sorted by (service,
ts), so row-group statistics prune a service even before compaction. Rows
without a host get the pushing host's name, so that (host, id) identifies a
record across the lake.

The ledger (a directory the store lends, `Store.cache_dir`) remembers which
store files were pushed and the ids pushed per day: a file that store
compaction made out of pushed files adds nothing, and a push interrupted
after its upload (an intent is written first) is completed, not repeated.
Deleting the ledger loses nothing: files still landed are not uploaded
again, and rows landed twice are dropped by `lake compact`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from incidentlog.lake.catalog import ROW_GROUP_ROWS
from incidentlog.lake.objects import LANDING, announcement
from incidentlog.lake.schema import to_lake

if TYPE_CHECKING:
    from incidentlog.lake import Lake

__all__ = ["FILE_ROWS", "PushResult", "StoreFile", "push"]

FILE_ROWS: Final = 512 * 1024
ZSTD_LEVEL: Final = 3
_STATE = "pushed.json"
_INTENT_IDS = "intent-ids.parquet"
_NAME_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoreFile:
    """One closed store file: its dataset, day partition and path."""

    dataset: str
    day: str
    path: Path


@dataclass
class PushResult:
    files: int = 0
    """Landing files written."""
    rows: dict[str, int] = field(default_factory=lambda: {"logs": 0, "events": 0})
    already: int = 0
    """Landing files that were there already (an earlier push that stopped before noting it)."""
    skipped: int = 0
    """Store files with nothing new (all their rows pushed before)."""


class _Ledger:
    """What this store pushed to one lake: store file names, ids per day, an intent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state: dict[str, Any] = {"files": {}, "intent": None}
        path = root / _STATE
        if path.is_file():
            self.state = json.loads(path.read_text())

    def pushed(self, dataset: str) -> set[str]:
        return set(self.state["files"].get(dataset, []))

    def ids(self, dataset: str, day: str) -> pl.DataFrame:
        path = self._ids_path(dataset, day)
        if path.is_file():
            return pl.read_parquet(path)
        return pl.DataFrame(schema={"id": pl.UInt64})

    def _ids_path(self, dataset: str, day: str) -> Path:
        return self.root / "ids" / dataset / f"day={day}.parquet"

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic(self.root / _STATE, json.dumps(self.state).encode())

    def save_intent_ids(self, ids: pl.DataFrame) -> None:
        """The ids of the upload about to start (then `save` the intent naming it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        ids.write_parquet(buffer)
        _atomic(self.root / _INTENT_IDS, buffer.getvalue())
        self.save()

    def note(self, dataset: str, day: str, names: list[str], ids: pl.DataFrame) -> None:
        """Record `names` as pushed and `ids` as landed for (dataset, day)."""
        if ids.height:
            path = self._ids_path(dataset, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            merged = pl.concat([self.ids(dataset, day), ids])
            buffer = io.BytesIO()
            merged.write_parquet(buffer)
            _atomic(path, buffer.getvalue())
        files = self.state["files"].setdefault(dataset, [])
        files.extend(n for n in names if n not in files)
        self.state["intent"] = None
        self.save()

    def forget_missing(self, dataset: str, present: set[str]) -> None:
        """Drop names of store files that are gone (compacted): they cannot come back."""
        kept = [n for n in self.state["files"].get(dataset, []) if n in present]
        self.state["files"][dataset] = kept


def push(lake: Lake, files: Iterable[StoreFile], *, host: str, ledger_dir: Path) -> PushResult:
    """Upload the rows of `files` not pushed before; returns what was written."""
    ledger = _Ledger(ledger_dir)
    result = PushResult()
    _finish_intent(lake, ledger, result)
    by_key: dict[tuple[str, str], list[Path]] = {}
    for item in files:
        by_key.setdefault((item.dataset, item.day), []).append(item.path)
    for dataset in {d for d, _ in by_key}:
        present = {p.name for (d, _), paths in by_key.items() if d == dataset for p in paths}
        ledger.forget_missing(dataset, present)
    for (dataset, day), paths in sorted(by_key.items()):
        done = ledger.pushed(dataset)
        new = sorted(p for p in paths if p.name not in done)
        if new:
            _push_day(lake, ledger, result, host, dataset, day, new)
    return result


def _push_day(
    lake: Lake,
    ledger: _Ledger,
    result: PushResult,
    host: str,
    dataset: str,
    day: str,
    paths: list[Path],
) -> None:
    known = ledger.ids(dataset, day)
    rows = (
        pl.scan_parquet(paths, hive_partitioning=False)
        .with_columns(pl.col("host").fill_null(host))
        .join(known.lazy(), on="id", how="anti")
        .unique("id", keep="first", maintain_order=True)
        .collect()
    )
    names = [p.name for p in paths]
    if rows.is_empty():
        result.skipped += len(paths)
        ledger.note(dataset, day, names, rows.select("id"))
        return
    objects = lake.objects(dataset)
    for start in range(0, rows.height, FILE_ROWS):
        part = rows.slice(start, FILE_ROWS)
        last = start + FILE_ROWS >= rows.height
        key = _landing_key(dataset, day, host, part)
        data = _landing_bytes(part, dataset)
        ledger.state["intent"] = {
            "dataset": dataset,
            "day": day,
            "key": key,
            "names": names if last else [],
        }
        ledger.save_intent_ids(part.select("id"))
        if objects.create(key, data):
            result.files += 1
        else:
            result.already += 1
        objects.create(announcement(key), b"")  # (after the file: an entry means it landed)
        result.rows[dataset] += part.height
        ledger.note(dataset, day, names if last else [], part.select("id"))


def _finish_intent(lake: Lake, ledger: _Ledger, result: PushResult) -> None:
    """An upload interrupted before the ledger noted it: note it if it landed."""
    intent = ledger.state.get("intent")
    if not intent:
        return
    objects = lake.objects(intent["dataset"])
    if objects.exists(intent["key"]):
        objects.create(announcement(intent["key"]), b"")
        ids = pl.read_parquet(ledger.root / _INTENT_IDS)
        ledger.note(intent["dataset"], intent["day"], intent["names"], ids)
        result.already += 1
    else:
        ledger.state["intent"] = None
        ledger.save()


def _landing_key(dataset: str, day: str, host: str, rows: pl.DataFrame) -> str:
    digest = hashlib.sha256(dataset.encode())
    digest.update(array("Q", rows.get_column("id").to_list()).tobytes())
    name = _NAME_SAFE.sub("_", host) or "host"
    return f"{LANDING}/day={day}/{name}-{digest.hexdigest()[:24]}.parquet"


def _landing_bytes(rows: pl.DataFrame, dataset: str) -> bytes:
    """The rows as a lake Parquet file, sorted by (service, ts), with statistics."""
    lake_rows = to_lake(rows.lazy(), dataset).sort("service", "ts", nulls_last=True).collect()
    buffer = io.BytesIO()
    lake_rows.write_parquet(
        buffer,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        statistics=True,
        row_group_size=ROW_GROUP_ROWS,
    )
    return buffer.getvalue()


def _atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
