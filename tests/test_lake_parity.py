"""The lake answers as a local store holding the same records does, and DuckDB reads it too.

Three hosts each ingest one bundled incident into their own store and push it;
one committer commits; a local store ingests the same inputs with the same host
names. grep (text, jsonl, --count), digest --format json and store info must be
the same over both; DuckDB's iceberg extension counts the same rows as Polars.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lake_emulator import (
    CATALOG,
    Emulator,
    catalog_env,
    require_lake_extra,
    s3_emulator,
    use_catalog,
)
from typer.testing import CliRunner

require_lake_extra()

from incidentlog.cli import app  # noqa: E402
from incidentlog.ingest import ingest_into_store  # noqa: E402

HOSTS = {
    "vm-a": "2025-08-01-health-checks",
    "vm-b": "2025-09-14-postgres-oom",
    "vm-c": "2025-10-03-dns-config",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with s3_emulator() as running:
        yield running


@pytest.fixture(scope="module")
def stores(
    emulator: Emulator, sample_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, str]]]:
    """(the local store, the catalog's environment), the lake pushed and committed."""
    root = tmp_path_factory.mktemp("parity")
    env = catalog_env(emulator, root)
    local = root / "local"
    with pytest.MonkeyPatch.context() as patch:
        use_catalog(env, patch)
        for host, case in HOSTS.items():
            inputs = sorted(p for p in (sample_logs / case).iterdir() if p.suffix != ".md")
            ingest_into_store(inputs, store=root / host, host=host)
            ingest_into_store(inputs, store=local, host=host)
            pushed = _run("lake", "push", "--lake", CATALOG, "--store", str(root / host))
            assert pushed.startswith("pushed: ")
        assert _run("lake", "commit", "--lake", CATALOG).startswith("committed: ")
        yield local, env


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


@pytest.fixture
def lake(stores: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Path:
    use_catalog(stores[1], monkeypatch)
    return stores[0]


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "error", "--color", "never"],
        ["-i", "error", "--format", "jsonl"],
        ["refused|timeout", "--count"],
        ["Traceback", "-C", "2", "--format", "jsonl"],
        ["-F", "GET", "--host", "vm-a", "--service", "nginx", "--format", "jsonl"],
        ["-i", "warn", "--since", "2025-09-14T00:00:00Z", "--until", "2025-09-15T00:00:00Z"],
    ],
)
def test_grep_over_the_lake_equals_the_store(lake: Path, args: list[str]) -> None:
    over_store = _run("grep", *args, "--store", str(lake))
    over_lake = _run("grep", *args, "--lake", CATALOG)
    assert over_store.strip(), "the query should match something"
    assert over_lake == over_store


@pytest.mark.parametrize("hour", ["2025-08-01T13", "2025-08-01T14", "2025-09-14T14"])
def test_digest_over_the_lake_equals_the_store(lake: Path, hour: str) -> None:
    over_store = json.loads(
        _run("digest", "--hour", hour, "--format", "json", "--store", str(lake))
    )
    over_lake = json.loads(_run("digest", "--hour", hour, "--format", "json", "--lake", CATALOG))
    assert over_store["totals"]["records"] > 0
    assert over_lake == over_store


def test_store_info_of_the_lake_counts_what_the_store_holds(lake: Path) -> None:
    store = json.loads(_run("store", "info", "--format", "json", "--store", str(lake)))
    info = json.loads(_run("store", "info", "--format", "json", "--lake", CATALOG))
    assert info["path"] == f"lake {CATALOG}"
    for dataset in ("logs", "events"):
        for key in ("rows", "first_ts", "last_ts", "services"):
            assert info[dataset][key] == store[dataset][key], (dataset, key)


def test_pushing_again_adds_nothing(lake: Path, tmp_path: Path) -> None:
    again = _run("lake", "push", "--lake", CATALOG, "--store", str(lake.parent / "vm-a"))
    assert again.startswith("pushed: 0 records and 0 events in 0 files")
    assert "committed: 0 files" in _run("lake", "commit", "--lake", CATALOG)


def test_duckdb_counts_the_rows_polars_reads(lake: Path) -> None:
    import duckdb
    import polars as pl

    from incidentlog.lake import Lake
    from incidentlog.lake.read import scan

    opened = Lake.open(CATALOG)
    expected = scan(opened, "logs").group_by("host").len().sort("host").collect()
    emulator_endpoint = opened.table("logs").io.properties["s3.endpoint"]
    connection = duckdb_with_iceberg(duckdb, emulator_endpoint)
    location = opened.table("logs").metadata_location
    rows = connection.execute(
        "SELECT host, count(*) AS n, count(DISTINCT id) AS ids FROM iceberg_scan(?) "
        "GROUP BY host ORDER BY host",
        [location],
    ).fetchall()
    assert [(h, n) for h, n, _ in rows] == list(expected.iter_rows())
    assert all(n == ids for _, n, ids in rows)
    assert (
        expected.get_column("len").sum()
        == pl.scan_parquet(sorted((lake / "logs").rglob("*.parquet")))
        .select(pl.len())
        .collect()
        .item()
    )


def duckdb_with_iceberg(duckdb: object, endpoint: str) -> object:
    """A DuckDB connection with the iceberg extension loaded from the
    `duckdb-ext-*` wheels (no download) and the emulator as its S3."""
    import duckdb_ext  # the extension wheels' shared folder
    from lake_emulator import KEY_ID, REGION, SECRET

    folder = Path(next(iter(duckdb_ext.__path__))) / "extensions"
    connection = duckdb.connect()  # type: ignore[attr-defined]
    connection.execute(f"SET extension_directory = '{folder}'")
    connection.execute("SET autoinstall_known_extensions = false")
    for extension in ("httpfs", "avro", "iceberg"):
        connection.execute(f"LOAD {extension}")
    host = endpoint.removeprefix("http://")
    connection.execute(
        f"CREATE SECRET emulator (TYPE s3, KEY_ID '{KEY_ID}', SECRET '{SECRET}', "
        f"REGION '{REGION}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)"
    )
    return connection


def test_lake_with_paths_is_a_usage_error(lake: Path) -> None:
    result = CliRunner().invoke(app, ["grep", "x", "some.log", "--lake", CATALOG])
    assert result.exit_code == 2
    assert "--lake reads the lake" in result.output


def test_unknown_catalog_is_one_error_line(lake: Path) -> None:
    result = CliRunner().invoke(app, ["grep", "x", "--lake", "nowhere"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: --lake nowhere")
    assert "Traceback" not in result.output
