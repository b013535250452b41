"""Host and platform failures (Windows port reservations, rootless ports, CPU emulation,
CRLF scripts) and action plans a recreate would not fix (an init script's data volume, a
refused ACME certificate, a database the server was only asked for)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from incidentlog.render.report import generate_report
from incidentlog.topology import _compose_volumes
from tests.report_helpers import report_json

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CORPUS = Path(__file__).parent / "corpus"


def _commands(data: dict[str, Any]) -> list[str]:
    return [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]


def _rules(data: dict[str, Any]) -> list[str]:
    return [r for i in data["issues"] for r in i["rules"]]


def _case(name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(generate_report([str(CORPUS / name)], fmt="json", now=NOW))
    return out


INIT_LOG = (CORPUS / "rw-postgres-init-script-named-volume" / "compose.log").read_text()


def test_init_script_plan_removes_the_named_volume_only() -> None:
    commands = _commands(_case("rw-postgres-init-script-named-volume"))
    assert "docker compose rm --stop --force pg" in commands
    assert "docker volume rm crm_crm_pgdata" in commands
    assert not any("down -v" in c and not c.startswith("#") for c in commands)
    assert "docker compose up -d --force-recreate pg" not in commands


def test_init_script_plan_without_compose_file_says_how_to_find_the_volume(
    tmp_path: Path,
) -> None:
    commands = _commands(report_json(tmp_path, INIT_LOG, NOW))
    assert any(c.startswith("docker inspect --format") and "Mounts" in c for c in commands)
    assert "docker volume ls --filter label=com.docker.compose.project=crm" in commands
    assert "docker volume rm VOLUME" in commands
    assert "docker compose up -d --force-recreate pg" not in commands


def test_init_script_plan_with_a_bind_mount_moves_the_folder_aside(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  pg:\n    image: postgres:16\n    volumes:\n"
        "      - ./pgdata:/var/lib/postgresql/data\n  api:\n    build: .\n"
    )
    commands = _commands(report_json(tmp_path, INIT_LOG, NOW))
    assert "sudo mv ./pgdata ./pgdata.failed-init" in commands
    assert not any(c.startswith("docker volume rm") for c in commands)


def test_compose_volumes_keep_named_and_bind_mounts() -> None:
    assert _compose_volumes(
        [
            "data:/var/lib/mysql",
            "./conf:/etc/mysql/conf.d:ro",
            "/anon",
            {"source": "x", "target": "/y"},
        ]
    ) == ("volume data -> /var/lib/mysql", "bind ./conf -> /etc/mysql/conf.d", "volume x -> /y")
    assert _compose_volumes(None) is None


ACME = (
    'site-proxy-1  | time="2026-04-11T08:00:14Z" level=error msg="Unable to obtain ACME '
    'certificate for domains \\"shop.example.org\\"" error="acme: error: 400 :: '
    "urn:ietf:params:acme:error:dns :: DNS problem: NXDOMAIN looking up A for "
    'shop.example.org" providerName=le.acme\n'
    "site-web-1    | 2026-04-11T08:00:03Z INFO listening on :8080\n"
)


def test_acme_failure_is_not_fixed_by_recreating_the_proxy(tmp_path: Path) -> None:
    commands = _commands(report_json(tmp_path, ACME, NOW))
    assert "nslookup shop.example.org" in commands
    assert not any("--force-recreate" in c for c in commands)


RATE = (
    'proxy-1  | {"level":"error","ts":1712822400.1,"logger":"tls.obtain","msg":"could not get '
    'certificate from issuer","identifier":"shop.example.org","error":"HTTP 429 '
    "urn:ietf:params:acme:error:rateLimited - too many certificates already issued, "
    'retry after 2026-04-12T10:00:00Z"}\n'
)


def test_acme_rate_limit_waits_instead_of_recreating(tmp_path: Path) -> None:
    data = report_json(tmp_path, RATE, NOW)
    assert "network.acme-rate-limited" in _rules(data)
    commands = _commands(data)
    assert not any("--force-recreate" in c for c in commands)
    assert any("ratelimited" in c for c in commands)


DB_MISSING = (
    "bill-db-1   | 2026-05-01 12:00:01.100 UTC [1] LOG:  database system is ready to accept "
    "connections\n"
    "bill-app-1  | Error: P1003: Database `billing` does not exist on the database server at "
    "`db:5432`.\n"
    'bill-db-1   | 2026-05-01 12:00:04.200 UTC [33] FATAL:  database "billing" does not exist\n'
    "bill-app-1 exited with code 1\n"
)


def test_server_that_only_refused_a_database_name_is_not_recreated(tmp_path: Path) -> None:
    commands = _commands(report_json(tmp_path, DB_MISSING, NOW))
    assert not any("--force-recreate" in c and "db" in c.split() for c in commands)
    assert (
        "docker compose exec db sh -c 'createdb -U \"${POSTGRES_USER:-postgres}\" billing'"
        in commands
    )


def test_windows_reserved_port_is_not_a_port_in_use() -> None:
    data = _case("rw-windows-reserved-port")
    assert _rules(data)[0] == "docker.port-reserved-windows"
    assert "network.port-taken" not in _rules(data)
    assert "excludedportrange" in json.dumps(data["issues"][0]["fix"])


def test_rootless_privileged_port_is_not_a_file_permission() -> None:
    data = _case("rw-rootless-privileged-port")
    assert _rules(data) == ["docker.rootless-privileged-port"]
    assert "ip_unprivileged_port_start=443" in json.dumps(data["issues"][0]["fix"])


def test_emulation_failure_names_the_cpu_mismatch() -> None:
    data = _case("rw-amd64-image-emulation-fails")
    assert "another CPU" in data["issues"][0]["title"]


def test_crlf_line_leads_the_exit_127_it_explains() -> None:
    data = _case("rw-crlf-env-bash")
    assert "CRLF" in data["issues"][0]["title"]
    steps = [json.dumps(s["title"]) for p in data["action_plan"] for s in p["steps"]]
    assert any("LF line endings" in t for t in steps)
