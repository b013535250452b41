"""The lake's types: exact round trips of every value the store holds (no emulator needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from incidentlog.lake.schema import LAKE_SCHEMAS, from_lake, to_lake
from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA

NS = int(datetime(2025, 8, 1, 12, 30, tzinfo=UTC).timestamp()) * 10**9 + 123_456_789
"""2025-08-01T12:30:00.123456789Z in nanoseconds: more precision than Iceberg's µs."""


def _logs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": pl.Series([NS, NS + 1, None]).cast(pl.Datetime("ns", "UTC")),
            "seq": [0, 2**64 - 1, 2**63],
            "host": ["h1", None, "h3"],
            "project": ["shop", "shop", None],
            "service": ["api", "web", None],
            "container": ["api-1", "web-1", None],
            "stream": ["stderr", "stdout", "unknown"],
            "level": ["error", "info", "unknown"],
            "message": ["boom\nline two", "", None],
            "id": [2**64 - 1, 2**63, 1],
        },
        schema=LOGS_SCHEMA,
    )


def test_logs_round_trip_is_exact() -> None:
    frame = _logs()
    lake = to_lake(frame.lazy(), "logs").collect()
    assert lake.schema == LAKE_SCHEMAS["logs"]
    back = from_lake(lake.lazy(), "logs").collect()
    assert back.schema == LOGS_SCHEMA
    assert back.equals(frame)


def test_lake_ts_is_microseconds_and_ts_ns_exact() -> None:
    lake = to_lake(_logs().lazy(), "logs").collect()
    assert lake.get_column("ts").dtype == pl.Datetime("us", "UTC")
    assert lake.get_column("ts")[0] == datetime(2025, 8, 1, 12, 30, 0, 123456, tzinfo=UTC)
    assert lake.get_column("ts_ns").to_list() == [NS, NS + 1, None]


def test_ids_keep_their_64_bits() -> None:
    lake = to_lake(_logs().lazy(), "logs").collect()
    assert lake.get_column("id").dtype == pl.Int64
    assert lake.get_column("id").to_list() == [-1, -(2**63), 1]


@pytest.mark.parametrize("dataset", ["logs", "events"])
def test_empty_frames_convert(dataset: str) -> None:
    schema = {"logs": LOGS_SCHEMA, "events": EVENTS_SCHEMA}[dataset]
    lake = to_lake(pl.LazyFrame(schema=schema), dataset).collect()
    assert lake.schema == LAKE_SCHEMAS[dataset]
    assert from_lake(lake.lazy(), dataset).collect().schema == schema


def test_events_round_trip_is_exact() -> None:
    frame = pl.DataFrame(
        {
            "ts": pl.Series([NS, None]).cast(pl.Datetime("ns", "UTC")),
            "seq": [1, 2],
            "host": ["h1", "h1"],
            "project": ["p", None],
            "service": ["db", "db"],
            "container": ["db-1", "db-1"],
            "action": ["die", "snapshot"],
            "status": [None, "unhealthy"],
            "exit_code": [137, None],
            "restart_count": [None, 3],
            "output": ["OOMKilled", "Up 3 minutes (unhealthy)"],
            "id": [2**64 - 2, 5],
        },
        schema=EVENTS_SCHEMA,
    )
    back = from_lake(to_lake(frame.lazy(), "events"), "events").collect()
    assert back.equals(frame)
