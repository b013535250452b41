"""`lake commit`: landed files registered in the tables, in numbered batches.

One committer (it holds the lease, `lease.py`) turns landed files into
table data with `add_files` (no copy: the landing file is the data file).
For each table:

1. `W`, the watermark: the number of the last batch committed, kept in the
   summary of every snapshot the lake makes (`incidentlog.watermark`).
2. If batch `W+1` exists (`incidentlog/batches/<W+1>.json`), a committer
   claimed it and stopped before its commit: commit that batch.
3. Else claim a new batch `W+1`: announced files (`objects.INBOX`, one
   entry per landed file) that no batch names yet (at most `max_files`),
   written create-only (two committers cannot both claim `W+1`).
4. Commit the batch with the watermark `W+1` in its snapshot summary, on the
   table as it was read in 1. pyiceberg's own retry is off for the lake's
   tables (it would re-apply the append on a newer table and add the files a
   second time): a conflict reloads the table and starts again at 1.
5. Delete the batch's inbox entries (a committer killed before this leaves
   them; the next one deletes entries of batches at or below `W`).

So a batch is committed only on a table whose watermark is the one before
it, and exactly once however often a committer is killed; a file is in at
most one batch. Batches are listed before the inbox, so an entry is never
seen without the batch that claimed it; compaction deletes the entries of
the files it deletes before their batches. The work of a step grows with
the files pending, not with the history: the inbox holds only what is not
committed yet, and batches are listed from the last one known (all of them
once per process). The committer also expires snapshots beyond
KEEP_SNAPSHOTS so that the table's metadata stays bounded (its snapshots
only add files; `lake compact` deletes files that expired snapshots alone
referenced).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from incidentlog.errors import LakeError
from incidentlog.lake.lease import Lease, Term, new_owner
from incidentlog.lake.objects import BATCHES, INBOX, Objects, announcement, landed
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
FULL_LIST_EVERY: Final = 1000
"""Steps between full listings of the batches (else only the new ones are listed)."""


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
        self.batch_of: dict[str, int] = {}
        """Landing path -> the batch that claimed it."""
        self._last: str | None = None
        """The newest batch listed: the next refresh lists only those after it."""
        self._refreshes = 0

    def refresh(self) -> None:
        """Learn the batches claimed since the last look (every FULL_LIST_EVERY
        looks, all of them: forgets those compaction pruned)."""
        if self._refreshes % FULL_LIST_EVERY == 0:
            self.files, self.batch_of, self._last = {}, {}, None
        self._refreshes += 1
        for item in self.objects.list(BATCHES, after=self._last):
            if not item.path.endswith(".json"):
                continue
            number = int(item.path.rsplit("/", 1)[-1].removesuffix(".json"))
            data = self.objects.get(item.path)
            if data is not None:
                self._add(number, json.loads(data)["files"])
            self._last = item.path

    def _add(self, number: int, paths: list[str]) -> None:
        self.files[number] = paths
        self.batch_of.update(dict.fromkeys(paths, number))

    def claim(self, number: int, paths: list[str]) -> bool:
        body = json.dumps({"files": paths}).encode()
        if not self.objects.create(f"{BATCHES}/{number:012d}.json", body):
            return False
        self._add(number, paths)
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
        batches.refresh()  # (before listing the inbox: see the module's docstring)
        mark = watermark(table)
        number = mark + 1
        recovered = number in batches.files
        objects = self.lake.objects(dataset)
        if not recovered:
            waiting = [landed(item.path) for item in objects.list(INBOX)]
            done = [p for p in waiting if batches.batch_of.get(p, number) <= mark]
            objects.delete([announcement(p) for p in done])  # left by a killed committer
            pending = [p for p in waiting if p not in batches.batch_of and p.endswith(".parquet")]
            if not pending:
                return 0
            if not batches.claim(number, pending[: self.options.max_files]):
                return 1  # another committer claimed it: look again
        paths = batches.files[number]
        urls = [objects.url(p) for p in paths]
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
        objects.delete([announcement(p) for p in paths])
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
