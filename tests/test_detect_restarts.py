"""Restarts inferred from a start-up banner that repeats after errors (no exits, no events)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import read_inputs
from incidentlog.render.report import generate_report


def findings(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    ingested = read_inputs([str(path)])
    found = detect_findings(ingested.logs, ingested.events, load_rules())
    return found.filter(pl.col("rule") == "core.banner-repeats")


LOOP = """\
worker-1  | 2025-08-01T10:00:00.000000000Z Starting worker 1.4.2 (pid 7)
api-1     | 2025-08-01T10:00:00.500000000Z GET /health 200
worker-1  | 2025-08-01T10:00:01.000000000Z ERROR cannot read queue settings
worker-1  | 2025-08-01T10:00:03.000000000Z Starting worker 1.4.2 (pid 7)
worker-1  | 2025-08-01T10:00:04.000000000Z ERROR cannot read queue settings
worker-1  | 2025-08-01T10:00:08.000000000Z Starting worker 1.4.2 (pid 8)
worker-1  | 2025-08-01T10:00:09.000000000Z ERROR cannot read queue settings
"""


def test_a_banner_that_repeats_after_errors_is_a_crash_loop(tmp_path: Path) -> None:
    found = findings(tmp_path, LOOP)
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["service"] == "worker" and row["category"] == "crash-loop"
    assert row["severity"] == "medium"
    fields = json.loads(row["fields"])
    assert fields["restarts"] == "2"
    assert fields["banner"].startswith("Starting worker 1.4.2")
    assert row["message"].startswith("Starting worker")  # the record of the first restart
    assert fields["times"] == "2 times"


def test_one_restart_reads_once(tmp_path: Path) -> None:
    once = "".join(LOOP.splitlines(keepends=True)[:5])
    found = findings(tmp_path, once)
    assert json.loads(found.row(0, named=True)["fields"])["times"] == "once"
    path = tmp_path / "compose.log"
    data = json.loads(generate_report([str(path)], fmt="json"))
    text = json.dumps(data)
    assert "worker restarted once (inferred" in text and "1 times" not in text
    assert "1 service needs attention" in generate_report([str(path)], fmt="md")


def test_a_heartbeat_is_not_a_banner(tmp_path: Path) -> None:
    beat = "".join(
        f"api-1  | 2025-08-01T10:00:{i:02d}.000000000Z GET /health 200\n"
        + (f"api-1  | 2025-08-01T10:00:{i:02d}.500000000Z ERROR slow query\n" if i % 3 == 0 else "")
        for i in range(30)
    )
    assert findings(tmp_path, beat).is_empty()


def test_a_banner_without_errors_between_is_not_a_restart(tmp_path: Path) -> None:
    calm = LOOP.replace("ERROR cannot read queue settings", "queue connected")
    assert findings(tmp_path, calm).is_empty()


def test_an_error_repeating_is_not_a_banner(tmp_path: Path) -> None:
    repeating = "".join(
        f"db-1  | 2025-08-01T10:00:{i:02d}.000000000Z ERROR could not connect to 10.0.0.{i}\n"
        f"db-1  | 2025-08-01T10:00:{i:02d}.500000000Z FATAL giving up\n"
        for i in range(5)
    )
    assert findings(tmp_path, repeating).is_empty()


def test_restarts_the_engine_reported_are_left_to_the_event_rules(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"status":"die","id":"abc","from":"img","Type":"container","Action":"die",'
        '"Actor":{"ID":"abc","Attributes":{"exitCode":"1","name":"shop-worker-1",'
        '"com.docker.compose.project":"shop","com.docker.compose.service":"worker"}},'
        '"time":1754042402,"timeNano":1754042402000000000}\n',
        encoding="utf-8",
    )
    path = tmp_path / "compose.log"
    path.write_text(LOOP, encoding="utf-8")
    ingested = read_inputs([str(path), str(events)])
    found = detect_findings(ingested.logs, ingested.events, load_rules())
    assert found.filter(pl.col("rule") == "core.banner-repeats").is_empty()
    assert not found.filter(pl.col("rule") == "core.container-exit-nonzero").is_empty()


def reference(rows: list[dict[str, object]]) -> dict[str, tuple[int, int]]:
    """The module's definition, record by record: container -> (restarts, id of the first)."""
    import re

    from incidentlog.detect.restarts import BANNER_CHARS, MAX_BANNER_SHARE, MIN_BANNER_LETTERS

    def key(message: object) -> str:
        return re.sub(r"[0-9]+", "0", str(message)[:BANNER_CHARS])

    found: dict[str, tuple[int, int]] = {}
    for container in {str(r["container"]) for r in rows}:
        mine = sorted((r for r in rows if r["container"] == container), key=lambda r: int(r["seq"]))  # type: ignore[call-overload]
        banner = key(mine[0]["message"])
        if mine[0]["level"] in ("warn", "error", "fatal"):
            continue
        if len(re.findall("[A-Za-z]", banner)) < MIN_BANNER_LETTERS:
            continue
        cycles: list[bool] = []  # per cycle: held an error
        start_ids: list[int] = []
        for record in mine:
            if key(record["message"]) == banner:
                cycles.append(False)
                start_ids.append(int(record["id"]))  # type: ignore[call-overload]
            elif record["level"] in ("error", "fatal"):
                cycles[-1] = True
        repeats = len(cycles) - 1
        restarts = sum(cycles[i - 1] for i in range(1, len(cycles)))
        if (
            restarts >= 1
            and restarts * 2 >= repeats
            and repeats + 1 <= len(mine) * MAX_BANNER_SHARE
        ):
            found[container] = (restarts, start_ids[1])
    return found


MESSAGES = [
    "Starting worker 1.4.2 (pid 7)",
    "Starting worker 1.4.3 (pid 12)",
    "Starting worker x",
    "GET /health 200",
    "ERROR cannot read queue",
    "boot",
    "0 Starting server now",
]


BANNER_RULE = next(r for r in load_rules().rules if r.infer == "banner-repeats")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a-1", "b-1", "c-1"]),
            st.sampled_from(MESSAGES),
            st.sampled_from(["info", "error", "warn", "fatal", "debug"]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_restarts_agree_with_the_definition_record_by_record(
    records: list[tuple[str, str, str]], rnd: random.Random
) -> None:
    """The two-pass implementation finds what the definition says, on any mix."""
    from incidentlog.detect.columns import FIELD_PREFIX
    from incidentlog.detect.restarts import banner_restarts

    seqs = rnd.sample(range(10 * len(records)), len(records))  # seq order is not row order
    rows: list[dict[str, object]] = [
        {"container": c, "service": c[0], "seq": s, "id": 100 + i, "level": level, "message": m}
        for i, ((c, m, level), s) in enumerate(zip(records, seqs, strict=True))
    ]
    frame = pl.DataFrame(rows, schema_overrides={"seq": pl.UInt64, "id": pl.UInt64}).with_columns(
        stream=pl.lit("stdout")
    )
    events = pl.DataFrame(schema={"action": pl.String, "service": pl.String})
    found = banner_restarts(frame.lazy(), events, BANNER_RULE)
    got = {
        row["container"]: (int(row[FIELD_PREFIX + "restarts"]), row["id"])
        for row in (found.iter_rows(named=True) if found.height else [])
    }
    assert got == reference(rows)
