"""Where `collect` got to, per container: resume with nothing lost and nothing twice.

In the folder the store gives for them (`Store.checkpoints_dir()`,
`<store>/checkpoints/`), `<container id>.json` holds, for each stream, a line
cursor: the engine timestamp of the last line that is in the store and how
many lines carried exactly that timestamp; and the occurrence counts of the
records at the latest instant (so a repeated record at that instant gets the
same id after a resume as it would have without one). `events.json` holds
the time of the last engine event read. Files are written under a temporary
name, flushed and renamed, after the store write they describe: a crash
between the two leaves an older checkpoint, and the re-read records have the
ids the store already holds.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from incidentlog.errors import EngineError, StoreError
from incidentlog.store.compact import drop_dead_temporaries

if TYPE_CHECKING:
    from incidentlog.store import Store

EVENTS_FILE = "events.json"
VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """Lines up to here are stored: all before `ts` (ns) and the first `n` at `ts`."""

    ts: int
    n: int


@dataclass
class ContainerCheckpoint:
    container_id: str
    name: str
    streams: dict[str, Cursor] = field(default_factory=dict)
    seen: list[tuple[int, int, int]] = field(default_factory=list)
    """(content hash, ts ns, occurrences) of records at the latest instant."""

    def to_json(self) -> dict[str, object]:
        return {
            "version": VERSION,
            "container": self.container_id,
            "name": self.name,
            "streams": {s: {"ts": c.ts, "n": c.n} for s, c in sorted(self.streams.items())},
            "seen": [list(row) for row in self.seen],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ContainerCheckpoint:
        streams = data.get("streams")
        seen = data.get("seen")
        if data.get("version") != VERSION or not isinstance(streams, dict):
            raise ValueError("unknown checkpoint version")
        return cls(
            container_id=str(data["container"]),
            name=str(data.get("name", "")),
            streams={str(s): Cursor(int(c["ts"]), int(c["n"])) for s, c in streams.items()},
            seen=[(int(a), int(b), int(c)) for a, b, c in (seen if isinstance(seen, list) else [])],
        )


class Checkpoints:
    """The checkpoint directory of one store (where the store says it is)."""

    def __init__(self, store: Store) -> None:
        self.root = store.checkpoints_dir()
        self.store_root = store.root
        self._lock: IO[str] | None = None

    def load(self, container_id: str) -> ContainerCheckpoint | None:
        path = self.root / f"{container_id}.json"
        try:
            return ContainerCheckpoint.from_json(json.loads(path.read_text("utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"{path}: unreadable collect checkpoint ({exc}); delete it to collect "
                "that container again from --since"
            ) from None

    def save(self, checkpoint: ContainerCheckpoint) -> None:
        _atomic_write(
            self.root / f"{checkpoint.container_id}.json", json.dumps(checkpoint.to_json())
        )

    def forget(self, container_id: str) -> None:
        (self.root / f"{container_id}.json").unlink(missing_ok=True)

    def known(self) -> list[str]:
        """Container ids that have a checkpoint."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if p.name != EVENTS_FILE)

    def events_since(self, scope: str) -> int | None:
        """Time (ns) of the last engine event read for `scope` (a project, or `*`)."""
        try:
            data = json.loads((self.root / EVENTS_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        value = data.get(scope) if isinstance(data, dict) else None
        return int(value) if isinstance(value, int) else None

    def save_events(self, scope: str, ts: int) -> None:
        path = self.root / EVENTS_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data[scope] = ts
        _atomic_write(path, json.dumps(data, sort_keys=True))

    def lock(self, scope: str) -> None:
        """Hold `.collect-<scope>.lock` until the process exits: one collector per project."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = "all" if scope == "*" else scope
        handle = (self.root / f".collect-{name}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            what = "every container" if scope == "*" else f"project {scope!r}"
            raise EngineError(
                f"another incidentlog collect is already collecting {what} into "
                f"{self.store_root}; stop it first"
            ) from None
        self._lock = handle
        # what a collector killed while it saved a checkpoint left behind
        drop_dead_temporaries(self.root)

    def unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def _atomic_write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the collect checkpoint ({exc.strerror})") from None
