"""A server that listens only on its container's loopback (gunicorn's and uvicorn's
default bind) starts cleanly while every other container is refused: the refusal's
issue names that server and its bind, and recreates it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from report_helpers import report_json

from incidentlog.incident.ports import loopback_bound

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def _logs(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame({"service": [s for s, _ in rows], "message": [m for _, m in rows]})


def test_loopback_bound_servers() -> None:
    logs = _logs(
        [
            (
                "api",
                "[2025-03-01 10:00:00 +0000] [1] [INFO] Listening at: http://127.0.0.1:8000 (1)",
            ),
            ("prices", "INFO:     Uvicorn running on http://localhost:8100 (Press CTRL+C to quit)"),
            ("web", "[1] [INFO] Listening at: http://0.0.0.0:8000 (1)"),
            # Flask bound to 0.0.0.0 prints the loopback URL beside the container's own
            ("flaskapp", " * Running on http://127.0.0.1:5000"),
            ("flaskapp", " * Running on http://172.18.0.4:5000"),
            # a friendly URL (Node prints localhost whatever it binds): no evidence
            ("node", "Server listening on http://localhost:3000"),
            ("rails", "* Listening on http://127.0.0.1:3000"),
            ("rails", "* Listening on http://[::1]:3000"),
        ]
    )
    bound = loopback_bound(logs, ["api", "prices", "web", "flaskapp", "node", "rails"])
    assert set(bound) == {"api", "prices", "rails"}
    port, said, where = bound["api"]
    assert (port, said) == (8000, "Listening at: http://127.0.0.1:8000")
    assert "--bind 0.0.0.0:PORT" in where
    assert bound["prices"][0] == 8100


PROXY = """\
api-1    | 2025-03-01T10:00:00Z [2025-03-01 10:00:00 +0000] [1] [INFO] Listening at: http://127.0.0.1:8000 (1)
proxy-1  | 2025-03-01T10:00:05Z 2025/03/01 10:00:05 [error] 30#30: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.2, server: _, request: "GET / HTTP/1.1", upstream: "http://172.20.0.3:8000/", host: "x"
proxy-1  | 2025-03-01T10:00:06Z 2025/03/01 10:00:06 [error] 30#30: *4 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.2, server: _, request: "GET / HTTP/1.1", upstream: "http://172.20.0.3:8000/", host: "x"
"""


def test_the_refusal_names_the_loopback_bound_server_and_recreates_it(tmp_path: Path) -> None:
    """Before: "check that service's health and port, start nginx after it"; the API's own
    start-up line says why it refuses, and the fix (its bind) recreates the API."""
    data = report_json(tmp_path, PROXY, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["api", "proxy"]
    assert issue["problem"].endswith(": api listens only on its own loopback")
    assert "`Listening at: http://127.0.0.1:8000`" in issue["root_cause"]
    assert issue["fix"].startswith(
        "Make api listen on every interface (gunicorn: `--bind 0.0.0.0:8000`)"
    )
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert any("--force-recreate" in c and "api" in c.split() for c in commands), commands


def test_a_server_bound_to_every_interface_changes_nothing(tmp_path: Path) -> None:
    text = PROXY.replace("http://127.0.0.1:8000", "http://0.0.0.0:8000")
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert issue["services"] == ["proxy"]
    assert "loopback" not in issue["problem"]


def test_another_port_is_not_that_server(tmp_path: Path) -> None:
    """The refusal names 172.20.0.3:9000; the loopback-bound API listens on 8000."""
    text = PROXY.replace("172.20.0.3:8000", "172.20.0.3:9000")
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "loopback" not in issue["problem"]


def test_a_refusal_naming_no_host_points_at_the_only_loopback_bound_server(
    tmp_path: Path,
) -> None:
    text = (
        "prices-1  | 2025-03-01T10:00:00Z INFO:     Uvicorn running on http://127.0.0.1:8100"
        " (Press CTRL+C to quit)\n"
        "gateway-1 | 2025-03-01T10:00:04Z httpx.ConnectError: All connection attempts failed\n"
        "gateway-1 | 2025-03-01T10:00:09Z httpx.ConnectError: All connection attempts failed\n"
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert issue["services"] == ["gateway", "prices"]
    assert "(uvicorn: `--host 0.0.0.0`)" in issue["fix"]
