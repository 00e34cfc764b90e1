"""The embedded store: one DuckDB file holding every stage's tables.

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
import re
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from accord import __version__
from accord import migrations as mig
from accord.errors import StoreError
from accord.generation import Generation, TrackedConnection

# accord_meta ``format``: the store's schema version (accord.migrations).
STORE_FORMAT = mig.SCHEMA_VERSION
log = logging.getLogger("accord.store")
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
    # Every upgrade step applied to the store (accord.migrations), one row each.
    """CREATE TABLE IF NOT EXISTS accord_migrations (
  version INTEGER PRIMARY KEY,      -- the schema version the step brought the store to
  name VARCHAR NOT NULL,
  from_version INTEGER NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL,
  program VARCHAR NOT NULL,         -- the accord release that applied it
  notices JSON NOT NULL             -- what it told the operator
)""",
]


# The user id of a store upgrade's audit event: no Accord user asks for it; the store does,
# when a newer accord opens it (the event's origin names the program and the OS user).
UPGRADE_USER = "(accord)"

# The read-only oversight and data commands a running server answers (accord.api.routes).
SERVER_ROUTES = (("GET /api/audit/verification", "`accord audit verify`"),
                 ("GET /api/audit/events", "`accord audit events`"),
                 ("GET /api/batches", "`accord batches`"),
                 ("GET /api/quarantine", "`accord quarantine`"),
                 ("GET /api/quality", "the linkage-quality report"))
_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_SECRET_OPTION = re.compile(r"(--token[= ])\S+")


def _one_line(e: BaseException | str) -> str:
    return " ".join(str(e).split())


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return "unknown"


def holder_command(pid: int) -> str | None:
    """The whole command line of process ``pid`` (``/proc/<pid>/cmdline``) on one line, with any
    ``--token`` value hidden; None when it cannot be read (another system, another user's
    process, gone). ``busy_message`` shortens it for display after deciding what it is."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(" ".join(w.decode(errors="replace") for w in raw.split(b"\0")).split())
    if not text:
        return None
    return _SECRET_OPTION.sub(r"\1…", text)


def _shortened(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def busy_message(path: Path, error: str) -> str | None:
    """The answer to opening a store another process holds (DuckDB's "Could not set lock on
    file ... Conflicting lock is held in ... (PID N)"), in one paragraph: which process holds it
    and what to do; None when ``error`` is not that."""
    held = _LOCK_HELD.search(error)
    if held is None and "Could not set lock" not in error:
        return None
    command = None
    if held is None:
        who = "another process"
    else:
        pid = int(held["pid"])
        command = holder_command(pid)
        who = f"process {pid} ({_shortened(command) if command else _one_line(held['program'])})"
    server = bool(command and re.search(r"\baccord\b.*\bserve\b", command))   # on the whole line
    *first, last = [f"{route} ({said})" for route, said in SERVER_ROUTES]
    routes = f"{', '.join(first)} and {last}"
    what = ("That process is `accord serve`: stop it and run the command again, or ask it" if server
            else "Stop that process and run the command again, or, if it is `accord serve`, ask the "
                 "running server")
    return (f"{path}: the store is in use by {who}, and only one process at a time may open an embedded "
            f"store. {what} over HTTP with one of your API tokens (Authorization: Bearer <token>): it "
            f"answers the read-only oversight and data commands at {routes}; docs/api.md has the details")


def _stage_schemas() -> list[list[str]]:
    # Imported here so each stage's module owns its DDL; order follows the data flow.
    from accord.casework import schema as casework_schema
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
            busy = busy_message(self.path, str(e))
            raise StoreError(busy or f"{self.path}: cannot open store: {_one_line(e)}") from None
        except duckdb.Error as e:
            raise StoreError(f"{self.path}: not a readable DuckDB store: {_one_line(e)}") from None
        try:
            if created and self.path.exists():
                os.chmod(self.path, 0o600)
            self._session()
            self._prepare()
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
            if not steps:           # said once per process until done (an upgrade says it itself)
                for notice in self.notices():
                    log.warning("%s: %s", self.path, notice)
            _MIGRATED.add(key)

    def _stored_version(self) -> int | None:
        """The store's schema version; None for a file with no tables yet (a new store)."""
        try:
            rows = self.con.execute("SELECT value FROM accord_meta WHERE key = ?",
                                    [mig.VERSION_KEY]).fetchall()
        except duckdb.CatalogException:
            tables = self.con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
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
                self.con.execute(ddl)
            if found is None:
                self.con.execute("INSERT INTO accord_meta VALUES (?, ?), ('created_by', ?)",
                                 [mig.VERSION_KEY, str(mig.SCHEMA_VERSION), f"accord {__version__}"])
            for stage in _stage_schemas():
                for ddl in stage:
                    self.con.execute(ddl)

    def _upgrade(self, step: mig.Migration) -> None:
        """One upgrade step, its record and its audit event, in one transaction."""
        from accord.governance import audit

        before = step.version - 1
        program = f"accord {__version__}"
        try:
            with self.transaction():
                done = step.apply(self)
                self.con.execute("INSERT INTO accord_migrations (version, name, from_version, applied_at, "
                                 "program, notices) VALUES (?, ?, ?, now(), ?, ?)",
                                 [step.version, step.name, before, program, json.dumps(done.notices)])
                for key, value in {**done.meta, mig.VERSION_KEY: str(step.version)}.items():
                    self.con.execute("INSERT INTO accord_meta VALUES (?, ?) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
                audit.append(self, audit.Event(
                    user_id=UPGRADE_USER, action="store.upgrade", decision="n/a",
                    origin=f"{program} opening the store, OS user {_os_user()}",
                    details={"from_version": before, "to_version": step.version, "step": step.name,
                             "summary": step.summary, "notices": done.notices}))
        except Exception as e:
            raise StoreError(
                f"{self.path}: upgrading the store from schema version {before} to {step.version} "
                f"({step.name}) failed and was rolled back, so the store is still at version {before}: "
                f"{_one_line(e)}. Keep a copy of the store and report this error") from e
        log.warning("%s: upgraded from schema version %d to %d (%s)%s", self.path, before, step.version,
                    step.name, "".join(f"; {n}" for n in done.notices))

    def schema_version(self) -> int:
        """The store's schema version (accord.migrations)."""
        return int(self.scalar("SELECT value FROM accord_meta WHERE key = ?", [mig.VERSION_KEY]))

    def notices(self) -> list[str]:
        """What an operator must still do after an upgrade (resolve again); empty when nothing."""
        return mig.resolve_notices(self)

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
