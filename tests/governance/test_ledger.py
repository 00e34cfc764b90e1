"""Governed reads on a kept-open store: their audit events and accounting are written in
groups (every read still gets its own committed event), a failed group commit fails every
read in it and writes nothing, and a kept result never outlives a change to the store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.errors import AccordError
from accord.services.context import governed, keep_open, release
from accord.services.people_results import LinkOut, PersonResult
from accord.store import Store
from worlds import TODAY, World, resolved_world

ROE = "removal_order_enforcement"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("ledger-world"), persons=400, seed=5)


@pytest.fixture
def kept(world: World, tmp_path: Path) -> Any:
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(world.db, db)
    agreement = next(a.id for a in services.agreements(db, user="olive") if a.purpose == ROE)
    with Store(db) as store:
        ids = [r[0] for r in store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 40")]
    keep_open(db)
    yield db, agreement, ids
    release(db)


def _view(db: Path, pid: str, agreement: str, user: str = "casey") -> PersonResult:
    return services.person(db, pid, user=user, purpose=ROE, agreement=agreement, today=TODAY, origin="api")


def _head(db: Path) -> int:
    with governed(db, today=TODAY) as gate:
        return int(gate.store.scalar("SELECT seq FROM audit_head"))


def test_concurrent_reads_each_get_their_own_committed_event(kept: Any) -> None:
    db, agreement, ids = kept
    before = _head(db)
    seqs: list[int] = []
    found: list[bool] = []
    lock = threading.Lock()

    def reader(k: int) -> None:
        for pid in ids[k::6]:
            for _ in range(2):                         # the second read may be served kept
                r = _view(db, pid, agreement)
                with lock:
                    seqs.append(r.audit_event)
                    found.append(r.found)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seqs) == 2 * len(ids) and len(set(seqs)) == len(seqs)
    assert sorted(seqs) == list(range(before + 1, before + 1 + len(seqs)))   # no gap, no extra
    assert services.audit_verify(db, user="olive").ok
    with governed(db, today=TODAY) as gate:
        accounted = gate.store.query(
            "SELECT audit_seq FROM disclosures WHERE audit_seq > ? ORDER BY 1", [before])
        events = gate.store.query(
            "SELECT count(*) FROM audit_events WHERE seq > ? AND action = 'person.view'", [before])
    assert events[0][0] == len(seqs)
    assert [r[0] for r in accounted] == sorted(s for s, f in zip(seqs, found, strict=True) if f)


def test_a_failed_commit_fails_the_read_and_records_only_the_failure(
        kept: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db, agreement, ids = kept
    pid = ids[0]
    _view(db, pid, agreement)
    before = _head(db)
    real = Store.insert_rows

    def failing(self: Store, table: str, rows: list[list[Any]], *a: Any, **k: Any) -> None:
        real(self, table, rows, *a, **k)
        if table == "disclosures":
            raise OSError("disk full")

    monkeypatch.setattr(Store, "insert_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        _view(db, pid, agreement)
    monkeypatch.setattr(Store, "insert_rows", real)
    with governed(db, today=TODAY) as gate:            # the event was rolled back with the rows;
        after = gate.store.query(                      # the failure is recorded on its own
            "SELECT seq, decision, outcome, records FROM audit_events WHERE seq > ?", [before])
        accounted = gate.store.scalar("SELECT count(*) FROM disclosures WHERE audit_seq > ?", [before])
    assert [(s, d, o.split(" (incident")[0], r) for s, d, o, r in after] == [
        (before + 1, "allow", "failed: OSError", "[]")]
    assert accounted == 0
    again = _view(db, pid, agreement)                  # the ledger reads its head again
    assert again.audit_event == before + 2
    assert services.audit_verify(db, user="olive").ok


def _records(view: PersonResult) -> list[tuple[str, str]]:
    person = view.found_person
    if person is None:
        return []
    return [(r.provenance.source, r.provenance.record_id) for g in person.sources for r in g.records]


def _links(view: PersonResult) -> list[LinkOut]:
    person = view.found_person
    assert person is not None
    return person.links


def test_a_kept_read_follows_every_change(kept: Any) -> None:
    db, agreement, ids = kept
    pid = next(p for p in ids if len(_records(_view(db, p, agreement))) >= 2)
    first, second = _view(db, pid, agreement), _view(db, pid, agreement)
    assert second.person == first.person and second.audit_event == first.audit_event + 1
    (sa, ra), (sb, rb) = _records(first)[:2]
    assert not any(k.match_weight == -7.25 for k in _links(first))

    with governed(db, today=TODAY) as gate:             # data changes: the next read shows it
        gate.store.write("INSERT INTO links VALUES (0, ?, ?, ?, ?, -7.25, 0.006, 'review')",
                         [sa, ra, sb, rb])
    third = _view(db, pid, agreement)
    assert any(k.match_weight == -7.25 for k in _links(third))

    with governed(db, today=TODAY) as gate:             # the user is deactivated: refused at once
        gate.store.write("UPDATE users SET active = false WHERE user_id = 'casey'")
    with pytest.raises(AccordError, match="deactivated"):
        _view(db, pid, agreement)


def test_an_allowed_read_that_fails_is_recorded_and_discloses_nothing(tmp_path: Path) -> None:
    from accord.governance.policy import Request
    from worlds import governed_store

    db = governed_store(tmp_path)
    agreement = next(a.id for a in services.agreements(db, user="olive") if a.purpose == ROE)

    def broken(_: Any) -> Any:
        raise ValueError("the reader broke")

    with governed(db, today=TODAY) as gate:
        before = int(gate.store.scalar("SELECT seq FROM audit_head"))
        with pytest.raises(ValueError, match="reader broke"):
            gate.read("casey", Request("person.view", ROE, agreement, None, ("P000000001",)), broken,
                      nature="person view")
        rows = gate.store.query("SELECT decision, outcome, persons FROM audit_events WHERE seq > ?", [before])
        disclosed = gate.store.scalar("SELECT count(*) FROM disclosures")
    assert [(d, o.split(" (incident")[0], p) for d, o, p in rows] == [
        ("allow", "failed: ValueError", '["P000000001"]')]
    assert disclosed == 0
    assert services.audit_verify(db, user="olive").ok
