"""A test-only guard on the store's writes: every write must be declared.

Accord's modules write through the store's declared writes (``Store.write``, ``write_many``,
``insert``, ``insert_rows``, ``bulk_load``) or, for bulk work through the engine's own
connection, inside ``Store.transaction()`` with ``Store.changed()``. The data version moves
only for what is declared, so an undeclared write would let a server serve values kept from
before it. Nothing in the product guesses writes from SQL text; this guard does, in tests only:

* it wraps each embedded store's engine connection (``store.con``) and classifies every
  statement run through it (:func:`statement_kind`). A write-class statement that one of
  Accord's modules (:data:`GUARDED`) runs there outside a transaction, or inside one that ends
  without declaring a change, is a violation (the stages' compute connection,
  ``accord.sql.backend.compute_connection``, is used only inside declared transactions);
* a write declared as an append to the audit ledger (``ledger=True``) must touch only the
  ledger's tables (:data:`LEDGER_TABLES`): anything else would change data without moving the
  data version. That holds for every caller.

Violations are collected, and the fixture that installed the guard fails the test with them
(raising inside the product could be caught there). This module is a pytest plugin
(``tests/conftest.py`` loads it): its fixture :func:`store_guard` is on for every test under
:data:`GUARDED_TESTS`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from accord.store.duckdb_store import DuckDBStore

# The modules whose writes must all be declared: every one of Accord's.
GUARDED = ("accord.",)
# The test folders the guard is on for.
GUARDED_TESTS = (Path(__file__).parent,)
# Tests that write undeclared or mis-declared on purpose: the guard's own, and the store
# interface's tests of what a ledger-declared write does.
EXEMPT_TESTS = (Path(__file__).parent / "test_store_guard.py", Path(__file__).parent / "store")
# The tables a write declared as a ledger append may touch.
LEDGER_TABLES = frozenset({"audit_events", "audit_head", "disclosures"})
# Frames of these modules are the machinery, not the writer.
_MACHINERY = ("accord.store", "store_guard", "contextlib")

READ, WRITE, BEGIN, END = "read", "write", "begin", "end"
_READ_ONLY = frozenset({"SELECT", "SET", "RESET", "PRAGMA", "SHOW", "DESCRIBE", "DESC", "EXPLAIN",
                        "SUMMARIZE", "FROM", "VALUES", "TABLE", "LOAD"})
_BEGIN = frozenset({"BEGIN", "START"})
_END = frozenset({"COMMIT", "ROLLBACK", "ABORT", "END"})
_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|DROP|ALTER|TRUNCATE|CHECKPOINT|ATTACH"
                  r"|DETACH|IMPORT|VACUUM|CALL)\b", re.I)
_TARGET = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.I)


def statement_kind(sql: str) -> str:
    """``read``, ``write``, ``begin`` or ``end`` for one SQL text: anything not plainly a read,
    a setting or a transaction boundary (including anything not recognised) is a write; several
    statements in one text are a write unless each is plainly a read."""
    body = sql.strip().rstrip(";").strip()
    if ";" in body:
        return WRITE if any(statement_kind(p) != READ for p in body.split(";") if p.strip()) else READ
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
    return WRITE


def target_table(sql: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE writes; None for anything else."""
    m = _TARGET.match(sql)
    return m.group(1).lower() if m else None


def writer_module() -> str:
    """The module that asked for the statement being run: the first caller outside the store's
    machinery (``?`` when none is found)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if not name.startswith(_MACHINERY):
            return name
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def guarded(module: str) -> bool:
    return module.startswith(GUARDED)


@dataclass
class Guard:
    """Installed on :class:`DuckDBStore` for one test; collects ``violations``."""

    violations: list[str] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        guard = self

        class GuardedConnection:
            """The engine connection, with each statement checked before it runs."""

            def __init__(self, con: Any, store: DuckDBStore) -> None:
                self._con, self._store = con, store

            def _run(self, method: str, sql: object, *args: Any, **kwargs: Any) -> Any:
                if isinstance(sql, str) and statement_kind(sql) == WRITE:
                    guard.undeclared(self._store, sql)
                return getattr(self._con, method)(sql, *args, **kwargs)

            def execute(self, sql: object, *args: Any, **kwargs: Any) -> Any:
                return self._run("execute", sql, *args, **kwargs)

            def executemany(self, sql: object, *args: Any, **kwargs: Any) -> Any:
                return self._run("executemany", sql, *args, **kwargs)

            def sql(self, sql: object, *args: Any, **kwargs: Any) -> Any:
                return self._run("sql", sql, *args, **kwargs)

            def cursor(self) -> GuardedConnection:
                return GuardedConnection(self._con.cursor(), self._store)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._con, name)

        original_transaction = DuckDBStore.transaction
        original_write, original_write_many = DuckDBStore.write, DuckDBStore.write_many
        original_bulk_load, original_changed = DuckDBStore.bulk_load, DuckDBStore.changed

        @contextlib.contextmanager
        def transaction(store: DuckDBStore, *, ledger: bool = False) -> Iterator[Any]:
            outermost = not store._depth
            if outermost:
                vars(store)["_guard_pending"] = []
                vars(store)["_guard_declared"] = False
            with original_transaction(store, ledger=ledger) as con:
                yield con
            pending = vars(store).pop("_guard_pending", []) if outermost else []
            if pending and not vars(store).get("_guard_declared"):
                guard.violations.append(f"{pending[0][0]} wrote through the engine's connection in a "
                                        f"transaction that declared no change: {pending[0][1]}")

        def write(store: DuckDBStore, sql: str, params: Any = None, *, ledger: bool = False) -> Any:
            guard.declared(store, sql, ledger)
            return original_write(store, sql, params, ledger=ledger)

        def write_many(store: DuckDBStore, sql: str, rows: Any, *, ledger: bool = False) -> None:
            guard.declared(store, sql, ledger)
            original_write_many(store, sql, rows, ledger=ledger)

        def bulk_load(store: DuckDBStore, table: str, data: Any, columns: Any = None) -> int:
            guard.declared(store, f"INSERT INTO {table}", False)
            return original_bulk_load(store, table, data, columns)

        def changed(store: DuckDBStore) -> None:
            original_changed(store)
            vars(store)["_guard_declared"] = True

        monkeypatch.setattr(DuckDBStore, "con", property(lambda store: GuardedConnection(store._raw, store)))
        monkeypatch.setattr(DuckDBStore, "transaction", transaction)
        monkeypatch.setattr(DuckDBStore, "write", write)
        monkeypatch.setattr(DuckDBStore, "write_many", write_many)
        monkeypatch.setattr(DuckDBStore, "bulk_load", bulk_load)
        monkeypatch.setattr(DuckDBStore, "changed", changed)

    def undeclared(self, store: DuckDBStore, sql: str) -> None:
        """A write-class statement run through ``store.con``."""
        module = writer_module()
        if not guarded(module):
            return
        said = " ".join(sql.split())[:160]
        if not store._depth:
            self.violations.append(f"{module} wrote through the engine's connection outside a "
                                   f"transaction, undeclared: {said}")
        else:
            vars(store).setdefault("_guard_pending", []).append((module, said))

    def declared(self, store: DuckDBStore, sql: str, ledger: bool) -> None:
        """A declared write: one declared as a ledger append must touch only the ledger."""
        if not ledger:
            if store._depth:
                vars(store)["_guard_declared"] = True
            return
        table = target_table(sql)
        if table not in LEDGER_TABLES:
            self.violations.append(f"{writer_module()} declared a write to {table or 'an unknown table'} "
                                   f"as an audit-ledger append (the data version would not move): "
                                   f"{' '.join(sql.split())[:160]}")

    def check(self) -> None:
        if self.violations:
            pytest.fail("undeclared store writes:\n  " + "\n  ".join(dict.fromkeys(self.violations)),
                        pytrace=False)


@pytest.fixture(autouse=True)
def store_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard | None]:
    """The guard, for a test under :data:`GUARDED_TESTS` (None elsewhere)."""
    path = Path(str(request.node.path))
    if not any(path.is_relative_to(folder) for folder in GUARDED_TESTS) \
            or any(path.is_relative_to(exempt) for exempt in EXEMPT_TESTS):
        yield None
        return
    guard = Guard()
    guard.install(monkeypatch)
    yield guard
    guard.check()
