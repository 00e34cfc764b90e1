"""The store interface: what every Accord store offers, whatever engine holds the tables.

Code outside ``accord.store`` talks to a store only through these methods:

* **reads**: :meth:`Store.query` (rows as tuples), :meth:`Store.scalar` (one value),
  :meth:`Store.read_arrow` (bulk, as an Arrow table);
* **writes, declared by the caller**: :meth:`Store.write` (one statement),
  :meth:`Store.write_many` (one statement, many parameter rows), :meth:`Store.insert`
  (named columns), :meth:`Store.bulk_load` (an Arrow table into named columns), and
  :meth:`Store.changed` for work that writes through the engine's own connection (ingest's
  validation, resolution); each runs in the current :meth:`Store.transaction` or in one of
  its own. Nothing is guessed from SQL text: a statement run through ``query`` is a read;
* **the data version**: :meth:`Store.data_version`, a counter stored in the database and
  moved inside every transaction that declared a write to data, so that any process can
  tell that data changed. Appends to the audit ledger (``ledger=True``) leave it where it is:
  no kept value depends on them, and every governed read appends to them. Values kept across
  requests (:meth:`Store.reuse`) are kept for one data version;
* **the store's own settings**: :meth:`Store.meta` and :meth:`Store.put_meta`, the key-value
  table ``accord_meta`` that the store owns (its schema version, and keys other modules keep
  there, such as the sign-in page's audit-name key);
* **the dialect**: :attr:`Store.dialect`, the few SQL differences between engines, and
  :attr:`Store.conflicts`, the engine's errors for a write that conflicted with another
  transaction's.

``Store(target)`` opens the store at ``target`` with the implementation for it: a path is the
embedded DuckDB store (:class:`accord.store.duckdb_store.DuckDBStore`).
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from accord.store.dialect import Dialect

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")

# The one-row table that holds the data version (created by the store's own schema).
DATA_VERSION_TABLE = "accord_data_version"
# The store's key-value table (its schema version and a few keys kept for other modules).
META_TABLE = "accord_meta"


class Shared:
    """What the connections of one open store share within a process: the data version last
    seen, the values kept for it, and the audit ledger's group committer. (The audit chain's
    head is not among them: every append reads it in its own transaction, under the row lock
    of :meth:`Dialect.lock_rows`, so writers in several processes never fork the chain.)"""

    def __init__(self, version: int = 0) -> None:
        self.version = version
        self._lock = threading.Lock()
        self.cache = ReadCache(self)
        # The group committer of the store's audit ledger (accord.governance.ledger).
        self.ledger: object | None = None

    def move(self) -> None:
        """Data changed: values kept for the version before are stale."""
        with self._lock:
            self.version += 1

    def seen(self, version: int) -> None:
        """The data version is now ``version`` (never moves back)."""
        with self._lock:
            if version > self.version:
                self.version = version


# What the store objects open on one store share in this process (the data version, kept
# values, the ledger): one Shared per file path or database URL, while any of them is open.
# A new opening after all have closed starts afresh: nothing of an earlier opening is kept.
_SHARED_LOCK = threading.Lock()
_SHARED: dict[str, tuple[Shared, int]] = {}


def attach_shared(key: str) -> Shared:
    with _SHARED_LOCK:
        shared, count = _SHARED.get(key, (None, 0))
        _SHARED[key] = (shared or Shared(), count + 1)
        return _SHARED[key][0]


def detach_shared(key: str) -> None:
    with _SHARED_LOCK:
        shared, count = _SHARED[key]
        if count <= 1:
            del _SHARED[key]
        else:
            _SHARED[key] = (shared, count - 1)


class ReadCache:
    """Values read from the store, each kept for the data version it was read at (least
    recently used first out). ``get`` returns ``None`` for a value read at another version."""

    def __init__(self, shared: Shared, size: int = 32_768) -> None:
        self._shared = shared
        self._size = size
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: int | None = None) -> Any:
        at = self._shared.version if version is None else version
        with self._lock:
            held = self._items.get(key)
            if held is None or held[0] != at:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return held[1]

    def put(self, key: Hashable, at: int, value: Any) -> None:
        """Keep ``value`` read at data version ``at`` (taken before the read began)."""
        with self._lock:
            if at != self._shared.version:
                return                       # the data changed while it was being read
            self._items[key] = (at, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Store(ABC):
    """An open Accord store (see the module's description)."""

    path: Path
    read_only: bool
    created: bool           # this object created the store (a new file or database schema)
    dialect: Dialect
    shared: Shared
    # Rows a read may reuse within one governed read (set by the gate around a reader).
    memo: dict[Any, Any] | None
    # The engine's errors that mean a write conflicted with another transaction's (that
    # transaction is rolled back; doing it again may succeed).
    conflicts: tuple[type[Exception], ...] = ()

    def __new__(cls, target: str | Path | None = None, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            from accord.store.dialect import is_postgres

            if is_postgres(target):
                from accord.store.postgres_store import PostgresStore

                return super().__new__(PostgresStore)
            from accord.store.duckdb_store import DuckDBStore

            return super().__new__(DuckDBStore)
        return super().__new__(cls)

    # --- reads ---------------------------------------------------------------------------------

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of a read."""

    def query_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read, each a dict by column name."""
        names, rows = self.query_columns(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    @abstractmethod
    def query_columns(self, sql: str,
                      params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names of a read and its rows."""

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row of a read; None when it has no rows."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    @abstractmethod
    def read_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """A read, in bulk, as an Arrow table."""

    # --- writes ----------------------------------------------------------------------------------

    _depth: int = 0           # transactions begun on this store object and not yet ended
    _changed: bool = False    # the open transaction declared a write to data
    _MOVE_VERSION = f"UPDATE {DATA_VERSION_TABLE} SET version = version + 1 WHERE one = 1"

    @contextlib.contextmanager
    def transaction(self, *, ledger: bool = False) -> Iterator[Any]:
        """All or nothing: commit on success, roll back on any exception. A transaction begun
        inside another on the same store object joins it. The data version moves at commit
        when a write to data was declared in it (``ledger=True`` says the block only appends to
        the audit ledger)."""
        if self._depth:                          # joins the transaction already open
            self._depth += 1
            try:
                yield self._in_transaction()
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth, self._changed = 1, False
        try:
            yield self._in_transaction()
            moved = self._changed
            if moved and not self.read_only:     # read-only: only temporary tables can have changed
                self._execute(self._MOVE_VERSION, None)
            self._commit()
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        finally:
            self._depth = 0
        if moved:
            self.shared.move()
            self._pinned = None

    def snapshot(self) -> contextlib.AbstractContextManager[Any]:
        """A block of reads that all see the store as of one moment (the audit chain's events
        and its head, say), whatever other processes commit meanwhile. A transaction gives that
        on an engine whose transactions are snapshots (DuckDB); another engine says so here.
        Inside a transaction already open, the block joins it."""
        return self.transaction()

    def lock(self, name: str) -> None:
        """Hold the lock ``name`` until the current transaction ends: another process's
        transaction that asks for it waits until then (one resolution at a time, say). A store
        only one process can write holds nothing more here."""
        if not self._depth:
            raise RuntimeError("Store.lock is held by a transaction: call it inside store.transaction()")

    def changed(self) -> None:
        """Declare that the current transaction changed data through the engine's own
        connection (bulk work such as ingest or resolution)."""
        if not self._depth:
            raise RuntimeError("Store.changed() declares a write of the open transaction: open one first")
        self._changed = True

    def write(self, sql: str, params: Sequence[Any] | None = None, *,
              ledger: bool = False) -> list[tuple[Any, ...]]:
        """Run one statement that changes data (in the current transaction, else in its own);
        the rows it returns (``RETURNING ...``), else one row: the number of rows it changed."""
        with self._declared(ledger):
            return self._execute(sql, params)

    def write_many(self, sql: str, rows: Sequence[Sequence[Any]], *, ledger: bool = False) -> None:
        """One statement that changes data, run once for each parameter row."""
        if rows:
            with self._declared(ledger):
                self._execute_many(sql, rows)

    def _declared(self, ledger: bool) -> contextlib.AbstractContextManager[Any]:
        if self._depth:
            if not ledger:
                self._changed = True
            return contextlib.nullcontext()
        return self._own(ledger)

    @contextlib.contextmanager
    def _own(self, ledger: bool) -> Iterator[None]:
        with self.transaction(ledger=ledger):
            if not ledger:
                self._changed = True
            yield

    # What each engine provides for the above.
    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _in_transaction(self) -> Any: ...

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] | None) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def bulk_load(self, table: str, data: pa.Table, columns: Sequence[str] | None = None) -> int:
        """Append an Arrow table to ``table`` (its columns by name, or the named ``columns``
        in the table's order); the number of rows appended."""

    def insert(self, table: str, row: Mapping[str, Any], *, ledger: bool = False,
               on_conflict: str = "") -> list[tuple[Any, ...]]:
        """Insert one row by column name; ``on_conflict`` is an ``ON CONFLICT ...`` clause."""
        columns = list(row)
        marks = ", ".join("?" * len(columns))
        tail = f" {on_conflict}" if on_conflict else ""
        return self.write(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){tail}",
                          list(row.values()), ledger=ledger)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                    chunk: int = 200, *, ledger: bool = False) -> None:
        """Insert rows into named columns, one statement per ``chunk`` rows."""
        if not columns:
            raise ValueError("insert_rows needs the column names")
        one = "(" + ", ".join("?" * len(columns)) + ")"
        for i in range(0, len(rows), chunk):
            part = rows[i:i + chunk]
            self.write(f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * len(part)),
                       [v for row in part for v in row], ledger=ledger)

    # --- the store's own settings (accord_meta) ---------------------------------------------------

    def meta(self, key: str) -> str | None:
        """The value kept under ``key`` in the store's ``accord_meta``; None when there is none."""
        found = self.scalar(f"SELECT value FROM {META_TABLE} WHERE key = ?", [key])
        return None if found is None else str(found)

    def put_meta(self, key: str, value: str, *, keep: bool = False) -> str:
        """Keep ``value`` under ``key`` in ``accord_meta`` (a declared write); with ``keep``, a
        value already there stays (the first writer wins). Returns the value now kept."""
        with self.transaction():
            self.write(self.dialect.upsert(META_TABLE, ["key", "value"], ["key"], keep=keep), [key, value])
            kept = self.meta(key)
        assert kept is not None
        return kept

    # --- the data version and kept values ------------------------------------------------------------

    @abstractmethod
    def data_version(self) -> int:
        """The store's data version: moves whenever a committed transaction changed data, in
        any process."""

    # The data version read once for a request (see pinned).
    _pins = 0
    _pinned: int | None = None

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Within this block a store whose data version is read from the database reads it once,
        the first time it is asked, and answers with it after (until a transaction of this store
        object changes data): one request, one version, one round trip. The next block reads it
        afresh, so a change any process commits is seen by the next request."""
        self._pins += 1
        try:
            yield
        finally:
            self._pins -= 1
            if not self._pins:
                self._pinned = None

    def reuse(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``, kept for the store's current data version: for values many operations of
        a long-running server read alike. ``None`` is not kept."""
        at = self.data_version()
        cache = self.shared.cache
        value: T | None = cache.get(key, at)
        if value is None:
            value = read()
            if value is not None:
                cache.put(key, at, value)
        return value

    # --- the rest ------------------------------------------------------------------------------------

    @abstractmethod
    def cursor(self) -> Store:
        """Another connection to this open store, for another thread; closing it leaves this
        one open."""

    @abstractmethod
    def schema_version(self) -> int:
        """The store's schema version (accord.migrations)."""

    @abstractmethod
    def notices(self) -> list[str]:
        """What an operator must still do after an upgrade; empty when nothing."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

