"""`store check [--repair]`: every store file read whole; bad ones moved aside.

A store file can go bad outside incidentlog (a disk error, a copy cut short,
a foreign file dropped in): readers then stop at it with an error naming it.
`check` reads every file the way the store's reader does and lists the ones
it cannot read; `repair` moves them into `<store>/quarantine/` (same relative
path, nothing deleted) so that every other file reads again, and cleans up
after killed writers (`compact.recover`, run by the store's first lock). The rows of a quarantined file
come back by ingesting its input again (ingest adds only what is missing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from incidentlog.store.compact import Recovery
from incidentlog.store.layout import DATASETS, Layout
from incidentlog.store.reader import check_file


@dataclass
class CheckResult:
    """What `check` found (and, with repair, did)."""

    files: int = 0
    """Store files read."""
    bad: list[tuple[Path, str]] = field(default_factory=list)
    """(file, what is wrong with it)."""
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    """(bad file, where repair moved it)."""
    leftovers: list[Path] = field(default_factory=list)
    """Temporary files and compaction journals of killed writers (repair removes them)."""
    recovery: Recovery | None = None
    """What repair cleaned up after killed writers."""

    @property
    def ok(self) -> bool:
        """True when nothing is (still) wrong: no bad file left in place."""
        return len(self.moved) == len(self.bad)


def check(layout: Layout, *, recovery: Recovery | None = None) -> CheckResult:
    """Read every store file whole; when repairing (under the store's lock, after
    `recovery`, what `compact.recover` cleaned up), move the bad ones to the
    quarantine folder."""
    result = CheckResult(recovery=recovery)
    repair = recovery is not None
    for dataset, schema in DATASETS.items():
        for day in layout.days(dataset):
            if not repair:
                result.leftovers.extend(layout.temporaries(dataset, day))
                result.leftovers.extend(layout.journals(dataset, day))
            for file in layout.day_files(dataset, day):
                result.files += 1
                problem = check_file(file, schema)
                if problem is None or not file.exists():
                    continue
                result.bad.append((file, problem))
                if repair:
                    result.moved.append((file, _quarantine(layout, file)))
    return result


def _quarantine(layout: Layout, file: Path) -> Path:
    """Move `file` to its place in the quarantine folder (never over another)."""
    target = layout.quarantined(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    number = 1
    while target.exists():
        number += 1
        target = target.with_name(f"{file.stem}.{number}{file.suffix}")
    file.replace(target)
    return target
