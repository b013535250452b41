"""A client that failed before its server said it was ready started too early: the issue
says so (with the server's ready line and the wait) and the fix is start order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import report_json

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)

EARLY = """\
kc-1    | 2025-03-01T10:00:09Z 2025-03-01 10:00:09,300 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler] (main) ERROR: Connection to kcdb:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.
kc-1 exited with code 1
kcdb-1  | 2025-03-01T10:00:14Z 2025-03-01 10:00:14.420 UTC [1] LOG:  database system is ready to accept connections
"""


def test_a_client_that_failed_before_its_server_was_ready(tmp_path: Path) -> None:
    """Before: only "check that service is up, use the compose service name"."""
    (issue,) = report_json(tmp_path, EARLY, NOW)["issues"]
    assert issue["problem"].endswith(": kcdb was not ready yet")
    assert (
        "kc first failed at 10:00:09, 5 s before kcdb said it was ready (at 10:00:14"
        in (issue["root_cause"])
    )
    assert issue["fix"].startswith(
        "Start kc once kcdb is ready: give kcdb a `healthcheck:` and kc"
        " `depends_on: kcdb: condition: service_healthy`"
    )


def test_a_server_ready_before_the_failure_is_no_start_order(tmp_path: Path) -> None:
    text = EARLY.replace("2025-03-01T10:00:14Z", "2025-03-01T09:59:00Z")
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "not ready" not in issue["problem"]
    assert "Start kc once" not in issue["fix"]


def test_an_unnamed_server_is_the_one_that_became_ready_late(tmp_path: Path) -> None:
    """The .NET SqlClient error names no server: mssql is the one service ready only later."""
    text = (
        "mssql-1  | 2025-03-01T10:00:01Z SQL Server 2022 will run as non-root by default.\n"
        "orders-1 | 2025-03-01T10:00:18Z Unhandled exception. Microsoft.Data.SqlClient."
        "SqlException (0x80131904): A network-related or instance-specific error occurred"
        " while establishing a connection to SQL Server. (provider: TCP Provider, error: 40"
        " - Could not open a connection to SQL Server)\n"
        "mssql-1  | 2025-03-01T10:00:21Z 2025-03-01 10:00:21.47 spid41s     SQL Server is now"
        " ready for client connections. This is an informational message.\n"
        "orders-1 exited with code 134\n"
    )
    issues = report_json(tmp_path, text, NOW)["issues"]
    (issue,) = [i for i in issues if "orders" in i["services"]]
    assert issue["problem"].endswith(": mssql was not ready yet")


def test_two_late_servers_and_no_name_is_no_guess(tmp_path: Path) -> None:
    text = (
        "orders-1 | 2025-03-01T10:00:18Z Unhandled exception. Microsoft.Data.SqlClient."
        "SqlException (0x80131904): A network-related or instance-specific error occurred"
        " while establishing a connection to SQL Server. (provider: TCP Provider, error: 40"
        " - Could not open a connection to SQL Server)\n"
        "mssql-1  | 2025-03-01T10:00:21Z SQL Server is now ready for client connections.\n"
        "cache-1  | 2025-03-01T10:00:22Z 1:M 01 Mar 2025 10:00:22.000 * Ready to accept"
        " connections tcp\n"
    )
    issues = report_json(tmp_path, text, NOW)["issues"]
    assert all("not ready" not in i["problem"] for i in issues)


def test_a_server_ready_long_after_was_an_outage_not_a_slow_start(tmp_path: Path) -> None:
    text = EARLY.replace("2025-03-01T10:00:14Z", "2025-03-01T10:30:14Z")
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "not ready" not in issue["problem"]


def test_an_unrelated_service_starting_later_is_no_unnamed_target(tmp_path: Path) -> None:
    text = (
        "gateway-1 | 2025-03-01T10:00:04Z httpx.ConnectError: All connection attempts failed\n"
        "gateway-1 | 2025-03-01T10:00:09Z httpx.ConnectError: All connection attempts failed\n"
        "docs-1    | 2025-03-01T10:05:00Z Listening on http://0.0.0.0:3000\n"
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "not ready" not in issue["problem"]
