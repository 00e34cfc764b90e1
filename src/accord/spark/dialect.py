"""What differs between DuckDB and Spark for Accord's SQL, in one object.

Accord's SQL builders write DuckDB's SQL once; :meth:`SparkDialect.translate` turns a statement
into Spark SQL with sqlglot, then mends what sqlglot leaves for DuckDB:

- list functions: ``list_intersect`` is Spark's ``array_intersect``, and the length of a list
  is ``size``;
- string similarity: Spark's ``jaro_winkler_similarity`` is not DuckDB's (it scores HAROLD and
  RONALD 0.789, DuckDB 0.822; CHRISTIANSEN and CHRISTENSEN 0.918, DuckDB 0.928), so a pair near
  a level's threshold would land on another level and links would differ between the engines.
  Jaro-Winkler and Damerau-Levenshtein (Spark has no Damerau) are therefore vectorised Arrow
  UDFs that compute, batch by batch, with DuckDB's own functions: the same numbers on both
  engines (:func:`register_functions`). ``similarity="spark"`` takes Spark's built-in
  Jaro-Winkler instead (no Python worker; the levels may then differ, as above).

Everything else (joins, group-bys, ``FILTER``, window functions, ``GROUP BY ALL``) sqlglot
translates as it is.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # at run time: PySpark reads the UDFs' type hints to pick Arrow batches
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JARO_WINKLER = "accord_jaro_winkler"
DAMERAU = "accord_damerau_levenshtein"
_LISTS = {"list_intersect": "array_intersect"}


def _is_list(node: exp.Expression) -> bool:
    return isinstance(node, exp.Split | exp.Array) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in {*_LISTS, *_LISTS.values()})


class SparkDialect:
    """DuckDB SQL to Spark SQL. ``similarity``: ``duckdb`` (the UDFs, the same numbers as the
    embedded engine) or ``spark`` (Spark's built-in Jaro-Winkler)."""

    name = "spark"

    def __init__(self, similarity: str = "duckdb") -> None:
        if similarity not in ("duckdb", "spark"):
            raise ValueError(f"similarity: duckdb or spark, not {similarity!r}")
        self.similarity = similarity

    def translate(self, sql: str, *, pretty: bool = False) -> str:
        return _translate(sql, self.similarity, pretty)


@lru_cache(maxsize=512)
def _translate(sql: str, similarity: str, pretty: bool) -> str:
    tree = sqlglot.parse_one(sql, read="duckdb")
    for node in list(tree.find_all(exp.Length)):
        if _is_list(node.this):
            node.replace(exp.Anonymous(this="size", expressions=[node.this]))
    for call in list(tree.find_all(exp.Anonymous)):
        name = call.name.lower()
        if name in _LISTS:
            call.set("this", _LISTS[name])
        elif name == "damerau_levenshtein":
            call.set("this", DAMERAU)
    jw = JARO_WINKLER if similarity == "duckdb" else "jaro_winkler_similarity"
    for sim in list(tree.find_all(exp.JarowinklerSimilarity)):
        sim.replace(exp.Anonymous(this=jw, expressions=[sim.this, sim.expression]))
    return tree.sql("spark", pretty=pretty)


def _in_duckdb(sql: str, a: pa.Array, b: pa.Array) -> pa.Array:
    """``sql`` (over columns a, b of one batch) in an in-process DuckDB: one value per row, in
    the batch's order."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("batch", pa.table({"a": a, "b": b}))
        return con.sql(f"SELECT {sql} FROM batch").to_arrow_table().column(0).combine_chunks()
    finally:
        con.close()


def jaro_winkler(a: pa.Array, b: pa.Array) -> pa.Array:
    """DuckDB's ``jaro_winkler_similarity`` of each row's two strings."""
    return _in_duckdb("jaro_winkler_similarity(a, b)", a, b)


def damerau_levenshtein(a: pa.Array, b: pa.Array) -> pa.Array:
    """DuckDB's ``damerau_levenshtein`` of each row's two strings."""
    return _in_duckdb("CAST(damerau_levenshtein(a, b) AS BIGINT)", a, b)


def register_functions(spark: SparkSession) -> None:
    """Register the UDFs the translated SQL calls (:data:`JARO_WINKLER`, :data:`DAMERAU`)."""
    import pyspark.sql.types as T
    from pyspark.sql.functions import arrow_udf  # type: ignore[attr-defined]  # PySpark 4.1+

    udf: Any = arrow_udf
    spark.udf.register(JARO_WINKLER, udf(jaro_winkler, T.DoubleType()))
    spark.udf.register(DAMERAU, udf(damerau_levenshtein, T.LongType()))
