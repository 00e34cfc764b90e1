"""The store: every stage's tables, behind one interface (:class:`Store`).

``open_store(target)`` opens the store a target names (:mod:`accord.store.target`: a
``postgresql://`` URL or a file path); ``Store(path)`` opens the embedded DuckDB store
(:mod:`accord.store.duckdb_store`); the interface (:mod:`accord.store.base`), the SQL dialect
(:mod:`accord.store.dialect`) and the answer to a store another process holds
(:mod:`accord.store.busy`) are its parts.
"""

from pathlib import Path

from accord.store.base import Store
from accord.store.busy import SERVER_ROUTES, busy_message, holder_command
from accord.store.dialect import is_postgres
from accord.store.duckdb_store import PRIVATE_UMASK, STORE_FORMAT, UPGRADE_USER, DuckDBStore
from accord.store.target import StoreTarget, describe, file_exists, store_key, store_target


def open_store(target: str | Path, *, read_only: bool = False, create: bool = True) -> Store:
    """The store at ``target``: a ``postgresql://`` URL is a PostgreSQL store
    (:mod:`accord.store.postgres_store`), anything else the path of the embedded DuckDB store.
    Without ``create``, a target that holds no store yet is refused (a StoreError saying how to
    create one) instead of getting an empty store."""
    if is_postgres(target):
        from accord.store.postgres_store import PostgresStore

        return PostgresStore(str(target), read_only=read_only, create=create)
    return DuckDBStore(target, read_only=read_only, create=create)


__all__ = ["PRIVATE_UMASK", "SERVER_ROUTES", "STORE_FORMAT", "UPGRADE_USER", "DuckDBStore", "Store",
           "StoreTarget", "busy_message", "describe", "file_exists", "holder_command", "open_store",
           "store_key", "store_target"]
