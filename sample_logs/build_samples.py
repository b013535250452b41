#!/usr/bin/env python3
"""Build the sample incidents under sample_logs/ deterministically (stdlib only).

    python sample_logs/build_samples.py            # rewrite every incident
    python sample_logs/build_samples.py --only no-incident

Every shape written here was either captured from a real Docker Engine
(see engine-capture/) or copied from real program output (tracebacks were
produced by running the buggy code under CPython 3.11.7 with uvicorn 0.35.0);
the builder only shifts those shapes to each story's times, names and ids.
Same code -> byte-identical files: one random.Random(seed) per incident.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS = 1_000_000_000
MS = 1_000_000
MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --------------------------------------------------------------------------- time


def ns_of(s: str) -> int:
    """'2025-08-01T12:30:00' (UTC) -> epoch nanoseconds."""
    d = datetime.fromisoformat(s).replace(tzinfo=UTC)
    return int(d.timestamp()) * NS


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // NS, tz=UTC)


def ts_fixed(ns: int) -> str:
    """Docker's RFC3339NanoFixed (log timestamps): always nine digits."""
    return _dt(ns).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % NS:09d}Z"


def ts_nano(ns: int) -> str:
    """Go's RFC3339Nano (inspect JSON): trailing zeros of the fraction trimmed."""
    frac = f"{ns % NS:09d}".rstrip("0")
    return _dt(ns).strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def ts_ms_z(ns: int) -> str:
    return _dt(ns).strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % NS) // MS:03d}Z"


def ts_py(ns: int) -> str:
    return _dt(ns).strftime("%Y-%m-%d %H:%M:%S") + f",{(ns % NS) // MS:03d}"


def ts_pg(ns: int) -> str:
    return _dt(ns).strftime("%Y-%m-%d %H:%M:%S") + f".{(ns % NS) // MS:03d} UTC"


def ts_redis(ns: int) -> str:
    d = _dt(ns)
    return f"{d.day:02d} {MON[d.month - 1]} {d.year} {d:%H:%M:%S}.{(ns % NS) // MS:03d}"


def ts_nginx_err(ns: int) -> str:
    return _dt(ns).strftime("%Y/%m/%d %H:%M:%S")


def ts_clf(ns: int) -> str:
    d = _dt(ns)
    return f"{d.day:02d}/{MON[d.month - 1]}/{d.year}:{d:%H:%M:%S} +0000"


def ts_sec_z(ns: int) -> str:
    return _dt(ns).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_ago(seconds: float) -> str:
    """go-units HumanDuration, as `docker ps` prints it."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    return f"{h // 24} days"


# --------------------------------------------------------------------------- json


def go_json(obj: object, indent: int | None = None) -> str:
    """json as Go's encoding/json writes it: HTML-safe escapes, no spaces."""
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def hexid(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


# --------------------------------------------------------------------------- model


@dataclass
class Health:
    test: list[str]
    interval: float = 30.0
    timeout: float = 10.0
    retries: int = 3
    start_period: float = 0.0
    # ns -> (exit code, output, duration seconds)
    probe: Callable[[int], tuple[int, str, float]] = lambda ns: (0, "", 0.05)

    def action_text(self) -> str:
        if self.test[0] == "CMD-SHELL":
            return "/bin/sh -c " + self.test[1]
        return " ".join(self.test[1:])


@dataclass
class Probe:
    start: int
    end: int
    exit_code: int
    output: str


@dataclass
class Ctr:
    project: str
    service: str
    image: str
    ip: str
    cmd: list[str]
    entrypoint: list[str] | None = None
    health: Health | None = None
    restart: str = "unless-stopped"
    depends_on: str = ""
    ports: list[str] = field(default_factory=list)
    ps_ports: str = ""
    image_labels: dict[str, str] = field(default_factory=dict)
    env: list[str] = field(default_factory=list)
    memory: int = 0
    number: int = 1
    v1: bool = False
    compose_version: str = "2.38.2"
    working_dir: str = "/srv/mcp"
    logs: list[tuple[int, str]] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    created: int = 0
    runs: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    oom_killed: bool = False
    oom_at: list[int] = field(default_factory=list)

    @property
    def id(self) -> str:
        return hexid(self.project, self.service, self.number)

    @property
    def name(self) -> str:
        sep = "_" if self.v1 else "-"
        return f"{self.project}{sep}{self.service}{sep}{self.number}"

    @property
    def short(self) -> str:
        """the prefix compose prints: service-N (v2) or service_N (v1)."""
        return f"{self.service}{'_' if self.v1 else '-'}{self.number}"

    def labels(self) -> dict[str, str]:
        lab = dict(self.image_labels)
        lab.update(
            {
                "com.docker.compose.config-hash": hexid("cfg", self.project, self.service),
                "com.docker.compose.container-number": str(self.number),
                "com.docker.compose.oneoff": "False",
                "com.docker.compose.project": self.project,
                "com.docker.compose.project.config_files": f"{self.working_dir}/docker-compose.yml",
                "com.docker.compose.project.working_dir": self.working_dir,
                "com.docker.compose.service": self.service,
                "com.docker.compose.version": self.compose_version,
            }
        )
        if not self.v1:
            lab["com.docker.compose.depends_on"] = self.depends_on
            lab["com.docker.compose.image"] = "sha256:" + hexid("image", self.image)
        return dict(sorted(lab.items()))

    def log(self, ns: int, text: str) -> None:
        """Docker stamps each line when it reads it: a little after the app's own clock."""
        base = ns + 20_000 + int(hexid(self.service, ns)[:6], 16) % 700_000
        for i, line in enumerate(text.split("\n")):
            self.logs.append((base + i * (1700 + (ns >> 3) % 900), line))


class Stack:
    def __init__(self, project: str, seed: int, v1: bool = False) -> None:
        self.project = project
        self.rng = random.Random(seed)
        self.ctrs: dict[str, Ctr] = {}
        self.events: list[tuple[int, int, str]] = []  # (ns, order, json)
        self.v1 = v1
        self.net_id = hexid("net", project)

    def add(self, c: Ctr) -> Ctr:
        c.v1 = self.v1
        self.ctrs[c.service] = c
        return c

    # ---- events, in the shape `docker events --format '{{json .}}'` printed (engine-capture/)
    def ev(self, c: Ctr, action: str, ns: int, **extra: str) -> None:
        attrs = c.labels()
        attrs.update(extra)
        attrs["image"] = c.image
        attrs["name"] = c.name
        status = action
        if action.startswith("exec_") and "execID" not in extra:
            pass
        d = {
            "status": status,
            "id": c.id,
            "from": c.image,
            "Type": "container",
            "Action": action,
            "Actor": {"ID": c.id, "Attributes": dict(sorted(attrs.items()))},
            "scope": "local",
            "time": ns // NS,
            "timeNano": ns,
        }
        self.events.append((ns, len(self.events), go_json(d)))

    def net_ev(self, c: Ctr, action: str, ns: int) -> None:
        d = {
            "Type": "network",
            "Action": action,
            "Actor": {
                "ID": self.net_id,
                "Attributes": {
                    "container": c.id,
                    "name": f"{self.project}_default",
                    "type": "bridge",
                },
            },
            "scope": "local",
            "time": ns // NS,
            "timeNano": ns,
        }
        self.events.append((ns, len(self.events), go_json(d)))


# --------------------------------------------------------------------------- lifecycle


def run_health(st: Stack, c: Ctr, start: int, end: int, final: int) -> None:
    """Simulate Docker's health monitor for one run of the container.

    First probe one interval after start, next one interval after the previous
    probe ended; unhealthy after `retries` consecutive failures (failures inside
    start_period do not count); a health_status event on every status change.
    """
    h = c.health
    if h is None:
        return
    status = "starting"
    streak = 0
    t = start + int(h.interval * NS)
    stop = min(end, final)
    while t < stop:
        code, out, dur = h.probe(t)
        t_end = t + int(dur * NS)
        c.probes.append(Probe(t, t_end, code, out))
        exec_id = hexid("exec", c.id, t)
        st.ev(c, "exec_create: " + h.action_text(), t - 90_000, execID=exec_id)
        st.ev(c, "exec_start: " + h.action_text(), t - 50_000, execID=exec_id)
        if code != -1:  # a failed OCI exec never reports exec_die (engine-capture/)
            st.ev(c, "exec_die", t_end, execID=exec_id, exitCode=str(code))
        if code == 0:
            streak = 0
            if status != "healthy":
                status = "healthy"
                st.ev(c, "health_status: healthy", t_end + 400_000)
        else:
            in_grace = t - start < int(h.start_period * NS) and status == "starting"
            if not in_grace:
                streak += 1
                if streak >= h.retries and status != "unhealthy":
                    status = "unhealthy"
                    st.ev(c, "health_status: unhealthy", t_end + 400_000)
        t = t_end + int(h.interval * NS)


def health_state(c: Ctr, end: int) -> dict[str, object] | None:
    h = c.health
    if h is None:
        return None
    runs = c.runs
    last_start = runs[-1][0]
    last = [p for p in c.probes if p.start >= last_start]
    status = "starting"
    streak = 0
    for p in last:
        if p.exit_code == 0:
            status, streak = "healthy", 0
        else:
            if not (p.start - last_start < int(h.start_period * NS) and status == "starting"):
                streak += 1
                if streak >= h.retries:
                    status = "unhealthy"
    return {
        "Status": status,
        "FailingStreak": streak,
        "Log": [
            {
                "Start": ts_nano(p.start),
                "End": ts_nano(p.end),
                "ExitCode": p.exit_code,
                "Output": p.output,
            }
            for p in c.probes[-5:]
        ],
    }


def inspect_doc(st: Stack, c: Ctr, end: int) -> dict[str, object]:
    """One element of `docker inspect`, in the key order the engine prints."""
    start, stop, code = c.runs[-1]
    running = stop is None or stop > end
    restarting = not running and c.restart not in ("no", "") and code is not None
    finished = c.runs[-1][1] if not running else (c.runs[-2][1] if len(c.runs) > 1 else None)
    state: dict[str, object] = {
        "Status": "restarting" if restarting else ("running" if running else "exited"),
        "Running": running or restarting,
        "Paused": False,
        "Restarting": restarting,
        "OOMKilled": c.oom_killed,
        "Dead": False,
        "Pid": 0 if not running else 2000 + int(c.id[:4], 16) % 30000,
        "ExitCode": 0 if running else (code or 0),
        "Error": "",
        "StartedAt": ts_nano(start),
        "FinishedAt": ts_nano(finished) if finished else "0001-01-01T00:00:00Z",
    }
    hs = health_state(c, end)
    if hs is not None:
        state["Health"] = hs
    root = f"/var/lib/docker/containers/{c.id}"
    layer = hexid("layer", c.id)
    net = f"{st.project}_default"
    mac = "02:42:" + ":".join(f"{int(x):02x}" for x in c.ip.split("."))
    path = (c.entrypoint or c.cmd)[0]
    args = ((c.entrypoint or [])[1:] + c.cmd) if c.entrypoint else c.cmd[1:]
    cfg: dict[str, object] = {
        "Hostname": c.id[:12],
        "Domainname": "",
        "User": "",
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "ExposedPorts": {p: {} for p in c.ports} if c.ports else None,
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": [*c.env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": c.cmd,
    }
    if cfg["ExposedPorts"] is None:
        del cfg["ExposedPorts"]
    if c.health is not None:
        hc: dict[str, object] = {
            "Test": c.health.test,
            "Interval": int(c.health.interval * NS),
            "Timeout": int(c.health.timeout * NS),
        }
        if c.health.start_period:
            hc["StartPeriod"] = int(c.health.start_period * NS)
        hc["Retries"] = c.health.retries
        cfg["Healthcheck"] = hc
    cfg.update(
        {
            "Image": c.image,
            "Volumes": None,
            "WorkingDir": "/app" if c.image.startswith(st.project) else "",
            "Entrypoint": c.entrypoint,
            "OnBuild": None,
            "Labels": c.labels(),
        }
    )
    rp_name, _, rp_max = c.restart.partition(":")
    return {
        "Id": c.id,
        "Created": ts_nano(c.created),
        "Path": path,
        "Args": args,
        "State": state,
        "Image": "sha256:" + hexid("image", c.image),
        "ResolvConfPath": f"{root}/resolv.conf",
        "HostnamePath": f"{root}/hostname",
        "HostsPath": f"{root}/hosts",
        "LogPath": f"{root}/{c.id}-json.log",
        "Name": "/" + c.name,
        "RestartCount": max(0, len(c.runs) - 1),
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "docker-default",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": None,
            "ContainerIDFile": "",
            "LogConfig": {"Type": "json-file", "Config": {}},
            "NetworkMode": net,
            "PortBindings": {
                p: [{"HostIp": "", "HostPort": p.split("/")[0]}] for p in c.ports if c.ps_ports
            },
            "RestartPolicy": {
                "Name": "" if rp_name == "no" else rp_name,
                "MaximumRetryCount": int(rp_max or 0),
            },
            "AutoRemove": False,
            "Memory": c.memory,
            "MemorySwap": c.memory * 2 if c.memory else 0,
            "OomKillDisable": False,
            "PidsLimit": None,
            "ShmSize": 67108864,
            "Runtime": "runc",
        },
        "GraphDriver": {
            "Data": {
                "LowerDir": f"/var/lib/docker/overlay2/{layer}-init/diff",
                "MergedDir": f"/var/lib/docker/overlay2/{layer}/merged",
                "UpperDir": f"/var/lib/docker/overlay2/{layer}/diff",
                "WorkDir": f"/var/lib/docker/overlay2/{layer}/work",
            },
            "Name": "overlay2",
        },
        "Mounts": [],
        "Config": cfg,
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": hexid("sandbox", c.id, len(c.runs)) if running else "",
            "SandboxKey": f"/var/run/docker/netns/{hexid('sandbox', c.id, len(c.runs))[:12]}"
            if running
            else "",
            "Ports": {
                p: ([{"HostIp": "0.0.0.0", "HostPort": p.split("/")[0]}] if c.ps_ports else None)
                for p in c.ports
            },
            "Networks": {
                net: {
                    "IPAMConfig": None,
                    "Links": None,
                    "Aliases": [c.name, c.service],
                    "MacAddress": mac if running else "",
                    "NetworkID": st.net_id,
                    "EndpointID": hexid("ep", c.id, len(c.runs)) if running else "",
                    "Gateway": c.ip.rsplit(".", 1)[0] + ".1" if running else "",
                    "IPAddress": c.ip if running else "",
                    "IPPrefixLen": 16 if running else 0,
                    "IPv6Gateway": "",
                    "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0,
                    "DriverOpts": None,
                    "DNSNames": [c.name, c.service, c.id[:12]] if running else None,
                }
            },
        },
    }


def compose_ps(st: Stack, end: int) -> str:
    """`docker compose ps` (v2) table: tabwriter minwidth 10, padding 3."""
    rows = [["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]]
    for c in sorted(st.ctrs.values(), key=lambda x: x.name):
        full = " ".join((c.entrypoint or []) + c.cmd)
        cmd = '"' + (full[:20] + "…" if len(full) > 20 else full) + '"'
        start, stop, code = c.runs[-1]
        hs = health_state(c, end)
        if stop is None or stop > end:
            status = "Up " + human_ago((end - start) / NS)
            if hs is not None:
                s = hs["Status"]
                status += " (health: starting)" if s == "starting" else f" ({s})"
        else:
            status = f"Restarting ({code}) {human_ago((end - stop) / NS)} ago"
        rows.append(
            [
                c.name,
                c.image,
                cmd,
                c.service,
                human_ago((end - c.created) / NS) + " ago",
                status,
                c.ps_ports,
            ]
        )
    widths = [max(10, max(len(r[i]) for r in rows) + 3) for i in range(len(rows[0]) - 1)]
    out = []
    for r in rows:
        line = "".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + r[-1]
        out.append(line.rstrip() if not r[-1] else line)
    return "\n".join(out) + "\n"


def compose_prefix_width(st: Stack) -> int:
    names = [c.short for c in st.ctrs.values()]
    if st.v1:  # compose v1: longest service name + 3 (max_index_width), engine-capture/
        return max(len(c.service) for c in st.ctrs.values()) + 3
    return max(len(n) for n in names) + 1  # compose v2: computeWidth() = longest + 1


def compose_logs(st: Stack, timestamps: bool = True, interleave: int = 40) -> str:
    """`docker compose logs`: every container streamed at once, output in bursts."""
    width = compose_prefix_width(st)
    queues = []
    for c in st.ctrs.values():
        lines = sorted(c.logs, key=lambda x: x[0])
        queues.append([c, lines, 0])
    rng = st.rng
    out: list[str] = []
    while True:
        live = [q for q in queues if q[2] < len(q[1])]
        if not live:
            break
        q = rng.choices(live, weights=[len(x[1]) - x[2] for x in live])[0]
        n = rng.randint(1, interleave)
        c, lines, i = q
        for ns, text in lines[i : i + n]:
            pre = f"{c.short.ljust(width)} | "
            out.append(pre + (ts_fixed(ns) + " " if timestamps else "") + text)
        q[2] = i + n
    return "\n".join(out) + "\n"


def write_events(path: Path, st: Stack, keep: Callable[[dict[str, object]], bool]) -> int:
    rows = sorted(st.events)
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for _, _, text in rows:
            d = json.loads(text)
            if keep(d):
                f.write(text + "\n")
                n += 1
    return n


def start_container(st: Stack, c: Ctr, ns: int) -> None:
    st.net_ev(c, "connect", ns - 30 * MS)
    st.ev(c, "start", ns)


def crash_loop(
    st: Stack, c: Ctr, first_start: int, end: int, life: Callable[[int], float], exit_code: int
) -> list[int]:
    """Docker's restart manager: 100 ms, doubling, capped at 1 min; reset after 10 s up."""
    starts = []
    t = first_start
    delay = 0.0
    while t < end:
        starts.append(t)
        runtime = life(t)
        died = t + int(runtime * NS)
        if died >= end:
            c.runs.append((t, None, None))
            break
        c.runs.append((t, died, exit_code))
        st.ev(c, "die", died, exitCode=str(exit_code))
        st.net_ev(c, "disconnect", died + 20 * MS)
        delay = 0.1 if (delay == 0 or runtime >= 10) else min(delay * 2, 60.0)
        t = died + int(delay * NS) + st.rng.randint(2, 9) * MS
        if t < end:
            start_container(st, c, t)
    return starts


# --------------------------------------------------------------------------- log text helpers

UVICORN_START = (
    "INFO:     Started server process [1]\n"
    "INFO:     Waiting for application startup.\n"
    "INFO:     Application startup complete.\n"
    "INFO:     Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)"
)

REASON = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    404: "Not Found",
    401: "Unauthorized",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def uvicorn_access(ip: str, port: int, method: str, path: str, code: int) -> str:
    return f'INFO:     {ip}:{port} - "{method} {path} HTTP/1.1" {code} {REASON[code]}'


def poisson_times(rng: random.Random, start: int, end: int, per_sec: float) -> Iterable[int]:
    t = start
    while True:
        t += int(rng.expovariate(per_sec) * NS) + 1
        if t >= end:
            return
        yield t


def periodic(
    rng: random.Random, start: int, end: int, every: float, jitter: float = 0.05
) -> Iterable[int]:
    t = start
    while True:
        t += int((every + rng.uniform(-jitter, jitter)) * NS)
        if t >= end:
            return
        yield t


# --------------------------------------------------------------------------- incident 1

AGENT_MONITOR_TB = """Traceback (most recent call last):
  File "/app/scripts/start_agent_monitor.py", line 51, in <module>
    asyncio.run(main())
  File "/usr/local/lib/python3.11/asyncio/runners.py", line 190, in run
    return runner.run(main)
           ^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/asyncio/runners.py", line 118, in run
    return self._loop.run_until_complete(task)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/asyncio/base_events.py", line 653, in run_until_complete
    return future.result()
           ^^^^^^^^^^^^^^^
  File "/app/scripts/start_agent_monitor.py", line 42, in main
    await uvicorn.run(
          ^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/site-packages/uvicorn/main.py", line 580, in run
    server.run()
  File "/usr/local/lib/python3.11/site-packages/uvicorn/server.py", line 67, in run
    return asyncio.run(self.serve(sockets=sockets))
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run
    raise RuntimeError(
RuntimeError: asyncio.run() cannot be called from a running event loop
sys:1: RuntimeWarning: coroutine 'Server.serve' was never awaited"""

REGISTRY_TB = """{ts} - {mod} - ERROR - Agent registry sync failed
Traceback (most recent call last):
  File "/app/{pkg}/registry.py", line 35, in sync_forever
    self.refresh()
  File "/app/{pkg}/registry.py", line 28, in refresh
    agents = asyncio.run(self._fetch_agents())
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run
    raise RuntimeError(
RuntimeError: asyncio.run() cannot be called from a running event loop"""

REGISTRY_WARN = """/app/{pkg}/registry.py:37: RuntimeWarning: coroutine 'AgentRegistry._fetch_agents' was never awaited
  logger.exception("Agent registry sync failed")
RuntimeWarning: Enable tracemalloc to get the object allocation traceback"""

GRAFANA_MIGRATIONS = [
    "create migration_log table",
    "create user table",
    "add unique index user.login",
    "add unique index user.email",
    "drop index UQE_user_login - v1",
    "drop index UQE_user_email - v1",
    "Rename table user to user_v1 - v1",
    "create user table v2",
    "create index UQE_user_login - v2",
    "create index UQE_user_email - v2",
    "copy data_source v1 to v2",
    "Drop old table user_v1",
    "Add column help_flags1 to user table",
    "Update user table charset",
    "Add last_seen_at column to user",
    "Add missing user data",
    "Add is_disabled column to user",
    "Add index user.login/user.email",
    "Add is_service_account column to user",
    "Update is_service_account column to nullable",
    "create temp user table v1-7",
    "create index IDX_temp_user_email - v1-7",
    "create star table",
    "add unique index star.user_id_dashboard_id",
    "create org table v1",
    "create index UQE_org_name - v1",
    "create org_user table v1",
    "create index IDX_org_user_org_id - v1",
    "create dashboard table",
    "add index dashboard.account_id",
    "add unique index dashboard_account_id_slug",
    "create dashboard_tag table",
    "add unique index dashboard_tag.dasboard_id_term",
    "drop index UQE_dashboard_tag_dashboard_id_term - v1",
    "Rename table dashboard to dashboard_v1 - v1",
    "create dashboard v2",
    "create index IDX_dashboard_org_id - v2",
    "create index UQE_dashboard_org_id_slug - v2",
    "copy dashboard v1 to v2",
    "drop table dashboard_v1",
    "alter dashboard.data to mediumtext v1",
    "Add column updated_by in dashboard - v2",
    "Add column created_by in dashboard - v2",
    "Add column gnetId in dashboard",
    "Add index for gnetId in dashboard",
    "Add column plugin_id in dashboard",
    "Add index for plugin_id in dashboard",
    "Add index for dashboard_id in dashboard_tag",
    "Update dashboard table charset",
    "Update dashboard_tag table charset",
    "Add column folder_id in dashboard",
    "Add column isFolder in dashboard",
    "Add column has_acl in dashboard",
    "Add column uid in dashboard",
    "Update uid column values in dashboard",
    "Add unique index dashboard_org_id_uid",
    "Remove unique index org_id_slug",
    "Update dashboard title length",
    "Add unique index for dashboard_org_id_title_folder_id",
    "create dashboard_provisioning",
    "Rename table dashboard_provisioning to dashboard_provisioning_tmp_qwerty - v1",
    "create data_source table",
    "add index data_source.account_id",
    "add unique index data_source.account_id_name",
    "create api_key table",
    "add index api_key.account_id",
    "add index api_key.key",
    "add index api_key.account_id_name",
    "create dashboard_snapshot table v4",
    "drop table dashboard_snapshot_v4 #1",
    "create quota table v1",
    "create plugin_setting table",
    "create session table",
    "create playlist table v2",
    "create playlist item table v2",
    "create preferences table v3",
    "create alert table v1",
    "add index alert org_id & id ",
    "create alert_notification table v1",
    "create annotation table v5",
    "add index annotation 0 v3",
    "create test_data table",
    "create dashboard_version table v1",
    "create team table",
    "create team member table",
    "create dashboard acl table",
    "create tag table",
    "create login attempt table",
    "create user auth table",
    "create server_lock table",
    "create user auth token table",
    "create cache_data table",
    "create short_url table v1",
    "create alert_rule table",
    "create alert_instance table",
    "create alert_configuration table",
    "create library_element table v1",
    "create kv_store table v1",
    "create permission table",
    "create role table",
    "create team role table",
    "create user role table",
    "create builtin role table",
    "create seed assignment table",
    "create query_history table v1",
    "create correlation table v1",
    "create entity_events table",
    "create dashboard public config v1",
    "create file table",
    "create secrets table",
    "create ngalert configuration table",
    "create provenance_type table",
    "create alert_image table",
    "create signing_key table",
    "create sso_setting table",
    "create cloud_migration table v1",
]


def build_health_checks(out: Path) -> dict[str, object]:
    st = Stack("mcp", seed=20250801)
    rng = st.rng
    t0 = ns_of("2025-08-01T12:30:00")
    end = ns_of("2025-08-01T14:31:07") + 412_337_001  # when the user collected the evidence
    wd = "/home/deploy/mcp-platform"

    def add(service: str, image: str, last_octet: int, cmd: list[str], **kw: object) -> Ctr:
        c = Ctr(
            project="mcp",
            service=service,
            image=image,
            ip=f"172.18.0.{last_octet}",
            cmd=cmd,
            working_dir=wd,
            **kw,
        )  # type: ignore[arg-type]
        return st.add(c)

    ok = lambda dur=0.05: lambda ns: (0, "", dur + rng.uniform(0, 0.04))  # noqa: E731
    pg = add(
        "postgres",
        "postgres:16.3",
        2,
        ["postgres"],
        entrypoint=["docker-entrypoint.sh"],
        health=Health(
            ["CMD-SHELL", "pg_isready -U mcp -d mcp"],
            10,
            5,
            5,
            probe=lambda ns: (0, "/var/run/postgresql:5432 - accepting connections\n", 0.04),
        ),
        ports=["5432/tcp"],
        ps_ports="5432/tcp",
        env=["POSTGRES_USER=mcp", "POSTGRES_DB=mcp", "PGDATA=/var/lib/postgresql/data"],
    )
    redis = add(
        "redis",
        "redis:7.2.5-alpine",
        3,
        ["redis-server", "--appendonly", "no"],
        entrypoint=["docker-entrypoint.sh"],
        health=Health(["CMD", "redis-cli", "ping"], 10, 3, 5, probe=lambda ns: (0, "PONG\n", 0.02)),
        ports=["6379/tcp"],
        ps_ports="6379/tcp",
    )
    consul = add(
        "consul",
        "hashicorp/consul:1.19.1",
        4,
        ["agent", "-dev", "-client", "0.0.0.0"],
        entrypoint=["docker-entrypoint.sh"],
        health=Health(
            ["CMD-SHELL", "consul members"],
            15,
            5,
            3,
            probe=lambda ns: (
                0,
                "Node          Address         Status  Type    Build   Protocol  DC   Partition  Segment\nconsul-dev    127.0.0.1:8301  alive   server  1.19.1  2         dc1  default    <all>\n",
                0.09,
            ),
        ),
        ports=["8500/tcp", "8600/udp"],
        ps_ports="0.0.0.0:8500->8500/tcp, [::]:8500->8500/tcp, 8600/udp",
    )
    nginx = add(
        "nginx",
        "nginx:1.27.0-alpine",
        5,
        ["nginx", "-g", "daemon off;"],
        entrypoint=["/docker-entrypoint.sh"],
        health=Health(
            ["CMD-SHELL", "wget -q --spider http://localhost/nginx-health || exit 1"],
            30,
            5,
            3,
            probe=ok(),
        ),
        ports=["80/tcp"],
        ps_ports="0.0.0.0:80->80/tcp, [::]:80->80/tcp",
        image_labels={"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
        depends_on="frontend:service_started:false,model-router:service_started:false,staff-frontend:service_started:false",
    )
    prom = add(
        "prometheus",
        "prom/prometheus:v2.53.1",
        6,
        [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=15d",
        ],
        entrypoint=["/bin/prometheus"],
        health=Health(
            ["CMD", "wget", "-q", "--spider", "http://localhost:9090/-/healthy"],
            30,
            5,
            3,
            probe=ok(),
        ),
        ports=["9090/tcp"],
        ps_ports="0.0.0.0:9090->9090/tcp, [::]:9090->9090/tcp",
    )
    grafana_ready = t0 + int(60.8 * NS)

    def grafana_probe(ns: int) -> tuple[int, str, float]:
        if ns < grafana_ready:
            return (1, "wget: can't connect to remote host (127.0.0.1): Connection refused\n", 0.01)
        return (0, "", 0.03)

    graf = add(
        "grafana",
        "grafana/grafana:11.1.3",
        7,
        [],
        entrypoint=["/run.sh"],
        health=Health(
            ["CMD-SHELL", "wget -q --spider http://localhost:3000/api/health || exit 1"],
            10,
            5,
            3,
            probe=grafana_probe,
        ),
        ports=["3000/tcp"],
        ps_ports="0.0.0.0:3001->3000/tcp, [::]:3001->3000/tcp",
        depends_on="prometheus:service_started:false,postgres:service_healthy:false",
    )
    nodeexp = add(
        "node-exporter",
        "prom/node-exporter:v1.8.2",
        8,
        ["--path.rootfs=/host"],
        entrypoint=["/bin/node_exporter"],
        health=Health(
            ["CMD", "wget", "-q", "--spider", "http://localhost:9100/metrics"], 30, 5, 3, probe=ok()
        ),
        ports=["9100/tcp"],
        ps_ports="9100/tcp",
    )

    def py_health(port):
        return Health(
            ["CMD-SHELL", f"curl -fsS http://localhost:{port}/health || exit 1"],
            30,
            10,
            3,
            probe=ok(0.03),
        )

    pyimg = lambda s: f"mcp-{s}"  # noqa: E731
    core = {}
    for i, (svc, port, dep) in enumerate(
        [
            ("model-router", 8001, "postgres:service_healthy:false,redis:service_healthy:false"),
            ("plan-management", 8002, "postgres:service_healthy:false"),
            ("git-worktree", 8003, "postgres:service_healthy:false"),
            ("workflow-engine", 8004, "postgres:service_healthy:false,redis:service_healthy:false"),
            ("memory-service", 8005, "postgres:service_healthy:false,redis:service_healthy:false"),
            ("tool-registry", 8006, "consul:service_healthy:false"),
            ("auth-service", 8007, "postgres:service_healthy:false,redis:service_healthy:false"),
            ("docs-indexer", 8008, "postgres:service_healthy:false"),
            ("a2a-communication", 8010, "redis:service_healthy:false,consul:service_healthy:false"),
            (
                "agent-pool",
                8011,
                "redis:service_healthy:false,a2a-communication:service_started:false",
            ),
            (
                "collaboration-orchestrator",
                8012,
                "a2a-communication:service_started:false,agent-pool:service_started:false",
            ),
            (
                "agent-scheduler",
                8013,
                "consul:service_healthy:false,agent-pool:service_started:false",
            ),
            ("agent-discovery", 8014, "consul:service_healthy:false"),
        ]
    ):
        if svc == "tool-registry":
            cmd, ep = (
                ["/usr/local/bin/tool-registry", "-config", "/etc/tool-registry/config.yaml"],
                None,
            )
            h = Health(
                ["CMD", "/usr/local/bin/tool-registry", "healthcheck"], 30, 5, 3, probe=ok(0.02)
            )
        elif svc == "auth-service":
            cmd, ep = ["node", "dist/server.js"], ["docker-entrypoint.sh"]
            h = Health(
                ["CMD-SHELL", f"wget -q --spider http://localhost:{port}/healthz || exit 1"],
                30,
                5,
                3,
                probe=ok(),
            )
        elif svc in ("agent-scheduler", "agent-discovery"):
            cmd, ep = (
                [
                    "uvicorn",
                    f"{svc.replace('-', '_')}.main:app",
                    "--host",
                    "0.0.0.0",
                    "--port",
                    str(port),
                ],
                None,
            )
            h = Health(
                ["CMD-SHELL", f"curl -fsS http://localhost:{port}/health || exit 1"],
                30,
                10,
                3,
                probe=lambda ns: (
                    1,
                    "curl: (22) The requested URL returned error: 503\n",
                    0.01 + rng.uniform(0, 0.02),
                ),
            )
        else:
            cmd, ep = (
                [
                    "uvicorn",
                    f"{svc.replace('-', '_')}.main:app",
                    "--host",
                    "0.0.0.0",
                    "--port",
                    str(port),
                ],
                None,
            )
            h = py_health(port)
        core[svc] = add(
            svc,
            pyimg(svc),
            10 + i,
            cmd,
            entrypoint=ep,
            health=h,
            ports=[f"{port}/tcp"],
            ps_ports=f"{port}/tcp",
            depends_on=dep,
        )
    mon = add(
        "agent-monitor",
        "mcp-agent-monitor",
        30,
        ["python", "scripts/start_agent_monitor.py"],
        health=Health(
            ["CMD-SHELL", "curl -fsS http://localhost:8095/health || exit 1"], 30, 10, 3, probe=ok()
        ),
        ports=["8095/tcp"],
        ps_ports="",
        depends_on="redis:service_healthy:false,a2a-communication:service_started:false",
        env=["AGENT_MONITOR_PORT=8095", "LOG_LEVEL=INFO"],
    )
    fe = add(
        "frontend",
        "mcp-frontend",
        31,
        ["node", "server.js"],
        entrypoint=["docker-entrypoint.sh"],
        health=Health(
            ["CMD-SHELL", "curl -f http://localhost:3000/ || exit 1"],
            30,
            10,
            3,
            probe=lambda ns: (1, "/bin/sh: curl: not found\n", 0.004 + rng.uniform(0, 0.01)),
        ),
        ports=["3000/tcp"],
        ps_ports="3000/tcp",
        depends_on="model-router:service_started:false",
        env=["NODE_ENV=production", "PORT=3000", "HOSTNAME=0.0.0.0"],
    )
    sfe = add(
        "staff-frontend",
        "mcp-staff-frontend",
        32,
        ["node", "server.js"],
        entrypoint=["docker-entrypoint.sh"],
        health=Health(
            ["CMD-SHELL", "curl -fsS http://localhost:3001/api/health"],
            30,
            10,
            3,
            probe=lambda ns: (127, "/bin/sh: curl: not found\n", 0.004 + rng.uniform(0, 0.01)),
        ),
        ports=["3001/tcp"],
        ps_ports="3001/tcp",
        depends_on="auth-service:service_started:false",
        env=["NODE_ENV=production", "PORT=3001", "HOSTNAME=0.0.0.0"],
    )
    oci = (
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "wget": '
        "executable file not found in $PATH: unknown"
    )
    cft = add(
        "cloudflare-tunnel",
        "cloudflare/cloudflared:2025.7.0",
        33,
        ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"],
        entrypoint=["cloudflared", "--no-autoupdate"],
        health=Health(
            ["CMD", "wget", "--spider", "-q", "http://localhost:2000/ready"],
            30,
            10,
            3,
            probe=lambda ns: (-1, oci, 0.05 + rng.uniform(0, 0.03)),
        ),
        depends_on="nginx:service_started:false",
        env=["TUNNEL_TOKEN"],
    )
    assert len(st.ctrs) == 24, len(st.ctrs)

    # ---- create + start times (compose v2 `up -d`: create all, then start by dependency level)
    start_at: dict[str, int] = {}
    for k, c in enumerate(st.ctrs.values()):
        c.created = t0 + 180 * MS + k * 23 * MS
        st.ev(c, "create", c.created)
    lvl0 = ["postgres", "redis", "consul", "prometheus", "node-exporter"]
    for k, s in enumerate(lvl0):
        start_at[s] = t0 + int(1.1 * NS) + k * 61 * MS
    healthy_deps = t0 + int(11.6 * NS)  # first pg_isready / redis-cli ping / consul members pass
    for k, s in enumerate(
        [
            "grafana",
            "model-router",
            "plan-management",
            "git-worktree",
            "workflow-engine",
            "memory-service",
            "tool-registry",
            "auth-service",
            "docs-indexer",
            "a2a-communication",
            "agent-discovery",
        ]
    ):
        start_at[s] = healthy_deps + 400 * MS + k * 57 * MS
    for k, s in enumerate(["agent-pool", "agent-monitor", "frontend", "staff-frontend"]):
        start_at[s] = healthy_deps + int(1.3 * NS) + k * 71 * MS
    for k, s in enumerate(["collaboration-orchestrator", "agent-scheduler", "nginx"]):
        start_at[s] = healthy_deps + int(2.0 * NS) + k * 64 * MS
    start_at["cloudflare-tunnel"] = healthy_deps + int(2.6 * NS)
    for s, c in st.ctrs.items():
        start_container(st, c, start_at[s])
        if s != "agent-monitor":
            c.runs.append((start_at[s], None, None))

    # ---- agent-monitor crash loop: python + fastapi import ~1.6 s, then the traceback, exit 1
    def mon_life(ns: int) -> float:
        return 1.55 + rng.uniform(0.0, 0.35)

    for s in crash_loop(st, mon, start_at["agent-monitor"], end, mon_life, 1):
        base = s + int(1.2 * NS) + rng.randint(0, 200) * MS
        mon.log(base, f"{ts_py(base)} - agent_monitor - INFO - Starting Agent Monitor service")
        b2 = base + rng.randint(30, 90) * MS
        mon.log(
            b2,
            f"{ts_py(b2)} - agent_monitor - INFO - Collectors started: heartbeat, task-latency, resource-usage",
        )
        b3 = b2 + rng.randint(1, 3) * MS
        mon.log(b3, f"{ts_py(b3)} - agent_monitor - INFO - Starting API server on 0.0.0.0:8095")
        mon.log(b3 + rng.randint(2, 6) * MS, AGENT_MONITOR_TB)

    for c in st.ctrs.values():
        for run_start, run_end, _ in c.runs:
            run_health(st, c, run_start, run_end if run_end is not None else end, end)

    # ---- application chatter -------------------------------------------------------------
    gen_postgres(st, pg, start_at["postgres"], end)
    gen_redis(st, redis, start_at["redis"], end)
    gen_consul(st, consul, start_at["consul"], end, [s for s in core] + ["agent-monitor"])
    gen_prometheus(st, prom, start_at["prometheus"], end)
    gen_node_exporter(st, nodeexp, start_at["node-exporter"], end)
    gen_grafana(st, graf, start_at["grafana"], grafana_ready, end)
    for svc, c in core.items():
        port = int(c.ports[0].split("/")[0])
        if svc == "tool-registry":
            gen_go_zap(st, c, start_at[svc], end, port)
        elif svc == "auth-service":
            gen_pino(st, c, start_at[svc], end, port)
        else:
            gen_uvicorn_app(st, c, start_at[svc], end, port, svc)
    for svc in ("agent-scheduler", "agent-discovery"):
        gen_registry_bug(st, core[svc], start_at[svc], end, svc.replace("-", "_"))
    gen_next(st, fe, start_at["frontend"], end, 3000, "14.2.5")
    gen_next(st, sfe, start_at["staff-frontend"], end, 3001, "14.2.5")
    fe_ready = start_at["frontend"] + int(1.9 * NS)
    gen_nginx(
        st, nginx, start_at["nginx"], end, fe_ready, fe.ip, core["model-router"].ip, sfe.ip, cft.ip
    )
    gen_cloudflared(st, cft, start_at["cloudflare-tunnel"], end)

    # ---- write ------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    (out / "compose.log").write_text(compose_logs(st), encoding="utf-8", newline="\n")
    keep_actions = (
        "create",
        "start",
        "die",
        "kill",
        "stop",
        "restart",
        "oom",
        "destroy",
        "health_status",
    )
    n_ev = write_events(
        out / "events.jsonl",
        st,
        lambda d: d.get("Type") == "container" and str(d["Action"]).split(":")[0] in keep_actions,
    )
    w0, w1 = ns_of("2025-08-01T14:25:00"), ns_of("2025-08-01T14:26:00")
    n_probe = write_events(
        out / "events-unfiltered-1min.jsonl", st, lambda d: w0 <= int(d["timeNano"]) < w1
    )  # type: ignore[call-overload]
    docs = [inspect_doc(st, c, end) for c in sorted(st.ctrs.values(), key=lambda x: x.name)]
    (out / "inspect.json").write_text(
        go_json(docs, indent=4) + "\n", encoding="utf-8", newline="\n"
    )
    (out / "ps.txt").write_text(compose_ps(st, end), encoding="utf-8", newline="\n")
    return {"events": n_ev, "probe_events": n_probe, "agent_monitor_restarts": len(mon.runs) - 1}


# --------------------------------------------------------------------------- per-program chatter


def gen_postgres(
    st: Stack,
    c: Ctr,
    start: int,
    end: int,
    version: str = "16.3 (Debian 16.3-1.pgdg120+1)",
    shut_at: str = "2025-08-01 12:29:41 UTC",
    clients: tuple[str, ...] = ("172.18.0.10", "172.18.0.11", "172.18.0.14", "172.18.0.17"),
    user: str = "mcp",
    conns_per_sec: float = 0.05,
) -> None:
    rng = st.rng
    t = start + 40 * MS
    c.log(
        t,
        "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n",
    )
    t += 90 * MS
    for msg in (
        f"[1] LOG:  starting PostgreSQL {version} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
        '[1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        '[1] LOG:  listening on IPv6 address "::", port 5432',
        '[1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
        f"[29] LOG:  database system was shut down at {shut_at}",
        "[1] LOG:  database system is ready to accept connections",
    ):
        t += rng.randint(1, 12) * MS
        c.log(t, f"{ts_pg(t)} {msg}")
    for t in periodic(rng, start + 300 * NS, end, 300.0, 0.0):
        c.log(t, f"{ts_pg(t)} [27] LOG:  checkpoint starting: time")
        w = rng.randint(3, 400)
        t2 = t + int(w * 0.1 * NS) + rng.randint(5, 90) * MS
        lsn = rng.randint(0x1A000000, 0x1F000000)
        c.log(
            t2,
            f"{ts_pg(t2)} [27] LOG:  checkpoint complete: wrote {w} buffers ({w / 163.84:.1f}%); 0 WAL file(s) added, 0 removed, 0 recycled; write={w * 0.1:.3f} s, sync=0.0{rng.randint(10, 99)} s, total={w * 0.1 + 0.05:.3f} s; sync files={rng.randint(2, 40)}, longest=0.00{rng.randint(1, 9)} s, average=0.001 s; distance={w * 9} kB, estimate={w * 9 + 120} kB; lsn=0/{lsn:X}, redo lsn=0/{lsn - 0x48:X}",
        )
    for t in poisson_times(rng, start + 12 * NS, end, conns_per_sec):
        pid = rng.randint(60, 9000)
        ip = rng.choice(clients)
        c.log(
            t,
            f"{ts_pg(t)} [{pid}] LOG:  connection received: host={ip} port={rng.randint(32768, 60999)}",
        )
        t2 = t + rng.randint(1, 4) * MS
        c.log(
            t2,
            f"{ts_pg(t2)} [{pid}] LOG:  connection authorized: user={user} database={user} application_name=",
        )


def gen_redis(st: Stack, c: Ctr, start: int, end: int) -> None:
    rng = st.rng
    t = start + 30 * MS
    for pfx, msg in (
        (
            "1:C",
            "# WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition. Being disabled, it can also cause failures without low memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect.",
        ),
        ("1:C", "* oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
        ("1:C", "* Redis version=7.2.5, bits=64, commit=00000000, modified=0, pid=1, just started"),
        ("1:C", "* Configuration loaded"),
        ("1:M", "* monotonic clock: POSIX clock_gettime"),
        ("1:M", "* Running mode=standalone, port=6379."),
        ("1:M", "* Server initialized"),
        ("1:M", "* Loading RDB produced by version 7.2.5"),
        ("1:M", "* RDB age 19 seconds"),
        ("1:M", "* RDB memory usage when created 1.42 Mb"),
        ("1:M", "* Done loading RDB, keys loaded: 1187, keys expired: 3."),
        ("1:M", "* DB loaded from disk: 0.004 seconds"),
        ("1:M", "* Ready to accept connections tcp"),
    ):
        t += rng.randint(0, 3) * MS
        c.log(t, f"{pfx} {ts_redis(t)} {msg}")
    for t in periodic(rng, start, end, 300.0, 2.0):
        n = rng.randint(100, 4000)
        pid = rng.randint(20, 900)
        c.log(t, f"1:M {ts_redis(t)} * {n} changes in 300 seconds. Saving...")
        c.log(t + MS, f"1:M {ts_redis(t + MS)} * Background saving started by pid {pid}")
        t2 = t + rng.randint(20, 90) * MS
        c.log(t2, f"{pid}:C {ts_redis(t2)} * DB saved on disk")
        c.log(
            t2 + MS,
            f"{pid}:C {ts_redis(t2 + MS)} * Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB",
        )
        t3 = t2 + rng.randint(90, 110) * MS
        c.log(t3, f"1:M {ts_redis(t3)} * Background saving terminated with success")


def gen_consul(st: Stack, c: Ctr, start: int, end: int, services: list[str]) -> None:
    rng = st.rng
    t = start + 200 * MS
    head = (
        "==> Starting Consul agent...\n"
        "               Version: '1.19.1'\n"
        "            Build Date: '2024-07-11 14:39:21 +0000 UTC'\n"
        "               Node ID: 'a4c8e0f2-5d1b-7e23-0c6b-9f1d2a3b4c5e'\n"
        "             Node name: 'consul-dev'\n"
        "            Datacenter: 'dc1' (Segment: '<all>')\n"
        "                Server: true (Bootstrap: false)\n"
        "           Client Addr: [0.0.0.0] (HTTP: 8500, HTTPS: -1, gRPC: 8502, gRPC-TLS: 8503, DNS: 8600)\n"
        "          Cluster Addr: 127.0.0.1 (LAN: 8301, WAN: 8302)\n"
        "     Gossip Encryption: false\n"
        " Auto-Encrypt-TLS: false\n"
        "           ACL Enabled: false\n"
        "     Reporting Enabled: false\n"
        "    ACL Default Policy: allow\n"
        "             HTTPS TLS: Verify Incoming: false, Verify Outgoing: false, Min Version: TLSv1_2\n"
        "              gRPC TLS: Verify Incoming: false, Min Version: TLSv1_2\n"
        "      Internal RPC TLS: Verify Incoming: false, Verify Outgoing: false (Verify Hostname: false), Min Version: TLSv1_2\n"
        "\n"
        "==> Log data will now stream in as it occurs:\n"
    )
    c.log(t, head)
    for msg in (
        '[INFO]  agent.server.raft: initial configuration: index=1 servers="[{Suffrage:Voter ID:a4c8e0f2-5d1b-7e23-0c6b-9f1d2a3b4c5e Address:127.0.0.1:8300}]"',
        '[INFO]  agent.server.raft: entering follower state: follower="Node at 127.0.0.1:8300 [Follower]" leader-address= leader-id=',
        "[INFO]  agent.server.serf.wan: serf: EventMemberJoin: consul-dev.dc1 127.0.0.1",
        "[INFO]  agent.server.serf.lan: serf: EventMemberJoin: consul-dev 127.0.0.1",
        "[INFO]  agent.router: Initializing LAN area manager",
        "[INFO]  agent: Started DNS server: address=0.0.0.0:8600 network=udp",
        "[INFO]  agent: Started HTTP server: address=[::]:8500 network=tcp",
        "[INFO]  agent: started state syncer",
        "==> Consul agent running!",
        "[WARN]  agent.server.raft: heartbeat timeout reached, starting election: last-leader-addr= last-leader-id=",
        '[INFO]  agent.server.raft: entering candidate state: node="Node at 127.0.0.1:8300 [Candidate]" term=2',
        "[INFO]  agent.server.raft: election won: term=2 tally=1",
        '[INFO]  agent.server.raft: entering leader state: leader="Node at 127.0.0.1:8300 [Leader]"',
        "[INFO]  agent.server: cluster leadership acquired",
        "[INFO]  agent.server: New leader elected: payload=consul-dev",
        '[INFO]  agent.leader: started routine: routine="federation state anti-entropy"',
        "[INFO]  agent.server: member joined, marking health alive: member=consul-dev partition=default",
        "[INFO]  agent: Synced node info",
    ):
        t += rng.randint(1, 60) * MS
        c.log(t, msg if msg.startswith("==>") else f"{ts_ms_z(t)} {msg}")
    t = start + 14 * NS
    for s in services:
        t += rng.randint(50, 900) * MS
        c.log(t, f"{ts_ms_z(t)} [INFO]  agent: Synced service: service={s}")
    for t in periodic(rng, start + 30 * NS, end, 61.0, 20.0):
        s = rng.choice(services)
        c.log(t, f"{ts_ms_z(t)} [INFO]  agent: Synced check: check=service:{s}")


def gen_prometheus(st: Stack, c: Ctr, start: int, end: int) -> None:
    rng = st.rng
    t = start + 60 * MS
    lines = [
        (
            "main.go:589",
            'msg="No time or size retention was set so using the default time retention" duration=15d',
        )
        if False
        else (
            "main.go:627",
            'msg="Starting Prometheus Server" mode=server version="(version=2.53.1, branch=HEAD, revision=14cfec3f6048b735e08c1e9c64c8d4211d32bab4)"',
        ),
        (
            "main.go:632",
            'build_context="(go=go1.22.5, platform=linux/amd64, user=root@9f8e5b6970da, date=20240710-10:16:27, tags=netgo,builtinassets,stringlabels)"',
        ),
        (
            "main.go:633",
            'host_details="(Linux 6.8.0-1012-aws #13-Ubuntu SMP Mon Jul 15 13:40:27 UTC 2024 x86_64 prometheus (none))"',
        ),
        ("main.go:634", 'fd_limits="(soft=1048576, hard=1048576)"'),
        ("main.go:635", 'vm_limits="(soft=unlimited, hard=unlimited)"'),
        ("web.go:571", 'component=web msg="Start listening for connections" address=0.0.0.0:9090'),
        ("main.go:1148", 'msg="Starting TSDB ..."'),
        ("tls_config.go:313", 'component=web msg="Listening on" address=[::]:9090'),
        ("tls_config.go:316", 'component=web msg="TLS is disabled." http2=false address=[::]:9090'),
        ("head.go:626", 'component=tsdb msg="Replaying on-disk memory mappable chunks if any"'),
        (
            "head.go:713",
            'component=tsdb msg="On-disk memory mappable chunks replay completed" duration=2.911µs',
        ),
        ("head.go:721", 'component=tsdb msg="Replaying WAL, this may take a while"'),
        ("head.go:793", 'component=tsdb msg="WAL segment loaded" segment=0 maxSegment=0'),
        (
            "head.go:830",
            'component=tsdb msg="WAL replay completed" checkpoint_replay_duration=41.27µs wal_replay_duration=3.204915ms wbl_replay_duration=160ns chunk_snapshot_load_duration=0s mmap_chunk_replay_duration=2.911µs total_replay_duration=3.291187ms',
        ),
        ("main.go:1169", "fs_type=EXT4_SUPER_MAGIC"),
        ("main.go:1172", 'msg="TSDB started"'),
        (
            "main.go:1354",
            'msg="Loading configuration file" filename=/etc/prometheus/prometheus.yml',
        ),
        ("main.go:1391", 'msg="updated GOGC" old=100 new=75'),
        (
            "main.go:1402",
            'msg="Completed loading of configuration file" filename=/etc/prometheus/prometheus.yml totalDuration=1.503128ms db_storage=1.04µs remote_storage=1.31µs web_handler=440ns query_engine=760ns scrape=615.77µs scrape_sd=121.43µs notify=25.14µs notify_sd=9.6µs rules=1.1µs tracing=4.51µs',
        ),
        ("main.go:1133", 'msg="Server is ready to receive web requests."'),
        ("manager.go:164", 'component="rule manager" msg="Starting rule manager..."'),
    ]
    for caller, rest in lines:
        t += rng.randint(0, 4) * MS
        c.log(t, f"ts={ts_ms_z(t)} caller={caller} level=info {rest}")
    # a scrape target that is down is logged at debug only; nothing at info until compaction
    for t in periodic(rng, start + 7200 * NS - 5 * 60 * NS, end, 7200.0, 1.0):
        c.log(
            t,
            f'ts={ts_ms_z(t)} caller=compact.go:576 level=info component=tsdb msg="write block" mint={(t // NS - 7500) * 1000} maxt={(t // NS - 300) * 1000} ulid=01J4BX{hexid("ulid", t)[:20].upper()} duration=412.338102ms ooo=false',
        )
        t2 = t + 80 * MS
        c.log(
            t2,
            f'ts={ts_ms_z(t2)} caller=head.go:1355 level=info component=tsdb msg="Head GC completed" caller=truncateMemory duration=9.371223ms',
        )


def gen_node_exporter(st: Stack, c: Ctr, start: int, end: int) -> None:
    rng = st.rng
    t = start + 20 * MS
    lines = [
        'caller=node_exporter.go:193 level=info msg="Starting node_exporter" version="(version=1.8.2, branch=HEAD, revision=f1e0e8360aa60b6cb5e5cc1560bed348fc2c1895)"',
        'caller=node_exporter.go:194 level=info msg="Build context" build_context="(go=go1.22.5, platform=linux/amd64, user=root@03d440803209, date=20240714-11:53:45, tags=unknown)"',
        'caller=node_exporter.go:196 level=warn msg="Node Exporter is running as root user. This exporter is designed to run as unprivileged user, root is not required."',
        'caller=filesystem_common.go:111 level=info collector=filesystem msg="Parsed flag --collector.filesystem.mount-points-exclude" flag=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
        'caller=diskstats_common.go:111 level=info collector=diskstats msg="Parsed flag --collector.diskstats.device-exclude" flag=^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$',
        'caller=node_exporter.go:111 level=info msg="Enabled collectors"',
    ]
    for col in (
        "arp",
        "bcache",
        "bonding",
        "btrfs",
        "conntrack",
        "cpu",
        "cpufreq",
        "diskstats",
        "dmi",
        "edac",
        "entropy",
        "fibrechannel",
        "filefd",
        "filesystem",
        "hwmon",
        "infiniband",
        "ipvs",
        "loadavg",
        "mdadm",
        "meminfo",
        "netclass",
        "netdev",
        "netstat",
        "nfs",
        "nfsd",
        "nvme",
        "os",
        "powersupplyclass",
        "pressure",
        "rapl",
        "schedstat",
        "selinux",
        "sockstat",
        "softnet",
        "stat",
        "tapestats",
        "textfile",
        "thermal_zone",
        "time",
        "timex",
        "udp_queues",
        "uname",
        "vmstat",
        "watchdog",
        "xfs",
        "zfs",
    ):
        lines.append(f"caller=node_exporter.go:118 level=info collector={col}")
    lines += [
        'caller=tls_config.go:313 level=info msg="Listening on" address=[::]:9100',
        'caller=tls_config.go:316 level=info msg="TLS is disabled." http2=false address=[::]:9100',
    ]
    for ln in lines:
        t += rng.randint(0, 2) * MS
        c.log(t, f"ts={ts_ms_z(t)} {ln}")


def gen_grafana(st: Stack, c: Ctr, start: int, ready: int, end: int) -> None:
    rng = st.rng
    t = start + 300 * MS

    def g(t: int, logger: str, msg: str, level: str = "info") -> None:
        c.log(t, f"logger={logger} t={ts_nano(t)} level={level} msg={msg}")

    g(
        t,
        "settings",
        '"Starting Grafana" version=11.1.3 commit=beac3bdbcb0aef1e4fb4e2d8a3e07e3b79d6a0b8 branch=HEAD compiled=2024-07-17T15:55:54Z',
    )
    for k, v in (
        ("cfg", '"Config loaded from" file=/usr/share/grafana/conf/defaults.ini'),
        (
            "cfg",
            '"Config overridden from Environment variable" var="GF_PATHS_DATA=/var/lib/grafana"',
        ),
        ("cfg", '"Config overridden from Environment variable" var="GF_DATABASE_TYPE=postgres"'),
        (
            "cfg",
            '"Config overridden from Environment variable" var="GF_DATABASE_PASSWORD=*********"',
        ),
        (
            "cfg",
            '"Config overridden from Environment variable" var="GF_SECURITY_ADMIN_PASSWORD=*********"',
        ),
        ("paths", '"Path Home" path=/usr/share/grafana'),
        ("paths", '"Path Data" path=/var/lib/grafana'),
        ("paths", '"Path Logs" path=/var/log/grafana'),
        ("paths", '"Path Plugins" path=/var/lib/grafana/plugins'),
        ("paths", '"Path Provisioning" path=/etc/grafana/provisioning'),
        ("settings", '"App mode production"'),
        (
            "featuremgmt",
            '"FeatureToggles" managedPluginsInstall=true prometheusConfigOverhaulAuth=true lokiQuerySplitting=true dashgpt=true',
        ),
        ("sqlstore", '"Connecting to DB" dbtype=postgres'),
        ("migrator", '"Starting DB migrations"'),
    ):
        t += rng.randint(1, 30) * MS
        g(t, k, v)
    step = (ready - 2 * NS - t) // (len(GRAFANA_MIGRATIONS) + 1)
    for mid in GRAFANA_MIGRATIONS:
        t += step + rng.randint(-5, 5) * MS
        g(t, "migrator", f'"Executing migration" id="{mid}"')
    t += 40 * MS
    g(
        t,
        "migrator",
        f'"migrations completed" performed={len(GRAFANA_MIGRATIONS)} skipped=0 duration={(t - start) / NS - 0.4:.4f}s',
    )
    for k, v in (
        ("secrets", '"Envelope encryption state" enabled=true currentprovider=secretKey.v1'),
        (
            "plugin.angulardetectorsprovider.dynamic",
            '"Restored cache from database" duration=0.00041s',
        ),
        ("plugin.store", '"Loading plugins..."'),
        ("plugin.store", '"Plugins loaded" count=55 duration=112.3ms'),
        ("query_data", '"Query Service initialization"'),
        ("live.push_http", '"Live Push Gateway initialization"'),
        (
            "provisioning.datasources",
            '"inserting datasource from configuration" name=Prometheus uid=PBFA97CFB590B2093',
        ),
        ("provisioning.dashboard", '"starting to provision dashboards"'),
        ("provisioning.dashboard", '"finished to provision dashboards"'),
        ("http.server", '"HTTP Server Listen" address=[::]:3000 protocol=http subUrl= socket='),
        ("ngalert.state.manager", '"Warming state cache for startup"'),
        ("ngalert.multiorg.alertmanager", '"Starting MultiOrg Alertmanager"'),
        ("ngalert.state.manager", '"State cache has been initialized" states=0 duration=3.41ms'),
        ("ngalert.scheduler", '"Starting scheduler" tickInterval=10s maxAttempts=1'),
        ("ticker", '"starting" first_tick=2025-08-01T12:31:10Z'),
        ("grafana.update.checker", '"Update check succeeded" duration=88.43ms'),
        ("plugins.update.checker", '"Update check succeeded" duration=121.05ms'),
    ):
        t = (
            max(t + rng.randint(5, 60) * MS, ready - 600 * MS)
            if k == "http.server"
            else t + rng.randint(5, 60) * MS
        )
        g(t, k, v)
    for t in periodic(rng, start, end, 600.0, 3.0):
        g(
            t,
            "cleanup",
            f'"Completed cleanup jobs" duration={rng.randint(5, 40)}.{rng.randint(100, 999)}ms',
        )
    for t in periodic(rng, start + 900 * NS, end, 1800.0, 30.0):
        g(t, "infra.usagestats", '"Usage stats are ready to report"')
    for t in poisson_times(rng, ready, end, 1 / 240):
        g(
            t,
            "context",
            f'userId=1 orgId=1 uname=admin t={ts_nano(t)} level=info msg="Request Completed" method=GET path=/api/live/ws status=-1 remote_addr=172.18.0.5 time_ms=1 duration=1.{rng.randint(100, 999)}ms size=0 referer= handler=/api/live/ws status_source=server'.split(
                " t="
            )[0].replace("userId=1 orgId=1 uname=admin", "")
            if False
            else '"Request Completed" method=GET path=/api/live/ws status=-1 remote_addr=172.18.0.5 time_ms=1 size=0 referer= handler=/api/live/ws status_source=server',
        )


APP_INFO = {
    "model-router": [
        "Routed completion request model={m} provider=anthropic latency_ms={n}",
        "Model catalogue refreshed: {k} models",
        "Routed embedding request model=text-embedding-3-small latency_ms={n}",
    ],
    "plan-management": [
        "Plan {u} updated: {k} steps",
        "Created plan {u} for workspace {k}",
        "Archived {k} completed plans",
    ],
    "git-worktree": [
        "Created worktree /worktrees/{u} from origin/main",
        "Pruned {k} stale worktrees",
        "Fetched origin in {n} ms",
    ],
    "workflow-engine": [
        "workflow {u} step {k} completed",
        "workflow {u} started",
        "workflow {u} finished status=succeeded",
    ],
    "memory-service": [
        "Stored {k} memories for agent agent-{k}",
        "Vector search k={k} took {n} ms",
        "Compacted memory shard {k}",
    ],
    "docs-indexer": [
        "Indexed {k}0 documents in {n} ms (0 errors)",
        "Re-indexing repository mcp-platform",
        "Index snapshot written",
    ],
    "a2a-communication": [
        "Delivered message {u} from agent-{k} to agent-{n}",
        "WebSocket client agent-{k} connected",
        "WebSocket client agent-{k} disconnected",
    ],
    "agent-pool": [
        "Leased agent-{k} to task {u}",
        "Returned agent-{k} to pool ({n} idle)",
        "Pool size 16, idle {k}",
    ],
    "collaboration-orchestrator": [
        "Session {u} started with {k} agents",
        "Session {u} round {k} done",
        "Session {u} closed",
    ],
    "agent-scheduler": ["Scheduled task {u} on queue default", "Queue depth {k}"],
    "agent-discovery": ["Discovery heartbeat ok ({k} watchers)"],
}
JSON_SVCS = {"workflow-engine", "collaboration-orchestrator", "model-router"}


def gen_uvicorn_app(st: Stack, c: Ctr, start: int, end: int, port: int, svc: str) -> None:
    rng = st.rng
    mod = svc.replace("-", "_")
    t = start + int(rng.uniform(1.4, 2.4) * NS)
    if svc == "model-router":
        c.log(
            t - 200 * MS,
            f"{ts_py(t - 200 * MS)} - model_router.settings - DEBUG - Loaded settings: "
            "{'providers': ['anthropic', 'openai'], 'request_timeout': 60.0, 'max_retries': 3, "
            "'retry_on': ('TimeoutError', 'ConnectionError', 'httpx.ReadTimeout'), 'cache_ttl': 300}",
        )
    if svc == "agent-pool":
        c.log(
            t - 300 * MS,
            f"{ts_py(t - 300 * MS)} - agent_pool.redis - WARNING - Redis not ready, retrying in 1s: Error 111 connecting to redis:6379. Connection refused.",
        )
        c.log(
            t - 100 * MS,
            f"{ts_py(t - 100 * MS)} - agent_pool.redis - INFO - Connected to redis:6379",
        )
    c.log(
        t,
        UVICORN_START.format(port=port).replace(
            "Started server process [1]", "Started server process [1]"
        ),
    )
    prom_ip = "172.18.0.6"
    for tt in periodic(rng, start + 5 * NS, end, 30.0, 0.01):
        if svc in (
            "model-router",
            "a2a-communication",
            "agent-pool",
            "agent-scheduler",
            "memory-service",
        ):
            c.log(tt, uvicorn_access(prom_ip, rng.randint(33000, 60000), "GET", "/metrics", 200))
    sick = svc in ("agent-scheduler", "agent-discovery")
    for p in c.probes:
        c.log(
            p.start + 2 * MS,
            uvicorn_access(
                "127.0.0.1", rng.randint(33000, 60000), "GET", "/health", 503 if sick else 200
            ),
        )
    rate = {
        "model-router": 0.03,
        "plan-management": 0.012,
        "memory-service": 0.015,
        "a2a-communication": 0.015,
    }.get(svc, 0.008)
    nginx_ip = "172.18.0.5"
    for tt in poisson_times(rng, start + 30 * NS, end, rate):
        k, n, u = rng.randint(1, 64), rng.randint(12, 2400), hexid("u", tt)[:8]
        if rng.random() < 0.6:
            path = rng.choice(
                [
                    "/v1/plans",
                    f"/v1/plans/{u}",
                    "/v1/route",
                    "/v1/memories/search",
                    "/v1/messages",
                    "/v1/agents",
                ]
            )
            code = rng.choice([200] * 30 + [201, 204, 404, 422])
            c.log(
                tt,
                uvicorn_access(
                    nginx_ip
                    if svc in ("model-router", "plan-management")
                    else "172.18.0." + str(rng.randint(10, 25)),
                    rng.randint(33000, 60000),
                    rng.choice(["GET", "GET", "POST"]),
                    path,
                    code,
                ),
            )
        msg = rng.choice(APP_INFO[svc]).format(
            k=k, n=n, u=u, m=rng.choice(["claude-sonnet-4", "claude-3-5-haiku", "gpt-4o-mini"])
        )
        if svc in JSON_SVCS:
            c.log(
                tt + MS,
                go_json(
                    {
                        "timestamp": ts_ms_z(tt).replace("Z", "+00:00"),
                        "level": "info",
                        "logger": mod,
                        "event": msg,
                    }
                )
                .replace(",", ", ")
                .replace('":', '": '),
            )
        else:
            c.log(tt + MS, f"{ts_py(tt)} - {mod} - INFO - {msg}")
        if rng.random() < 0.03:
            c.log(tt + 5 * MS, f"{ts_py(tt)} - {mod} - WARNING - Slow request: {n * 3} ms")


def gen_registry_bug(st: Stack, c: Ctr, start: int, end: int, pkg: str) -> None:
    rng = st.rng
    first = True
    for tt in periodic(rng, start + 2600 * MS, end, 60.0, 0.002):
        c.log(tt, REGISTRY_TB.format(ts=ts_py(tt), mod=f"{pkg}.registry", pkg=pkg))
        if first:
            c.log(tt + 300_000, REGISTRY_WARN.format(pkg=pkg))
            first = False


def gen_go_zap(st: Stack, c: Ctr, start: int, end: int, port: int) -> None:
    rng = st.rng

    def z(t: int, level: str, caller: str, msg: str, **kv: object) -> None:
        d: dict[str, object] = {
            "level": level,
            "ts": round(t / NS, 6),
            "caller": caller,
            "msg": msg,
        }
        d.update(kv)
        c.log(t, go_json(d))

    t = start + 30 * MS
    z(t, "info", "cmd/main.go:48", "starting tool-registry", version="1.6.2", commit="4f1c2d9")
    z(
        t + 2 * MS,
        "info",
        "internal/config/config.go:71",
        "config loaded",
        path="/etc/tool-registry/config.yaml",
    )
    z(
        t + 40 * MS,
        "info",
        "internal/consul/client.go:55",
        "registered with consul",
        service="tool-registry",
        address="172.18.0.15:8006",
    )
    z(t + 41 * MS, "info", "cmd/main.go:92", "http server listening", addr=f":{port}")
    for tt in poisson_times(rng, start + 10 * NS, end, 0.05):
        tool = rng.choice(
            ["git.diff", "fs.read", "fs.write", "shell.exec", "http.fetch", "search.code"]
        )
        z(
            tt,
            "info",
            "internal/api/handlers.go:133",
            "tool resolved",
            tool=tool,
            duration_ms=rng.randint(1, 40),
        )
    for tt in periodic(rng, start, end, 300.0, 0.5):
        z(
            tt,
            "debug" if False else "info",
            "internal/catalog/sync.go:88",
            "catalog synced",
            tools=rng.randint(140, 148),
        )


def gen_pino(st: Stack, c: Ctr, start: int, end: int, port: int) -> None:
    rng = st.rng
    host = c.id[:12]

    def p(t: int, level: int, msg: str, **kv: object) -> None:
        d: dict[str, object] = {"level": level, "time": t // MS, "pid": 1, "hostname": host}
        d.update(kv)
        d["msg"] = msg
        c.log(t, go_json(d))

    t = start + 600 * MS
    p(t, 30, "connected to redis", redis="redis://redis:6379")
    p(t + 30 * MS, 30, f"auth-service listening on port {port}")
    for tt in poisson_times(rng, start + 20 * NS, end, 0.04):
        code = rng.choice([200] * 20 + [401, 401, 403])
        p(
            tt,
            30,
            "request completed",
            req={"method": "POST", "url": "/v1/token/verify"},
            res={"statusCode": code},
            responseTime=rng.randint(1, 30),
        )
        if code != 200 and rng.random() < 0.5:
            p(
                tt - MS,
                40,
                "token verification failed",
                reason=rng.choice(["jwt expired", "invalid signature"]),
            )


def gen_next(st: Stack, c: Ctr, start: int, end: int, port: int, version: str) -> None:
    rng = st.rng
    t = start + 700 * MS
    c.log(
        t,
        f"  \u25b2 Next.js {version}\n  - Local:        http://localhost:{port}\n  - Network:      http://0.0.0.0:{port}\n",
    )
    c.log(t + 3 * MS, " \u2713 Starting...")
    c.log(t + 1200 * MS, f" \u2713 Ready in {1100 + rng.randint(0, 300)}ms")


def gen_nginx(
    st: Stack,
    c: Ctr,
    start: int,
    end: int,
    fe_ready: int,
    fe_ip: str,
    api_ip: str,
    sfe_ip: str,
    cft_ip: str,
) -> None:
    rng = st.rng
    t = start + 10 * MS
    for ln in (
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
        "10-listen-on-ipv6-by-default.sh: info: /etc/nginx/conf.d/default.conf differs from the packaged version",
        "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
    ):
        t += rng.randint(1, 6) * MS
        c.log(t, ln)
    for ln in (
        'using the "epoll" event method',
        "nginx/1.27.0",
        "built by gcc 13.2.1 20240309 (Alpine 13.2.1_git20240309) ",
        "OS: Linux 6.8.0-1012-aws",
        "getrlimit(RLIMIT_NOFILE): 1048576:1048576",
        "start worker processes",
        "start worker process 29",
        "start worker process 30",
    ):
        t += rng.randint(0, 2) * MS
        c.log(t, f"{ts_nginx_err(t)} [notice] 1#1: {ln}")
    uas = [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0",
    ]
    for conn, tt in enumerate(poisson_times(rng, start + 800 * MS, end, 0.22), 1):
        client = f"{rng.randint(20, 220)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"
        r = rng.random()
        if r < 0.45:
            path, up = (
                rng.choice(
                    [
                        "/",
                        "/dashboard",
                        "/agents",
                        "/plans",
                        "/_next/static/chunks/main-app-4f3c2a1b.js",
                        "/_next/static/css/7e0a2b1c.css",
                        "/favicon.ico",
                    ]
                ),
                fe_ip + ":3000",
            )
        elif r < 0.6:
            path, up = (
                rng.choice(
                    ["/staff", "/staff/login", "/staff/_next/static/chunks/webpack-91d2c3.js"]
                ),
                sfe_ip + ":3001",
            )
        else:
            path, up = (
                rng.choice(
                    [
                        "/api/v1/route",
                        "/api/v1/plans",
                        "/api/v1/plans?status=active",
                        "/api/errors/summary",
                        "/api/v1/agents",
                    ]
                ),
                api_ip + ":8001",
            )
        method = "POST" if path == "/api/v1/route" else "GET"
        if up.startswith(fe_ip) and tt < fe_ready:
            c.log(
                tt,
                f'{ts_nginx_err(tt)} [error] 29#29: *{conn} connect() failed (111: Connection refused) while connecting to upstream, client: {cft_ip}, server: _, request: "{method} {path} HTTP/1.1", upstream: "http://{up}{path}", host: "mcp.example.com"',
            )
            code, size = 502, 157
        else:
            code = (
                rng.choice([200] * 25 + [304, 304, 404])
                if "static" in path or path in ("/", "/favicon.ico")
                else rng.choice([200] * 30 + [201, 401, 404])
            )
            size = rng.randint(300, 90000) if code == 200 else rng.randint(0, 200)
        ua = rng.choice(uas)
        c.log(
            tt + 3 * MS,
            f'{cft_ip} - - [{ts_clf(tt)}] "{method} {path} HTTP/1.1" {code} {size} "https://mcp.example.com/" "{ua}" "{client}"',
        )
    for p in c.probes:
        c.log(
            p.start + MS,
            f'127.0.0.1 - - [{ts_clf(p.start)}] "GET /nginx-health HTTP/1.1" 200 2 "-" "Wget" "-"',
        )


def gen_cloudflared(st: Stack, c: Ctr, start: int, end: int) -> None:
    rng = st.rng
    t = start + 20 * MS
    conn_ids = [
        hexid("cf", i)[:8]
        + "-"
        + hexid("cf", i)[8:12]
        + "-"
        + hexid("cf", i)[12:16]
        + "-"
        + hexid("cf", i)[16:20]
        + "-"
        + hexid("cf", i)[20:32]
        for i in range(4)
    ]
    lines = [
        "INF Starting tunnel tunnelID=6ff42ae2-765d-4adf-8112-31c55c1551ef",
        "INF Version 2025.7.0 (Checksum 2a1f9b1d66c4bb51e6e9f1d5d1e6aa3e8a0c4c2a7b9e3d5f1a2b3c4d5e6f7a8b)",
        "INF GOOS: linux, GOVersion: go1.24.2, GoArch: amd64",
        "INF Settings: map[metrics:0.0.0.0:2000 no-autoupdate:true token:*****]",
        "INF Generated Connector ID: 4c0b8f5e-2f0a-4a3e-9d7c-1b2e3f4a5b6c",
        "INF Initial protocol quic",
        "INF ICMP proxy will use 172.18.0.33 as source for IPv4",
        "INF ICMP proxy will use :: as source for IPv6",
        "INF Starting metrics server on [::]:2000/metrics",
    ]
    for ln in lines:
        t += rng.randint(1, 20) * MS
        c.log(t, f"{ts_sec_z(t)} {ln}")
    for i, (ip, loc) in enumerate(
        (
            ("198.41.192.107", "ams08"),
            ("198.41.200.13", "fra10"),
            ("198.41.192.57", "ams16"),
            ("198.41.200.193", "fra21"),
        )
    ):
        t += rng.randint(80, 400) * MS
        c.log(
            t,
            f"{ts_sec_z(t)} INF Registered tunnel connection connIndex={i} connection={conn_ids[i]} event=0 ip={ip} location={loc} protocol=quic",
        )
    for tt in poisson_times(rng, start + 1800 * NS, end, 1 / 2400):
        i = rng.randint(0, 3)
        c.log(
            tt,
            f'{ts_sec_z(tt)} ERR failed to run the datagram handler error="timeout: no recent network activity" connIndex={i} event=0 ip=198.41.192.107',
        )
        c.log(
            tt + 2 * MS,
            f'{ts_sec_z(tt)} ERR failed to serve tunnel connection error="timeout: no recent network activity" connIndex={i} event=0 ip=198.41.192.107',
        )
        c.log(
            tt + 3 * MS,
            f"{ts_sec_z(tt)} INF Retrying connection in up to 1s connIndex={i} event=0 ip=198.41.192.107",
        )
        tt2 = tt + int(1.2 * NS)
        c.log(
            tt2,
            f"{ts_sec_z(tt2)} INF Registered tunnel connection connIndex={i} connection={conn_ids[i]} event=0 ip=198.41.192.107 location=ams08 protocol=quic",
        )


def shape(name: str, **subst: str) -> str:
    """A traceback captured from a real run (sample_logs/_shapes/), with names shifted."""
    text = (HERE / "_shapes" / name).read_text(encoding="utf-8").rstrip("\n")
    for old, new in subst.items():
        text = text.replace(old, new)
    return text


def compose_v1_ps(st: Stack, end: int) -> str:
    rows = []
    for c in sorted(st.ctrs.values(), key=lambda x: x.name):
        full = " ".join((c.entrypoint or []) + c.cmd)
        cmd = full if len(full) <= 30 else full[:26] + " ..."
        hs = health_state(c, end)
        state = "Up" + (f" ({hs['Status']})" if hs else "")
        rows.append((c.name, cmd, state, c.ps_ports))
    w = [max(len(r[i]) for r in [*rows, ("Name", "Command", "State", "Ports")]) for i in range(3)]
    head = f"{'Name':^{w[0] + 2}}{'Command':^{w[1] + 4}}{'State':^{w[2] + 4}}Ports"
    out = [head.rstrip(), "-" * (len(head) + 10)]
    for r in rows:
        out.append(f"{r[0]:<{w[0]}}   {r[1]:<{w[1]}}   {r[2]:<{w[2]}}   {r[3]}".rstrip())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- incident 2


def build_postgres_oom(out: Path) -> dict[str, object]:
    st = Stack("shop", seed=20250914, v1=True)
    rng = st.rng
    t0 = ns_of("2025-09-14T13:00:00")
    end = ns_of("2025-09-14T14:31:12")
    kw = {"compose_version": "1.29.2", "working_dir": "/opt/shop"}
    db = st.add(
        Ctr(
            "shop",
            "db",
            "postgres:15.8",
            "172.20.0.2",
            ["postgres", "-c", "shared_buffers=256MB", "-c", "work_mem=64MB"],
            entrypoint=["docker-entrypoint.sh"],
            memory=1073741824,
            restart="always",
            ports=["5432/tcp"],
            ps_ports="5432/tcp",
            health=Health(
                ["CMD-SHELL", "pg_isready -U shop"],
                10,
                5,
                5,
                probe=lambda ns: (0, "/var/run/postgresql:5432 - accepting connections\n", 0.03),
            ),
            **kw,
        )
    )
    redis = st.add(
        Ctr(
            "shop",
            "redis",
            "redis:7.2.5-alpine",
            "172.20.0.3",
            ["redis-server"],
            entrypoint=["docker-entrypoint.sh"],
            ports=["6379/tcp"],
            ps_ports="6379/tcp",
            **kw,
        )
    )
    api = st.add(
        Ctr(
            "shop",
            "api",
            "shop_api",
            "172.20.0.4",
            ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"],
            ports=["8000/tcp"],
            ps_ports="0.0.0.0:8000->8000/tcp",
            **kw,
        )
    )
    worker = st.add(
        Ctr(
            "shop",
            "worker",
            "shop_worker",
            "172.20.0.5",
            ["celery", "-A", "app.tasks", "worker", "-B", "--loglevel=INFO"],
            **kw,
        )
    )
    web = st.add(
        Ctr(
            "shop",
            "web",
            "shop_web",
            "172.20.0.6",
            ["node", "server.js"],
            entrypoint=["docker-entrypoint.sh"],
            ports=["3000/tcp"],
            ps_ports="0.0.0.0:3000->3000/tcp",
            **kw,
        )
    )
    for k, c in enumerate(st.ctrs.values()):
        c.created = t0 - 2 * NS + k * 40 * MS
        st.ev(c, "create", c.created)
    starts = {
        "db": t0 + 300 * MS,
        "redis": t0 + 320 * MS,
        "api": t0 + 900 * MS,
        "worker": t0 + 950 * MS,
        "web": t0 + NS,
    }
    for s, c in st.ctrs.items():
        start_container(st, c, starts[s])
    # OOM kills: #1 a backend (container survives), #2 and #3 the postmaster (exit 137, restart: always)
    oom1 = ns_of("2025-09-14T14:02:10") + 511 * MS
    kills = [ns_of("2025-09-14T14:06:31") + 204 * MS, ns_of("2025-09-14T14:08:47") + 866 * MS]
    st.ev(db, "oom", oom1)
    db.runs.append((starts["db"], kills[0], 137))
    restarts = []
    for i, k in enumerate(kills):
        st.ev(db, "oom", k - 2 * MS)
        st.ev(db, "die", k, exitCode="137")
        st.net_ev(db, "disconnect", k + 15 * MS)
        r = k + 100 * MS + rng.randint(3, 9) * MS
        start_container(st, db, r)
        restarts.append(r)
        db.runs.append(
            (r, kills[i + 1] if i + 1 < len(kills) else None, 137 if i + 1 < len(kills) else None)
        )
    db.oom_killed = True
    for c in (redis, api, worker, web):
        c.runs.append((starts[c.service], None, None))
    for run_start, run_end, _ in db.runs:
        run_health(st, db, run_start, run_end or end, end)
    gen_postgres(
        st,
        db,
        starts["db"],
        end,
        version="15.8 (Debian 15.8-1.pgdg120+1)",
        shut_at="2025-09-14 12:58:12 UTC",
        clients=("172.20.0.4", "172.20.0.5", "172.20.0.6"),
        user="shop",
        conns_per_sec=0.02,
    )
    db.logs = [
        x
        for x in db.logs
        if not (kills[0] <= x[0] and "checkpoint" in x[1] and x[0] < kills[0] + 5 * NS)
    ]
    gen_redis(st, redis, starts["redis"], end)
    # --- the OOM story in postgres' own words
    q = "SELECT o.customer_id, date_trunc('day', o.created_at) AS day, sum(i.quantity * i.unit_price) AS revenue FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY 1, 2 ORDER BY 3 DESC;"
    t = oom1
    for pid, msg in (
        (1, "LOG:  server process (PID 4187) was terminated by signal 9: Killed"),
        (1, f"DETAIL:  Failed process was running: {q}"),
        (1, "LOG:  terminating any other active server processes"),
        (1, "LOG:  all server processes terminated; reinitializing"),
        (4190, "LOG:  database system was interrupted; last known up at 2025-09-14 14:00:03 UTC"),
        (4192, "FATAL:  the database system is in recovery mode"),
        (4190, "LOG:  database system was not properly shut down; automatic recovery in progress"),
        (4190, "LOG:  redo starts at 0/3A5F1B8"),
        (4190, "LOG:  invalid record length at 0/3B1C0E0: wanted 24, got 0"),
        (
            4190,
            "LOG:  redo done at 0/3B1C0A8 system usage: CPU: user: 0.04 s, system: 0.02 s, elapsed: 0.09 s",
        ),
        (4191, "LOG:  checkpoint starting: end-of-recovery immediate wait"),
        (
            4191,
            "LOG:  checkpoint complete: wrote 912 buffers (5.6%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.041 s, sync=0.011 s, total=0.061 s; sync files=48, longest=0.003 s, average=0.001 s; distance=757 kB, estimate=757 kB",
        ),
        (1, "LOG:  database system is ready to accept connections"),
    ):
        t += rng.randint(5, 300) * MS
        db.log(t, f"{ts_pg(t)} [{pid}] {msg}")
    recovered = [oom1 + int(2.2 * NS)]
    for r in restarts:
        t = r + 60 * MS
        db.log(
            t,
            "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n",
        )
        t += int(0.9 * NS)
        for pid, msg in (
            (
                1,
                "LOG:  starting PostgreSQL 15.8 (Debian 15.8-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
            ),
            (1, 'LOG:  listening on IPv4 address "0.0.0.0", port 5432'),
            (1, 'LOG:  listening on IPv6 address "::", port 5432'),
            (1, 'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'),
            (
                28,
                f"LOG:  database system was interrupted; last known up at {ts_pg(r - 60 * NS)[:19]} UTC",
            ),
            (31, "FATAL:  the database system is starting up"),
            (
                28,
                "LOG:  database system was not properly shut down; automatic recovery in progress",
            ),
            (28, "LOG:  redo starts at 0/3C01A28"),
            (28, "LOG:  invalid record length at 0/3C9E2F0: wanted 24, got 0"),
            (
                28,
                "LOG:  redo done at 0/3C9E2B8 system usage: CPU: user: 0.03 s, system: 0.01 s, elapsed: 0.07 s",
            ),
            (29, "LOG:  checkpoint starting: end-of-recovery immediate wait"),
            (
                29,
                "LOG:  checkpoint complete: wrote 604 buffers (3.7%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.031 s, sync=0.009 s, total=0.048 s; sync files=41, longest=0.002 s, average=0.001 s; distance=630 kB, estimate=630 kB",
            ),
            (1, "LOG:  database system is ready to accept connections"),
        ):
            t += rng.randint(3, 400) * MS
            db.log(t, f"{ts_pg(t)} [{pid}] {msg}")
        recovered.append(t)
    # --- clients
    refused = shape(
        "sqlalchemy_refused.txt",
        **{'"127.0.0.1", port 5999': '"db" (172.20.0.2), port 5432', "app.run_report": "app.tasks"},
    )
    refused_tail = refused[refused.index("psycopg2.OperationalError") :].split("\n")[:2]
    down = [
        (k, k + int(1.1 * NS)) for k in kills
    ]  # between die and postgres listening again: refused
    starting = [
        (a, b) for a, b in zip([k + int(1.1 * NS) for k in kills], recovered[1:], strict=True)
    ] + [(oom1, recovered[0])]

    def db_state(ns: int) -> str:
        if any(a <= ns < b for a, b in down):
            return "refused"
        for a, b in starting:
            if a <= ns < b:
                return "recovery" if a == oom1 else "starting"
        return "ok"

    api.log(starts["api"] + int(1.5 * NS), UVICORN_START.format(port=8000))
    for tt in poisson_times(rng, starts["api"] + 3 * NS, end, 0.25):
        stt = db_state(tt)
        path = rng.choice(
            ["/api/orders", "/api/products", "/api/cart", "/api/orders/recent", "/healthz"]
        )
        if stt == "ok":
            api.log(
                tt,
                uvicorn_access(
                    "172.20.0.6",
                    rng.randint(33000, 60000),
                    "GET",
                    path,
                    rng.choice([200] * 20 + [404]),
                ),
            )
        else:
            why = {
                "refused": "\n".join(refused_tail),
                "recovery": 'connection to server at "db" (172.20.0.2), port 5432 failed: FATAL:  the database system is in recovery mode',
                "starting": 'connection to server at "db" (172.20.0.2), port 5432 failed: FATAL:  the database system is starting up',
            }[stt]
            if stt == "refused":
                api.log(
                    tt,
                    "ERROR:    Exception in ASGI application\n"
                    + refused.replace('"<frozen runpy>"', '"<frozen runpy>"'),
                )
            else:
                api.log(
                    tt,
                    f"ERROR:    Exception in ASGI application\nsqlalchemy.exc.OperationalError: (psycopg2.OperationalError) {why}\n\n(Background on this error at: https://sqlalche.me/e/20/e3q8)",
                )
            api.log(
                tt + 2 * MS,
                uvicorn_access("172.20.0.6", rng.randint(33000, 60000), "GET", path, 500),
            )
    w = worker
    t = starts["worker"] + int(2.1 * NS)
    w.log(
        t,
        " \n -------------- celery@4f2a9c1e7b3d v5.4.0 (opalescent)\n--- ***** ----- \n-- ******* ---- Linux-6.8.0-1012-aws-x86_64-with-glibc2.36 2025-09-14 13:00:03\n- *** --- * --- \n- ** ---------- [config]\n- ** ---------- .> app:         app.tasks:0x7f3c2a1b4d90\n- ** ---------- .> transport:   redis://redis:6379/0\n- ** ---------- .> results:     disabled://\n- *** --- * --- .> concurrency: 2 (prefork)\n-- ******* ---- .> task events: OFF (enable -E to monitor tasks in this worker)\n--- ***** ----- \n -------------- [queues]\n                .> celery           exchange=celery(direct) key=celery\n                \n\n[tasks]\n  . app.tasks.build_sales_report\n  . app.tasks.send_order_email\n  . app.tasks.sync_inventory\n",
    )
    w.log(
        t + 300 * MS, f"[{ts_py(t + 300 * MS)}: INFO/MainProcess] Connected to redis://redis:6379/0"
    )
    w.log(
        t + 310 * MS, f"[{ts_py(t + 310 * MS)}: INFO/MainProcess] mingle: searching for neighbors"
    )
    w.log(t + 1310 * MS, f"[{ts_py(t + 1310 * MS)}: INFO/MainProcess] mingle: all alone")
    w.log(t + 1330 * MS, f"[{ts_py(t + 1330 * MS)}: INFO/MainProcess] celery@4f2a9c1e7b3d ready.")
    w.log(t + 1400 * MS, f"[{ts_py(t + 1400 * MS)}: INFO/Beat] beat: Starting...")
    for tt in periodic(rng, starts["worker"] + 30 * NS, end, 60.0, 0.01):
        uid = hexid("task", tt)
        u = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
        w.log(
            tt,
            f"[{ts_py(tt)}: INFO/Beat] Scheduler: Sending due task sync-inventory (app.tasks.sync_inventory)",
        )
        w.log(
            tt + 5 * MS,
            f"[{ts_py(tt + 5 * MS)}: INFO/MainProcess] Task app.tasks.sync_inventory[{u}] received",
        )
        stt = db_state(tt + 30 * MS)
        if stt == "ok":
            w.log(
                tt + 200 * MS,
                f"[{ts_py(tt + 200 * MS)}: INFO/ForkPoolWorker-{rng.randint(1, 2)}] Task app.tasks.sync_inventory[{u}] succeeded in 0.{rng.randint(100, 999)}s: None",
            )
        else:
            msg = (
                refused_tail[0]
                if stt == "refused"
                else 'connection to server at "db" (172.20.0.2), port 5432 failed: FATAL:  the database system is starting up'
            )
            w.log(
                tt + 40 * MS,
                f"[{ts_py(tt + 40 * MS)}: ERROR/ForkPoolWorker-1] Task app.tasks.sync_inventory[{u}] raised unexpected: OperationalError('(psycopg2.OperationalError) {msg}')\n"
                + refused,
            )
    for i, tt in enumerate(
        [ns_of("2025-09-14T14:00:00") + 3 * MS, oom1 + 125 * NS, kills[0] + 120 * NS]
    ):
        uid = hexid("report", i)
        u = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
        if i == 0:
            w.log(
                tt,
                f"[{ts_py(tt)}: INFO/Beat] Scheduler: Sending due task build-sales-report (app.tasks.build_sales_report)",
            )
        w.log(
            tt + 4 * MS,
            f"[{ts_py(tt + 4 * MS)}: INFO/MainProcess] Task app.tasks.build_sales_report[{hexid('report', 0)[:8]}-{hexid('report', 0)[8:12]}-{hexid('report', 0)[12:16]}-{hexid('report', 0)[16:20]}-{hexid('report', 0)[20:32]}] received",
        )
        fail = [oom1, kills[0], kills[1]][i]
        msg = "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\n"
        if i < 2:
            w.log(
                fail + 3 * MS,
                f"[{ts_py(fail + 3 * MS)}: INFO/ForkPoolWorker-2] Task app.tasks.build_sales_report[{hexid('report', 0)[:8]}-{hexid('report', 0)[8:12]}-{hexid('report', 0)[12:16]}-{hexid('report', 0)[16:20]}-{hexid('report', 0)[20:32]}] retry: Retry in 120s: OperationalError('(psycopg2.OperationalError) {msg}')",
            )
        else:
            w.log(
                fail + 3 * MS,
                f"[{ts_py(fail + 3 * MS)}: ERROR/ForkPoolWorker-2] Task app.tasks.build_sales_report[{hexid('report', 0)[:8]}-{hexid('report', 0)[8:12]}-{hexid('report', 0)[12:16]}-{hexid('report', 0)[16:20]}-{hexid('report', 0)[20:32]}] raised unexpected: OperationalError('(psycopg2.OperationalError) {msg}')",
            )
    t = starts["web"] + 400 * MS
    web.log(t, "\n> shop-web@2.3.1 start\n> node server.js\n")
    web.log(t + 300 * MS, "web listening on http://0.0.0.0:3000")
    for tt in poisson_times(rng, starts["web"] + 3 * NS, end, 0.12):
        stt = db_state(tt)
        if stt == "ok":
            web.log(
                tt,
                f"GET /products/{rng.randint(1, 900)} 200 {rng.randint(3, 80)}.{rng.randint(100, 999)} ms - {rng.randint(900, 9000)}",
            )
        elif stt == "refused":
            web.log(
                tt,
                "Database query failed Error: connect ECONNREFUSED 172.20.0.2:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16) {\n  errno: -111,\n  code: 'ECONNREFUSED',\n  syscall: 'connect',\n  address: '172.20.0.2',\n  port: 5432\n}",
            )
            web.log(
                tt + 2 * MS,
                f"GET /products/{rng.randint(1, 900)} 503 {rng.randint(1, 9)}.{rng.randint(100, 999)} ms - 47",
            )
        else:
            web.log(
                tt,
                "Database query failed error: the database system is starting up\n    at /app/node_modules/pg-pool/index.js:45:11\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at async /app/server.js:58:20 {\n  length: 104,\n  severity: 'FATAL',\n  code: '57P03',\n  detail: undefined,\n  hint: undefined,\n  position: undefined,\n  internalPosition: undefined,\n  internalQuery: undefined,\n  where: undefined,\n  schema: undefined,\n  table: undefined,\n  column: undefined,\n  dataType: undefined,\n  constraint: undefined,\n  file: 'postmaster.c',\n  line: '2358',\n  routine: 'ProcessStartupPacket'\n}",
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / "compose.log").write_text(compose_logs(st), encoding="utf-8", newline="\n")
    n_ev = write_events(
        out / "events.jsonl",
        st,
        lambda d: d.get("Type") == "container" and not str(d["Action"]).startswith("exec_"),
    )
    docs = [inspect_doc(st, c, end) for c in sorted(st.ctrs.values(), key=lambda x: x.name)]
    (out / "inspect.json").write_text(
        go_json(docs, indent=4) + "\n", encoding="utf-8", newline="\n"
    )
    (out / "ps.txt").write_text(compose_v1_ps(st, end), encoding="utf-8", newline="\n")
    (out / "docker-compose.yml").write_text(SHOP_COMPOSE, encoding="utf-8", newline="\n")
    return {"events": n_ev, "oom_kills": 3, "db_restarts": len(db.runs) - 1}


SHOP_COMPOSE = """version: "2.4"

services:
  db:
    image: postgres:15.8
    command: ["postgres", "-c", "shared_buffers=256MB", "-c", "work_mem=64MB"]
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    mem_limit: 1g
    restart: always
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop"]
      interval: 10s
      timeout: 5s
      retries: 5

  redis:
    image: redis:7.2.5-alpine
    restart: unless-stopped

  api:
    build: ./api
    image: shop_api
    environment:
      DATABASE_URL: postgresql+psycopg2://shop@db:5432/shop
    ports:
      - "8000:8000"
    depends_on:
      db:
        condition: service_healthy
      redis:
        condition: service_started

  worker:
    build: ./api
    image: shop_worker
    command: ["celery", "-A", "app.tasks", "worker", "-B", "--loglevel=INFO"]
    environment:
      DATABASE_URL: postgresql+psycopg2://shop@db:5432/shop
      CELERY_BROKER_URL: redis://redis:6379/0
    depends_on:
      db:
        condition: service_healthy
      redis:
        condition: service_started

  web:
    build: ./web
    image: shop_web
    environment:
      PGHOST: db
      PGUSER: shop
      PGDATABASE: shop
    ports:
      - "3000:3000"
    depends_on:
      - api
      - db

volumes:
  pgdata:
"""


# --------------------------------------------------------------------------- incident 3 / 4

RAINBOW = [
    "36",
    "33",
    "32",
    "35",
    "34",
    "36;1",
    "33;1",
    "32;1",
    "35;1",
    "34;1",
]  # compose colors.go


def build_dns_config(out: Path) -> dict[str, object]:
    """`docker compose --ansi always up` (plain progress), no timestamps, coloured prefixes."""
    rng = random.Random(20251003)
    order = ["postgres", "redis", "api", "worker", "notifier", "web"]
    width = max(len(s) + 2 for s in order) + 1
    color = {s: RAINBOW[i] for i, s in enumerate(order[:5])}

    def pre(s: str) -> str:
        return f"\x1b[{color[s]}m{(s + '-1').ljust(width)} | \x1b[0m"

    lines = [" Network shop_default  Creating", " Network shop_default  Created"]
    for s in order:
        lines.append(f" Container shop-{s}-1  Creating")
    for s in order:
        lines.append(f" Container shop-{s}-1  Created")
    lines.append("Attaching to " + ", ".join(f"{s}-1" for s in order))
    lines += [f" Container shop-{s}-1  Starting" for s in ("postgres", "redis")]
    lines += [f" Container shop-{s}-1  Started" for s in ("redis", "postgres")]
    body: list[tuple[str, str]] = []
    body += [
        ("redis", x)
        for x in (
            "1:C 03 Oct 2025 09:14:02.118 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            "1:M 03 Oct 2025 09:14:02.119 * Ready to accept connections tcp",
        )
    ]
    body += [
        ("postgres", x)
        for x in (
            "",
            "PostgreSQL Database directory appears to contain a database; Skipping initialization",
            "",
            "2025-10-03 09:14:02.301 UTC [1] LOG:  starting PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
            '2025-10-03 09:14:02.302 UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
            '2025-10-03 09:14:02.306 UTC [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
            "2025-10-03 09:14:02.312 UTC [29] LOG:  database system was shut down at 2025-10-03 09:10:44 UTC",
            "2025-10-03 09:14:02.318 UTC [1] LOG:  database system is ready to accept connections",
        )
    ]
    out_lines = lines + [pre(s) + x for s, x in body]
    out_lines += [" Container shop-postgres-1  Waiting", " Container shop-postgres-1  Healthy"]
    out_lines += [f" Container shop-{s}-1  Starting" for s in ("api", "worker", "notifier")]
    out_lines += [f" Container shop-{s}-1  Started" for s in ("worker", "notifier", "api")]
    dns = shape("sqlalchemy_dns.txt").replace("app.dnsapi", "app.main").split("\n")
    keyerr = shape("keyerror.txt").split("\n")
    api_lines = [
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    ]
    seq = [("api", x) for x in api_lines] + [("worker", x) for x in keyerr]
    seq += [
        ("notifier", x)
        for x in (
            "",
            "> notifier@1.4.0 start",
            "> node index.js",
            "",
            "notifier: connecting to postgres at db:5432",
            "/app/node_modules/pg-pool/index.js:45",
            "        Error.captureStackTrace(err)",
            "              ^",
            "",
            "Error: getaddrinfo ENOTFOUND db",
            "    at /app/node_modules/pg-pool/index.js:45:11",
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
            "    at async main (/app/index.js:14:18) {",
            "  errno: -3008,",
            "  code: 'ENOTFOUND',",
            "  syscall: 'getaddrinfo',",
            "  hostname: 'db'",
            "}",
            "",
            "Node.js v20.17.0",
        )
    ]
    for s, x in seq:
        out_lines.append(pre(s) + x)
    out_lines.append(
        f"\x1b[{color['worker']}m\r\x1b[Kworker-1 exited with code 1\n\x1b[0m".rstrip("\n")
    )
    for k in range(3):
        out_lines.append(
            pre("api")
            + "INFO:     127.0.0.1:"
            + str(41000 + rng.randint(0, 9000))
            + ' - "GET /health HTTP/1.1" 503 Service Unavailable'
        )
        if k == 0:
            out_lines += [pre("api") + "ERROR:    Health check failed: database unreachable"] + [
                pre("api") + x for x in dns
            ]
        if k == 0:
            out_lines.append(
                f"\x1b[{color['notifier']}m\r\x1b[Knotifier-1 exited with code 1\n\x1b[0m".rstrip(
                    "\n"
                )
            )
    out_lines += [
        " Container shop-api-1  Waiting",
        " Container shop-api-1  Error",
        "dependency failed to start: container shop-api-1 is unhealthy",
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "up.log").write_text("\n".join(out_lines) + "\n", encoding="utf-8", newline="\n")
    (out / "docker-compose.yml").write_text(DNS_COMPOSE, encoding="utf-8", newline="\n")
    return {"lines": len(out_lines)}


DNS_COMPOSE = """services:
  postgres:            # renamed from `db` in commit 3e1f0c2
    image: postgres:16.4
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop"]
      interval: 5s
      retries: 5
  redis:
    image: redis:7.2.5-alpine
  api:
    build: ./api
    environment:
      DATABASE_URL: postgresql+psycopg2://shop@db:5432/shop   # still the old name
    healthcheck:
      test: ["CMD-SHELL", "curl -fsS http://localhost:8000/health || exit 1"]
      interval: 10s
      retries: 3
    depends_on:
      postgres:
        condition: service_healthy
  worker:
    build: ./api
    command: ["python", "app/worker.py"]
    env_file: worker.env                                    # DATABASE_URL was dropped from it
    depends_on:
      postgres:
        condition: service_healthy
  notifier:
    build: ./notifier
    environment:
      PGHOST: db
    depends_on:
      postgres:
        condition: service_healthy
  web:
    image: nginx:1.27.0-alpine
    depends_on:
      api:
        condition: service_healthy
"""


def build_no_incident(out: Path) -> dict[str, object]:
    st = Stack("blog", seed=20251020)
    t0 = ns_of("2025-10-20T08:00:00")
    end = ns_of("2025-10-20T08:40:00")
    kw = {"working_dir": "/srv/blog"}
    db = st.add(
        Ctr(
            "blog",
            "db",
            "postgres:16.4",
            "172.19.0.2",
            ["postgres"],
            entrypoint=["docker-entrypoint.sh"],
            ports=["5432/tcp"],
            ps_ports="5432/tcp",
            health=Health(
                ["CMD-SHELL", "pg_isready -U blog"],
                10,
                5,
                5,
                probe=lambda ns: (0, "/var/run/postgresql:5432 - accepting connections\n", 0.03),
            ),
            **kw,
        )
    )
    app = st.add(
        Ctr(
            "blog",
            "app",
            "blog-app",
            "172.19.0.3",
            ["uvicorn", "blog.main:app", "--host", "0.0.0.0"],
            ports=["8000/tcp"],
            ps_ports="8000/tcp",
            health=Health(
                ["CMD-SHELL", "curl -fsS http://localhost:8000/health || exit 1"],
                30,
                5,
                3,
                probe=lambda ns: (0, '{"status":"ok"}', 0.02),
            ),
            depends_on="db:service_healthy:false",
            **kw,
        )
    )
    for k, c in enumerate(st.ctrs.values()):
        c.created = t0 + k * 30 * MS
        st.ev(c, "create", c.created)
    start_container(st, db, t0 + 300 * MS)
    start_container(st, app, t0 + 11 * NS)
    # a maintenance restart of db at 08:20 (docker compose restart db): clean shutdown, benign lines
    rs = ns_of("2025-10-20T08:20:00")
    st.ev(db, "kill", rs, signal="15")
    st.ev(db, "die", rs + 310 * MS, exitCode="0")
    st.ev(db, "stop", rs + 320 * MS)
    start_container(st, db, rs + 600 * MS)
    st.ev(db, "restart", rs + 610 * MS)
    db.runs = [(t0 + 300 * MS, rs + 310 * MS, 0), (rs + 600 * MS, None, None)]
    app.runs = [(t0 + 11 * NS, None, None)]
    for c in (db, app):
        for a, b, _ in c.runs:
            run_health(st, c, a, b or end, end)
    gen_postgres(
        st,
        db,
        t0 + 300 * MS,
        rs,
        version="16.4 (Debian 16.4-1.pgdg120+2)",
        shut_at="2025-10-20 07:59:12 UTC",
        clients=("172.19.0.3",),
        user="blog",
        conns_per_sec=0.02,
    )
    t = rs + 5 * MS
    for pid, msg in (
        (1, "LOG:  received fast shutdown request"),
        (1, "LOG:  aborting any active transactions"),
        (
            1,
            'LOG:  background worker "logical replication launcher" (PID 33) exited with exit code 1',
        ),
        (27, "LOG:  shutting down"),
        (27, "LOG:  checkpoint starting: shutdown immediate"),
        (
            27,
            "LOG:  checkpoint complete: wrote 3 buffers (0.0%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.004 s, sync=0.002 s, total=0.011 s; sync files=2, longest=0.001 s, average=0.001 s; distance=0 kB, estimate=12 kB; lsn=0/1A0C3F8, redo lsn=0/1A0C3F8",
        ),
        (1, "LOG:  database system is shut down"),
    ):
        t += 20 * MS
        db.log(t, f"{ts_pg(t)} [{pid}] {msg}")
    gen_postgres(
        st,
        db,
        rs + 600 * MS,
        end,
        version="16.4 (Debian 16.4-1.pgdg120+2)",
        shut_at=ts_pg(t)[:19] + " UTC",
        clients=("172.19.0.3",),
        user="blog",
        conns_per_sec=0.02,
    )
    rng = st.rng
    app.log(t0 + 12 * NS, UVICORN_START.format(port=8000))
    for tt in poisson_times(rng, t0 + 13 * NS, end, 0.15):
        if rs <= tt < rs + 2 * NS:
            continue
        app.log(
            tt,
            uvicorn_access(
                "172.19.0.1",
                rng.randint(33000, 60000),
                "GET",
                rng.choice(["/", "/posts/12", "/posts/7", "/feed.xml", "/about"]),
                rng.choice([200] * 12 + [304, 404]),
            ),
        )
    for p in app.probes:
        app.log(
            p.start + MS,
            uvicorn_access("127.0.0.1", rng.randint(33000, 60000), "GET", "/health", 200),
        )
    app.log(
        rs + 900 * MS,
        f"{ts_py(rs + 900 * MS)} - blog.db - INFO - Database connection re-established after 0 errors",
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "compose.log").write_text(compose_logs(st), encoding="utf-8", newline="\n")
    n = write_events(
        out / "events.jsonl",
        st,
        lambda d: d.get("Type") == "container" and not str(d["Action"]).startswith("exec_"),
    )
    (out / "ps.txt").write_text(compose_ps(st, end), encoding="utf-8", newline="\n")
    return {"events": n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    builders = {
        "2025-08-01-health-checks": build_health_checks,
        "2025-09-14-postgres-oom": build_postgres_oom,
        "2025-10-03-dns-config": build_dns_config,
        "no-incident": build_no_incident,
    }
    for name, fn in builders.items():
        if args.only and args.only != name:
            continue
        info = fn(HERE / name)
        print(name, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
