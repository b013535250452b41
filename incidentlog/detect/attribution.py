"""Who a finding is about: the compose service a container name belongs to.

A watcher or compose line about another container (`Container /mcp-frontend-1
found to be unhealthy`) counts for the container it names, not for the one
that printed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Final

import polars as pl

from incidentlog.detect.restarts import line_key
from incidentlog.ingest.names import PSEUDO, spelled
from incidentlog.schema import EventAction

__all__ = ["attribute", "service_of_container"]

_REPLICA = re.compile(r"[-_]\d+$")


def service_of_container(
    name: str,
    services: Iterable[str],
    containers: dict[str, str] | None = None,
    projects: Iterable[str] = (),
) -> str:
    """The compose service a container name (`/mcp-frontend-1`, `mcp_db_1`) belongs to.

    A container seen in the input maps to its service; otherwise strip `/`, a
    replica suffix `-N`/`_N` and a known project prefix, preferring a name that
    matches a service seen in the input.
    """
    known = set(services)
    name = name.strip().lstrip("/")
    if containers and name in containers:
        return containers[name]
    base = _REPLICA.sub("", name)
    if base in known or name in known:
        return base if base in known else name
    # a host name spells `_` as `-` (`immich-machine-learning` for the container
    # `immich_machine_learning`): the same service when exactly one matches
    alike = [s for s in known if spelled(s) in (spelled(name), spelled(base))]
    if len(alike) == 1:
        return alike[0]
    for project in sorted(projects, key=len, reverse=True):
        for sep in ("-", "_"):
            if project and base.startswith(project + sep) and len(base) > len(project) + 1:
                return base[len(project) + 1 :]
    parts = re.split(r"[-_]", base)
    for i in range(1, len(parts)):
        for sep in ("-", "_"):
            candidate = sep.join(parts[i:])
            if candidate in known:
                return candidate
    return base


_FASTCGI_RELAY = r'FastCGI sent in stderr:[\s\S]*?upstream: "fastcgi://\[?([^:"/\s\]]+)'
"""nginx relaying what PHP-FPM wrote to stderr (`FastCGI sent in stderr: "PHP message: PHP
Fatal error: ..."`, then `upstream: "fastcgi://php:9000"`): PHP's failure, not nginx's."""


_FPM_STARTED: Final = r"fpm is running|ready to handle connections"
"""What PHP-FPM logs when it starts (`NOTICE: fpm is running, pid 1`)."""


def _relayed(findings: pl.DataFrame, known: list[str], logs: pl.LazyFrame | None) -> pl.DataFrame:
    """A finding in what a proxy relays from a named upstream is about that upstream; an
    upstream named by its address (`fastcgi://172.19.0.2:9000`), or not named in the
    record, is the one service of the logs that PHP-FPM runs in, when there is one."""
    if (
        not findings.get_column("message")
        .str.contains("FastCGI sent in stderr", literal=True)
        .any()
    ):
        return findings
    upstream = pl.col("message").str.extract(_FASTCGI_RELAY, 1)
    fpm = (
        logs.filter(pl.col("message").str.contains(_FPM_STARTED))
        .select(pl.col("service").unique())
        .collect()
        .get_column("service")
        .to_list()
        if logs is not None
        else []
    )
    relayed: pl.Expr = (
        pl.when(upstream.is_in(known))
        .then(upstream)
        # (a long relay split at a blank line keeps its `upstream:` in a later record)
        .when(
            pl.col("message").str.contains("FastCGI sent in stderr", literal=True)
            & pl.lit(len(fpm) == 1)
        )
        .then(pl.lit(fpm[0] if len(fpm) == 1 else None, dtype=pl.String))
    )
    if "_subject" in findings.columns:
        relayed = pl.coalesce("_subject", relayed)
    return findings.with_columns(relayed.alias("_subject"))


def attribute(
    findings: pl.DataFrame,
    services: list[str],
    containers: dict[str, str],
    projects: list[str],
    logs: pl.LazyFrame | None = None,
    events: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Point findings with a subject at the container/service the evidence names (`logs`:
    to know which service an upstream address is, read only when a finding needs it;
    `events`: which container the engine saw killed, for the kernel's OOM kills)."""
    findings = _relayed(findings, [*services, *containers], logs)
    if "_subject" not in findings.columns:
        reported = findings.with_columns(pl.col("service").alias("reporter"))
        return _engine_victim(_kernel_victims(reported, logs), events)
    names = findings.get_column("_subject").drop_nulls().unique().to_list()
    mapping = {n: service_of_container(n, services, containers, projects) for n in names}
    subject_service = pl.col("_subject").replace_strict(
        mapping, default=None, return_dtype=pl.String
    )
    attributed = findings.with_columns(
        pl.col("service").alias("reporter"),
        pl.coalesce(subject_service, pl.col("service")).alias("service"),
        pl.coalesce(pl.col("_subject"), pl.col("container")).alias("container"),
    ).drop("_subject")
    return _engine_victim(_kernel_victims(attributed, logs), events)


def _engine_victim(findings: pl.DataFrame, events: pl.DataFrame | None) -> pl.DataFrame:
    """Kills the kernel reports that no restart placed (`dmesg` without times, a paste
    that ends first) are the container's the engine saw OOM-killed or exit with 137
    (SIGKILL), when it saw exactly one: `ps`'s `Exited (137)`, inspect's `OOMKilled`."""
    kills = pl.col("service").is_in(KERNEL)
    if events is None or not findings.get_column("service").is_in(KERNEL).any():
        return findings
    killed = (
        events.filter(
            ((pl.col("action") == EventAction.OOM.value) | (pl.col("exit_code") == _SIGKILLED))
            & pl.col("service").is_not_null()
            & ~pl.col("service").is_in([*KERNEL, *PSEUDO])
        )
        .select("service", "container")
        .unique("service")
    )
    if killed.height != 1:
        return findings
    service, container = killed.row(0)
    return findings.with_columns(
        pl.when(kills).then(pl.lit(service)).otherwise(pl.col("service")).alias("service"),
        pl.when(kills).then(pl.lit(container)).otherwise(pl.col("container")).alias("container"),
    )


_SIGKILLED: Final = 137


KERNEL: Final = ("kernel", "systemd-oomd")
"""What a host's journal names the OOM killer's lines by (`kernel: Memory cgroup out of
memory: Killed process 812 (java)`)."""
_KILLED: Final = r"(?:^(\S+) invoked oom-killer|Killed process \d+ \(([^)]+)\))"
VICTIM_WINDOW: Final = timedelta(minutes=2)
"""How soon after the kill the killed container's start-up line comes back (its restart
policy, or compose's `restart:`)."""


def _kernel_victims(findings: pl.DataFrame, logs: pl.LazyFrame | None) -> pl.DataFrame:
    """A kill the host's kernel reports names a process (`java`), not a container: it is
    the container's that starts again within VICTIM_WINDOW after it (its first line
    comes back), when exactly one does, or the only container of the logs."""
    kills = findings.filter(pl.col("service").is_in(KERNEL) & pl.col("ts").is_not_null())
    if kills.is_empty() or logs is None:
        return findings
    records = logs.filter(
        ~pl.col("service").is_in([*KERNEL, *PSEUDO]) & pl.col("ts").is_not_null()
    ).select("container", "service", "seq", "ts", line_key("message").alias("_key"))
    starts = (
        records.with_columns(pl.col("_key").first().over("container", order_by="seq").alias("_b"))
        .filter(pl.col("_key") == pl.col("_b"))
        .select("container", "service", "ts")
        .collect()
    )
    only = starts.get_column("service").unique()
    victims = (
        kills.select("seq", "rule", pl.col("ts").alias("_kill"))
        .join(starts, how="cross")
        .filter(
            (pl.col("ts") > pl.col("_kill")) & (pl.col("ts") <= pl.col("_kill") + VICTIM_WINDOW)
        )
        .group_by("seq", "rule")
        .agg(pl.col("service").unique(), pl.col("container").first())
        .filter(pl.col("service").list.len() == 1)
        .select("seq", "rule", pl.col("service").list.first().alias("_victim"), "container")
        .rename({"container": "_victim_container"})
    )
    if victims.is_empty() and only.len() == 1:
        lone = starts.row(0, named=True)
        victims = kills.select(
            "seq",
            "rule",
            pl.lit(lone["service"]).alias("_victim"),
            pl.lit(lone["container"]).alias("_victim_container"),
        )
    if victims.is_empty():
        return findings
    # the other kills of the same program (`java`) are that container's too, when all
    # the kills placed agree (the paste may end before it starts again)
    comm = pl.coalesce(
        pl.col("message").str.extract(_KILLED, 1), pl.col("message").str.extract(_KILLED, 2)
    )
    killed = kills.select("seq", "rule", comm.alias("_comm"))
    placed = killed.join(victims, on=["seq", "rule"])
    agreed = (
        placed.drop_nulls("_comm")
        .group_by("_comm")
        .agg(pl.col("_victim").unique(), pl.col("_victim_container").first())
        .filter(pl.col("_victim").list.len() == 1)
        .with_columns(pl.col("_victim").list.first())
    )
    victims = pl.concat(
        [
            victims,
            killed.join(placed.select("seq", "rule"), on=["seq", "rule"], how="anti")
            .join(agreed, on="_comm")
            .select("seq", "rule", "_victim", "_victim_container"),
        ]
    )
    return (
        findings.join(victims, on=["seq", "rule"], how="left")
        .with_columns(
            pl.coalesce("_victim", "service").alias("service"),
            pl.coalesce("_victim_container", "container").alias("container"),
        )
        .drop("_victim", "_victim_container")
    )
