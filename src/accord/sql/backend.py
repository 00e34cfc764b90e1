"""The one place SQL is executed for the stages that compute in DuckDB (ingest's validation,
standardisation, resolution), and the one place they get the engine connection to do it on.

Engine errors are re-raised with the statement that failed, so a failure can be reproduced.

Compute and the store: these stages build working tables (``TEMP``) and bulk results in the
engine. The embedded store *is* a DuckDB database, so they compute on its own connection
(:func:`compute_connection`), inside ``store.transaction()``, and declare with
``store.changed()`` that they wrote store tables (:func:`computing` does both). A store on
another engine would run the same compute in an in-process DuckDB over Arrow read from the
store (``Store.read_arrow``) and write the results back with ``Store.bulk_load``; nothing
outside this module asks a store for its engine connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from accord.errors import AccordError

if TYPE_CHECKING:
    import pyarrow as pa

    from accord.store import Store


class SQLExecutionError(AccordError):
    def __init__(self, message: str, sql: str) -> None:
        self.sql = sql
        super().__init__(f"{message}\n-- while running:\n{sql}")


def compute_connection(store: Store) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of ``store`` to compute on: the embedded store's own.

    Only a :class:`~accord.store.duckdb_store.DuckDBStore` has one; for any other store this
    raises, because its compute must run in an in-process DuckDB over Arrow read from the
    store. What is written through it to store tables must be declared: inside
    ``store.transaction()``, with ``store.changed()`` (see :func:`computing`); working
    tables (``TEMP``) are no store data and need no declaration, also on a store opened
    read-only.

    The stages that compute here declare what they write; a working table is no write to
    data."""
    from accord.store import DuckDBStore

    if not isinstance(store, DuckDBStore):
        raise TypeError(f"computing in the store's own engine needs the embedded DuckDB store, "
                        f"not {type(store).__name__}")
    return store._raw


@contextlib.contextmanager
def computing(store: Store) -> Iterator[DuckDBBackend]:
    """A backend on the store's compute connection, inside ``store.transaction()`` (joining
    one already open), with the transaction declared as changing data: for compute that
    writes store tables (all or nothing)."""
    with store.transaction():
        store.changed()
        yield DuckDBBackend(compute_connection(store))


class SQLRunner(Protocol):
    """What the stages' SQL runners share, whichever engine computes (DuckDB here, Spark in
    ``accord.spark.backend``): statements in DuckDB's SQL, translated by the runner."""

    @property
    def dialect(self) -> str: ...

    def run(self, sql: str, params: list[Any] | None = None) -> None: ...

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any: ...

    def create_table(self, name: str, sql: str, params: list[Any] | None = None, *,
                     temp: bool = False) -> None: ...

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any: ...


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @classmethod
    def of(cls, store: Store) -> DuckDBBackend:
        """A backend on the store's compute connection (:func:`compute_connection`)."""
        return cls(compute_connection(store))

    def run(self, sql: str, params: list[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    def run_many(self, sql: str, rows: list[list[Any]] | list[tuple[Any, ...]]) -> None:
        """One statement, once for each parameter row."""
        if not rows:
            return
        try:
            self.con.executemany(sql, [list(r) for r in rows])
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def create_table(self, name: str, sql: str, params: list[Any] | None = None, *,
                     temp: bool = False) -> None:
        """``temp``: a working table of this connection (memory first, spilled to the
        temp directory when large); otherwise a table of the store."""
        kind = "TEMP TABLE" if temp else "TABLE"
        self.run(f"CREATE OR REPLACE {kind} {name} AS {sql}", params)

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any:
        try:
            return self.con.sql(sql, params=params or None).to_arrow_table()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    @contextlib.contextmanager
    def registered(self, name: str, data: pa.Table | pa.RecordBatchReader) -> Iterator[str]:
        """``data`` readable as the relation ``name`` while the block runs (not copied)."""
        self.con.register(name, data)
        try:
            yield name
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction: gone with it
                self.con.unregister(name)
