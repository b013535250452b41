"""Compose commands rewritten for a swarm stack (`docker stack deploy -c FILE STACK`).

A stack's logs come from `docker service logs` (`shop_web.1.k2x8j3mq0v1z@node-2 | …`):
its services are `<stack>_<service>` and `docker compose` does not reach them. The
report's commands are written for Compose v2 (the rules' texts too); each
`docker compose <verb> …` in a command is rewritten to what does the same to the
stack, verb by verb. A verb with no swarm counterpart is left as it is.

Names are shell-quoted where the command is built (`shlex.quote`); a rewrite reads
the words as the shell would (`shlex.split`) and quotes each again where it puts it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from typing import Final

__all__ = ["SWARM_CLI", "for_swarm", "is_swarm_task"]

SWARM_CLI: Final = "docker stack"
"""The `compose_cli` of a report on a swarm stack's logs."""
COMPOSE_FILE: Final = "docker-compose.yml"
"""The stack's compose file as the commands name it (the file `docker stack deploy -c` took)."""

_TASK: Final = re.compile(r"^[A-Za-z0-9][\w.-]*_[\w.-]+\.\d+$")
"""A swarm task as ingest keeps it: `<stack>_<service>.<slot>`."""
_COMPOSE: Final = re.compile(r"docker compose ((?:[^|;&)`\n])*)")
"""`docker compose` and its words, up to where the shell line goes on (a pipe, `;`,
`&&`, the end of a `$(…)`)."""
_VALUED: Final = frozenset({"--tail", "-n", "--since", "--until", "--progress", "--status"})
"""Options whose value is the next word."""


def is_swarm_task(container: str) -> bool:
    """`shop_web.1`: a task of a stack's service, as ingest keeps it."""
    return bool(_TASK.match(container))


def for_swarm(command: str, stack: str) -> str:
    """`command` with each `docker compose …` in it written for the stack `stack`."""
    return _COMPOSE.sub(lambda m: _rewrite(m.group(1), stack) + _trailing(m.group(1)), command)


def _trailing(words: str) -> str:
    return words[len(words.rstrip()) :]


def _rewrite(words: str, stack: str) -> str:
    try:
        tokens = shlex.split(words)
    except ValueError:  # (an unbalanced quote: not a command this can read)
        return "docker compose " + words.rstrip()
    if not tokens:
        return "docker compose"
    verb, rest = tokens[0], tokens[1:]
    options, services, tail = _split(verb, rest)
    rewrite = _VERBS.get(verb)
    if rewrite is None:
        return "docker compose " + words.rstrip()
    return rewrite(stack, options, services, tail)


def _split(verb: str, rest: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(options, services, the command after the service for exec and run)."""
    options: list[str] = []
    services: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-") and not services:
            options.append(word)
            if word in _VALUED and i + 1 < len(rest):
                options.append(rest[i + 1])
                i += 1
        elif verb in ("exec", "run") and services:
            return options, services, list(rest[i:])
        elif word.startswith("-"):
            options.append(word)
        else:
            services.append(word)
        i += 1
    return options, services, []


def _named(stack: str, service: str) -> str:
    """The swarm service of a compose service (`web` -> `shop_web`), quoted as needed."""
    return shlex.quote(stack + "_" + service)


def _each(stack: str, services: Sequence[str], command: Callable[[str], str]) -> str:
    return " && ".join(command(_named(stack, s)) for s in services)


def _ps(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    if services:  # (`-aq SVC` inside `$(…)`: the service's containers on this node)
        filters = " ".join(f"--filter name={_named(stack, s)}." for s in services)
        return f"docker ps {shlex.join(options) or '-q'} {filters}"
    if "--status" in options:  # (tasks the swarm shut down: failed ones show their error)
        return f"docker stack ps {shlex.quote(stack)} --no-trunc --filter desired-state=shutdown"
    return f"docker stack ps {shlex.quote(stack)}"


def _logs(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    kept = [o for o in options if o != "--no-color"]
    if len(services) == 1:
        return " ".join(
            ["docker service logs", *map(shlex.quote, kept), _named(stack, services[0])]
        )
    once = [o for o in kept if o not in ("-f", "--follow")]  # (a loop cannot follow each)
    targets = (
        " ".join(_named(stack, s) for s in services)
        if services
        else f"$(docker stack services -q {shlex.quote(stack)})"
    )
    inner = " ".join(["docker service logs", *map(shlex.quote, once), '"$s"'])
    return f"for s in {targets}; do {inner} 2>&1; done"


def _up(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    deploy = f"docker stack deploy -c {COMPOSE_FILE} {shlex.quote(stack)}"
    if "--force-recreate" in options and services:
        # (the file's changes deployed, then the tasks replaced: a change on the host too)
        forced = _each(stack, services, lambda s: f"docker service update --force {s}")
        return f"{deploy} && {forced}"
    return deploy


def _restart(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    if not services:
        return f"docker stack deploy -c {COMPOSE_FILE} {shlex.quote(stack)}"
    return _each(stack, services, lambda s: f"docker service update --force {s}")


def _build(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    # a stack runs images from a registry: build them, push them, then deploy
    named = shlex.join(services)
    build = " ".join(["docker compose build", shlex.join(options), named]).replace("  ", " ")
    return f"{build.rstrip()} && docker compose push {named}".rstrip()


def _pull(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    return f"docker stack deploy -c {COMPOSE_FILE} --resolve-image always {shlex.quote(stack)}"


def _exec(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    if not services:
        return "docker compose exec"
    flags = "" if "-T" in options else "-it"
    found = f"$(docker ps -q --filter name={_named(stack, services[0])}. | head -n 1)"
    return " ".join(w for w in ["docker exec", flags, found, shlex.join(tail)] if w)


def _config(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    if "--services" in options:
        return f"docker stack services {shlex.quote(stack)}"
    quiet = " > /dev/null" if "--quiet" in options or "-q" in options else ""
    return f"docker stack config -c {COMPOSE_FILE}{quiet}"


def _down(stack: str, options: list[str], services: list[str], tail: list[str]) -> str:
    down = f"docker stack rm {shlex.quote(stack)}"
    if "-v" in options or "--volumes" in options:
        label = shlex.quote(f"com.docker.stack.namespace={stack}")
        return f"{down} && docker volume rm $(docker volume ls -q --filter label={label})"
    return down


_VERBS: Final[dict[str, Callable[[str, list[str], list[str], list[str]], str]]] = {
    "ps": _ps,
    "logs": _logs,
    "up": _up,
    "restart": _restart,
    "build": _build,
    "pull": _pull,
    "exec": _exec,
    "run": _exec,
    "config": _config,
    "down": _down,
}
"""What each compose verb becomes for a stack (`run` starts a one-off container of the
service; a stack has none: the command runs in one of its running tasks instead)."""
