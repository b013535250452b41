"""An S3 emulator for the lake tests: moto's server on a free loopback port.

Stock moto checks `If-None-Match: *` and then writes, without a lock, so two
racing create-only puts of one key can both win; the lake's landing files,
leases and batches rely on exactly one winning. The server here serialises
conditional puts (one lock around the check and the write), which is what
S3 itself guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

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
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, _atomic_conditional_puts(app), threaded=True)
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
