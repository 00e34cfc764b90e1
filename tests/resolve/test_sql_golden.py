"""Generated SQL is pinned: any change to it shows up in review (golden files, DuckDB and the
Spark SQL it transpiles to), and the Spark SQL keeps no DuckDB-only function. The tests only
compare: the files are rewritten by ``python -m accord.sql.golden --update``, never by a test run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from accord.spark.dialect import DAMERAU, JARO_WINKLER
from accord.sql import golden
from accord.sql.pipeline import Pipeline, Step, transpile

GOLDEN = Path(__file__).parent / "golden"
CASES = [(step, dialect) for step in sorted(golden.STEPS) for dialect in golden.DIALECTS]


def _check(folder: Path, step: str, dialect: str) -> None:
    path = golden.path(folder, step, dialect)
    assert path.is_file(), f"no golden file {path}: run python -m accord.sql.golden --update"
    assert golden.generated(step, dialect) == path.read_text(encoding="utf-8"), (
        f"generated SQL changed; review it, then run python -m accord.sql.golden --update ({path})")


@pytest.mark.parametrize(("step", "dialect"), CASES)
def test_generated_sql_matches_its_golden_file(step: str, dialect: str) -> None:
    _check(GOLDEN, step, dialect)


def test_every_golden_file_is_of_a_pinned_step() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.sql")) == sorted(
        golden.path(GOLDEN, s, d).name for s, d in CASES)


@pytest.mark.parametrize("variable", ["ACCORD_UPDATE_GOLDEN", "UPDATE_GOLDEN"])
def test_a_stale_golden_file_fails_whatever_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "1")
    stale = golden.path(tmp_path, "gammas", "spark")
    stale.write_text("SELECT 1\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="generated SQL changed"):
        _check(tmp_path, "gammas", "spark")
    assert stale.read_text(encoding="utf-8") == "SELECT 1\n"      # the check rewrote nothing


def test_the_update_tool_rewrites_only_what_differs(tmp_path: Path) -> None:
    for step, dialect in CASES:
        golden.path(tmp_path, step, dialect).write_text(golden.path(GOLDEN, step, dialect).read_text("utf-8"))
    stale = golden.path(tmp_path, "gammas", "spark")
    stale.write_text("SELECT 1\n", encoding="utf-8")
    assert golden.main(["--dir", str(tmp_path)]) == 1 and stale.read_text() == "SELECT 1\n"
    assert golden.main(["--dir", str(tmp_path), "--update"]) == 0
    assert stale.read_text() == golden.generated("gammas", "spark")
    assert golden.differing(tmp_path) == []


# DuckDB functions the pinned SQL calls, and what Spark SQL calls them.
SPARK_EQUIVALENTS = {
    "string_split": "SPLIT",
    "starts_with": "STARTSWITH",
    "date_diff": "DATEDIFF",
    "len": "LENGTH",
    "list_intersect": "ARRAY_INTERSECT",
}
# Functions a Spark run registers as UDFs (DuckDB's own, batch by batch: accord.spark.dialect).
SPARK_UDFS = {JARO_WINKLER.upper(), DAMERAU.upper()}
KNOWN_GAPS: dict[str, str] = {}


def _calls(sql: str) -> set[str]:
    """The names called in ``sql`` (upper case)."""
    return {m.upper() for m in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", sql)}


@pytest.mark.parametrize("duckdb_fn", [
    pytest.param(f, marks=pytest.mark.xfail(reason=KNOWN_GAPS[f], strict=True)) if f in KNOWN_GAPS else f
    for f in sorted(SPARK_EQUIVALENTS)])
def test_duckdb_functions_become_their_spark_equivalents(duckdb_fn: str) -> None:
    using = [s for s in golden.STEPS if duckdb_fn.upper() in _calls(golden.STEPS[s]())]
    assert using, f"no pinned step uses {duckdb_fn}: drop it from the table"
    for step in using:
        spark = _calls(transpile(golden.STEPS[step](), "spark"))
        assert duckdb_fn.upper() not in spark, step
        assert SPARK_EQUIVALENTS[duckdb_fn] in spark, step


@pytest.mark.parametrize("step", sorted(golden.STEPS))
def test_spark_sql_calls_only_functions_spark_knows_or_registers(step: str) -> None:
    spark = transpile(golden.STEPS[step](), "spark")
    tree = sqlglot.parse_one(spark, read="spark")
    unknown = {f.name.upper() for f in tree.find_all(exp.Anonymous)} - SPARK_UDFS
    unknown -= {f.upper() for f in KNOWN_GAPS}
    assert unknown == set(), f"{step}: Spark SQL calls functions Spark does not have: {sorted(unknown)}"
    # No DuckDB-only syntax is left: list literals, :: casts, double-quoted identifiers.
    assert not re.search(r"\[[^\]]*\]|::|\"", spark), step


def test_pipeline_chains_named_steps_into_one_query() -> None:
    p = Pipeline().add(Step("SELECT 1 AS x", "a"), Step("SELECT x + 1 AS y FROM a", "b"))
    import duckdb

    assert duckdb.connect().execute(p.sql()).fetchall() == [(2,)]
    with pytest.raises(ValueError, match="empty"):
        Pipeline().sql()
