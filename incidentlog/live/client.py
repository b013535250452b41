"""Reach the Docker Engine through the `docker` SDK, with one-line errors.

The engine is the one the docker CLI would use: `--docker-host`, else
`$DOCKER_HOST` (with the TLS variables), else the docker context named by
`$DOCKER_CONTEXT` or the config's `currentContext` (`docker context use`;
the config folder is `$DOCKER_CONFIG` or `~/.docker`), else the local socket.
`ssh://` hosts go through the `ssh` client, as the CLI does. Every failure to
reach or use the engine becomes an `EngineError` that says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from incidentlog.errors import EngineError

DEFAULT_HOST = "unix:///var/run/docker.sock"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass
class Engine:
    """A connected engine: the SDK client, its address and the daemon's name."""

    client: Any
    """`docker.DockerClient` (the SDK is untyped)."""
    host: str
    name: str
    """The daemon's host name (`docker info` Name): the `host` column of what it says."""

    @property
    def api(self) -> Any:
        return self.client.api

    def close(self) -> None:
        # closing a broken connection must not mask why it broke
        with contextlib.suppress(Exception):
            self.client.close()


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is, and how to reach it (TLS from a context, when it has one)."""

    host: str
    tls: Any = None
    """`docker.tls.TLSConfig` of a context, or None (the SDK is untyped)."""
    context: str | None = None
    """The docker context it came from (None: a flag, $DOCKER_HOST or the default)."""


def _context_endpoint(name: str) -> Endpoint:
    from docker.context import ContextAPI
    from docker.errors import ContextNotFound

    try:
        context = ContextAPI.get_context(name)
    except ContextNotFound:
        context = None
    if context is None:
        raise EngineError(
            f"docker context {name!r} not found (see `docker context ls`; it comes from "
            "$DOCKER_CONTEXT or `docker context use`)"
        )
    return Endpoint(host=str(context.Host), tls=context.TLSConfig, context=name)


def endpoint(docker_host: str | None) -> Endpoint:
    """The engine the docker CLI would talk to (see the module docstring for the order)."""
    if docker_host:
        return Endpoint(docker_host)
    if os.environ.get("DOCKER_HOST"):
        return Endpoint(os.environ["DOCKER_HOST"])
    from docker.context.config import get_current_context_name

    name = os.environ.get("DOCKER_CONTEXT") or get_current_context_name()
    if name and name != "default":
        return _context_endpoint(name)
    return Endpoint(DEFAULT_HOST)


def engine_host(docker_host: str | None) -> str:
    """The address used (for messages): see `endpoint`."""
    try:
        return endpoint(docker_host).host
    except EngineError:
        return docker_host or DEFAULT_HOST


def connect(docker_host: str | None = None, *, timeout: float = 30.0) -> Engine:
    """Connect and ask the daemon its name; `EngineError` saying what to do if that fails."""
    import docker

    target = endpoint(docker_host)
    host = target.host
    try:
        if target.context is not None:
            client = docker.DockerClient(
                base_url=host,
                tls=target.tls or False,
                version="auto",
                timeout=timeout,
                use_ssh_client=host.startswith("ssh://"),
            )
        else:
            # from_env also honours DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a tcp:// host
            environment = {**os.environ, "DOCKER_HOST": host}
            client = docker.from_env(
                version="auto",
                timeout=timeout,
                environment=environment,
                use_ssh_client=host.startswith("ssh://"),
            )
        info = client.info()
    except Exception as exc:
        raise engine_error(exc, host) from None
    return Engine(client=client, host=host, name=str(info.get("Name") or host))


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def engine_error(exc: BaseException, host: str) -> EngineError:
    """Classify why the engine at `host` failed into one actionable line."""
    causes = _causes(exc)
    text = " ".join(str(c) for c in causes)
    codes = {c.errno for c in causes if isinstance(c, OSError)}
    socket_path = host.removeprefix("unix://") if host.startswith("unix://") else None
    if errno.EACCES in codes or isinstance(exc, PermissionError) or "Permission denied" in text:
        where = socket_path or host
        return EngineError(
            f"permission denied on the Docker Engine socket {where}: run as a member of its group "
            "(sudo usermod -aG docker $USER, then log in again) or as root"
        )
    if errno.ENOENT in codes or "No such file or directory" in text:
        return EngineError(
            f"no Docker Engine at {host} (the socket does not exist): start dockerd, "
            "or point DOCKER_HOST / --docker-host at a running engine"
        )
    if errno.ECONNREFUSED in codes or "Connection refused" in text:
        return EngineError(
            f"the Docker Engine at {host} refused the connection: start dockerd, "
            "or point DOCKER_HOST / --docker-host at a running engine"
        )
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return EngineError(f"cannot use the Docker Engine at {host}: {detail[:300]}")


def compose_filters(project: str | None) -> dict[str, list[str]]:
    """Container filters for a compose project (every container when None)."""
    return {"label": [f"{PROJECT_LABEL}={project}"]} if project else {}


def list_projects(engine: Engine) -> list[str]:
    """Compose projects that have containers on the engine, sorted."""
    containers = engine.api.containers(all=True, filters={"label": [PROJECT_LABEL]})
    return sorted({str((c.get("Labels") or {}).get(PROJECT_LABEL)) for c in containers})


def unknown_project(engine: Engine, project: str) -> EngineError:
    known = list_projects(engine)
    hint = f"projects there: {', '.join(known)}" if known else "it runs no compose project"
    return EngineError(
        f"no containers of compose project {project!r} on the Docker Engine at {engine.host} "
        f"({hint}); check --project (compose uses the directory name unless -p is given)"
    )


class LogStream:
    """`GET /containers/ID/logs` read in blocks, its frames unwrapped in bulk.

    The SDK's own reader makes two socket reads per log line; this one reads
    what has arrived (up to 64 KiB) and strips the 8-byte frame headers of
    every whole frame in it, about twice as fast on a backlog. A TTY
    container's stream has no frames. Iterating yields payload bytes;
    `close()` from another thread ends the iteration.
    """

    BLOCK = 64 * 1024

    def __init__(self, response: Any, tty: bool) -> None:
        self.response = response
        self.tty = tty
        self.raw = response.raw
        self.sock: Any = None
        with contextlib.suppress(AttributeError):
            fp = response.raw._fp.fp
            raw = getattr(fp, "raw", fp)
            self.sock = getattr(raw, "_sock", None) or getattr(raw, "sock", None)

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        while True:
            data = self.raw.read1(self.BLOCK)
            if not data:
                return
            if self.tty:
                yield data
                continue
            pending += data
            parts: list[bytes] = []
            position, size = 0, len(pending)
            while size - position >= 8:
                end = position + 8 + int.from_bytes(pending[position + 4 : position + 8], "big")
                if end > size:
                    break
                parts.append(pending[position + 8 : end])
                position = end
            pending = pending[position:]
            if parts:
                yield b"".join(parts)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.response.close()


def open_logs(
    engine: Engine,
    container_id: str,
    *,
    stream: str,
    follow: bool,
    since: int | None,
    tty: bool | None,
) -> Iterable[bytes]:
    """One stream of a container's logs with engine timestamps, from `since` (Unix seconds).

    The returned iterable has `close()`. Falls back to the SDK's reader when
    the TTY setting is unknown or the HTTP library cannot read in blocks.
    """
    api = engine.api
    if tty is not None and hasattr(api, "_get") and hasattr(api, "_url"):
        params: dict[str, object] = {
            "stdout": int(stream == "stdout"),
            "stderr": int(stream == "stderr"),
            "timestamps": 1,
            "follow": int(follow),
            "tail": "all",
        }
        if since is not None:
            params["since"] = since
        response = api._get(
            api._url("/containers/{0}/logs", container_id), params=params, stream=True
        )
        api._raise_for_status(response)
        if hasattr(response.raw, "read1"):
            with contextlib.suppress(Exception):
                api._disable_socket_timeout(api._get_raw_response_socket(response))
            return LogStream(response, tty)
        response.close()
    logs: Iterable[bytes] = api.logs(
        container_id,
        stdout=stream == "stdout",
        stderr=stream == "stderr",
        stream=True,
        follow=follow,
        timestamps=True,
        since=since,
    )
    return logs
