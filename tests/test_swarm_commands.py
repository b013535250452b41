"""Compose commands rewritten for a swarm stack: each verb to what does the same there."""

from __future__ import annotations

import pytest

from incidentlog.incident.plan import compose_cli, for_cli
from incidentlog.incident.swarm import SWARM_CLI, for_swarm


@pytest.mark.parametrize(
    ("compose", "stack"),
    [
        ("docker compose ps", "docker stack ps shop"),
        ("docker compose up -d web db", "docker stack deploy -c docker-compose.yml shop"),
        (
            "docker compose up -d --force-recreate web",
            "docker stack deploy -c docker-compose.yml shop && docker service update --force shop_web",
        ),
        (
            "docker compose restart web db",
            "docker service update --force shop_web && docker service update --force shop_db",
        ),
        ("docker compose logs -f --tail 20 web", "docker service logs -f --tail 20 shop_web"),
        (
            "docker compose logs --tail 20 web db",
            'for s in shop_web shop_db; do docker service logs --tail 20 "$s" 2>&1; done',
        ),
        (
            "docker compose logs --since 1h | grep -i error",
            'for s in $(docker stack services -q shop); do docker service logs --since 1h "$s"'
            " 2>&1; done | grep -i error",
        ),
        (
            "docker compose ps --status restarting",
            "docker stack ps shop --no-trunc --filter desired-state=shutdown",
        ),
        (
            "docker inspect --format '{{.Name}}' $(docker compose ps -aq db)",
            "docker inspect --format '{{.Name}}' $(docker ps -aq --filter name=shop_db.)",
        ),
        (
            "docker compose exec db psql -U app",
            "docker exec -it $(docker ps -q --filter name=shop_db. | head -n 1) psql -U app",
        ),
        (
            "docker compose exec -T web python manage.py migrate",
            "docker exec $(docker ps -q --filter name=shop_web. | head -n 1)"
            " python manage.py migrate",
        ),
        ("docker compose build web", "docker compose build web && docker compose push web"),
        ("docker compose config --quiet", "docker stack config -c docker-compose.yml > /dev/null"),
        ("docker compose config --services", "docker stack services shop"),
        (
            "docker compose down -v",
            "docker stack rm shop && docker volume rm $(docker volume ls -q"
            " --filter label=com.docker.stack.namespace=shop)",
        ),
        (
            "docker compose pull",
            "docker stack deploy -c docker-compose.yml --resolve-image always shop",
        ),
        ("docker compose top web", "docker compose top web"),  # no counterpart: as it was
        ("docker ps --filter health=unhealthy", "docker ps --filter health=unhealthy"),
    ],
)
def test_each_verb_becomes_the_stacks(compose: str, stack: str) -> None:
    assert for_swarm(compose, "shop") == stack
    assert for_cli(compose, SWARM_CLI, "shop") == stack


def test_quoted_names_stay_quoted() -> None:
    # a name from the logs that the shell would split is quoted with its stack
    assert for_swarm("docker compose restart 'we b'", "shop") == (
        "docker service update --force 'shop_we b'"
    )
    assert for_swarm("docker compose ps", "my stack") == "docker stack ps 'my stack'"


def test_swarm_tasks_choose_the_stack_cli() -> None:
    assert compose_cli(["shop_web.1", "shop_db.1", "compose"]) == SWARM_CLI
    assert compose_cli(["web-1", "db-1"]) == "docker compose"
    assert compose_cli(["web_1", "db_1"]) == "docker-compose"
    assert compose_cli(["shop_web.1", "web-1"]) == "docker compose"  # (a mix: not one stack)
