"""Casework test helpers: one small resolved world per test session, copied for each test module
(the casework tests change the store), a gate over it that can move in time, a third privacy
officer (annotations need a requester and two other approvers), and governed test reads.

Each casework test module defines its module-scoped fixture as
``casework = pytest.fixture(scope="module")(casework_fixture)``. (A conftest.py here would
shadow the ``conftest`` module other test packages import from.)"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord.governance import users
from accord.governance.gate import Gate, Governed
from accord.governance.policy import Decision, Request
from accord.governance.scope import require_issued, scoped_records_sql
from accord.store import Store
from worlds import TODAY, resolved_world

BEN, ENF, IDV = "CMA-BEN-2026", "CMA-ENF-2026", "CMA-IDV-2026"


@dataclass
class Read:
    """What a test read disclosed (a Touches value)."""

    persons: list[str]
    records: list[tuple[str, str]]

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return self.persons, self.records


@dataclass
class Casework:
    db: Path
    store: Store
    gate: Gate

    def at(self, day: date) -> Gate:
        """The same store, with the gate's clock on ``day``."""
        return Gate(self.store, today=day)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.store.query(sql, params)

    def read(self, user: str, purpose: str, agreement: str | None, person: str) -> Governed[Read]:
        """A governed read of one person's records (ids only) under a purpose."""
        def reader(d: Decision) -> Read:
            assert d.scope is not None
            require_issued(d.scope)
            sql = scoped_records_sql(self.gate.registry, d.scope)
            rows = self.store.query(f"SELECT DISTINCT source, record_id FROM ({sql}) WHERE person_id = ?",
                                    [person])
            records = sorted((str(s), str(r)) for s, r in rows)
            return Read([person] if records else [], records)

        return self.gate.read(user, Request("person.view", purpose, agreement, persons=(person,)), reader,
                              nature=f"test read under {purpose}")

    def persons_with(self, *systems: str, without: tuple[str, ...] = ()) -> list[str]:
        """Persons (entities) with records in every one of ``systems`` and none in ``without``
        (test-only query of the store)."""
        rows = self.rows(
            "SELECT m.entity_id, list(DISTINCT p.system) FROM entity_members m "
            "JOIN record_provenance p USING (source, record_id) GROUP BY ALL ORDER BY m.entity_id")
        return [e for e, s in rows if set(systems) <= set(s) and not set(without) & set(s)]

    def record_of(self, person: str, system: str) -> tuple[str, str]:
        rows = self.rows("SELECT DISTINCT p.source, p.record_id FROM entity_members m "
                         "JOIN record_provenance p USING (source, record_id) "
                         "WHERE m.entity_id = ? AND p.system = ? ORDER BY 1, 2", [person, system])
        assert rows, f"{person} has no {system} record"
        return str(rows[0][0]), str(rows[0][1])

    def last_event(self) -> dict[str, Any]:
        cur = self.store.con.execute("SELECT seq, user_id, action, decision, outcome, persons, records, "
                                     "details FROM audit_events ORDER BY seq DESC LIMIT 1")
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone() or (), strict=True))


_WORLD: list[Path] = []


def world_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's resolved world (built on first use)."""
    if not _WORLD:
        _WORLD.append(resolved_world(tmp_path_factory.mktemp("casework-world"), persons=300, seed=11).db)
    return _WORLD[0]


def casework_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Casework]:
    """A private copy of the session's world with a gate on TODAY."""
    source = world_db(tmp_path_factory)
    folder = tmp_path_factory.mktemp("casework")
    db = folder / source.name
    for f in source.parent.glob(source.name + "*"):
        shutil.copy(f, folder / f.name)
    store = Store(db)
    try:
        with store.transaction():
            users.add_user(store, "paz", "Paz Privacy", ["privacy_officer"], "Privacy Office",
                           created_by="admin")
        yield Casework(db, store, Gate(store, today=TODAY))
    finally:
        store.close()
