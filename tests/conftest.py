"""Shared fixtures: a store path and a writer for small foreign extracts with their mappings."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from accord.ingest import IngestResult, ingest_file
from accord.store import Store

# Test plugins: the private PostgreSQL cluster and a database per test (tests/pgcluster.py); the
# guard on undeclared store writes, on for the governance tests (tests/store_guard.py).
pytest_plugins = ("pgcluster", "store_guard")

# Files a PostgreSQL store's commands keep in the user's data folder (sample agreements, model
# charts: accord.store.target.beside) go to a folder of this test run, never into the home
# folder or the checkout (subprocesses inherit it).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="accord-test-data-")

Data = str | bytes | pa.Table
WriteExtract = Callable[..., Path]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def write_extract(tmp_path: Path) -> WriteExtract:
    """write_extract(mapping, data, name="extract.csv", encoding="utf-8") -> mapping path.

    ``mapping`` is a dict (dumped as YAML, with ``file:`` set to the data file unless given)
    or YAML text used as is. ``data`` is text (written in ``encoding``), raw bytes, or an
    Arrow table (written as Parquet). The data file sits next to the mapping.
    """

    def write(mapping: dict[str, Any] | str, data: Data | None = None, *,
              name: str = "extract.csv", encoding: str = "utf-8") -> Path:
        data_path = tmp_path / name
        if isinstance(data, pa.Table):
            pq.write_table(data, data_path)
        elif isinstance(data, bytes):
            data_path.write_bytes(data)
        elif data is not None:
            data_path.write_bytes(data.encode(encoding))
        mapping_path = tmp_path / (Path(name).stem + ".yaml")
        if isinstance(mapping, dict):
            mapping = yaml.safe_dump({**mapping, "file": mapping.get("file", name)},
                                     sort_keys=False, allow_unicode=True)
        mapping_path.write_text(mapping, encoding="utf-8")
        return mapping_path

    return write


Query = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def query(store_path: Path) -> Query:
    """query(sql, params=None): rows from the test store, opened read-only (so the store
    must be closed, as it is after every ``ingest_file`` call made through ``ingest``)."""

    def run(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with Store(store_path, read_only=True) as store:
            return store.query(sql, params)

    return run


@pytest.fixture
def ingest(store_path: Path) -> Callable[..., IngestResult]:
    """ingest(mapping_path, file=None, max_failure_rate=1.0): ingest into the test store and
    close it. The small extracts of these tests fail fields on purpose, so any failure rate is
    accepted unless a test says otherwise (the rule's own tests: tests/ingest/test_failure_rate.py)."""

    def run(mapping_path: Path, file: Path | None = None, *,
            max_failure_rate: float = 1.0) -> IngestResult:
        with Store(store_path) as store:
            return ingest_file(store, mapping_path, file, max_failure_rate=max_failure_rate)

    return run
