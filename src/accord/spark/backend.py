"""The SQL runner of a resolution on Spark: the stages' DuckDB SQL, translated
(:class:`accord.spark.dialect.SparkDialect`), run by Spark.

A working table is a DataFrame computed when it is made and kept by the executors (memory,
spilled to the session's scratch folder: a local checkpoint), named as a temporary view, so the
next statement reads it by name as on DuckDB. Keeping it cuts its lineage: the plan of the next
statement starts from the kept rows, not from every step before them (plans that grow step by
step exhaust the driver), each step's time is its own, and what it was made from can be
dropped. ``INSERT INTO`` adds a kept part to the table (no copy of what it holds). Nothing of
it outlives the session. (A local checkpoint lives on the executors: on a cluster, an executor
lost mid-run fails the run rather than recomputing; run it again.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from accord.errors import AccordError
from accord.spark.dialect import SparkDialect

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkSQLError(AccordError):
    def __init__(self, message: str, sql: str) -> None:
        self.sql = sql
        super().__init__(f"{message}\n-- while running (Spark SQL):\n{sql}")


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _kept(df: DataFrame) -> DataFrame:
    from pyspark import StorageLevel

    return df.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)


class SparkBackend:
    dialect = "spark"

    def __init__(self, spark: SparkSession, sql_dialect: SparkDialect | None = None) -> None:
        self.spark = spark
        self.sql_dialect = sql_dialect or SparkDialect()
        self._parts: dict[str, list[DataFrame]] = {}

    # --- frames -------------------------------------------------------------------------

    def frame(self, sql: str, params: list[Any] | None = None) -> DataFrame:
        """The DataFrame of a query in DuckDB's SQL."""
        spark_sql = self.sql_dialect.translate(sql)
        try:
            return self.spark.sql(spark_sql, args=list(params) if params else None)
        except Exception as e:  # an analysis error: name the statement
            raise SparkSQLError(_first_line(e), spark_sql) from None

    def keep(self, name: str, df: DataFrame) -> DataFrame:
        """Make ``df`` the working table ``name`` (replacing one of that name), computed now."""
        self.drop(name)
        kept = _kept(df)
        self._parts[name] = [kept]
        kept.createOrReplaceTempView(name)
        return kept

    def append(self, name: str, df: DataFrame) -> None:
        """Add the rows of ``df`` to the working table ``name`` (by column position)."""
        part = _kept(df)
        parts = self._parts.setdefault(name, [])
        parts.append(part)
        whole = parts[0]
        for more in parts[1:]:
            whole = whole.union(more)
        whole.createOrReplaceTempView(name)

    def table(self, name: str) -> DataFrame:
        return self.spark.table(name)

    def drop(self, name: str) -> None:
        for part in self._parts.pop(name, []):
            part.unpersist()
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for name in list(self._parts):
            self.drop(name)

    # --- the SQLRunner protocol ---------------------------------------------------------

    def run(self, sql: str, params: list[Any] | None = None) -> None:
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as e:
            raise SparkSQLError(_first_line(e), sql) from None
        if isinstance(tree, exp.Create):
            name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
            kind = str(tree.args.get("kind") or "").upper()
            body = tree.expression
            if kind == "VIEW":
                self.frame(body.sql("duckdb"), params).createOrReplaceTempView(name)
            elif body is None and isinstance(tree.this, exp.Schema):  # columns, no rows
                columns = ", ".join(c.sql("duckdb") for c in tree.this.expressions)
                self.keep(name, self.spark.createDataFrame([], self._ddl(columns)))
            else:
                self.keep(name, self.frame(body.sql("duckdb"), params))
        elif isinstance(tree, exp.Insert):
            self.append(tree.this.name, self.frame(tree.expression.sql("duckdb"), params))
        elif isinstance(tree, exp.Drop):
            for table in tree.find_all(exp.Table):
                self.drop(table.name)
        else:
            self.frame(sql, params).collect()

    def _ddl(self, columns: str) -> str:
        return sqlglot.transpile(f"CREATE TABLE t ({columns})", read="duckdb", write="spark")[0] \
            .split("(", 1)[1].rsplit(")", 1)[0]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.frame(sql, params).collect()]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def create_table(self, name: str, sql: str, params: list[Any] | None = None, *,
                     temp: bool = False) -> None:
        self.keep(name, self.frame(sql, params))

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.frame(sql, params).toArrow()
