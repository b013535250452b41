"""From findings to causes: units, transients, cause vs symptom, grouping, ranking.

A *unit* is one service's findings of one category. Units of services that
only failed briefly are transient; health-check failures and crash loops are
symptoms, and so are remote failures (refused connections, unresolved hosts)
that point at a service with its own cause. What is left is grouped into
*causes* (same category and key field = one cause across services), which
collect their symptoms, the trouble of their `depends_on` dependants, and are
ranked by what came first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl

from incidentlog.detect import service_of_container
from incidentlog.incident.model import Symptom
from incidentlog.incident.ports import (
    LOOPBACK,
    is_address,
    is_public_name,
    service_on_port,
    unclaimed,
)
from incidentlog.incident.services import Stack
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.redact import redact_expr
from incidentlog.schema import Category, Level, Severity
from incidentlog.text import Code, Prose, plural

__all__ = [
    "Cause",
    "Finding",
    "RemoteSymptom",
    "Unit",
    "add_dependants",
    "causes_of",
    "group_units",
    "named_hosts",
    "rank_causes",
    "read_findings",
    "severity_rank",
    "split_causes",
    "transient_services",
    "units_of",
    "use_engine_streaks",
]

SYMPTOM_CATEGORIES: Final = frozenset(
    {Category.HEALTHCHECK_FAILED.value, Category.CRASH_LOOP.value}
)
"""Categories that say something is broken, not why."""
OUTAGE_CATEGORIES: Final = frozenset(
    {Category.CONNECTION_REFUSED.value, Category.TIMEOUT.value, Category.DNS_RESOLUTION.value}
)
"""Remote failures that an upstream being down explains even when they name no host
(a wrong password or certificate is the caller's own, whatever the upstream does)."""
REMOTE_CATEGORIES: Final = frozenset(
    {
        Category.CONNECTION_REFUSED.value,
        Category.DNS_RESOLUTION.value,
        Category.TIMEOUT.value,
        Category.TLS_ERROR.value,
        Category.AUTH_FAILURE.value,
    }
)
"""Categories whose `host` field can point at another service (then they are its symptom)."""
KEY_FIELDS: Final = ("binary", "module", "host", "env", "path", "port", "database", "user")
"""Fields that tell two services' findings apart (same category + same value = one issue).

`user` comes last: a database that rejects `app` and the client that logs in as `app`
are one wrong password, not two issues."""
DOWNSTREAM_SLACK: Final = timedelta(minutes=2)
_SEVERITY_ORDER: Final = [s.value for s in Severity]
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


def severity_rank(value: str | None) -> int:
    """Higher is worse; -1 for no severity."""
    return _SEVERITY_ORDER.index(value) if value in _SEVERITY_ORDER else -1


@dataclass(frozen=True)
class Finding:
    """One row of the detection summary: a rule's findings in one service."""

    service: str
    category: str
    rule: str
    severity: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    containers: list[str]
    fields: dict[str, str]
    evidence: str
    """The first matched record (redacted)."""
    title: str
    remediation: str
    fix: str
    """The rule's fix kind."""
    transient: bool
    source: str
    """`logs`, `probe` or `events`."""
    hosts: tuple[str, ...] = ()
    """Every distinct host its records name, most often first (`fields["host"]` is only
    the first: a client that cannot resolve `redis`, `payments-api` and `hooks-relay`
    names all three)."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any], hosts: Sequence[str] = ()) -> Finding:
        return cls(
            service=row["service"],
            category=row["category"],
            rule=row["rule"],
            severity=str(row["severity"]),
            count=int(row["count"]),
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            containers=list(row["containers"] or []),
            fields={str(k): str(v) for k, v in json.loads(row["fields"]).items()},
            evidence=str(row["evidence"] or ""),
            title=row["title"],
            remediation=row["remediation"],
            fix=str(row["fix"]),
            transient=bool(row["transient"]),
            source=str(row["source"]),
            hosts=tuple(hosts),
        )


def named_hosts(findings: pl.DataFrame, *, redact: bool = True) -> dict[tuple[str, str], list[str]]:
    """(service, rule) -> every distinct `host` field its records name, most often first,
    ties to the earliest (the order `summarize_findings` picks the one it keeps by)."""
    if findings.is_empty() or "fields" not in findings.columns:
        return {}
    hosts = (
        findings.with_row_index("_order")
        .select(
            "service",
            "rule",
            "_order",
            pl.col("fields").str.json_path_match("$.host").alias("_host"),
        )
        .drop_nulls(["service", "rule", "_host"])
        .filter(pl.col("_host") != "")
    )
    if redact:  # (a captured URL's host part may carry a user:password)
        hosts = hosts.with_columns(redact_expr("_host"))
    ranked = (
        hosts.group_by("service", "rule", "_host")
        .agg(pl.len().alias("_n"), pl.col("_order").min().alias("_at"))
        .sort("_n", "_at", descending=[True, False])
        .group_by("service", "rule", maintain_order=True)
        .agg(pl.col("_host"))
    )
    return {(s, r): list(h) for s, r, h in ranked.iter_rows()}


def read_findings(
    summary: pl.DataFrame, hosts: Mapping[tuple[str, str], Sequence[str]] | None = None
) -> list[Finding]:
    """The summary rows, worst first, then first seen first. Compose's own (a line
    naming no service: the daemon unreachable, a compose file that does not parse)
    only when nothing else was found: then the project never started, and that is
    the incident; beside services' failures it is their echo. `hosts`: `named_hosts`."""
    services = summary.filter(pl.col("service") != COMPOSE_SERVICE)
    rows = [
        Finding.from_row(r, (hosts or {}).get((r["service"], r["rule"]), ()))
        for r in (services if services.height else summary).iter_rows(named=True)
    ]
    rows.sort(key=lambda r: (-severity_rank(r.severity), r.first_seen or _NEVER, -_named(r)))
    return rows


def _named(finding: Finding) -> int:
    """How many key fields a finding names: of two findings of one record, the one that
    says which host (module, binary) leads."""
    return sum(1 for name in KEY_FIELDS if finding.fields.get(name))


@dataclass
class Unit:
    """The findings of one service for one category: the building block of an issue."""

    service: str
    category: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def primary(self) -> Finding:
        return self.findings[0]

    @property
    def first_seen(self) -> datetime | None:
        seen = [r.first_seen for r in self.findings if r.first_seen is not None]
        return min(seen) if seen else None

    @property
    def count(self) -> int:
        return sum(r.count for r in self.findings)

    @property
    def transient(self) -> bool:
        return all(r.transient for r in self.findings)


Units = dict[tuple[str, str], Unit]
"""By (service, category), in the order of the findings."""


def units_of(findings: Sequence[Finding]) -> Units:
    units: Units = {}
    for r in findings:
        units.setdefault((r.service, r.category), Unit(r.service, r.category)).findings.append(r)
    return units


def transient_services(stack: Stack, units: Units) -> set[str]:
    """Services with only health/transient findings that are healthy again at the end.

    A service without a state in the evidence (no events, no `ps`) counts as well
    again only when it logged on after its last soft failure: a health check that
    fails in its last lines is still failing."""
    transient: set[str] = set()
    waiting = set(never_started(stack))
    last_record = dict(
        stack.logs.filter(pl.col("container") != COMPOSE_SERVICE)
        .group_by("service")
        .agg(pl.col("ts").max())
        .iter_rows()
    )
    for s in stack.services:
        mine = [u for (service, _), u in units.items() if service == s]
        st = stack.stats.get(s)
        if not mine or st is None:
            continue
        only_soft = all(u.category in SYMPTOM_CATEGORIES or u.transient for u in mine)
        crash = any(u.category == Category.CRASH_LOOP.value for u in mine)
        # (healthy now, but too late: what compose did not start is still not running)
        kept_waiting = waiting and any(
            r.rule in DEPENDENCY_FAILED for u in mine for r in u.findings
        )
        if (
            only_soft
            and not crash
            and not kept_waiting
            and st.state in ("healthy", "running", "unknown")
            and (st.first_unhealthy is None or st.recovered_at is not None)
            and (st.state != "unknown" or _logged_on_after(mine, last_record.get(s)))
        ):
            transient.add(s)
    return transient


def _logged_on_after(units: Sequence[Unit], last_record: datetime | None) -> bool:
    """Every failure either recovered by itself (the detector's transient burst) or came
    before the service's last record (undated evidence cannot tell: yes)."""
    for u in units:
        if u.transient:
            continue
        last = max((r.last_seen for r in u.findings if r.last_seen is not None), default=None)
        if last is not None and last_record is not None and last >= last_record:
            return False
    return True


# --------------------------------------------------------------------------- cause vs symptom


@dataclass(frozen=True)
class RemoteSymptom:
    """A unit that is another service's symptom."""

    unit: Unit
    target: str
    """The service it points at."""
    via: str
    """`host <name>` or `depends_on <name>`."""


def _upstream_of(unit: Unit, stack: Stack) -> str | None:
    """The other service a remote failure names as its host, if it names one of the stack;
    for an address (`172.19.0.3:3000`), the one service that listens on its port."""
    if unit.category not in REMOTE_CATEGORIES:
        return None
    for r in unit.findings:
        host = r.fields.get("host")
        if host and host != unit.service:
            target = service_of_container(host, stack.services, stack.containers, stack.projects)
            if target in stack.services and target != unit.service:
                return target
            if is_address(host) and host not in LOOPBACK:
                listener = service_on_port(stack.listening, r.fields.get("port"), unit.service)
                if listener is not None:
                    return listener
    # a rule that captured no host: the URL the record names (`GET http://reports:8081/…
    # -> Connection refused`), when its host is one of the stack's services
    for r in unit.findings:
        for host in _URL_HOST.findall(r.evidence or ""):
            target = service_of_container(host, stack.services, stack.containers, stack.projects)
            if target in stack.services and target != unit.service:
                return target
    return None


SERVER_STATES: Final = {
    "redis.misconf-persist": (
        "the Redis server",
        r"Background saving error|Redis is starting|Ready to accept connections|"
        r"Failed opening the temp RDB file|Write error saving DB",
    ),
}
"""Client errors that report their server's own state (Redis refusing writes after a
failed save: MISCONF), and what the server's log says: the error is a symptom of the one
other service whose log says it (no host needed)."""


def _server_of(unit: Unit, stack: Stack) -> tuple[str, str] | None:
    """(service, how it is tied) of the server whose state `unit` reports, when exactly one
    other service's log shows that server."""
    known = next((SERVER_STATES[r.rule] for r in unit.findings if r.rule in SERVER_STATES), None)
    if known is None:
        return None
    what, log = known
    servers = (
        stack.logs.filter((pl.col("service") != unit.service) & pl.col("message").str.contains(log))
        .get_column("service")
        .unique()
        .to_list()
    )
    return (servers[0], f"{what}, {servers[0]}") if len(servers) == 1 else None


_URL_HOST: Final = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z][\w.-]*)[:/]")
"""The host of a URL in a record (`http://reports:8081/`, `amqp://u:p@rabbit/`)."""


def _unclaimed_address(unit: Unit, stack: Stack) -> str | None:
    """The address (not loopback) a remote failure names, when nobody claims its port."""
    if unit.category not in REMOTE_CATEGORIES:
        return None
    for r in unit.findings:
        host = r.fields.get("host")
        if (
            host
            and is_address(host)
            and host not in LOOPBACK
            and unclaimed(stack.listening, r.fields.get("port"))
        ):
            return host
    return None


def split_causes(
    stack: Stack, units: Units, transient: set[str]
) -> tuple[list[Unit], list[RemoteSymptom]]:
    """The units that are causes, and the remote failures that are symptoms of another service."""
    cause_units = [
        u
        for u in units.values()
        if u.service not in transient and u.category not in SYMPTOM_CATEGORIES and not u.transient
    ]
    # Remote failures pointing at a service that has its own cause are that cause's symptoms.
    with_cause = {u.service for u in cause_units if _upstream_of(u, stack) is None}

    # a target with only symptoms (its exits, a failed health check) becomes an issue of its own
    with_symptoms = {
        u.service
        for u in units.values()
        if u.category in SYMPTOM_CATEGORIES and u.service not in transient
    }

    def failing(target: str) -> bool:
        st = stack.stats.get(target)
        # (a restart after clean exits only, `redis-1 exited with code 0` and back a second
        # later, is one asked for, no failure)
        restarted = st is not None and bool(st.restarts) and st.exit_codes != (0,)
        return target in with_cause or target in with_symptoms or restarted

    # services with a failure of their own kind (a bad config, a crash, a full disk)
    broken = {
        u.service
        for u in cause_units
        if u.category not in REMOTE_CATEGORIES and u.category != Category.UNHANDLED_EXCEPTION.value
    }
    claimed = {s for names in stack.listening.values() for s in names}

    def tie(u: Unit) -> RemoteSymptom | None:
        """The failing service `u` is a symptom of, if any."""
        server = _server_of(u, stack)
        if server is not None and failing(server[0]):
            return RemoteSymptom(u, server[0], server[1])
        target = _upstream_of(u, stack)
        if target is not None and failing(target):
            return RemoteSymptom(u, target, f"host {u.primary.fields.get('host', target)}")
        # an address on a port no service is known to listen on (the upstream died before
        # it said where it listens): the one other failing service that claims no port
        address = _unclaimed_address(u, stack)
        if address is not None and target is None:
            others = sorted(
                t
                for t in stack.services
                if t != u.service and t not in claimed and t not in transient and failing(t)
            )
            if len(others) == 1:
                return RemoteSymptom(
                    u, others[0], f"host {address}, the only other failing service"
                )
        # a refusal that names no host ("the database system is starting up"),
        # from a service that depends on exactly one failing service: that one's
        unnamed = u.category in OUTAGE_CATEGORIES and not any(
            r.fields.get("host") for r in u.findings
        )
        upstream = [d for d in stack.depends_on.get(u.service, ()) if d != u.service]
        failing_upstream = [d for d in upstream if failing(d)]
        # without a compose file, the one other service that failed on its own (not by
        # reaching another) is the one it could not reach
        alone = sorted(broken - {u.service})
        if unnamed and len(failing_upstream) == 1:
            return RemoteSymptom(u, failing_upstream[0], f"depends_on {failing_upstream[0]}")
        if unnamed and not stack.depends_on and len(alone) == 1:
            return RemoteSymptom(u, alone[0], f"the only other failing service, {alone[0]}")
        return None

    remote: list[RemoteSymptom] = []
    kept: list[Unit] = []
    for u in cause_units:
        tied = tie(u)
        if tied is None:
            kept.append(u)
        else:
            remote.append(tied)
    # a blip the client recovered from (a refusal while its server restarted) is no cause,
    # but a symptom when that server failed (its OOM kill, its crash)
    blips = [
        u
        for u in units.values()
        if u.category in REMOTE_CATEGORIES and (u.transient or u.service in transient)
    ]  # (never a cause unit: those are neither)
    remote.extend(tied for u in blips if (tied := tie(u)) is not None)
    kept = _fold_into_symptoms(kept, remote)
    kept = _fold_own_loopback(kept, stack)
    kept = _fold_same_record(_fold_same_target(_fold_after_effects(kept)))
    kept.extend(_causeless(units, transient, kept, remote))
    rooted = {u.service for u in kept}
    remote = _through_chains(remote, rooted)
    # a symptom whose chain ends at no issue (a target that only restarted, with no finding)
    # is an issue of its own rather than lost
    homeless = [r for r in remote if r.target not in rooted]
    kept.extend(r.unit for r in homeless)
    return kept, [r for r in remote if r.target in rooted]


def _through_chains(remote: list[RemoteSymptom], rooted: set[str]) -> list[RemoteSymptom]:
    """A symptom of a service that is itself only a symptom (nginx -> api -> db) belongs to
    the root cause: its target follows the chain, and the tie says through whom."""
    upstream_of = {r.unit.service: r.target for r in remote if r.unit.service not in rooted}
    out: list[RemoteSymptom] = []
    for r in remote:
        target, path = r.target, []
        while target not in rooted and target in upstream_of and target not in path:
            path.append(target)
            target = upstream_of[target]
        if path and target != r.unit.service:
            r = RemoteSymptom(r.unit, target, f"{r.via} (through {', '.join(path)})")
        out.append(r)
    return out


AFTER_EFFECT_WINDOW: Final = timedelta(seconds=60)
"""How close an uncaught exception must come to a specific failure of its service to be
that failure's after-effect."""


def _fold_into(kept: list[Unit], host_of: Callable[[Unit], Unit | None]) -> list[Unit]:
    """`kept` without the units `host_of` names another unit for: their findings join it."""
    out: list[Unit] = []
    for u in kept:
        host = host_of(u)
        if host is None:
            out.append(u)
        else:
            host.findings.extend(u.findings)
    return out


def _fold_into_symptoms(kept: list[Unit], remote: list[RemoteSymptom]) -> list[Unit]:
    """A service's uncaught exception that comes with its failure to reach another service
    (Spring's `Application run failed` beside `None of the configured nodes are
    available`) is that failure's evidence: it joins the symptom, not an issue of its own
    (as `_fold_after_effects` does beside a cause of the service's own)."""

    def symptom_of(u: Unit) -> Unit | None:
        if u.category != Category.UNHANDLED_EXCEPTION.value:
            return None
        return next(
            (
                r.unit
                for r in remote
                if r.unit.service == u.service
                and severity_rank(r.unit.primary.severity) >= severity_rank(u.primary.severity)
                and _together(u.first_seen, r.unit.first_seen)
            ),
            None,
        )

    return _fold_into(kept, symptom_of)


def _fold_own_loopback(kept: list[Unit], stack: Stack) -> list[Unit]:
    """A service refused on its own loopback address, on a port no other service listens
    on, reached a part of itself (authentik's router and its backend on 127.0.0.1:8000):
    beside a cause of its own that is the same failure seen from inside, not a second
    issue with advice about service names."""

    def own_cause(u: Unit) -> Unit | None:
        hosts = [r for r in u.findings if r.fields.get("host")]
        inside = (
            u.category in OUTAGE_CATEGORIES
            and bool(hosts)
            and all(
                r.fields["host"] in LOOPBACK
                and service_on_port(stack.listening, r.fields.get("port"), u.service) is None
                for r in hosts
            )
        )
        if not inside:
            return None
        return next(
            (
                v
                for v in kept
                if v is not u
                and v.service == u.service
                and v.category not in OUTAGE_CATEGORIES
                and severity_rank(v.primary.severity) >= severity_rank(u.primary.severity)
            ),
            None,
        )

    return _fold_into(kept, own_cause)


def _fold_after_effects(kept: list[Unit]) -> list[Unit]:
    """A service's uncaught exceptions (gunicorn's `Worker failed to boot`, Spring's
    `Application run failed`, the traceback of a failure a specific rule named) that come
    with a specific failure of the same service are that failure's evidence, not an issue
    of their own: those findings join its unit. Far apart in time, they stay apart."""
    generic = Category.UNHANDLED_EXCEPTION.value
    out: list[Unit] = []
    for u in kept:
        if u.category != generic:
            out.append(u)
            continue
        hosts = [
            v
            for v in kept
            if v.service == u.service
            and v.category != generic
            and severity_rank(v.primary.severity) >= severity_rank(u.primary.severity)
        ]
        alone: list[Finding] = []
        for r in u.findings:
            host = next((v for v in hosts if _together(r.first_seen, v.first_seen)), None)
            if host is None:
                alone.append(r)
            else:
                host.findings.append(r)
        if alone:
            u.findings[:] = alone
            out.append(u)
    return out


def _fold_same_target(kept: list[Unit]) -> list[Unit]:
    """A service's outages that name the same host (nginx's `No route to host`, then its
    `upstream timed out` to the same upstream) are one failure to reach it: one unit,
    the first seen leading; at the same time, a name that does not resolve leads (it
    explains the refusal the client logs with it), and an outage that names no host
    soon after it (a client timing out on the name it could not resolve) joins it."""
    out: list[Unit] = []
    by_target: dict[tuple[str, str], Unit] = {}
    dns = Category.DNS_RESOLUTION.value
    order = sorted(kept, key=lambda u: (u.first_seen or _NEVER, u.category != dns))
    for u in order:
        host = u.primary.fields.get("host")
        unresolved = next(
            (
                v
                for v in out
                if v.service == u.service
                and v.category == dns
                and _together(u.first_seen, v.first_seen)
            ),
            None,
        )
        if u.category in OUTAGE_CATEGORIES and not host and unresolved is not None:
            unresolved.findings.extend(u.findings)  # (waiting on a name that never resolved)
            continue
        if u.category not in OUTAGE_CATEGORIES or not host:
            out.append(u)
            continue
        first = by_target.setdefault((u.service, host), u)
        if first is u:
            out.append(u)
        else:
            first.findings.extend(u.findings)
    return sorted(out, key=kept.index)


def _fold_same_record(kept: list[Unit]) -> list[Unit]:
    """Two rules that matched the same record of a service (certbot's failed challenge
    is an ACME failure and, in its detail, a refused connection) tell one failure: the
    later unit joins the earlier (the worse: `kept` is in severity order)."""
    out: list[Unit] = []
    first_of: dict[tuple[str, str], Unit] = {}
    for u in kept:
        records = [(u.service, r.evidence) for r in u.findings if r.evidence]
        lead = next((first_of[k] for k in records if k in first_of), None)
        if lead is None:
            out.append(u)
            for k in records:
                first_of.setdefault(k, u)
        else:
            lead.findings.extend(u.findings)
    return out


def _together(a: datetime | None, b: datetime | None) -> bool:
    """Both undated, or within AFTER_EFFECT_WINDOW of each other."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= AFTER_EFFECT_WINDOW


def _causeless(
    units: Units, transient: set[str], kept: list[Unit], remote: list[RemoteSymptom]
) -> list[Unit]:
    """Services with only symptoms (unhealthy, crash loop) and no cause: the symptom is the issue."""
    causeless = sorted(
        {u.service for u in units.values() if u.service not in transient}
        - {u.service for u in kept}
        - {r.unit.service for r in remote}
    )
    out: list[Unit] = []
    for s in causeless:
        soft = [u for u in units.values() if u.service == s and u.category in SYMPTOM_CATEGORIES]
        soft.sort(
            key=lambda u: (
                u.category != Category.CRASH_LOOP.value,
                -severity_rank(u.primary.severity),
            )
        )
        if soft:
            out.append(soft[0])
    return out


_EXTERNAL_DNS: Final = "external-dns"
"""The key of the units that fail to resolve a name of the internet: one cause, the Docker
host's DNS or egress for its containers, whatever names each service looked up."""


def _key_value(unit: Unit, names: Collection[str]) -> str:
    fields_, rule = unit.primary.fields, unit.primary.rule
    if fields_.get("host") in LOOPBACK and fields_.get("port"):
        # (`localhost:6379` and `127.0.0.1:6379` from two services: one shared setting)
        return f"loopback:{fields_['port']}"
    if unit.category == Category.DNS_RESOLUTION.value and is_public_name(
        fields_.get("host", ""), names
    ):
        # (caddy cannot resolve `acme-v02.api.letsencrypt.org`, vaultwarden `github.com`)
        return _EXTERNAL_DNS
    for name in KEY_FIELDS:
        if fields_.get(name):
            return f"{name}={fields_[name]}"
    if fields_.get("file"):
        return f"file={Path(fields_['file']).name}:{fields_.get('line', '')}"
    return f"rule={rule}"


_SHARED_RESOURCE: Final = frozenset({Category.DISK_FULL.value})
"""Categories of what the stack's services share: the Docker host's disk, where every
volume lives unless mounted from elsewhere. Each service's full disk (a database's WAL,
Redis's failed save and its clients' MISCONF, a search node's watermark) is one issue."""


def group_units(kept: Sequence[Unit], names: Collection[str] = ()) -> list[tuple[str, list[Unit]]]:
    """(category, units): one group per category and key field value, in order (one per
    category of a shared resource, one for the names of the internet that do not resolve).
    `names`: the stack's services and containers (a dotted one is no name of the internet)."""
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in kept:
        shared = u.category in _SHARED_RESOURCE
        key = (u.category, "shared" if shared else _key_value(u, names))
        groups.setdefault(key, []).append(u)
    _join_unnamed_lookups(groups)
    return [(category, members) for (category, _), members in groups.items()]


def _join_unnamed_lookups(groups: dict[tuple[str, str], list[Unit]]) -> None:
    """A service whose failed lookup names no host (Celery beat's "Connection error:
    [Errno -2] Name or service not known") joins the one group of another service's
    failed lookup of a stack's name at the same time (the worker's `rabbitmq`, from the
    same broker URL): one wrong name, not a second issue. With two such names, or none
    at the time, it stays its own."""
    dns = Category.DNS_RESOLUTION.value
    named = [k for k in groups if k[0] == dns and k[1].startswith("host=")]
    for key in [k for k in groups if k[0] == dns and k[1].startswith("rule=")]:
        first = min((u.first_seen for u in groups[key] if u.first_seen), default=None)
        near = [
            k
            for k in named
            if any(_together(first, u.first_seen) for u in groups[k])
            and not {u.service for u in groups[k]} & {u.service for u in groups[key]}
        ]
        if len(near) == 1:
            groups[near[0]].extend(groups.pop(key))


# --------------------------------------------------------------------------- causes


@dataclass
class Cause:
    """A group of units that is one root cause, before it is written up as an issue."""

    category: str
    members: list[Unit]
    """Worst first, then first seen first."""
    services: list[str]
    findings: list[Finding]
    primary: Finding
    """The worst finding, the earliest of the worst."""
    first_seen: datetime | None
    last_seen: datetime | None
    symptoms: list[Symptom]


CATCH_ALL_PACKS: Final = frozenset({"system"})
"""Packs of the wordings any program prints (`Permission denied`, `No space left on
device`): a finding of the software's own pack about the same failure leads its issue,
as it says more (the image's uid, the setting to change)."""


def causes_of(
    groups: Sequence[tuple[str, list[Unit]]],
    units: Units,
    remote: Sequence[RemoteSymptom],
    stack: Stack,
    now: datetime,
) -> list[Cause]:
    """Each group as a cause, with its own services' symptoms and the remote ones."""
    out: list[Cause] = []
    for category, group in groups:
        members = sorted(
            group,
            key=lambda u: (
                -severity_rank(u.primary.severity),
                u.first_seen or stack.window_end or now,
            ),
        )
        services = sorted({u.service for u in members})
        rows = [r for u in members for r in u.findings]
        primary = max(  # (a folded-in finding of another category never leads)
            rows,
            key=lambda r: (
                r.category == category,
                severity_rank(r.severity),
                r.rule.partition(".")[0] not in CATCH_ALL_PACKS,
                -(r.first_seen or now).timestamp(),
                _named(r),
            ),
        )
        seen = [r.first_seen for r in rows if r.first_seen is not None]
        last = [r.last_seen for r in rows if r.last_seen is not None]
        for (service, cat), unit in units.items():
            if service in services and cat in SYMPTOM_CATEGORIES and unit.first_seen is not None:
                seen.append(unit.first_seen)
        out.append(
            Cause(
                category=category,
                members=members,
                services=services,
                findings=rows,
                primary=primary,
                first_seen=min(seen) if seen else None,
                last_seen=max(last) if last else None,
                symptoms=_symptoms(category, services, units, remote),
            )
        )
    return out


def _symptoms(
    category: str, services: list[str], units: Units, remote: Sequence[RemoteSymptom]
) -> list[Symptom]:
    """Health-check failures and crash loops of the cause's services, then remote failures."""
    pairs: list[tuple[Unit, str]] = [
        (unit, "same service")
        for s in services
        for (service, cat), unit in units.items()
        if service == s and cat != category and cat in SYMPTOM_CATEGORIES
    ]
    pairs.extend((r.unit, r.via) for r in remote if r.target in services)
    return [
        Symptom(
            unit.service,
            unit.category,
            Prose.markup(unit.primary.title),
            unit.count,
            unit.first_seen,
            via,
            tuple(sorted({r.rule for r in unit.findings})),
        )
        for unit, via in pairs
    ]


def use_engine_streaks(causes: Sequence[Cause], stack: Stack) -> None:
    """A health-check symptom counts the engine's failed probes in a row (inspect's
    `FailingStreak`) when inspect shows it: the events hold one `unhealthy` per service and
    inspect keeps only the last 5 probe results, so the findings' count checks nothing."""
    for cause in causes:
        for n, y in enumerate(cause.symptoms):
            conf = stack.configs.get(y.service)
            streak = conf.failing_streak if conf is not None else None
            if y.category == Category.HEALTHCHECK_FAILED.value and streak:
                cause.symptoms[n] = replace(
                    y,
                    description=Prose.of(
                        f"{y.service} unhealthy: {plural(streak, 'failed probe')} in a row "
                        "(the engine's ",
                        Code("FailingStreak"),
                        ")",
                    ),
                    count=streak,
                )


DEPENDENCY_FAILED: Final = frozenset(
    {
        "docker.compose-dependency-unhealthy",
        "compose.dependency-exited",
        "compose.service-did-not-complete",
    }
)
"""What `up` waited for in vain: compose's `dependency failed to start: container X is
unhealthy` (or `exited (1)`), `service "migrate" didn't complete successfully: exit 1`."""


def never_started(stack: Stack) -> list[str]:
    """Services whose container was created and never ran (`ps`: `Created`; `up`: `Created`
    and no output after it): compose gave up on starting them."""
    return sorted(s for s, st in stack.stats.items() if st.state == "created")


def add_dependants(causes: Sequence[Cause], stack: Stack) -> None:
    """`depends_on` dependants of a cause's services in trouble during it become its symptoms.
    Without a compose file, the services that never started are the dependants of the one
    compose waited for in vain (`dependency failed to start`)."""
    dependants: dict[str, set[str]] = {}
    for s, deps in stack.depends_on.items():
        for d in deps:
            dependants.setdefault(d, set()).add(s)
    waiting = set(never_started(stack))
    waited_for = set(
        stack.summary.filter(pl.col("rule").is_in(list(DEPENDENCY_FAILED)))
        .get_column("service")
        .to_list()
    )
    for cause in causes:
        if waiting and (
            any(r.rule in DEPENDENCY_FAILED for r in cause.findings)
            or waited_for & set(cause.services)
        ):
            for s in cause.services:
                dependants.setdefault(s, set()).update(waiting - {s})
    in_causes = {s for c in causes for s in c.services}
    for cause in causes:
        listed = {y.service for y in cause.symptoms} | set(cause.services)
        todo = [(s, d) for s in cause.services for d in sorted(dependants.get(s, ()))]
        while todo:
            up, down = todo.pop(0)
            if down in listed or down in in_causes:
                continue
            listed.add(down)
            symptom = _dependant_symptom(stack, cause, up, down)
            if symptom is not None:
                cause.symptoms.append(symptom)
            todo.extend((down, d) for d in sorted(dependants.get(down, ())))


def _dependant_symptom(stack: Stack, cause: Cause, up: str, down: str) -> Symptom | None:
    """`down` never started, or logged errors while `up` was failing (None: it was fine)."""
    logs, events = stack.logs, stack.events
    own_output = (pl.col("service") == down) & (pl.col("container") != COMPOSE_SERVICE)
    st = stack.stats.get(down)
    if (st is not None and st.state == "created") or (
        logs.filter(own_output).is_empty() and events.filter(pl.col("service") == down).is_empty()
    ):
        return Symptom(
            down,
            "not-started",
            Prose.of("no output and no container events: it never started"),
            0,
            None,
            f"depends_on {up}",
        )
    errs = logs.filter(
        (pl.col("service") == down) & pl.col("level").is_in([Level.ERROR.value, Level.FATAL.value])
    )
    start, stop = cause.first_seen, cause.last_seen
    if start is not None and stop is not None:
        errs = errs.filter(
            pl.col("ts").is_between(start - DOWNSTREAM_SLACK, stop + DOWNSTREAM_SLACK)
        )
    if not errs.height:
        return None
    first = errs.get_column("ts").min()
    return Symptom(
        down,
        "errors",
        Prose.of(f"{plural(errs.height, 'error record')} while {up} was failing"),
        errs.height,
        first if isinstance(first, datetime) else None,
        f"depends_on {up}",
    )


def rank_causes(causes: list[Cause], findings: pl.DataFrame, logs: pl.DataFrame) -> None:
    """What came first (then first in the input), then how far it reaches; noise of low
    severity (a health check's login as `root`) after every real cause. A cause with no
    time (lines a container printed before its first dated one) comes where the input puts
    it among dated records, not after all of them."""
    dated = logs.filter(pl.col("ts").is_not_null()).select("seq", "ts").sort("seq")

    def order(cause: Cause) -> tuple[bool, datetime, int, int]:
        seqs = (
            findings.filter(
                pl.col("service").is_in(cause.services)
                & pl.col("rule").is_in([r.rule for r in cause.findings])
            )
            .get_column("seq")
            .to_list()
        )
        low = all(r.severity == "low" for r in cause.findings)
        first = min(seqs) if seqs else 0
        when = cause.first_seen or (_placed(dated, first) if seqs else None) or _NEVER
        return (low, when, first, -len(cause.symptoms))

    causes.sort(key=order)


def _placed(dated: pl.DataFrame, seq: int) -> datetime | None:
    """The time of the input at record `seq`: the last dated record before it, else the
    first after it (only to rank an undated cause among dated ones)."""
    before = dated.filter(pl.col("seq") < seq).get_column("ts").max()
    if isinstance(before, datetime):
        return before
    after = dated.filter(pl.col("seq") > seq).get_column("ts").min()
    return after if isinstance(after, datetime) else None
