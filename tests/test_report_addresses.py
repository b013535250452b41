"""Addresses instead of service names: who a refused `172.19.0.3:3000` or `127.0.0.1:27017`
meant, told by the port the services listen on (their start-up lines, else their image)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from report_helpers import report_json, report_md

from incidentlog.incident.ports import listening_ports, service_on_port
from incidentlog.render.report import generate_report
from incidentlog.topology import ContainerConfig

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

UP = """\
Attaching to api-1, mongo-1, web-1
mongo-1  | {"t":{"$date":"2026-12-02T18:40:11.201+00:00"},"s":"I","c":"NETWORK","id":23016,\
"ctx":"listener","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}
api-1    | Server listening on http://0.0.0.0:3000
api-1    | MongooseServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017
api-1    |     at _handleConnectionErrors (/app/node_modules/mongoose/lib/connection.js:1110:11)
api-1    |\x20
api-1    | Node.js v20.11.1
api-1 exited with code 1
web-1    | 2026/12/02 18:40:15 [error] 29#29: *1 connect() failed (111: Connection refused) \
while connecting to upstream, client: 172.19.0.1, server: _, request: "GET /api/orders \
HTTP/1.1", upstream: "http://172.19.0.3:3000/api/orders", host: "localhost:8080"
"""


@pytest.mark.parametrize(
    ("line", "port"),
    [
        ("Server listening on http://0.0.0.0:3000", 3000),
        ('LOG:  listening on IPv4 address "0.0.0.0", port 5432', 5432),
        ("[INFO] Listening at: http://0.0.0.0:8000 (1)", 8000),
        ("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", 8000),
        ("Tomcat started on port 8080 (http) with context path ''", 8080),
        ("Now listening on: http://[::]:80", 80),
        ("1:M 01 Aug 2025 10:00:00.000 * Running mode=standalone, port=6379.", 6379),
        ("http server started on [::]:8080", 8080),
        ('"msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}', 27017),
        (
            "mysqld: ready for connections. Version: '8.0.36'  socket: "
            "'/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
            3306,
        ),
        # no port printed: the server's own words give its default
        (
            "2026-02-01 10:00:00.101 UTC [1] LOG:  database system is ready to accept connections",
            5432,
        ),
        ("1:M 01 Feb 2026 10:00:00.120 * Ready to accept connections tcp", 6379),
    ],
)
def test_start_up_lines_say_the_port(line: str, port: int) -> None:
    logs = pl.DataFrame({"service": ["svc"], "message": [line]})
    assert listening_ports(logs, {}, ["svc"]) == {port: ["svc"]}


def test_a_service_that_says_its_port_is_not_given_a_default_as_well() -> None:
    logs = pl.DataFrame(
        {
            "service": ["pg", "pg"],
            "message": [
                'LOG:  listening on IPv4 address "0.0.0.0", port 6543',
                "LOG:  database system is ready to accept connections",
            ],
        }
    )
    assert listening_ports(logs, {}, ["pg"]) == {6543: ["pg"]}


def test_times_are_not_ports_and_images_give_the_default() -> None:
    logs = pl.DataFrame({"service": ["svc"], "message": ["server started at 10:00:05"]})
    configs = {"db": ContainerConfig(image="docker.io/library/postgres:16-alpine")}
    found = listening_ports(logs, configs, ["svc", "db", "cache-redis"])
    assert found == {5432: ["db"], 6379: ["cache-redis"]}
    assert service_on_port(found, "5432", "api") == "db"
    assert service_on_port(found, "5432", "db") is None  # not itself
    assert service_on_port(found, "9999", "api") is None


def test_loopback_address_names_the_service_meant_and_the_proxy_is_its_symptom(
    tmp_path: Path,
) -> None:
    log = tmp_path / "up.log"
    log.write_text(UP, encoding="utf-8")
    data = json.loads(generate_report([str(log)], fmt="json", now=NOW))
    (issue,) = data["issues"]
    assert issue["services"] == ["api"]
    assert "`mongo:27017`" in issue["fix"] and "`127.0.0.1`" in issue["fix"]
    assert "inside a container is that container itself" in issue["root_cause"]
    web = [y for y in issue["symptoms"] if y["service"] == "web"]
    assert web and web[0]["via"] == "host 172.19.0.3"
    # api prints no times: its exit, which compose prints after mongo's dated line, is no
    # earlier than that line, and starts the incident (web's refusal comes 4 s later)
    assert data["started_at"].startswith("2026-12-02T18:40:11")
    md = generate_report([str(log)], fmt="md", now=NOW)
    assert "18:40:11 UTC: first evidence of #1" in md


def test_refusals_by_a_service_that_only_exits_are_symptoms_of_its_exits(tmp_path: Path) -> None:
    up = (
        "api-1  | 2026-11-03T10:00:00.000000000Z Error: connect ECONNREFUSED redis:6379\n"
        "redis-1 exited with code 1\n"
        "redis-1 exited with code 1\n"
        "api-1  | 2026-11-03T10:00:03.000000000Z Error: connect ECONNREFUSED redis:6379\n"
    )
    (issue,) = report_json(tmp_path, up, NOW)[
        "issues"
    ]  # redis's exits; api's refusals are their downstream
    assert issue["services"] == ["redis"]
    assert [(y["service"], y["via"]) for y in issue["symptoms"] if y["service"] == "api"] == [
        ("api", "host redis")
    ]
    md = report_md(tmp_path, up, NOW)
    assert "crashed 2 times (exit code 1) at 10:00:00; not restarted after the last exit" in md
    assert "| redis | exited with code 1: crashed 2 times, the last at 10:00:00 | 10:00:00 |" in md


DB_DOWN = """\
db-1   | 2026-03-14T09:00:00.100000000Z initdb: error: directory "/var/lib/postgresql/data" \
exists but is not empty
db-1 exited with code 1
api-1  | 2026-03-14T09:00:01.400000000Z Traceback (most recent call last):
api-1  | 2026-03-14T09:00:01.401000000Z   File "/app/db.py", line 18, in connect
api-1  | 2026-03-14T09:00:01.402000000Z socket.gaierror: [Errno -2] Name or service not known
api-1 exited with code 3
"""


def test_a_failure_naming_no_host_is_the_only_other_failing_services(tmp_path: Path) -> None:
    """No compose file, no host in the message: the one service that failed on its own is
    the one api could not reach; the tie says why."""
    (issue,) = report_json(tmp_path, DB_DOWN, NOW)["issues"]
    assert issue["services"] == ["db"]
    api = [y for y in issue["symptoms"] if y["service"] == "api"]
    assert api and api[0]["via"] == "the only other failing service, db"
    # two services failing on their own: nothing says which one api meant
    other = (
        "cache-1 | 2026-03-14T09:00:00.200000000Z 1:M 14 Mar 2026 09:00:00.200 # Bad file "
        "format reading the append only file appendonly.aof.1.incr.aof\n"
    )
    data = report_json(tmp_path, DB_DOWN + other, NOW)
    assert sorted(s for i in data["issues"] for s in i["services"]) == ["api", "cache", "db"]


def test_outages_of_one_service_naming_one_host_are_one_issue(tmp_path: Path) -> None:
    nginx = (
        "web-1  | 2026-02-01T10:00:00.000000000Z 2026/02/01 10:00:00 [error] 29#29: *1 connect()"
        " failed (113: No route to host) while connecting to upstream, client: 10.0.0.9, server:"
        ' _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.5:80/", host: "example.test"\n'
        "web-1  | 2026-02-01T10:00:30.000000000Z 2026/02/01 10:00:30 [error] 29#29: *7 upstream"
        " timed out (110: Connection timed out) while connecting to upstream, client: 10.0.0.9,"
        ' server: _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.5:80/", host:'
        ' "example.test"\n'
    )
    (issue,) = report_json(tmp_path, nginx, NOW)["issues"]
    assert issue["services"] == ["web"] and "172.18.0.5:80" in issue["title"]
    # another upstream is another issue
    other = nginx.replace("172.18.0.5:80", "172.18.0.9:8080", 1)
    assert len(report_json(tmp_path, other, NOW)["issues"]) == 2


def test_a_proxy_behind_a_dead_api_behind_a_dead_db_is_one_issue(tmp_path: Path) -> None:
    """nginx dials 172.23.0.3:8000, which no service said it listens on (api died before
    it could); api itself failed only because db did: nginx's 502s are db's, through api.
    db is known as postgres by its own failure (the postgres rules), so not on 8000."""
    nginx = (
        "proxy-1 | 2026-03-14T09:00:04.000000000Z 2026/03/14 09:00:04 [error] 29#29: *4"
        " connect() failed (111: Connection refused) while connecting to upstream, client:"
        ' 203.0.113.7, server: _, request: "GET /api/cart HTTP/1.1", upstream:'
        ' "http://172.23.0.3:8000/api/cart", host: "shop.test"\n'
    )
    (issue,) = report_json(tmp_path, DB_DOWN + nginx, NOW)["issues"]
    assert issue["services"] == ["db"]
    ties = {y["service"]: y["via"] for y in issue["symptoms"]}
    assert ties["proxy"] == "host 172.23.0.3, the only other failing service (through api)"
    assert ties["api"] == "the only other failing service, db"


def test_a_servers_own_failure_says_which_server_it_is() -> None:
    findings = pl.DataFrame(
        {
            "service": ["db", "api"],
            "pack": ["postgres", "postgres"],
            "category": ["config-error", "connection-refused"],  # api is only a client
        }
    )
    logs = pl.DataFrame({"service": ["db", "api"], "message": ["initdb: error", "boom"]})
    assert listening_ports(logs, {}, ["db", "api"], findings) == {5432: ["db"]}


SHARED_ENV = """\
Attaching to toot_redis_1, toot_streaming_1, toot_web_1
redis_1      | 1:M 14 Feb 2023 19:02:11.204 * Ready to accept connections tcp
redis_1      | 1:M 14 Feb 2023 19:02:11.204 * Running mode=standalone, port=6379.
streaming_1  | ERR! Redis Client Error! Error: connect ECONNREFUSED 127.0.0.1:6379
web_1        | [26] ! Unable to load application: Redis::CannotConnectError: Error \
connecting to Redis on localhost:6379 (Errno::ECONNREFUSED)
toot_web_1 exited with code 1
"""


def test_two_services_dialling_loopback_for_one_server_are_one_issue(tmp_path: Path) -> None:
    """A shared env file that says `localhost` for Redis: one client prints `127.0.0.1:6379`,
    another `localhost:6379` (redis-rb's wording); one setting to change, so one issue naming
    both, in the plural, with the exit of one as its symptom."""
    data = report_json(tmp_path, SHARED_ENV, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["streaming", "web"]
    assert issue["problem"] == (
        "web exited: streaming and web connect to `127.0.0.1:6379` instead of redis"
    )
    assert "so streaming and web dial their own port 6379" in issue["root_cause"]
    assert issue["fix"].startswith("Point streaming and web at `redis:6379`")
    assert issue["fix"].endswith(
        "in their connection settings (environment, URL or config file), then recreate them."
    )
    assert "network.ruby-connection-refused" in issue["rules"]
