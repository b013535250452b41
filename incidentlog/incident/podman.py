"""Commands rewritten for a stack podman-compose runs.

podman-compose echoes what it runs (`podman start -a shop_web_1`, `['podman', 'network',
'exists', …]`) and the code each returned (`exit code: 1`): those lines in the evidence
say the stack is podman's, where `docker` is not installed (or is podman's shim without
the compose plugin). The report's commands are written for Compose v2 (the rules' texts
too); each `docker compose <verb> …` becomes `podman-compose <verb> …` (its options
where podman-compose lacks Compose v2's), and every other `docker …` command `podman …`,
which takes the same words (`ps`, `inspect`, `logs`, `events`, `stats`, `system df`).

Names are shell-quoted where the command is built (`shlex.quote`); a rewrite reads the
words as the shell would (`shlex.split`) and quotes each again where it puts it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Final

import polars as pl

from incidentlog.ingest.compose import COMPOSE_SERVICE, PODMAN_ECHO

__all__ = ["PODMAN_CLI", "for_podman", "runs_podman", "settings_for_podman"]

PODMAN_CLI: Final = "podman-compose"
"""The `compose_cli` of a report on a stack podman-compose runs."""

_SAYS_PODMAN: Final = "^(?:" + PODMAN_ECHO + r"|exit code: -?\d+\s*$)|\(podman-compose: exit code"
"""podman-compose's own lines, as ingest keeps them (records of `compose`)."""
_COMPOSE: Final = re.compile(r"docker compose ((?:[^|;&)`\n])*)")
"""`docker compose` and its words, up to where the shell line goes on (a pipe, `;`,
`&&`, the end of a `$(…)`)."""
_DOCKER: Final = re.compile(r"(?<![\w.-])docker (?=[a-z])")
"""The docker CLI run with a verb (`docker ps`, `docker inspect`), not `docker.io/…`."""
_DROPPED: Final = {"exec": {"-T"}, "build": {"--progress"}}
"""Options podman-compose does not take (exec never allocates a terminal for a pipe; a
build prints podman's own progress); `--progress` takes a value, dropped with it."""
_VALUED: Final = frozenset({"--progress"})
_SERVICE_LABEL: Final = "com.docker.compose.service"
"""The label podman-compose gives a container of a service, as Compose does."""
_RESTARTS: Final = (
    "podman ps -a --filter label=io.podman.compose.project "
    "--format '{{.Names}} {{.Status}} restarts={{.Restarts}}'"
)
"""What `docker compose ps --status restarting` asks, as podman tells it: each container's
state and how often it was restarted (podman-compose's `ps` takes no filter)."""


def runs_podman(logs: pl.DataFrame, commands: Iterable[str] = ()) -> bool:
    """Whether the evidence holds podman-compose's own lines (its banners, the podman
    commands it echoes, the codes they returned), or comes from a pasted session whose
    commands ran podman (`podman-compose logs api`, `sudo podman ps`) and never docker."""
    ran = {w for c in commands for w in c.split()[:3] if w in ("docker", "docker-compose")}
    podman = {w for c in commands for w in c.split()[:3] if w in ("podman", "podman-compose")}
    if podman and not ran:
        return True
    if logs.is_empty():
        return False
    own = logs.filter(pl.col("container") == COMPOSE_SERVICE)
    return bool(own.select(pl.col("message").str.contains(_SAYS_PODMAN).any()).item())


def for_podman(command: str) -> str:
    """`command` with each `docker compose …` written for podman-compose, and each other
    `docker …` for podman."""
    rewritten = _COMPOSE.sub(lambda m: _rewrite(m.group(1)) + _trailing(m.group(1)), command)
    return _DOCKER.sub("podman ", rewritten)


def _trailing(words: str) -> str:
    return words[len(words.rstrip()) :]


def _rewrite(words: str) -> str:
    try:
        tokens = shlex.split(words)
    except ValueError:  # (an unbalanced quote: not a command this can read)
        return "podman-compose " + words.rstrip()
    if not tokens:
        return "podman-compose"
    verb, rest = tokens[0], tokens[1:]
    if verb == "ps":
        return _ps(rest)
    dropped = _DROPPED.get(verb, set())
    kept: list[str] = []
    skip = False
    for word in rest:
        if skip:
            skip = False
        elif word in dropped:
            skip = word in _VALUED
        else:
            kept.append(word)
    return shlex.join(["podman-compose", verb, *kept])


def _ps(rest: list[str]) -> str:
    """podman-compose's `ps` takes `-q` only: a service's containers and the restarting
    ones are asked of podman by label."""
    if "--status" in rest:
        return _RESTARTS
    options = [w for w in rest if w.startswith("-")]
    services = [w for w in rest if not w.startswith("-")]
    if not services:
        return "podman-compose ps" + (" -q" if any("q" in o for o in options) else "")
    flags = "-aq" if any("a" in o for o in options) else "-q"
    if len(services) == 1:
        return f"podman ps {flags} --filter label={_SERVICE_LABEL}={shlex.quote(services[0])}"
    each = f'podman ps {flags} --filter label={_SERVICE_LABEL}="$s"'
    return f"for s in {shlex.join(services)}; do {each}; done"


_PODMAN_SETTINGS: Final = (
    ("`dns` in `/etc/docker/daemon.json`", "`dns_servers` in `containers.conf`"),
    ("the engine's resolvers", "podman's resolvers"),
)
"""Docker's settings named in the report's prose, as podman has them."""


def settings_for_podman(markup: str) -> str:
    """A prose text naming Docker's own settings (`/etc/docker/daemon.json`) with podman's
    instead; its commands are rewritten with the rest (`for_podman` on each code span)."""
    for docker, podman in _PODMAN_SETTINGS:
        markup = markup.replace(docker, podman)
    return markup
