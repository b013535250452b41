"""Run the seed-incident compose project on a real engine and save what it said.

    python tests/compose/capture.py [--out DIR]

Uses $DOCKER_HOST or /var/run/docker.sock when they answer, else starts a
private dockerd (as root). Writes compose.log, events.jsonl, inspect.json,
ps.txt, ps.jsonl, containers/<id>/{<id>-json.log,config.v2.json} and
capture.json into DIR (default: tests/compose/seed-incident/captured/), which
parser tests and the sample builder read to see real shapes.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from docker_engine import (  # noqa: E402
    build_test_images,
    capture_project,
    find_or_start_engine,
    seed_incident_settled,
    stop_engine,
    wait_until,
)

COMPOSE_FILE = HERE / "seed-incident" / "docker-compose.yml"
SETTLE_TIMEOUT = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "seed-incident" / "captured")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="incidentlog-capture-"))
    engine = find_or_start_engine(workdir)
    project = f"ilseed{secrets.token_hex(3)}"
    try:
        build_test_images(engine)
        since = time.time()
        engine.compose(project, COMPOSE_FILE, "up", "-d")
        wait_until(
            lambda: seed_incident_settled(engine, project), SETTLE_TIMEOUT, "the seed incident"
        )
        time.sleep(1.0)  # a few more probe results and healthy log lines
        if args.out.exists():
            shutil.rmtree(args.out)
        files = capture_project(engine, project, COMPOSE_FILE, args.out, since)
    finally:
        engine.compose(project, COMPOSE_FILE, "down", "-v", "-t", "1", check=False)
        stop_engine(engine)
        shutil.rmtree(workdir, ignore_errors=True)
    for name, path in sorted(files.items()):
        print(f"{path.stat().st_size:>8}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
