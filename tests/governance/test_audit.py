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
            store.con.execute(s)


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
        store.con.execute("DELETE FROM audit_events WHERE seq > 13")
        store.con.execute(
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
