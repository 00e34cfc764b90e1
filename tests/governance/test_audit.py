"""The audit chain catches every change, removal, insertion and reordering."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app
from accord.governance import audit
from accord.store import Store
from worlds import governed_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = governed_store(tmp_path)  # init + sample users and agreements: 13 events
    for _ in range(3):
        services.agreements(path, user="olive")
    return path


def _verify(db: Path, anchor: dict[str, object] | None = None) -> audit.Verification:
    with Store(db) as store:
        return audit.verify(store, anchor)


def _sql(db: Path, *statements: str) -> None:
    with Store(db) as store:
        for s in statements:
            store.write(s)


def test_intact_chain_verifies_and_every_event_has_the_au3_content(db: Path) -> None:
    v = _verify(db)
    assert v.ok and v.events == 16 and v.first_bad is None
    with Store(db) as store:
        rows = store.query("SELECT at_utc, user_id, action, decision, outcome, origin FROM audit_events")
    assert all(r[0].endswith("+00:00") and all(r[1:]) for r in rows)


TAMPERS: dict[str, tuple[Callable[[], list[str]], int]] = {
    "changed outcome": (lambda: ["UPDATE audit_events SET outcome = 'ok!' WHERE seq = 7"], 7),
    "changed user": (lambda: ["UPDATE audit_events SET user_id = 'admin' WHERE seq = 15"], 15),
    "removed": (lambda: ["DELETE FROM audit_events WHERE seq = 9"], 9),
    "inserted": (
        lambda: ["INSERT INTO audit_events SELECT * REPLACE (8 AS seq) FROM audit_events WHERE seq = 8"],
        8,
    ),
    "reordered": (
        lambda: ["UPDATE audit_events SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE seq IN (5, 6)"],
        5,
    ),
    "newest removed": (lambda: ["DELETE FROM audit_events WHERE seq = 16"], 16),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_tampering_is_detected_naming_the_first_bad_event(db: Path, tamper: str) -> None:
    statements, first_bad = TAMPERS[tamper]
    _sql(db, *statements())
    v = _verify(db)
    assert not v.ok and v.first_bad == first_bad, v


def test_a_consistent_rewrite_of_the_tail_is_caught_by_an_exported_head(db: Path) -> None:
    with Store(db) as store:
        anchor = audit.head(store)
        # Someone with write access removes the last 3 events and re-chains the head row.
        store.write("DELETE FROM audit_events WHERE seq > 13")
        store.write(
            "UPDATE audit_head SET seq = 13, hash = (SELECT hash FROM audit_events WHERE seq = 13)"
        )
    assert _verify(db).ok  # internally consistent again ...
    v = _verify(db, anchor)  # ... but the exported head is gone
    assert not v.ok and v.first_bad == 16


def test_cli_verify_exits_0_then_1_naming_the_event(db: Path, tmp_path: Path) -> None:
    runner = CliRunner(env={"ACCORD_USER": "olive"})
    ok = runner.invoke(app, ["audit", "verify", "--db", str(db)])
    assert ok.exit_code == 0 and "intact" in ok.output
    head = runner.invoke(app, ["audit", "head", "--db", str(db)])
    (tmp_path / "head.json").write_text(head.stdout)
    assert json.loads(head.stdout)["seq"] >= 17
    _sql(db, "UPDATE audit_events SET details = '{}' WHERE seq = 3")
    bad = runner.invoke(
        app, ["audit", "verify", "--db", str(db), "--head", str(tmp_path / "head.json"), "--json"]
    )
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["first_bad_event"] == 3
    # verifying is itself an audited action, and a refusal to verify is too
    denied = runner.invoke(app, ["audit", "verify", "--db", str(db)], env={"ACCORD_USER": "ana"})
    assert denied.exit_code == 2 and "refused" in denied.output
    with Store(db) as store:
        actions = store.query(
            "SELECT user_id, action, decision FROM audit_events WHERE action = 'audit.verify' ORDER BY seq"
        )
    assert actions[-1] == ("ana", "audit.verify", "deny")
    assert ("olive", "audit.verify", "allow") in actions


# --- every hashed column, and a re-chained rewrite -------------------------------------------


def _event_columns(db: Path) -> list[tuple[str, bool]]:
    """The audit_events table's columns (name, nullable), in table order."""
    with Store(db) as store:
        return [(str(n), bool(nullable)) for n, nullable in store.query(
            "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = 'audit_events' "
            "ORDER BY column_index")]


CHAIN_LINKS = ("prev_hash", "hash")   # the chain itself; the hash covers every other column


def test_the_hash_covers_every_column_of_an_event(db: Path) -> None:
    # A column added to the table but left out of the hash could be changed unnoticed.
    assert sorted(audit.COLUMNS) == sorted(n for n, _ in _event_columns(db) if n not in CHAIN_LINKS)
    assert len(set(audit.COLUMNS)) == len(audit.COLUMNS)


@pytest.fixture
def full_event(db: Path) -> tuple[Path, int]:
    """``db`` with an event that has a value in every column, followed by two more events."""
    with Store(db) as store, store.transaction():
        seq = audit.append(store, audit.Event(
            user_id="casey", action="person.view", decision="allow",
            outcome="disclosed 2 records of 1 persons", origin="api", purpose="removal_order_enforcement",
            agreement="CMA-ENF-2026",
            justification="case 12", persons=["P000000001"], records=[("court", "C1"), ("ice", "E7")],
            reasons=["removal_order_enforcement (8 U.S.C. 1231)"], details={"nature": "person view"}))
        audit.append(store, audit.Event(user_id="olive", action="audit.read"))
        audit.append(store, audit.Event(user_id="olive", action="audit.read"))
    assert _verify(db).ok
    return db, seq


def _tampers(db: Path) -> list[tuple[str, str]]:
    """(column, SET expression): every column changed, and every nullable one erased."""
    out = []
    for name, nullable in _event_columns(db):
        if name == "seq":
            out.append((name, "seq + 1000"))
            continue
        out.append((name, f"coalesce({name}, '') || '~'"))
        if nullable:
            out.append((name, "NULL"))
    return out


def test_a_change_to_any_column_of_an_event_is_detected_naming_it(full_event: tuple[Path, int]) -> None:
    db, seq = full_event
    names = [n for n, _ in _event_columns(db)]
    with Store(db) as store:
        original = list(store.query(f"SELECT {', '.join(names)} FROM audit_events WHERE seq = ?", [seq])[0])
    assert all(v is not None for v in original), "the event should have a value in every column"
    tampers = _tampers(db)
    assert {c for c, _ in tampers} == set(names) >= set(audit.COLUMNS)
    missed = []
    for column, value in tampers:
        _sql(db, f"UPDATE audit_events SET {column} = {value} WHERE seq = {seq}")
        v = _verify(db)
        if v.ok or v.first_bad != seq:
            missed.append((column, value, v))
        with Store(db) as store, store.transaction():   # put the event back as it was
            store.write("DELETE FROM audit_events WHERE seq = ? OR seq = ?", [seq, seq + 1000])
            store.write(f"INSERT INTO audit_events ({', '.join(names)}) VALUES "
                        f"({', '.join('?' * len(names))})", original)
        assert _verify(db).ok
    assert missed == []


def _rechain_after_rewriting(store: Store, seq: int, outcome: str) -> None:
    """What someone with write access to the store and the code would do: rewrite event
    ``seq``, recompute every hash from it on and move the head row to the new last hash."""
    rows = store.read_arrow(f"SELECT {', '.join(audit.COLUMNS)}, prev_hash, hash FROM audit_events "
                            "WHERE seq >= ? ORDER BY seq", [seq]).to_pylist()
    rows[0]["outcome"] = outcome
    prev = rows[0]["prev_hash"]
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = audit._digest(prev, row)
        store.write("UPDATE audit_events SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                    [row["outcome"], row["prev_hash"], row["hash"], row["seq"]])
    store.write("UPDATE audit_head SET seq = ?, hash = ?", [rows[-1]["seq"], prev])


@pytest.mark.parametrize("later_events", [0, 2])
def test_a_rewrite_rechained_to_the_head_is_caught_by_an_exported_head(
        db: Path, tmp_path: Path, later_events: int) -> None:
    runner = CliRunner(env={"ACCORD_USER": "olive"})
    exported = runner.invoke(app, ["audit", "head", "--db", str(db)])
    assert exported.exit_code == 0
    head_file = tmp_path / "head.json"
    head_file.write_text(exported.stdout)
    anchor = json.loads(exported.stdout)
    for _ in range(later_events):          # the log goes on after the head was exported
        services.agreements(db, user="olive")
    with Store(db) as store:
        _rechain_after_rewriting(store, 3, "ok, nothing to see")
        assert store.scalar("SELECT outcome FROM audit_events WHERE seq = 3") == "ok, nothing to see"
    assert _verify(db).ok                  # internally consistent again ...
    v = _verify(db, anchor)                # ... but not with the head exported before
    assert not v.ok and v.first_bad == anchor["seq"], v
    bad = runner.invoke(app, ["audit", "verify", "--db", str(db), "--head", str(head_file), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["first_bad_event"] == anchor["seq"]
