"""The store interface, on every engine (the embedded DuckDB store and PostgreSQL): declared
writes move the data version (and only they), transactions are all or nothing and join when
nested, bulk Arrow goes in and out by column name, and every store object open on a store sees
the same data version."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot

from accord.store import Store, open_store
from accord.store.dialect import DUCKDB, POSTGRES


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    if request.param == "duckdb":
        return tmp_path / "s.duckdb"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(target: str | Path) -> Iterator[Store]:
    with open_store(target) as s:
        s.write("CREATE TABLE t (k INTEGER PRIMARY KEY, v VARCHAR)")
        yield s


def test_a_declared_write_moves_the_data_version_once_per_transaction(store: Store) -> None:
    before = store.data_version()
    store.write("INSERT INTO t (k, v) VALUES (1, 'a')")
    assert store.data_version() == before + 1
    with store.transaction():
        store.insert("t", {"k": 2, "v": "b"})
        store.insert_rows("t", ("k", "v"), [[3, "c"], [4, "d"]])
        assert store.data_version() == before + 1      # not until the commit
    assert store.data_version() == before + 2
    assert store.query("SELECT count(*) FROM t") == [(4,)]


def test_reads_and_ledger_appends_leave_the_data_version(store: Store) -> None:
    before = store.data_version()
    store.query("SELECT * FROM t")
    store.read_arrow("SELECT * FROM t")
    store.write("INSERT INTO t (k, v) VALUES (9, 'ledger')", ledger=True)
    with store.transaction(ledger=True):
        store.insert("t", {"k": 10, "v": "ledger"}, ledger=True)
    with store.transaction():
        pass                                              # nothing declared
    assert store.data_version() == before


def test_a_failed_transaction_changes_nothing_and_keeps_the_version(store: Store) -> None:
    before = store.data_version()
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("t", {"k": 1, "v": "a"})
        raise RuntimeError("boom")
    assert store.query("SELECT count(*) FROM t") == [(0,)]
    assert store.data_version() == before


def test_a_transaction_inside_another_joins_it(store: Store) -> None:
    before = store.data_version()
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("t", {"k": 1, "v": "a"})
        with store.transaction():
            store.insert("t", {"k": 2, "v": "b"})
        raise RuntimeError("the outer one fails")
    assert store.query("SELECT count(*) FROM t") == [(0,)]      # the inner block went with it
    with store.transaction():
        store.insert("t", {"k": 1, "v": "a"})
        with store.transaction():
            store.insert("t", {"k": 2, "v": "b"})
    assert store.data_version() == before + 1


def test_changed_declares_work_done_through_the_engine(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        store.write("CREATE TABLE t (k INTEGER PRIMARY KEY, v VARCHAR)")
        before = store.data_version()
        with pytest.raises(RuntimeError):
            store.changed()                                   # only inside a transaction
        with store.transaction():
            store.con.execute("INSERT INTO t VALUES (5, 'e')")
            store.changed()
        assert store.data_version() == before + 1


def test_a_write_answers_with_its_row_count_or_its_returned_rows(store: Store) -> None:
    assert store.write("INSERT INTO t (k, v) VALUES (1, 'a'), (2, 'b')") == [(2,)]
    assert store.write("UPDATE t SET v = 'z' WHERE k > ?", [0]) == [(2,)]
    assert store.write("DELETE FROM t WHERE k = ? RETURNING v", [1]) == [("z",)]
    # A literal percent sign and a question mark inside quotes are text, not parameters.
    store.insert("t", {"k": 3, "v": "100% sure?"})
    assert store.query("SELECT k FROM t WHERE v = '100% sure?' AND k = ?", [3]) == [(3,)]
    listed = f"SELECT k FROM t WHERE {store.dialect.in_list('k')} ORDER BY k"
    assert store.query(listed, [[2, 3]]) == [(2,), (3,)]


def test_bulk_load_and_read_arrow_go_by_column_name(store: Store) -> None:
    loaded = store.bulk_load("t", pa.table({"v": ["x", "y"], "k": [7, 8]}))
    assert loaded == 2
    back = store.read_arrow("SELECT k, v FROM t ORDER BY k")
    assert back.to_pylist() == [{"k": 7, "v": "x"}, {"k": 8, "v": "y"}]
    with pytest.raises(ValueError):
        store.insert_rows("t", (), [[1, "a"]])


def test_the_data_version_is_stored_and_shared_by_every_store_on_the_file(target: str | Path) -> None:
    db = target
    with open_store(db) as a:
        a.write("CREATE TABLE t (k INTEGER)")
        with open_store(db) as b:                         # another store object, same file
            kept = b.reuse(("count",), lambda: b.scalar("SELECT count(*) FROM t"))
            assert kept == 0
            a.write("INSERT INTO t VALUES (1)")
            assert b.data_version() == a.data_version()
            assert b.reuse(("count",), lambda: b.scalar("SELECT count(*) FROM t")) == 1
        version = a.data_version()
    with open_store(db) as again:                          # the next opening starts from the file
        assert again.data_version() == version
        assert again.shared.cache.get(("count",), version) is None      # nothing kept across openings


WRITER = """
import sys
from accord.store import open_store
with open_store(sys.argv[1]) as s:
    s.write("INSERT INTO t (k) VALUES (?)", [int(sys.argv[2])])
"""


@pytest.mark.postgres
def test_a_change_another_process_commits_is_seen_on_the_next_read(pg_url: str) -> None:
    """On PostgreSQL several processes use the store at once: a value this process keeps is
    not served once another process has changed the data."""
    with open_store(pg_url) as store:
        store.write("CREATE TABLE t (k INTEGER)")

        def count() -> int:
            return int(store.reuse(("count",), lambda: store.scalar("SELECT count(*) FROM t")))

        assert count() == 0
        subprocess.run([sys.executable, "-c", WRITER, pg_url, "1"], check=True)
        assert count() == 1
        subprocess.run([sys.executable, "-c", WRITER, pg_url, "2"], check=True)
        assert count() == 2


def test_the_dialects_write_sql_each_engine_parses() -> None:
    for dialect, engine in ((DUCKDB, "duckdb"), (POSTGRES, "postgres")):
        sql = (f"SELECT {dialect.first_by('v', 'k')} FROM t WHERE {dialect.in_list('v')} "
               f"GROUP BY k{dialect.lock_rows() if engine == 'duckdb' else ''}")
        assert sqlglot.parse_one(sql.replace("?", "'x'"), read=engine) is not None
        has = f"SELECT 1 FROM t WHERE {dialect.json_array_has('v')}"
        assert sqlglot.parse_one(has.replace("?", "'x'"), read=engine) is not None
        upsert = dialect.upsert("t", ["k", "v"], ["k"])
        assert "ON CONFLICT (k) DO UPDATE SET v = excluded.v" in upsert
    assert POSTGRES.lock_rows() == " FOR UPDATE" and DUCKDB.lock_rows() == ""
    assert "DO NOTHING" in DUCKDB.upsert("t", ["k"], ["k"])


def test_a_bulk_read_follows_a_result_left_partly_read(tmp_path: Path) -> None:
    store = open_store(tmp_path / "partly.duckdb")           # the embedded store's own connection
    store.write("CREATE TABLE t (k INTEGER PRIMARY KEY, v VARCHAR)")
    store.insert_rows("t", ("k", "v"), [[1, "a"], [2, "b"]])
    store.con.execute("SELECT k FROM t ORDER BY k").fetchone()       # the rest never read
    read = store.read_arrow("SELECT v FROM t WHERE k > ? ORDER BY k", [0])
    assert read.column("v").to_pylist() == ["a", "b"]
    store.close()


def test_the_stores_own_settings_are_kept_by_key(store: Store) -> None:
    assert store.meta("k1") is None
    before = store.data_version()
    assert store.put_meta("k1", "first", keep=True) == "first"
    assert store.put_meta("k1", "second", keep=True) == "first"      # the first writer wins
    assert store.put_meta("k1", "third") == "third"                   # or is replaced
    assert store.meta("k1") == "third" and store.data_version() == before + 3
    assert store.meta("format") == str(store.schema_version())
    assert "DO NOTHING" in DUCKDB.upsert("t", ["k", "v"], ["k"], keep=True)


def test_a_json_array_of_strings_is_searched_through_the_dialect(store: Store) -> None:
    store.write("CREATE TABLE j (k INTEGER, persons VARCHAR)")
    store.insert_rows("j", ("k", "persons"), [[1, '["P1","P2"]'], [2, '["P3"]'], [3, "[]"]])
    found = store.query(f"SELECT k FROM j WHERE {store.dialect.json_array_has('persons')} ORDER BY k", ["P2"])
    assert found == [(1,)]


def test_a_read_only_store_may_make_temporary_tables(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db):
        pass
    with open_store(db, read_only=True) as store:
        store.con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")       # explain's working table
        with store.transaction():
            store.con.execute("CREATE OR REPLACE TEMP TABLE scratch AS SELECT 2 AS x")
        assert store.scalar("SELECT x FROM scratch") == 2


def test_a_snapshot_sees_the_store_as_of_one_moment(store: Store) -> None:
    other = store.cursor()
    try:
        with store.snapshot():
            before = store.scalar("SELECT count(*) FROM t")
            with other.transaction():
                other.write("INSERT INTO t (k, v) VALUES (1, 'committed meanwhile')")
            assert store.scalar("SELECT count(*) FROM t") == before      # not in this snapshot
        assert store.scalar("SELECT count(*) FROM t") == before + 1       # the next read sees it
    finally:
        other.close()


@pytest.mark.postgres
def test_the_audit_chain_verifies_while_another_process_appends(pg_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.governance import audit

    with open_store(pg_url) as store, open_store(pg_url) as writer:
        for i in range(3):
            audit.append(writer, audit.Event(user_id="u", action="probe", origin="test", details={"i": i}))
        real = audit.chain_head

        def head_after_an_append(s: Store, *, lock: bool = False) -> tuple[int, str]:
            if s is store:       # verify reads the head: another process appends just before
                audit.append(writer, audit.Event(user_id="u", action="probe", origin="test", details={}))
            return real(s, lock=lock)

        monkeypatch.setattr(audit, "chain_head", head_after_an_append)
        assert audit.verify(store).ok                 # events and head read as of one moment
        monkeypatch.setattr(audit, "chain_head", real)
        assert audit.verify(store).events == 4
