"""A PostgreSQL store resolves on Spark as it does on its own path: the run computes beside the
store (a private DuckDB workspace, as every PostgreSQL run does) and publishes the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.store import open_store
from spark.test_resolve_spark import TABLES, differences
from worlds import ENGINEER, TODAY

pytestmark = pytest.mark.postgres


def rows(db: str, table: str) -> list[dict[str, Any]]:
    with open_store(db, read_only=True) as store:
        data = store.read_arrow(f"SELECT * FROM {table} ORDER BY {TABLES[table]}").to_pylist()
    return [{k: v for k, v in r.items() if k not in {"event_at", "run_id"}} for r in data]


def test_a_postgres_store_resolves_on_spark_as_without_it(tmp_path: Path, pg_cluster: Any,
                                                          spark: Any) -> None:
    world = services.synth(400, 9, tmp_path / "world")
    plain, on_spark = pg_cluster.new_database(), pg_cluster.new_database()
    for db in (plain, on_spark):
        services.init(db, samples=True, today=TODAY)
        for ex in world.extracts:
            services.ingest(db, ex.mapping_path, user=ENGINEER)
    services.resolve(plain, user=ENGINEER)
    summary = services.resolve(on_spark, user=ENGINEER, engine="spark")
    assert summary.links > 0
    for table in ("links", "entity_members", "view_members", "view_links", "features"):
        assert differences(rows(plain, table), rows(on_spark, table)) == [], table
    with open_store(on_spark, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM resolution_queue") == 0
