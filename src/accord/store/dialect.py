"""The few SQL differences between the engines a store can run on, in one object.

Everything else Accord writes is SQL both DuckDB and PostgreSQL accept: named-column inserts,
``ON CONFLICT (...) DO UPDATE SET c = excluded.c`` and ``DO NOTHING`` for upserts, ``NOT
EXISTS`` for anti-joins, ``now()``. What differs goes through the store's :class:`Dialect`, so
a second engine is one new subclass (as splink's ``SplinkDialect`` does for its backends).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: object) -> bool:
    """Whether a store target names a PostgreSQL database (else it is an embedded store's path)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class Dialect:
    """SQL fragments that differ between engines. Column and table names passed in come from
    code, never from input."""

    name = "generic"

    def in_list(self, column: str) -> str:
        """A condition true when ``column`` is one of the values of one list parameter (``?``)."""
        raise NotImplementedError

    def in_set(self, column: str) -> str:
        """As :meth:`in_list`, for a long list against a large table: a hash semi-join where
        the engine scans (DuckDB), an index lookup where it has one (PostgreSQL)."""
        return self.in_list(column)

    def in_keys(self, source: str = "source", record_id: str = "record_id") -> str:
        """A condition true when (``source``, ``record_id``) is one of the record keys of two
        parameters (:func:`key_params`): the cheap column first, then the exact pair."""
        return f"{self.in_set(record_id)} AND {self.in_set(f'{source} || chr(31) || {record_id}')}"

    def first_by(self, value: str, order: str) -> str:
        """The aggregate: ``value`` of the row with the smallest ``order`` in the group."""
        raise NotImplementedError

    def lock_rows(self) -> str:
        """The suffix of a SELECT that locks the rows it reads until the transaction ends
        (empty where the engine admits one writer at a time)."""
        raise NotImplementedError

    def json_array_has(self, column: str) -> str:
        """A condition true when the JSON array of strings in ``column`` holds the value of one
        parameter (``?``)."""
        raise NotImplementedError

    def array_has(self, column: str) -> str:
        """A condition true when the array (list) ``column`` holds the value of one parameter (``?``)."""
        raise NotImplementedError

    def upsert(self, table: str, columns: list[str], key: list[str], *, keep: bool = False) -> str:
        """An insert of one row into named ``columns`` that replaces the other columns of the
        row with the same ``key`` (with ``keep``, leaves that row as it is)."""
        marks = ", ".join("?" * len(columns))
        rest = [c for c in columns if c not in key]
        update = ", ".join(f"{c} = excluded.{c}" for c in rest)
        action = f"DO UPDATE SET {update}" if rest and not keep else "DO NOTHING"
        return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                f"ON CONFLICT ({', '.join(key)}) {action}")


def key_params(keys: Iterable[tuple[str, str]]) -> list[Any]:
    """The two parameters of :meth:`Dialect.in_keys` for these (source, record_id) keys: the
    record ids, then each key joined by chr(31)."""
    given = list(keys)
    return [sorted({r for _, r in given}), sorted(f"{s}\x1f{r}" for s, r in given)]


class DuckDBDialect(Dialect):
    name = "duckdb"

    def in_list(self, column: str) -> str:
        return f"list_contains(?, {column})"

    def in_set(self, column: str) -> str:
        return f"{column} IN (SELECT unnest(?))"

    def first_by(self, value: str, order: str) -> str:
        return f"arg_min({value}, {order})"

    def lock_rows(self) -> str:
        return ""          # one process writes a DuckDB file; its transactions conflict, not wait

    def json_array_has(self, column: str) -> str:
        return f"list_contains(CAST(json({column}) AS VARCHAR[]), ?)"

    def array_has(self, column: str) -> str:
        return f"list_contains({column}, ?)"


class PostgresDialect(Dialect):
    name = "postgresql"

    def in_list(self, column: str) -> str:
        return f"{column} = ANY(?)"

    def first_by(self, value: str, order: str) -> str:
        return f"(array_agg({value} ORDER BY {order}))[1]"

    def lock_rows(self) -> str:
        return " FOR UPDATE"

    def json_array_has(self, column: str) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST({column} AS JSONB)) e WHERE e = ?)"

    def array_has(self, column: str) -> str:
        return f"? = ANY({column})"


DUCKDB = DuckDBDialect()
POSTGRES = PostgresDialect()
