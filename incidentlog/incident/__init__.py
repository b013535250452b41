"""The incident model: what happened, computed from logs, events and detection findings.

`build_incident` takes the evidence frames (`logs`, `events` of the schemas in
`incidentlog.schema`), the findings of `incidentlog.detect` and, when one is
available, the compose topology, and returns an `Incident`: plain frozen
dataclasses that the report templates only format, and that `incident_to_dict`
turns into the JSON document `incidentlog report --format json` prints.

The model holds raw facts, never markup: prose that mixes words and code
(`problem`, `root_cause`, `fix`, `impact`, `ranking`, symptom `description`,
action-step `title`, file `hint`, `summary`, improvement `items`) is
`incidentlog.text.Prose`, which the views mark up (`md_prose`) or print plain.

The JSON document (`schema_version` 1) has these keys; prose is plain text
(code spans keep their backticks, nothing is escaped); times are RFC 3339 UTC
strings (`null` when the input had no timestamps), durations are seconds:

- `found` — false when the evidence shows no incident (the report then says so).
- `project`, `window_start`, `window_end` — what the evidence covers.
- `started_at` (first failure evidence), `first_unhealthy_at` (first failed health check
  of an affected service), `detection_delay_seconds` (for the first root cause: from its
  first evidence to the first time the engine showed it: a service of it unhealthy, an
  exit or an OOM kill), `detection` (the same in words, with how long the health checks
  took to flag their services and why), `ended_at` (last affected service recovered;
  null while `ongoing`), `duration_seconds`, `next_update_at` (the report's time plus
  the first phase's ETA; null when the evidence ended more than a week before the report).
- `summary` — the root causes in one line; `severity` — the worst finding; `users` —
  what the access logs say users got (requests and 5xx responses, probes left out).
- `services_total`, `affected` (services with a health-check failure or a crash
  loop, an issue or a symptom, including ones that recovered on their own),
  `unhealthy`, `crash_looping`, `healthy` and `needs_attention` (state at the end of
  the evidence), `recovered`, `transient` (failed briefly: unhealthy, an exit or an
  error-level record, and recovered on their own).
- `issues` — root causes, ranked (first evidence first): `problem`, `root_cause`,
  `fix` (`fix_kind`: rebuild-image / change-code / change-config / restart /
  investigate, or change-host: a change on the Docker host itself, its DNS or egress for
  containers when services cannot resolve names of the internet), `impact` (only what the cause explains), `user_impact`, `services`,
  `symptoms` (same-service and downstream consequences: health-check failures with the
  engine's failing streak as their count, crash loops, refused connections of other
  services; each with the `rules` whose findings it is), `evidence` (redacted excerpts
  with timestamps: `lines` in full, `brief` the lines that say it, `label` what they are: a first occurrence, the probe results
  inspect kept, events), `files`, `detected_at`, `detection_delay_seconds`.
- `timeline` — first error, first unhealthy, restarts, recoveries, in order, each
  with the `services` it concerns (none for the start and end of the evidence);
  `gantt` — the same as bars.
- `services` — per service: final state and `detail` (the state in words), time
  unhealthy, `exits`, restarts (the engine's count), error records, `started_at`,
  `failing_since`, `unhealthy_after_seconds`, `probe` (command, form, interval,
  timeout, retries, start period, inspect's `failing_streak`, last output),
  `restart_policy`, `mounts` (null when the evidence does not show them).
- `thresholds` — the runbook's monitoring thresholds evaluated against the peak.
- `action_plan` — phases of steps with shell-quoted commands, grouped by fix kind,
  quickest first.
- `files` — where to look: innermost application frames, Dockerfiles, compose.
- `improvements` — long-term work that follows from the categories found.
"""

from incidentlog.incident.advice import service_names
from incidentlog.incident.build import build_incident, focus_incident
from incidentlog.incident.document import incident_to_dict
from incidentlog.incident.model import (
    SCHEMA_VERSION,
    ActionPhase,
    ActionStep,
    Excerpt,
    ExcerptLine,
    FileRef,
    GanttBar,
    Improvement,
    Incident,
    Issue,
    Probe,
    ServiceState,
    Symptom,
    Threshold,
    TimelineEntry,
)
from incidentlog.text import Code, Prose, format_duration

__all__ = [
    "SCHEMA_VERSION",
    "ActionPhase",
    "ActionStep",
    "Code",
    "Excerpt",
    "ExcerptLine",
    "FileRef",
    "GanttBar",
    "Improvement",
    "Incident",
    "Issue",
    "Probe",
    "Prose",
    "ServiceState",
    "Symptom",
    "Threshold",
    "TimelineEntry",
    "build_incident",
    "focus_incident",
    "format_duration",
    "incident_to_dict",
    "service_names",
]
