"""Shared fixtures: the checkout, its sample logs, and a real Docker Engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from docker_engine import (
    DockerEngine,
    EngineUnavailableError,
    build_test_images,
    find_or_start_engine,
    stop_engine,
)


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail under CI, which never skips Docker tests."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI needs a Docker Engine: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user cache (`incidentlog.usercache`) of every test and the commands they
    start: a folder of the session's, never the home directory's."""
    folder = tmp_path_factory.mktemp("user-cache")
    before = os.environ.get("INCIDENTLOG_CACHE")
    os.environ["INCIDENTLOG_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("INCIDENTLOG_CACHE", None)
    else:
        os.environ["INCIDENTLOG_CACHE"] = before


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout: $INCIDENTLOG_REPO (CI runs a copy of tests/ elsewhere) or tests/.."""
    env = os.environ.get("INCIDENTLOG_REPO")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sample_logs(repo_root: Path) -> Path:
    return repo_root / "sample_logs"


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """A Docker Engine: $DOCKER_HOST, /var/run/docker.sock, or a dockerd started here."""
    try:
        engine = find_or_start_engine(tmp_path_factory.mktemp("dockerd"))
    except EngineUnavailableError as exc:
        _unavailable(str(exc))
    try:
        yield engine
    finally:
        stop_engine(engine)


@pytest.fixture(scope="session")
def busybox_image(docker_engine: DockerEngine) -> str:
    """`incidentlog-test/busybox:latest` (no curl); also builds `…/busybox-nowget:latest`."""
    try:
        full, _nowget = build_test_images(docker_engine)
    except EngineUnavailableError as exc:
        _unavailable(str(exc))
    return full


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/ from the current output (then read the diff).",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
