"""The action plan (fix and apply, verify, watch) and the long-term improvements.

Commands are shell lines with every service and container name shell-quoted
(`shlex.quote`): names come from logs and are untrusted. Branches and advice
that depend on how a container runs (a restart policy, code mounted from the
host, a `start_period`) appear only when the evidence shows it.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from incidentlog.incident.advice import oom_unconfirmed, pulled_disk_full
from incidentlog.incident.model import (
    ActionPhase,
    ActionStep,
    Improvement,
    Issue,
    ServiceState,
)
from incidentlog.incident.podman import PODMAN_CLI, for_podman, settings_for_podman
from incidentlog.incident.services import FAILED_STATES, REFUSED_REQUESTS, healthy_servers
from incidentlog.incident.swarm import SWARM_CLI, for_swarm, is_swarm_task
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.schema import Category
from incidentlog.text import Code, Prose, join_names, join_prose

__all__ = [
    "GENERAL_IMPROVEMENTS",
    "IMPROVEMENTS",
    "action_plan",
    "compose_cli",
    "compose_options",
    "for_cli",
    "improvements",
]

_FIX_ORDER: Final = [
    "change-host",
    "change-config",
    "change-code",
    "rebuild-image",
    "restart",
    "investigate",
]
"""The quickest fixes first: a compose change applies without a build. A change on the
Docker host comes before them: restarting the engine restarts every container."""

IMPROVEMENTS: Final[Mapping[str, tuple[str, tuple[str, ...]]]] = {
    "missing-binary": (
        "Health checks that are tested",
        (
            "Run every service's health-check command against the built image in CI "
            "(`docker compose up --wait` fails when a service never becomes healthy).",
            "Prefer probes that need nothing extra in the image: an application-level "
            "`/health` endpoint checked with a tool the base image ships, or the app's own "
            "health subcommand.",
        ),
    ),
    "missing-binary-at-start": (
        "Images that are started before deploy",
        (
            "Start every image once in CI (`docker compose up --wait` fails when a service "
            "exits or never becomes healthy): a missing executable, a shebang the base "
            "image lacks or a script saved with CRLF line endings (keep scripts LF with "
            "`*.sh text eol=lf` in `.gitattributes`) shows there, not on the server.",
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
            "Alert when a container restarts more than a few times in ten minutes.",
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
        ("Retries with backoff and a circuit breaker for calls to other services.",),
    ),
    "dns-resolution": (
        "Configuration validated before deploy",
        (
            "Check in CI that every host name in configuration (`DATABASE_URL`, `PGHOST`, …) "
            "is a service of the compose file (`docker compose config --services`).",
        ),
    ),
    "dns-resolution-external": (
        "Egress from containers that is watched",
        (
            "Check from a container, not only from the host, that the names the stack needs "
            "resolve (a scheduled `docker compose exec SERVICE getent hosts NAME`), and alert "
            "when they do not.",
            "Keep the engine's resolvers explicit (`dns` in `/etc/docker/daemon.json`) where "
            "the host's `/etc/resolv.conf` names only a local stub such as `127.0.0.53`.",
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


def _q(names: Iterable[str]) -> str:
    return " ".join(shlex.quote(n) for n in names)


def _mounted(services: Sequence[str], states: Mapping[str, ServiceState]) -> list[str]:
    """Services whose code may come from the host: a bind mount, or mounts the evidence does
    not show (inspect shows them; an empty list is no mount at all)."""
    return [
        s
        for s in services
        if (st := states.get(s)) is None
        or st.mounts is None
        or any(m.startswith("bind ") for m in st.mounts)
    ]


def _project_step(kind: str, group: Sequence[Issue]) -> ActionStep:
    """The step for compose's own failures (no service named: the project never
    started): the daemon brought up, or the compose file checked, then the whole
    project up."""
    refs = ", ".join(f"#{i.id}" for i in group)
    if kind == "restart":  # (the daemon unreachable: `docker.daemon-unreachable`)
        title = Prose.of(f"Bring the Docker daemon up ({refs}), then the project")
        commands = ["sudo systemctl start docker", "docker info", "docker compose up -d"]
        return ActionStep(kind, title, [COMPOSE_SERVICE], commands)
    title = Prose.of(f"After the change ({refs}), check the project and bring it up")
    commands = ["docker compose config --quiet", "docker compose up -d"]
    return ActionStep(kind, title, [COMPOSE_SERVICE], commands)


def _image_change(issue: Issue) -> Prose:
    """What to change in the image: a missing executable added; a script that is there but
    cannot be run (`exec /x.sh: no such file or directory`: its shebang's interpreter is
    missing, or its lines end in CRLF) checked, never "added"."""
    binary, where = issue.fields.get("binary"), join_names(issue.services)
    if any("exec-format" in rule for rule in issue.rules):
        return Prose.of(
            f"build or pull the image of {where} for this host's CPU (", Code("platform:"), ")"
        )
    if any("crlf" in rule for rule in issue.rules):  # (`binary` is the shebang's shell)
        return Prose.of(f"convert the scripts of {where} to LF line endings")
    if not binary:
        return Prose.of(f"fix the image of {where}")
    if binary.endswith((".sh", ".bash")):
        return Prose.of("fix ", Code(binary), f" in the image of {where} (shebang, line endings)")
    return Prose.of("add ", Code(binary), f" to the image of {where}")


def _fix_step(kind: str, group: Sequence[Issue], states: Mapping[str, ServiceState]) -> ActionStep:
    """One step for the issues of one fix kind: what to change, then the commands to apply it."""
    services = sorted({s for i in group for s in i.services})
    if services == [COMPOSE_SERVICE]:
        return _project_step(kind, group)
    q = _q(services)
    refs = ", ".join(f"#{i.id}" for i in group)
    if kind == "rebuild-image":
        what = Prose.join([_image_change(i) for i in group], "; ")
        title = Prose.of(f"Rebuild the images ({refs}): ", what, ", then recreate")
        return ActionStep(
            kind, title, services, [f"docker compose build {q}", f"docker compose up -d {q}"]
        )
    if kind == "change-code":
        commands = [f"docker compose build {q}", f"docker compose up -d {q}"]
        mounted = _mounted(services, states)
        if mounted:
            commands += [
                "# if the code is mounted from the host instead of built into the image:",
                f"docker compose restart {_q(mounted)}",
            ]
        return ActionStep(
            kind,
            Prose.of(f"After the code change ({refs}), rebuild and recreate"),
            services,
            commands,
        )
    if kind == "change-host":
        return _host_step(group, services)
    if kind == "change-config":
        # (not the healthy server that rejected a login: restarting it changes nothing)
        state_of = {name: st.state for name, st in states.items()}
        kept = {s for i in group for s in set(i.services) - healthy_servers(i, state_of)}
        services = sorted(kept) or services
        q = _q(services)
        # (`up -d` alone recreates only a service whose compose configuration changed: a
        # change on the host, a file in a bind mount, `sysctl`, ownership, would not apply)
        title = Prose.of(
            f"After the change ({refs}), recreate (",
            Code("--force-recreate"),
            " also applies a change made on the host, which ",
            Code("up -d"),
            " alone does not see)",
        )
        return ActionStep(kind, title, services, [f"docker compose up -d --force-recreate {q}"])
    if kind == "restart":
        return ActionStep(
            kind, Prose.of(f"Restart ({refs})"), services, [f"docker compose restart {q}"]
        )
    title = Prose.of(f"Investigate ({refs}): read the last lines before each failure")
    commands = [f"docker compose logs --tail 100 {q}"]
    categories = {i.category for i in group}
    for category, looks in _DIAGNOSTICS.items():
        if category in categories:
            commands += looks
    down = [s for s in services if (st := states.get(s)) is None or st.needs_attention]
    if down:
        commands += ["# once the cause is fixed:", f"docker compose up -d {_q(down)}"]
    return ActionStep(kind, title, services, commands)


_DATA_DIRS: Final = (
    "/var/lib/postgresql/data",
    "/var/lib/postgresql",
    "/var/lib/mysql",
    "/data/db",
    "/bitnami/postgresql",
    "/bitnami/mysql",
)
"""Where the official database images keep their data (the volume an init script fills)."""

_ACME_RULES: Final = frozenset({"network.acme-issuance", "network.acme-rate-limited"})
"""Certificates a proxy could not get: the fix is DNS, ports or waiting, not the proxy."""

_MOUNTS_FORMAT: Final = (
    "{{range .Mounts}}{{.Type}} {{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}}"
    " -> {{.Destination}}{{println}}{{end}}"
)


def _own_step(
    issue: Issue,
    states: Mapping[str, ServiceState],
    volumes: Mapping[str, Sequence[str]],
    project: str | None,
) -> ActionStep | None:
    """A step of its own for an issue whose fix a recreate would not apply (an init script
    that ran once, a certificate the CA refused, a database the server was only asked
    for); None for the others, which the step of their fix kind applies."""
    if any("init-script" in r for r in issue.rules):
        return _init_volume_step(issue, states, volumes, project)
    if _ACME_RULES.intersection(issue.rules):
        return _acme_step(issue)
    if REFUSED_REQUESTS.intersection(issue.rules):
        return _create_database_step(issue, states)
    matched = [(e.container, "\n".join(x.text for x in e.lines if x.match)) for e in issue.evidence]
    if pulled_disk_full(issue.category, matched):
        return _pull_again_step(issue)
    if oom_unconfirmed(issue):
        return _confirm_oom_step(issue)
    return None


def _stack_services(issue: Issue) -> list[str]:
    """The issue's services, without compose's own name (a finding about no service)."""
    return [s for s in issue.services if s != COMPOSE_SERVICE]


def _confirm_oom_step(issue: Issue) -> ActionStep:
    """A kill only a supervisor reported (`advice.oom_unconfirmed`): confirm the OOM kill
    first; the memory limit is raised and the service recreated only if it was one."""
    services = _stack_services(issue)
    q = _q(services)
    title = Prose.of(
        f"Confirm the OOM kill first (#{issue.id}); only if it was one, raise the memory"
        f" limit of {join_names(services)} and recreate"
    )
    commands = [
        f"docker inspect --format '{{{{.Name}}}} {{{{.State.OOMKilled}}}}' $(docker compose ps -aq {q})",
        "dmesg -T | grep -i -E 'out of memory|killed process'",
        "# if it was an OOM kill, after raising mem_limit (or deploy.resources.limits.memory):",
        f"docker compose up -d --force-recreate {q}",
    ]
    return ActionStep(issue.fix_kind, title, services, commands)


def _pull_again_step(issue: Issue) -> ActionStep:
    """A full disk while compose pulled an image (`advice.pulled_disk_full`): Docker's data
    root freed (images and build cache; not `docker system prune`, which also deletes
    stopped containers), then the image pulled again and the service created."""
    services = _stack_services(issue)
    q = _q(services)
    title = Prose.of(
        f"Free Docker's data root (#{issue.id}), then pull the image of"
        f" {join_names(services) or 'the project'} again"
    )
    commands = [
        "docker system df",
        "df -h /var/lib/docker",
        "# unused images and build cache (not `docker system prune`: it also deletes stopped"
        " containers)",
        "docker image prune",
        "docker builder prune",
        f"docker compose pull {q}".rstrip(),
        f"docker compose up -d {q}".rstrip(),
    ]
    return ActionStep(issue.fix_kind, title, services or [COMPOSE_SERVICE], commands)


def _data_mount(
    service: str, states: Mapping[str, ServiceState], volumes: Mapping[str, Sequence[str]]
) -> tuple[str, str, bool] | None:
    """(type, source, from inspect) of the mount over the service's data directory:
    inspect's mounts (full volume names) first, then the compose file's (keys)."""
    st = states.get(service)
    seen = [(m, True) for m in (st.mounts or [] if st else [])]
    seen += [(m, False) for m in volumes.get(service, ())]
    for mount, inspected in seen:
        kind, _, rest = mount.partition(" ")
        source, _, dest = rest.partition(" -> ")
        if dest.rstrip("/") in _DATA_DIRS and source:
            return kind, source, inspected
    return None


def _init_volume_step(
    issue: Issue,
    states: Mapping[str, ServiceState],
    volumes: Mapping[str, Sequence[str]],
    project: str | None,
) -> ActionStep | None:
    """A database's init scripts run only on an empty data directory: after fixing the
    script, that one volume goes (named when the evidence names it, else found from the
    container's mounts), never every volume of the project (`down -v`)."""
    services = _stack_services(issue)
    if len(services) != 1:
        return None
    service = services[0]
    q = shlex.quote(service)
    refs = f"#{issue.id}"
    commands = [
        f"# fix the script first; this deletes the data of {service} (not `down -v`, which "
        "deletes every volume of the project)",
        f"docker compose rm --stop --force {q}",
    ]
    mount = _data_mount(service, states, volumes)
    what = "its data volume"
    if mount is None:
        listed = (
            f"docker volume ls --filter label=com.docker.compose.project={shlex.quote(project)}"
            if project
            else "docker volume ls"
        )
        commands[1:1] = [
            f"# which volume holds the data of {service}:",
            f"docker inspect --format {shlex.quote(_MOUNTS_FORMAT)} $(docker compose ps -aq {q})",
            listed,
        ]
        commands += ["docker volume rm VOLUME"]
    elif mount[0] == "bind":
        what = f"its data folder {mount[1]}"
        source = shlex.quote(mount[1])
        commands += [
            "# the data is a host folder: move it aside (delete it once the new start works)",
            f"sudo mv {source} {shlex.quote(mount[1].rstrip('/') + '.failed-init')}",
        ]
    elif mount[0] == "volume":
        name = mount[1] if mount[2] or not project else f"{project}_{mount[1]}"
        what = f"its data volume {name}"
        if not mount[2]:
            label = f"label=com.docker.compose.volume={mount[1]}"
            scope = f" --filter label=com.docker.compose.project={project}" if project else ""
            commands += [
                "# the volume compose made for it (a `name:` in the file changes the name):",
                f"docker volume ls --filter {shlex.quote(label)}{scope}",
            ]
        commands += [f"docker volume rm {shlex.quote(name)}"]
    else:
        commands[1] = f"docker compose rm --stop --force --volumes {q}"
    commands += [f"docker compose up -d {q}"]
    title = Prose.of(
        f"After fixing the init script ({refs}), remove {service} and {what}, so the scripts "
        "run again on an empty one (",
        Code("up -d --force-recreate"),
        " keeps the volume, and the scripts are skipped)",
    )
    return ActionStep("change-config", title, [service], commands)


def _acme_step(issue: Issue) -> ActionStep:
    """The CA refused a certificate: the name's DNS, the open ports or the CA's rate limit
    are the fix; recreating the proxy asks again and can spend the rate limit."""
    refs = f"#{issue.id}"
    services = _stack_services(issue)
    host = issue.fields.get("host")
    name = shlex.quote(host) if host else "DOMAIN"
    if "network.acme-rate-limited" in issue.rules:
        title = Prose.of(
            f"Wait out the CA's rate limit ({refs}) with the certificate storage on a volume; "
            "do not recreate ",
            join_names(services),
            " meanwhile: every new start asks again",
        )
        commands = [
            "# the time the CA allows the next order (in its error):",
            f"docker compose logs {_q(services)} | grep -i ratelimited | tail -n 1",
            "# after that time, with the storage on a named volume:",
            f"docker compose restart {_q(services)}",
        ]
        return ActionStep("change-config", title, services, commands)
    title = Prose.of(
        f"Make {host or 'the domain'} reach this host ({refs}): its DNS record and ports 80/443;"
        " the proxy is fine, restart it once to ask again"
    )
    commands = [
        "# the address the name resolves to (it must be this host's public one):",
        f"nslookup {name}",
        "# once they match and ports 80/443 are forwarded here:",
        f"docker compose restart {_q(services)}",
    ]
    return ActionStep("change-config", title, services, commands)


_CREATEDB: Final = re.compile(
    r"^(?:docker compose|docker-compose|podman-compose) exec (?P<server>[^\s<]+) createdb\b"
)


def _create_database_step(issue: Issue, states: Mapping[str, ServiceState]) -> ActionStep | None:
    """A server that only refused a database name (and logged it as its client did) is not
    recreated: recreating it does not create the database. The database is created in the
    server the advice names, and the clients that exited are started again."""
    servers = [
        m.group("server")
        for seg in issue.fix.segments
        if isinstance(seg, Code) and (m := _CREATEDB.match(seg.text))
    ]
    database = issue.fields.get("database")
    if not servers or not database:
        return None
    server = servers[0]
    st = states.get(server)
    if st is not None and st.state in FAILED_STATES:
        return None
    create = shlex.quote(f'createdb -U "${{POSTGRES_USER:-postgres}}" {shlex.quote(database)}')
    commands = [f"docker compose exec {shlex.quote(server)} sh -c {create}"]
    down = [
        s
        for s in issue.services
        if s != server and (c := states.get(s)) is not None and c.state in FAILED_STATES
    ]
    if down:  # (recreated: the other fix is their configuration, naming a database that exists)
        commands += [
            f"# then (or after pointing {join_names(down)} at a database that exists):",
            f"docker compose up -d --force-recreate {_q(down)}",
        ]
    title = Prose.of(
        f"Create database {database} in {server} (#{issue.id}): the server is up and only"
        " refused the name; recreating it would not create it"
    )
    return ActionStep("change-config", title, [server, *down], commands)


_HOST_CHECKED: Final = 3
"""Services whose own lookup the plan checks at most (one is enough to compare)."""


def _host_step(group: Sequence[Issue], services: Sequence[str]) -> ActionStep:
    """A change on the Docker host (its DNS or egress for containers, `advice._external_dns`):
    the failing name looked up from the containers and from the host, the engine's settings
    read, then the engine restarted once they are fixed. No service's configuration changes,
    so recreating one alone would fix nothing."""
    refs = ", ".join(f"#{i.id}" for i in group)
    names = list(dict.fromkeys(h for i in group if (h := i.fields.get("host"))))
    name = shlex.quote(names[0]) if names else "NAME"
    commands = [
        "# does the host resolve it, and do the containers? (nslookup where getent is missing)",
        f"getent hosts {name}",
        *(f"docker compose exec {_q([s])} getent hosts {name}" for s in services[:_HOST_CHECKED]),
        f"docker run --rm busybox nslookup {name}",
        "# the engine's DNS and iptables settings, and the resolvers it inherits:",
        "cat /etc/docker/daemon.json /etc/resolv.conf",
        '# after fixing them ("dns", no "iptables": false), the firewall or the proxy:',
        "sudo systemctl restart docker",
        f"docker compose up -d {_q(services)}",
    ]
    title = Prose.of(
        f"On the Docker host ({refs}): find where containers lose DNS or egress, fix it there,"
        " then restart the engine"
    )
    return ActionStep("change-host", title, list(services), commands)


_DIAGNOSTICS: Final = {
    Category.DISK_FULL.value: ["docker system df", "df -h /var/lib/docker"],
    Category.OOM_KILLED.value: ["docker stats --no-stream"],
    Category.RESOURCE_EXHAUSTED.value: ["docker stats --no-stream"],
}
"""What to look at besides the logs, per category of an issue to investigate."""


_DOWN: Final = frozenset({"exited", "created", "dead"})
"""States of a dependant that fixing its upstream does not bring back."""


def _start_step(
    issues: Sequence[Issue], fixed: set[str], states: Mapping[str, ServiceState]
) -> ActionStep | None:
    """Dependants that never started, or that exited and stayed down: `up -d` them once
    what they wait for is fixed (a worker that gave up on its broker does not retry)."""
    waiting = sorted(
        {y.service for i in issues for y in i.symptoms if y.category == "not-started"} - fixed
    )
    gave_up = sorted(
        {
            y.service
            for i in issues
            for y in i.symptoms
            if (st := states.get(y.service)) is not None and st.state in _DOWN
        }
        - fixed
        - set(waiting)
    )
    if gave_up and not waiting:
        title = Prose.of(
            f"Then start {join_names(gave_up)} again: "
            + ("it exited" if len(gave_up) == 1 else "they exited")
            + " while "
            + join_names(sorted({s for i in issues for s in i.services}))
            + " failed, and stayed down"
        )
        return ActionStep("start", title, gave_up, [f"docker compose up -d {_q(gave_up)}"])
    if not waiting:
        return None
    ups = sorted(
        {
            y.via.removeprefix("depends_on ")
            for i in issues
            for y in i.symptoms
            if y.service in waiting
        }
    )
    they = "it waits" if len(waiting) == 1 else "they wait"
    title = Prose.of(
        f"Then start {join_names(waiting)}, which never started ({they} for {join_names(ups)})",
        f", and {join_names(gave_up)} again, which exited" if gave_up else "",
    )
    both = waiting + gave_up
    return ActionStep("start", title, both, [f"docker compose up -d {_q(both)}"])


def action_plan(
    issues: Sequence[Issue],
    states: Mapping[str, ServiceState],
    cli: str = "docker compose",
    stack: str | None = None,
    printed: Mapping[str, str] | None = None,
    options: str = "",
    volumes: Mapping[str, Sequence[str]] | None = None,
    project: str | None = None,
) -> list[ActionPhase]:
    """Fix and apply (a step per fix kind, quickest first), verify, watch; the compose
    commands written for `cli` (`docker-compose` for Compose v1's logs, `docker stack`
    for the swarm stack `stack`'s, `podman-compose` for a stack podman runs), with the
    global `options` the user's own commands gave (`compose_options`). `volumes` are the
    compose file's mounts per service (`volume KEY -> /dest`), `project` the compose
    project: they name a data volume the plan removes."""
    phases = _phases(issues, states, volumes, project)
    if cli == "docker compose" and not printed and not options:
        return phases
    return [
        replace(
            phase,
            steps=[
                replace(
                    step,
                    commands=[for_cli(c, cli, stack, printed, options) for c in step.commands],
                )
                for step in phase.steps
            ],
        )
        for phase in phases
    ]


SERVICE_OF: Final = (
    "$(docker inspect -f '{{{{index .Config.Labels \"com.docker.compose.service\"}}}}' {})"
)
"""The compose service of a container, as the engine labels it."""


def for_cli(
    command: str,
    cli: str,
    stack: str | None = None,
    printed: Mapping[str, str] | None = None,
    options: str = "",
) -> str:
    """`command` for `cli` (also inside `$(…)`); for v1, without the options only v2 has;
    for a swarm stack, the stack's commands (`incidentlog.incident.swarm`). `printed`:
    services known only by a container name kept as printed (a `container_name:` such as
    `immich_server` for the service `immich-server`) -> that container: the command asks
    the engine for its service. `options`: global options every compose command gets
    (`-f docker-compose.ci.yml`; shell words already)."""
    if options and cli != SWARM_CLI:
        command = command.replace("docker compose ", f"docker compose {options} ")
    if cli == PODMAN_CLI:
        command = for_cli(command, "docker compose", stack, printed)
        return for_podman(command)
    if "docker compose " not in command:
        return command
    for service, container in (printed or {}).items():
        asked = SERVICE_OF.format(container).replace("\\", "\\\\")  # (a literal replacement)
        command = re.sub(rf"(?<=[\s(]){re.escape(service)}(?=[\s)]|$)", asked, command)
    if cli == "docker compose":
        return command
    if cli == SWARM_CLI:
        return for_swarm(command, stack or "STACK")
    command = command.replace("docker compose ", cli + " ")
    if cli == "docker-compose":
        for v2, v1 in _V2_ONLY:
            command = command.replace(v2, v1)
    return command


_V2_ONLY: Final = (
    ("ps --status restarting", "ps --filter status=restarting"),
    ("logs --since 1h", "logs --tail 1000"),
)
"""Options docker-compose v1 lacks, and what it takes instead."""


_TARGETING: Final = frozenset(
    {"-f", "--file", "-p", "--project-name", "--env-file", "--profile", "--project-directory"}
)
"""Compose's global options that choose which stack a command reaches."""
_OTHER_GLOBAL: Final = frozenset({"--ansi", "--progress", "--parallel"})
_PLAIN_VALUE: Final = re.compile(r"[\w./@:+,=~-]{1,200}")
"""An option value printed again as it was pasted: a path or a name, nothing a shell or
Markdown reads."""
_OTHER_GLOBAL_FLAGS: Final = frozenset({"--compatibility", "--dry-run", "--all-resources"})


def compose_options(commands: Iterable[str]) -> str:
    """The global options that choose the stack (`-f docker-compose.ci.yml`, `-p shop`)
    every compose command of a pasted session gave alike, as shell words: the plan's
    commands need them to reach the same stack. '' when the commands give none, differ,
    or give options this does not know (nothing from a pasted command is printed but
    these options' values, plain paths and names only)."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    for command in commands:
        words = _compose_words(command)
        if words is None:
            continue
        given = _stack_options(words)
        if given is None:
            return ""
        seen.add(given)
    if len(seen) != 1:
        return ""
    return " ".join(f"{name} {value}" for name, value in next(iter(seen)))


def _compose_words(command: str) -> list[str] | None:
    """The words after `docker compose` / `docker-compose` / `podman-compose` (None: no
    compose command, or not one shell words can read)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    words = words[1:] if words[:1] == ["sudo"] else words
    if words[:2] == ["docker", "compose"]:
        return words[2:]
    if words[:1] in (["docker-compose"], ["podman-compose"]):
        return words[1:]
    return None


def _stack_options(words: list[str]) -> tuple[tuple[str, str], ...] | None:
    """The stack-choosing options before the subcommand (None: an option not known)."""
    given: list[tuple[str, str]] = []
    rest = list(words)
    while rest and rest[0].startswith("-"):
        name, equals, value = rest.pop(0).partition("=")
        if name in _OTHER_GLOBAL_FLAGS:
            continue
        if name not in _TARGETING and name not in _OTHER_GLOBAL:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if name in _TARGETING:
            if not _PLAIN_VALUE.fullmatch(value):  # (pasted text: no quotes, no markup)
                return None
            given.append((name, value))
    return tuple(given)


def compose_cli(
    containers: Iterable[str], *, podman: bool = False, mentioned: Iterable[str] = ()
) -> str:
    """`podman-compose` when the evidence shows podman-compose ran the stack (`podman`),
    `docker-compose` when every container name printed is Compose v1's (`web_1`,
    `shop_web_1`), `docker stack` when each is a swarm task (`shop_web.1`), else
    `docker compose`. With no container's own line, the names compose's own lines
    `mentioned` decide (v1's `Recreating shop_web_1 ... error`)."""
    if podman:
        return PODMAN_CLI
    names = [c for c in containers if c and c != COMPOSE_SERVICE] or list(mentioned)
    if names and all(is_swarm_task(c) for c in names):
        return SWARM_CLI
    v1 = [c for c in names if re.search(r"_\d+$", c)]
    return "docker-compose" if names and len(v1) == len(names) else "docker compose"


def _phases(
    issues: Sequence[Issue],
    states: Mapping[str, ServiceState],
    volumes: Mapping[str, Sequence[str]] | None = None,
    project: str | None = None,
) -> list[ActionPhase]:
    by_kind: dict[str, list[Issue]] = {}
    own: dict[str, list[ActionStep]] = {}
    for i in issues:
        step = _own_step(i, states, volumes or {}, project)
        if step is not None:
            own.setdefault(i.fix_kind, []).append(step)
        else:
            by_kind.setdefault(i.fix_kind, []).append(i)
    steps = [
        step
        for kind in _FIX_ORDER
        for step in ([_fix_step(kind, by_kind[kind], states)] if by_kind.get(kind) else [])
        + own.get(kind, [])
    ]
    fixed = {s for i in issues for s in i.services}
    start = _start_step(issues, fixed, states)
    if start is not None:
        steps.append(start)
    verify_services = sorted(fixed | {s for st in steps for s in st.services})
    named = [s for s in verify_services if s != COMPOSE_SERVICE]
    verify = ["docker compose ps", f"docker compose logs -f --tail 20 {_q(named)}".rstrip()]
    probed = sorted(
        {
            s
            for i in issues
            if i.category in ("missing-binary", "healthcheck-failed")
            or any(states[s].first_unhealthy for s in i.services if s in states)
            for s in i.services
            if s != COMPOSE_SERVICE
        }
    )
    if probed:  # (by service: the printed names may lack the project, `api-1` for shop-api-1)
        verify.append(
            f"docker inspect --format {shlex.quote('{{.Name}} {{json .State.Health}}')} "
            f"$(docker compose ps -aq {_q(probed)})"
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


def improvements(
    issues: Sequence[Issue], states: Sequence[ServiceState], *, podman: bool = False
) -> list[Improvement]:
    """Long-term work for the categories found (issues first, then their symptoms), with
    what the evidence says about restart policies and `start_period` (crash-loop advice only
    when something was restarted); for a stack podman runs, worded for podman as the plan's
    commands are (`podman events`, not `docker events`)."""
    markup = settings_for_podman if podman else str
    cats = list(dict.fromkeys(i.category for i in issues))
    for i in issues:
        for y in i.symptoms:
            if y.category in IMPROVEMENTS and y.category not in cats:
                cats.append(y.category)
    out: dict[str, Improvement] = {}
    slow = _start_period_items(states)
    restarted = any(s.restarts for s in states)
    unhealthy = {s.name for s in states if s.first_unhealthy is not None}
    probed = any(set(i.services) & unhealthy for i in issues if i.category == "missing-binary")
    for cat in cats:
        if cat not in IMPROVEMENTS or (cat == "crash-loop" and not restarted):
            continue
        # (a missing executable a health check needed, or one the container starts with)
        key = "missing-binary-at-start" if cat == "missing-binary" and not probed else cat
        if cat == "dns-resolution" and all(
            i.fix_kind == "change-host" for i in issues if i.category == cat
        ):  # (names of the internet only: no compose name to validate)
            key = "dns-resolution-external"
        title, items = IMPROVEMENTS[key]
        if title in out:
            out[title].because.append(cat)
            continue
        extra = _restart_policy_items(states) if cat == "crash-loop" else []
        if cat == "connection-refused":
            extra = _dependency_items(issues)
        if cat in ("missing-binary", "healthcheck-failed"):
            extra, slow = slow, []
        out[title] = Improvement(title, [Prose.markup(markup(x)) for x in items] + extra, [cat])
    title, items = GENERAL_IMPROVEMENTS
    out[title] = Improvement(title, [Prose.markup(markup(x)) for x in items], [])
    if podman:
        return [replace(x, items=[p.with_code(for_podman) for p in x.items]) for x in out.values()]
    return list(out.values())


def _dependency_items(issues: Sequence[Issue]) -> list[Prose]:
    """Start-up order on the services others failed to reach (named, never a placeholder)."""
    upstream = sorted(
        {
            s
            for i in issues
            if any(y.service not in i.services for y in i.symptoms)
            for s in i.services
        }
    )
    if not upstream:
        return [Prose.markup("`depends_on` with `condition: service_healthy` for start-up order.")]
    conditions = ", ".join(f"{s}: {{condition: service_healthy}}" for s in upstream)
    return [
        Prose.of(
            "Start the services that use ",
            join_names(upstream),
            " only once " + ("it is" if len(upstream) == 1 else "they are") + " healthy (",
            Code(f"depends_on: {{{conditions}}}"),
            ").",
        )
    ]


def _restart_policy_items(states: Sequence[ServiceState]) -> list[Prose]:
    """The restart policy a crash loop ran under, as inspect or the compose file shows it."""
    looping = [s for s in states if s.exits > 1 and s.restarts and s.restart_policy]
    policies = sorted({s.restart_policy for s in looping if s.restart_policy})
    if not policies:
        return []
    said = join_prose([Code(f"restart: {p}") for p in policies])
    return [
        Prose.of(
            f"{join_names([s.name for s in looping])} ran under ",
            said,
            ", which restarts after every crash without a limit; ",
            Code("docker compose ps"),
            " shows that only as ",
            Code("Restarting"),
            ".",
        )
    ]


def _start_period_items(states: Sequence[ServiceState]) -> list[Prose]:
    """A `start_period` for services whose health check failed while they started up and
    that were healthy again later (the check flagged a slow start, not a failure)."""
    slow = [
        s
        for s in states
        if s.transient
        and s.recovered_at is not None
        and s.started_at is not None
        and s.probe is not None
        and not s.probe.start_period_seconds
    ]
    if not slow:
        return []
    items = []
    for s in slow:
        assert s.recovered_at is not None and s.started_at is not None
        took = (s.recovered_at - s.started_at).total_seconds()
        period = max(30, math.ceil(took / 30) * 30)
        items.append(
            Prose.of(
                f"{s.name} failed its health check while it started and was healthy "
                f"{round(took)} s after its start: ",
                Code(f"start_period: {period}s"),
                " lets a slow start pass without counting failures.",
            )
        )
    return items
