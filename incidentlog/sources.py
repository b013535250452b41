"""The one evidence loader: files or the history store, within a window, with the rules.

Every reading command (detect, report, grep, patterns, digest) asks here, so
an option means the same everywhere:

- PATHs are read (parsed on the fly); with `--store` as well, what they hold
  is also added to that store. Without PATHs the store is read (`--store`,
  `$INCIDENTLOG_STORE`, or the default one), or with `--lake NAME` the lake's
  Iceberg tables (`incidentlog.lake`, pruned by the same window and services).
- A compose file among the PATHs, or beside them, is topology, not a log.
- `--since/--until` keep records in the window. Records from files without a
  time cannot be placed and are kept; the store keeps those under
  `day=undated`, which a window does not read.
- `--service` names or globs select records (`logs(select=True)`); detect and
  report instead analyse everything and focus their output on them.
- `--rules` packs are added to the built-in rules wherever findings are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import polars as pl

from incidentlog.progress import step
from incidentlog.schema import LOGS_SCHEMA
from incidentlog.topology import (
    ContainerConfig,
    Topology,
    inspect_configs,
    topology_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from incidentlog.detect.rules import RuleSet
    from incidentlog.ingest import IngestSummary
    from incidentlog.lake import Lake
    from incidentlog.store import Store

__all__ = [
    "Evidence",
    "EvidenceSource",
    "History",
    "LakeHistory",
    "Request",
    "glob_to_regex",
    "is_glob",
]


@dataclass(frozen=True)
class Request:
    """What a reading command asks for; every field is a shared option."""

    paths: tuple[str, ...] = ()
    store: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    services: tuple[str, ...] = ()
    """Service names or globs (`api`, `agent-*`)."""
    rule_paths: tuple[Path, ...] = ()
    input_format: str | None = None
    project: str | None = None
    host: str | None = None
    lake: str | None = None
    """A pyiceberg catalog name: read the lake instead of the store."""
    log_zone: str | None = None
    """The zone of application times printed without one (`ingest.apptime`; UTC)."""

    @property
    def service_hint(self) -> str | None:
        """The service of input without a compose prefix: one exact `--service`."""
        if len(self.services) == 1 and not is_glob(self.services[0]):
            return self.services[0]
        return None


@dataclass(frozen=True)
class Evidence:
    """Everything `build_incident` reads: records and events in the window, and topology."""

    logs: pl.DataFrame
    events: pl.DataFrame
    depends_on: dict[str, list[str]] = field(default_factory=dict)
    configs: dict[str, ContainerConfig] = field(default_factory=dict)
    compose_services: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    names_as_printed: list[str] = field(default_factory=list)
    """Container names kept as printed (a `container_name:`?): commands name their
    service through the container's compose label."""
    commands: list[str] = field(default_factory=list)
    """The commands of a pasted session whose output is evidence (`podman-compose logs`)."""


class History(Protocol):
    """What the digest reads the history through: the store, or the lake."""

    def scan(
        self,
        dataset: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        services: Iterable[str] = (),
    ) -> pl.LazyFrame: ...


class LakeHistory:
    """The lake as a `History` (it keeps no local caches: it has no `cache_dir`)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    @classmethod
    def open(cls, name: str) -> LakeHistory:
        from incidentlog.lake import Lake

        return cls(Lake.open(name))

    def scan(
        self,
        dataset: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        services: Iterable[str] = (),
    ) -> pl.LazyFrame:
        from incidentlog.lake.read import scan

        return scan(self.lake, dataset, since=since, until=until, services=services)


def is_glob(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def glob_to_regex(globs: Sequence[str]) -> str:
    """One anchored Rust regex matching any of the shell globs (`*`, `?`, `[...]`)."""
    parts: list[str] = []
    for glob in globs:
        out: list[str] = []
        i = 0
        while i < len(glob):
            ch = glob[i]
            if ch == "*":
                out.append(".*")
            elif ch == "?":
                out.append(".")
            elif ch == "[" and "]" in glob[i + 2 :]:
                end = glob.index("]", i + 2)
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                i = end
            else:
                out.append(pl.escape_regex(ch))
            i += 1
        parts.append("".join(out))
    return "^(?:" + "|".join(parts) + ")$"


def _expanded(paths: Sequence[str]) -> tuple[list[str], list[Path], list[str]]:
    """(inputs, compose files, skipped): folders walked and compose files set apart;
    ingest is loaded only when there are paths (reading the store needs none of it)."""
    if not paths:
        return [], [], []
    from incidentlog.ingest.folders import expand_inputs

    expanded = expand_inputs(paths)
    return expanded.inputs, expanded.compose, expanded.skipped


class EvidenceSource:
    """The evidence of one request: files parsed once, or the store scanned lazily."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.inputs, self._given_compose, self.skipped = _expanded(request.paths)
        """Files (and `-`) to read; folders are walked, compose files set apart;
        `skipped`: files of evidence folders that were not used, one line each with why."""
        self._files: tuple[pl.DataFrame, pl.DataFrame] | None = None
        self.summary: IngestSummary | None = None
        """What ingest made of the files (None when reading the store)."""

    # ---- what was read ------------------------------------------------------------

    @property
    def from_files(self) -> bool:
        return bool(self.inputs) or bool(self.skipped)

    @cached_property
    def store(self) -> Store:
        from incidentlog.store import Store

        return Store.open(self.request.store)

    @cached_property
    def history(self) -> History:
        """Where records are read from without PATHs: the lake, or the store."""
        if self.request.lake is not None:
            return LakeHistory.open(self.request.lake)
        return self.store

    @cached_property
    def ruleset(self) -> RuleSet:
        """The built-in rules plus the request's `--rules` packs."""
        from incidentlog.detect.rules import load_rules

        return load_rules(self.request.rule_paths)

    @cached_property
    def compose_topology(self) -> Topology:
        """The compose files given (in order) or found beside the inputs."""
        return topology_for(self._given_compose, [*self.inputs])

    @property
    def topology(self) -> Topology:
        """The compose topology, with what inspect output says about images and probes."""
        topology = self.compose_topology
        if not self.from_files or self.summary is None:
            return topology
        if not topology.files and self.summary.topology is not None:
            topology = self.summary.topology  # (a compose file pasted with the logs)
        from incidentlog.ingest.sniff import InputFormat

        inspected = [s.source for s in self.summary.sources if s.format is InputFormat.INSPECT]
        if not inspected:
            return topology
        return replace(topology, configs={**inspect_configs(inspected), **topology.configs})

    def notes(self) -> list[str]:
        """One line each: compose files used or ignored, container names kept as printed,
        files of evidence folders that were skipped."""
        ingest = self.summary.notes if self.summary is not None else []
        skipped = [f"skipped {s}" for s in self.skipped]
        return [*self.topology.notes, *ingest, *skipped]

    def described_inputs(self) -> list[str]:
        """What the evidence came from, for a report's footer."""
        compose = [str(f) for f in self.topology.files]
        if self.from_files:
            return [*self.inputs, *compose]
        if self.request.lake is not None:
            return [f"lake {self.request.lake}", *compose]
        return [f"history store {self.store.root}", *compose]

    # ---- frames -------------------------------------------------------------------

    def _read_files(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        if self._files is None:
            from incidentlog.ingest import read_inputs

            r = self.request
            result = read_inputs(
                self.inputs,
                service=r.service_hint,
                fmt=r.input_format,
                project=r.project,
                host=r.host,
                topology=self.compose_topology,
                log_zone=r.log_zone,
            )
            self.summary = result.summary
            self._files = (result.logs, result.events)
            if r.store is not None:
                from incidentlog.store import Store

                Store.open(r.store, create=True).append(
                    [("logs", result.logs), ("events", result.events)]
                )
        return self._files

    def _window(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        since, until = self.request.since, self.request.until
        if since is not None:
            frame = frame.filter(pl.col("ts").is_null() | (pl.col("ts") >= since))
        if until is not None:
            frame = frame.filter(pl.col("ts").is_null() | (pl.col("ts") <= until))
        return frame

    def services(self) -> list[str] | None:
        """The requested services as names (globs expanded against what was read),
        or None when every service is wanted."""
        wanted = list(dict.fromkeys(self.request.services))
        if not wanted:
            return None
        if not any(is_glob(s) for s in wanted):
            return wanted
        pattern = glob_to_regex(wanted)
        names = (
            self.logs(select=False)
            .select(pl.col("service").unique())
            .filter(pl.col("service").str.contains(pattern))
            .collect()
            .get_column("service")
            .to_list()
        )
        return sorted(set(names) | {s for s in wanted if not is_glob(s)})

    def logs(self, *, select: bool = True, text_keys: Sequence[int] = ()) -> pl.LazyFrame:
        """Log records in the window; with `select`, of the requested services only.

        `text_keys` (`store.textindex.trigram_keys` of a text every wanted record
        holds) lets a store scan skip the row groups that cannot hold it; the
        caller still filters by that text.
        """
        services = self.services() if select else None
        if self.from_files:
            frame = self._window(self._read_files()[0].lazy())
            return frame if services is None else frame.filter(pl.col("service").is_in(services))
        if services == []:
            return pl.LazyFrame(schema=LOGS_SCHEMA)
        r = self.request
        if text_keys and self.request.lake is None:
            from incidentlog.store.textindex import scan_containing

            return scan_containing(
                self.store.layout, text_keys, since=r.since, until=r.until, services=services or ()
            )
        return self.history.scan("logs", since=r.since, until=r.until, services=services or ())

    def events(self) -> pl.LazyFrame:
        """Events in the window (all services: a watcher's event may name another)."""
        if self.from_files:
            return self._window(self._read_files()[1].lazy())
        r = self.request
        return self.history.scan("events", since=r.since, until=r.until)

    def evidence(self) -> Evidence:
        """Everything in the window, collected, with the topology (what report needs)."""
        step("reading the evidence")
        logs = self.logs(select=False).collect()
        events = self.events().collect()
        topology = self.topology
        return Evidence(
            logs=logs,
            events=events,
            depends_on=topology.depends_on,
            configs=topology.configs,
            compose_services=topology.services,
            inputs=self.described_inputs(),
            notes=self.notes(),
            names_as_printed=list(self.summary.names_as_printed) if self.summary else [],
            commands=[c for c in self.summary.commands if c] if self.summary else [],
        )
