"""Printed container names to compose services, strongest evidence first."""

from __future__ import annotations

import pytest

from incidentlog.detect import service_of_container
from incidentlog.ingest.names import (
    NameContext,
    compose_mentions,
    replica_base,
    resolve_names,
    shared_prefix,
)
from incidentlog.ingest.reading import raw_service
from incidentlog.ingest.sessions import named_service


def services(printed: list[str], **context: object) -> dict[str, str]:
    return resolve_names(printed, NameContext(**context)).service  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("shop-api-1", "shop-api"),
        ("api_2", "api"),
        ("shop_api.1", "shop_api"),
        ("db", "db"),
        ("/web-1", "web"),
        ("a-b", "a-b"),
    ],
)
def test_replica_base(name: str, base: str) -> None:
    assert replica_base(name) == base


def test_shared_prefix() -> None:
    assert shared_prefix(["shop-api", "shop-db", "shop-web-app"]) == "shop-"
    assert shared_prefix(["my-shop-api", "my-shop-db"]) == "my-shop-"
    assert shared_prefix(["shop_api", "shop_db"]) == "shop_"
    assert shared_prefix(["api", "db"]) is None
    assert shared_prefix(["shop-api"]) is None
    assert shared_prefix(["shop", "shop-db"]) is None  # nothing would be left of `shop`


def test_plain_v2_and_v1_names_are_services() -> None:
    assert services(["api-1", "db_1", "worker-2"]) == {
        "api-1": "api",
        "db_1": "db",
        "worker-2": "worker",
    }


def test_labels_win_over_everything() -> None:
    got = services(["shop-api-1"], labels={"shop-api-1": "backend"}, services=frozenset({"api"}))
    assert got == {"shop-api-1": "backend"}


def test_compose_file_names_and_container_names() -> None:
    ctx = {"services": frozenset({"api", "db", "web-app"}), "container_names": {"pg-main": "db"}}
    got = services(["myproj-api-1", "pg-main", "myproj-web-app-1", "web-app-1"], **ctx)
    assert got == {
        "myproj-api-1": "api",
        "pg-main": "db",
        "myproj-web-app-1": "web-app",
        "web-app-1": "web-app",
    }


def test_a_known_project_is_stripped() -> None:
    got = resolve_names(["shop_api_1"], NameContext(projects=("shop",)))
    assert got.service == {"shop_api_1": "api"} and got.project == {"shop_api_1": "shop"}


def test_a_shared_prefix_confirmed_by_host_names() -> None:
    got = services(["shop-api-1", "shop-db-1"], hosts=frozenset({"db"}))
    assert got == {"shop-api-1": "api", "shop-db-1": "db"}


def test_a_shared_prefix_confirmed_by_compose_lines() -> None:
    names, projects = compose_mentions(
        ["Network shop_default  Created", " ✔ Container shop-api-1  Started"]
    )
    assert projects == ["shop"] and "shop-api-1" in names
    got = services(["shop-api-1", "shop-db-1"], projects=tuple(projects))
    assert got == {"shop-api-1": "api", "shop-db-1": "db"}


def test_three_containers_sharing_a_prefix_are_a_project() -> None:
    got = services(["acme-api-1", "acme-db-1", "acme-web-1"])
    assert got == {"acme-api-1": "api", "acme-db-1": "db", "acme-web-1": "web"}


def test_container_names_compose_did_not_number_keep_their_prefix() -> None:
    # `container_name:`s someone chose (Immich's): no project prefix to cut
    names = ["immich_server", "immich_microservices", "immich_machine_learning"]
    assert services(names) == {n: n for n in names}


def test_a_host_name_spelled_with_dashes_keeps_the_prefix_too() -> None:
    names = ["media_api_1", "media_worker_1", "media_ml_1"]
    assert services(names, hosts=frozenset({"media-ml"})) == {n: n[:-2] for n in names}


def test_a_host_spelled_with_dashes_is_the_container_with_underscores() -> None:
    known = ["immich_server", "immich_machine_learning"]
    assert service_of_container("immich-machine-learning", known) == "immich_machine_learning"
    assert service_of_container("other-host", known) == "other-host"


def test_two_services_sharing_a_word_are_left_alone() -> None:
    result = resolve_names(["api-gateway-1", "api-worker-1"], NameContext())
    assert result.service == {"api-gateway-1": "api-gateway", "api-worker-1": "api-worker"}
    assert result.note is not None and "pass --project NAME" in result.note


def test_host_names_that_keep_the_prefix_say_it_is_no_project() -> None:
    got = services(["app-api-1", "app-db-1", "app-web-1"], hosts=frozenset({"app-db"}))
    assert got == {"app-api-1": "app-api", "app-db-1": "app-db", "app-web-1": "app-web"}


def test_logs_without_project_while_compose_lines_have_it() -> None:
    names, _ = compose_mentions(["Container shop-api-1  Started", "Container shop-db-1  Started"])
    result = resolve_names(["api-1", "db-1"], NameContext(mentions=tuple(names)))
    assert result.service == {"api-1": "api", "db-1": "db"}
    assert result.note is None


def test_a_service_named_like_its_project_is_not_cut_twice() -> None:
    """Project `airflow`, service `airflow-init`: compose prints `airflow-init-1` and
    names the container `airflow-airflow-init-1`; the service is not `init`."""
    names, _ = compose_mentions(
        ["Container airflow-airflow-init-1  Created", "Container airflow-airflow-web-1  Created"]
    )
    result = resolve_names(["airflow-init-1", "airflow-web-1"], NameContext(mentions=tuple(names)))
    assert result.service == {"airflow-init-1": "airflow-init", "airflow-web-1": "airflow-web"}
    assert result.project == {"airflow-init-1": "airflow", "airflow-web-1": "airflow"}


def test_a_swarm_stack_is_a_project_even_with_one_service() -> None:
    # a stack deploys `<stack>_<service>`: its tasks (`shop_web.1`) say the prefix is one
    got = resolve_names(["shop_web.1", "shop_web.2"], NameContext())
    assert got.service == {"shop_web.1": "web", "shop_web.2": "web"}
    assert got.project == {"shop_web.1": "shop", "shop_web.2": "shop"}
    # compose's own names sharing a word are still left alone
    assert services(["shop_web_1", "shop_db_1"]) == {
        "shop_web_1": "shop_web",
        "shop_db_1": "shop_db",
    }


@pytest.mark.parametrize(
    ("source", "command", "service"),
    [
        ("access.log", None, "unknown"),
        ("compose.log", None, "unknown"),
        ("api.log", None, "api"),
        ("-", "tail -n 50 /var/log/nginx/access.log", "nginx"),
        ("-", "cat /var/log/syslog", None),
    ],
)
def test_names_that_name_nothing_are_one_list(
    source: str, command: str | None, service: str | None
) -> None:
    """A file name (`raw_service`) and a log viewer's file (`named_service`) are judged by
    the same list: `access.log` is nobody's, `/var/log/nginx/access.log` is nginx's."""
    if command is None:
        assert raw_service(source) == service
    else:
        assert named_service(command) == service
