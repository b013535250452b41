"""The object store under a lake table's location, through obstore.

What the lake writes beside Iceberg's own files needs what pyiceberg's
FileIO does not offer: create-only puts (`If-None-Match: *` on S3, an
exclusive create on a local disk), so that a landing file, a lease term or
a commit batch is never overwritten and exactly one of two racing writers
wins. The store is reached with the catalog's own `s3.*` properties (or,
without them, the usual AWS environment), so there is one configuration.

    <table location>/landing/day=<D>/<host>-<hash>.parquet   pushed by hosts
    <table location>/incidentlog/inbox/day=<D>/<host>-<hash>.parquet
                                  (empty) the same file announced, until committed
    <table location>/incidentlog/batches/<N>.json            claimed by the committer
    <table location>/incidentlog/lease/<term>.json           who commits (logs table only)
"""

from __future__ import annotations

import builtins
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from incidentlog.errors import LakeError

if TYPE_CHECKING:
    from obstore.store import ObjectStore

__all__ = ["BATCHES", "INBOX", "LANDING", "LEASE", "Listed", "Objects", "announcement", "landed"]

LANDING: Final = "landing"
INBOX: Final = "incidentlog/inbox"
"""One empty object per landing file not yet committed: the committer lists
these, not the landing prefix, so its work grows with what is pending, not
with everything landed since the last compaction."""
BATCHES: Final = "incidentlog/batches"
LEASE: Final = "incidentlog/lease"
_S3_KEYS: Final = {
    "s3.endpoint": "endpoint",
    "s3.access-key-id": "access_key_id",
    "s3.secret-access-key": "secret_access_key",
    "s3.session-token": "token",
    "s3.region": "region",
}


def announcement(landing_path: str) -> str:
    """The inbox entry that announces `landing_path`."""
    return INBOX + landing_path.removeprefix(LANDING)


def landed(announcement_path: str) -> str:
    """The landing file an inbox entry announces."""
    return LANDING + announcement_path.removeprefix(INBOX)


@dataclass(frozen=True)
class Listed:
    path: str
    """Relative to the table location."""
    size: int
    modified: datetime


class Objects:
    """Create-only puts, lists, gets and deletes under one table location."""

    def __init__(self, location: str, properties: dict[str, str]) -> None:
        self.location = location.rstrip("/")
        self._store = _open_store(self.location, properties)

    def url(self, path: str) -> str:
        """The full URL of `path` (as Iceberg metadata names a data file)."""
        return f"{self.location}/{path}"

    def relative(self, url: str) -> str:
        return url.removeprefix(self.location + "/")

    def create(self, path: str, data: bytes) -> bool:
        """Write `path` unless it exists; False when it did (nothing is overwritten)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            obstore.put(self._store, path, data, mode="create", use_multipart=False)
        except (AlreadyExistsError, PreconditionError):
            return False
        except Exception as exc:
            raise LakeError(f"{self.url(path)}: cannot write ({_short(exc)})") from None
        return True

    def get(self, path: str) -> bytes | None:
        """The bytes of `path`, or None when it does not exist."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            return bytes(obstore.get(self._store, path).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as exc:
            raise LakeError(f"{self.url(path)}: cannot read ({_short(exc)})") from None

    def exists(self, path: str) -> bool:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.head(self._store, path)
        except (NotFoundError, FileNotFoundError):
            return False
        except Exception as exc:
            raise LakeError(f"{self.url(path)}: cannot read ({_short(exc)})") from None
        return True

    def list(self, prefix: str, after: str | None = None) -> builtins.list[Listed]:
        """Every object under `prefix` (with `after`: whose path sorts after it), by path."""
        import obstore

        found: list[Listed] = []
        try:
            for chunk in obstore.list(self._store, prefix + "/", offset=after):
                found.extend(
                    Listed(m["path"], m["size"], m["last_modified"])
                    for m in chunk
                    if not m["path"].rsplit("/", 1)[-1].startswith(".")
                )
        except FileNotFoundError:  # a local prefix not made yet
            return []
        except Exception as exc:
            raise LakeError(f"{self.url(prefix)}: cannot list ({_short(exc)})") from None
        return sorted(found, key=lambda item: item.path)

    def delete(self, paths: builtins.list[str]) -> None:
        """Delete `paths` (those already gone are fine), many per request where the store can."""
        import obstore
        from obstore.exceptions import NotFoundError

        for start in range(0, len(paths), _DELETE_BATCH):
            part = paths[start : start + _DELETE_BATCH]
            try:
                obstore.delete(self._store, part)
            except (NotFoundError, FileNotFoundError):
                for path in part:  # one of them was gone: the others one by one
                    with contextlib.suppress(NotFoundError, FileNotFoundError):
                        obstore.delete(self._store, path)
            except Exception as exc:
                raise LakeError(f"{self.url(part[0])}: cannot delete ({_short(exc)})") from None


_DELETE_BATCH: Final = 1000
"""Paths per delete request (S3's DeleteObjects takes at most 1000)."""


def _open_store(location: str, properties: dict[str, str]) -> ObjectStore:
    from obstore.store import LocalStore, from_url

    if location.startswith("file:") or "://" not in location:
        from pathlib import Path

        root = Path(location.removeprefix("file://").removeprefix("file:"))
        root.mkdir(parents=True, exist_ok=True)
        return LocalStore(root)
    config: dict[str, Any] = {
        ours: properties[theirs] for theirs, ours in _S3_KEYS.items() if theirs in properties
    }
    client: dict[str, Any] = {}
    if str(config.get("endpoint", "")).startswith("http://"):
        client["allow_http"] = True
    try:
        return from_url(location, config=config or None, client_options=client or None)  # type: ignore[arg-type]
    except Exception as exc:
        raise LakeError(f"{location}: cannot open the object store ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
