"""Generated SQL is pinned: any change to it shows up in review (golden files), and it
transpiles to Spark SQL so the pipeline is not tied to DuckDB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from accord.resolve.blocking import pairs_sql
from accord.resolve.comparisons import gammas_sql, pair_frame_sql
from accord.resolve.settings import default_settings
from accord.sql.pipeline import Pipeline, Step, transpile

GOLDEN = Path(__file__).parent / "golden"

BUILDERS = {
    "pairs": lambda: pairs_sql(default_settings().blocking, "resolve_features"),
    "pair_frame": lambda: pair_frame_sql("pairs", "resolve_features"),
    "gammas": lambda: gammas_sql("frame"),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_generated_sql_matches_its_golden_file(name: str) -> None:
    sql = BUILDERS[name]()
    path = GOLDEN / f"{name}.duckdb.sql"
    if os.environ.get("ACCORD_UPDATE_GOLDEN"):
        path.write_text(sql + "\n", encoding="utf-8")
    assert sql + "\n" == path.read_text(encoding="utf-8"), (
        f"generated SQL changed; review it and rerun with ACCORD_UPDATE_GOLDEN=1 ({path})")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_generated_sql_transpiles_to_spark(name: str) -> None:
    spark = transpile(BUILDERS[name](), "spark")
    assert sqlglot.parse_one(spark, read="spark") is not None


def test_pipeline_chains_named_steps_into_one_query() -> None:
    p = Pipeline().add(Step("SELECT 1 AS x", "a"), Step("SELECT x + 1 AS y FROM a", "b"))
    import duckdb

    assert duckdb.connect().execute(p.sql()).fetchall() == [(2,)]
    with pytest.raises(ValueError, match="empty"):
        Pipeline().sql()
