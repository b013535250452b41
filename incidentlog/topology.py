"""The shape of the stack, as compose files and `docker inspect` describe it.

`depends_on` ranks root causes upstream of their symptoms; images, `build:`
and health-check commands make fixes concrete (rebuild, or change the probe).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from incidentlog.errors import InputError

__all__ = [
    "ContainerConfig",
    "Topology",
    "find_compose_file",
    "inspect_configs",
    "is_compose_file",
    "read_compose_topology",
    "topology_for",
]

_COMPOSE_NAME: Final = re.compile(r"^(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$")


@dataclass(frozen=True)
class ContainerConfig:
    """What `docker inspect` or the compose file says about a service's image and probe."""

    image: str | None = None
    built_here: bool | None = None
    """True when compose builds the image (`build:`, or an image named `<project>-<service>`)."""
    healthcheck: str | None = None


@dataclass(frozen=True)
class Topology:
    """What the compose file (and inspect) say about the stack; empty when nothing does."""

    depends_on: dict[str, list[str]] = field(default_factory=dict)
    configs: dict[str, ContainerConfig] = field(default_factory=dict)
    """By compose service (from the compose file) or container name (from inspect)."""
    services: list[str] = field(default_factory=list)
    """The compose file's services (empty without one)."""
    source: Path | None = None
    notes: list[str] = field(default_factory=list)


def is_compose_file(path: Path) -> bool:
    return bool(_COMPOSE_NAME.match(path.name))


def read_compose_topology(path: Path) -> tuple[dict[str, list[str]], dict[str, ContainerConfig]]:
    """`depends_on` per service and image/build/healthcheck facts from a compose file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the compose file ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a valid compose file ({first})") from None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        raise InputError(f"{path}: not a compose file (no `services:` mapping)")
    depends: dict[str, list[str]] = {}
    configs: dict[str, ContainerConfig] = {}
    for name, spec in services.items():
        if not isinstance(spec, dict):
            continue
        raw = spec.get("depends_on") or []
        deps = [str(d) for d in (raw.keys() if isinstance(raw, dict) else raw)]
        depends[str(name)] = sorted(deps)
        test = (spec.get("healthcheck") or {}).get("test")
        probe = None
        if isinstance(test, list) and test:
            probe = " ".join(str(t) for t in test[1:]) if test[0] in ("CMD", "CMD-SHELL") else None
        elif isinstance(test, str):
            probe = test
        configs[str(name)] = ContainerConfig(
            image=str(spec["image"]) if spec.get("image") else None,
            built_here="build" in spec,
            healthcheck=probe,
        )
    return depends, configs


def inspect_configs(paths: Iterable[str]) -> dict[str, ContainerConfig]:
    """Image and health-check test per container name from `docker inspect` output."""
    out: dict[str, ContainerConfig] = {}
    for source in paths:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            config = item.get("Config") or {}
            name = str(item.get("Name", "")).lstrip("/")
            labels = config.get("Labels") or {}
            project = labels.get("com.docker.compose.project")
            service = labels.get("com.docker.compose.service")
            image = config.get("Image")
            test = (config.get("Healthcheck") or {}).get("Test") or []
            probe = " ".join(test[1:]) if test and test[0] in ("CMD", "CMD-SHELL") else None
            built = None
            if image and project and service:
                built = image in (f"{project}-{service}", f"{project}_{service}") or str(
                    image
                ).startswith((f"{project}-{service}:", f"{project}_{service}:"))
            out[name] = ContainerConfig(image=image, built_here=built, healthcheck=probe)
    return out


def find_compose_file(inputs: Sequence[str]) -> Path | None:
    """The compose file beside the first input that has one (`-` has no folder)."""
    for p in inputs:
        if p == "-":
            continue
        found = sorted(c for c in Path(p).parent.glob("*.y*ml") if is_compose_file(c))
        if found:
            return found[0]
    return None


def topology_for(given: Path | None, inputs: Sequence[str]) -> Topology:
    """The topology of a compose file given among the inputs (an error if it is broken)
    or found beside them (a broken one is a note, not an error)."""
    compose = given or find_compose_file(inputs)
    if compose is None:
        return Topology()
    try:
        depends, configs = read_compose_topology(compose)
    except InputError as exc:
        if given is not None:
            raise
        return Topology(source=compose, notes=[f"ignored {compose.name} beside the inputs: {exc}"])
    return Topology(
        depends_on=depends,
        configs=configs,
        services=sorted(configs),
        source=compose,
        notes=[f"topology from {compose.name} (depends_on)"],
    )
