"""An in-process DuckDB for the small computations readers make, whatever engine holds the store.

Readers fetch the few rows they need from the store with SQL both engines read
(``Store.query``, ``Store.read_arrow``), and compute what only DuckDB's functions give (string
similarity, the standardisation SQL, list functions) here, over those rows as Arrow tables or
over values in parameters. The answer is then the same on every store: the computation always
runs on the same engine. One connection per thread (a DuckDB connection is not shared between
threads); it holds no store data between calls: the tables a call registers are unregistered
when it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from accord.errors import AccordError

if TYPE_CHECKING:
    import pyarrow as pa

_THREAD = threading.local()


class LocalSQLError(AccordError):
    def __init__(self, message: str, sql: str) -> None:
        self.sql = sql
        super().__init__(f"{message}\n-- while running (in-process DuckDB):\n{sql}")


def _connection() -> duckdb.DuckDBPyConnection:
    con: duckdb.DuckDBPyConnection | None = getattr(_THREAD, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        _THREAD.con = con
    return con


def columns(sql: str, params: Sequence[Any] | None = None, *,
            tables: Mapping[str, pa.Table] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of ``sql`` (DuckDB SQL) over ``tables`` (Arrow, by the name
    the SQL uses)."""
    con = _connection()
    names = list(tables or {})
    try:
        for name in names:
            con.register(name, tables[name])        # type: ignore[index]
        try:
            cur = con.execute(sql, list(params or []))
            return [d[0] for d in cur.description or []], [tuple(r) for r in cur.fetchall()]
        except duckdb.Error as e:
            raise LocalSQLError(str(e), sql) from None
    finally:
        for name in names:
            con.unregister(name)


def rows(sql: str, params: Sequence[Any] | None = None, *,
         tables: Mapping[str, pa.Table] | None = None) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` as tuples."""
    return columns(sql, params, tables=tables)[1]


def dicts(sql: str, params: Sequence[Any] | None = None, *,
          tables: Mapping[str, pa.Table] | None = None) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts by column name."""
    cols, found = columns(sql, params, tables=tables)
    return [dict(zip(cols, r, strict=True)) for r in found]


def scalar(sql: str, params: Sequence[Any] | None = None, *,
           tables: Mapping[str, pa.Table] | None = None) -> Any:
    """The first column of the first row of ``sql``; None when it has no rows."""
    found = rows(sql, params, tables=tables)
    return found[0][0] if found else None


def arrow(sql: str, params: Sequence[Any] | None = None, *,
          tables: Mapping[str, pa.Table] | None = None) -> pa.Table:
    """The result of ``sql`` as an Arrow table."""
    con = _connection()
    names = list(tables or {})
    try:
        for name in names:
            con.register(name, tables[name])        # type: ignore[index]
        try:
            return con.sql(sql, params=list(params) if params else None).to_arrow_table()
        except duckdb.Error as e:
            raise LocalSQLError(str(e), sql) from None
    finally:
        for name in names:
            con.unregister(name)
