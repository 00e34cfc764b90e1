"""Store targets (a file or a postgresql:// URL), a store that is not there yet, the named lock
that keeps resolutions one at a time, and whole stores moved from one engine to the other."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.errors import StoreError
from accord.governance import audit
from accord.store import describe, open_store, store_key, store_target
from accord.store.transfer import BOOKKEEPING, base_tables, copy_store
from worlds import ENGINEER, TODAY


def test_a_url_stays_a_url_and_anything_else_is_a_path() -> None:
    assert store_target("postgresql://u@h/db") == "postgresql://u@h/db"
    assert store_target(" postgres://h/db ") == "postgres://h/db"
    assert store_target("accord.duckdb") == Path("accord.duckdb")
    assert store_target("postgresql.duckdb") == Path("postgresql.duckdb")
    assert describe("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "secret" not in describe("postgresql://u:secret@h/db")
    assert store_key("x.duckdb") == str(Path("x.duckdb").resolve())


def test_a_missing_embedded_store_is_refused_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "typo.duckdb"
    with pytest.raises(StoreError, match="no such store"):
        open_store(db, create=False)
    assert not db.exists()


@pytest.mark.postgres
def test_a_database_without_a_store_is_refused_and_left_empty(pg_url: str) -> None:
    with pytest.raises(StoreError, match="no Accord store in this database"):
        open_store(pg_url, create=False)
    with pytest.raises(StoreError, match="no Accord store"):
        services.people.search(pg_url, user="casey", purpose="x", agreement="y", name="A B")
    import psycopg

    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT to_regclass('accord_meta')").fetchone() == (None,)


@pytest.mark.postgres
def test_init_refuses_a_database_that_holds_a_store(pg_url: str) -> None:
    services.init(pg_url, today=TODAY)
    with pytest.raises(StoreError, match="a store already exists here"):
        services.init(pg_url, today=TODAY)
    with open_store(pg_url, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM users") == 1


@pytest.mark.postgres
def test_a_named_lock_makes_another_transaction_wait_until_commit(pg_url: str) -> None:
    first, second = open_store(pg_url), open_store(pg_url)
    got: list[str] = []
    asked = threading.Event()

    def other() -> None:
        with second.transaction():
            asked.set()
            second.lock("resolution")
            got.append("second")

    try:
        with first.transaction():
            first.lock("resolution")
            thread = threading.Thread(target=other)
            thread.start()
            assert asked.wait(30)
            thread.join(1.0)          # it cannot have the lock while this transaction holds it
            assert got == []
            got.append("first")
        thread.join(60)
        assert got == ["first", "second"]
    finally:
        first.close()
        second.close()


def test_a_lock_outside_a_transaction_is_a_programming_error(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store, pytest.raises(RuntimeError, match="inside"):
        store.lock("resolution")


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("resolved")
    world = services.synth(400, 9, folder / "world")
    db = folder / "a.duckdb"
    services.init(db, samples=True, today=TODAY)
    for ex in world.extracts:
        services.ingest(db, ex.mapping_path, user=ENGINEER)
    services.resolve(db, user=ENGINEER)
    return db


def _everything(db: str | Path) -> dict[str, Any]:
    with open_store(db, read_only=True) as store:
        return {t: sorted(map(repr, store.read_arrow(f"SELECT * FROM {t}").to_pylist()))
                for t in base_tables(store) if t not in BOOKKEEPING}


@pytest.mark.postgres
def test_a_whole_store_moves_to_postgresql_and_back_unchanged(resolved: Path, pg_url: str,
                                                               tmp_path: Path) -> None:
    with open_store(resolved, read_only=True) as src, open_store(pg_url) as dst:
        copied = copy_store(src, dst)
    assert copied.tables["records"] > 0 and copied.sequences["entity_id_seq"] > 0
    with open_store(pg_url, read_only=True) as store:
        assert audit.verify(store).ok
    back = tmp_path / "back.duckdb"
    with open_store(pg_url, read_only=True) as src, open_store(back) as dst:
        copy_store(src, dst)
    assert _everything(back) == _everything(resolved)
    # The copy goes on where the original stood: the next grant, batch and run get new numbers.
    with open_store(pg_url) as store, store.transaction():
        store.changed()
        assert store.scalar("SELECT nextval('entity_id_seq')") == copied.sequences["entity_id_seq"] + 1


@pytest.mark.postgres
def test_a_copy_onto_a_store_with_data_is_refused_and_changes_nothing(resolved: Path, pg_url: str) -> None:
    services.init(pg_url, today=TODAY)
    before = _everything(pg_url)
    with open_store(resolved, read_only=True) as src, open_store(pg_url) as dst, \
            pytest.raises(StoreError, match="already holds rows"):
        copy_store(src, dst)
    assert _everything(pg_url) == before


def test_files_of_a_postgresql_store_go_to_the_users_data_folder(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    from accord.store.target import beside

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path / "..")
    folder = beside("postgresql://u:pw@db.example:5433/accord?sslmode=require", "-charts")
    assert folder == tmp_path / "accord" / "db.example-5433-accord-charts"
    assert beside("postgresql:///x?host=/var/run/postgresql", "-agreements").name == "local-x-agreements"
    assert beside(tmp_path / "a.duckdb", "-charts") == tmp_path / "a-charts"
