"""The lake's catalog and tables: configured the way pyiceberg users already do it.

`--lake NAME` names a pyiceberg catalog: a `catalog: NAME:` entry of
`~/.pyiceberg.yaml` (or `$PYICEBERG_HOME/.pyiceberg.yaml`), or
`PYICEBERG_CATALOG__NAME__…` environment variables (REST, SQL on Postgres
or SQLite, Glue, …). Its tables are `incidentlog.logs` and
`incidentlog.events`, made on first use with:

- partition `day(ts)` and sort order (service, ts), so a time window prunes
  whole days and a service filter row groups;
- Parquet zstd in row groups of ROW_GROUP_ROWS rows;
- manifest merging, and at most METADATA_VERSIONS old metadata files kept
  (older ones deleted at commit): metadata stays bounded however often the
  committer commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from incidentlog.errors import LakeError
from incidentlog.lake.schema import DATASETS, NAMESPACE, iceberg_schema

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__all__ = [
    "EXTRA_HINT",
    "METADATA_VERSIONS",
    "ROW_GROUP_ROWS",
    "TABLE_PROPERTIES",
    "lake_table",
    "load_lake_catalog",
    "require_extra",
]

EXTRA_HINT: Final = "pip install 'incidentlog[lake]'"
ROW_GROUP_ROWS: Final = 64 * 1024
"""As in the store: small enough that a service's rows fill their own row groups."""
METADATA_VERSIONS: Final = 10
TABLE_PROPERTIES: Final[dict[str, str]] = {
    "format-version": "2",
    "write.parquet.compression-codec": "zstd",
    "write.parquet.row-group-limit": str(ROW_GROUP_ROWS),
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "20",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": str(METADATA_VERSIONS),
    "commit.retry.num-retries": "0",
}
"""`commit.retry.num-retries` is 0: pyiceberg's retry re-applies an append on
the newer table, which would register a batch twice; the lake's writers retry
themselves, recomputing (commit.py)."""


def require_extra() -> None:
    """A LakeError naming the extra when pyiceberg or obstore is missing."""
    import importlib.util

    missing = [
        m for m in ("pyiceberg", "obstore", "pyarrow") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LakeError(f"the lake needs {', '.join(missing)}: {EXTRA_HINT}")


def load_lake_catalog(name: str) -> Catalog:
    """The pyiceberg catalog NAME (its configuration is pyiceberg's own)."""
    require_extra()
    from pyiceberg.catalog import load_catalog
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    try:
        catalog = load_catalog(name)
    except (ValueError, KeyError, OSError) as exc:
        raise LakeError(
            f"--lake {name}: no usable pyiceberg catalog of that name ({exc}); configure it in "
            f"~/.pyiceberg.yaml or PYICEBERG_CATALOG__{name.upper()}__URI and friends"
        ) from None
    try:
        catalog.create_namespace_if_not_exists(NAMESPACE)
    except NamespaceAlreadyExistsError:  # made by another process meanwhile
        pass
    except Exception as exc:  # the catalog's own errors (connection, auth) have no common base
        raise LakeError(f"--lake {name}: the catalog cannot be reached ({_short(exc)})") from None
    return catalog


def lake_table(catalog: Catalog, dataset: str) -> Table:
    """The table of `dataset`, made with the lake's layout if it does not exist yet."""
    from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.table.sorting import SortField, SortOrder
    from pyiceberg.transforms import DayTransform, IdentityTransform

    if dataset not in DATASETS:
        raise LakeError(f"no lake table for {dataset!r} (tables: {', '.join(DATASETS)})")
    identifier = f"{NAMESPACE}.{dataset}"
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    schema = iceberg_schema(dataset)
    ts, service = schema.find_field("ts").field_id, schema.find_field("service").field_id
    spec = PartitionSpec(PartitionField(ts, 1000, DayTransform(), "ts_day"))
    order = SortOrder(SortField(service, IdentityTransform()), SortField(ts, IdentityTransform()))
    try:
        return catalog.create_table(
            identifier,
            schema=schema,
            partition_spec=spec,
            sort_order=order,
            properties=TABLE_PROPERTIES,
        )
    except TableAlreadyExistsError:  # another host made it first
        return catalog.load_table(identifier)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
