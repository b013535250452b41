"""The user's cache folder: work a command would otherwise redo on every run.

What is kept here is derived from files whose whole text is in the entry's
key (rule packs, templates), so an entry is valid or not found; deleting the
folder changes no output, only the time to it. `$INCIDENTLOG_CACHE` names
another folder; an unwritable one means no cache, never an error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Final

__all__ = ["CACHE_ENV", "cache_dir", "entry_name", "read_entry", "write_entry"]

CACHE_ENV: Final = "INCIDENTLOG_CACHE"


def cache_dir() -> Path:
    """`$INCIDENTLOG_CACHE`, else `incidentlog` in the user's cache directory."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("incidentlog"))


def entry_name(kind: str, *parts: str) -> str:
    """`kind-<hash of parts>`: one name per content."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    return f"{kind}-{digest}"


def read_entry(name: str) -> str | None:
    """The text kept under `name`, or None."""
    try:
        return (cache_dir() / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_entry(name: str, text: str, *, replaces: str | None = None) -> None:
    """Keep `text` under `name` (atomically: a reader never sees half of it), removing
    older entries whose names start with `replaces` (the same kind, other content)."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if replaces is not None:
            for old in folder.glob(f"{replaces}*"):
                if old.name != name:
                    old.unlink(missing_ok=True)
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(folder / name)
    except OSError:  # no cache, same answer
        return
