"""The store's data generation: a counter that moves whenever data a read depends on may have
changed, so a long-running server can keep what it read until then.

Every connection of a :class:`~accord.store.Store` is wrapped in a :class:`TrackedConnection`,
which looks at each statement before DuckDB runs it. A statement that may change data (any
statement that is not plainly a read, a setting or a transaction boundary) marks the
connection; the generation moves once the statement has run outside a transaction, or when the
transaction that held it ends (commit or rollback). Moving only after the commit matters: a
read that began before the commit saw the old data and is filed under the old generation,
which no later read asks for.

Appends to the audit ledger (the audit events, their head and the accounting of disclosures)
do not move the generation: no read served from a cache depends on them, and every governed
read appends to them. Anything the classifier does not recognise counts as a change, so the
worst a mistake can do is empty a cache too often.

Another process cannot change the store behind this one: DuckDB lets one process at a time
open a store file for writing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from accord.store.duckdb_store import DuckDBStore

# Tables no cached read depends on: appending to them leaves the generation where it is.
LEDGER_TABLES = frozenset({"audit_events", "audit_head", "disclosures"})

_READ_ONLY = frozenset({"SELECT", "SET", "RESET", "PRAGMA", "SHOW", "DESCRIBE", "DESC", "EXPLAIN",
                        "SUMMARIZE", "FROM", "VALUES", "TABLE", "LOAD"})
_BEGIN = frozenset({"BEGIN", "START"})
_END = frozenset({"COMMIT", "ROLLBACK", "ABORT", "END"})
_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|DROP|ALTER|TRUNCATE|CHECKPOINT|ATTACH"
                  r"|DETACH|IMPORT|VACUUM|CALL)\b", re.I)
_TARGET = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?\s", re.I)

READ, WRITE, BEGIN, END = "read", "write", "begin", "end"
_KINDS: dict[str, str] = {}
_KINDS_MAX = 4096


def statement_kind(sql: str) -> str:
    """``read``, ``write``, ``begin`` or ``end`` for one SQL text (several statements in one text
    count as a write unless each is plainly a read)."""
    kind = _KINDS.get(sql)
    if kind is None:
        kind = _classify(sql)
        if len(_KINDS) < _KINDS_MAX:
            _KINDS[sql] = kind
    return kind


def _classify(sql: str) -> str:
    body = sql.strip().rstrip(";").strip()
    if ";" in body:
        return WRITE if any(_classify(part) != READ for part in body.split(";") if part.strip()) else READ
    m = _FIRST_WORD.match(body)
    if m is None:
        return WRITE
    word = m.group(1).upper()
    if word in _BEGIN:
        return BEGIN
    if word in _END:
        return END
    if word in _READ_ONLY:
        return READ
    if word == "WITH":
        return WRITE if _DML.search(body) else READ
    target = _TARGET.match(body)
    if target is not None and target.group(1).lower() in LEDGER_TABLES \
            and not _DML.search(body, target.end()):
        return READ
    return WRITE


class TrackedConnection:
    """TRANSITIONAL: a DuckDB connection that reports to its store the writes that modules not
    yet moved to the store's declared writes run through it (``store.con``).

    A write inside the store's transaction counts as declared in it; a write outside one moves
    the data version at once, or, inside a transaction begun through this connection, when it
    ends. It forwards everything to the connection it wraps; any other method that is not a
    plain fetch counts as a write.
    """

    _PLAIN = frozenset({"fetchall", "fetchone", "fetchmany", "fetchnumpy", "fetchdf", "fetch_df",
                        "fetch_arrow_table", "fetch_record_batch", "arrow", "df", "pl", "description",
                        "rowcount", "close", "interrupt", "table", "view", "values", "from_query",
                        "query_progress", "to_arrow_table"})

    def __init__(self, con: duckdb.DuckDBPyConnection, store: DuckDBStore) -> None:
        self._con = con
        self._store = store
        self._dirty = False
        self._in_transaction = False

    def _wrote(self) -> None:
        if self._store._depth:
            self._store._changed = True
        elif self._in_transaction:
            self._dirty = True
        else:
            self._store._undeclared_write()

    def _run(self, method: str, sql: object, *args: Any, **kwargs: Any) -> Any:
        kind = statement_kind(sql) if isinstance(sql, str) else WRITE
        result = getattr(self._con, method)(sql, *args, **kwargs)
        if kind == BEGIN:
            self._in_transaction = True
        elif kind == END:
            self._in_transaction = False
            if self._dirty:
                self._dirty = False
                self._store._undeclared_write()
        elif kind == WRITE:
            self._wrote()
        return result

    def execute(self, query: object, parameters: object = None) -> Any:
        return self._run("execute", query, parameters)

    def executemany(self, query: object, parameters: object = None) -> Any:
        return self._run("executemany", query, parameters)

    def sql(self, query: object, *args: Any, **kwargs: Any) -> Any:
        return self._run("sql", query, *args, **kwargs)

    def query(self, query: object, *args: Any, **kwargs: Any) -> Any:
        return self._run("query", query, *args, **kwargs)

    def cursor(self) -> TrackedConnection:
        return TrackedConnection(self._con.cursor(), self._store)

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The wrapped connection, for an API that needs DuckDB's own type."""
        self._wrote()
        return self._con

    def __getattr__(self, name: str) -> Any:
        if name not in self._PLAIN:
            self._wrote()                     # register, append, read_csv ...: count as a write
        return getattr(self._con, name)

    def __enter__(self) -> TrackedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._con.close()
