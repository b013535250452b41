"""`incidentlog digest`: what changed in a period, as a diff against the period before.

`build_digest` reads the history store once per question, with Polars
aggregations over the pruned scans (never a loop over records):

- per service: errors (error + fatal), warnings and records in the period,
  the previous period of the same length, and the same hours a day earlier
  (wall clock in the display time zone, so a DST change does not shift it);
  errors per hour over the 24 hours ending with the period (the sparkline);
- signatures: detection findings (service + rule) and error patterns (service
  + pattern id, mined by `incidentlog.patterns` in one batch so ids compare),
  new = never seen before the period (findings: in the whole history; error
  patterns: in the `PATTERN_LOOKBACK` before it),
  vanished = seen in the previous period and not in this one, movers = the
  largest changes of the rest;
- lifecycle from events: restarts (a `start` after a `die` of the same
  container), OOM kills (`oom` events), health transitions (`health_status`
  changes; a first `healthy` is normal start-up and not listed);
- services that went silent: records in the previous period, none in this one.

The package holds the facts: `period` (periods and the display zone),
`model` (the frozen `Digest`), `build` (the queries), `signatures` (findings,
error patterns and the per-day cache of findings seen before). Words, markup
and the chart are the view's: `incidentlog.render.digest`
turns the `Digest` into Markdown (Jinja, `templates/digest.md.j2`), a
self-contained HTML page with a heatmap drawn as inline SVG by its template
(`incidentlog.render.heatmap` lays it out), or JSON, and holds
`run_digest`, what the CLI calls.
"""

from __future__ import annotations

from incidentlog.digest.build import TOP_PATTERNS, build_digest
from incidentlog.digest.model import (
    MOVER_MIN_DELTA,
    MOVER_MIN_RATIO,
    NEW_SHOWN,
    SILENT_MIN_RECORDS,
    SPARK_CHARS,
    SPARK_HOURS,
    Digest,
    HealthTransition,
    Pattern,
    ServiceDigest,
    Signature,
    moved,
    sparkline,
)
from incidentlog.digest.period import Period, day_before, display_zone, resolve_period
from incidentlog.digest.signatures import (
    PATTERN_LOOKBACK,
    SAMPLE_CHARS,
    SIGNATURE_CACHE,
    TOP_MOVERS,
    error_patterns,
)
from incidentlog.errors import UsageError

__all__ = [
    "MOVER_MIN_DELTA",
    "MOVER_MIN_RATIO",
    "NEW_SHOWN",
    "PATTERN_LOOKBACK",
    "SAMPLE_CHARS",
    "SIGNATURE_CACHE",
    "SILENT_MIN_RECORDS",
    "SPARK_CHARS",
    "SPARK_HOURS",
    "TOP_MOVERS",
    "TOP_PATTERNS",
    "Digest",
    "HealthTransition",
    "Pattern",
    "Period",
    "ServiceDigest",
    "Signature",
    "UsageError",
    "build_digest",
    "day_before",
    "display_zone",
    "error_patterns",
    "moved",
    "resolve_period",
    "sparkline",
]
