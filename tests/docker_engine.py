"""A real Docker Engine for tests: the one already running, or a private `dockerd`.

Used by the `docker_engine` and `busybox_image` fixtures in `conftest.py` and by
`compose/capture.py`. Images are made with `docker import` from Debian's
busybox-static, so no registry is ever needed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ENGINE_START_TIMEOUT = 60.0
ENGINE_STOP_TIMEOUT = 20.0
SYSTEM_SOCKET = Path("/var/run/docker.sock")
BUSYBOX = Path("/bin/busybox")

BUSYBOX_IMAGE = "incidentlog-test/busybox:latest"
BUSYBOX_NOWGET_IMAGE = "incidentlog-test/busybox-nowget:latest"
# `curl` is deliberately absent (Alpine Node images lack it: the seed incident).
APPLETS = (
    "sh",
    "echo",
    "sleep",
    "cat",
    "printf",
    "date",
    "nc",
    "wget",
    "true",
    "false",
    "kill",
    "ls",
    "seq",
)


class EngineUnavailableError(Exception):
    """No Docker Engine answered and none could be started here."""


@dataclass
class DockerEngine:
    """A Docker Engine the tests may use, and how to reach it."""

    host: str
    """The `DOCKER_HOST` value (`unix:///…/docker.sock`)."""
    env: dict[str, str]
    """Environment for `docker` / `docker-compose` subprocesses."""
    data_root: Path | None = None
    """Set when this module started `dockerd`: json-file logs live under it."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = None
    """dockerd's own stdout/stderr, when started here."""

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def docker(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 60.0,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS` against this engine; text output."""
        return self.run(["docker", *args], check=check, timeout=timeout, stdin=stdin)

    def compose(
        self,
        project: str,
        compose_file: Path,
        *args: str,
        check: bool = True,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker-compose -p PROJECT -f FILE ARGS` (Compose v1) against this engine."""
        argv = ["docker-compose", "--no-ansi", "-p", project, "-f", str(compose_file), *args]
        return self.run(argv, check=check, timeout=timeout)

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        timeout: float = 60.0,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            list(argv),
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        result = subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} exited with {proc.returncode}: {result.stderr.strip()}"
            )
        return result

    def inspect(self, *names: str) -> list[dict[str, Any]]:
        """`docker inspect NAMES` parsed."""
        out = self.docker("inspect", *names).stdout
        parsed: list[dict[str, Any]] = json.loads(out)
        return parsed


def _engine_env(host: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_HOST"] = host
    # Compose v1 would otherwise ask questions or colour its output.
    env.setdefault("COMPOSE_INTERACTIVE_NO_CLI", "1")
    env.pop("DOCKER_CONTEXT", None)
    return env


def engine_answers(env: dict[str, str]) -> str | None:
    """None when `docker info` answers with `env`, else why not (one line)."""
    if shutil.which("docker", path=env.get("PATH")) is None:
        return "the docker client is not installed"
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            env=env,
            capture_output=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "docker info timed out after 15 s"
    if proc.returncode != 0 or not proc.stdout.strip():
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"docker info exited with {proc.returncode}"
    return None


def find_or_start_engine(workdir: Path) -> DockerEngine:
    """An engine that answers: `DOCKER_HOST`, the system socket, or a private dockerd.

    Raises `EngineUnavailableError` with the reason when none can be had.
    """
    reasons: list[str] = []
    candidates: list[str] = []
    if os.environ.get("DOCKER_HOST"):
        candidates.append(os.environ["DOCKER_HOST"])
    if SYSTEM_SOCKET.exists():
        candidates.append(f"unix://{SYSTEM_SOCKET}")
    for host in candidates:
        env = _engine_env(host)
        why = engine_answers(env)
        if why is None:
            return DockerEngine(host=host, env=env)
        reasons.append(f"{host}: {why}")
    if os.geteuid() != 0:
        reasons.append("not root, so cannot start dockerd")
    elif shutil.which("dockerd") is None:
        reasons.append("dockerd is not installed (apt-get install docker.io)")
    else:
        return start_dockerd(workdir)
    raise EngineUnavailableError("no Docker Engine: " + "; ".join(reasons))


def start_dockerd(workdir: Path) -> DockerEngine:
    """Start a private `dockerd` with its data under `workdir`; wait until it answers."""
    if shutil.which("dockerd") is None:
        raise EngineUnavailableError("no dockerd on PATH (CI installs Debian's docker.io)")
    data_root = workdir / "docker-data"
    data_root.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to 108 bytes and dockerd puts 64-hex-digit
    # socket names under exec-root, so it must be short (`/tmp/ilXXXXXXXX`).
    short = Path(tempfile.mkdtemp(prefix="il", dir="/tmp"))
    sock = short / "docker.sock"
    host = f"unix://{sock}"
    log_path = workdir / "dockerd.log"
    argv = [
        "dockerd",
        "--iptables=false",
        "--bridge=none",
        "--data-root",
        str(data_root),
        "--exec-root",
        str(short / "x"),
        "--host",
        host,
        "--pidfile",
        str(short / "docker.pid"),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    engine = DockerEngine(
        host=host,
        env=_engine_env(host),
        data_root=data_root,
        process=process,
        log_path=log_path,
    )
    deadline = time.monotonic() + ENGINE_START_TIMEOUT
    why: str | None = "not started"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if sock.exists():
            why = engine_answers(engine.env)
            if why is None:
                return engine
        time.sleep(0.25)
    stop_engine(engine)
    tail = log_path.read_text("utf-8", "replace").strip().splitlines()[-3:]
    state = (
        f"exited with {process.returncode}"
        if process.returncode is not None
        else f"did not answer within {ENGINE_START_TIMEOUT:.0f} s ({why})"
    )
    raise EngineUnavailableError(f"dockerd {state}; its log ends: {' | '.join(tail)}")


def stop_engine(engine: DockerEngine) -> None:
    """Stop a dockerd started here: SIGTERM, wait, then SIGKILL. No-op otherwise."""
    process = engine.process
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=ENGINE_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    sock_dir = Path(engine.host.removeprefix("unix://")).parent
    if sock_dir.parent == Path("/tmp") and sock_dir.name.startswith("il"):
        shutil.rmtree(sock_dir, ignore_errors=True)


def busybox_rootfs_tar(applets: Iterable[str], busybox: Path = BUSYBOX) -> bytes:
    """A rootfs tarball: `bin/busybox` plus relative `bin/APPLET -> busybox` links.

    Not `busybox --install -s`, which would write absolute host paths.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("bin", "tmp"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        data = busybox.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in applets:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            link.mode = 0o777
            tar.addfile(link)
    return buf.getvalue()


def import_busybox_image(engine: DockerEngine, tag: str, applets: Iterable[str]) -> str:
    """`docker import` a busybox rootfs with exactly `applets` as `tag`; returns `tag`."""
    if not BUSYBOX.is_file():
        raise EngineUnavailableError(f"{BUSYBOX} is missing (apt-get install busybox-static)")
    tarball = busybox_rootfs_tar(applets)
    engine.docker("import", "--change", 'CMD ["sh"]', "-", tag, stdin=tarball, timeout=120)
    return tag


def build_test_images(engine: DockerEngine) -> tuple[str, str]:
    """The full busybox image and the one without `wget` (the tunnel's image)."""
    full = import_busybox_image(engine, BUSYBOX_IMAGE, APPLETS)
    nowget = import_busybox_image(engine, BUSYBOX_NOWGET_IMAGE, [a for a in APPLETS if a != "wget"])
    return full, nowget


# --- driving a compose project and capturing what it said ------------------------------

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def wait_until(
    probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5
) -> T:
    """Poll `probe` until it returns something not None; `TimeoutError` naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def project_containers(engine: DockerEngine, project: str) -> list[dict[str, Any]]:
    """`docker inspect` of every container of a compose project, running or not."""
    ids = engine.docker(
        "ps", "-aq", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={project}"
    ).stdout.split()
    if not ids:
        return []
    return engine.inspect(*ids)


def by_service(containers: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Inspect documents keyed by compose service (one replica per service here)."""
    return {c["Config"]["Labels"][SERVICE_LABEL]: c for c in containers}


def seed_incident_settled(engine: DockerEngine, project: str) -> dict[str, dict[str, Any]] | None:
    """The containers once the seed incident has played out, else None.

    frontend and cloudflare-tunnel unhealthy, model-router and plan-management
    healthy, agent-monitor restarted by its `on-failure:3` policy until it gave
    up (3 restarts, exited 1).
    """
    services = by_service(project_containers(engine, project))
    expected_health = {
        "frontend": "unhealthy",
        "cloudflare-tunnel": "unhealthy",
        "model-router": "healthy",
        "plan-management": "healthy",
    }
    if not {*expected_health, "agent-monitor"} <= services.keys():
        return None
    for name, status in expected_health.items():
        health = services[name]["State"].get("Health") or {}
        if health.get("Status") != status:
            return None
    agent = services["agent-monitor"]
    if agent["RestartCount"] < 3 or agent["State"]["Status"] != "exited":
        return None
    return services


def capture_project(
    engine: DockerEngine,
    project: str,
    compose_file: Path,
    out_dir: Path,
    since: float,
) -> dict[str, Path]:
    """Write what a user would collect from `project` into `out_dir`; returns name → path.

    compose.log (`docker-compose logs --no-color -t`), events.jsonl
    (`docker events --since --until --format '{{json .}}'`), inspect.json,
    ps.txt (table) and ps.jsonl (`--format '{{json .}}'`), and containers/ with
    each container's json-file log and config.v2.json when its `LogPath` is
    readable from here (an engine on this machine).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    until = time.time()
    label = f"label={PROJECT_LABEL}={project}"
    files: dict[str, Path] = {}

    def save(name: str, text: str) -> None:
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        files[name] = path

    save("compose.log", engine.compose(project, compose_file, "logs", "--no-color", "-t").stdout)
    events = engine.docker(
        "events",
        "--since",
        f"{since:.3f}",
        "--until",
        f"{until:.3f}",
        "--filter",
        label,
        "--format",
        "{{json .}}",
    ).stdout
    save("events.jsonl", events)
    ids = engine.docker("ps", "-aq", "--no-trunc", "--filter", label).stdout.split()
    inspect_text = engine.docker("inspect", *ids).stdout
    save("inspect.json", inspect_text)
    save("ps.txt", engine.docker("ps", "-a", "--filter", label).stdout)
    save("ps.jsonl", engine.docker("ps", "-a", "--filter", label, "--format", "{{json .}}").stdout)
    for container in json.loads(inspect_text):
        log_path = Path(container.get("LogPath") or "/nonexistent")
        if not os.access(log_path, os.R_OK):
            continue
        # The engine's own layout: containers/<id>/<id>-json.log beside config.v2.json,
        # which names the container and carries its compose labels.
        dest = out_dir / "containers" / log_path.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        for source in (log_path, log_path.parent / "config.v2.json"):
            if source.is_file():
                shutil.copyfile(source, dest / source.name)
                files[f"containers/{dest.name}/{source.name}"] = dest / source.name
    versions = {
        "project": project,
        "since": since,
        "until": until,
        "server": engine.docker("version", "--format", "{{.Server.Version}}").stdout.strip(),
        "client": engine.docker("version", "--format", "{{.Client.Version}}").stdout.strip(),
        "compose": engine.run(["docker-compose", "version", "--short"]).stdout.strip(),
    }
    save("capture.json", json.dumps(versions, indent=2) + "\n")
    return files
