"""The lake's Iceberg schema, and the exact conversion from and to the store's frames.

Iceberg v2 has neither nanosecond timestamps nor unsigned integers, so a lake
row keeps:

- `ts` as a microsecond `timestamptz` (what engines filter and partition on)
  and the exact nanoseconds in `ts_ns` (a long; what incidentlog reads back);
- `seq` and `id` as longs holding the same 64 bits (reinterpreted, not cast:
  ids above 2**63 come back unchanged);
- `level`, `stream`, `action` and `status` as strings.

Round trips are exact (tests/test_lake_schema.py). Every field is optional,
as the Parquet files Polars writes are, so `add_files` accepts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from incidentlog.schema import EVENTS_SCHEMA, LOGS_SCHEMA

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

__all__ = [
    "DATASETS",
    "LAKE_SCHEMAS",
    "NAMESPACE",
    "from_lake",
    "iceberg_schema",
    "to_lake",
]

NAMESPACE: Final = "incidentlog"
DATASETS: Final[dict[str, pl.Schema]] = {"logs": LOGS_SCHEMA, "events": EVENTS_SCHEMA}
"""The store's datasets; each is the lake table `incidentlog.<dataset>`."""
_TS_US = pl.Datetime("us", "UTC")
_REINTERPRETED: Final = ("seq", "id")


def _lake_dtype(name: str, dtype: pl.DataType) -> pl.DataType:
    if name in _REINTERPRETED:
        return pl.Int64()
    if isinstance(dtype, pl.Enum):
        return pl.String()
    return dtype


def _lake_schema(store: pl.Schema) -> pl.Schema:
    columns: dict[str, pl.DataType] = {"ts": _TS_US, "ts_ns": pl.Int64()}
    columns |= {n: _lake_dtype(n, d) for n, d in store.items() if n != "ts"}
    return pl.Schema(columns)


LAKE_SCHEMAS: Final = {name: _lake_schema(schema) for name, schema in DATASETS.items()}
"""The lake frame of each dataset: `ts` (µs), `ts_ns`, then the store's other columns."""


def to_lake(frame: pl.LazyFrame, dataset: str) -> pl.LazyFrame:
    """Store rows as lake rows (exact: `from_lake` gives them back)."""
    columns: list[pl.Expr] = [
        pl.col("ts").dt.cast_time_unit("us").alias("ts"),
        pl.col("ts").dt.epoch("ns").alias("ts_ns"),
    ]
    for name, dtype in DATASETS[dataset].items():
        if name == "ts":
            continue
        if name in _REINTERPRETED:
            columns.append(pl.col(name).reinterpret(signed=True))
        else:
            columns.append(pl.col(name).cast(_lake_dtype(name, dtype)))
    return frame.select(columns)


def from_lake(frame: pl.LazyFrame, dataset: str) -> pl.LazyFrame:
    """Lake rows as the store's frame (exact time from `ts_ns`, unsigned ids, enums)."""
    columns: list[pl.Expr] = []
    for name, dtype in DATASETS[dataset].items():
        if name == "ts":
            columns.append(
                pl.col("ts_ns").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").alias("ts")
            )
        elif name in _REINTERPRETED:
            columns.append(pl.col(name).reinterpret(signed=False))
        else:
            columns.append(pl.col(name).cast(dtype))
    return frame.select(columns)


def iceberg_schema(dataset: str) -> Schema:
    """The Iceberg schema of a lake table (field ids in column order)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        IcebergType,
        IntegerType,
        LongType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    kinds: dict[type[pl.DataType], IcebergType] = {
        pl.Datetime: TimestamptzType(),
        pl.Int64: LongType(),
        pl.Int32: IntegerType(),
        pl.String: StringType(),
    }
    fields = [
        NestedField(i, name, kinds[type(dtype)], required=False)
        for i, (name, dtype) in enumerate(LAKE_SCHEMAS[dataset].items(), start=1)
    ]
    return Schema(*fields)
