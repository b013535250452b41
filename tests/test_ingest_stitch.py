"""Multi-line records: stitched per container, never across containers or batches."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from incidentlog.ingest import IngestOptions, IngestSummary, iter_ingest, read_inputs

PYTHON_CHAINED = [
    "ERROR:app:boom",
    "Traceback (most recent call last):",
    '  File "/app/app.py", line 8, in handler',
    "    value = cache[key]",
    "            ~~~~~^^^^^",
    "KeyError: 'user:42'",
    "",
    "During handling of the above exception, another exception occurred:",
    "",
    "Traceback (most recent call last):",
    '  File "/app/app.py", line 10, in handler',
    "    raise LookupError(key)",
    "LookupError: user:42",
]

PYTHON_CAUSE = [
    "Traceback (most recent call last):",
    '  File "/app/db.py", line 3, in connect',
    "    sock.connect(addr)",
    "ConnectionRefusedError: [Errno 111] Connection refused",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 20, in <module>',
    "    db.connect()",
    "RuntimeError: database unavailable",
]

JAVA = [
    "2025-08-01 12:30:00.000 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed",
    "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'",
    "\tat org.springframework.beans.factory.support.AbstractBeanFactory.doGetBean(AbstractBeanFactory.java:332)",
    "\tat com.example.App.main(App.java:12)",
    "Caused by: java.net.ConnectException: Connection refused",
    "\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
    "\tat java.base/sun.nio.ch.Net.connect(Net.java:579)",
    "\t... 5 more",
]

GO_PANIC = [
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b1c3a]",
    "",
    "goroutine 1 [running]:",
    "main.(*Server).handle(0x0, {0x7ffd3c1e8f2a, 0x5})",
    "\t/src/server.go:42 +0x3a",
    "main.main()",
    "\t/src/main.go:17 +0x85",
    "",
    "goroutine 18 [select]:",
    "net/http.(*persistConn).writeLoop(0xc000166000)",
    "\t/usr/local/go/src/net/http/transport.go:2410 +0xf2",
    "created by net/http.(*Transport).dialConn in goroutine 17",
    "\t/usr/local/go/src/net/http/transport.go:1777 +0x16f1",
]

NODE_UNCAUGHT = [
    "/app/server.js:10",
    "    throw new Error('boom');",
    "    ^",
    "",
    "Error: boom",
    "    at Object.<anonymous> (/app/server.js:10:11)",
    "    at Module._compile (node:internal/modules/cjs/loader:1256:14)",
    "    at node:internal/main/run_main_module:23:47",
    "",
    "Node.js v18.17.0",
]

NODE_MODULE = [
    "node:internal/modules/cjs/loader:1080",
    "  throw err;",
    "  ^",
    "",
    "Error: Cannot find module 'express'",
    "Require stack:",
    "- /app/index.js",
    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)",
    "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:86:12) {",
    "  code: 'MODULE_NOT_FOUND',",
    "  requireStack: [ '/app/index.js' ]",
    "}",
    "",
    "Node.js v18.17.0",
]

NODE_LOGGED = [
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "    at getUser (/app/src/users.js:14:22)",
    "    at async /app/src/routes.js:30:5",
]

NODE_ERROR_OBJECT = [
    "[sync] push failed: Error: connect ECONNREFUSED 172.18.0.3:5432",
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16) {",
    "  errno: -111,",
    "  code: 'ECONNREFUSED',",
    "  syscall: 'connect'",
    "}",
]
"""A logger's prefix before the error, then the error object's properties after its stack."""

PYDANTIC = [
    "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings",
    "database_url",
    "  Field required [type=missing, input_value={}, input_type=dict]",
    "    For further information visit https://errors.pydantic.dev/2.7/v/missing",
    "secret_key",
    "  Field required [type=missing, input_value={}, input_type=dict]",
    "    For further information visit https://errors.pydantic.dev/2.7/v/missing",
]

RUST_PANIC = [
    "thread 'main' panicked at src/config.rs:41:10:",
    'called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: "No such file or directory" }',
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
]

KEY_BLOCK = [
    "Config:",
    "  database: postgres://db:5432/app",
    "  cache: redis://cache:6379",
]

UVICORN_LOGGED = [  # a whole `traceback.format_exc()` logged as one message
    "ERROR:    Traceback (most recent call last):",
    '  File "/app/main.py", line 20, in lifespan',
    "    await redis.ping()",
    "socket.gaierror: [Errno -3] Temporary failure in name resolution",
]

PHP_UNCAUGHT = [
    "PHP Fatal error:  Uncaught Error: Call to undefined function mysqli_connect() in /app/db.php:7",
    "Stack trace:",
    "#0 /app/index.php(3): require_once()",
    "#1 {main}",
    "  thrown in /app/db.php on line 7",
]

PHP_CHAINED = [
    "PHP Fatal error:  Uncaught ErrorException: file_put_contents(/app/storage/s1): Failed to"
    " open stream: Permission denied in /app/Filesystem.php:204",
    "Stack trace:",
    "#0 [internal function]: handleError()",
    "#1 /app/Filesystem.php(204): file_put_contents()",
    "",
    "Next UnexpectedValueException: The stream could not be opened in /app/StreamHandler.php:156",
    "Stack trace:",
    "#0 {main}",
    "  thrown in /app/StreamHandler.php on line 156",
]
"""PHP chains the next exception after a blank line: `Next FooException: …`."""

SHAPES = {
    "python-chained": PYTHON_CHAINED,
    "python-cause": PYTHON_CAUSE,
    "java": JAVA,
    "go-panic": GO_PANIC,
    "node-uncaught": NODE_UNCAUGHT,
    "node-module": NODE_MODULE,
    "node-logged": NODE_LOGGED,
    "node-error-object": NODE_ERROR_OBJECT,
    "key-block": KEY_BLOCK,
    "pydantic": PYDANTIC,
    "rust-panic": RUST_PANIC,
    "uvicorn-logged": UVICORN_LOGGED,
    "php-uncaught": PHP_UNCAUGHT,
    "php-chained": PHP_CHAINED,
}


def interleave(lines: list[str], target: str = "api-1", other: str = "web-1") -> str:
    """`lines` from `target`, with a line of `other` after every one of them (as compose does)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(f"{target}  | {line}")
        out.append(f"{other}  | other {i}")
    out.append(f"{target}  | after the record")
    return "\n".join(out) + "\n"


def ingest(tmp_path: Path, text: str, chunk_bytes: int | None = None) -> pl.DataFrame:
    path = tmp_path / "compose.log"
    path.write_text(text)
    if chunk_bytes is None:
        return read_inputs([path], host="h").logs.sort("seq")
    summary = IngestSummary()
    options = IngestOptions(host="h", chunk_bytes=chunk_bytes)
    frames = [batch.logs for batch in iter_ingest([path], options, summary)]
    return pl.concat(frames).sort("seq")


def messages(logs: pl.DataFrame, container: str) -> list[str]:
    return logs.filter(pl.col("container") == container).get_column("message").to_list()


@pytest.mark.parametrize("shape", SHAPES)
def test_record_is_stitched_between_other_containers_lines(tmp_path: Path, shape: str) -> None:
    lines = SHAPES[shape]
    logs = ingest(tmp_path, interleave(lines))
    assert messages(logs, "api-1") == ["\n".join(lines).rstrip("\n"), "after the record"]
    # the other container's lines stay single records, untouched
    assert messages(logs, "web-1") == [f"other {i}" for i in range(len(lines))]


@pytest.mark.parametrize("shape", SHAPES)
def test_record_is_never_stitched_across_containers(tmp_path: Path, shape: str) -> None:
    """The head from one container, the frames from another: nothing joins."""
    head, *rest = SHAPES[shape]
    text = f"api-1  | {head}\n" + "".join(f"web-1  | {line}\n" for line in rest)
    logs = ingest(tmp_path, text)
    assert messages(logs, "api-1") == [head]
    web_lines = "\n".join(messages(logs, "web-1")).split("\n")
    assert [line for line in web_lines if line] == [line for line in rest if line]


def test_stitched_record_keeps_first_line_attributes(tmp_path: Path) -> None:
    text = (
        "api-1  | 2025-08-01T12:30:00.000000001Z Traceback (most recent call last):\n"
        "web-1  | 2025-08-01T12:30:00.000000002Z ok\n"
        'api-1  | 2025-08-01T12:30:00.000000003Z   File "/app/x.py", line 1, in <module>\n'
        "api-1  | 2025-08-01T12:30:00.000000004Z ValueError: bad\n"
    )
    logs = ingest(tmp_path, text)
    api = logs.filter(pl.col("container") == "api-1")
    assert api.height == 1
    assert api.get_column("ts").dt.nanosecond().item() == 1
    assert api.get_column("seq").item() == 0
    assert api.get_column("level").item() == "error"
    assert api.get_column("message").item() == (
        'Traceback (most recent call last):\n  File "/app/x.py", line 1, in <module>\n'
        "ValueError: bad"
    )


def test_plain_indented_lines_after_an_unrelated_line_stay_records(tmp_path: Path) -> None:
    lines = ["▲ Next.js 14.2.3", "  - Local:        http://localhost:3000", "  ✓ Ready in 2.3s"]
    logs = ingest(tmp_path, interleave(lines))
    assert messages(logs, "api-1") == [*lines, "after the record"]


def test_two_tracebacks_in_a_row_are_two_records(tmp_path: Path) -> None:
    one = ["Traceback (most recent call last):", '  File "/a.py", line 1, in f', "KeyError: 'x'"]
    logs = ingest(tmp_path, "".join(f"api-1  | {line}\n" for line in one + one))
    assert messages(logs, "api-1") == ["\n".join(one), "\n".join(one)]


def test_lines_far_apart_in_time_are_two_records_whatever_their_shape(tmp_path: Path) -> None:
    text = (
        "api-1  | 2025-08-01T12:00:00.000000000Z [ERROR] Reason: Worker failed to boot.\n"
        "api-1  | 2025-08-01T13:10:00.000000000Z Traceback (most recent call last):\n"
        'api-1  | 2025-08-01T13:10:00.000000001Z   File "/app/jobs.py", line 9, in run\n'
        "api-1  | 2025-08-01T13:10:00.000000002Z KeyError: 'tenant'\n"
    )
    logs = ingest(tmp_path, text)
    assert messages(logs, "api-1") == [
        "[ERROR] Reason: Worker failed to boot.",
        "Traceback (most recent call last):\n"
        '  File "/app/jobs.py", line 9, in run\n'
        "KeyError: 'tenant'",
    ]
    # written together, the same lines are one logged traceback
    together = text.replace("13:10:00.", "12:00:00.")
    assert len(messages(ingest(tmp_path, together), "api-1")) == 1


ALL_SHAPES_TEXT = "".join(
    interleave(lines, target=f"{name}-1", other="noise-1") for name, lines in SHAPES.items()
)


@pytest.mark.parametrize("chunk_bytes", [16, 300, 4096])
def test_batch_boundaries_give_the_same_records(tmp_path: Path, chunk_bytes: int) -> None:
    # pad past the 64 KiB the sniffer reads first, so the shapes really cross batches
    padding = "".join(f"pad-1  | line {i}\n" for i in range(3500))
    text = padding + ALL_SHAPES_TEXT
    whole = ingest(tmp_path, text)
    chunked = ingest(tmp_path, text, chunk_bytes=chunk_bytes)
    assert chunked.equals(whole)
    for name, lines in SHAPES.items():
        assert messages(chunked, f"{name}-1")[0] == "\n".join(lines)


def test_identical_timed_records_across_batches_keep_distinct_ids(tmp_path: Path) -> None:
    """Same container, same instant, same text: distinct ids whatever the batching."""
    padding = "".join(f"pad-1  | 2025-08-01T12:00:00Z line {i}\n" for i in range(2500))
    same = "".join("web-1  | 2025-08-01T12:30:00Z GET /health 200\n" for _ in range(50))
    text = padding + same
    whole = ingest(tmp_path, text)
    chunked = ingest(tmp_path, text, chunk_bytes=200)
    web_ids = chunked.filter(pl.col("container") == "web-1").get_column("id")
    assert web_ids.len() == 50
    assert web_ids.n_unique() == 50
    assert chunked.get_column("id").to_list() == whole.get_column("id").to_list()


def test_identical_records_are_kept_when_a_containers_time_goes_back(tmp_path: Path) -> None:
    """Two threads of one application print the same line in the same instant with
    another between them (found by hypothesis): the last record is held back by
    stitching and emitted with the next batch, after an instant later than its own."""
    text = (
        "app-1  | 2025-08-01T12:00:00Z lost the connection\n"
        "app-1  | 2025-08-01T12:00:01Z retrying\n"
        "app-1  | 2025-08-01T12:00:00Z lost the connection\n"
    )
    for chunk_bytes in (None, 60):
        logs = ingest(tmp_path, text, chunk_bytes=chunk_bytes)
        assert logs.height == 3
        assert logs.get_column("id").n_unique() == 3


def test_runaway_indented_stream_is_cut(tmp_path: Path) -> None:
    from incidentlog.ingest.stitch import MAX_RECORD_LINES

    lines = ["Config:", *(f"  key{i}: {i}" for i in range(MAX_RECORD_LINES + 10))]
    logs = ingest(tmp_path, "".join(f"api-1  | {line}\n" for line in lines))
    sizes = [m.count("\n") + 1 for m in messages(logs, "api-1")]
    assert sum(sizes) == len(lines)
    assert max(sizes) == MAX_RECORD_LINES
