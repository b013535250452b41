"""Names of the internet that do not resolve (`api.stripe.com`): the Docker host's DNS or
egress for its containers, not a compose name; one issue however many services fail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from report_helpers import report_json, report_md

from incidentlog.incident.ports import is_public_name

NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def _commands(data: dict[str, Any]) -> list[str]:
    return [c for phase in data["action_plan"] for step in phase["steps"] for c in step["commands"]]


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("api.stripe.com", True),
        ("acme-v02.api.letsencrypt.org", True),
        ("github.com", True),
        ("smtp.example.com", True),
        ("SMTP.Example.COM.", True),
        ("db", False),
        ("localhost", False),
        ("printer.lan", False),
        ("nas.local", False),
        ("host.docker.internal", False),
        ("10.20.0.4", False),
        ("web.shop_default", False),
        ("db.1", False),
    ],
)
def test_public_names(host: str, public: bool) -> None:
    assert is_public_name(host) is public


def test_a_service_or_container_name_with_a_dot_is_no_public_name() -> None:
    assert not is_public_name("search.example.com", {"search.example.com", "api"})


ONE = """\
api-1  | 2025/03/01 10:00:01 listening on :8080
api-1  | 2025/03/01 10:00:03 payment: Post "https://api.stripe.com/v1/charges": dial tcp: \
lookup api.stripe.com on 127.0.0.11:53: server misbehaving
"""


def test_a_public_name_that_does_not_resolve_points_at_the_hosts_dns(tmp_path: Path) -> None:
    """No compose service name or shared network makes `api.stripe.com` resolve: the
    advice is the engine's DNS and egress, checked from the container and the host."""
    data = report_json(tmp_path, ONE, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["api"]
    assert issue["fix_kind"] == "change-host"
    assert issue["problem"].startswith("api cannot resolve the public name `api.stripe.com`")
    assert "compose service name" not in issue["fix"]
    assert "same network" not in issue["fix"]
    assert "`docker compose exec api getent hosts api.stripe.com`" in issue["fix"]
    assert "`/etc/docker/daemon.json`" in issue["fix"]
    assert "`127.0.0.53`" in issue["root_cause"]
    commands = _commands(data)
    assert "sudo systemctl restart docker" in commands
    assert "docker compose exec api getent hosts api.stripe.com" in commands
    assert not any("--force-recreate" in c for c in commands)
    assert [f["path"] for f in data["files"]] == ["/etc/docker/daemon.json"]
    md = report_md(tmp_path, ONE, NOW)
    assert "(change on the Docker host)" in md
    assert "Check in CI that every host name in configuration" not in md


TWO = """\
caddy-1        | {"level":"error","ts":1718007072.02,"logger":"tls.renew","msg":"will retry",\
"error":"renewing certificate: lookup acme-v02.api.letsencrypt.org on 127.0.0.11:53: server \
misbehaving"}
vaultwarden-1  | [2024-06-10 08:12:43.502][vaultwarden::api::icons][WARN] Unable to download \
icon: error sending request for url (https://github.com/favicon.ico): error trying to connect: \
dns error: failed to lookup address information: Temporary failure in name resolution
"""


def test_services_failing_different_public_names_are_one_host_issue(tmp_path: Path) -> None:
    """Caddy's ACME directory and Vaultwarden's icon fetch fail at once: one cause on the
    host, one issue naming both, and no recreate of services that fixes nothing."""
    data = report_json(tmp_path, TWO, NOW)
    (issue,) = data["issues"]
    assert issue["services"] == ["caddy", "vaultwarden"]
    assert issue["fix_kind"] == "change-host"
    assert issue["problem"] == (
        "2 services cannot resolve public names (caddy, vaultwarden): the Docker host's DNS"
        " or egress for containers, not the services"
    )
    assert "`acme-v02.api.letsencrypt.org` from caddy" in issue["root_cause"]
    assert "`github.com` from vaultwarden" in issue["root_cause"]  # (reqwest's URL)
    commands = _commands(data)
    assert not any("--force-recreate" in c for c in commands)
    assert "sudo systemctl restart docker" in commands
    assert commands.index("sudo systemctl restart docker") < commands.index(
        "docker compose up -d caddy vaultwarden"
    )


COMPOSE_NAME = """\
api-1  | 2025/03/01 10:00:03 store: dial tcp: lookup db on 127.0.0.11:53: no such host
api-1  | 2025/03/01 10:00:09 store: dial tcp: lookup db on 127.0.0.11:53: no such host
"""


def test_a_compose_name_that_does_not_resolve_keeps_the_compose_advice(tmp_path: Path) -> None:
    data = report_json(tmp_path, COMPOSE_NAME, NOW)
    (issue,) = data["issues"]
    assert issue["fix_kind"] == "change-config"
    assert issue["problem"] == "api cannot resolve the host name `db`"
    assert "compose service name" in issue["fix"]
    assert "daemon.json" not in issue["fix"]
    assert "docker compose up -d --force-recreate api" in _commands(data)


def test_a_compose_name_and_a_public_name_are_two_issues(tmp_path: Path) -> None:
    text = ONE + COMPOSE_NAME.replace("api-1", "worker-1")
    data = report_json(tmp_path, text, NOW)
    kinds = {tuple(i["services"]): i["fix_kind"] for i in data["issues"]}
    assert kinds == {("api",): "change-host", ("worker",): "change-config"}
