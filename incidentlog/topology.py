"""The shape of the stack, as its compose files and `docker inspect` describe it.

`depends_on` ranks root causes upstream of their symptoms; service names and
`container_name`s turn printed container names into compose services; images,
`build:` and health checks make fixes concrete (rebuild, or change the probe).

Compose files are read as real projects have them: the base file and its
`*.override.yml` (or an explicit `-f` set, in order), `extends`, `include`,
profiles, YAML anchors and merge keys, `!reset`/`!override`, merged the way
compose merges them (mappings merged, sequences appended, `command`,
`entrypoint` and `healthcheck.test` replaced). The files are untrusted: their
size, nesting and alias expansion are bounded, and a broken or hostile file
becomes a one-line note, never an error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from incidentlog.errors import ComposeFileError

__all__ = [
    "ContainerConfig",
    "ServiceSpec",
    "Topology",
    "compose_files_in",
    "inspect_configs",
    "is_compose_file",
    "load_compose",
    "looks_like_compose",
    "topology_for",
]

_COMPOSE_NAME: Final = re.compile(r"^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$")
STANDARD_NAMES: Final = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
"""The files compose reads by default, in its order of preference."""
MAX_BYTES: Final = 2 * 1024 * 1024
"""A compose file larger than this is not read (real ones are a few KiB)."""
MAX_NODES: Final = 200_000
"""Values in a file once its aliases are expanded: a YAML alias bomb stops here."""
MAX_NESTING: Final = 64
"""Collections inside collections: a compose file nests about 6 deep. Checked on
the event stream before anything is built (libyaml's loader overflows the C
stack, a segfault, on a file of 50 000 nested `[`)."""
MAX_DEPTH: Final = 8
"""`extends` chains and `include` nesting deeper than this are refused (loops too)."""


@dataclass(frozen=True)
class ContainerConfig:
    """What `docker inspect` or the compose file says about a service's image and probe
    (None: the evidence does not say)."""

    image: str | None = None
    built_here: bool | None = None
    """True when compose builds the image (`build:`, or an image named `<project>-<service>`)."""
    healthcheck: str | None = None
    probe_form: str | None = None
    """`CMD` (exec form: no shell) or `CMD-SHELL`, as the `test:` wrote it."""
    probe_interval: float | None = None
    """Seconds between probes (Docker's defaults when the probe sets none: 30 s, 3 retries, no
    start period); likewise `probe_timeout`, `probe_retries`, `probe_start_period`."""
    probe_timeout: float | None = None
    probe_retries: int | None = None
    probe_start_period: float | None = None
    failing_streak: int | None = None
    """inspect's `State.Health.FailingStreak`: failed probes in a row when it was taken."""
    restart_policy: str | None = None
    mounts: tuple[str, ...] | None = None
    """`type source -> destination` per mount (inspect's `Mounts`)."""
    memory_limit: int | None = None
    """Bytes (inspect's `HostConfig.Memory`; 0 or None: no limit shown)."""
    volumes: tuple[str, ...] | None = None
    """The compose file's `volumes:` of the service, `volume KEY -> /dest` (KEY as the file
    names it, before compose adds the project) or `bind ./src -> /dest`; None without one."""


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the merged compose model: what the report and name resolution use."""

    name: str
    image: str | None = None
    build: bool = False
    container_name: str | None = None
    depends_on: tuple[str, ...] = ()
    healthcheck: str | None = None
    """The probe command (`CMD`/`CMD-SHELL` arguments joined), None without one."""
    start_period: str | None = None
    restart: str | None = None
    profiles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    """What the compose files (and inspect) say about the stack; empty when nothing does."""

    depends_on: dict[str, list[str]] = field(default_factory=dict)
    configs: dict[str, ContainerConfig] = field(default_factory=dict)
    """By compose service (from the compose file) or container name (from inspect)."""
    services: list[str] = field(default_factory=list)
    """The compose services that run (profiles not activated are left out)."""
    specs: dict[str, ServiceSpec] = field(default_factory=dict)
    """Every service of the merged model, profiles or not."""
    container_names: dict[str, str] = field(default_factory=dict)
    """`container_name:` -> service."""
    project: str | None = None
    """The top-level `name:` of the compose file, when it has one."""
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> Path | None:
        return self.files[0] if self.files else None


# ---- finding the files ---------------------------------------------------------------


def is_compose_file(path: Path) -> bool:
    """Named like a compose file (`compose.yaml`, `docker-compose.prod.yml`, …)."""
    return bool(_COMPOSE_NAME.match(path.name))


def looks_like_compose(head: bytes) -> bool:
    """YAML whose top level has `services:` (any file name): a sniff for evidence folders."""
    text = head.decode("utf-8", errors="replace")
    return re.search(r"(?m)^services:\s*(?:#.*)?$", text) is not None


def compose_files_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the files compose would read in `folder`: the base and its override, the other
    compose-named files it would not read without `-f`)."""
    named = sorted(p for p in folder.glob("*.y*ml") if p.is_file() and is_compose_file(p))
    base = next((folder / n for n in STANDARD_NAMES if (folder / n) in named), None)
    if base is None:
        plain = [p for p in named if ".override." not in p.name]
        base = plain[0] if plain else None
    if base is None:
        return [], named
    stem, suffix = base.name.rsplit(".", 1)
    overrides = [folder / f"{stem}.override.{ext}" for ext in (suffix, "yaml", "yml")]
    override = next((o for o in overrides if o in named), None)
    used = [base, *([override] if override else [])]
    return used, [p for p in named if p not in used]


# ---- reading one file, bounded ---------------------------------------------------------


class _Reset:
    """`!reset` in an override file: drop the value it replaces."""


class _Override:
    """`!override` in an override file: replace the value instead of merging."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _loader() -> type[Any]:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def reset(loader: Any, node: Any) -> _Reset:
        return _Reset()

    def override(loader: Any, node: Any) -> _Override:
        if isinstance(node, yaml.MappingNode):
            return _Override(loader.construct_mapping(node, deep=True))
        if isinstance(node, yaml.SequenceNode):
            return _Override(loader.construct_sequence(node, deep=True))
        return _Override(loader.construct_scalar(node))

    Loader.add_constructor("!reset", reset)
    Loader.add_constructor("!override", override)
    return Loader


def _bounded(value: Any, where: Path) -> None:
    """Refuse values whose aliases expand past MAX_NODES (or loop): walked as a
    consumer would walk them, with an explicit stack and a counter."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ComposeFileError(
                f"{where.name}: more than {MAX_NODES} values once its aliases are expanded "
                "(an alias bomb?), not read"
            )
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, _Override):
            stack.append(item.value)


def _nesting_bounded(text: str, where: Path) -> None:
    """Refuse a document nested deeper than MAX_NESTING, reading only its events
    (libyaml's parser keeps its own stack: no recursion) and stopping there."""
    import yaml

    opening = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    closing = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    too_deep = ComposeFileError(f"{where.name}: nested deeper than {MAX_NESTING}, not read")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, opening):
                depth += 1
                if depth > MAX_NESTING:
                    raise too_deep
            elif isinstance(event, closing):
                depth -= 1
    except yaml.YAMLError as exc:  # libyaml 0.2.5's scanner, reading ahead, has its own limit
        if "nesting depth" in str(exc):
            raise too_deep from None
        raise


def _read(path: Path, pasted: str | None = None) -> dict[str, Any]:
    """One compose file (or the `pasted` text of one) as a mapping (bounded), or
    ComposeFileError."""
    import yaml

    try:
        size = path.stat().st_size if pasted is None else len(pasted)
        if size > MAX_BYTES:
            raise ComposeFileError(f"{path.name}: {size} bytes, more than a compose file has")
        text = path.read_text(encoding="utf-8") if pasted is None else pasted
    except OSError as exc:
        raise ComposeFileError(f"{path.name}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ComposeFileError(f"{path.name}: not UTF-8 text") from None
    try:
        _nesting_bounded(text, path)
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ComposeFileError(f"{path.name}: not valid YAML ({first})") from None
    except RecursionError:
        raise ComposeFileError(f"{path.name}: nested too deeply") from None
    _bounded(data, path)
    if not isinstance(data, dict):
        raise ComposeFileError(f"{path.name}: not a compose file (no top-level mapping)")
    return data


# ---- merging -------------------------------------------------------------------------

_REPLACED: Final = frozenset({"command", "entrypoint", "test"})
"""Keys whose value an override replaces instead of merging (compose's shell commands)."""


def _as_dict(depends: Any) -> Any:
    """`depends_on` in its long form, so list and mapping forms merge."""
    if isinstance(depends, list):
        return {str(d): {} for d in depends if isinstance(d, str | int)}
    return depends


def _merge(base: Any, over: Any, key: str = "") -> Any:
    if isinstance(over, _Override):
        return over.value
    if key in _REPLACED:
        return over
    if key == "depends_on":
        base, over = _as_dict(base), _as_dict(over)
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for k, v in over.items():
            if isinstance(v, _Reset):
                merged.pop(k, None)
            else:
                merged[k] = _merge(merged[k], v, str(k)) if k in merged else _plain(v)
        return merged
    if isinstance(base, list) and isinstance(over, list):
        return [*base, *over]
    return _plain(over)


def _plain(value: Any) -> Any:
    """A value with the override tags resolved (they only matter when merging)."""
    if isinstance(value, _Override):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, _Reset)}
    return value


def _services(data: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    raw = data.get("services")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ComposeFileError(f"{path.name}: `services:` is not a mapping")
    return {str(name): spec if isinstance(spec, dict) else {} for name, spec in raw.items()}


def _extended(
    name: str, services: Mapping[str, dict[str, Any]], path: Path, depth: int = 0
) -> dict[str, Any]:
    """A service with its `extends` chain merged in (the service's own keys win)."""
    spec = services[name]
    parent = spec.get("extends")
    if parent is None:
        return spec
    if depth >= MAX_DEPTH:
        raise ComposeFileError(f"{path.name}: `extends` of {name} goes deeper than {MAX_DEPTH}")
    if isinstance(parent, str):
        target, source = parent, path
    elif isinstance(parent, dict) and isinstance(parent.get("service"), str):
        target = parent["service"]
        source = path.parent / str(parent["file"]) if parent.get("file") else path
    else:
        raise ComposeFileError(f"{path.name}: `extends` of {name} names no service")
    pool = services if source == path else _services(_read(source), source)
    if target not in pool:
        raise ComposeFileError(f"{source.name}: {name} extends {target}, which is not there")
    base = _extended(target, pool, source, depth + 1)
    own = {k: v for k, v in spec.items() if k != "extends"}
    return dict(_merge({k: v for k, v in base.items() if k != "depends_on"}, own))


def _model(
    path: Path, depth: int = 0, pasted: str | None = None
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """(services of one file with its `include`s and `extends` resolved, its `name:`)."""
    if depth >= MAX_DEPTH:
        raise ComposeFileError(f"{path.name}: `include` nests deeper than {MAX_DEPTH}")
    data = _read(path, pasted)
    services: dict[str, dict[str, Any]] = {}
    for entry in data.get("include") or []:
        paths = entry.get("path") if isinstance(entry, dict) else entry
        for item in paths if isinstance(paths, list) else [paths]:
            if isinstance(item, str):
                included, _ = _model(path.parent / item, depth + 1)
                services.update(included)
    own = _services(data, path)
    services.update({name: _extended(name, own, path) for name in own})
    name = data.get("name")
    return services, str(name) if isinstance(name, str | int) else None


# ---- the model -----------------------------------------------------------------------


_GO_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_UNIT_SECONDS: Final = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
HEALTHCHECK_DEFAULTS: Final = {"interval": 30.0, "timeout": 30.0, "retries": 3, "start_period": 0.0}
"""Docker's values for a health check that does not set them."""


def duration_seconds(value: Any) -> float | None:
    """A compose duration (`1m30s`, `40s`, `500ms`; a bare number is seconds) in seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip() if value is not None else ""
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _probe_form(healthcheck: Any) -> str | None:
    test = healthcheck.get("test") if isinstance(healthcheck, dict) else None
    if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
        return str(test[0])
    return "CMD-SHELL" if isinstance(test, str) else None


def _probe(healthcheck: Any) -> str | None:
    test = healthcheck.get("test") if isinstance(healthcheck, dict) else None
    if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
        return " ".join(str(t) for t in test[1:])
    if isinstance(test, str):
        return test
    return None


def _spec(name: str, raw: Mapping[str, Any]) -> ServiceSpec:
    depends = _as_dict(raw.get("depends_on")) or {}
    health = raw.get("healthcheck")
    profiles = raw.get("profiles")
    start_period = health.get("start_period") if isinstance(health, dict) else None
    return ServiceSpec(
        name=name,
        image=str(raw["image"]) if isinstance(raw.get("image"), str | int) else None,
        build="build" in raw,
        container_name=str(raw["container_name"]) if raw.get("container_name") else None,
        depends_on=tuple(sorted(str(d) for d in depends)) if isinstance(depends, dict) else (),
        healthcheck=_probe(health),
        start_period=str(start_period) if start_period is not None else None,
        restart=str(raw["restart"]) if raw.get("restart") is not None else None,
        profiles=tuple(str(p) for p in profiles) if isinstance(profiles, list) else (),
    )


def load_compose(
    files: Sequence[Path],
    active_profiles: Iterable[str] = (),
    pasted: Mapping[Path, str] | None = None,
) -> Topology:
    """The merged model of `files` (in `-f` order); problems become notes. A file in
    `pasted` is that text (a compose file pasted with the logs), not read from disk."""
    merged: dict[str, Any] = {}
    project: str | None = None
    notes: list[str] = []
    used: list[Path] = []
    for path in files:
        try:
            services, name = _model(path, pasted=(pasted or {}).get(path))
        except ComposeFileError as exc:
            notes.append(f"ignored compose file {exc}")
            continue
        merged = _merge(merged, services)
        project = name or project
        used.append(path)
    specs = {name: _spec(name, raw) for name, raw in merged.items() if isinstance(raw, dict)}
    active = set(active_profiles)
    running = sorted(n for n, s in specs.items() if not s.profiles or active & set(s.profiles))
    if used:
        names = " + ".join(p.name for p in used)
        notes.insert(0, f"topology from {names} (depends_on)")
    return Topology(
        depends_on={n: list(s.depends_on) for n, s in specs.items()},
        configs={n: _compose_config(s, merged.get(n)) for n, s in specs.items()},
        services=running,
        specs=specs,
        container_names={s.container_name: n for n, s in specs.items() if s.container_name},
        project=project,
        files=used,
        notes=notes,
    )


def _compose_config(spec: ServiceSpec, raw: Any) -> ContainerConfig:
    """What the compose file says about a service's image, probe and restart policy
    (compose's default policy is `no`)."""
    health = _mapping(_mapping(raw).get("healthcheck"))
    probe = spec.healthcheck is not None and not health.get("disable")

    def timing(key: str) -> float | None:
        if not probe:
            return None
        given = duration_seconds(health[key]) if key in health else None
        return given if given is not None else float(HEALTHCHECK_DEFAULTS[key])

    retries = health.get("retries")
    return ContainerConfig(
        image=spec.image,
        built_here=spec.build,
        healthcheck=spec.healthcheck,
        probe_form=_probe_form(health) if probe else None,
        probe_interval=timing("interval"),
        probe_timeout=timing("timeout"),
        probe_retries=(
            (int(retries) if isinstance(retries, int) else int(HEALTHCHECK_DEFAULTS["retries"]))
            if probe
            else None
        ),
        probe_start_period=timing("start_period"),
        restart_policy=spec.restart or "no",
        volumes=_compose_volumes(_mapping(raw).get("volumes")),
    )


def _compose_volumes(value: Any) -> tuple[str, ...] | None:
    """A service's `volumes:` (short `src:/dest[:mode]` or long form) as mounts, so the plan
    can name the volume over a data directory; anonymous volumes (`/dest` alone) are left
    out: `docker compose rm --volumes` removes them."""
    if not isinstance(value, list):
        return None
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            source, _, rest = item.partition(":")
            dest = rest.split(":", 1)[0]
        elif isinstance(item, dict):
            source, dest = str(item.get("source") or ""), str(item.get("target") or "")
        else:
            continue
        if not source or not dest:
            continue
        kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
        out.append(f"{kind} {source} -> {dest}")
    return tuple(out)


def active_profiles() -> list[str]:
    """Profiles compose would activate: `$COMPOSE_PROFILES` (comma-separated)."""
    return [p.strip() for p in os.environ.get("COMPOSE_PROFILES", "").split(",") if p.strip()]


def topology_for(given: Sequence[Path], inputs: Sequence[str]) -> Topology:
    """The topology of compose files given among the inputs (in order, as `-f`), else of
    the ones compose would read beside the first input that has some."""
    files = list(given)
    notes: list[str] = []
    if not files:
        for p in inputs:
            if p == "-":
                continue
            files, others = compose_files_in(Path(p).parent)
            if files:
                notes += [
                    f"not merged: {o.name} (pass it with the inputs to merge it)" for o in others
                ]
                break
    if not files:
        return Topology()
    topology = load_compose(files, active_profiles())
    return Topology(**{**topology.__dict__, "notes": [*topology.notes, *notes]})


def pasted_topology(pasted: Sequence[tuple[str, bytes]]) -> Topology:
    """The topology of compose files pasted with the logs (`where` names each: the
    paste and its line), merged in the order they came."""
    texts = {Path(where): data.decode("utf-8", errors="replace") for where, data in pasted}
    return load_compose(list(texts), active_profiles(), pasted=texts)


# ---- docker inspect ------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def inspect_configs(paths: Iterable[str]) -> dict[str, ContainerConfig]:
    """Image and health-check test per container name from `docker inspect` output."""
    out: dict[str, ContainerConfig] = {}
    for source in paths:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            config = _mapping(item.get("Config"))
            name = str(item.get("Name", "")).lstrip("/")
            labels = _mapping(config.get("Labels"))
            project = labels.get("com.docker.compose.project")
            service = labels.get("com.docker.compose.service")
            image = config.get("Image") if isinstance(config.get("Image"), str) else None
            health = _mapping(config.get("Healthcheck"))
            probe = _probe({"test": health.get("Test")})
            built = None
            if image and project and service:
                built = image in (
                    f"{project}-{service}",
                    f"{project}_{service}",
                ) or image.startswith((f"{project}-{service}:", f"{project}_{service}:"))
            out[name] = ContainerConfig(
                image=image,
                built_here=built,
                healthcheck=probe,
                **_inspect_runtime(item, health if probe else {}),
            )
    return out


def _nanoseconds(value: Any, default: float) -> float:
    return value / 1e9 if isinstance(value, int | float) and value > 0 else default


def _inspect_runtime(item: Mapping[str, Any], health: Mapping[str, Any]) -> dict[str, Any]:
    """Probe timing, failing streak, restart policy, mounts and memory limit of one container."""
    state = _mapping(_mapping(item.get("State")).get("Health"))
    host = _mapping(item.get("HostConfig"))
    streak = state.get("FailingStreak")
    retries = health.get("Retries")
    mounts = item.get("Mounts")
    memory = host.get("Memory")
    out: dict[str, Any] = {
        "failing_streak": streak if isinstance(streak, int) and health else None,
        "restart_policy": _mapping(host.get("RestartPolicy")).get("Name") or None,
        "mounts": (
            tuple(
                f"{m.get('Type', '?')} {m.get('Source') or m.get('Name') or '?'} -> "
                f"{m.get('Destination', '?')}"
                for m in mounts
                if isinstance(m, dict)
            )
            if isinstance(mounts, list)
            else None
        ),
        "memory_limit": memory if isinstance(memory, int) and memory > 0 else None,
    }
    if health:
        test = health.get("Test")
        out |= {
            "probe_form": str(test[0]) if isinstance(test, list) and test else None,
            "probe_interval": _nanoseconds(
                health.get("Interval"), HEALTHCHECK_DEFAULTS["interval"]
            ),
            "probe_timeout": _nanoseconds(health.get("Timeout"), HEALTHCHECK_DEFAULTS["timeout"]),
            "probe_retries": retries
            if isinstance(retries, int) and retries > 0
            else int(HEALTHCHECK_DEFAULTS["retries"]),
            "probe_start_period": _nanoseconds(health.get("StartPeriod"), 0.0),
        }
    return out
