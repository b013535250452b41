"""Which compose service a printed container name belongs to.

Compose prints containers as `api-1` (v2), `api_1` (v1), `shop-api-1` (v2
before 2.23, or `docker ps`), `shop_api_1` (v1 container names), or any
`container_name:`. The `service` column must be the compose service; the
`container` column keeps what was printed. Evidence, strongest first:

1. compose labels (events, inspect, ps) for that container;
2. the compose file: `container_name:`s, and its service names (a printed
   name is a service, or a service behind a project prefix);
3. a project named by `--project` / `$COMPOSE_PROJECT_NAME`, the compose
   file's `name:`, compose's own lines (`Network shop_default  Created`,
   `Container shop-api-1  Started` while the logs say `api-1`);
4. a prefix every container of the input shares (`shop-api-1`, `shop-db-1`,
   `shop-web-1`), when something confirms it is a project: a project seen in
   (3), host names in the messages that are the names without it (`db:5432`),
   or at least three services compose numbered and no host name that keeps it;
5. otherwise the printed name without its replica number, and a note.

Pure functions over the few distinct names of an input; no records here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Final

__all__ = [
    "NAMELESS",
    "NameContext",
    "Resolution",
    "compose_mentions",
    "replica_base",
    "resolve_names",
    "shared_prefix",
    "spelled",
]

_REPLICA: Final = re.compile(r"[-_.]\d+$")
_SWARM_REPLICA: Final = re.compile(r"^([A-Za-z0-9][\w.-]*?)_[\w.-]+\.\d+$")
"""A swarm task as ingest keeps it (`shop_web.1`): a stack deploys its services as
`<stack>_<service>`, so the part before the first `_` is the stack, a project."""
_SEPARATORS: Final = "-_"
MIN_UNCONFIRMED: Final = 3
"""Containers sharing a prefix that make it a project with nothing else saying so."""
_NETWORK: Final = re.compile(r"\b[Nn]etwork\s+\"?(\S+?)_default\b")
_CONTAINER_MENTION: Final = re.compile(
    r"(?:\bContainer\s+|^(?:Creating|Starting|Stopping|Recreating|Removing|Killing)\s+"
    r"|\bcontainer\s+|Attaching to\s+|,\s*)/?([A-Za-z0-9][A-Za-z0-9_.-]*)"
)
HOST_PROCESSES: Final = frozenset({"dockerd", "containerd", "kernel", "systemd", "systemd-oomd"})
"""The host's own processes a journal or syslog paste holds beside the containers' lines
(the engine, the kernel's OOM killer): no compose project's containers."""
NAMELESS: Final = frozenset(
    {
        "access",
        "all",
        "combined",
        "compose",
        "console",
        "container",
        "containers",
        "debug",
        "docker",
        "docker-compose",
        "dump",
        "error",
        "errors",
        "full",
        "incident",
        "log",
        "logs",
        "messages",
        "out",
        "output",
        "paste",
        "pasted",
        "stderr",
        "stdin",
        "stdout",
        "syslog",
        "var",
    }
)
"""File and folder names that say nothing about whose log they hold (`compose.log`,
`/var/log/nginx/error.log` is nginx's): never taken for a service's name."""
PSEUDO: Final = frozenset({"compose", "unknown", *HOST_PROCESSES})
"""Names ingest gives lines that no container printed, and the host's processes: no part
of a project's shared prefix."""


@dataclass(frozen=True)
class NameContext:
    """What is known about the stack besides the printed names."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Container name -> service, from compose labels."""
    services: frozenset[str] = frozenset()
    """The compose file's services (empty without one)."""
    container_names: Mapping[str, str] = field(default_factory=dict)
    """`container_name:` -> service."""
    projects: tuple[str, ...] = ()
    """Projects known to be this stack's: --project, the compose file's name, labels."""
    mentions: tuple[str, ...] = ()
    """Container names compose's own lines print (`Container shop-api-1  Started`)."""
    hosts: frozenset[str] = frozenset()
    """Host names the messages use (`db` in `db:5432`), for confirming a shared prefix."""


@dataclass(frozen=True)
class Resolution:
    service: dict[str, str]
    """Printed name -> compose service."""
    project: dict[str, str]
    """Printed name -> project, where one was recognised."""
    note: str | None = None
    """One line for the ingest summary when names stayed as printed."""
    prefix_project: str | None = None
    """The project of the shared prefix that was stripped, if one was."""
    as_printed: tuple[str, ...] = ()
    """The printed names the note is about: maybe a `container_name:` or a name with a
    project prefix, so maybe not the compose service."""


def replica_base(name: str) -> str:
    """`shop-api-1` -> `shop-api`, `api_2` -> `api`, `shop_api.1` -> `shop_api`, `db` -> `db`."""
    return _REPLICA.sub("", name.strip().lstrip("/"))


def shared_prefix(bases: Iterable[str]) -> str | None:
    """The longest `word<sep>…` prefix every base starts with, with something after it
    (`shop-` of `shop-api`, `shop-db`); None when there is none or only one base."""
    distinct = sorted(set(bases))
    if len(distinct) < 2:
        return None
    first = distinct[0]
    best: str | None = None
    for i, ch in enumerate(first):
        if ch not in _SEPARATORS:
            continue
        prefix = first[: i + 1]
        if all(b.startswith(prefix) and len(b) > len(prefix) for b in distinct):
            best = prefix
        else:
            break
    return best


def compose_mentions(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """(container names, projects) that compose's own lines name."""
    names: list[str] = []
    projects: list[str] = []
    for line in lines:
        projects += _NETWORK.findall(line)
        names += [m for m in _CONTAINER_MENTION.findall(line) if not m.startswith("Error")]
    return names, projects


@lru_cache(maxsize=16)
def _longest_first(names: Iterable[str]) -> tuple[str, ...]:
    """`names` longest first (cached: asked once per printed name, a million times
    for a million names, with the same few projects or services)."""
    return tuple(sorted(names, key=len, reverse=True))


def _strip_project(base: str, projects: Sequence[str]) -> tuple[str, str] | None:
    for project in _longest_first(tuple(projects)):
        for sep in _SEPARATORS:
            if project and base.startswith(project + sep) and len(base) > len(project) + 1:
                return base[len(project) + 1 :], project
    return None


def _by_compose_file(base: str, ctx: NameContext) -> tuple[str, str | None] | None:
    """(service, project) when the compose file's services explain the name."""
    if base in ctx.services:
        return base, None
    stripped = _strip_project(base, ctx.projects)
    if stripped and stripped[0] in ctx.services:
        return stripped
    for service in _longest_first(ctx.services):
        for sep in _SEPARATORS:
            if base.endswith(sep + service) and len(base) > len(service) + 1:
                return service, base[: -len(service) - 1]
    return None


def _mentioned_projects(bases: Sequence[str], ctx: NameContext) -> list[str]:
    """Projects compose's lines reveal: `<project>_default` networks, and full
    names `shop-api-1` of containers the logs print as `api-1`."""
    found: list[str] = []
    for mention in ctx.mentions:
        full = replica_base(mention)
        for base in bases:
            for sep in _SEPARATORS:
                if full.endswith(sep + base) and len(full) > len(base) + 1:
                    found.append(full[: -len(base) - 1])
    return found


def _prefix_is_project(
    prefix: str, bases: Sequence[str], ctx: NameContext, *, numbered: bool
) -> bool:
    """Whether a prefix the names share is their project. Unless compose's lines or the
    user name it, only for names compose numbered (`shop-api-1`): names without a replica
    number are `container_name:`s (`immich_server`, `immich_machine_learning`), whole
    names someone chose."""
    project = prefix[:-1]
    if project in ctx.projects or project in _mentioned_projects(bases, ctx):
        return True
    if not numbered:
        return False
    rests = {b[len(prefix) :] for b in bases}
    if rests & ctx.hosts:
        return True
    # the messages use the names with the prefix (`media-ml:3003` for `media_ml_1`: a
    # separator apart)
    if {spelled(b) for b in bases} & {spelled(h) for h in ctx.hosts}:
        return False
    return len(set(bases)) >= MIN_UNCONFIRMED


def spelled(name: str) -> str:
    """A name with `_` and `-` alike (DNS names take `-` where container names had `_`)."""
    return name.replace("_", "-").lower()


def _known(name: str, ctx: NameContext, labelled: frozenset[str]) -> tuple[str, str | None] | None:
    """(service, project) of a printed name the evidence settles on its own: its labels,
    the compose file, a project compose's lines or the user named; None when only the
    names together can tell (a shared prefix)."""
    key = name.strip().lstrip("/")
    known = ctx.labels.get(key) or ctx.container_names.get(key)
    if known is not None:
        return known, None
    base = replica_base(key)
    if base in labelled:  # a service compose labels name (the logs print it short)
        return base, None
    if ctx.services:
        found = _by_compose_file(base, ctx)
        if found is not None:
            return found
    mentioned = _mentioned_projects([base], ctx)
    if mentioned:  # compose names it `<project>-<base>-1`: the printed base is the service
        return base, mentioned[0]
    return _strip_project(base, ctx.projects)


def resolve_names(printed: Iterable[str], ctx: NameContext) -> Resolution:
    """The compose service (and project, where known) of each printed name."""
    names = sorted({n for n in printed if n and n not in PSEUDO})
    stacks = [m.group(1) for n in names if (m := _SWARM_REPLICA.match(n.strip()))]
    if stacks:
        ctx = replace(ctx, projects=(*ctx.projects, *sorted(set(stacks))))
    service: dict[str, str] = {}
    project: dict[str, str] = {}
    open_bases: dict[str, str] = {}
    labelled = frozenset(ctx.labels.values())
    for name in names:
        found = _known(name, ctx, labelled)
        if found is None:
            open_bases[name] = replica_base(name.strip().lstrip("/"))
            continue
        service[name] = found[0]
        if found[1]:
            project[name] = found[1]
    prefix = shared_prefix(open_bases.values())
    prefix_project = None
    numbered = any(_REPLICA.search(n.strip()) for n in open_bases)
    if prefix is not None and _prefix_is_project(
        prefix, list(open_bases.values()), ctx, numbered=numbered
    ):
        prefix_project = prefix[:-1]
        for name, base in open_bases.items():
            service[name], project[name] = base[len(prefix) :], prefix_project
        open_bases = {}
    service.update(open_bases)
    unsure = sorted(n for n, b in open_bases.items() if any(s in b for s in _SEPARATORS))
    note = None
    if unsure and not ctx.services:
        shown = ", ".join(unsure[:3]) + (", …" if len(unsure) > 3 else "")
        note = (
            f"container names kept as printed ({shown}): if they carry a project prefix, "
            "pass --project NAME or the compose file to map them to services"
        )
    return Resolution(
        service=service,
        project=project,
        note=note,
        prefix_project=prefix_project,
        as_printed=tuple(unsure) if note else (),
    )
