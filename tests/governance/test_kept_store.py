"""A server keeps its store open: each thread reuses its own connection, reads see writes made
through other threads, and releasing the store closes it."""

from __future__ import annotations

import threading
from pathlib import Path

from accord import services
from accord.services.context import governed, keep_open, release
from accord.store import Store
from worlds import TODAY, governed_store


def test_threads_reuse_their_connection_and_see_each_others_writes(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    keep_open(db)
    try:
        seen: dict[str, list[int]] = {}

        def work(name: str) -> None:
            ids = []
            for _ in range(3):
                with governed(db, today=TODAY) as gate:
                    ids.append(id(gate.store))
                    with gate.act("olive", "audit.read"):
                        pass
            seen[name] = ids

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(len(set(ids)) == 1 for ids in seen.values())        # one connection per thread
        assert len({ids[0] for ids in seen.values()}) == 3               # not shared between threads
        assert services.audit_verify(db, user="olive").ok
        with governed(db, today=TODAY) as gate:
            assert gate.store.scalar("SELECT count(*) FROM audit_events WHERE action = 'audit.read'") == 9
    finally:
        release(db)
    with Store(db) as store:   # released: every write is in the file
        assert store.scalar("SELECT count(*) FROM audit_events WHERE action = 'audit.read'") == 9


def test_a_store_not_kept_open_is_opened_per_operation(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    with governed(db, today=TODAY) as a:
        first = a.store
    with governed(db, today=TODAY) as b:
        assert b.store is not first
