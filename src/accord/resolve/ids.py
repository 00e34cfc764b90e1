"""Stable person ids: a re-run keeps an entity's id where the entity survives.

Writes ``entity_members`` and ``entity_events`` (their owner), on the resolution run's compute
connection inside its declared transaction; readers use ``accord.resolve.entities``.

Each new cluster takes the id of the previous entity it shares the most records with (each
old id goes to at most one cluster, largest overlaps first); other clusters get new ids.
Merges (a cluster holding records of several old entities) and splits (an old entity's
records now in several clusters) are recorded as events with what, when and why.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from accord.sql.backend import DuckDBBackend


def assign_ids(db: DuckDBBackend, run_id: int, clusters: str = "new_clusters") -> dict[str, int]:
    """``clusters`` has (source, record_id, label); rewrites entity_members for this run."""
    now = datetime.now(UTC)
    db.create_table("_overlap", f"""
        SELECT c.label, m.entity_id, count(*) AS n
        FROM {clusters} c JOIN entity_members m USING (source, record_id)
        GROUP BY ALL""", temp=True)
    overlaps = db.rows("SELECT label, entity_id, n FROM _overlap ORDER BY n DESC, entity_id, label")
    kept: dict[int, str] = {}
    used: set[str] = set()
    for label, eid, _ in overlaps:
        if label not in kept and eid not in used:
            kept[int(label)] = eid
            used.add(eid)
    kept_arrow = pa.table({"label": pa.array(list(kept), pa.int64()),
                           "entity_id": pa.array(list(kept.values()), pa.string())})
    with db.registered("_kept_arrow", kept_arrow):  # bulk, not row by row
        db.create_table("_kept", "SELECT * FROM _kept_arrow", temp=True)
    # New ids go to the new clusters in the order of their first record (source, record id), so
    # the same records give the same ids however the engine ordered the work.
    db.create_table("_firsts", f"""
        SELECT label, min(source || chr(31) || record_id) AS first_key FROM {clusters}
        WHERE label NOT IN (SELECT label FROM _kept) GROUP BY label""", temp=True)
    fresh = int(db.scalar("SELECT count(*) FROM _firsts"))
    start = int(db.scalar("SELECT max(nextval('entity_id_seq')) FROM range(?)", [fresh])) - fresh \
        if fresh else 0
    db.create_table("_labels", f"""
        SELECT label, entity_id FROM _kept
        UNION ALL
        SELECT label, 'P' || lpad(CAST({start} + row_number() OVER (ORDER BY first_key) AS VARCHAR),
                                  9, '0') AS entity_id
        FROM _firsts""", temp=True)
    # Events, computed against the previous membership before it is replaced.
    merges = db.rows("""
        SELECT lb.entity_id, list(DISTINCT o.entity_id ORDER BY o.entity_id), sum(o.n)
        FROM _overlap o JOIN _labels lb USING (label)
        GROUP BY lb.entity_id HAVING count(DISTINCT o.entity_id) > 1""")
    splits = db.rows("""
        SELECT o.entity_id, list(DISTINCT lb.entity_id ORDER BY lb.entity_id), sum(o.n)
        FROM _overlap o JOIN _labels lb USING (label)
        GROUP BY o.entity_id HAVING count(DISTINCT lb.entity_id) > 1""")
    retired = db.rows("""
        SELECT DISTINCT m.entity_id FROM entity_members m
        WHERE m.entity_id NOT IN (SELECT entity_id FROM _labels)""")
    events = [(run_id, now, "merge", e, sorted(set(r) - {e}), int(n),
               "linked records of these entities now form one entity") for e, r, n in merges]
    events += [(run_id, now, "split", e, sorted(set(r) - {e}), int(n),
                "records of this entity now form several entities") for e, r, n in splits]
    events += [(run_id, now, "retired", e, [], 0,
                "no cluster kept this id (merged or split away)") for (e,) in retired]
    db.run_many("INSERT INTO entity_events (run_id, event_at, event, entity_id, related_ids, records, "
                "reason) VALUES (?, ?, ?, ?, ?, ?, ?)", events)
    db.run("DELETE FROM entity_members")
    db.run(f"""INSERT INTO entity_members (source, record_id, entity_id, run_id)
               SELECT c.source, c.record_id, lb.entity_id, {run_id}
               FROM {clusters} c JOIN _labels lb USING (label)""")
    entities = int(db.scalar("SELECT count(*) FROM _labels"))
    for t in ("_overlap", "_kept", "_firsts", "_labels"):
        db.run(f"DROP TABLE IF EXISTS {t}")
    return {"entities": entities, "kept_ids": len(kept), "merges": len(merges),
            "splits": len(splits)}
