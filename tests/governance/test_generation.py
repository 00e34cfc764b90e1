"""The store's data generation: it moves on every change a cached read could depend on (and
only after the change is committed), never on the audit ledger's appends; a value read before
a change is never served after it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from accord.generation import BEGIN, END, LEDGER_TABLES, READ, WRITE, statement_kind
from accord.services.context import governed, keep_open, release
from accord.store import Store
from worlds import TODAY, governed_store


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
    ("INSERT INTO audit_events (seq, hash) VALUES (?, ?)", READ),
    ("INSERT INTO disclosures VALUES (?, ?)", READ),
    ("UPDATE audit_head SET seq = ?, hash = ? WHERE one = 1", READ),
    ("INSERT INTO disclosures SELECT * FROM x; DELETE FROM users", WRITE),
    ("SELECT 1; SELECT 2", READ),
    ("", WRITE),
])
def test_statements_are_classified(sql: str, kind: str) -> None:
    assert statement_kind(sql) == kind


def test_every_table_but_the_ledger_moves_the_generation(tmp_path: Path) -> None:
    """An insert into any table of the store's schema counts as a change, except the three
    ledger tables (audit events, their head, the accounting of disclosures)."""
    with Store(tmp_path / "s.duckdb") as store:
        tables = [r[0] for r in store.query("SELECT table_name FROM duckdb_tables()")]
        assert set(LEDGER_TABLES) <= set(tables) and len(tables) > 20
        for table in tables:
            before = store.generation.value
            store.con.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE false")
            moved = store.generation.value != before
            assert moved == (table not in LEDGER_TABLES), table


def test_the_generation_moves_when_a_transaction_ends_and_not_for_audit_events(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    keep_open(db)
    try:
        with governed(db, today=TODAY) as gate:
            store = gate.store
            start = store.generation.value
            gate.record(user_id="olive", action="audit.read", decision="allow", outcome="ok")
            store.query("SELECT count(*) FROM users")
            assert store.generation.value == start            # an audit event and a read: no change
            with store.transaction():
                store.con.execute("UPDATE users SET name = 'Dana D.' WHERE user_id = 'dana'")
                during = store.generation.value
            assert during == start                            # not before the commit
            assert store.generation.value == during + 1       # once committed
            with pytest.raises(RuntimeError), store.transaction():
                store.con.execute("UPDATE users SET name = 'x' WHERE user_id = 'dana'")
                after_write = store.generation.value
                raise RuntimeError("abandon")
            assert store.generation.value == after_write      # rolled back: nothing changed
    finally:
        release(db)


def test_a_value_read_before_a_change_is_never_served_after_it(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    keep_open(db)
    try:
        with governed(db, today=TODAY) as gate:
            cache, gen = gate.store.generation.cache, gate.store.generation
            at = gen.value
            cache.put("kept", at, "old")
            assert cache.get("kept") == "old"
            read_at = gen.value                               # a read begins ...

            def other_thread() -> None:                      # ... another connection commits
                with governed(db, today=TODAY) as other:
                    assert other.store is not gate.store
                    other.store.con.execute("UPDATE users SET organisation = 'X' WHERE user_id = 'ana'")

            t = threading.Thread(target=other_thread)
            t.start()
            t.join()
            assert cache.get("kept") is None                  # filed under the old generation
            cache.put("late", read_at, "read before the change")
            assert cache.get("late") is None                  # not kept at all
            assert gate.actor("ana") is not None and gate.actor("ana").organisation == "X"  # type: ignore[union-attr]
    finally:
        release(db)
