"""Who a finding is about: the compose service a container name belongs to.

A watcher or compose line about another container (`Container /mcp-frontend-1
found to be unhealthy`) counts for the container it names, not for the one
that printed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import polars as pl

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
    upstream named by its address (`fastcgi://172.19.0.2:9000`) is the one service of
    the logs that PHP-FPM runs in, when there is one."""
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
        .when(upstream.is_not_null() & pl.lit(len(fpm) == 1))
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
) -> pl.DataFrame:
    """Point findings with a subject at the container/service the evidence names (`logs`:
    to know which service an upstream address is, read only when a finding needs it)."""
    findings = _relayed(findings, [*services, *containers], logs)
    if "_subject" not in findings.columns:
        return findings.with_columns(pl.col("service").alias("reporter"))
    names = findings.get_column("_subject").drop_nulls().unique().to_list()
    mapping = {n: service_of_container(n, services, containers, projects) for n in names}
    subject_service = pl.col("_subject").replace_strict(
        mapping, default=None, return_dtype=pl.String
    )
    return findings.with_columns(
        pl.col("service").alias("reporter"),
        pl.coalesce(subject_service, pl.col("service")).alias("service"),
        pl.coalesce(pl.col("_subject"), pl.col("container")).alias("container"),
    ).drop("_subject")
