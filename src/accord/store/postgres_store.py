"""The PostgreSQL store: the same tables in a PostgreSQL database, for a shared service.

``Store("postgresql://user@host/db")`` (or ``open_store``) opens it. It implements the store
interface (:mod:`accord.store.base`) over psycopg 3:

* **the schema** is every stage's DDL, written once in DuckDB's SQL and translated with sqlglot;
  a new database gets it at this schema version under an advisory lock (several workers may
  start at once); an older one (from schema version 3, the first of these stores) is upgraded
  under the same lock by the pending steps of ``accord.migrations``, each recorded and audited;
  a newer one is refused, as the embedded store does;
* **statements** keep DuckDB's ``?`` placeholders in the code; they become psycopg's ``%s``
  here (and a literal ``%`` becomes ``%%``), outside quoted text;
* **the data version** is read from its row on every call, so a change committed by any process
  is seen on the next request; every transaction that declared a write moves it before commit;
* **JSON** columns come back as text, as DuckDB returns them, so readers decode them alike;
* **bulk loads and reads** stream Arrow as CSV through ``COPY`` on the store's own connection, so
  a load is part of the open transaction and a read sees it (:mod:`accord.store.pg_copy`); the
  few results and tables ``COPY`` does not carry there go row by row.

The stages that compute in DuckDB (ingest's validation, standardisation, resolution) do so in
a workspace beside this store (:mod:`accord.sql.workspace`); ``con`` refuses, as there is no
DuckDB connection here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot

from accord import __version__
from accord import migrations as mig
from accord.errors import StoreError
from accord.sql_text import ident
from accord.store import pg_copy
from accord.store.base import DATA_VERSION_TABLE, Store, attach_shared, detach_shared
from accord.store.dialect import POSTGRES
from accord.store.target import redacted

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa

_SCHEMA_LOCK_KEY = 0x6163636f7264      # pg_advisory_xact_lock: one schema creation at a time

# Indexes for the WHERE clauses of the person reads (a lookup by id reads its memberships, its
# records, the links touching them and its statements of disagreement): PostgreSQL reads a table
# it has no index for whole, for every lookup. Only here: the embedded store reads such small
# lookups from its column segments, and indexes there would slow resolution's bulk rewrites of
# these tables. An index changes no answer; a store made before one was added gets it when it is
# next opened for writing.
POSTGRES_INDEXES: dict[str, str] = {
    "records_key": "records (source, record_id, version)",
    "entity_members_entity": "entity_members (entity_id)",
    "entity_members_key": "entity_members (source, record_id)",
    "view_members_entity": "view_members (view, entity_id)",
    "view_members_key": "view_members (view, source, record_id)",
    "links_left": "links (source_l, record_id_l)",
    "links_right": "links (source_r, record_id_r)",
    "view_links_pair": "view_links (view, source_l, record_id_l, source_r, record_id_r)",
    "entity_events_entity": "entity_events (entity_id)",
    "dispute_statements_person": "dispute_statements (person_id)",
}



@lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """``?`` placeholders to ``%s`` and ``%`` to ``%%``, outside quoted text and comments."""
    out: list[str] = []
    quote: str | None = None
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if quote:
            out.append("%%" if c == "%" else c)
            if c == quote:
                quote = None
        elif c in ("'", '"'):
            quote = c
            out.append(c)
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        elif c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        else:
            out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def ddl_for_postgres(ddl: str) -> tuple[str, ...]:
    """One of the stages' DDL statements (DuckDB SQL) in PostgreSQL's SQL."""
    return tuple(sqlglot.transpile(ddl, read="duckdb", write="postgres"))


class PostgresStore(Store):
    """An Accord store in a PostgreSQL database (see the module's description)."""

    dialect = POSTGRES

    def __init__(self, url: str, *, read_only: bool = False, create: bool = True) -> None:
        self.url = url
        self.created = False
        self.location = redacted(url)
        self.path = Path(self.location)
        self.read_only = read_only
        self.memo = None
        self._depth, self._changed = 0, False
        self._conn = self._connect()
        self._key: str | None = self.location
        self.shared = attach_shared(self.location)
        try:
            self._prepare(create)
            self.data_version()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg.types.json import set_json_loads

        try:
            conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as e:
            raise StoreError(f"{self.location}: cannot connect to the PostgreSQL store: "
                             f"{' '.join(str(e).split())}") from None
        set_json_loads(_json_as_text, conn)             # JSON as text, as the embedded store gives it
        # UTC, ISO dates and exact floats: the text that COPY gives and pg_copy parses.
        conn.execute("SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, YMD', "
                     "false), set_config('extra_float_digits', '3', false)")
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")
        return conn

    @property
    def con(self) -> Any:
        raise StoreError(f"{self.location}: this operation still runs DuckDB SQL on the store's own "
                         "connection, which a PostgreSQL store does not have yet; run it on an embedded "
                         "store (a file path for --db)")

    # --- schema ------------------------------------------------------------------------------

    def _prepare(self, create: bool) -> None:
        from accord.store.duckdb_store import _META_DDL, _stage_schemas

        found = self._stored_version()
        if found is not None:
            self._refuse_version(found)
        elif not create:
            raise StoreError(f"{self.location}: no Accord store in this database yet (create one with "
                             f"`accord init --db {self.location}`)")
        if self.read_only:
            if found is None:
                raise StoreError(f"{self.location}: not an Accord store (no accord_meta table); "
                                 "open it for writing once (`accord init`) to create the schema")
            return
        with self.transaction():
            self._execute("SELECT pg_advisory_xact_lock(?)", [_SCHEMA_LOCK_KEY])
            found = self._stored_version()              # another worker may have made it meanwhile
            self._create_missing(_META_DDL, _stage_schemas())
            steps = mig.pending(found) if found is not None else []
            for step in steps:
                self._upgrade(step)
            if steps:       # views over a changed table are made again, with its new columns
                self._create_missing(_META_DDL, _stage_schemas())
            # Only the missing ones: CREATE INDEX IF NOT EXISTS would lock the table against
            # writes for a moment even when the index is there.
            missing = self.query("SELECT name FROM unnest(?::VARCHAR[]) AS name "
                                 "WHERE to_regclass(name) IS NULL", [list(POSTGRES_INDEXES)])
            for (name,) in missing:
                self._conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {POSTGRES_INDEXES[name]}")
            if found is None:
                self.created = True
                self._execute("INSERT INTO accord_meta (key, value) VALUES (?, ?), ('created_by', ?)",
                              [mig.VERSION_KEY, str(mig.SCHEMA_VERSION), f"accord {__version__}"])

    def _create_missing(self, meta: list[str], stages: list[list[str]]) -> None:
        for stage in [meta, *stages]:
            for ddl in stage:
                for statement in ddl_for_postgres(ddl):
                    self._conn.execute(statement)    # DDL: no parameters

    def _upgrade(self, step: mig.Migration) -> None:
        """One upgrade step, its record and its audit event, in the schema's transaction (a
        step that fails rolls the whole opening back: the store stays at its version)."""
        from accord.store.duckdb_store import apply_step

        before = step.version - 1
        try:
            apply_step(self, step)
        except Exception as e:
            raise StoreError(
                f"{self.location}: upgrading the store from schema version {before} to {step.version} "
                f"({step.name}) failed and was rolled back, so the store is still at its version: "
                f"{' '.join(str(e).split())}. Keep a copy of the store and report this error") from e

    def _stored_version(self) -> int | None:
        if self.scalar("SELECT to_regclass('accord_meta') IS NOT NULL") is not True:
            return None
        value = self.scalar("SELECT value FROM accord_meta WHERE key = ?", [mig.VERSION_KEY])
        try:
            return int(value)
        except (TypeError, ValueError):
            raise StoreError(f"{self.location}: not an Accord store (accord_meta holds no schema version: "
                             f"format {value!r})") from None

    def _refuse_version(self, found: int) -> None:
        ours = mig.SCHEMA_VERSION
        if found > ours:
            raise StoreError(
                f"{self.location}: this store has schema version {found}, written by a newer accord; this "
                f"accord ({__version__}) supports schema version {ours} at most. Upgrade accord to a "
                f"release that supports schema version {found} to open it; nothing was changed")
        if found < mig.OLDEST_UPGRADABLE_POSTGRES:
            raise StoreError(
                f"{self.location}: this PostgreSQL store has schema version {found}; this accord "
                f"({__version__}) upgrades PostgreSQL stores from version "
                f"{mig.OLDEST_UPGRADABLE_POSTGRES} on. Nothing was changed")
        if found < ours and self.read_only:
            raise StoreError(
                f"{self.location}: this store has schema version {found}, older than this accord's "
                f"({ours}), and a read-only open cannot upgrade it: open it once for writing (any accord "
                f"command on it, e.g. `accord audit verify --db {self.location}`), which upgrades it in "
                "place; nothing was changed")

    def schema_version(self) -> int:
        return int(self.scalar("SELECT value FROM accord_meta WHERE key = ?", [mig.VERSION_KEY]))

    def notices(self) -> list[str]:
        return []          # the only notice comes from the upgrade to version 2, before these stores

    # --- the engine --------------------------------------------------------------------------

    # The next transaction begun is a snapshot (see snapshot).
    _snapshot_next = False

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A read-only transaction at REPEATABLE READ: every statement in it sees the data as
        of its first (PostgreSQL's default, READ COMMITTED, gives each statement its own). Inside
        a transaction already open, the block joins it, at that transaction's level."""
        if self._depth:
            with self.transaction() as t:
                yield t
            return
        self._snapshot_next = True
        try:
            with self.transaction() as t:
                yield t
        finally:
            self._snapshot_next = False

    def _begin(self) -> None:
        snapshot, self._snapshot_next = self._snapshot_next, False
        self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if snapshot else "BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error):
            self._conn.execute("ROLLBACK")

    def _in_transaction(self) -> Any:
        return None

    def _execute(self, sql: str, params: Sequence[Any] | None) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(to_psycopg(sql), list(params or []))
            if cur.description is None:
                return [(cur.rowcount,)]
            return [tuple(r) for r in cur.fetchall()]

    def query_columns(self, sql: str,
                      params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._conn.cursor() as cur:
            cur.execute(to_psycopg(sql), list(params or []))
            return [d.name for d in cur.description or []], [tuple(r) for r in cur.fetchall()]

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(to_psycopg(sql), [list(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._execute(sql, params)

    def read_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        found = pg_copy.read(self._conn, to_psycopg(sql), list(params or []))
        return found if found is not None else self._read_rows(sql, params)

    def _read_rows(self, sql: str, params: Sequence[Any] | None) -> pa.Table:
        """A read as an Arrow table built from its rows: for results ``COPY`` does not carry."""
        import pyarrow as pa

        with self._conn.cursor() as cur:
            cur.execute(to_psycopg(sql), list(params or []))
            described = list(cur.description or [])
            rows = cur.fetchall()
        return pa.table({d.name: _arrow_column([r[i] for r in rows], d.type_code)
                         for i, d in enumerate(described)})

    def bulk_load(self, table: str, data: pa.Table, columns: Sequence[str] | None = None) -> int:
        names = list(columns) if columns is not None else list(data.column_names)
        with self._declared(False):
            if not pg_copy.load(self._conn, table, data, names):
                self._load_rows(table, data, names)
        return int(data.num_rows)

    def _load_rows(self, table: str, data: pa.Table, names: list[str]) -> None:
        """Rows through ``COPY`` one by one: for tables with a column CSV does not carry."""
        values = [data.column(name).to_pylist() for name in names]
        with self._conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)

    def lock(self, name: str) -> None:
        super().lock(name)
        self._execute("SELECT pg_advisory_xact_lock(hashtext(?))", [f"accord:{name}"])

    def data_version(self) -> int:
        if self._pins and self._pinned is not None:
            return self._pinned
        version = int(self.scalar(f"SELECT version FROM {DATA_VERSION_TABLE} WHERE one = 1") or 0)
        self.shared.seen(version)
        if self._pins:
            self._pinned = version
        return version

    def cursor(self) -> PostgresStore:
        other = object.__new__(PostgresStore)
        other.url, other.location, other.path = self.url, self.location, self.path
        other.read_only, other.memo, other.created = self.read_only, None, False
        other._depth, other._changed = 0, False
        other._conn = other._connect()
        other._key, other.shared = None, self.shared
        return other

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            if self._key is not None:
                key, self._key = self._key, None
                detach_shared(key)

    def __enter__(self) -> PostgresStore:
        return self


# Arrow types of the PostgreSQL types a column without a value (all NULL, or no rows) is
# given, so that it keeps its type where rows are computed on (Arrow cannot tell it from the
# values); a column with values keeps the type Arrow reads from them.
_ARROW_TYPES = {"text": "string", "varchar": "string", "bpchar": "string", "json": "string",
                "jsonb": "string", "int2": "int16", "int4": "int32", "int8": "int64",
                "float4": "float32", "float8": "float64", "bool": "bool", "date": "date32"}


def _arrow_column(values: list[Any], oid: int) -> Any:
    import pyarrow as pa
    from psycopg.postgres import types

    column = pa.array(values)
    if not (pa.types.is_null(column.type)
            or (pa.types.is_list(column.type) and pa.types.is_null(column.type.value_type))):
        return column
    info = types.get(oid)
    if info is None:
        return column
    name = _ARROW_TYPES.get(info.name)
    if name is None:
        return column
    typed = pa.type_for_alias(name)
    if oid == info.array_oid:                    # an array of the type
        typed = pa.list_(typed)
    return pa.array(values, type=typed)


def _json_as_text(data: bytes | str) -> str:
    return data.decode() if isinstance(data, bytes) else data


# The relations a database's current schema holds, by kind (``pg_class.relkind``).
_RELATIONS = ("SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
              "ORDER BY c.relname")


def relations(url: str) -> list[str]:
    """The tables, views and sequences in the current schema of the database at ``url``, without
    opening a store there (so nothing is created): whether a copy may go into it."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return [str(name) for name, _ in conn.execute(_RELATIONS).fetchall()]
    except psycopg.Error as e:
        raise StoreError(f"{redacted(url)}: cannot connect to the PostgreSQL store: "
                         f"{' '.join(str(e).split())}") from None


def drop_relations(url: str) -> None:
    """Drop every table, view and sequence of the current schema of the database at ``url``, in
    one transaction: undoes the schema a store copy made in a database that held nothing
    (``accord.store.transfer.copy_into_new``)."""
    import psycopg

    with psycopg.connect(url) as conn, conn.transaction():
        kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
        for name, kind in conn.execute(_RELATIONS).fetchall():
            what = kinds.get(str(kind), "TABLE")
            conn.execute(f"DROP {what} IF EXISTS {ident(str(name))} CASCADE")   # DDL: no parameters
