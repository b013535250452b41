"""Advice: the problem, root cause and fix of each issue, the action plan, improvements.

Everything here is raw `Prose`: untrusted values (service names, binaries,
probe commands, log lines, source lines) are words or `Code` segments, never
markup; built-in text with `code` spans is parsed with `Prose.markup`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from incidentlog.incident.excerpts import CodeFrame
from incidentlog.incident.issues import Cause
from incidentlog.incident.model import (
    ActionPhase,
    ActionStep,
    FileRef,
    Improvement,
    Issue,
    ServiceState,
    Symptom,
)
from incidentlog.incident.services import ServiceStats
from incidentlog.schema import Category
from incidentlog.text import (
    Code,
    Prose,
    clock,
    format_duration,
    join_names,
    join_prose,
    plural,
)
from incidentlog.topology import ContainerConfig

__all__ = [
    "CATEGORY_PHRASES",
    "GENERAL_IMPROVEMENTS",
    "IMPROVEMENTS",
    "RESTARTS_LISTED",
    "Advice",
    "action_plan",
    "advice",
    "file_refs",
    "impact",
    "improvements",
    "ranking",
    "source_hint",
    "summary_line",
]

RESTARTS_LISTED: Final = 3
"""More restarts than this: the service "keeps crashing" (one timeline row for them all)."""
_FIX_ORDER: Final = ["rebuild-image", "change-code", "change-config", "restart", "investigate"]
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
    "crash-loop": "crash loops",
    "segfault": "segmentation faults",
    "resource-exhausted": "exhausted resources",
    "config-error": "configuration errors",
    "unhandled-exception": "unhandled exceptions",
}

IMPROVEMENTS: Final[Mapping[str, tuple[str, tuple[str, ...]]]] = {
    "missing-binary": (
        "Health checks that are tested",
        (
            "Run every service's health-check command against the built image in CI "
            "(`docker compose up --wait` fails when a service never becomes healthy).",
            "Prefer probes that need nothing extra in the image: an application-level "
            "`/health` endpoint checked with a tool the base image ships, or the app's own "
            "health subcommand.",
            "Give slow starters a `start_period` so a probe does not fail during warm-up.",
        ),
    ),
    "event-loop-conflict": (
        "Async start-up code that is checked",
        (
            "Lint for `asyncio.run()` / `uvicorn.run()` inside `async def` (e.g. flake8-async, "
            "ruff's `ASYNC` rules) and for coroutines that are never awaited "
            "(run tests with `-W error::RuntimeWarning`).",
            "Start each service once in CI and fail when it exits within the first minute.",
        ),
    ),
    "healthcheck-failed": (
        "A health-check dashboard and alerts",
        (
            "Alert on `health_status: unhealthy` events (and on services stuck in `starting`).",
            "Track the health-check success rate per service; make `/health` check the "
            "dependencies the service needs (database, cache) without failing on slow ones.",
        ),
    ),
    "crash-loop": (
        "Crash-loop detection",
        (
            "Alert when a container restarts more than a few times in ten minutes; "
            "`restart: always` hides a crash loop behind `Restarting (1)`.",
            "Cap retries (`restart: on-failure:5`) for services that cannot recover by restarting.",
        ),
    ),
    "oom-killed": (
        "Memory limits that fit the workload",
        (
            "Alert on `oom` events and exit code 137; chart memory use against `mem_limit`.",
            "Size limits from observed peaks, and cap per-query / per-worker memory "
            "(e.g. postgres `work_mem`) below the container limit.",
        ),
    ),
    "connection-refused": (
        "Dependencies that degrade gracefully",
        (
            "`depends_on: <service>: condition: service_healthy` for start-up order.",
            "Retries with backoff and a circuit breaker for calls to other services.",
        ),
    ),
    "dns-resolution": (
        "Configuration validated before deploy",
        (
            "Check in CI that every host name in configuration (`DATABASE_URL`, `PGHOST`, …) "
            "is a service of the compose file (`docker compose config --services`).",
        ),
    ),
    "config-error": (
        "Configuration validated before deploy",
        (
            "Validate required environment variables at start-up with one clear error, "
            "and check `env_file`s against a list of required keys in CI.",
        ),
    ),
    "timeout": (
        "Latency visibility",
        (
            "Measure response times of health endpoints and alert above 5 s.",
            "Set explicit client timeouts shorter than the caller's own deadline.",
        ),
    ),
}
GENERAL_IMPROVEMENTS: Final = (
    "Observability",
    (
        "Structured (JSON) logs across all services, so errors are counted by service and rule.",
        "Keep container logs and `docker events` beyond the containers' lifetime "
        "(`incidentlog collect` / `ingest` into the history store).",
    ),
)


# --------------------------------------------------------------------------- problem, cause, fix


@dataclass(frozen=True)
class Advice:
    problem: Prose
    root_cause: Prose
    fix: Prose
    kind: str
    """rebuild-image / change-code / change-config / restart / investigate."""


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
) -> Advice:
    """Problem, root cause and fix of a cause: the rule's text, made specific where we can."""
    primary, services, fields = cause.primary, cause.services, cause.primary.fields
    title = Prose.markup(primary.title)
    who = join_names(services)
    first_line = primary.evidence.strip().splitlines()[0] if primary.evidence.strip() else ""
    base = Advice(
        problem=Prose.of(title, f" ({who})"),
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
        return _missing_binary(base, services, fields["binary"], first_line, probe, configs)
    if category == Category.DNS_RESOLUTION.value:
        return _dns(base, who, fields["host"], known_services) if fields.get("host") else base
    if category == Category.EVENT_LOOP_CONFLICT.value and code is not None:
        found = _event_loop(base, code, title)
    elif category == Category.OOM_KILLED.value:
        found = replace(
            base,
            problem=Prose.of(f"{who} ran out of memory and was killed by the kernel OOM killer"),
        )
    else:
        found = base
    return replace(found, problem=_symptom_problem(found.problem, cause, stats, title))


def _symptom_problem(
    problem: Prose, cause: Cause, stats: Mapping[str, ServiceStats], title: Prose
) -> Prose:
    """The problem as its services show it: crashing, crash-looping or unhealthy."""
    own = {y.category for y in cause.symptoms if y.service in cause.services}
    who = join_names(cause.services)
    restarts = max((st.restarts for x in cause.services if (st := stats.get(x))), default=0)
    if Category.CRASH_LOOP.value in own and restarts > RESTARTS_LISTED:
        return Prose.of(f"{who} keeps crashing: ", title)
    if Category.CRASH_LOOP.value in own and restarts:
        return Prose.of(f"{who} crashed and restarted: ", title)
    if Category.CRASH_LOOP.value in own:
        return Prose.of(f"{who} exited: ", title)
    if Category.HEALTHCHECK_FAILED.value in own:
        return Prose.of(f"{who} unhealthy: ", title)
    return problem


def _missing_binary(
    base: Advice,
    services: list[str],
    binary: str,
    first_line: str,
    probe: bool,
    configs: Mapping[str, ContainerConfig],
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
    probes = sorted({c.healthcheck for s in services if (c := configs.get(s)) and c.healthcheck})
    shown = Prose.of(" (", Prose.join([Code(t) for t in probes], ", "), ")") if probes else Prose()
    fix, kind = _probe_fix(services, binary, configs)
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
        fix=fix,
        kind=kind,
    )


def _probe_fix(
    services: list[str], binary: str, configs: Mapping[str, ContainerConfig]
) -> tuple[Prose, str]:
    """Change the probe of an image built elsewhere; else add the binary to the image."""
    built = [configs[s].built_here for s in services if s in configs]
    if built and all(b is False for b in built):
        images = join_prose(
            [Code(c.image) for s in services if (c := configs.get(s)) is not None and c.image]
        )
        fix = Prose.of(
            "The image (",
            images,
            ") is not built here, so change the probe: ",
            Prose.markup(
                "use one the image ships, such as `nc -z localhost PORT` "
                '(`test: ["CMD-SHELL", "nc -z localhost PORT || exit 1"]`) or the '
                "application's own health command, in the service's `healthcheck:`."
            ),
        )
        return fix, "change-config"
    install = (
        Prose.of(
            " (",
            Code(f"RUN apk add --no-cache {binary}"),
            " on Alpine, ",
            Code(f"RUN apt-get update && apt-get install -y --no-install-recommends {binary}"),
            " on Debian)",
        )
        if re.fullmatch(r"[A-Za-z0-9._+-]+", binary)
        else Prose()
    )
    fix = Prose.of(
        "Add ",
        Code(binary),
        " to the image",
        install,
        " and rebuild; or switch the probe to a tool the image ships, such as ",
        Code("nc -z localhost PORT"),
        ".",
    )
    return fix, "rebuild-image"


def _event_loop(base: Advice, code: CodeFrame, title: Prose) -> Advice:
    """`asyncio.run()` / `uvicorn.run()` inside a running loop, at the line the traceback shows."""
    where = Code(f"{source_hint(code.file)}:{code.line}")
    src = code.code
    if "uvicorn.run(" in src:
        cause = Prose.of(
            where,
            " ",
            Prose.markup(
                "runs `await uvicorn.run(...)` inside an event loop that is already running: "
                "`uvicorn.run()` starts its own loop with `asyncio.run()`, which raises "
                "`RuntimeError: asyncio.run() cannot be called from a running event loop`, "
                "so the process exits (and the coroutine `Server.serve` is never awaited)."
            ),
        )
        fix = Prose.markup(
            "Start uvicorn inside the running loop: "
            "`server = uvicorn.Server(uvicorn.Config(app, host=..., port=...))`, "
            "then `await server.serve()`."
        )
    elif "asyncio.run(" in src:
        inner = re.sub(r"^.*?asyncio\.run\((.*)\)\s*$", r"\1", src)
        cause = Prose.of(
            where,
            " calls ",
            Code(src),
            " ",
            Prose.markup(
                "from code that already runs in an event loop; `asyncio.run()` refuses to "
                "start a second loop, so the call fails every time."
            ),
        )
        fix = Prose.of(
            Code("await " + inner),
            " instead of ",
            Code("asyncio.run(" + inner + ")"),
            " (the caller is already async), then restart the service.",
        )
    else:
        cause = Prose.of(where, ": ", Code(src), ": ", title, ".")
        fix = base.fix
    return replace(base, root_cause=cause, fix=fix, kind="change-code")


def _dns(base: Advice, who: str, host: str, known_services: set[str]) -> Advice:
    """A host name that does not resolve; named when it is not a service of the compose file."""
    found = replace(
        base,
        problem=Prose.of(f"{who} cannot resolve the host name ", Code(host)),
        kind="change-config",
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


# --------------------------------------------------------------------------- impact, rank, files


def impact(
    services: list[str], stats: Mapping[str, ServiceStats], symptoms: Sequence[Symptom]
) -> Prose:
    """What the cause did to its services (unhealthy, restarts, errors) and to others."""
    parts: list[str] = []
    for s in services:
        st = stats.get(s)
        if st is None:
            continue
        bits: list[str] = []
        if st.first_unhealthy is not None:
            if st.recovered_at is not None:
                bits.append(
                    f"unhealthy from {clock(st.first_unhealthy)} to {clock(st.recovered_at)}"
                )
            else:
                bits.append(
                    f"unhealthy from {clock(st.first_unhealthy)} to the end of the evidence "
                    f"({format_duration(st.unhealthy_seconds)})"
                )
        if st.restarts:
            bits.append(plural(st.restarts, "restart"))
        if st.errors:
            bits.append(plural(st.errors, "error record"))
        if st.state in ("restarting", "exited", "unhealthy"):
            bits.append(f"{st.state} at the end")
        if bits:
            parts.append(f"{s}: {', '.join(bits)}")
    others = sorted({y.service for y in symptoms if y.service not in services})
    if others:
        parts.append(f"downstream: {join_names(others)} affected")
    return Prose.of("; ".join(parts) + "." if parts else "No service was unhealthy or restarted.")


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
    elif kind == "change-config":
        hint = Prose.of("service configuration / environment")
        refs.append(FileRef("docker-compose.yml", hint, services, issue))
    return refs


# --------------------------------------------------------------------------- summary, plan


def summary_line(issues: Sequence[Issue]) -> Prose:
    """The root causes in one line: `Missing dependencies (`curl`, `wget`) and ...`."""
    if not issues:
        return Prose.of("No incident found: no failure signatures, every service healthy.")
    cats: dict[str, list[str]] = {}
    for i in issues:
        cats.setdefault(i.category, []).append(i.fields.get("binary") or join_names(i.services))
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


def _q(names: Iterable[str]) -> str:
    return " ".join(shlex.quote(n) for n in names)


def _fix_step(kind: str, group: Sequence[Issue]) -> ActionStep:
    """One step for the issues of one fix kind: what to change, then the commands to apply it."""
    services = sorted({s for i in group for s in i.services})
    q = _q(services)
    refs = ", ".join(f"#{i.id}" for i in group)
    if kind == "rebuild-image":
        what = Prose.join(
            [
                Prose.of(
                    "add ", Code(i.fields["binary"]), f" to the image of {join_names(i.services)}"
                )
                if i.fields.get("binary")
                else Prose.of(f"fix the image of {join_names(i.services)}")
                for i in group
            ],
            "; ",
        )
        title = Prose.of(f"Rebuild the images ({refs}): ", what, ", then recreate")
        return ActionStep(
            kind, title, services, [f"docker compose build {q}", f"docker compose up -d {q}"]
        )
    if kind == "change-code":
        commands = [
            f"docker compose build {q}",
            f"docker compose up -d {q}",
            "# when the code is mounted from the host instead of built into the image:",
            f"docker compose restart {q}",
        ]
        return ActionStep(
            kind, Prose.of(f"Fix the code ({refs}), rebuild and recreate"), services, commands
        )
    if kind == "change-config":
        title = Prose.of(
            f"Change the compose configuration ({refs}), then recreate "
            "(a restart does not apply compose changes)"
        )
        return ActionStep(kind, title, services, [f"docker compose up -d {q}"])
    if kind == "restart":
        return ActionStep(
            kind, Prose.of(f"Restart ({refs})"), services, [f"docker compose restart {q}"]
        )
    title = Prose.of(f"Investigate ({refs}): read the last lines before each failure")
    return ActionStep(kind, title, services, [f"docker compose logs --tail 100 {q}"])


def action_plan(issues: Sequence[Issue], states: Mapping[str, ServiceState]) -> list[ActionPhase]:
    """Fix and apply (a step per fix kind), verify, watch."""
    by_kind: dict[str, list[Issue]] = {}
    for i in issues:
        by_kind.setdefault(i.fix_kind, []).append(i)
    steps = [_fix_step(kind, by_kind[kind]) for kind in _FIX_ORDER if by_kind.get(kind)]
    verify_services = sorted({s for i in issues for s in i.services})
    verify = ["docker compose ps", f"docker compose logs -f --tail 20 {_q(verify_services)}"]
    probe_containers = sorted(
        {
            c
            for i in issues
            if i.category in ("missing-binary", "healthcheck-failed")
            or any(states[s].first_unhealthy for s in i.services if s in states)
            for c in i.containers
        }
    )
    verify.extend(
        f"docker inspect --format {shlex.quote('{{json .State.Health}}')} {shlex.quote(c)}"
        for c in probe_containers
    )
    watch = [
        "docker ps --filter health=unhealthy",
        "docker compose ps --status restarting",
        "docker compose logs --since 1h | grep -i error",
    ]
    verify_title = Prose.markup("Every service should be `Up (healthy)` and the errors gone")
    watch_title = Prose.of(
        "Until the next status update: unhealthy or restarting containers, new errors"
    )
    return [
        ActionPhase("Fix and apply", 15, steps),
        ActionPhase("Verify", 5, [ActionStep("verify", verify_title, verify_services, verify)]),
        ActionPhase("Watch", 30, [ActionStep("watch", watch_title, [], watch)]),
    ]


def improvements(issues: Sequence[Issue]) -> list[Improvement]:
    """Long-term work for the categories found (issues first, then their symptoms)."""
    cats = list(dict.fromkeys(i.category for i in issues))
    for i in issues:
        for y in i.symptoms:
            if y.category in IMPROVEMENTS and y.category not in cats:
                cats.append(y.category)
    out: dict[str, Improvement] = {}
    for cat in cats:
        if cat not in IMPROVEMENTS:
            continue
        title, items = IMPROVEMENTS[cat]
        if title in out:
            out[title].because.append(cat)
        else:
            out[title] = Improvement(title, [Prose.markup(x) for x in items], [cat])
    title, items = GENERAL_IMPROVEMENTS
    out[title] = Improvement(title, [Prose.markup(x) for x in items], [])
    return list(out.values())
