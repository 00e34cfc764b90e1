"""An in-process DuckDB for the small computations readers make, whatever engine holds the store.

Readers fetch the few rows they need from the store with SQL both engines read
(``Store.query``, ``Store.read_arrow``), and compute what only DuckDB's functions give (string
similarity, the standardisation SQL, list functions) here, over those rows as Arrow tables or
over values in parameters. The answer is then the same on every store: the computation always
runs on the same engine. Connections come from a pool, each used by one call at a time (a DuckDB
connection is not used by two threads at once); they hold no store data between calls: the
tables a call registers are unregistered when it returns.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from accord.errors import AccordError

if TYPE_CHECKING:
    import pyarrow as pa

_POOL: list[duckdb.DuckDBPyConnection] = []
_POOL_LOCK = threading.Lock()
_OPEN = True                 # until the interpreter exits


class LocalSQLError(AccordError):
    def __init__(self, message: str, sql: str) -> None:
        self.sql = sql
        super().__init__(f"{message}\n-- while running (in-process DuckDB):\n{sql}")


@contextlib.contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of the module's pool, this call's alone until it returns. Connections
    belong to the pool, not to threads: DuckDB aborts the process when a thread that holds a
    connection (a server's worker thread, say) is torn down at interpreter exit, so none is kept
    in a thread, and the pool is closed before the interpreter shuts down."""
    with _POOL_LOCK:
        con = _POOL.pop() if _POOL else None
    if con is None:
        con = duckdb.connect(":memory:")
    try:
        yield con
    finally:
        with _POOL_LOCK:
            if _OPEN:
                _POOL.append(con)
                con = None
        if con is not None:
            con.close()


@atexit.register
def _close_pool() -> None:
    global _OPEN
    with _POOL_LOCK:
        _OPEN = False
        while _POOL:
            _POOL.pop().close()


@contextlib.contextmanager
def _over(sql: str, tables: Mapping[str, pa.Table] | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A pooled connection with ``tables`` registered by name for the block; an engine error
    in the block is raised as :class:`LocalSQLError` naming ``sql``."""
    found = dict(tables or {})
    with _connection() as con:
        try:
            for name, table in found.items():
                con.register(name, table)
            try:
                yield con
            except duckdb.Error as e:
                raise LocalSQLError(str(e), sql) from None
        finally:
            for name in found:
                con.unregister(name)


def columns(sql: str, params: Sequence[Any] | None = None, *,
            tables: Mapping[str, pa.Table] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of ``sql`` (DuckDB SQL) over ``tables`` (Arrow, by the name
    the SQL uses)."""
    with _over(sql, tables) as con:
        cur = con.execute(sql, list(params or []))
        return [d[0] for d in cur.description or []], [tuple(r) for r in cur.fetchall()]


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
    with _over(sql, tables) as con:
        return con.sql(sql, params=list(params) if params else None).to_arrow_table()
