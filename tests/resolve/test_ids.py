from __future__ import annotations

from pathlib import Path

from accord.resolve.ids import assign_ids
from accord.sql.backend import computing
from accord.store import Store


def _assign(store: Store, run: int, clusters: dict[str, int]) -> dict[str, str]:
    with computing(store) as db:                  # as a resolution run does: a declared write
        db.run("CREATE OR REPLACE TABLE new_clusters (source VARCHAR, record_id VARCHAR, label BIGINT)")
        db.con.executemany("INSERT INTO new_clusters VALUES ('s', ?, ?)",
                           [[k, v] for k, v in clusters.items()])
        assign_ids(db, run)
    return dict(store.query("SELECT record_id, entity_id FROM entity_members"))


def test_ids_survive_a_rerun_and_merges_and_splits_are_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        first = _assign(store, 1, {"a": 0, "b": 0, "c": 1, "d": 2, "e": 2, "f": 2})
        assert first["a"] == first["b"] != first["c"]
        # Same clusters, different labels: ids are unchanged.
        again = _assign(store, 2, {"a": 7, "b": 7, "c": 8, "d": 9, "e": 9, "f": 9})
        assert again == first
        assert store.scalar("SELECT count(*) FROM entity_events") == 0
        # a,b merge with c; d,e,f split into d,e and f.
        third = _assign(store, 3, {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "f": 2})
        assert third["a"] == first["a"]  # the larger old entity keeps its id
        assert third["d"] == first["d"] and third["f"] != first["d"]
        events = store.query("SELECT event, entity_id, related_ids FROM entity_events "
                             "WHERE run_id = 3 ORDER BY event, entity_id")
        kinds = {(e, eid) for e, eid, _ in events}
        assert ("merge", first["a"]) in kinds
        assert ("split", first["d"]) in kinds
        assert ("retired", first["c"]) in kinds
        merge_related = next(r for e, eid, r in events if e == "merge")
        assert merge_related == [first["c"]]
