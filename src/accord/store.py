"""The embedded store: one DuckDB file holding every stage's tables.

Each stage owns its tables and declares them in its own ``schema`` module; the store
applies them in data-flow order. Opening a store never changes data, only creates
missing tables.

The store holds person data, so its files are its owner's only (mode 0600): a new store file
is created so, and while a store is open for writing the process's umask keeps group and
others out of what it creates, because DuckDB creates its write-ahead log (``<store>.wal``)
afresh after every checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from accord.errors import StoreError
from accord.generation import Generation, TrackedConnection

STORE_FORMAT = 1
T = TypeVar("T")

# Several threads (the API's) may open the same store; its schema is applied once per process.
_MIGRATE_LOCK = threading.Lock()
_MIGRATED: set[str] = set()

# Stores open for writing in this process; while there are any, the umask is kept private.
_UMASK_LOCK = threading.Lock()
_OPEN_WRITERS = 0
_SAVED_UMASK: int | None = None
PRIVATE_UMASK = 0o077


def _writer_opened() -> None:
    global _OPEN_WRITERS, _SAVED_UMASK
    with _UMASK_LOCK:
        if _OPEN_WRITERS == 0:
            _SAVED_UMASK = os.umask(PRIVATE_UMASK)       # never looser than 0o077, even briefly
            os.umask(_SAVED_UMASK | PRIVATE_UMASK)
        _OPEN_WRITERS += 1


def _writer_closed() -> None:
    global _OPEN_WRITERS, _SAVED_UMASK
    with _UMASK_LOCK:
        _OPEN_WRITERS -= 1
        if _OPEN_WRITERS == 0 and _SAVED_UMASK is not None:
            os.umask(_SAVED_UMASK)
            _SAVED_UMASK = None


_META_DDL = [
    "CREATE TABLE IF NOT EXISTS accord_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
]


def _stage_schemas() -> list[list[str]]:
    # Imported here so each stage's module owns its DDL; order follows the data flow.
    from accord.governance import casework_schema
    from accord.governance import schema as governance_schema
    from accord.ingest import schema as ingest_schema
    from accord.resolve import schema as resolve_schema

    return [ingest_schema.DDL, resolve_schema.DDL, governance_schema.DDL, casework_schema.DDL]


class Store:
    """A DuckDB connection to an Accord store file, with its schema applied."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        # Rows a read may reuse within one governed read (set by the gate around a reader).
        self.memo: dict[Any, Any] | None = None
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no such store (run `accord ingest` or `accord demo` first)")
        self._private = not read_only      # holds the private umask until closed
        if self._private:
            _writer_opened()
        try:
            self._open()
        except BaseException:
            self._release()
            raise

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        if created:
            with _MIGRATE_LOCK:
                _MIGRATED.discard(str(self.path.resolve()))   # a new file at a known path
        # Every connection moves the store's generation when it changes data (accord.generation);
        # it is typed as DuckDB's connection, which it forwards to.
        self.generation = Generation()
        try:
            self.con = cast(duckdb.DuckDBPyConnection,
                            TrackedConnection(duckdb.connect(str(self.path), read_only=self.read_only),
                                              self.generation))
        except duckdb.IOException as e:
            raise StoreError(f"{self.path}: cannot open store: {e}") from None
        except duckdb.Error as e:
            raise StoreError(f"{self.path}: not a readable DuckDB store: {e}") from None
        try:
            if created and self.path.exists():
                os.chmod(self.path, 0o600)
            self._session()
            if not self.read_only:
                with _MIGRATE_LOCK:
                    key = str(self.path.resolve())
                    if key not in _MIGRATED:     # schema DDL once per process and store
                        self._migrate()
                        _MIGRATED.add(key)
            self._check_format()
        except BaseException:
            self.con.close()
            raise

    def _release(self) -> None:
        if self._private:
            self._private = False
            _writer_closed()

    def _session(self) -> None:
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute("SET TimeZone = 'UTC'")
        # Bulk inserts may write in parallel; nothing relies on physical row order.
        self.con.execute("SET preserve_insertion_order = false")

    def cursor(self) -> Store:
        """Another connection to this open store, for another thread (DuckDB connections are
        not shared between threads); closing it leaves this one open."""
        other = object.__new__(Store)
        other.path, other.read_only, other.memo = self.path, self.read_only, None
        other._private = False          # the store it came from holds the umask
        other.generation = self.generation
        other.con = self.con.cursor()
        other._session()
        return other

    def _migrate(self) -> None:
        with self.transaction():
            for ddl in _META_DDL:
                self.con.execute(ddl)
            self.con.execute(
                "INSERT INTO accord_meta VALUES ('format', ?) ON CONFLICT DO NOTHING",
                [str(STORE_FORMAT)],
            )
            for stage in _stage_schemas():
                for ddl in stage:
                    self.con.execute(ddl)

    def _check_format(self) -> None:
        try:
            rows = self.con.execute("SELECT value FROM accord_meta WHERE key = 'format'").fetchall()
        except duckdb.CatalogException:
            raise StoreError(f"{self.path}: not an Accord store (no accord_meta table)") from None
        if not rows or int(rows[0][0]) != STORE_FORMAT:
            found = rows[0][0] if rows else None
            raise StoreError(f"{self.path}: store format {found} is not {STORE_FORMAT}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: commit on success, roll back on any exception."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def reuse(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``, kept until the store's data changes (``accord.generation``): for values
        many operations of a long-running server read alike. ``None`` is not kept."""
        cache = self.generation.cache
        value: T | None = cache.get(key)
        if value is None:
            at = self.generation.value
            value = read()
            if value is not None:
                cache.put(key, at, value)
        return value

    def insert_rows(self, table: str, rows: list[list[Any]], columns: tuple[str, ...] = (),
                    chunk: int = 200) -> None:
        """Insert rows, one statement per ``chunk`` rows (values bound as parameters)."""
        names = f" ({', '.join(columns)})" if columns else ""
        for i in range(0, len(rows), chunk):
            part = rows[i:i + chunk]
            one = "(" + ", ".join("?" * len(part[0])) + ")"
            self.con.execute(f"INSERT INTO {table}{names} VALUES " + ", ".join([one] * len(part)),
                             [v for row in part for v in row])

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
