"""The collector's pieces that need no engine: line frames, resume cursors,
checkpoints, and the one-line errors when the engine cannot be reached."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.errors import EngineError, StoreError
from incidentlog.live.checkpoint import Checkpoints, ContainerCheckpoint, Cursor
from incidentlog.live.collector import CollectStats
from incidentlog.live.command import _LiveLine
from incidentlog.live.frames import Blob, advance_cursors, drop_covered, lines_frame
from incidentlog.store import Store

KEYS = pl.DataFrame(
    {
        "key": [0, 1],
        "container": ["shop-web-1", "shop-web-1"],
        "service": ["web", "web"],
        "project": ["shop", "shop"],
        "stream": ["stdout", "stderr"],
    },
    schema={
        "key": pl.UInt32,
        "container": pl.String,
        "service": pl.String,
        "project": pl.String,
        "stream": pl.String,
    },
)
SECOND = 1_000_000_000
BASE = 1_754_051_400 * SECOND  # 2025-08-01T12:30:00Z


def _stamp(ns: int) -> str:
    seconds, fraction = divmod(ns, SECOND)
    whole = (
        pl.Series([seconds * SECOND])
        .cast(pl.Datetime("ns", "UTC"))
        .dt.strftime("%Y-%m-%dT%H:%M:%S")
    )
    return f"{whole.item()}.{fraction:09d}Z"


def test_lines_frame_reads_engine_stamps_and_keeps_streams_apart() -> None:
    out = f"{_stamp(BASE + 5)} GET / 200\r\n{_stamp(BASE + 9)} \n".encode()
    err = f"{_stamp(BASE + 7)} \x1b[31mERROR\x1b[0m boom\n".encode()
    frame = lines_frame([Blob(0, out), Blob(1, err)], KEYS, seq0=10)
    assert frame["seq"].to_list() == [10, 11, 12]
    assert frame["text"].to_list() == ["GET / 200", "", "ERROR boom"]
    assert frame["stream"].to_list() == ["stdout", "stdout", "stderr"]
    assert frame["ts"].dt.epoch("ns").to_list() == [BASE + 5, BASE + 9, BASE + 7]
    assert set(frame["container"]) == {"shop-web-1"}


def test_lines_frame_rejoins_a_line_the_engine_split_at_16k() -> None:
    first = "a" * 16384
    rest = "b" * 100
    # the logs API stamps each 16 KiB piece; only the last one ends the line
    data = f"{_stamp(BASE)} {first}{_stamp(BASE + 1)} {rest}\n".encode()
    frame = lines_frame([Blob(0, data)], KEYS, seq0=0)
    assert frame["text"].to_list() == [first + rest]
    assert frame["ts"].dt.epoch("ns").to_list() == [BASE]


def test_lines_frame_replaces_invalid_utf8() -> None:
    data = f"{_stamp(BASE)} caf".encode() + b"\xe9\n"
    frame = lines_frame([Blob(0, data)], KEYS, seq0=0)
    assert frame["text"].to_list() == ["caf\ufffd"]


def _lines(stamps: list[int], key: int = 0) -> pl.DataFrame:
    data = "".join(f"{_stamp(ts)} line {i}\n" for i, ts in enumerate(stamps)).encode()
    return lines_frame([Blob(key, data)], KEYS, seq0=0) if stamps else lines_frame([], KEYS, 0)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0, 0, 1, 7, SECOND // 3, SECOND]), min_size=1, max_size=40),
    data=st.data(),
)
def test_a_reread_yields_exactly_the_lines_after_the_cursor(
    gaps: list[int], data: st.DataObject
) -> None:
    """Cursor after any line, re-read from its second (as `since` does), in any batches."""
    stamps = []
    ts = BASE
    for gap in gaps:
        ts += gap
        stamps.append(ts)
    stored = data.draw(st.integers(1, len(stamps)), label="lines stored")
    last = stamps[stored - 1]
    cursor = Cursor(last, stamps[:stored].count(last))
    floor = last - last % SECOND
    reread = [i for i, t in enumerate(stamps) if t >= floor]
    frame = _lines(stamps).filter(pl.int_range(pl.len()).is_in(pl.Series(reread)))
    cut = data.draw(st.integers(0, frame.height), label="batch boundary")
    kept: list[str] = []
    remaining: Cursor | None = cursor
    for batch in (frame[:cut], frame[cut:]):
        if remaining is None:
            kept += batch["text"].to_list()
            continue
        out, tally = drop_covered(batch, {0: remaining})
        kept += out["text"].to_list()
        if 0 in tally:
            fresh, dropped = tally[0]
            remaining = None if fresh else Cursor(remaining.ts, remaining.n - dropped)
    assert kept == [f"line {i}" for i in range(stored, len(stamps))]


def test_drop_covered_leaves_other_keys_alone() -> None:
    both = pl.concat([_lines([BASE, BASE + 1], key=0), _lines([BASE], key=1)])
    out, tally = drop_covered(both, {0: Cursor(BASE, 1)})
    assert out.select("key", "text").rows() == [(0, "line 1"), (1, "line 0")]
    assert tally == {0: (True, 1)}


def test_advance_cursors_counts_lines_at_the_last_instant() -> None:
    consumed = _lines([BASE, BASE + 1, BASE + 1, BASE + 2]).with_columns(
        seq=pl.int_range(pl.len(), dtype=pl.UInt64)
    )
    open_record = consumed.filter(pl.col("seq") == 3)  # the last record may still grow
    assert advance_cursors(consumed, open_record, {}) == {0: Cursor(BASE + 1, 2)}
    # an earlier cursor at the same instant adds the lines it already covered
    at_same = consumed.filter(pl.col("seq") >= 2)
    assert advance_cursors(at_same, open_record, {0: Cursor(BASE + 1, 1)}) == {
        0: Cursor(BASE + 1, 2)
    }
    assert advance_cursors(consumed, consumed, {}) == {}


def test_checkpoint_round_trip_and_atomic_files(tmp_path: Path) -> None:
    points = Checkpoints(Store(tmp_path))
    saved = ContainerCheckpoint(
        container_id="abc",
        name="shop-web-1",
        streams={"stdout": Cursor(BASE, 2), "stderr": Cursor(BASE + 5, 1)},
        seen=[(123, BASE, 2)],
    )
    points.save(saved)
    assert points.load("abc") == saved
    assert points.load("missing") is None
    assert points.known() == ["abc"]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["abc.json"]
    points.save_events("shop", BASE)
    points.save_events("*", BASE + 1)
    assert (points.events_since("shop"), points.events_since("*")) == (BASE, BASE + 1)
    assert points.known() == ["abc"]
    points.forget("abc")
    assert points.load("abc") is None


def test_corrupt_checkpoint_is_one_line(tmp_path: Path) -> None:
    points = Checkpoints(Store(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "abc.json").write_text("{not json")
    with pytest.raises(StoreError, match=r"abc\.json: unreadable collect checkpoint .*delete it"):
        points.load("abc")


def test_one_collector_per_project_and_store(tmp_path: Path) -> None:
    first, second = Checkpoints(Store(tmp_path)), Checkpoints(Store(tmp_path))
    first.lock("shop")
    try:
        with pytest.raises(EngineError) as caught:
            second.lock("shop")
        assert str(caught.value) == (
            f"another incidentlog collect is already collecting project 'shop' into "
            f"{tmp_path}; stop it first"
        )
        second.lock("other")  # another project into the same store is fine
        second.unlock()
    finally:
        first.unlock()
    second.lock("shop")
    second.unlock()


# ---- no engine: one clear line and a non-zero exit --------------------------------------


def _cli(
    *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "incidentlog", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"},
    )


@pytest.mark.parametrize(("command", "code"), [("collect", 1), ("status", 3)])
def test_no_engine_at_the_address(tmp_path: Path, command: str, code: int) -> None:
    host = f"unix://{tmp_path}/docker.sock"
    result = (
        _cli(command, "--docker-host", host, "--store", str(tmp_path / "s"))
        if command == "collect"
        else _cli(command, "--docker-host", host)
    )
    assert result.returncode == code
    assert result.stderr == (
        f"Error: no Docker Engine at {host} (the socket does not exist): start dockerd, "
        "or point DOCKER_HOST / --docker-host at a running engine\n"
    )
    assert not (tmp_path / "s").exists()


def test_docker_host_is_honoured(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/elsewhere.sock"
    env = dict(os.environ, DOCKER_HOST=host)
    result = _cli("status", env=env)
    assert result.returncode == 3
    assert result.stderr.startswith(f"Error: no Docker Engine at {host} ")


def test_engine_refusing_connections(tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))  # bound but not listening: connect() is refused
    try:
        result = _cli("status", "--docker-host", f"unix://{path}")
    finally:
        sock.close()
    assert result.returncode == 3
    assert result.stderr == (
        f"Error: the Docker Engine at unix://{path} refused the connection: start dockerd, "
        "or point DOCKER_HOST / --docker-host at a running engine\n"
    )


def test_permission_denied_on_the_socket(tmp_path: Path) -> None:
    """A socket in a directory the caller may not enter, as a user outside the docker group."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop the capability that bypasses permissions")
    folder = tmp_path / "private"
    folder.mkdir()
    path = folder / "docker.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen(1)
    os.chown(folder, 65534, 65534)
    folder.chmod(0o700)
    # root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH is held to the file modes
    drop = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]
    try:
        result = _cli("status", "--docker-host", f"unix://{path}", prefix=drop)
    finally:
        sock.close()
    assert result.returncode == 3, result.stderr
    assert result.stderr == (
        f"Error: permission denied on the Docker Engine socket {path}: run as a member of its "
        "group (sudo usermod -aG docker $USER, then log in again) or as root\n"
    )


def test_live_line_rewrites_one_line_and_clears_it() -> None:
    out = io.StringIO()
    line = _LiveLine(out)
    stats = CollectStats(store=Path("/s"), project="shop", records=1200, events=3)
    stats.rate, stats.services, stats.unhealthy = 240.0, 5, 2
    line(stats)
    line(stats)  # within a second: not redrawn
    text = "collect project shop: 240 records/s, 1200 records, 3 events, 5 services, 2 unhealthy"
    assert out.getvalue() == "\r" + text
    line.clear()
    assert out.getvalue().endswith("\r" + " " * len(text) + "\r")
    stats.engine_down, stats.retry_in = True, 4.2
    assert stats.status_line().startswith(
        "collect project shop: engine unreachable, retrying in 4 s"
    )


def _docker_config(folder: Path, current: str | None, contexts: dict[str, str]) -> Path:
    """A docker CLI config folder with contexts (as `docker context create` writes them)."""
    import hashlib

    for name, host in contexts.items():
        meta = folder / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(
            json.dumps(
                {
                    "Name": name,
                    "Metadata": {},
                    "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
                }
            )
        )
    (folder / "config.json").write_text(json.dumps({"currentContext": current} if current else {}))
    return folder


def test_docker_context_is_honoured_as_the_cli_does(tmp_path: Path) -> None:
    """--docker-host > $DOCKER_HOST > $DOCKER_CONTEXT > `docker context use` > the socket."""
    far, near = f"unix://{tmp_path}/far.sock", f"unix://{tmp_path}/near.sock"
    config = _docker_config(tmp_path / "cfg", "far", {"far": far, "near": near})
    base = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env = dict(base, DOCKER_CONFIG=str(config))
    assert f"no Docker Engine at {far} " in _cli("status", env=env).stderr
    assert (
        f"no Docker Engine at {near} "
        in _cli("status", env=dict(env, DOCKER_CONTEXT="near")).stderr
    )
    flagged = f"unix://{tmp_path}/flag.sock"
    by_env = dict(env, DOCKER_CONTEXT="near", DOCKER_HOST=flagged)
    assert f"no Docker Engine at {flagged} " in _cli("status", env=by_env).stderr
    missing = _cli("status", env=dict(env, DOCKER_CONTEXT="nowhere"))
    assert missing.returncode == 3
    assert missing.stderr.startswith("Error: docker context 'nowhere' not found")


def test_a_checkpoint_half_written_by_a_killed_collector_is_dropped_by_the_next(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that is gone
    orphan = folder / f".abc.json.{dead.pid}.tmp"
    orphan.write_text("{half")
    mine = folder / f".def.json.{os.getpid()}.tmp"  # a live writer's: left alone
    mine.write_text("{")
    points = Checkpoints(Store(tmp_path))
    points.lock("shop")
    try:
        assert not orphan.exists() and mine.exists()
    finally:
        points.unlock()
