"""`lake commit`: landed files registered in the tables, in numbered batches.

One committer (it holds the lease, `lease.py`) turns landed files into
table data with `add_files` (no copy: the landing file is the data file).
For each table:

1. `W`, the watermark: the number of the last batch committed, kept in the
   summary of every snapshot the lake makes (`incidentlog.watermark`).
2. If batch `W+1` exists (`incidentlog/batches/<W+1>.json`), a committer
   claimed it and stopped before its commit: commit that batch.
3. Else claim a new batch `W+1`: landed files that no batch names yet (at
   most `max_files`), written create-only (two committers cannot both
   claim `W+1`).
4. Commit the batch with the watermark `W+1` in its snapshot summary, on the
   table as it was read in 1. pyiceberg's own retry is off for the lake's
   tables (it would re-apply the append on a newer table and add the files a
   second time): a conflict reloads the table and starts again at 1.

So a batch is committed only on a table whose watermark is the one before
it, and exactly once however often a committer is killed; a file is in at
most one batch. Batches are listed before landing files, so a landing file
that compaction deleted (its batch is deleted after it) is never seen
without its batch. The committer also expires snapshots beyond KEEP_SNAPSHOTS
so that the table's metadata stays bounded (its snapshots only add files;
`lake compact` deletes files that expired snapshots alone referenced).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from incidentlog.errors import LakeError
from incidentlog.lake.lease import Lease, Term, new_owner
from incidentlog.lake.objects import BATCHES, LANDING, Objects
from incidentlog.lake.schema import DATASETS

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from incidentlog.lake import Lake

__all__ = [
    "KEEP_SNAPSHOTS",
    "WATERMARK",
    "CommitOptions",
    "CommitResult",
    "Committer",
    "watermark",
]

WATERMARK: Final = "incidentlog.watermark"
KEEP_SNAPSHOTS: Final = 50
"""Snapshots kept by the committer (time travel over the last commits); older ones expire."""


@dataclass(frozen=True)
class CommitOptions:
    max_files: int = 1000
    """Landing files per batch (one catalog commit)."""
    interval: float = 5.0
    """Seconds between looks at the landing prefix with --follow."""
    lease_ttl: float = 60.0
    follow: bool = False
    owner: str = field(default_factory=new_owner)


@dataclass
class CommitResult:
    batches: int = 0
    files: int = 0
    recovered: int = 0
    """Batches a stopped committer had claimed and this one committed."""


def watermark(table: Table) -> int:
    """The last batch committed: the newest snapshot summary that says (0: none)."""
    snapshot = table.current_snapshot()
    while snapshot is not None:
        summary = snapshot.summary
        value = summary[WATERMARK] if summary is not None else None
        if value is not None:
            return int(value)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return 0


class _Batches:
    """The claimed batches of one table (cached: a batch never changes)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.files: dict[int, list[str]] = {}

    def refresh(self) -> None:
        listed = {
            int(item.path.rsplit("/", 1)[-1].removesuffix(".json")): item.path
            for item in self.objects.list(BATCHES)
            if item.path.endswith(".json")
        }
        for number in set(self.files) - set(listed):  # pruned by compaction
            del self.files[number]
        for number, path in listed.items():
            if number not in self.files:
                data = self.objects.get(path)
                if data is not None:
                    self.files[number] = json.loads(data)["files"]

    def claimed(self) -> set[str]:
        return {path for paths in self.files.values() for path in paths}

    def claim(self, number: int, paths: list[str]) -> bool:
        body = json.dumps({"files": paths}).encode()
        if not self.objects.create(f"{BATCHES}/{number:012d}.json", body):
            return False
        self.files[number] = paths
        return True


class Committer:
    """Registers landed files of both tables while it holds the lease."""

    def __init__(self, lake: Lake, options: CommitOptions) -> None:
        self.lake = lake
        self.options = options
        self.lease = Lease(lake.objects("logs"), options.owner, options.lease_ttl)
        self.batches = {name: _Batches(lake.objects(name)) for name in DATASETS}
        self.result = CommitResult()

    def run(self, *, say: Callable[[str], None] = lambda _: None) -> CommitResult:
        """Commit what has landed (with `follow`, until interrupted)."""
        waiting = False
        term: Term | None = None
        try:
            while True:
                term = self.lease.hold()
                if term is None:
                    holder = self.lease.current()
                    if not self.options.follow:
                        who = f"{holder.owner} until {time.ctime(holder.until)}" if holder else "?"
                        raise LakeError(f"another committer holds the lease ({who})")
                    if not waiting:
                        say(f"waiting for the lease held by {holder.owner if holder else '?'}")
                        waiting = True
                    time.sleep(self.options.interval)
                    continue
                waiting = False
                done = sum(self.step(name) for name in DATASETS)
                if done == 0:
                    if not self.options.follow:
                        return self.result
                    time.sleep(self.options.interval)
        finally:
            if term is not None and not self.options.follow:
                self.lease.release(term)

    def step(self, dataset: str) -> int:
        """Commit one batch of `dataset` (a claimed one first); the files committed."""
        from pyiceberg.exceptions import CommitFailedException

        table = self.lake.table(dataset)
        _no_blind_retries(table)
        batches = self.batches[dataset]
        batches.refresh()  # (before listing landing files: see the module's docstring)
        mark = watermark(table)
        number = mark + 1
        recovered = number in batches.files
        if not recovered:
            claimed = batches.claimed()
            objects = self.lake.objects(dataset)
            landed = [
                item.path
                for item in objects.list(LANDING)
                if item.path.endswith(".parquet") and item.path not in claimed
            ]
            if not landed:
                return 0
            if not batches.claim(number, landed[: self.options.max_files]):
                return 1  # another committer claimed it: look again
        paths = batches.files[number]
        urls = [self.lake.objects(dataset).url(p) for p in paths]
        try:
            table.add_files(
                urls,
                snapshot_properties={WATERMARK: str(number)},
                check_duplicate_files=False,
            )
        except CommitFailedException:
            return 1  # the table moved on (another committer, compaction): start again
        except FileNotFoundError as exc:
            raise LakeError(f"batch {number} of {dataset} names a missing file ({exc})") from None
        self.result.batches += 1
        self.result.files += len(paths)
        self.result.recovered += recovered
        expire_snapshots(self.lake.table(dataset), KEEP_SNAPSHOTS)
        return len(paths)


def _no_blind_retries(table: Table) -> None:
    """Turn off pyiceberg's commit retry on the table (see the module docstring)."""
    from incidentlog.lake.catalog import TABLE_PROPERTIES

    key = "commit.retry.num-retries"
    if table.metadata.properties.get(key) != TABLE_PROPERTIES[key]:
        with table.transaction() as transaction:
            transaction.set_properties({key: TABLE_PROPERTIES[key]})


def expire_snapshots(table: Table, keep: int) -> list[int]:
    """Expire all but the newest `keep` snapshots; their ids (none on a conflict)."""
    from pyiceberg.exceptions import CommitFailedException

    snapshots = sorted(table.snapshots(), key=lambda s: (s.sequence_number or 0, s.timestamp_ms))
    old = [s.snapshot_id for s in snapshots[:-keep]] if len(snapshots) > keep else []
    if not old:
        return []
    try:
        table.maintenance.expire_snapshots().by_ids(old).commit()
    except CommitFailedException:
        return []
    return old
