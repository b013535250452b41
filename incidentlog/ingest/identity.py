"""The compose service of every record, resolved once per distinct printed name.

`ingest.names` decides from evidence; this keeps what one ingest has learnt
(labels from events/inspect/ps, the compose file, the project) and applies
the answers to each batch with one replace per column. The first batch of
logs fixes the context (compose's own lines, host names in messages, a
shared prefix); later names are resolved against it.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.ingest.names import (
    PSEUDO,
    NameContext,
    compose_mentions,
    replica_base,
    resolve_names,
    shared_prefix,
    spelled,
)
from incidentlog.ingest.records import vouched
from incidentlog.schema import LOGS_SCHEMA, empty
from incidentlog.topology import Topology

__all__ = ["HOST_SCAN_ROWS", "ServiceResolver"]

HOST_SCAN_ROWS: Final = 50_000
"""Messages of the first batch searched for host names that confirm a project prefix."""


_NAME_CHARS: Final = "A-Za-z0-9_.-"
_HOST_USE: Final = rf"[{_NAME_CHARS}]+(?:[:/@,;)\"'\s]|$)"
"""A run of name characters used as a host: followed by `:`, `/`, `@`, `,`, `;`,
`)`, a quote, a space or the end (and preceded by no name character, since a
match starts where the run does)."""


_PREFILTER_NAMES: Final = 10_000
"""Up to this many names, messages are first cut to those that hold one (one
Aho-Corasick pass, 2-3× faster than taking every host-like word of every message)."""


def _mentioned_hosts(messages: pl.Series, candidates: set[str]) -> frozenset[str]:
    """The candidates some message uses as a host (`db:5432`, `//api/`, `@cache`, `host=db`).

    Every host-like word of the messages is extracted once and the candidates
    looked up among them: the cost follows the messages, not the number of
    names (a search per name took minutes for a million names).
    """
    candidates = {n for n in candidates if not n.isdigit()}  # (any number is some word)
    plain = {n for n in candidates if re.fullmatch(f"[{_NAME_CHARS}]+", n)}
    if 0 < len(plain) <= _PREFILTER_NAMES:  # (only messages holding a name can use it)
        messages = messages.filter(messages.str.contains_any(sorted(plain)).fill_null(False))
    used = (
        messages.str.extract_all(_HOST_USE)
        .explode()
        .drop_nulls()
        .str.replace(r"[:/@,;)\"'\s]$", "")
        .unique()
    )
    found = set(used.filter(used.is_in(list(plain))).to_list())
    for name in sorted(candidates - plain):  # (names with other characters: rare)
        pattern = rf"(?:^|[^{_NAME_CHARS}]){pl.escape_regex(name)}(?:[:/@,;)\"']|\s|$)"
        if messages.str.contains(pattern).any():
            found.add(name)
    return frozenset(found)


class ServiceResolver:
    """Printed container names -> compose services (and projects), for one ingest."""

    def __init__(self, topology: Topology | None, project: str | None) -> None:
        self.topology = topology or Topology()
        self.project = project
        self.labels: dict[str, str] = {}
        self.label_projects: set[str] = set()
        """Projects compose labels, or compose's own lines, name."""
        self.service: dict[str, str] = {}
        self.projects: dict[str, str] = {}
        self.context: NameContext | None = None
        self.notes: list[str] = []
        self.as_printed: list[str] = []
        """Container names kept as printed (`Resolution.as_printed`)."""
        self.seen: set[str] = set()
        """Container names the input printed (before stitching holds any back) that
        are not resolved yet: each batch resolves them, so none is looked at twice."""
        self.commanded: set[str] = set()
        """Containers a pasted session's commands name (`docker inspect shop-api-1`):
        resolved like compose's subjects, so a shorter name the logs print (`api-1`)
        tells their service."""
        self.texts: list[pl.Series] = []
        """The first HOST_SCAN_ROWS lines' texts, searched for host names."""

    def observe(self, lines: pl.DataFrame) -> None:
        """Container names and texts of lines read (called before their records are
        finished, so a host named in a container's last record, still held back, counts)."""
        self.seen.update(
            n
            for n in lines.get_column("container").unique().drop_nulls().to_list()
            if n not in PSEUDO and n not in self.service
        )
        room = HOST_SCAN_ROWS - sum(t.len() for t in self.texts)
        if room > 0:
            self.texts.append(lines.get_column("text").head(room))

    def learn_labels(self, events: pl.DataFrame) -> None:
        """Containers whose compose labels name their service (events, inspect, ps)."""
        labels = vouched() if "action" in events.columns else pl.col("project").is_not_null()
        labelled = events.filter(labels).select("container", "project", "service")
        for container, project, service in labelled.unique().iter_rows():
            self.labels[container] = service
            if project is not None:
                self.label_projects.add(project)

    def _context(self, logs: pl.DataFrame, printed: list[str]) -> NameContext:
        own = logs.filter(pl.col("container") == COMPOSE_SERVICE).get_column("message")
        mentions, networks = compose_mentions(own.to_list())
        projects = [
            p for p in (self.project, self.topology.project, *self.label_projects, *networks) if p
        ]
        bases = {replica_base(n) for n in printed}
        prefix = shared_prefix(bases)
        candidates = bases | ({b[len(prefix) :] for b in bases} if prefix else set())
        candidates |= {spelled(b) for b in bases}  # (`gallery-vision` for `gallery_vision`)
        # the lines read so far (records still held back by stitching among them), else
        # the records when no line was seen (json-file input)
        messages = (
            pl.concat(self.texts).cast(pl.String)
            if self.texts
            else logs.get_column("message").head(HOST_SCAN_ROWS)
        )
        return NameContext(
            labels=self.labels,
            services=frozenset(self.topology.specs),
            container_names=self.topology.container_names,
            projects=tuple(dict.fromkeys(projects)),
            mentions=tuple(mentions),
            hosts=_mentioned_hosts(messages, candidates),
        )

    def _learn(self, logs: pl.DataFrame, printed: list[str]) -> None:
        if self.context is None:  # the first time: every name seen so far, together
            seen = {n for n in self.seen if n not in self.service and n not in self.commanded}
            printed = sorted(seen | set(printed))
            self.context = self._context(logs, printed)
        else:  # a project learnt since (`Creating network "ci_default"` of a later input)
            known = tuple(dict.fromkeys((*self.context.projects, *sorted(self.label_projects))))
            if known != self.context.projects:
                self.context = NameContext(**{**self.context.__dict__, "projects": known})
        result = resolve_names(printed, self.context)
        self.service.update(result.service)
        self.projects.update(result.project)
        if result.prefix_project:  # later names with the same prefix are that project's too
            known = (*self.context.projects, result.prefix_project)
            self.context = NameContext(**{**self.context.__dict__, "projects": known})
        if result.note and result.note not in self.notes:
            self.notes.append(result.note)
        self.as_printed.extend(n for n in result.as_printed if n not in self.as_printed)

    def _learn_subjects(self, logs: pl.DataFrame, subjects: list[str]) -> None:
        """Names compose's own lines use. Service names (`ERROR: for web`) come first;
        then container names the logs print shorter (`shop-db-1` for `db-1`), or that
        carry a project those show; whatever is left is resolved like any names."""
        plain = [n for n in subjects if replica_base(n) == n]
        if plain:
            self._learn(logs, plain)
        pending = [n for n in subjects if n not in self.service]
        while pending:
            known = {replica_base(n): s for n, s in self.service.items()}
            projects = sorted(self.label_projects, key=len, reverse=True)
            left = []
            for name in pending:
                found = self._shorter(replica_base(name), known, projects)
                if found is None:
                    left.append(name)
                else:
                    self.service[name], self.projects[name] = found
                    self.label_projects.add(found[1])
            if len(left) == len(pending):
                break
            pending = left
        if pending:
            self._learn(logs, pending)

    @staticmethod
    def _shorter(base: str, known: dict[str, str], projects: list[str]) -> tuple[str, str] | None:
        """(service, project) of `shop-db` when `db` is known, or `shop` is a project."""
        for short in sorted(known, key=len, reverse=True):
            for sep in "-_":
                if base.endswith(sep + short) and len(base) > len(short) + 1:
                    return known[short], base[: -len(short) - 1]
        for project in projects:
            for sep in "-_":
                if base.startswith(project + sep) and len(base) > len(project) + 1:
                    return base[len(project) + 1 :], project
        return None

    def resolve_logs(self, logs: pl.DataFrame) -> pl.DataFrame:
        """`service` (and `project`, when it was unknown) of each record, resolved."""
        if logs.is_empty():
            return logs
        labelled = pl.col("project").is_not_null()  # json-file logs: labels from config.v2.json
        self.learn_labels(logs.filter(labelled))
        own = pl.col("container") == COMPOSE_SERVICE
        _, networks = compose_mentions(logs.filter(own).get_column("message").to_list())
        self.label_projects.update(networks)
        printed_col = pl.when(own).then(pl.col("service")).otherwise(pl.col("container"))
        containers = (
            logs.filter(~own & ~labelled).get_column("container").unique().drop_nulls().to_list()
        )
        subjects = logs.filter(own).get_column("service").unique().drop_nulls().to_list()
        new = [n for n in {*containers, *self.seen} if n not in self.service and n not in PSEUDO]
        if [n for n in new if n not in self.commanded]:
            self._learn(logs, [n for n in new if n not in self.commanded])
        self.seen = {n for n in self.seen if n not in self.service}
        loose = [
            n for n in {*subjects, *new} - set(self.service) if n not in PSEUDO
        ]  # (compose's subjects, and the names commands gave: `new` left unresolved)
        if loose:
            self._learn_subjects(logs, loose)
        printed = printed_col.fill_null("")
        # only this batch's names: the mapping follows the batch, not every name known
        names = logs.select(printed.unique()).to_series().to_list()
        services = {n: self.service[n] for n in names if n in self.service}
        projects = {n: self.projects[n] for n in names if n in self.projects}
        service = printed.replace_strict(services, default=None, return_dtype=pl.String)
        project = printed.replace_strict(projects, default=None, return_dtype=pl.String)
        return logs.with_columns(
            service=pl.when(labelled)
            .then(pl.col("service"))
            .otherwise(pl.coalesce(service, pl.col("service"))),
            project=pl.coalesce(
                pl.col("project"), project, pl.lit(self.default_project, pl.String)
            ),
        )

    def resolve_states(self, events: pl.DataFrame) -> pl.DataFrame:
        """`service` and `project` of state rows nothing vouches for (a v1
        `docker-compose ps`: `ci_jenkins_1`), resolved like the logs' names. Called once
        the logs are read: compose's `Creating network "ci_default"`, which names the
        project, may come after the table."""
        loose = ~vouched() & pl.col("container").is_not_null()
        names = [
            n
            for n in events.filter(loose).get_column("container").unique().to_list()
            if n not in PSEUDO
        ]
        new = [n for n in names if n not in self.service]
        if new:  # (`shop-api-1` is api's when the logs printed `api-1`)
            self._learn_subjects(empty(LOGS_SCHEMA), new)
        services = {n: self.service[n] for n in names if n in self.service}
        projects = {n: self.projects[n] for n in names if n in self.projects}
        container = pl.col("container")
        service = container.replace_strict(services, default=None, return_dtype=pl.String)
        project = container.replace_strict(projects, default=None, return_dtype=pl.String)
        return events.with_columns(
            service=pl.when(loose)
            .then(pl.coalesce(service, pl.col("service")))
            .otherwise(pl.col("service")),
            project=pl.when(loose)
            .then(pl.coalesce(project, pl.lit(self.default_project, pl.String)))
            .otherwise(pl.col("project")),
        )

    @property
    def default_project(self) -> str | None:
        """The project of records nothing else names one for: the one project known."""
        known = {p for p in (self.project, self.topology.project) if p} | self.label_projects
        return known.pop() if len(known) == 1 else None
