"""Progress bars: shown on a terminal (a real pseudo-terminal here), nothing when piped.

Each command runs as its own process with `progress.DELAY = 0` (the bar
normally waits a second, so quick runs print nothing), once with a
pseudo-terminal as its standard error and once with a pipe.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from incidentlog import progress
from incidentlog.ingest import ingest_into_store

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = (
    "import sys, incidentlog.progress as p; p.DELAY = 0; "
    "from incidentlog.cli import main; sys.argv[0] = 'incidentlog'; main()"
)
BAR = "━".encode()
"""The character rich draws its bars with."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days, two files each (so compact has work to do)."""
    folder = tmp_path_factory.mktemp("progress")
    path = folder / "store"
    for n, day in enumerate(("01", "01", "02", "02")):
        log = folder / f"part{n}.log"
        log.write_text(
            f"api-1  | 2025-08-{day}T12:0{n}:00.000000000Z ERROR connection refused to db:5432\n"
            f"db-1   | 2025-08-{day}T12:0{n}:01.000000000Z ready to accept connections\n",
            encoding="utf-8",
        )
        ingest_into_store([log], store=path)
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}


def _on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run with stdin/stdout/stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=_env(),
        close_fds=True,
    )
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    return process.wait(timeout=300), received


def _piped(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], capture_output=True, env=_env(), timeout=300
    )


COMMANDS = {
    "detect": ["detect"],
    "report": ["report"],
    "digest": ["digest", "--hour", "2025-08-02T12"],
    "compact": ["store", "compact"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_terminal_shows_the_bar(name: str, store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    subprocess.run(["cp", "-r", str(store), str(copy)], check=True)
    code, received = _on_a_terminal([*COMMANDS[name], "--store", str(copy)])
    assert code == 0, received.decode(errors="replace")
    assert BAR in received
    assert f"{name}".encode() in received
    assert b"\x1b[" in received  # drawn, then erased (transient)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_pipe_gets_no_progress_bytes(name: str, store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    subprocess.run(["cp", "-r", str(store), str(copy)], check=True)
    result = _piped([*COMMANDS[name], "--store", str(copy)])
    assert result.returncode == 0, result.stderr
    for stream in (result.stdout, result.stderr):
        assert BAR not in stream
        assert b"\x1b[" not in stream
    if name == "compact":
        assert result.stderr == b"" and result.stdout == b"compacted: 4 files -> 2\n"


def test_compact_tracks_days_and_the_library_alone_shows_nothing(
    store: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Without `shown`, `track` and `step` are plain pass-throughs (library use, tests)."""
    progress.step("nothing to show")
    assert list(progress.track([1, 2, 3], "items")) == [1, 2, 3]
    assert capfd.readouterr() == ("", "")
