"""The committer's lease: who commits, as numbered terms written create-only.

A term is `<logs table location>/incidentlog/lease/<term>.json` holding an
owner and an expiry time. The holder renews by writing the next term; a
newcomer takes the lease by writing the next term once the last one has
expired. Terms are written create-only, so of two writers of the same term
exactly one wins. The lease keeps a second committer idle; it is not what
makes commits safe (a committer whose lease lapsed while it was paused
cannot register a file twice: `commit.py`'s watermark fences it), so clocks
only need to agree to well within the time to live.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Final

from incidentlog.lake.objects import LEASE, Objects

__all__ = ["KEEP_TERMS", "Lease", "Term", "new_owner"]

KEEP_TERMS: Final = 5
"""Old terms kept (for a person looking at who committed); older ones are deleted."""


def new_owner() -> str:
    """This process: host, pid and a random part (a restarted committer is a new owner)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Term:
    number: int
    owner: str
    until: float
    """Unix time the term expires."""


class Lease:
    def __init__(self, objects: Objects, owner: str, ttl: float) -> None:
        self.objects = objects
        self.owner = owner
        self.ttl = ttl

    def current(self) -> Term | None:
        """The newest term, or None when nobody ever held the lease."""
        listed = [item.path for item in self.objects.list(LEASE) if item.path.endswith(".json")]
        for path in reversed(listed):
            data = self.objects.get(path)
            if data is None:  # deleted meanwhile by the holder's clean-up
                continue
            term = json.loads(data)
            return Term(
                int(path.rsplit("/", 1)[-1].removesuffix(".json")), term["owner"], term["until"]
            )
        return None

    def hold(self) -> Term | None:
        """Take or renew the lease; the term now held, or None when another owner
        holds it (see `current` for whom)."""
        term = self.current()
        now = time.time()
        if term is not None and term.owner != self.owner and term.until > now:
            return None
        if term is not None and term.owner == self.owner and term.until - now > self.ttl / 2:
            return term  # renewed recently enough
        number = term.number + 1 if term is not None else 1
        mine = Term(number, self.owner, time.time() + self.ttl)
        body = json.dumps({"owner": mine.owner, "until": mine.until}).encode()
        if not self.objects.create(f"{LEASE}/{number:012d}.json", body):
            return None  # another owner wrote that term first
        old = [
            f"{LEASE}/{n:012d}.json"
            for n in range(max(1, number - 2 * KEEP_TERMS), number - KEEP_TERMS)
        ]
        self.objects.delete(old)
        return mine

    def release(self, term: Term) -> None:
        """Let the next committer start at once (a term that expired already)."""
        body = json.dumps({"owner": self.owner, "until": 0}).encode()
        self.objects.create(f"{LEASE}/{term.number + 1:012d}.json", body)
