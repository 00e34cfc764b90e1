"""Named SQL steps chained into one query, and transpilation to other engines.

A builder is a pure function returning ``Step``s; a ``Pipeline`` chains them into a single
``WITH`` query so each step can be inspected (and tested) on its own, then run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot

DIALECT = "duckdb"


@dataclass(frozen=True)
class Step:
    sql: str
    output: str


@dataclass
class Pipeline:
    steps: list[Step] = field(default_factory=list)

    def add(self, *steps: Step) -> Pipeline:
        self.steps.extend(steps)
        return self

    def sql(self, final: str | None = None) -> str:
        """One query: every step a CTE, then ``final`` (default: all of the last step)."""
        if not self.steps:
            raise ValueError("empty pipeline")
        ctes = ",\n".join(f"{s.output} AS (\n{s.sql}\n)" for s in self.steps)
        return f"WITH {ctes}\n{final or f'SELECT * FROM {self.steps[-1].output}'}"


def transpile(sql: str, dialect: str) -> str:
    """The same query in another engine's dialect (``spark``: as a Spark run translates it,
    ``accord.spark.dialect``)."""
    if dialect == DIALECT:
        return sql
    if dialect == "spark":
        from accord.spark.dialect import SparkDialect

        return SparkDialect().translate(sql, pretty=True)
    return ";\n".join(sqlglot.transpile(sql, read=DIALECT, write=dialect, pretty=True))
