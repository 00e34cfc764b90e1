"""The store: every stage's tables, behind one interface (:class:`Store`).

``Store(path)`` opens the embedded DuckDB store (:mod:`accord.store.duckdb_store`); the
interface (:mod:`accord.store.base`), the SQL dialect (:mod:`accord.store.dialect`) and the
answer to a store another process holds (:mod:`accord.store.busy`) are its parts.
"""

from pathlib import Path

from accord.store.base import Store
from accord.store.busy import SERVER_ROUTES, busy_message, holder_command
from accord.store.dialect import is_postgres
from accord.store.duckdb_store import PRIVATE_UMASK, STORE_FORMAT, UPGRADE_USER, DuckDBStore


def open_store(target: str | Path, *, read_only: bool = False) -> Store:
    """The store at ``target``: a ``postgresql://`` URL is a PostgreSQL store
    (:mod:`accord.store.postgres_store`), anything else the path of the embedded DuckDB store."""
    if is_postgres(target):
        from accord.store.postgres_store import PostgresStore

        return PostgresStore(str(target), read_only=read_only)
    return DuckDBStore(target, read_only=read_only)


__all__ = ["PRIVATE_UMASK", "SERVER_ROUTES", "STORE_FORMAT", "UPGRADE_USER", "DuckDBStore", "Store",
           "busy_message", "holder_command", "open_store"]
