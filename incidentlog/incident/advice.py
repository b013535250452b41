"""Advice: the problem, root cause and fix of each issue, the action plan, improvements.

Everything here is raw `Prose`: untrusted values (service names, binaries,
probe commands, log lines, source lines) are words or `Code` segments, never
markup; built-in text with `code` spans is parsed with `Prose.markup`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

import polars as pl

from incidentlog.detect.access import SERVER_ERRORS_FIELD
from incidentlog.incident.excerpts import CodeFrame
from incidentlog.incident.issues import Cause, Unit
from incidentlog.incident.model import (
    FileRef,
    Issue,
)
from incidentlog.incident.ports import (
    LOOPBACK,
    WELL_KNOWN,
    is_address,
    is_public_name,
    service_on_port,
)
from incidentlog.incident.probes import ProbeService, probe_fix
from incidentlog.incident.services import ServiceStats
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.schema import Category
from incidentlog.text import (
    Code,
    Prose,
    clock,
    exit_codes_words,
    format_duration,
    join_names,
    join_prose,
    plural,
)
from incidentlog.topology import ContainerConfig

__all__ = [
    "CATEGORY_PHRASES",
    "RESTARTS_LISTED",
    "Advice",
    "Rhythm",
    "advice",
    "bound_target",
    "cron_env",
    "early_target",
    "file_refs",
    "fill_server_slots",
    "fill_target_slots",
    "impact",
    "loopback_server",
    "oom_unconfirmed",
    "pulled_disk_full",
    "ranking",
    "rhythms",
    "server_of",
    "server_port",
    "service_names",
    "source_hint",
    "started_early",
    "summary_line",
    "target_of",
    "telling_line",
]

RESTARTS_LISTED: Final = 3
"""More restarts than this: the service "keeps crashing" (one timeline row for them all)."""
_WORKDIRS: Final = ("/usr/src/app/", "/opt/app/", "/workspace/", "/app/", "/srv/", "/code/")

CATEGORY_PHRASES: Final[Mapping[str, str]] = {
    "missing-binary": "missing dependencies",
    "event-loop-conflict": "asyncio event-loop conflicts",
    "healthcheck-failed": "failing health checks",
    "oom-killed": "out-of-memory kills",
    "connection-refused": "refused connections",
    "dns-resolution": "host names that do not resolve",
    "port-in-use": "ports already in use",
    "permission-denied": "permission errors",
    "missing-module": "missing modules",
    "disk-full": "a full disk",
    "auth-failure": "authentication failures",
    "tls-error": "TLS errors",
    "timeout": "timeouts",
    "crash-loop": "crashes",
    "segfault": "segmentation faults",
    "resource-exhausted": "exhausted resources",
    "config-error": "configuration errors",
    "unhandled-exception": "unhandled exceptions",
}

# --------------------------------------------------------------------------- problem, cause, fix


@dataclass(frozen=True)
class Advice:
    problem: Prose
    root_cause: Prose
    fix: Prose
    kind: str
    """rebuild-image / change-code / change-config / restart / investigate."""


NO_SERVICE: Final = "the compose run"
"""What compose's own line about no service (`no matching manifest …` with none named) is
about, where a report names services: the run of compose, not a service called compose."""


def service_names(services: Sequence[str]) -> str:
    """`a`, `a and b`: services as a report names them, compose's own run as `NO_SERVICE`."""
    return join_names(NO_SERVICE if s == COMPOSE_SERVICE else s for s in services)


def source_hint(path: str) -> str:
    """The likely path in the source tree of a path in the container (workdir stripped)."""
    for prefix in _WORKDIRS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return path[len(prefix) :]
    return path.lstrip("/")


def advice(
    cause: Cause,
    stats: Mapping[str, ServiceStats],
    configs: Mapping[str, ContainerConfig],
    known_services: set[str],
    code: CodeFrame | None,
    listening: Mapping[int, Sequence[str]] | None = None,
    *,
    names: Collection[str] = (),
) -> Advice:
    """Problem, root cause and fix of a cause: the rule's text, made specific where we can.

    `listening`: port -> the services that listen on it (to name who a loopback address meant);
    `names`: the stack's services and containers (a name of the internet is none of them).
    """
    primary, services, fields = cause.primary, cause.services, cause.primary.fields
    title = Prose.markup(primary.title)
    who = service_names(services)
    first_line = telling_line(primary.evidence)
    # (a title that names its services already, `proxy answered …`, needs no suffix)
    named = all(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", primary.title) for s in services)
    base = Advice(
        problem=title if named else Prose.of(title, f" ({who})"),
        root_cause=(
            Prose.of(title, "; first evidence: ", Code(first_line), ".")
            if first_line
            else Prose.of(title, ".")
        ),
        fix=Prose.markup(primary.remediation),
        kind=primary.fix,
    )
    category = cause.category
    if category == Category.MISSING_BINARY.value:
        if not fields.get("binary"):
            return base
        probe = any(r.source == "probe" for r in cause.findings)
        return _missing_binary(
            base, services, fields["binary"], first_line, probe, (stats, configs)
        )
    if category == Category.DNS_RESOLUTION.value:
        if not fields.get("host"):
            return base
        host = fields["host"]
        if is_public_name(host, names):
            first = (cause.primary.service, fields["host"])
            lookups = _public_lookups(cause, names) or [first]
            found = _external_dns(lookups, first)
            return _other_hosts(found, cause, names, {h for _, h in lookups})
        port = next(  # (the refusal logged with it may name the port)
            (
                r.fields["port"]
                for r in cause.findings
                if r.fields.get("host") == fields["host"] and r.fields.get("port")
            ),
            None,
        )
        if port is None and fields["host"].lower() in WELL_KNOWN:  # (`zookeeper`: 2181)
            port = str(WELL_KNOWN[fields["host"].lower()])
        # (several clients of one missing name: the one server none of them is that
        # listens on the port; the fix names only the clients that dialled that name)
        # (a service whose lookup names no host joined this name's cause: it dials it too)
        dialled = sorted(
            {r.service for r in cause.findings if r.fields.get("host") in (host, None)}
        )
        listener = (
            _other_listener(listening or {}, port, services)
            if host not in stats and dialled
            else None
        )
        found = _dns(base, join_names(dialled or services), host, known_services, (listener, port))
        return _other_hosts(found, cause, names)
    meant = _meant(cause, listening or {})
    if meant is not None:
        found = _loopback(base, who, len(services), (fields["host"], fields["port"]), meant)
    elif (
        category in _LOOPBACK_CATEGORIES
        and fields.get("host") in LOOPBACK
        and fields.get("port")
        and len(services) == 1
    ):
        found = _loopback_unknown(base, who, fields["host"], fields["port"])
    elif category == Category.EVENT_LOOP_CONFLICT.value and code is not None:
        found = _event_loop(base, code, title)
    else:
        found = _resources(base, cause, configs)
    if primary.rule in _RESTARTS_UNTIL_FIXED and _restarted(services, stats):
        found = replace(
            found, fix=Prose.of(found.fix, " It restarts and exits again until the cause is fixed.")
        )
    # (a client dialling loopback for another service: `web connects to 127.0.0.1:6379
    # instead of redis` is what its crash or restart is about, not "Connection refused")
    said = found.problem if meant is not None else title
    found = replace(found, problem=_symptom_problem(found.problem, cause, stats, said))
    return _other_hosts(found, cause, names)


_PULL_LINE: Final = re.compile(
    r"(?i)\b(?:register(?:ing)? layer|layer|blob|pull(?:ing|ed)?|extract(?:ing)?|"
    r"download(?:ing)?|unpack(?:ing)?|GetImageBlob|applyLayer)\b"
)
"""What compose (or the daemon it relays) prints while it pulls and extracts an image:
`✘ analytics Error failed to register layer: …`, `failed to extract layer …`."""


def pulled_disk_full(category: str, lines: Collection[tuple[str, str]]) -> bool:
    """Whether a full disk shows only in compose's own pull or extract lines (`lines`:
    (container, record) of each finding), not in any output of the service: Docker's data
    root filled up while the image was written, and the service never ran."""
    return (
        category == Category.DISK_FULL.value
        and bool(lines)
        and all(c == COMPOSE_SERVICE and _PULL_LINE.search(text) for c, text in lines)
    )


def _pull_disk_full(base: Advice, services: Sequence[str]) -> Advice:
    """A full disk while compose pulled an image: the space to free is Docker's data root
    (images, build cache), not a volume of the service; then the pull runs again."""
    q = " ".join(shlex.quote(s) for s in services)
    return replace(
        base,
        fix=Prose.of(
            f"Docker's data root filled up while compose pulled the image of {join_names(services)},"
            " not a volume of the service. Free space there: see what takes it (",
            Code("docker system df"),
            ", ",
            Code("df -h /var/lib/docker"),
            "), remove unused images and build cache (",
            Code("docker image prune"),
            ", ",
            Code("docker builder prune"),
            "; not ",
            Code("docker system prune"),
            ", which also deletes stopped containers), or give the data root more space. Then"
            " pull again: ",
            Code(f"docker compose pull {q}"),
            ", then ",
            Code(f"docker compose up -d {q}"),
            ".",
        ),
    )


def _resources(base: Advice, cause: Cause, configs: Mapping[str, ContainerConfig]) -> Advice:
    """Memory and disk made specific: the OOM kill (confirmed or not) with the limit the
    container ran with; a full disk while pulling as Docker's data root; else `base`."""
    services = cause.services
    if cause.category == Category.OOM_KILLED.value:
        limits = [configs[s].memory_limit for s in services if s in configs]
        return _oom(base, services, limits, confirmed=_oom_confirmed(cause))
    lines = [(c, f.evidence) for f in cause.findings for c in f.containers]
    if pulled_disk_full(cause.category, lines):
        return _pull_disk_full(base, services)
    return base


HOSTS_NAMED: Final = 3
"""Hosts an issue names one by one; the rest are counted (`and 4 more`)."""


def cause_hosts(cause: Cause) -> list[tuple[str, list[str]]]:
    """Every distinct host the cause's findings of its category name, its primary's first,
    each with the services that named it (in the order they come)."""
    named: dict[str, list[str]] = {}
    if cause.primary.fields.get("host"):
        named[cause.primary.fields["host"]] = []
    for r in cause.findings:
        if r.category != cause.category:
            continue
        own = r.fields.get("host")
        for host in r.hosts or ((own,) if own else ()):
            who = named.setdefault(host, [])
            if r.service not in who:
                who.append(r.service)
    return [(h, who) for h, who in named.items() if who or h == cause.primary.fields.get("host")]


def _listed(hosts: Sequence[str]) -> Prose:
    """`a`, `b` and `c`, or `a`, `b`, `c` and 4 more (bounded: a scan of many names)."""
    shown: list[str | Code | Prose] = [Code(h) for h in hosts[:HOSTS_NAMED]]
    if len(hosts) > HOSTS_NAMED:
        shown.append(f"{len(hosts) - HOSTS_NAMED} more")
    return join_prose(shown)


def _other_hosts(
    found: Advice, cause: Cause, names: Collection[str], named: Collection[str] = ()
) -> Advice:
    """The advice naming the hosts besides the first that the same failure names: each
    summary row keeps one host, and the others (`payments-api`, `hooks-relay` beside
    `redis`) would never be mentioned. The fix says what each kind of name needs.
    `named`: hosts the advice names already."""
    hosts = cause_hosts(cause)
    if len(hosts) < 2:
        return found
    lead = hosts[0][0]
    loopback = lead in LOOPBACK  # (`localhost` beside `127.0.0.1`: one address)
    # (a driver prints the address a name resolved to: `mongo:27017`, then
    # `172.18.0.3:27017`; beside a name, an address is no other host)
    by_name = not is_address(lead) and not loopback
    others = [
        (h, who)
        for h, who in hosts[1:]
        if h not in named and not (loopback and h in LOOPBACK) and not (by_name and is_address(h))
    ]
    if not others:
        return found
    several = len(cause.services) > 1
    listed = _listed([h for h, _ in others])
    one = len(others) == 1
    problem = _also(found.problem, listed)
    if cause.category == Category.DNS_RESOLUTION.value:
        more = len(others) - HOSTS_NAMED
        said = Prose.of(
            "Lookups of other names failed too: ",
            Prose.join(_kinds_of_names(others[:HOSTS_NAMED], names, several), "; "),
            f"; and {plural(more, 'more name')}" if more > 0 else "",
            "; correct or remove each in the configuration that holds it.",
        )
    else:
        said = Prose.of(
            "The same failure also names ",
            listed,
            f": check {'it' if one else 'each'} the same way (running, listening, reachable"
            " on a network the caller shares).",
        )
    return replace(found, problem=problem, fix=Prose.of(found.fix, " ", said))


def _also(problem: Prose, listed: Prose) -> Prose:
    """`problem (also a, b)`; inside a closing parenthesis the problem ends with, `(edge;
    also a)`, rather than two in a row."""
    last = problem.segments[-1] if problem.segments else ""
    if isinstance(last, str) and last.endswith(")"):
        head = Prose(problem.segments[:-1])
        return Prose.of(head, last[:-1], "; also ", listed, ")")
    return Prose.of(problem, " (also ", listed, ")")


_NAME_KINDS: Final = (
    (
        "is a container of this stack",
        "are containers of this stack",
        ": Docker's DNS answers for a container only while it runs on a network the caller shares",
    ),
    ("is a name of the internet", "are names of the internet", ": the Docker host's DNS or egress"),
    ("is no service of this stack", "are no services of this stack", ""),
)


def _kinds_of_names(
    hosts: Sequence[tuple[str, list[str]]], names: Collection[str], several: bool
) -> list[Prose]:
    """Unresolved names grouped by what they are: the stack's (not running, or on another
    network), the internet's (the host's DNS), or nobody's (a wrong name)."""
    groups: dict[int, list[tuple[str, list[str]]]] = {}
    for host, who in hosts:
        kind = 0 if host in names else 1 if is_public_name(host, names) else 2
        groups.setdefault(kind, []).append((host, who))
    said: list[Prose] = []
    for kind, members in sorted(groups.items()):
        one, many, why = _NAME_KINDS[kind]
        callers = list(dict.fromkeys(s for _, who in members for s in who))
        by = f" ({join_names(callers)})" if several else ""
        said.append(
            Prose.of(
                join_prose([Code(h) for h, _ in members]),
                by,
                f" {one if len(members) == 1 else many}{why}",
            )
        )
    return said


_RESTARTS_UNTIL_FIXED: Final = frozenset({"docker.compose-exited-nonzero"})
"""Rules of an exit whose fix says the container comes back and exits again, when the
evidence shows it did (never for one exit that nothing restarted)."""


def _restarted(services: Sequence[str], stats: Mapping[str, ServiceStats]) -> bool:
    """Any of `services` was restarted after an exit (the engine's count, exits of one
    container in a row, or `Restarting` at the end)."""
    return any(
        st.restarts > 0 or st.exits > 1 or st.state == "restarting"
        for s in services
        if (st := stats.get(s)) is not None
    )


def telling_line(evidence: str) -> str:
    """The line of a record that says what happened.

    A Python traceback says it last (also when a logger line comes before it), a Java
    stack trace in its last `Caused by:`, a Node crash in its `Error:` line after the
    source excerpt; any other record in its first line.
    """
    lines = [x.strip() for x in evidence.strip().splitlines() if x.strip()]
    if not lines:
        return ""
    if any(x.startswith("Traceback (most recent call") for x in lines):
        return lines[-1]
    causes = [x for x in lines if x.startswith("Caused by: ")]
    if causes:
        return causes[-1]
    if _SOURCE_EXCERPT.match(lines[0]):
        return next((x for x in lines[1:] if _NODE_ERROR.match(x)), lines[0])
    return lines[0]


_SOURCE_EXCERPT: Final = re.compile(r"^(?:\S+\.[cm]?[jt]sx?|node:[\w/]+):\d+$")
"""The first line of Node's report of an uncaught error: the source file and line."""
_NODE_ERROR: Final = re.compile(r"^(?:[A-Z]\w*)?Error(?: \[\w+\])?:")


_OOM_PROOF: Final = frozenset({"core.oom-event", "core.exit-137-oom", "limits.kernel-oom-killer"})
"""Rules whose finding shows the OOM killer itself: the engine's `oom` event (or inspect's
OOMKilled), or the kernel's own line. A supervisor's "SIGKILL! Perhaps out of memory?"
is only a kill: a timeout or a `docker kill` sends the same signal."""


def _oom_confirmed(cause: Cause) -> bool:
    """Whether the evidence shows the OOM killer (its event, its kernel line, an exit 137),
    not only a process that was SIGKILLed."""
    return any(f.rule in _OOM_PROOF or f.fields.get("exit_code") == "137" for f in cause.findings)


def oom_unconfirmed(issue: Issue) -> bool:
    """An OOM issue whose evidence is only a kill (`_oom_confirmed` of its cause is false)."""
    return (
        issue.category == Category.OOM_KILLED.value
        and not _OOM_PROOF.intersection(issue.rules)
        and issue.fields.get("exit_code") != "137"
    )


def _oom(
    base: Advice,
    services: Sequence[str],
    limits: Sequence[int | None],
    *,
    confirmed: bool = True,
) -> Advice:
    """OOM kills; the fix names the memory limit the container ran with, when inspect shows it.
    A kill only a supervisor reported (`was sent SIGKILL! Perhaps out of memory?`) is a
    probable OOM kill: the advice says so and how to confirm it before raising a limit."""
    who = join_names(services)
    shown = sorted({x for x in limits if x})
    limit = (
        Prose.of(
            " (",
            " / ".join(_bytes(x) for x in shown),
            " now, inspect's ",
            Code("HostConfig.Memory"),
            ")",
        )
        if shown
        else Prose()
    )
    raise_limit = Prose.of(
        f"Raise the memory limit of {who}"
        if confirmed
        else f"If it was, raise the memory limit of {who}",
        limit,
        ": ",
        Code("mem_limit"),
        " or ",
        Code("deploy.resources.limits.memory"),
        " in the compose file; or make it use less (worker count, caches, per-query memory).",
    )
    if not confirmed:
        container = (
            f"$(docker compose ps -aq {services[0]})" if len(services) == 1 else "<container>"
        )
        return replace(
            base,
            problem=Prose.of(
                f"A process in {who} was SIGKILLed, probably by the kernel OOM killer (not confirmed)"
            ),
            fix=Prose.of(
                "Confirm the OOM kill first: ",
                Code(f"docker inspect --format '{{{{.State.OOMKilled}}}}' {container}"),
                " (true after an OOM kill of the main process) and ",
                Code("dmesg -T | grep -i -E 'out of memory|killed process'"),
                " on the host (the kernel logs every OOM kill, also of a worker); a kill right after"
                " a worker timeout, or a ",
                Code("docker kill"),
                ", sends the same signal. ",
                raise_limit,
            ),
        )
    return replace(
        base,
        problem=Prose.of(f"{who} ran out of memory and was killed by the kernel OOM killer"),
        fix=raise_limit,
    )


def _bytes(value: int) -> str:
    """`1 GiB`, `512 MiB`: a memory limit as compose files write it."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            amount = value / size
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{value} B"


def _symptom_problem(
    problem: Prose, cause: Cause, stats: Mapping[str, ServiceStats], title: Prose
) -> Prose:
    """The problem as its services show it: crashing, crash-looping or unhealthy (naming
    only the services that show it: the database that refuses a login did not exit)."""
    showing: dict[str, list[str]] = {}
    for y in cause.symptoms:
        if y.service in cause.services and y.service not in showing.get(y.category, []):
            showing.setdefault(y.category, []).append(y.service)
    crashing = sorted(showing.get(Category.CRASH_LOOP.value, []))
    restarts = max((st.restarts for x in crashing if (st := stats.get(x))), default=0)
    if crashing and restarts > RESTARTS_LISTED:
        keeps = "keeps" if len(crashing) == 1 else "keep"
        return Prose.of(f"{join_names(crashing)} {keeps} crashing: ", title)
    if crashing and restarts:
        return Prose.of(f"{join_names(crashing)} crashed and restarted: ", title)
    # (a process manager inside the container saw its program crash, nodemon, supervisord:
    # no exit of the container, no engine's or inferred restart, only that rule's finding)
    loops = {
        rule
        for y in cause.symptoms
        if y.category == Category.CRASH_LOOP.value and y.service in crashing
        for rule in y.rules
    }
    inside = (
        bool(loops)
        and not any(rule.startswith("core.") for rule in loops)
        and all((st := stats.get(x)) is not None and st.first_exit is None for x in crashing)
    )
    if crashing and inside:
        return Prose.of(f"{join_names(crashing)} crashed inside its container: ", title)
    if crashing:
        return Prose.of(f"{join_names(crashing)} exited: ", title)
    unhealthy = sorted(showing.get(Category.HEALTHCHECK_FAILED.value, []))
    if unhealthy:
        return Prose.of(f"{join_names(unhealthy)} unhealthy: ", title)
    return problem


def _missing_binary(
    base: Advice,
    services: list[str],
    binary: str,
    first_line: str,
    probe: bool,
    facts: tuple[Mapping[str, ServiceStats], Mapping[str, ContainerConfig]],
) -> Advice:
    who = join_names(services)
    if not probe:
        return replace(
            base,
            problem=Prose.of(Code(binary), f" is not found in the container of {who}"),
            root_cause=Prose.of(
                "A command runs ",
                Code(binary),
                ", which is not installed in the image (",
                Code(first_line),
                ").",
            ),
        )
    stats, configs = facts
    probes = sorted({c.healthcheck for s in services if (c := configs.get(s)) and c.healthcheck})
    shown = Prose.of(" (", Prose.join([Code(t) for t in probes], ", "), ")") if probes else Prose()
    found = probe_fix(binary, [_probe_service(s, stats, configs) for s in services])
    return Advice(
        problem=Prose.of(
            f"The health check of {who} cannot run: ", Code(binary), " is missing from the image"
        ),
        root_cause=Prose.of(
            "The health-check command",
            shown,
            " runs ",
            Code(binary),
            ", which the image does not ship, so every probe fails (",
            Code(first_line),
            ") whatever the state of the application.",
        ),
        fix=found.fix,
        kind=found.kind,
    )


def _probe_service(
    service: str, stats: Mapping[str, ServiceStats], configs: Mapping[str, ContainerConfig]
) -> ProbeService:
    conf = configs.get(service)
    st = stats.get(service)
    return ProbeService(
        service=service,
        image=conf.image if conf else None,
        built_here=conf.built_here if conf else None,
        command=conf.healthcheck if conf else None,
        output=st.last_probe_output if st else None,
    )


def _event_loop(base: Advice, code: CodeFrame, title: Prose) -> Advice:
    """`asyncio.run()` / `uvicorn.run()` inside a running loop, at the line the traceback
    shows; the fix fits the frames: await where the function is a coroutine, else make it one."""
    where = Code(f"{source_hint(code.file)}:{code.line}")
    src = code.code
    if "uvicorn.run(" in src:
        cause, fix = _uvicorn_run(where, code)
    elif "asyncio.run(" in src:
        cause = Prose.of(
            where,
            " calls ",
            Code(src),
            " ",
            Prose.markup(
                "from code the event loop runs; `asyncio.run()` refuses to start a second "
                "loop, so the call fails every time."
            ),
        )
        fix = _asyncio_run_fix(code)
    else:
        cause = Prose.of(where, ": ", Code(src), ": ", title, ".")
        fix = base.fix
    return replace(base, root_cause=cause, fix=fix, kind="change-code")


def _uvicorn_run(where: Code, code: CodeFrame) -> tuple[Prose, Prose]:
    """`uvicorn.run()` starts its own loop with `asyncio.run()`: serve inside the running one."""
    awaited = code.code.lstrip().startswith("await ") or " await " in code.code
    cause = Prose.of(
        where,
        " runs ",
        Code(code.code + "...)" if code.code.endswith("(") else code.code),
        " ",
        Prose.markup(
            "inside an event loop that is already running: `uvicorn.run()` starts its own "
            "loop with `asyncio.run()`, which raises `RuntimeError: asyncio.run() cannot be "
            "called from a running event loop`, so the process exits (and the coroutine "
            "`Server.serve` is never awaited)."
        ),
    )
    serve = Prose.markup(
        "`server = uvicorn.Server(uvicorn.Config(app, ...))` with the arguments "
        "`uvicorn.run()` had, then `await server.serve()`"
    )
    if awaited:
        fix = Prose.of(
            "Serve on the running loop",
            Prose.of(" in ", Code(code.function)) if code.function else "",
            f" (a coroutine: line {code.line} awaits): ",
            serve,
            Prose.of(
                ", instead of ", Code(code.code + "...)" if code.code.endswith("(") else code.code)
            ),
            ".",
        )
    else:
        fix = Prose.of(
            "Call ",
            Code("uvicorn.run()"),
            " only where no loop runs (at module level), or make ",
            Code(code.function) if code.function else "the function",
            " a coroutine (",
            Code("async def"),
            ") and serve on the running loop: ",
            serve,
            ".",
        )
    return cause, fix


def _asyncio_run_fix(code: CodeFrame) -> Prose:
    """`await` the coroutine where the caller awaits this function; else make it a coroutine."""
    awaited = re.sub(r"asyncio\.run\((.*)\)", r"await \1", code.code, count=1)
    inner = re.sub(r"^.*?asyncio\.run\((.*)\)\s*$", r"\1", code.code)
    function = code.function
    caller = code.caller
    if (
        caller is not None
        and function
        and re.search(rf"\bawait\s+[\w.]*\b{re.escape(function)}\(", caller.code)
    ):
        return Prose.of(
            Code(awaited),
            " instead of ",
            Code(code.code),
            " (",
            Code(function),
            " is a coroutine: its caller awaits it).",
        )
    if caller is not None and function:
        call = re.sub(rf"([\w.]*\b{re.escape(function)}\()", r"await \1", caller.code, count=1)
        outer = Code(caller.function) if caller.function else "its caller"
        return Prose.of(
            Code(function),
            " is a plain function that runs inside the event loop (",
            outer,
            " calls it without ",
            Code("await"),
            f" at line {caller.line}: ",
            Code(caller.code),
            "). Make it a coroutine, ",
            Code(f"async def {function}"),
            " with ",
            Code(awaited),
            ", and call it as ",
            Code(call),
            " (",
            outer,
            " must then be ",
            Code("async def"),
            " too, if it is not).",
        )
    return Prose.of(
        Code("await " + inner),
        " if ",
        Code(function) if function else "the function",
        " is ",
        Code("async def"),
        "; if it is a plain function the event loop calls, make it a coroutine and await "
        "it from its caller.",
    )


def _meant(cause: Cause, listening: Mapping[int, Sequence[str]]) -> str | None:
    """The service a connection to a loopback address meant: the one that listens on its port."""
    fields = cause.primary.fields
    if cause.category not in _LOOPBACK_CATEGORIES or fields.get("host") not in LOOPBACK:
        return None
    targets = {service_on_port(listening, fields.get("port"), s) for s in cause.services}
    return targets.pop() if len(targets) == 1 else None


_LOOPBACK_CATEGORIES: Final = frozenset({Category.CONNECTION_REFUSED.value, Category.TIMEOUT.value})


def _loopback(
    base: Advice, who: str, how_many: int, address: tuple[str, str], meant: str
) -> Advice:
    """Clients that dial their own container (`localhost:27017`) for another service's port
    (one shared setting, an env file, when several do)."""
    host, port = address
    one = how_many == 1
    return replace(
        base,
        problem=Prose.of(
            f"{who} {'connects' if one else 'connect'} to ",
            Code(f"{host}:{port}"),
            f" instead of {meant}",
        ),
        root_cause=Prose.of(
            Code(host),
            f" inside a container is that container itself, so {who} ",
            f"{'dials its own' if one else 'dial their own'} port ",
            f"{port}; {meant} listens on {port} in its own container, reachable as ",
            Code(f"{meant}:{port}"),
            " on the compose network.",
        ),
        fix=Prose.of(
            f"Point {who} at ",
            Code(f"{meant}:{port}"),
            " (the compose service name) instead of ",
            Code(host),
            f" in {'its' if one else 'their'} connection settings (environment, URL or config"
            f" file), then recreate {'it' if one else 'them'}.",
        ),
        kind="change-config",
    )


def _loopback_unknown(base: Advice, who: str, host: str, port: str) -> Advice:
    """A client that dials its own container (`127.0.0.1:6379`) where nothing listens, and
    no service of the evidence is known to listen on that port: the rule's advice about
    "the service `127.0.0.1`" would not apply."""
    return replace(
        base,
        root_cause=Prose.of(
            Code(f"{host}:{port}"),
            f" inside a container is that container itself, and nothing in {who} listens on"
            f" {port}. ",
            base.root_cause,
        ),
        fix=Prose.of(
            f"Point {who} at the compose service name of the server that should answer on"
            f" {port} (its environment, URL or config file) instead of ",
            Code(host),
            ", then recreate it; if that server runs on the Docker host itself, use ",
            Code("host.docker.internal"),
            " with ",
            Code('extra_hosts: ["host.docker.internal:host-gateway"]'),
            ".",
        ),
        kind="change-config",
    )


def _public_lookups(cause: Cause, names: Collection[str]) -> list[tuple[str, str]]:
    """(service, name of the internet it failed to resolve): every name, by service."""
    found: dict[tuple[str, str], None] = {}
    for r in cause.findings:
        own = r.fields.get("host")
        for host in r.hosts or ((own,) if own else ()):
            if r.category == cause.category and is_public_name(host, names):
                found.setdefault((r.service, host))
    return sorted(found)


def _external_dns(lookups: Sequence[tuple[str, str]], first: tuple[str, str]) -> Advice:
    """Services that cannot resolve names of the internet (`api.stripe.com`): no compose
    name and no network of the stack is wrong; the Docker host's DNS or egress for its
    containers is (the daemon's `dns`, a resolv.conf with only the 127.0.0.53 stub, a
    firewall, `"iptables": false`, a proxy). `first`: the service and name the fix checks
    (the cause's first; the action plan checks the same name)."""
    services = list(dict.fromkeys(s for s, _ in lookups))
    hosts = list(dict.fromkeys(h for _, h in lookups))
    who = join_names(services)
    one = len(services) == 1
    shown = _listed(hosts)
    if one:
        problem = Prose.of(
            f"{who} cannot resolve the public name ",
            shown,
            ": DNS or egress from its container, not a compose name",
        )
    else:
        problem = Prose.of(
            f"{len(services)} services cannot resolve public names ({', '.join(services)}): "
            "the Docker host's DNS or egress for containers, not the services",
        )
    each = Prose.join([Prose.of(Code(h), f" from {s}") for s, h in lookups[:HOSTS_NAMED]], ", ")
    if len(lookups) > HOSTS_NAMED:
        each = Prose.of(each, f" and {len(lookups) - HOSTS_NAMED} more")
    root = Prose.of(
        "The name" if len(hosts) == 1 else "Every name",
        " that failed is one of the internet (",
        each if not one else shown,
        "), no service of this stack: containers resolve it through Docker's embedded DNS (",
        Code("127.0.0.11"),
        "), which forwards to the daemon's ",
        Code("dns"),
        " servers (",
        Code("/etc/docker/daemon.json"),
        ") or to the resolvers of the host's ",
        Code("/etc/resolv.conf"),
        "; that path fails from its container"
        if one
        else "; when several services fail at once, that path is broken for every container",
        ". Usual causes: a host ",
        Code("resolv.conf"),
        " that names only the systemd-resolved stub ",
        Code("127.0.0.53"),
        " (unreachable from containers) and no ",
        Code("dns"),
        " set, a firewall that blocks egress from the Docker bridges, ",
        Code('"iptables": false'),
        " in ",
        Code("daemon.json"),
        " (no NAT for containers), or a proxy the containers are not told about.",
    )
    service, host = first
    fix = Prose.of(
        "On the Docker host, compare a container with the host: ",
        Code(f"docker compose exec {service} getent hosts {host}"),
        " (or ",
        Code(f"nslookup {host}"),
        ") against ",
        Code(f"getent hosts {host}"),
        " on the host. If only containers fail, set ",
        Code('"dns": ["<resolver>", "<resolver>"]'),
        " in ",
        Code("/etc/docker/daemon.json"),
        " (resolvers the containers can reach, never ",
        Code("127.0.0.53"),
        "), remove ",
        Code('"iptables": false'),
        ", allow egress from the Docker bridges (DNS on 53, HTTPS on 443) in the firewall, or"
        " give the containers the proxy (",
        Code("HTTPS_PROXY"),
        "); then ",
        Code("sudo systemctl restart docker"),
        ". If the host cannot resolve the name either, fix the host's resolver (or the name) first.",
    )
    # (a change on the Docker host itself: no service's configuration changes)
    return Advice(problem=problem, root_cause=root, fix=fix, kind="change-host")


def _other_listener(
    listening: Mapping[int, Sequence[str]], port: str | None, callers: Sequence[str]
) -> str | None:
    """The one service, none of `callers`, that listens on `port` (None if none or several)."""
    if not port or not port.isdigit():
        return None
    others = [s for s in listening.get(int(port), ()) if s not in callers]
    return others[0] if len(others) == 1 else None


def _dns(
    base: Advice,
    who: str,
    host: str,
    known_services: set[str],
    listener: tuple[str | None, str | None] = (None, None),
) -> Advice:
    """A host name that does not resolve; named when it is not a service of the compose file,
    and the service it likely meant when one other listens on the port dialled (`listener`)."""
    found = replace(
        base,
        problem=Prose.of(f"{who} cannot resolve the host name ", Code(host)),
        kind="change-config",
    )
    meant, port = listener
    if meant is not None and port is not None and host not in known_services:
        return replace(
            found,
            root_cause=Prose.of(
                Code(host),
                f" is no service here, and {meant} is the one that listens on {port}: the "
                f"configuration of {who} names the wrong host.",
            ),
            fix=Prose.of(
                f"Point {who} at ",
                Code(f"{meant}:{port}"),
                " (the compose service name), or give ",
                meant,
                " the network alias ",
                Code(host),
                "; then recreate.",
            ),
        )
    if not known_services or host in known_services:
        return found
    return replace(
        found,
        root_cause=Prose.of(
            Code(host),
            " is not a service of this stack (services in the compose file: "
            f"{', '.join(sorted(known_services))}); the configuration still names it.",
        ),
        fix=Prose.of(
            f"Point the configuration of {who} at the right service name (or give the "
            "service that replaced it the network alias ",
            Code(host),
            "), then recreate.",
        ),
    )


# --------------------------------------------------------------------------- server slots


SERVER_SLOTS: Final = ("<db-service>", "<db>")
"""Slots of a rule's command for the database server's service (`docker compose exec
<db-service> createdb …`): filled when the evidence names the server."""

_NAMED_SERVER: Final = re.compile(
    r'server at "(?P<a>[^"]+)"'  # libpq: connection to server at "db" (172.18.0.2), port 5432
    r"|\bhost=(?P<b>[A-Za-z][\w.-]*)"  # a conninfo / DSN
    r"|\b[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?(?P<c>[A-Za-z][\w.-]*)[:/]"  # a URL
    r"|(?P<d>\b(?:\d{1,3}\.){3}\d{1,3}):(?P<port>\d{2,5})\b"  # an address and port
)
"""Where a client's error line names the server it talked to."""
_CLIENT_TOOL: Final = re.compile(
    r"\b(?:psql|pg_dump|pg_restore|pg_isready|createdb|mysql|mysqldump|mysqladmin"
    r"|mariadb|mongosh|redis-cli): "
)
"""A database's own command-line client reporting the server's error (`psql: FATAL: …`)."""


def server_port(rule: str) -> int | None:
    """The default port of the server a rule is about: a word of its id that names one
    (`postgres.database-missing`: 5432, `network.mysql-auth-plugin`: 3306)."""
    for word in re.split(r"[.\-_]", rule.lower()):
        word = word.rstrip("0123456789")
        if word in WELL_KNOWN:
            return WELL_KNOWN[word]
    return None


def server_of(
    cause: Cause,
    port: int,
    listening: Mapping[int, Sequence[str]],
    resolve: Callable[[str], str | None],
    dialled: Mapping[int, Sequence[str]] | None = None,
) -> str | None:
    """The service that is the server of `cause`'s rule (listening on `port`), when the
    evidence names it: a service of the cause that listens there (the server's own log),
    the host a client's line names (`resolve`: a name to the stack's service), the one
    other service listening on the port, or the one service other clients dial on it
    (`dialled`). None when nothing names one: the slot stays for the reader to fill."""
    servers = set(listening.get(port, ()))
    # (a client relaying the server's error names where it connected: it is no server,
    # though that relayed line can make it look like one that listens)
    clients = {
        r.service
        for r in cause.findings
        if _NAMED_SERVER.search(r.evidence or "") or _CLIENT_TOOL.search(r.evidence or "")
    }
    own = {r.service for r in cause.findings if r.service in servers} - clients
    if len(own) == 1:
        return own.pop()
    servers -= clients
    named: set[str] = set()
    for r in cause.findings:
        for m in _NAMED_SERVER.finditer(r.evidence or ""):
            host = m.group("a") or m.group("b") or m.group("c")
            if host and host not in LOOPBACK and (service := resolve(host)) is not None:
                named.add(service)
            elif m.group("d") and m.group("port") == str(port):
                named.update(s for s in servers if s not in cause.services)
    if len(named) == 1:
        return named.pop()
    if named:
        return None  # (several named: no guess)
    others = servers - set(cause.services)
    if len(others) == 1:
        return others.pop()
    targets = set((dialled or {}).get(port, ())) - set(cause.services)
    return targets.pop() if len(targets) == 1 else None


TARGET_SLOTS: Final = ("<service>", "<target>")
"""Slots of a rule's command for the service a client dialled (`depends_on: <service>:
condition: service_healthy`): filled when the failure's host is a service of the stack."""


def target_of(
    cause: Cause, resolve: Callable[[str], str | None], listening: Mapping[int, Sequence[str]]
) -> str | None:
    """The one stack service the cause's primary finding dialled: its host by name, or an
    address by the one service listening on its port (None: unnamed, or not the stack's)."""
    fields = cause.primary.fields
    host = fields.get("host")
    if not host or host in LOOPBACK:
        return None
    service = resolve(host)
    if service is None and is_address(host):
        service = service_on_port(listening, fields.get("port"), cause.primary.service)
    return service if service is not None and service not in cause.services else None


def fill_target_slots(found: Advice, target: str | None) -> Advice:
    """The fix's commands with the dialled service in its slots (kept when unknown)."""
    return _fill_slots(found, target, TARGET_SLOTS)


def fill_server_slots(found: Advice, server: str | None) -> Advice:
    """The fix's commands with the server's service in its slots (kept when unknown)."""
    return _fill_slots(found, server, SERVER_SLOTS)


def _fill_slots(found: Advice, service: str | None, slots: Sequence[str]) -> Advice:
    if service is None or not any(slot in str(found.fix) for slot in slots):
        return found

    def fill(code: str) -> str:
        for slot in slots:
            code = code.replace(slot, service)
        return code

    return replace(found, fix=found.fix.with_code(fill))


# --------------------------------------------------------------------------- loopback-bound servers


def bound_target(
    cause: Cause,
    bound: Mapping[str, tuple[int, str, str]],
    resolve: Callable[[str], str | None],
) -> str | None:
    """The server a refused connection was meant for when that server listens only on its
    own loopback (`ports.loopback_bound`): the one such service the refusal names (by name,
    or by address and port), or, when the refusal names no host, the only such service."""
    if cause.category != Category.CONNECTION_REFUSED.value:
        return None
    candidates = {s: v for s, v in bound.items() if s not in cause.services}
    if not candidates:
        return None
    named: set[str] = set()
    unnamed = True  # (no finding of the refusal names a host at all)
    for r in cause.findings:
        if r.category != cause.category:
            continue
        own = r.fields.get("host")
        hosts = r.hosts or ((own,) if own else ())
        unnamed = unnamed and not hosts
        for host in hosts:
            if host in LOOPBACK:
                continue  # (the client dials its own container: `_meant`'s case)
            service = resolve(host)
            if service in candidates:
                named.add(service)
            elif is_address(host) and host == own and r.fields.get("port"):
                named.update(s for s, (p, _, _) in candidates.items() if str(p) == r.fields["port"])
    if len(named) == 1:
        return named.pop()
    if not named and unnamed and len(candidates) == 1:
        return next(iter(candidates))
    return None


def loopback_server(
    found: Advice, target: str | None, bound: Mapping[str, tuple[int, str, str]]
) -> Advice:
    """A refusal explained by its server listening only on its own loopback: the bind is
    the fix, not the client's settings (the server logs a healthy start, so nothing else
    points at it)."""
    if target is None or target not in bound:
        return found
    port, said, where = bound[target]
    return replace(
        found,
        problem=Prose.of(found.problem, f": {target} listens only on its own loopback"),
        root_cause=Prose.of(
            f"{target} listens on port {port} of its container's loopback only (",
            Code(said),
            "): that address is the container itself, so every other container is refused"
            f" while {target} logs a healthy start.",
        ),
        fix=Prose.of(
            f"Make {target} listen on every interface (",
            Prose.markup(where.replace("PORT", str(port))),
            f") in its command or environment, then recreate {target}. ",
            found.fix,
        ),
        kind="change-config",
    )


# --------------------------------------------------------------------------- start order

_EARLY_CATEGORIES: Final = frozenset({Category.CONNECTION_REFUSED.value, Category.TIMEOUT.value})
"""Failures a server that is still starting causes (it refuses, or does not answer)."""


START_WAIT_NAMED: Final = timedelta(minutes=5)
"""How long after a client's first failure the server it names may say it is ready and
still be a slow start (a first initdb, a search node); later it was an outage."""
START_WAIT_UNNAMED: Final = timedelta(minutes=2)
"""The same for the one service that became ready late when the failure names none."""


def early_target(
    cause: Cause,
    ready: Mapping[str, tuple[datetime, str]],
    resolve: Callable[[str], str | None],
    listening: Mapping[int, Sequence[str]],
) -> str | None:
    """The server a refused or timed-out client dialled before that server said it was
    ready (`ports.ready_times`): the one the failure names (by name, or by address or port
    and who listens there), else, when it names none, the one service of the stack that
    became ready only after the client's first failure."""
    first = cause.first_seen
    if cause.category not in _EARLY_CATEGORIES or first is None:
        return None
    late = {
        s
        for s, (at, _) in ready.items()
        if first < at <= first + START_WAIT_NAMED and s not in cause.services
    }
    if not late:
        return None
    named: set[str] = set()
    for r in cause.findings:
        if r.category != cause.category:
            continue
        own = r.fields.get("host")
        for host in r.hosts or ((own,) if own else ()):
            if host in LOOPBACK:
                continue
            service = resolve(host)
            if service is None and is_address(host):
                service = service_on_port(listening, r.fields.get("port"), r.service)
            if service is not None:
                named.add(service)
        if not (r.hosts or own) and r.fields.get("port"):
            service = service_on_port(listening, r.fields["port"], r.service)
            if service is not None:
                named.add(service)
    if named:
        return named.pop() if len(named) == 1 and named <= late else None
    soon = {s for s in late if ready[s][0] <= first + START_WAIT_UNNAMED}
    return next(iter(soon)) if len(late) == 1 and len(soon) == 1 else None


def started_early(
    found: Advice, cause: Cause, target: str | None, ready: Mapping[str, tuple[datetime, str]]
) -> Advice:
    """A client that gave up on its server before the server was ready: start order, not
    the address (the server came up on its own a moment later)."""
    if target is None or target not in ready or cause.first_seen is None:
        return found
    at, line = ready[target]
    who = join_names(cause.services)
    one = len(cause.services) == 1
    wait = format_duration((at - cause.first_seen).total_seconds())
    return replace(
        found,
        problem=Prose.of(found.problem, f": {target} was not ready yet"),
        root_cause=Prose.of(
            f"{who} first failed at {clock(cause.first_seen)}, {wait} before {target} said it"
            f" was ready (at {clock(at)}: ",
            Code(_shortened(line)),
            f"): {who} started before its server and {'does' if one else 'do'} not wait for it. ",
            found.root_cause,
        ),
        fix=Prose.of(
            f"Start {who} once {target} is ready: give {target} a ",
            Code("healthcheck:"),
            f" and {who} ",
            Code(f"depends_on: {target}: condition: service_healthy"),
            " (a retry of the first connection, or ",
            Code("restart: on-failure"),
            ", also covers it); then ",
            Code(f"docker compose up -d {' '.join(cause.services)}"),
            ". ",
            found.fix,
        ),
        kind="change-config",
    )


def _shortened(line: str, limit: int = 120) -> str:
    """A log line cut to `limit` characters (a start-up line can carry a long banner)."""
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --------------------------------------------------------------------------- cron jobs

CRON_STARTS: Final = r"crond: crond \(busybox|\(CRON\) (?:INFO \(pidfile|STARTUP)"
"""The start-up lines of cron daemons that start jobs with an almost empty environment
(busybox crond, Debian's cron, cronie); supercronic passes the container's own."""


def cron_env(found: Advice, cause: Cause, cron: Collection[str]) -> Advice:
    """A variable a job finds unset in a service that runs cron: the container has it (its
    compose `environment:`), its cron jobs do not, as cron does not pass it on."""
    env = cause.primary.fields.get("env")
    who = [s for s in cause.services if s in cron]
    if not env or not who or cause.category != Category.CONFIG_ERROR.value:
        return found
    name = join_names(who)
    return replace(
        found,
        root_cause=Prose.of(
            f"{name} runs the script from cron, and cron starts its jobs with an almost empty"
            " environment: ",
            Code(env.lstrip("$")),
            " can be set for the container (compose ",
            Code("environment:"),
            ") and still be missing in the job. ",
            found.root_cause,
        ),
        fix=Prose.of(
            "If the variable is set in compose, hand it to the jobs: have the entrypoint"
            " write the environment to a file before it starts cron (",
            Code("export -p > /etc/job.env"),
            ") and source it at the top of the job (",
            Code(". /etc/job.env"),
            "), or run the schedule with supercronic, which passes the environment on; then"
            f" recreate {name}. Otherwise: ",
            found.fix,
        ),
    )


# --------------------------------------------------------------------------- impact, rank, files


def impact(
    cause: Cause,
    stats: Mapping[str, ServiceStats],
    configs: Mapping[str, ContainerConfig],
    paces: Mapping[tuple[str, str], Rhythm] | None = None,
) -> Prose:
    """What the cause did to its services, counting only what it explains: crashes and
    restarts, time unhealthy, its own error records (and when they came: `paces`, from
    `rhythms`); then the other services it touched."""
    parts: list[Prose] = []
    for unit in cause.members:
        st = stats.get(unit.service)
        if st is None:
            continue
        conf = configs.get(unit.service)
        bits: list[str | Prose] = list(_crash_bits(st, conf.restart_policy if conf else None))
        if st.first_unhealthy is not None:
            bits.append(_unhealthy_bit(st))
        if not bits:  # no engine events: what compose's own lines said about it
            bits.extend(
                y.description
                for y in cause.symptoms
                if y.service == unit.service and y.via == "same service"
            )
        records = _records_bit(unit, st, (paces or {}).get((unit.service, unit.primary.rule)))
        if records:
            bits.append(records)
        if bits:
            parts.append(Prose.of(f"{unit.service}: ", Prose.join(bits, "; ")))
    others = sorted({y.service for y in cause.symptoms if y.service not in cause.services})
    if others:
        parts.append(Prose.of(f"downstream: {join_names(others)} (below)"))
    if not parts:
        return Prose.of("No service was unhealthy or restarted.")
    return Prose.of(Prose.join(parts, ". "), ".")


def _crash_bits(st: ServiceStats, policy: str | None) -> list[Prose]:
    """Exits (one number), and the restarts the engine made of them."""
    if not st.exits and not st.ooms:
        # (`ps` shows it `Restarting` though no exit is in the evidence)
        if st.state == "restarting":
            return [Prose.of("restarting at the end of the evidence")]
        if st.restarts and st.restarts_from_logs:  # (its start-up line came back)
            return [
                Prose.of(
                    f"restarted {plural(st.restarts, 'time')}"
                    " (inferred: its start-up line came back after errors)"
                )
            ]
        return []
    codes = exit_codes_words(st.exit_codes)
    code_words = f" (exit code {codes})" if codes else ""
    bits: list[Prose] = []
    if st.ooms:
        down = f", {st.exits} of them took the container down{code_words}" if st.exits else ""
        bits.append(Prose.of(f"OOM-killed {plural(st.ooms, 'time')}{down}"))
    elif st.exits > 1:
        span = (
            ""
            if st.first_exit is None
            else f" at {clock(st.first_exit)}"
            if clock(st.first_exit) == clock(st.last_exit)
            else f" from {clock(st.first_exit)} to {clock(st.last_exit)}"
        )
        bits.append(Prose.of(f"crashed {st.exits} times{code_words}{span}"))
    else:
        when = f" at {clock(st.last_exit)}" if st.last_exit else ""
        bits.append(Prose.of(f"exited{code_words}{when}"))
    how = Prose.of(" by its restart policy ", Code(policy)) if policy else Prose()
    if st.restarts:
        count = "" if st.restarts_from_logs else "the engine's RestartCount; "
        pending = (
            f" ({count}the restart after the last exit is still pending)"
            if st.state == "restarting" and st.restarts < st.exits
            else ""
        )
        # (it logged on after all but its last exit: the logs show no restart after that)
        stopped = (
            ", not after the last exit" if st.state == "exited" and st.restarts < st.exits else ""
        )
        bits.append(Prose.of(f"restarted {plural(st.restarts, 'time')}", how, pending, stopped))
    elif st.exits and st.state == "exited":
        after = " after the last exit" if st.exits > 1 else ""  # it ran again between them
        bits.append(
            Prose.of(
                f"not restarted{after}",
                Prose.of(" (restart policy ", Code(policy), ")") if policy else "",
            )
        )
    return bits


def _unhealthy_bit(st: ServiceStats) -> str:
    start = clock(st.first_unhealthy)
    if st.recovered_at is not None:
        return f"unhealthy from {start} to {clock(st.recovered_at)}"
    return f"unhealthy from {start} to the end ({format_duration(st.unhealthy_seconds)})"


def _records_bit(unit: Unit, st: ServiceStats, rhythm: Rhythm | None) -> str:
    """Its own error records, when they are not one per crash (said already), and when they
    came (`rhythm`, when every one of them is dated)."""
    primary = unit.primary
    if primary.source != "logs" or primary.count <= 1 or primary.count == st.exits:
        return ""
    when = ""
    if rhythm is not None and rhythm.records == primary.count and rhythm.records > 2:
        when = rhythm.words()
    return f"the error was logged {primary.count} times{when}"


BURST_GAP: Final = 2.0
"""Seconds: a pause shorter than this never separates two bursts (records a second apart
are steady, not bursts)."""
BURST_RATIO: Final = 10.0
"""A pause separates bursts when it is this many times the median gap between records,
and the pauses between bursts are this many times the longest gap inside them."""
STEADY_RATIO: Final = 2.0
"""Records (not in bursts) come "about every" their mean gap when no gap is longer than this
many times the median one (a missed beat, not a pause)."""
BURSTS_RATIO: Final = 1.5
"""Bursts come "about every" the median time between their starts when the longest such
time is at most this many times the shortest."""


@dataclass(frozen=True)
class Rhythm:
    """When the records of one rule in one service came: spread out, or in bursts."""

    records: int
    """The dated ones."""
    span: float
    """Seconds from the first to the last."""
    bursts: int
    """Clusters of records separated by pauses much longer than the gaps inside them (1:
    not bursty)."""
    burst_size: int | None
    """Records per burst, when every burst holds as many."""
    every: float | None
    """Seconds between records (not bursty), or between bursts' starts, when they repeat
    at a regular pace."""

    def words(self) -> str:
        """` within a second`, `, about every 60 s`, ` over 9 s`, ` in 3 bursts of 5 over 9 s`,
        ` in bursts of 3 about every 10 min`."""
        if self.span < 1:
            return " within a second"
        if self.bursts > 1:
            size = f" of {self.burst_size}" if self.burst_size else ""
            if self.every is not None:
                many = "" if self.burst_size else f" {self.bursts}"
                return f" in{many} bursts{size} about every {_pace(self.every)}"
            return f" in {self.bursts} bursts{size} over {format_duration(self.span)}"
        if self.every is not None:
            return f", about every {_pace(self.every)}"
        return f" over {format_duration(self.span)}"


def _pace(seconds: float) -> str:
    """`45 s`, `2 min 30 s`, `10 min`, `1 h 00 min`."""
    if seconds < 120:
        return f"{round(seconds)} s"
    text = format_duration(seconds)
    return text.removesuffix(" 00 s")


def rhythms(
    findings: pl.DataFrame, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Rhythm]:
    """By (service, rule) of `keys`: when its dated findings came (`Rhythm`).

    A gap between two records is a pause between bursts when it is over `BURST_GAP` and
    `BURST_RATIO` times the median gap; the records are in bursts when there are at
    least two, at least half of them of more than one record, and the shortest pause
    between them is `BURST_RATIO` times the longest gap inside them."""
    if not keys or findings.is_empty():
        return {}
    k = ["service", "rule"]
    wanted = pl.DataFrame(list(dict.fromkeys(keys)), schema=k, orient="row")
    gap = pl.col("ts").diff().over(k).dt.total_microseconds() / 1e6
    dated = (
        findings.select(*k, "ts")
        .drop_nulls("ts")
        .join(wanted, on=k, how="semi")
        .sort(*k, "ts")
        .with_columns(gap.alias("_gap"))
    )
    if dated.is_empty():
        return {}
    cut = pl.col("_gap") > pl.max_horizontal(
        pl.lit(BURST_GAP), pl.col("_gap").median().over(k) * BURST_RATIO
    )
    dated = dated.with_columns(cut.fill_null(False).alias("_cut")).with_columns(
        pl.col("_cut").cum_sum().over(k).alias("_burst")
    )
    starts = pl.col("_start").diff()
    bursts = (
        dated.group_by(*k, "_burst")
        .agg(pl.len().alias("_size"), pl.col("ts").min().alias("_start"))
        .sort(*k, "_start")
        .group_by(k)
        .agg(
            pl.col("_size").min().alias("size_min"),
            pl.col("_size").max().alias("size_max"),
            (pl.col("_size") > 1).sum().alias("multi"),
            (starts.dt.total_microseconds() / 1e6).min().alias("starts_min"),
            (starts.dt.total_microseconds() / 1e6).max().alias("starts_max"),
            (starts.dt.total_microseconds() / 1e6).median().alias("starts_median"),
        )
    )
    per_key = (
        dated.group_by(k)
        .agg(
            pl.len().alias("records"),
            ((pl.col("ts").max() - pl.col("ts").min()).dt.total_microseconds() / 1e6).alias("span"),
            (pl.col("_cut").sum() + 1).alias("bursts"),
            pl.col("_gap").filter(~pl.col("_cut")).max().alias("inner_max"),
            pl.col("_gap").filter(pl.col("_cut")).min().alias("pause_min"),
            pl.col("_gap").median().alias("gap_median"),
            pl.col("_gap").max().alias("gap_max"),
        )
        .join(bursts, on=k)
    )
    out: dict[tuple[str, str], Rhythm] = {}
    for r in per_key.iter_rows(named=True):
        n, span, count = r["records"], r["span"], r["bursts"]
        bursty = (
            1 < count < n
            and r["multi"] * 2 >= count  # (mostly single records: pauses, not bursts)
            and r["pause_min"] is not None
            and r["pause_min"] >= BURST_RATIO * (r["inner_max"] or 0.0)
        )
        every: float | None = None
        if bursty:
            if count > 2 and r["starts_max"] <= BURSTS_RATIO * r["starts_min"]:
                every = r["starts_median"]
        else:
            count = 1
            median = r["gap_median"] or 0.0
            if n > 1 and median >= 1 and r["gap_max"] <= STEADY_RATIO * median:
                every = span / (n - 1)
        size = r["size_min"] if bursty and r["size_min"] == r["size_max"] else None
        out[(r["service"], r["rule"])] = Rhythm(n, span, count, size, every)
    return out


def ranking(rank: int, cause: Cause) -> Prose:
    """Why it ranks where it does: first evidence, upstream of whom."""
    why: list[str] = []
    if cause.first_seen is not None:
        why.append(f"first evidence at {clock(cause.first_seen)}")
    elif rank == 1:
        why.append("first in the input (no timestamps)")
    downstream = sorted({y.service for y in cause.symptoms if y.service not in cause.services})
    if downstream:
        why.append(f"upstream of {join_names(downstream)}")
    return Prose.of("; ".join(why) or "in input order (no timestamps)")


def file_refs(
    issue: int, cause: Cause, kind: str, frames: Mapping[tuple[str, str], CodeFrame]
) -> list[FileRef]:
    """Source lines of the cause's findings, then the Dockerfile or compose file to change."""
    refs: list[FileRef] = []
    seen: set[str] = set()
    for u in cause.members:
        for r in u.findings:
            cf = frames.get((u.service, r.rule))
            path, line = (cf.file, cf.line) if cf else (r.fields.get("file"), r.fields.get("line"))
            if path and line and f"{path}:{line}" not in seen and r.category == cause.category:
                seen.add(f"{path}:{line}")
                refs.append(
                    FileRef(
                        f"{path}:{line}",
                        Prose.of(f"{source_hint(path)}:{line}"),
                        [u.service],
                        issue,
                        cf.code if cf else None,
                    )
                )
    services = cause.services
    if cause.category == Category.MISSING_BINARY.value:
        if kind == "rebuild-image":
            binary = cause.primary.fields.get("binary")
            hint = Prose.of("install ", Code(binary) if binary else "the missing command")
            refs.append(FileRef("Dockerfile", hint, services, issue))
        if any(r.source == "probe" for r in cause.findings):
            hint = Prose.markup("`healthcheck:` (the probe command)")
            refs.append(FileRef("docker-compose.yml", hint, services, issue))
    elif kind == "change-host":  # (the engine's own settings, not a service's)
        hint = Prose.of(
            "the engine's DNS and iptables settings (",
            Code('"dns"'),
            ", ",
            Code('"iptables"'),
            ") on the Docker host",
        )
        refs.append(FileRef("/etc/docker/daemon.json", hint, services, issue))
    elif kind == "change-config":
        hint = Prose.of("service configuration / environment")
        refs.append(FileRef("docker-compose.yml", hint, services, issue))
    return refs


# --------------------------------------------------------------------------- summary, plan


_PROBABLE_OOM: Final = "probable out-of-memory kills (not confirmed)"
"""The root-cause phrase of OOM issues none of whose evidence shows the OOM killer."""


def summary_line(issues: Sequence[Issue]) -> Prose:
    """The root causes in one line: `Missing dependencies (`curl`, `wget`) and ...`."""
    if not issues:
        return Prose.of(
            "No incident found: no lasting failure signature, and no service unhealthy or"
            " restarting at the end."
        )
    # (low-severity issues, such as a health check's login noise, are no root causes
    # beside real ones: they stay in the list of issues)
    causes = [i for i in issues if i.severity != "low"] or list(issues)
    cats: dict[str, list[str]] = {}
    for i in causes:
        # (users answered with a 5xx and no cause found: what they got is the headline)
        answered = SERVER_ERRORS_FIELD in i.fields and i.fields.get("status")
        phrase = (
            f"{answered} {i.fields.get('reason', '')}".strip() + " answers"
            if answered
            else i.category
        )
        if i.category == Category.OOM_KILLED.value and all(
            oom_unconfirmed(o) for o in causes if o.category == i.category
        ):
            phrase = _PROBABLE_OOM
        cats.setdefault(phrase, []).append(i.fields.get("binary") or service_names(i.services))
    parts: list[Prose] = []
    for cat, items in cats.items():
        unique = list(dict.fromkeys(items))
        detail = (
            Prose.join([Code(x) for x in unique], ", ")
            if cat == Category.MISSING_BINARY.value
            else Prose.of(", ".join(unique))
        )
        parts.append(Prose.of(f"{CATEGORY_PHRASES.get(cat, cat)} (", detail, ")"))
    return join_prose(parts).capitalized()
