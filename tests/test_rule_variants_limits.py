"""Which rule a failure goes to when two rules' words overlap: inotify vs the descriptor
limit, a bus error (SIGBUS, /dev/shm) vs a segfault, an application's own "shm too
small" warning.

Each row is one line written for this test around the wording the software prints,
run through the real pipeline (`read_inputs` -> `detect_findings`) as service `s<N>`;
the row names the rule that must fire and the rules that must not. A near miss
(`None`) must fire none of the rules this file is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.ingest import read_inputs
from incidentlog.text import exit_codes_words

INOTIFY, FDS = "limits.inotify-limit", "system.too-many-open-files"
BUS, BUS_EXIT, SHM = "system.bus-error", "system.compose-exited-135", "limits.shm-exhausted"
SEGV, DISK = "system.segfault", "system.no-space-left"
ABOUT = {INOTIFY, FDS, BUS, BUS_EXIT, SHM, SEGV, DISK, "node.file-watchers"}


class Row(NamedTuple):
    name: str
    text: str
    rule: str | None
    not_rules: tuple[str, ...] = ()


ROWS: list[Row] = [
    # ------------------------------------------------- inotify instances (EMFILE), not fds
    Row(
        "go-fsnotify-newwatcher",
        'level=error ts=2025-06-02T08:15:40Z caller=tailer.go:88 msg="cannot follow'
        ' /var/log/app" err="fsnotify.NewWatcher: too many open files"',
        INOTIFY,
        (FDS,),
    ),
    Row(
        "go-fsnotify-create",
        "2025/06/02 08:15:40 config reload disabled: failed to create fsnotify watcher:"
        " too many open files",
        INOTIFY,
        (FDS,),
    ),
    Row(
        "c-inotify-init1",
        "[2025-06-02 08:15:40] agent: inotify_init1() failed: Too many open files",
        INOTIFY,
        (FDS,),
    ),
    Row("c-inotify-init-emfile", "watch setup: inotify_init: EMFILE", INOTIFY, (FDS,)),
    Row(
        "go-create-watcher",
        "ERRO[0003] could not start the file watcher: too many open files",
        INOTIFY,
        (FDS,),
    ),
    Row(
        "node-watch-emfile",
        "Error: EMFILE: too many open files, watch '/srv/site/content'",
        INOTIFY,
        (FDS,),
    ),
    # ------------------------------------------------- inotify watches (ENOSPC), not disk
    Row(
        "node-file-watchers",
        "Error: ENOSPC: System limit for number of file watchers reached, watch '/srv/web/src'",
        INOTIFY,
        (DISK, "node.file-watchers"),
    ),
    Row(
        "c-inotify-add-watch",
        "sync: inotify_add_watch(/data/photos) failed: No space left on device",
        INOTIFY,
        (DISK,),
    ),
    Row("python-watchdog", "OSError: inotify watch limit reached", INOTIFY),
    # ------------------------------------------------- descriptors: still the fd rule
    Row(
        "go-accept-emfile",
        "2025/06/02 08:15:40 http: Accept error: accept tcp [::]:9000: accept4: too many"
        " open files; retrying in 20ms",
        FDS,
        (INOTIFY,),
    ),
    Row(
        "node-open-emfile",
        "Error: EMFILE: too many open files, open '/srv/site/public/logo.svg'",
        FDS,
        (INOTIFY,),
    ),
    # ------------------------------------------------- SIGBUS
    Row("shell-bus-error", "Bus error (core dumped)", BUS, (SEGV,)),
    Row(
        "bash-job-bus-error",
        "/usr/local/bin/start.sh: line 21:    44 Bus error               (core dumped)"
        " python -m recorder",
        BUS,
        (SEGV,),
    ),
    Row("python-faulthandler-bus", "Fatal Python error: Bus error", BUS, (SEGV,)),
    Row(
        "postgres-signal-7",
        "2025-06-02 08:15:40.120 UTC [1] LOG:  server process (PID 311) was terminated by"
        " signal 7: Bus error",
        BUS,
    ),
    Row("go-exec-bus-error", 'msg="encoder stopped" err="signal: bus error (core dumped)"', BUS),
    Row("jvm-sigbus", "# SIGBUS (0x7) at pc=0x00007f1c2a3b4c5d, pid=1, tid=52", BUS, (SEGV,)),
    Row("compose-exit-135", "scanner-1 exited with code 135", BUS_EXIT),
    # ------------------------------------------------- an application says its shm is too small
    Row(
        "app-shm-too-small",
        "[2025-06-02 08:15:40] nvr.startup WARNING : shared memory (/dev/shm) has 64.00MB,"
        " which is too small for 3 cameras; give the container at least 420MB",
        SHM,
    ),
    Row(
        "app-shm-size-too-small",
        "WARN the SHM size of 67.1MB is too small: increase it to at least 256MB",
        SHM,
    ),
    Row("app-not-enough-shm", "error: not enough shared memory for frame buffers", SHM),
    Row(
        "torch-bus-error-shm",
        "ERROR: Unexpected bus error encountered in worker. This might be caused by"
        " insufficient shared memory (shm).",
        SHM,
        (BUS,),
    ),
    # ------------------------------------------------- near misses
    Row("dbus-error", "warning: D-Bus error while asking for the session bus: no reply", None),
    Row("dbus-camel", "GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: DBus error", None),
    Row("crash-handlers", "installed crash handlers for SIGSEGV, SIGBUS and SIGFPE", None),
    Row("shm-size-info", "INFO shm size is 1.00GB, enough for 4 cameras", None),
]


def _write(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i, r in enumerate(ROWS):
            out.write(f"s{i}-1  | starting s{i}\n")  # (compose's line names a known replica)
            text = r.text.replace("scanner-1 exited", f"s{i}-1 exited")
            out.write(text + "\n" if text.startswith(f"s{i}-1 exited") else f"s{i}-1  | {text}\n")


@pytest.fixture(scope="module")
def fired(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    path = tmp_path_factory.mktemp("limits") / "compose.log"
    _write(path)
    ingested = read_inputs([str(path)])
    findings = detect_findings(ingested.logs, ingested.events, compile_rules(load_rules()))
    out: dict[str, set[str]] = {}
    for service, rule in findings.select("service", "rule").iter_rows():
        out.setdefault(service, set()).add(rule)
    return out


def test_row_names_are_unique() -> None:
    assert len({r.name for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[r.name for r in ROWS])
def test_the_right_rule_fires(index: int, fired: dict[str, set[str]]) -> None:
    r = ROWS[index]
    got = fired.get(f"s{index}", set())
    if r.rule is None:
        assert not got & ABOUT, f"{r.name}: a near miss fired {sorted(got)}"
        return
    assert r.rule in got, f"{r.name}: expected {r.rule}, got {sorted(got)}"
    assert not got & set(r.not_rules), f"{r.name}: also {sorted(got & set(r.not_rules))}"


def _rule(rule_id: str) -> tuple[str, str]:
    rule = next(r for r in load_rules().rules if r.id == rule_id)
    return rule.title, rule.remediation


def test_descriptor_fix_never_names_a_fixed_lower_limit() -> None:
    """Docker's default nofile is often 1048576: a bare `nofile: 65536` would lower it."""
    _, fix = _rule(FDS)
    assert "ulimit -n" in fix
    assert "nofile: 65536`" not in fix
    assert "above what it prints" in fix and "never a value below" in fix


def test_inotify_fix_is_a_host_sysctl_then_a_restart() -> None:
    title, fix = _rule(INOTIFY)
    assert "inotify" in title and "descriptor" not in title.lower()
    assert "fs.inotify.max_user_instances" in fix and "fs.inotify.max_user_watches" in fix
    assert "host" in fix and "docker compose restart {service}" in fix
    assert "ulimits:" in fix  # (said not to help)


def test_bus_error_fix_is_shm_size_and_a_recreate() -> None:
    for rule_id in (BUS, BUS_EXIT, "system.exit-135-sigbus"):
        _, fix = _rule(rule_id)
        assert 'shm_size: "512mb"' in fix, rule_id
        assert "docker compose up -d --force-recreate {service}" in fix, rule_id


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        ([1], "1"),
        ([1, 2], "1, 2"),
        ([130], "130: killed by SIGINT"),
        ([134], "134: killed by SIGABRT"),
        ([135], "135: killed by SIGBUS"),
        ([137], "137: killed by SIGKILL"),
        ([139], "139: killed by SIGSEGV"),
        ([143], "143: killed by SIGTERM"),
        ([1, 139], "1; 139: killed by SIGSEGV"),
        ([128, 255], "128, 255"),
    ],
)
def test_exit_codes_above_128_name_their_signal(codes: list[int], words: str) -> None:
    assert exit_codes_words(codes) == words
