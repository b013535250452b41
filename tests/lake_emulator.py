"""An S3 emulator for the lake tests: moto's server on a free loopback port.

Stock moto checks `If-None-Match: *` and then writes, without a lock, so two
racing create-only puts of one key can both win; the lake's landing files,
leases and batches rely on exactly one winning. The server here serialises
conditional puts (one lock around the check and the write), which is what
S3 itself guarantees.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

LAKE_MODULES = ("pyiceberg", "obstore", "pyarrow", "moto", "duckdb")
CATALOG = "test"
BUCKET = "lake"
REGION = "us-east-1"
KEY_ID = "testing"
SECRET = "testing"


class Emulator:
    """A running emulator: its endpoint and the pyiceberg properties that reach it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def s3_properties(self) -> dict[str, str]:
        return {
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": KEY_ID,
            "s3.secret-access-key": SECRET,
            "s3.region": REGION,
        }


def require_lake_extra() -> None:
    """Skip the calling module (with why) when the lake's packages are missing;
    under CI they must be there, so a missing one fails instead."""
    missing = [m for m in LAKE_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return
    reason = (
        f"the lake extra is not installed ({', '.join(missing)}): pip install -e '.[lake-test]'"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def catalog_env(emulator: Emulator, folder: Path) -> dict[str, str]:
    """`PYICEBERG_CATALOG__TEST__…` variables: a SQLite catalog in `folder`, a
    warehouse of its own in the emulator's bucket."""
    properties = {
        "type": "sql",
        "uri": f"sqlite:///{folder / 'catalog.db'}",
        "warehouse": f"s3://{BUCKET}/{folder.name}",
        **emulator.s3_properties(),
    }
    prefix = f"PYICEBERG_CATALOG__{CATALOG.upper()}__"
    return {
        prefix + key.upper().replace(".", "__").replace("-", "_"): value
        for key, value in properties.items()
    }


def use_catalog(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `env` the catalog configuration of this process (pyiceberg reads
    its configuration once, at import)."""
    import pyiceberg.catalog
    from pyiceberg.utils.config import Config

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(pyiceberg.catalog, "_ENV_CONFIG", Config())


def compose_log(
    path: Path, host: str, *, days: int = 1, per_hour: int = 20, start: datetime | None = None
) -> Path:
    """A `docker compose logs -t` file of a few services over `days` days,
    written for these tests (the host's name is in every message)."""
    start = start or datetime(2025, 8, 1, tzinfo=UTC)
    services = ("api", "web", "worker", "db")
    lines: list[str] = []
    for hour in range(days * 24):
        for i in range(per_hour):
            service = services[(hour + i) % len(services)]
            moment = start + timedelta(
                hours=hour, seconds=i * (3600 // per_hour), microseconds=i * 7
            )
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
            if i % 9 == 4:
                text = f"ERROR request {hour}-{i} on {host} failed: connection refused to db:5432"
            elif i % 7 == 3:
                text = f"WARNING slow answer {i * 13} ms from {host}"
            else:
                text = f"INFO handled request {hour}-{i} for {host} in {i} ms"
            lines.append(f"{service}-1  | {stamp} {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _atomic_conditional_puts(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        conditional = environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH")
        if environ.get("REQUEST_METHOD") in ("PUT", "POST") and conditional:
            with lock:
                return list(app(environ, start_response))
        return list(app(environ, start_response))

    return wrapped


@contextmanager
def s3_emulator() -> Iterator[Emulator]:
    """Start the emulator with an empty bucket; stop it at the end."""
    import boto3
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, _atomic_conditional_puts(app), threaded=True, request_handler=Quiet
    )
    thread = threading.Thread(target=server.serve_forever, name="s3-emulator", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            region_name=REGION,
        ).create_bucket(Bucket=BUCKET)
        yield Emulator(endpoint)
    finally:
        server.shutdown()
        thread.join(timeout=10)
