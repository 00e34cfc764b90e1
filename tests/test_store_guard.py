"""The test-only guard on undeclared writes (tests/store_guard.py): how it reads SQL, and that
it catches a guarded module's undeclared write and a mis-declared ledger append while letting
declared writes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.store import Store, open_store
from store_guard import (
    BEGIN,
    END,
    EXEMPT_TESTS,
    GUARDED_TESTS,
    READ,
    WRITE,
    Guard,
    statement_kind,
    target_table,
)


@pytest.mark.parametrize(("sql", "kind"), [
    ("SELECT 1", READ),
    ("  -- a comment\n select * from users", READ),
    ("/* why */ SELECT 1", READ),
    ("WITH a AS (SELECT 1) SELECT * FROM a", READ),
    ("WITH a AS (SELECT 1) INSERT INTO users SELECT * FROM a", WRITE),
    ("FROM users", READ),
    ("SET threads = 1", READ),
    ("BEGIN TRANSACTION", BEGIN),
    ("COMMIT", END),
    ("ROLLBACK", END),
    ("INSERT INTO users VALUES (1)", WRITE),
    ("insert or replace into agreements values (1)", WRITE),
    ("UPDATE records SET given_name = 'X'", WRITE),
    ("DELETE FROM entity_members", WRITE),
    ("CREATE TABLE t (a INT)", WRITE),
    ("DROP TABLE links", WRITE),
    ("COPY users FROM 'x.csv'", WRITE),
    ("CHECKPOINT", WRITE),
    ("INSERT INTO audit_events (seq, hash) VALUES (?, ?)", WRITE),
    ("INSERT INTO disclosures SELECT * FROM x; DELETE FROM users", WRITE),
    ("SELECT 1; SELECT 2", READ),
    ("", WRITE),
])
def test_statements_are_classified(sql: str, kind: str) -> None:
    assert statement_kind(sql) == kind


def test_the_target_of_a_write() -> None:
    assert target_table("INSERT INTO audit_head (one) VALUES (1)") == "audit_head"
    assert target_table('UPDATE "users" SET x = 1') == "users"
    assert target_table("DELETE FROM links") == "links"
    assert target_table("SELECT 1") is None


def _as_module(name: str, source: str) -> Any:
    """A function defined in a module named ``name`` (what the guard looks at)."""
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace["run"]


@pytest.fixture
def guarded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    guard = Guard()
    guard.install(monkeypatch)
    with open_store(tmp_path / "s.duckdb") as store:
        store.write("CREATE TABLE t (k INTEGER)")
        yield guard, store


def test_a_guarded_module_writing_through_the_connection_is_caught(guarded_store: Any) -> None:
    guard, store = guarded_store
    run = _as_module("accord.governance.users", "def run(store):\n"
                     "    store.con.execute('INSERT INTO t VALUES (1)')\n")
    run(store)
    assert len(guard.violations) == 1 and "outside a transaction" in guard.violations[0]
    with pytest.raises(pytest.fail.Exception, match="undeclared store writes"):
        guard.check()


def test_a_transaction_that_writes_through_the_connection_must_declare_it(guarded_store: Any) -> None:
    guard, store = guarded_store
    undeclared = _as_module("accord.governance.users", "def run(store):\n"
                            "    with store.transaction():\n"
                            "        store.con.execute('INSERT INTO t VALUES (1)')\n")
    declared = _as_module("accord.governance.users", "def run(store):\n"
                          "    with store.transaction():\n"
                          "        store.con.execute('INSERT INTO t VALUES (2)')\n"
                          "        store.changed()\n")
    declared(store)
    assert guard.violations == []
    undeclared(store)
    assert len(guard.violations) == 1 and "declared no change" in guard.violations[0]


def test_declared_writes_and_other_modules_pass(guarded_store: Any) -> None:
    guard, store = guarded_store
    run = _as_module("accord.governance.users", "def run(store):\n"
                     "    store.write('INSERT INTO t VALUES (1)')\n"
                     "    store.insert_rows('t', ['k'], [[2], [3]])\n")
    run(store)
    store.con.execute("INSERT INTO t VALUES (4)")   # a test's own write
    assert guard.violations == []
    assert store.scalar("SELECT count(*) FROM t") == 4
    stage = _as_module("accord.resolve.pipeline", "def run(store):\n"
                       "    store.con.execute('INSERT INTO t VALUES (5)')\n")
    stage(store)                  # every module of Accord is guarded
    assert len(guard.violations) == 1 and "accord.resolve.pipeline" in guard.violations[0]


def test_a_ledger_append_may_touch_only_the_ledger(guarded_store: Any) -> None:
    guard, store = guarded_store
    store.write("INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, 'x') ON CONFLICT DO NOTHING",
                ledger=True)
    assert guard.violations == []
    store.write("INSERT INTO t VALUES (9)", ledger=True)
    assert len(guard.violations) == 1
    assert "declared a write to t as an audit-ledger append" in guard.violations[0]


def test_the_guard_is_off_here_and_on_for_every_other_test(store_guard: Guard | None) -> None:
    assert store_guard is None                        # the guard's own tests break the rule on purpose
    assert Path(__file__).parent in GUARDED_TESTS and Path(__file__) in EXEMPT_TESTS
    assert isinstance(Store, type)
