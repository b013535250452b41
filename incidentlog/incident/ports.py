"""Which service listens on which port: to name the service behind an address.

A refused connection often names an address, not a service: nginx's upstream
`172.19.0.3:3000`, or `127.0.0.1:27017` from an app that should have dialled
`mongo:27017`. The port tells who was meant, when one service of the stack
listens on it: the port its start-up line printed (`Server listening on
http://0.0.0.0:3000`, Postgres' `listening on IPv4 address "0.0.0.0", port
5432`, mongod's `"port":27017`), else the default port of the server its own
words name (Postgres' `ready to accept connections`), of the server rule pack
its own failure came from (an initdb error), or of its image or name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Final

import polars as pl

from incidentlog.schema import Category
from incidentlog.topology import ContainerConfig

__all__ = [
    "LOOPBACK",
    "WELL_KNOWN",
    "is_address",
    "is_public_name",
    "listening_ports",
    "loopback_bound",
    "ready_times",
    "service_on_port",
    "unclaimed",
]

_LISTENING: Final = (
    r"(?i)(?:listening|accepting connections|waiting for connections|running on|running mode|started on"
    r"|serving|bound to|binding to|initialized with port|started server on|server started|ready for connections)"
    r".{0,80}?"
    r"(?:\bport\W{0,3}(?P<a>\d{2,5})\b"
    r"|(?:^|[\s/\"'(=])(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|localhost|\*|::)?:(?P<b>\d{2,5})\b)"
)
"""A start-up line saying where the process listens, and the port in it."""

WELL_KNOWN: Final = {
    "postgres": 5432,
    "postgresql": 5432,
    "postgis": 5432,
    "timescaledb": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "mongo": 27017,
    "mongodb": 27017,
    "redis": 6379,
    "valkey": 6379,
    "rabbitmq": 5672,
    "rabbit": 5672,
    "elasticsearch": 9200,
    "opensearch": 9200,
    "kafka": 9092,
    "zookeeper": 2181,
    "memcached": 11211,
    "minio": 9000,
    "nats": 4222,
    "clickhouse": 8123,
    "cassandra": 9042,
    "mosquitto": 1883,
    "mqtt": 1883,
    "emqx": 1883,
    "mssql": 1433,
    "sqlserver": 1433,
}
"""Default ports of the images people run beside their apps, by image or service name."""

SIGNATURES: Final = (
    (r"database system is ready to accept connections", 5432),  # postgres
    (r"^(?:\d+:[CMSX] .*)?\bReady to accept connections\b", 6379),  # redis
    (r"Server startup complete; \d+ plugins started", 5672),  # rabbitmq
    (r"\bmongod startup complete\b|\bWaiting for connections\b", 27017),  # mongod
    (r"\bmosquitto version \S+ (?:starting|running)\b", 1883),  # mosquitto
    (r"SQL Server is now ready for client connections", 1433),  # mssql
)
"""Start-up lines that name the server by its words, not its port: its default port."""

LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]", "ip6-localhost"})
"""Hosts that, inside a container, are the container itself."""


SERVER_PACKS: Final = {
    pack: WELL_KNOWN[pack]
    for pack in ("postgres", "mysql", "mongodb", "redis", "rabbitmq", "elasticsearch", "kafka")
}
"""Rule packs of servers: a service with a finding of its own kind from one (initdb, a
corrupt AOF) is that server, on its default port."""
_CLIENT_CATEGORIES: Final = tuple(
    c.value
    for c in (
        Category.CONNECTION_REFUSED,
        Category.DNS_RESOLUTION,
        Category.TIMEOUT,
        Category.AUTH_FAILURE,
        Category.TLS_ERROR,
    )
)
"""What a client of that server can be found saying too (a relayed refusal, a password)."""


def listening_ports(
    logs: pl.DataFrame,
    configs: Mapping[str, ContainerConfig],
    services: Sequence[str],
    findings: pl.DataFrame | None = None,
) -> dict[int, list[str]]:
    """Port -> the services that listen on it (sorted), as their logs, their servers'
    own failures (`findings`) and their images say."""
    said = (
        logs.lazy()
        .filter(pl.col("service").is_in(list(services)))
        .select(
            "service",
            pl.col("message").str.extract_groups(_LISTENING).alias("_m"),
        )
        .select(
            "service",
            pl.coalesce(pl.col("_m").struct.field("a"), pl.col("_m").struct.field("b"))
            .cast(pl.Int64, strict=False)
            .alias("port"),
        )
        .filter(pl.col("port").is_between(1, 65535))
        .unique()
        .collect()
    )
    out: dict[int, set[str]] = {}
    for service, port in said.iter_rows():
        out.setdefault(port, set()).add(service)
    heard = {s for s, _ in said.iter_rows()}
    quiet = [s for s in services if s not in heard]
    if quiet:
        mine = logs.filter(pl.col("service").is_in(quiet))
        for pattern, port in SIGNATURES:
            for service in (
                mine.filter(pl.col("message").str.contains(pattern)).get_column("service").unique()
            ):
                if service not in heard:
                    out.setdefault(port, set()).add(service)
                    heard.add(service)
    if findings is not None and findings.height:
        kinds = (
            findings.filter(
                pl.col("pack").is_in(list(SERVER_PACKS))
                & ~pl.col("category").is_in(_CLIENT_CATEGORIES)
                & pl.col("service").is_in([s for s in services if s not in heard])
            )
            .select("service", "pack")
            .unique()
        )
        for service, pack in kinds.iter_rows():
            if service not in heard:
                out.setdefault(SERVER_PACKS[pack], set()).add(service)
                heard.add(service)
    for service in services:
        if service in heard:
            continue
        conf = configs.get(service)
        port = _well_known(service, conf.image if conf else None)
        if port is not None:
            out.setdefault(port, set()).add(service)
    return {port: sorted(names) for port, names in out.items()}


def _well_known(service: str, image: str | None) -> int | None:
    """The default port of the service's image, or of a service named like one."""
    if image:
        name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
        if name in WELL_KNOWN:
            return WELL_KNOWN[name]
    for word in re.split(r"[-_.]", service.lower()):
        if word in WELL_KNOWN:
            return WELL_KNOWN[word]
    return None


def service_on_port(
    listening: Mapping[int, Sequence[str]], port: str | None, caller: str
) -> str | None:
    """The one service other than `caller` that listens on `port` (None if none or several)."""
    if not port or not port.isdigit():
        return None
    others = [s for s in listening.get(int(port), ()) if s != caller]
    return others[0] if len(others) == 1 else None


def is_address(host: str) -> bool:
    """An IP address (what a client dials when it was given one, or resolved a name)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


_PRIVATE_SUFFIXES: Final = (
    ".local",
    ".internal",
    ".lan",
    ".localdomain",
    ".localhost",
    ".home",
    ".home.arpa",
    ".corp",
    ".intranet",
    ".private",
    ".docker",
    ".test",
    ".invalid",
    ".arpa",
)
"""Names of a private network, of the engine, or reserved: never the internet's."""
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_TLD: Final = re.compile(r"^(?:[a-z]{2,24}|xn--[a-z0-9-]{1,59})$")


def is_public_name(host: str, known: Collection[str] = ()) -> bool:
    """A name of the internet (`api.stripe.com`, `smtp.example.com`): dotted, ending in a
    top-level domain of letters, and none of the stack's (`known`: its services and
    containers), not loopback, not an address, not a private or reserved name (`.local`,
    `.internal`, `.lan`, …). A single label (`db`) is a compose name."""
    name = host.strip().rstrip(".").lower()
    if "." not in name or name in LOOPBACK or is_address(name):
        return False
    labels = name.split(".")
    if not all(_LABEL.match(x) for x in labels) or not _TLD.match(labels[-1]):
        return False
    if name.endswith(_PRIVATE_SUFFIXES):
        return False
    return name not in {k.lower() for k in known}


def unclaimed(listening: Mapping[int, Sequence[str]], port: str | None) -> bool:
    """No service of the stack is known to listen on `port`."""
    return bool(port and port.isdigit()) and not listening.get(int(port or 0))


BIND_LINES: Final = (
    # (pattern with the bound host and port, what sets the bind for that server)
    (r"Listening at: https?://(?P<h>[\w.\[\]:]+?):(?P<p>\d+)\b", "gunicorn: `--bind 0.0.0.0:PORT`"),
    (r"Uvicorn running on https?://(?P<h>[\w.\[\]:]+?):(?P<p>\d+)\b", "uvicorn: `--host 0.0.0.0`"),
    (
        r"Starting development server at https?://(?P<h>[\w.\[\]:]+?):(?P<p>\d+)/",
        "Django: `runserver 0.0.0.0:PORT`",
    ),
    (
        r"\* Listening on (?:https?|tcp)://(?P<h>[\w.\[\]:]+?):(?P<p>\d+)\b",
        "Puma: `-b tcp://0.0.0.0:PORT`",
    ),
    (
        r"\* Running on https?://(?P<h>[\w.\[\]:]+?):(?P<p>\d+)\b",
        "Flask: `flask run --host=0.0.0.0`",
    ),
    (
        r"Running on https?://(?P<h>[\w.\[\]:]+?):(?P<p>\d+) \(CTRL \+ C",
        "Hypercorn: `--bind 0.0.0.0:PORT`",
    ),
)
"""Start-up lines that print the address a server really bound (not a friendly
`localhost` URL: Node and Vite print that whatever they bind), and where it is set."""

_LOOPBACK_BINDS: Final = frozenset({"localhost", "127.0.0.1", "::1", "ip6-localhost"})
"""Bound addresses only the container itself reaches (`0.0.0.0` is every interface)."""


def loopback_bound(logs: pl.DataFrame, services: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """Service -> (port, the words of its start-up line that say it, where the bind is set)
    for a server that listens only on its container's loopback: no other container can
    reach it, so its clients are refused while it logs a healthy start (gunicorn's default
    bind is 127.0.0.1:8000, uvicorn's 127.0.0.1). A port also bound on another address
    (Flask prints 127.0.0.1 beside the container's address when bound to 0.0.0.0) is not."""
    mine = logs.filter(pl.col("service").is_in(list(services)))
    loopback: dict[tuple[str, int], tuple[str, str]] = {}
    elsewhere: set[tuple[str, int]] = set()
    for pattern, where in BIND_LINES:
        said = (
            mine.select(
                "service",
                pl.col("message").str.extract(f"({pattern})", 1).alias("_said"),
                pl.col("message").str.extract_groups(pattern).alias("_m"),
            )
            .unnest("_m")
            .drop_nulls("p")
        )
        for service, words, host, port in said.select("service", "_said", "h", "p").iter_rows():
            key = (service, int(port))
            if host.strip("[]") in _LOOPBACK_BINDS:
                loopback.setdefault(key, (words, where))
            else:
                elsewhere.add(key)
    out: dict[str, tuple[int, str, str]] = {}
    for (service, port), (words, where) in sorted(loopback.items()):
        if (service, port) not in elsewhere:
            out.setdefault(service, (port, words, where))
    return out


def ready_times(logs: pl.DataFrame, services: Sequence[str]) -> dict[str, tuple[datetime, str]]:
    """Service -> (when, the line) it first said it listens or is ready (its start-up
    line: `_LISTENING`, `SIGNATURES`): a client that failed before that time started too
    early. Services that never say so, or print no times, are left out."""
    said = "|".join(f"(?:{p})" for p, _ in SIGNATURES)
    first = (
        logs.filter(
            pl.col("service").is_in(list(services))
            & pl.col("ts").is_not_null()
            & (pl.col("message").str.contains(_LISTENING) | pl.col("message").str.contains(said))
        )
        .sort("ts")
        .group_by("service", maintain_order=True)
        .first()
        .select("service", "ts", "message")
    )
    return {s: (ts, message.strip()) for s, ts, message in first.iter_rows()}
