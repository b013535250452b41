"""A rule's command slot for the database server (`docker compose exec <db-service>
createdb …`) names the real service when the evidence names it, and stays a slot when
nothing does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_helpers import report_json

from incidentlog.incident.advice import server_port

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)

CLIENT_NAMES_SERVER = """\
orders-1  | 2025-03-01T10:00:01Z Traceback (most recent call last):
orders-1  | 2025-03-01T10:00:01Z   File "/srv/orders/db.py", line 12, in connect
orders-1  | 2025-03-01T10:00:01Z     return psycopg.connect(DSN)
orders-1  | 2025-03-01T10:00:01Z psycopg.OperationalError: connection failed: connection to server at "pgsql" (172.20.0.3), port 5432 failed: FATAL:  database "orders" does not exist
pgsql-1   | 2025-03-01T10:00:00Z 2025-03-01 10:00:00.100 UTC [1] LOG:  database system is ready to accept connections
"""


def _fix(tmp_path: Path, text: str) -> str:
    issues = report_json(tmp_path, text, NOW)["issues"]
    (issue,) = [i for i in issues if "postgres.database-missing" in i["rules"]]
    return str(issue["fix"])


def test_the_server_a_client_names_fills_the_slot(tmp_path: Path) -> None:
    """Before: `docker compose exec <db-service> createdb …` though the line names `pgsql`."""
    fix = _fix(tmp_path, CLIENT_NAMES_SERVER)
    assert "docker compose exec pgsql createdb -U <user> orders" in fix
    assert "<db-service>" not in fix


def test_the_servers_own_log_fills_the_slot(tmp_path: Path) -> None:
    own = (
        "main-db-1  | 2025-03-01T10:00:00Z 2025-03-01 10:00:00.100 UTC [1] LOG:  database system"
        " is ready to accept connections\n"
        "main-db-1  | 2025-03-01T10:00:02Z 2025-03-01 10:00:02.500 UTC [41] FATAL:  database"
        ' "billing" does not exist\n'
    )
    assert "docker compose exec main-db createdb -U <user> billing" in _fix(tmp_path, own)


def test_nothing_names_the_server_keeps_the_slot(tmp_path: Path) -> None:
    alone = 'job-1  | 2025-03-01T10:00:01Z psql: FATAL:  database "reports" does not exist\n'
    assert "docker compose exec <db-service> createdb" in _fix(tmp_path, alone)


def test_two_servers_named_is_no_guess(tmp_path: Path) -> None:
    both = (
        'a-1  | 2025-03-01T10:00:01Z connection to server at "pg-east" (10.0.0.2), port 5432'
        ' failed: FATAL:  database "x" does not exist\n'
        'b-1  | 2025-03-01T10:00:02Z connection to server at "pg-west" (10.0.0.3), port 5432'
        ' failed: FATAL:  database "x" does not exist\n'
        "pg-east-1  | 2025-03-01T10:00:00Z LOG:  database system is ready to accept connections\n"
        "pg-west-1  | 2025-03-01T10:00:00Z LOG:  database system is ready to accept connections\n"
    )
    assert "docker compose exec <db-service> createdb" in _fix(tmp_path, both)


@pytest.mark.parametrize(
    ("rule", "port"),
    [
        ("postgres.database-missing", 5432),
        ("network.mysql-auth-plugin", 3306),
        ("mysql8.access-denied", 3306),
        ("python.module-missing", None),
    ],
)
def test_server_port_of_a_rule(rule: str, port: int | None) -> None:
    assert server_port(rule) == port


def test_another_clients_target_fills_the_slot(tmp_path: Path) -> None:
    """The job's line names no server; the api's refused connection names `pgmain` on 5432."""
    text = (
        "pgmain-1  | 2025-03-01T10:00:00Z custom entrypoint: restoring base backup\n"
        'api-1  | 2025-03-01T10:00:01Z connection to server at "pgmain" (172.20.0.9), port 5432'
        " failed: Connection refused\n"
        'job-1  | 2025-03-01T10:00:03Z psql: FATAL:  database "reports" does not exist\n'
    )
    assert "docker compose exec pgmain createdb -U <user> reports" in _fix(tmp_path, text)


def test_the_server_of_a_missing_database_is_not_recreated(tmp_path: Path) -> None:
    """The server and its exited client are one issue (the database is their key field);
    recreating the server would not create the database, so only the client is."""
    text = CLIENT_NAMES_SERVER + (
        "pgsql-1   | 2025-03-01T10:00:01Z 2025-03-01 10:00:01.200 UTC [30] FATAL:  database"
        ' "orders" does not exist\n'
        "orders-1 exited with code 1\n"
    )
    data = report_json(tmp_path, text, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["orders", "pgsql"]
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    recreate = [c for c in commands if "--force-recreate" in c]
    assert recreate and all("pgsql" not in c for c in recreate), recreate


def test_the_mysql_server_listening_fills_its_slot(tmp_path: Path) -> None:
    """`<db>` of the MySQL auth-plugin fix: the one service that says it listens on 3306."""
    text = (
        "sql-1   | 2026-01-10T10:00:00Z 2026-01-10T10:00:00.000000Z 0 [System] [MY-010931]"
        " [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket:"
        " '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.\n"
        "shop-1  | 2026-01-10T10:00:03Z Error: ER_NOT_SUPPORTED_AUTH_MODE: Client does not"
        " support authentication protocol requested by server; consider upgrading MySQL client\n"
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "docker compose exec sql mysql -uroot -p" in issue["fix"]
    assert "<db>" not in issue["fix"]


def test_the_dialled_service_fills_the_depends_on_slot(tmp_path: Path) -> None:
    """Go's refusal names `api:8080`, a service of the stack: `depends_on: api: …`
    (before: `depends_on: <service>: condition: service_healthy`)."""
    text = (
        "api-1  | 2025-03-01T10:00:00Z loading catalogue\n"
        'web-1  | 2025-03-01T10:00:02Z level=error msg=fetch err="dial tcp api:8080: connect:'
        ' connection refused"\n'
        'web-1  | 2025-03-01T10:00:04Z level=error msg=fetch err="dial tcp api:8080: connect:'
        ' connection refused"\n'
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "`depends_on: api: condition: service_healthy`" in issue["fix"]


def test_a_host_of_no_service_keeps_the_slot(tmp_path: Path) -> None:
    text = (
        'web-1  | 2025-03-01T10:00:02Z level=error msg=fetch err="dial tcp 10.1.2.3:8080:'
        ' connect: connection refused"\n'
    )
    (issue,) = report_json(tmp_path, text, NOW)["issues"]
    assert "`depends_on: <service>: condition: service_healthy`" in issue["fix"]
