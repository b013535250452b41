"""Probe fixes that run: a health-check command the image can execute, with its real port.

A probe that calls a missing binary fails whatever the application does. The
fix must be a command the image has: BusyBox-based images (Alpine, busybox)
ship `wget` and `nc`, which the shell's own error message gives away
(`/bin/sh: curl: not found` is BusyBox's `ash`; Debian's `dash` says
`/bin/sh: 1: curl: not found`); some programs have their own health subcommand
(`cloudflared tunnel ready`), which also works in images without a shell.
The URL and port come from the probe command in the evidence, never a
placeholder.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from incidentlog.text import Code, Prose, join_prose

__all__ = [
    "KNOWN_IMAGES",
    "ImageFacts",
    "ProbeFix",
    "busybox_shell",
    "probe_fix",
    "probe_url",
]


@dataclass(frozen=True)
class ImageFacts:
    """What an image is known to ship (from its published Dockerfile)."""

    tools: str
    """In words, for the report: `distroless: no shell, no wget or curl`."""
    own_check: tuple[str, ...] = ()
    """The program's own health subcommand (exec form); `{port}` is the probe's port."""


KNOWN_IMAGES: Final[Mapping[str, ImageFacts]] = {
    "cloudflare/cloudflared": ImageFacts(
        tools="a distroless image: no shell, no wget, no curl",
        own_check=("cloudflared", "tunnel", "--metrics", "localhost:{port}", "ready"),
    ),
}
"""Images by repository (registry host and tag dropped)."""

BUSYBOX_TOOLS: Final = ("wget", "nc")
_BUSYBOX_NOT_FOUND: Final = re.compile(r"^(?:/bin/)?sh: (?P<binary>[^\s:]+): not found\s*$")
_DASH_NOT_FOUND: Final = re.compile(r"^(?:/bin/)?sh: \d+: (?P<binary>[^\s:]+): not found\s*$")
_LOCAL_URL: Final = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>\d{1,5}))?[^\s'\"|;&]*"
)
_BUSYBOX_IMAGE: Final = re.compile(r"(?:^|[/:-])(?:alpine|busybox)(?:[:.\-]|$)")


@dataclass(frozen=True)
class ProbeFix:
    fix: Prose
    kind: str
    """change-config (a probe the image can run) or rebuild-image (add the binary)."""


def probe_url(command: str | None) -> tuple[str, int] | None:
    """The local URL a probe command asks, and its port (80/443 by default)."""
    match = _LOCAL_URL.search(command or "")
    if match is None:
        return None
    port = match["port"]
    default = 443 if match[0].startswith("https") else 80
    return match[0], int(port) if port else default


def busybox_shell(output: str | None) -> bool:
    """The probe output is BusyBox's shell saying a command is missing."""
    return bool(_BUSYBOX_NOT_FOUND.match((output or "").strip()))


def _debian_shell(output: str | None) -> bool:
    return bool(_DASH_NOT_FOUND.match((output or "").strip()))


def _repository(image: str | None) -> str:
    """`cloudflare/cloudflared:2025.7.0` -> `cloudflare/cloudflared` (registry host dropped)."""
    name = (image or "").split("@")[0]
    head, _, tail = name.rpartition("/")
    name = f"{head}/{tail.split(':')[0]}" if head else tail.split(":")[0]
    first, _, rest = name.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else name


@dataclass(frozen=True)
class ProbeService:
    """One service whose probe cannot run: what the evidence says about it."""

    service: str
    image: str | None
    built_here: bool | None
    command: str | None
    output: str | None


def probe_fix(binary: str, services: Sequence[ProbeService]) -> ProbeFix:
    """A probe each service's image can run, or the binary added to images built here."""
    repos = {_repository(s.image) for s in services}
    known = KNOWN_IMAGES.get(next(iter(repos))) if len(repos) == 1 else None
    urls = {s.service: probe_url(s.command) for s in services}
    if known is not None and known.own_check and all(urls.values()):
        return _own_check(known, services, urls)
    busybox = all(busybox_shell(s.output) or _BUSYBOX_IMAGE.search(s.image or "") for s in services)
    if busybox and binary != "wget" and all(urls.values()):
        return _busybox_probe(binary, services, urls)
    if all(s.built_here for s in services):
        return ProbeFix(_install(binary, services), "rebuild-image")
    return ProbeFix(_unknown_image(binary, services, known), "change-config")


def _test_line(form: str, *args: str) -> str:
    """A compose `test:` value as JSON (the way compose files write it)."""
    return json.dumps([form, *args])


def _own_check(
    known: ImageFacts, services: Sequence[ProbeService], urls: Mapping[str, tuple[str, int] | None]
) -> ProbeFix:
    tests = [
        Prose.of(
            f"{s.service}: " if len(services) > 1 else "",
            Code("test: " + _test_line("CMD", *_fill(known.own_check, urls[s.service]))),
        )
        for s in services
    ]
    image = services[0].image or ""
    fix = Prose.of(
        "Probe with the program's own check (",
        Code(image),
        f" is {known.tools}): in the service's ",
        Code("healthcheck:"),
        ", ",
        join_prose(tests),
        ", then recreate.",
    )
    return ProbeFix(fix, "change-config")


def _fill(args: tuple[str, ...], url: tuple[str, int] | None) -> list[str]:
    port = str(url[1]) if url else ""
    return [a.replace("{port}", port) for a in args]


def _busybox_probe(
    binary: str, services: Sequence[ProbeService], urls: Mapping[str, tuple[str, int] | None]
) -> ProbeFix:
    tests = [
        Prose.of(
            f"{s.service}: " if len(services) > 1 else "",
            Code("test: " + _test_line("CMD-SHELL", f"wget -q --spider {url[0]} || exit 1")),
        )
        for s in services
        if (url := urls[s.service]) is not None
    ]
    said = next((s.output.strip() for s in services if busybox_shell(s.output) and s.output), "")
    how = Prose.of(
        "the image is BusyBox-based" if len(services) == 1 else "the images are BusyBox-based",
        Prose.of(" (", Code(said), " is how BusyBox's shell words it)") if said else "",
    )
    fix = Prose.of(
        "No rebuild needed: ",
        how,
        ", and BusyBox ships ",
        Code("wget"),
        ". Probe with it in the ",
        Code("healthcheck:"),
        " of the compose file: ",
        join_prose(tests),
        ", then recreate. (Or add ",
        Code(binary),
        " to the image and rebuild.)",
    )
    return ProbeFix(fix, "change-config")


def _install(binary: str, services: Sequence[ProbeService]) -> Prose:
    if not re.fullmatch(r"[A-Za-z0-9._+-]+", binary):
        return Prose.of("Add ", Code(binary), " to the image and rebuild.")
    apk = Code(f"RUN apk add --no-cache {binary}")
    apt = Code(f"RUN apt-get update && apt-get install -y --no-install-recommends {binary}")
    if all(_debian_shell(s.output) for s in services):
        how = Prose.of(" (a Debian-based image, by its shell's message: ", apt, ")")
    elif all(busybox_shell(s.output) for s in services):
        how = Prose.of(" (an Alpine/BusyBox image, by its shell's message: ", apk, ")")
    else:
        how = Prose.of(" (", apk, " on Alpine, ", apt, " on Debian)")
    return Prose.of("Add ", Code(binary), " to the image", how, " and rebuild.")


def _unknown_image(
    binary: str, services: Sequence[ProbeService], known: ImageFacts | None
) -> Prose:
    images = join_prose([Code(s.image) for s in services if s.image])
    shipped = Prose.of(" (", images, f" is {known.tools})") if known and images.segments else ""
    if not images.segments or known is not None:
        what = Prose.of("The image is not built here", shipped)
    else:
        what = Prose.of("The image (", images, ") is not built here")
    return Prose.of(
        what,
        ", so change the probe to a command it ships instead of ",
        Code(binary),
        ": the program's own health subcommand if it has one. The evidence does not show "
        "which tools the image has (",
        Code(
            f"docker compose exec {shlex.quote(services[0].service)} sh -c 'command -v wget curl nc'"
        ),
        " lists them when it has a shell).",
    )
