"""Compose files as real projects have them: merged as compose merges them, bounded,
and a broken or hostile file is a note, never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from incidentlog.topology import compose_files_in, load_compose, topology_for


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
name: shop
x-common: &common
  restart: unless-stopped
  healthcheck:
    test: ["CMD", "wget", "-q", "--spider", "http://localhost:8080/health"]
    start_period: 30s
services:
  api:
    <<: *common
    build: ./api
    depends_on: [db]
  db:
    image: postgres:16
    container_name: shop-database
  admin:
    image: adminer
    profiles: [debug]
"""
OVERRIDE = """\
services:
  api:
    depends_on:
      cache:
        condition: service_healthy
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://localhost:8080/health"]
  cache:
    image: redis:7
"""


def test_base_and_override_merge_as_compose_merges_them(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(tmp_path, "docker-compose.override.yml", OVERRIDE)
    write(tmp_path, "docker-compose.prod.yml", "services:\n  api:\n    image: x\n")
    files, others = compose_files_in(tmp_path)
    assert [f.name for f in files] == ["docker-compose.yml", "docker-compose.override.yml"]
    assert [o.name for o in others] == ["docker-compose.prod.yml"]
    topology = load_compose(files)
    assert topology.project == "shop"
    assert topology.depends_on["api"] == ["cache", "db"]  # list and mapping forms merged
    api = topology.specs["api"]
    assert api.healthcheck == "curl -f http://localhost:8080/health"  # test is replaced
    assert api.start_period == "30s" and api.restart == "unless-stopped"  # from the anchor
    assert api.build and topology.configs["api"].built_here
    assert topology.container_names == {"shop-database": "db"}
    assert topology.services == ["api", "cache", "db"]  # admin's profile is not active
    assert "admin" in topology.specs
    assert topology.notes[0] == (
        "topology from docker-compose.yml + docker-compose.override.yml (depends_on)"
    )


def test_profiles_activated_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write(tmp_path, "compose.log", "api-1  | hi\n")
    write(tmp_path, "compose.yaml", BASE)
    monkeypatch.setenv("COMPOSE_PROFILES", "debug")
    assert "admin" in topology_for([], [str(log)]).services


def test_explicit_files_merge_in_order_with_reset_and_override(tmp_path: Path) -> None:
    base = write(tmp_path, "a.yml", BASE)
    extra = write(
        tmp_path,
        "b.yml",
        "services:\n  api:\n    depends_on: !reset []\n    healthcheck: !override\n"
        '      test: [CMD, "true"]\n',
    )
    topology = load_compose([base, extra])
    assert topology.depends_on["api"] == []
    assert topology.specs["api"].healthcheck == "true"
    assert topology.specs["api"].start_period is None  # !override dropped the merged keys


def test_extends_and_include(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    write(
        tmp_path,
        "lib/common.yml",
        "services:\n  base:\n    image: python:3.12\n    healthcheck:\n      test: [CMD, probe]\n",
    )
    write(tmp_path, "lib/queue.yml", "services:\n  queue:\n    image: rabbitmq:3\n")
    main = write(
        tmp_path,
        "compose.yaml",
        "include:\n  - lib/queue.yml\nservices:\n  worker:\n    extends:\n"
        "      file: lib/common.yml\n      service: base\n    depends_on: [queue]\n"
        "  beat:\n    extends: worker\n",
    )
    topology = load_compose([main])
    assert set(topology.specs) == {"queue", "worker", "beat"}
    assert topology.specs["worker"].image == "python:3.12"
    assert topology.specs["beat"].healthcheck == "probe"
    assert topology.depends_on["worker"] == ["queue"]


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("services: [1, 2]\n", "`services:` is not a mapping"),
        ("just a string\n", "no top-level mapping"),
        ("services:\n  a: {\n", "not valid YAML"),
        ("services:\n  a:\n    extends: a\n", "goes deeper than"),
        (
            "services:\n  a:\n    extends: {service: missing}\n",
            "extends missing, which is not there",
        ),
        ("include: [compose.yaml]\nservices: {}\n", "nests deeper than"),
        ("services:\n  a: !python/object:os.system {}\n", "not valid YAML"),
    ],
)
def test_broken_files_are_notes(tmp_path: Path, text: str, note: str) -> None:
    path = write(tmp_path, "compose.yaml", text)
    topology = load_compose([path])
    assert topology.specs == {}
    assert len(topology.notes) == 1 and note in topology.notes[0], topology.notes


def test_odd_shapes_do_not_crash(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "compose.yaml",
        "services:\n  a: null\n  b:\n    healthcheck: [1]\n    depends_on: 7\n"
        "    profiles: debug\n    image: 3\n  c: [x]\n",
    )
    topology = load_compose([path])
    assert set(topology.specs) == {"a", "b", "c"}
    assert topology.specs["b"].image == "3" and topology.specs["b"].healthcheck is None


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("services:\n  x:\n    image: *i")
    path = write(tmp_path, "compose.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    topology = load_compose([path])
    assert time.monotonic() - started < 5
    assert topology.specs == {} and "alias bomb" in topology.notes[0]


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", "a: &a [*a]\nservices: {}\n")
    assert "alias bomb" in load_compose([path]).notes[0]


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", "# " + "x" * (3 * 1024 * 1024) + "\n")
    assert "more than a compose file has" in load_compose([path]).notes[0]
