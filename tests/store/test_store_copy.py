"""``accord store copy``: a whole store to a new store on the other engine and back, as a
governed action that is checked before it commits, refused without changing anything, and
undone on failure."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from accord import migrations as mig
from accord import services
from accord.cli import app as cli
from accord.errors import StoreError
from accord.governance import audit
from accord.governance.gate import PolicyDenied
from accord.services import store_admin
from accord.store import open_store
from accord.store.postgres_store import relations
from accord.store.transfer import sequence_at
from worlds import ENGINEER, TODAY, World, governed_store, resolved_world

ROE, ENF = "removal_order_enforcement", "CMA-ENF-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("copy-world"), persons=300, seed=5)


def _rows(db: str | Path, sql: str) -> list[tuple[Any, ...]]:
    with open_store(db, read_only=True) as store:
        return sorted(store.query(sql), key=repr)


def _events(db: str | Path) -> list[dict[str, Any]]:
    with open_store(db, read_only=True) as store:
        return audit.events(store, limit=1000)


def _without_audit_seqs(value: Any) -> Any:
    """An answer without the seq of its own audit event (the copy's chain is one event longer)."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: _without_audit_seqs(v) for k, v in value.items() if "audit" not in k}
    if isinstance(value, list):
        return [_without_audit_seqs(v) for v in value]
    return value


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.postgres
def test_a_resolved_store_goes_to_postgresql_and_back_with_the_same_answers(
        world: World, pg_url: str, tmp_path: Path) -> None:
    before = _digest(world.db)
    to_pg = store_admin.copy(world.db, pg_url, user="admin")
    assert _digest(world.db) == before, "the source is opened read-only"
    assert (to_pg.source_engine, to_pg.target_engine) == ("duckdb", "postgresql")
    counts = {t.table: t.rows for t in to_pg.tables}
    assert counts["records"] > 0 and counts["links"] > 0 and counts["entity_members"] > 0
    assert "secret" not in to_pg.target

    back = tmp_path / "back.duckdb"
    result = CliRunner().invoke(cli, ["store", "copy", "--from", pg_url, "--to", str(back), "--user", "admin",
                                      "--json"])
    assert result.exit_code == 0, result.output
    to_duck = json.loads(result.output)
    assert to_duck["target_engine"] == "duckdb" and to_duck["source_head"] == to_pg.target_head

    for sql in ("SELECT entity_id, source, record_id FROM entity_members",
                "SELECT source_l, record_id_l, source_r, record_id_r, match_weight FROM links",
                "SELECT view, entity_id, source, record_id FROM view_members",
                "SELECT source, record_id, version, given_name, family_name, dob FROM records"):
        assert _rows(back, sql) == _rows(world.db, sql), sql

    # Each copy's chain verifies, holds the one before it unchanged, and ends with its own event.
    source_events = _events(world.db)
    for copy, copied_from, n in ((pg_url, str(world.db.resolve()), 1), (back, pg_url, 2)):
        with open_store(copy, read_only=True) as store:
            assert audit.verify(store, {"seq": len(source_events),
                                        "hash": _head_hash(world.db)}).ok
        events = _events(copy)
        assert len(events) == len(source_events) + n
        last = events[0]
        assert (last["user_id"], last["action"], last["decision"], last["outcome"]) == (
            "admin", "store.copy", "allow", "ok")
        assert last["details"]["from"] == copied_from.replace("secret", "***")
        assert last["details"]["rows"]["records"] == counts["records"]

    # A governed read answers the same on the copy as on the original.
    pid = _rows(world.db, "SELECT min(entity_id) FROM entity_members")[0][0]
    ask: dict[str, Any] = {"user": "casey", "purpose": ROE, "agreement": ENF, "today": TODAY}
    original = services.person(world.db, pid, **ask)
    assert _without_audit_seqs(services.person(back, pid, **ask)) == _without_audit_seqs(original)
    assert _without_audit_seqs(services.person(pg_url, pid, **ask)) == _without_audit_seqs(original)

    # The sequences continue past the copied ids: the next run on the copy gets the next id.
    last_run = _rows(world.db, "SELECT max(run_id) FROM resolution_runs")[0][0]
    with open_store(back, read_only=True) as store:
        assert sequence_at(store, "entity_id_seq") == to_pg.sequences["entity_id_seq"]
    services.resolve(back, user=ENGINEER)
    assert _rows(back, "SELECT max(run_id) FROM resolution_runs")[0][0] == last_run + 1


def _head_hash(db: Path) -> str:
    with open_store(db, read_only=True) as store:
        return audit.chain_head(store)[1]


def test_a_copy_to_a_file_that_exists_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    a, b = governed_store(tmp_path, "a.duckdb"), governed_store(tmp_path, "b.duckdb")
    digests = (_digest(a), _digest(b))
    with pytest.raises(StoreError, match=r"a file is there already.*nothing was changed"):
        store_admin.copy(a, b, user="admin")
    assert (_digest(a), _digest(b)) == digests


def test_a_user_who_is_not_an_administrator_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    a = governed_store(tmp_path)
    before = _digest(a)
    for user in ("olive", "dana", "nobody"):
        with pytest.raises(PolicyDenied, match=r"refused: store.copy.*recorded nowhere"):
            store_admin.copy(a, tmp_path / "copy.duckdb", user=user)
        assert not (tmp_path / "copy.duckdb").exists()
    assert _digest(a) == before
    result = CliRunner().invoke(cli, ["store", "copy", "--from", str(a), "--to", str(tmp_path / "c.duckdb"),
                                      "--user", "olive"])
    assert result.exit_code == 2 and "store.copy is not among the actions" in result.output


def test_a_failure_mid_copy_leaves_no_store_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = governed_store(tmp_path)

    def broken(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store_admin, "copy_sequences", broken)
    with pytest.raises(StoreError, match=r"failed and was undone.*holds no store: disk full"):
        store_admin.copy(a, tmp_path / "copy.duckdb", user="admin")
    assert not (tmp_path / "copy.duckdb").exists()
    assert not (tmp_path / "copy.duckdb.wal").exists()
    monkeypatch.undo()
    done = store_admin.copy(a, tmp_path / "copy.duckdb", user="admin")   # and it can be tried again
    assert done.copy_event == done.source_head["seq"] + 1


def test_a_copy_that_does_not_match_its_source_is_undone(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    a = governed_store(tmp_path)
    wrong = ["users: 10 rows on the source, 9 on the copy"]
    monkeypatch.setattr(store_admin, "check_copy", lambda *args, **kw: wrong)
    with pytest.raises(StoreError, match="does not match it, so it was undone: users: 10 rows"):
        store_admin.copy(a, tmp_path / "copy.duckdb", user="admin")
    assert not (tmp_path / "copy.duckdb").exists()


def test_a_source_without_this_accords_registry_gets_it_on_the_copy(tmp_path: Path) -> None:
    a = governed_store(tmp_path)
    with open_store(a) as store, store.transaction():
        store.write("DELETE FROM registry_versions")     # as if made by an accord with another registry
    done = store_admin.copy(a, tmp_path / "copy.duckdb", user="admin")
    assert {t.table: t.rows for t in done.tables}["registry_versions"] == 0
    assert _rows(tmp_path / "copy.duckdb", "SELECT count(*) FROM registry_versions") == [(1,)]


def test_a_source_of_an_older_schema_version_is_sent_to_be_upgraded_first(tmp_path: Path) -> None:
    a = governed_store(tmp_path)
    with open_store(a) as store:
        store.put_meta(mig.VERSION_KEY, str(mig.SCHEMA_VERSION - 1))
    with pytest.raises(StoreError, match="open it once for writing"):
        store_admin.copy(a, tmp_path / "copy.duckdb", user="admin")
    assert not (tmp_path / "copy.duckdb").exists()


@pytest.mark.postgres
def test_a_database_that_holds_a_store_or_tables_is_refused(tmp_path: Path, pg_url: str,
                                                             pg_cluster: Any) -> None:
    a = governed_store(tmp_path)
    services.init(pg_url, today=TODAY)
    with pytest.raises(StoreError, match=r"holds an Accord store already.*nothing was changed"):
        store_admin.copy(a, pg_url, user="admin")
    with open_store(pg_url, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM users") == 1
        assert audit.verify(store).events == len(_events(pg_url))
    other = pg_cluster.new_database()
    import psycopg

    with psycopg.connect(other, autocommit=True) as con:
        con.execute("CREATE TABLE payroll (id INTEGER)")
    with pytest.raises(StoreError, match=r"holds tables already \(payroll\)"):
        store_admin.copy(a, other, user="admin")
    assert relations(other) == ["payroll"]


@pytest.mark.postgres
def test_a_failure_mid_copy_to_postgresql_leaves_the_database_empty(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    a = governed_store(tmp_path)
    calls = []
    real = store_admin.copy_tables

    def fails_on_the_bulk(src: Any, dst: Any, tables: Any, copied: Any, **kw: Any) -> None:
        calls.append(list(tables))
        if len(calls) == 2:
            real(src, dst, ["agreements"], copied, **kw)
            raise RuntimeError("connection lost")
        real(src, dst, tables, copied, **kw)

    monkeypatch.setattr(store_admin, "copy_tables", fails_on_the_bulk)
    with pytest.raises(StoreError, match=r"failed and was undone.*connection lost"):
        store_admin.copy(a, pg_url, user="admin")
    assert relations(pg_url) == []
    with pytest.raises(StoreError, match="no Accord store"):
        open_store(pg_url, create=False)
    monkeypatch.undo()
    with pytest.raises(PolicyDenied, match="not among the actions of olive"):
        store_admin.copy(a, pg_url, user="olive")
    assert relations(pg_url) == []
