"""One process timed whole: wall seconds, and from GNU time its peak RSS and CPU seconds.

The process is started by `/usr/bin/time` rather than by the benchmark's own
Python process because Linux carries the parent's high-water mark across fork
and exec: measured directly, even `grep` would report the benchmark's RSS.
Peak RSS is GNU time's `%M` (the largest resident set of the tool or any child
it waited for, from `wait4`, at no cost while the tool runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"


def incidentlog_at(src: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run the incidentlog of checkout `src` (None:
    the installed one). `-P`: `python -m` would otherwise put the current directory
    first on the path, so a benchmark started in a checkout ran that checkout's code
    whatever PYTHONPATH said."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return [sys.executable, "-P", "-m", "incidentlog"], env


@dataclass(frozen=True)
class Timed:
    seconds: float
    rss_mib: float
    cpu_seconds: float
    """User + system: on a shared, busy machine the steadier measure."""
    returncode: int
    stdout: str
    stderr: str


def run_timed(command: list[str], *, env: dict[str, str] | None = None) -> Timed:
    """Run `command` under GNU time (its output read whole, as text)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as report,
    ):
        started = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%M %U %S", "-o", report.name, *command],
            stdout=out,
            stderr=err,
            env=env,
            check=False,
        )
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        fields = Path(report.name).read_text().split()
    if len(fields) < 3 or not fields[-3].isdigit():
        return Timed(seconds, 0.0, 0.0, done.returncode or 1, stdout, stderr)
    peak, user, system = fields[-3:]
    return Timed(
        seconds, int(peak) / 1024, float(user) + float(system), done.returncode, stdout, stderr
    )
