"""The lake: one history for many hosts, as Apache Iceberg tables any engine reads.

Hosts keep their store as a spool and push its closed files to a landing
prefix; one committer registers landed files in the tables; compaction
rewrites closed days; readers scan the tables with Polars (or DuckDB, Trino,
Spark, …). Everything here needs the `lake` extra (`pip install
'incidentlog[lake]'`); nothing imports it until a `--lake` is given.

    lake/catalog.py   the pyiceberg catalog (`--lake NAME`) and the two tables
    lake/schema.py    the Iceberg schema; exact conversion from and to the store's frames
    lake/objects.py   create-only puts, lists and deletes under a table location (obstore)
    lake/push.py      a host's store files -> landing files, remembered in a ledger
    lake/lease.py     the committer's lease (create-only terms that expire)
    lake/commit.py    landed files -> the tables, in numbered batches fenced by a watermark
    lake/compact.py   closed days rewritten sorted and without duplicates; snapshots expired
    lake/read.py      lazy scans (`pl.scan_iceberg`), planned files, totals
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from incidentlog.lake.catalog import EXTRA_HINT, lake_table, load_lake_catalog, require_extra
from incidentlog.lake.schema import DATASETS, LAKE_SCHEMAS, from_lake, to_lake

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from incidentlog.lake.objects import Objects

__all__ = [
    "DATASETS",
    "EXTRA_HINT",
    "LAKE_SCHEMAS",
    "Lake",
    "from_lake",
    "require_extra",
    "to_lake",
]


@dataclass
class Lake:
    """A lake named by `--lake NAME`: its catalog, tables and object stores."""

    name: str
    catalog: Catalog
    _objects: dict[str, Objects] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, name: str) -> Lake:
        return cls(name, load_lake_catalog(name))

    def table(self, dataset: str) -> Table:
        """The table of `dataset` as the catalog has it now (made if missing)."""
        return lake_table(self.catalog, dataset)

    def objects(self, dataset: str) -> Objects:
        """The object store under the table's location (landing files, batches, lease)."""
        if dataset not in self._objects:
            from incidentlog.lake.objects import Objects

            table = self.table(dataset)
            self._objects[dataset] = Objects(table.location(), dict(table.io.properties))
        return self._objects[dataset]
