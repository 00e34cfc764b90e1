"""The embedded store: one DuckDB file holding every stage's tables (:class:`DuckDBStore`, the
first implementation of :class:`accord.store.base.Store`).

Each stage owns its tables and declares them in its own ``schema`` module; the store
applies them in data-flow order. The store records its schema version (``accord_meta``,
``accord.migrations``): opening a store of this version never changes data, only creates
missing tables; opening an older one for writing upgrades it, step by step, each step recorded
(``accord_migrations``, and an audit event); a store of a newer version, or an older one
opened read-only, is refused with what to do.

One process at a time may open a store (DuckDB locks the file): opening a store another
process holds, ``accord serve`` for one, is refused with the process that holds it and what to
do instead (:func:`busy_message`).

The store holds person data, so its files are its owner's only (mode 0600): a new store file
is created so, and while a store is open for writing the process's umask keeps group and
others out of what it creates, because DuckDB creates its write-ahead log (``<store>.wal``)
afresh after every checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from accord import __version__
from accord import migrations as mig
from accord.errors import StoreError
from accord.store.base import DATA_VERSION_TABLE, Shared, Store, attach_shared, detach_shared
from accord.store.busy import _one_line, busy_message
from accord.store.dialect import DUCKDB

if TYPE_CHECKING:
    import pyarrow as pa

# accord_meta ``format``: the store's schema version (accord.migrations).
STORE_FORMAT = mig.SCHEMA_VERSION
log = logging.getLogger("accord.store")

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
    # Every upgrade step applied to the store (accord.migrations), one row each.
    """CREATE TABLE IF NOT EXISTS accord_migrations (
  version INTEGER PRIMARY KEY,      -- the schema version the step brought the store to
  name VARCHAR NOT NULL,
  from_version INTEGER NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL,
  program VARCHAR NOT NULL,         -- the accord release that applied it
  notices JSON NOT NULL             -- what it told the operator
)""",
    # The data version (accord.store.base): moved inside every transaction that changed data.
    f"""CREATE TABLE IF NOT EXISTS {DATA_VERSION_TABLE} (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  version BIGINT NOT NULL
)""",
    f"INSERT INTO {DATA_VERSION_TABLE} (one, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
]


# The user id of a store upgrade's audit event: no Accord user asks for it; the store does,
# when a newer accord opens it (the event's origin names the program and the OS user).
UPGRADE_USER = "(accord)"


def apply_step(store: Store, step: mig.Migration) -> mig.Upgrade:
    """One upgrade step on either engine, in the caller's transaction: the step, its row of
    ``accord_migrations``, the new version in ``accord_meta`` and the ``store.upgrade`` audit
    event."""
    from accord.governance import audit

    before, program = step.version - 1, f"accord {__version__}"
    done = step.apply(store)
    store.write("INSERT INTO accord_migrations (version, name, from_version, applied_at, "
                "program, notices) VALUES (?, ?, ?, now(), ?, ?)",
                [step.version, step.name, before, program, json.dumps(done.notices)])
    for key, value in {**done.meta, mig.VERSION_KEY: str(step.version)}.items():
        store.put_meta(key, value)
    audit.append(store, audit.Event(
        user_id=UPGRADE_USER, action="store.upgrade", decision="n/a",
        origin=f"{program} opening the store, OS user {_os_user()}",
        details={"from_version": before, "to_version": step.version, "step": step.name,
                 "summary": step.summary, "notices": done.notices}))
    return done


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return "unknown"

def _stage_schemas() -> list[list[str]]:
    # Imported here so each stage's module owns its DDL; order follows the data flow.
    from accord.casework import schema as casework_schema
    from accord.governance import schema as governance_schema
    from accord.ingest import schema as ingest_schema
    from accord.resolve import schema as resolve_schema

    return [ingest_schema.DDL, resolve_schema.DDL, governance_schema.DDL, casework_schema.DDL]


class DuckDBStore(Store):
    """A DuckDB connection to an Accord store file, with its schema applied.

    ``con`` is the engine's own connection, for the stages that compute in DuckDB (ingest's
    validation, standardisation, resolution): what they write through it they declare with
    :meth:`changed`, inside :meth:`transaction`. Everything else reads and writes through the
    :class:`~accord.store.base.Store` methods.

    The data version: DuckDB lets one process at a time open a store file for writing, so the
    counter this process last committed is the store's; :meth:`data_version` answers from
    memory (shared by every store object open on the file in this process) and the stored row
    moves with it, for the next process that opens the file.

    Concurrent transactions (several store objects or cursors on one file, in one process) are
    optimistic: of two that change the same row (the audit chain's head, say) the second is
    refused with ``duckdb.TransactionException`` (:attr:`conflicts`) and rolled back, never
    interleaved; :meth:`Dialect.lock_rows` is therefore empty here.
    """

    dialect = DUCKDB
    conflicts = (duckdb.TransactionException,)

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.created = False
        self.memo = None
        self._key: str | None = None        # the file's share of what its stores share
        self._depth = 0                     # transactions begun on this object and not ended
        self._changed = False               # the open transaction declared a write to data
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no such store (run `accord ingest` or `accord demo` first)")
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such store (create one with `accord init --db {self.path}` "
                             "or run `accord demo`)")
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
        created = self.created = not self.path.exists()
        if created:
            with _MIGRATE_LOCK:
                _MIGRATED.discard(str(self.path.resolve()))   # a new file at a known path
        self._key = str(self.path.resolve())
        self.shared = attach_shared(self._key)
        try:
            self._raw = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.IOException as e:
            detach_shared(self._key)
            busy = busy_message(self.path, str(e))
            raise StoreError(busy or f"{self.path}: cannot open store: {_one_line(e)}") from None
        except duckdb.Error as e:
            detach_shared(self._key)
            raise StoreError(f"{self.path}: not a readable DuckDB store: {_one_line(e)}") from None
        try:
            if created and self.path.exists():
                os.chmod(self.path, 0o600)
            self._session()
            self._prepare()
            self.shared.seen(self._stored_data_version())
        except BaseException:
            self._raw.close()
            detach_shared(self._key)
            raise

    def _release(self) -> None:
        if self._private:
            self._private = False
            _writer_closed()

    def _session(self) -> None:
        self._raw.execute("SET enable_progress_bar = false")
        self._raw.execute("SET TimeZone = 'UTC'")
        # Bulk inserts may write in parallel; nothing relies on physical row order.
        self._raw.execute("SET preserve_insertion_order = false")

    def cursor(self) -> DuckDBStore:
        """Another connection to this open store, for another thread (DuckDB connections are
        not shared between threads); closing it leaves this one open."""
        other = object.__new__(DuckDBStore)
        other.path, other.read_only, other.memo = self.path, self.read_only, None
        other.created = False
        other._depth, other._changed = 0, False
        other._private = False          # the store it came from holds the umask
        other._key = None               # and its share of what the file's stores share
        other.shared = self.shared
        other._raw = self._raw.cursor()
        other._session()
        return other

    # --- schema versions (accord.migrations) ----------------------------------------------------

    def _prepare(self) -> None:
        """Check the store's schema version; create or upgrade the schema when open for writing."""
        found = self._stored_version()
        if found is not None:
            self._refuse_version(found)
        if self.read_only:
            return
        with _MIGRATE_LOCK:
            key = str(self.path.resolve())
            if found == mig.SCHEMA_VERSION and key in _MIGRATED:   # schema DDL once per process
                return
            self._create_missing(found)
            steps = mig.pending(found) if found is not None else []
            for step in steps:
                self._upgrade(step)
            if steps:       # views over a changed table are made again, with its new columns
                self._create_missing(mig.SCHEMA_VERSION)
            if not steps:           # said once per process until done (an upgrade says it itself)
                for notice in self.notices():
                    log.warning("%s: %s", self.path, notice)
            _MIGRATED.add(key)

    def _stored_version(self) -> int | None:
        """The store's schema version; None for a file with no tables yet (a new store)."""
        try:
            rows = self._raw.execute("SELECT value FROM accord_meta WHERE key = ?",
                                    [mig.VERSION_KEY]).fetchall()
        except duckdb.CatalogException:
            tables = self._raw.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
            if not self.read_only and not tables:
                return None
            raise StoreError(f"{self.path}: not an Accord store (no accord_meta table)") from None
        try:
            return int(rows[0][0])
        except (IndexError, ValueError):
            found = rows[0][0] if rows else None
            raise StoreError(f"{self.path}: not an Accord store (accord_meta holds no schema version: "
                             f"format {found!r})") from None

    def _refuse_version(self, found: int) -> None:
        p, ours = self.path, mig.SCHEMA_VERSION
        if found > ours:
            raise StoreError(
                f"{p}: this store has schema version {found}, written by a newer accord; this accord "
                f"({__version__}) supports schema version {ours} at most. Upgrade accord to a release "
                f"that supports schema version {found} to open it; nothing was changed")
        if found < mig.OLDEST_UPGRADABLE:
            raise StoreError(
                f"{p}: this store has schema version {found}, which this accord ({__version__}, schema "
                f"version {ours}) cannot upgrade: it upgrades stores from schema version "
                f"{mig.OLDEST_UPGRADABLE} on. Open it first with an accord release that upgrades version "
                f"{found}, or create a new store (`accord init`) and ingest the extracts again; "
                "nothing was changed")
        if found < ours and self.read_only:
            raise StoreError(
                f"{p}: this store has schema version {found}, older than this accord's ({ours}), and a "
                "read-only open cannot upgrade it: open it once for writing (any accord command on it, "
                f"e.g. `accord audit verify --db {p}`), which upgrades it in place; nothing was changed")

    def _create_missing(self, found: int | None) -> None:
        """Every stage's CREATE ... IF NOT EXISTS (views replaced): a new store gets the whole
        schema at this version; an existing one only what it lacks."""
        with self.transaction():
            for ddl in _META_DDL:
                self._raw.execute(ddl)
            if found is None:
                self._raw.execute("INSERT INTO accord_meta (key, value) VALUES (?, ?), ('created_by', ?)",
                                 [mig.VERSION_KEY, str(mig.SCHEMA_VERSION), f"accord {__version__}"])
            for stage in _stage_schemas():
                for ddl in stage:
                    self._raw.execute(ddl)

    def _upgrade(self, step: mig.Migration) -> None:
        """One upgrade step, its record and its audit event, in one transaction."""
        before = step.version - 1
        try:
            with self.transaction():
                done = apply_step(self, step)
        except Exception as e:
            raise StoreError(
                f"{self.path}: upgrading the store from schema version {before} to {step.version} "
                f"({step.name}) failed and was rolled back, so the store is still at version {before}: "
                f"{_one_line(e)}. Keep a copy of the store and report this error") from e
        log.warning("%s: upgraded from schema version %d to %d (%s)%s", self.path, before, step.version,
                    step.name, "".join(f"; {n}" for n in done.notices))

    def schema_version(self) -> int:
        """The store's schema version (accord.migrations)."""
        return int(self.meta(mig.VERSION_KEY) or 0)

    def notices(self) -> list[str]:
        """What an operator must still do after an upgrade (resolve again); empty when nothing."""
        return mig.resolve_notices(self)

    # --- the Store interface -----------------------------------------------------------------

    @property
    def generation(self) -> Shared:
        """What this store's connections share (the data version, kept values, the ledger)."""
        return self.shared

    def _begin(self) -> None:
        self._raw.execute("BEGIN TRANSACTION")

    def _commit(self) -> None:
        self._raw.execute("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self._raw.execute("ROLLBACK")

    def _in_transaction(self) -> Any:
        return self._raw

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The embedded engine's own connection, for tests and tools that look inside the file.
        Accord's modules never write through it: their writes are declared through the store's
        methods, and compute goes through :func:`accord.sql.backend.compute_connection` inside
        a declared transaction. A write made here moves no data version."""
        return self._raw

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._raw.execute(sql, params or []).fetchall()

    def read_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        # A result left partly read on the connection (a fetchone through ``con``) would make
        # DuckDB refuse this read: its caller is done with it, so it is run to its end first.
        self._raw.complete()
        return self._raw.sql(sql, params=list(params) if params else None).to_arrow_table()

    def _execute(self, sql: str, params: Sequence[Any] | None) -> list[tuple[Any, ...]]:
        return self._raw.execute(sql, params or []).fetchall()

    def query_columns(self, sql: str,
                      params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self._raw.execute(sql, params or [])
        return [d[0] for d in cur.description], cur.fetchall()

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._raw.executemany(sql, [list(r) for r in rows])

    def bulk_load(self, table: str, data: pa.Table, columns: Sequence[str] | None = None) -> int:
        names = list(columns) if columns is not None else list(data.column_names)
        view = f"_bulk_load_{id(data):x}"
        with self._declared(False):
            self._raw.register(view, data)
            try:
                self._raw.execute(f"INSERT INTO {table} ({', '.join(names)}) "
                                 f"SELECT {', '.join(names)} FROM {view}")
            finally:
                self._raw.unregister(view)
        return int(data.num_rows)

    def data_version(self) -> int:
        return self.shared.version

    def stored_data_version(self) -> int:
        """The data version as the file holds it (what the next process to open it starts at)."""
        return self._stored_data_version()

    def _stored_data_version(self) -> int:
        try:
            rows = self._raw.execute(f"SELECT version FROM {DATA_VERSION_TABLE} WHERE one = 1").fetchall()
        except duckdb.CatalogException:      # an older store opened read-only: refused before this
            return 0
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            self._release()
            if self._key is not None:
                key, self._key = self._key, None
                detach_shared(key)

    def __enter__(self) -> DuckDBStore:
        return self

