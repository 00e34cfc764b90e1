"""The audit chain never forks: every append reads the chain's head inside its own transaction
(under the engine's row lock), so writers in two processes, on two store objects or on two
threads leave one chain that verifies, with every event in it exactly once and no event of a
rolled-back transaction."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest

from accord.governance import audit
from accord.governance.gate import Gate, PolicyDenied
from accord.store import Store, open_store

# One writing process: opens the store (waiting while the other process holds it), appends a
# batch of events in one transaction, closes; every fourth round it abandons its batch.
WRITER = textwrap.dedent("""
    import json, sys, time
    from accord.errors import StoreError
    from accord.governance import audit
    from accord.store import open_store

    db, writer, rounds, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    busy = 0
    for r in range(rounds):
        while True:
            try:
                store = open_store(db)
                break
            except StoreError as e:
                if "in use by process" not in str(e):
                    raise
                busy += 1
                time.sleep(0.002)
        try:
            with store.transaction():
                for i in range(batch):
                    audit.append(store, audit.Event(user_id=writer, action="test.append",
                                                    details={"round": r, "i": i}))
                if r % 4 == 3:
                    raise RuntimeError("abandoned")
        except RuntimeError:
            pass
        finally:
            store.close()
    print(json.dumps({"busy": busy}))
""")


def _appended(store: Store) -> Counter[tuple[str, int, int]]:
    rows = store.query("SELECT user_id, details FROM audit_events WHERE action = 'test.append'")
    return Counter((u, json.loads(d)["round"], json.loads(d)["i"]) for u, d in rows)


@pytest.mark.slow
def test_two_processes_appending_at_once_leave_one_chain(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db):
        pass
    rounds, batch = 16, 5
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, str(rounds), str(batch)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("writer-a", "writer-b")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with open_store(db) as store:
        assert audit.verify(store).ok
        kept = [r for r in range(rounds) if r % 4 != 3]
        assert _appended(store) == Counter({(w, r, i): 1 for w in ("writer-a", "writer-b")
                                            for r in kept for i in range(batch)})
        assert audit.head(store)["seq"] == store.scalar("SELECT count(*) FROM audit_events")


def test_a_second_process_is_refused_while_one_holds_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db):
        probe = subprocess.run([sys.executable, "-c", "import sys\nfrom accord.store import open_store\n"
                                "open_store(sys.argv[1])", str(db)], capture_output=True, text=True)
    assert probe.returncode != 0 and "in use by process" in probe.stderr


def test_two_store_objects_and_two_threads_leave_one_chain(tmp_path: Path) -> None:
    """Two store objects on one file share the process's state; each thread appends through a
    cursor of its own, with no lock of the process around the appends: of two transactions that
    chained onto the same head, the second conflicts and is rolled back (then done again)."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as a, open_store(db) as b:
        assert a.shared is b.shared
        conflicts = Counter[str]()
        errors: list[BaseException] = []

        def append(root: Store, name: str, n: int = 40) -> None:
            try:
                with root.cursor() as store:
                    for i in range(n):
                        while True:
                            try:
                                with store.transaction():
                                    audit.append(store, audit.Event(user_id=name, action="test.append",
                                                                    details={"round": 0, "i": i}))
                                break
                            except store.conflicts:
                                conflicts[name] += 1
            except BaseException as e:          # reported by the test
                errors.append(e)

        threads = [threading.Thread(target=append, args=(s, name)) for s, name in ((a, "t-a"), (b, "t-b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert audit.verify(a).ok
        assert _appended(a) == Counter({(w, 0, i): 1 for w in ("t-a", "t-b") for i in range(40)})


def test_gates_on_two_store_objects_chain_in_turn(tmp_path: Path) -> None:
    """Through the gate, a process's appends take the chain lock first: none conflicts. (The
    users are unknown in this store: each action is refused, and its refusal chained.)"""
    db = tmp_path / "s.duckdb"
    with open_store(db) as a, open_store(db) as b, a.cursor() as ca, b.cursor() as cb:
        gates = [(Gate(ca, origin="test"), "g-a"), (Gate(cb, origin="test"), "g-b")]

        def record(gate: Gate, name: str) -> None:
            for i in range(30):
                with pytest.raises(PolicyDenied), gate.act(name, "test.append", details={"round": 0, "i": i}):
                    pass

        threads = [threading.Thread(target=record, args=g) for g in gates]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert audit.verify(b).ok
        assert _appended(b) == Counter({(w, 0, i): 1 for w in ("g-a", "g-b") for i in range(30)})


def test_an_append_reads_the_head_in_its_transaction_with_the_row_lock(tmp_path: Path) -> None:
    """No head is kept in memory: the head another store object moved is the one chained onto,
    and the head is read with the dialect's row lock inside the appending transaction."""
    db = tmp_path / "s.duckdb"
    seen: list[str] = []
    with open_store(db) as a, open_store(db) as b:
        with a.transaction():
            audit.append(a, audit.Event(user_id="a", action="test.append"))
        with b.transaction():
            audit.append(b, audit.Event(user_id="b", action="test.append"))
        real = type(a).query

        def spy(self: Store, sql: str, params: object = None) -> list[tuple[object, ...]]:
            if "FROM audit_head" in sql:
                seen.append(f"{sql} in transaction={bool(self._depth)}")   # type: ignore[attr-defined]
            return real(self, sql, params)   # type: ignore[arg-type]

        type(a).query = spy   # type: ignore[method-assign]
        try:
            seq = audit.append(a, audit.Event(user_id="a", action="test.append"))
        finally:
            type(a).query = real   # type: ignore[method-assign]
        assert seq == 3 and audit.verify(a).ok
    assert seen == [audit.HEAD_SQL + a.dialect.lock_rows() + " in transaction=True"]
