"""The digest model: raw facts about a period (counts, signatures, lifecycle), no text.

Everything here is frozen and computed by `incidentlog.digest.build`; the
properties answer the questions every view asks (what to report, what
changed). Views (incidentlog.render.digest) turn it into words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from incidentlog.digest.period import Period

__all__ = [
    "MOVER_MIN_DELTA",
    "MOVER_MIN_RATIO",
    "NEW_SHOWN",
    "SILENT_MIN_RECORDS",
    "SPARK_CHARS",
    "SPARK_HOURS",
    "Digest",
    "HealthTransition",
    "Pattern",
    "ServiceDigest",
    "Signature",
    "moved",
    "sparkline",
]

SPARK_CHARS: Final = "▁▂▃▄▅▆▇█"
"""▁ is an hour without errors; ▂..█ scale the rest to the service's busiest hour."""
SPARK_HOURS: Final = 24
MOVER_MIN_DELTA: Final = 10
"""A count moved when it changed by at least this much ..."""
MOVER_MIN_RATIO: Final = 0.5
"""... and by at least this fraction of the previous period's count."""
SILENT_MIN_RECORDS: Final = 10
"""A service went silent when it logged at least this many records in the previous
period and none in this one (fewer is a quiet service, not a silent one)."""
NEW_SHOWN: Final = 20
"""New signatures listed in Markdown/HTML (JSON has them all)."""
VANISHED_MIN: Final = 3
"""An error pattern seen fewer times than this in the previous period and gone now is no
news (a service with a 1 % error rate drops dozens of one-offs every hour): Markdown and
HTML count them in a line ("seen only once or twice": the template's words for 3), JSON
lists them all. A finding that vanished is always shown."""


@dataclass(frozen=True)
class ServiceDigest:
    service: str
    errors: int
    warnings: int
    records: int
    errors_previous: int
    warnings_previous: int
    records_previous: int
    errors_day_before: int
    warnings_day_before: int
    restarts: int
    oom_kills: int
    health_transitions: int
    silent: bool
    """Logged SILENT_MIN_RECORDS or more in the previous period, nothing in this one."""
    last_seen: datetime | None
    """The last record before the period (for silent services)."""
    errors_24h: tuple[int, ...]
    """Errors per hour over the 24 hours ending at the period's end, oldest first."""
    moved: bool
    """Errors changed against the previous period by MOVER_MIN_DELTA and MOVER_MIN_RATIO."""
    uncovered_hours: int = 0
    """Leading sparkline hours that end before the history starts (no data: blank)."""

    @property
    def sparkline(self) -> str:
        return sparkline(self.errors_24h, blank=self.uncovered_hours)

    @property
    def errors_24h_max(self) -> int:
        return max(self.errors_24h, default=0)

    @property
    def reportable(self) -> bool:
        return bool(
            self.errors
            or self.warnings
            or self.errors_previous
            or self.warnings_previous
            or self.errors_day_before
            or self.warnings_day_before
            or self.errors_24h_max
            or self.restarts
            or self.oom_kills
            or self.health_transitions
            or self.silent
        )

    @property
    def errors_delta(self) -> int:
        return self.errors - self.errors_previous

    @property
    def errors_delta_day(self) -> int:
        return self.errors - self.errors_day_before

    @property
    def warnings_delta(self) -> int:
        return self.warnings - self.warnings_previous


@dataclass(frozen=True)
class Signature:
    """A finding (service + rule) or an error pattern (service + pattern id)."""

    kind: str
    """`finding` or `pattern`."""
    service: str
    id: str
    """The rule id, or the pattern id."""
    title: str
    """The finding's title, or the pattern's template (redacted)."""
    category: str | None
    severity: str | None
    count: int
    count_previous: int
    first_seen: datetime | None
    sample: str
    """One matching record, redacted."""

    @property
    def delta(self) -> int:
        return self.count - self.count_previous


@dataclass(frozen=True)
class Pattern:
    service: str
    pattern_id: str
    template: str
    count: int
    count_previous: int
    sample: str
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class HealthTransition:
    ts: datetime
    service: str
    container: str
    before: str
    after: str


@dataclass(frozen=True)
class Digest:
    period: Period
    previous: Period
    day_before: Period
    zone: str
    history_start: datetime | None
    history_end: datetime | None
    services: tuple[ServiceDigest, ...]
    new_signatures: tuple[Signature, ...]
    vanished_signatures: tuple[Signature, ...]
    top_movers: tuple[Signature, ...]
    top_patterns: tuple[Pattern, ...]
    health_transitions: tuple[HealthTransition, ...]
    hours: tuple[datetime, ...]
    """The start of each sparkline hour, oldest first."""
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def reported_services(self) -> tuple[ServiceDigest, ...]:
        """Services with something to report: errors or warnings in any compared
        period, errors in the last 24 hours, restarts, OOM kills, health changes, silence."""
        return tuple(s for s in self.services if s.reportable)

    @property
    def quiet_services(self) -> tuple[str, ...]:
        """The other services: they logged, without errors or warnings."""
        return tuple(s.service for s in self.services if not s.reportable)

    @property
    def silent_services(self) -> tuple[ServiceDigest, ...]:
        return tuple(s for s in self.services if s.silent)

    @property
    def restarts(self) -> int:
        return sum(s.restarts for s in self.services)

    @property
    def oom_kills(self) -> int:
        return sum(s.oom_kills for s in self.services)

    @property
    def has_previous(self) -> bool:
        """The history reaches into the previous period (else its counts mean "no data")."""
        return self.history_start is not None and self.history_start < self.previous.end

    @property
    def has_day_before(self) -> bool:
        return self.history_start is not None and self.history_start < self.day_before.end

    @property
    def shown_new_signatures(self) -> tuple[Signature, ...]:
        """The new signatures the Markdown lists (findings first, then the commonest patterns)."""
        ranked = sorted(self.new_signatures, key=lambda s: (s.kind != "finding", -s.count))
        return tuple(ranked[:NEW_SHOWN])

    @property
    def shown_vanished_signatures(self) -> tuple[Signature, ...]:
        """The vanished signatures the Markdown lists: findings, and error patterns that
        were seen at least `VANISHED_MIN` times (the most frequent first)."""
        kept = [
            s
            for s in self.vanished_signatures
            if s.kind == "finding" or s.count_previous >= VANISHED_MIN
        ]
        kept.sort(key=lambda s: (s.kind != "finding", -s.count_previous))
        return tuple(kept[:NEW_SHOWN])

    @property
    def before_history(self) -> bool:
        """The store holds nothing before the end of the period."""
        return self.history_start is None or self.history_start >= self.period.end

    @property
    def unchanged(self) -> bool:
        """Nothing a reader must look at: no new, vanished or moved signature, no
        restart, OOM kill, health change or silent service, no service whose error
        count moved."""
        return not (
            self.new_signatures
            or self.vanished_signatures
            or self.top_movers
            or self.health_transitions
            or self.restarts
            or self.oom_kills
            or self.silent_services
            or any(s.moved for s in self.services)
        )


def sparkline(counts: Sequence[int], *, blank: int = 0) -> str:
    """One character per count: ▁ for 0, ▂..█ scaled to the largest count; the first
    `blank` counts (hours without data) are spaces."""
    top = max(counts, default=0)
    steps = len(SPARK_CHARS) - 1
    bars = [
        SPARK_CHARS[0] if n <= 0 else SPARK_CHARS[max(1, math.ceil(n * steps / top))]
        for n in counts
    ]
    return " " * blank + "".join(bars[blank:])


def moved(count: int, previous: int) -> bool:
    """The count changed by at least MOVER_MIN_DELTA and MOVER_MIN_RATIO of `previous`."""
    delta = abs(count - previous)
    return delta >= MOVER_MIN_DELTA and delta >= MOVER_MIN_RATIO * previous
