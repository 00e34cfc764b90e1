"""Stable person ids: a re-run keeps an entity's id where the entity survives.

Writes ``entity_members`` and ``entity_events`` (their owner), on the resolution run's compute
connection inside its declared transaction, or (an incremental update) on a private DuckDB's
copy of a neighbourhood's rows, then into the store (:func:`copy_members`, :func:`publish_copy`);
readers use ``accord.resolve.entities``.

Each new cluster takes the id of the previous entity it shares the most records with (each
old id goes to at most one cluster, largest overlaps first); other clusters get new ids.
Merges (a cluster holding records of several old entities) and splits (an old entity's
records now in several clusters) are recorded as events with what, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from accord.resolve.schema import DDL
from accord.sql.backend import DuckDBBackend
from accord.store import Store
from accord.store import transfer as tr
from accord.store.dialect import key_params

Key = tuple[str, str]
MEMBERS = "entity_members"
EVENTS = "entity_events"
SEQUENCE = "entity_id_seq"
EVENT_COLUMNS = ("run_id", "event_at", "event", "entity_id", "related_ids", "records", "reason")


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


# --- a neighbourhood's copy (incremental resolution: accord.resolve.incremental) ---------------
# An update runs :func:`assign_ids` in a private DuckDB over the memberships of the records it
# clusters again, then writes what changed back to the store.

def copy_members(store: Store, db: DuckDBBackend, keys: Sequence[Key]) -> pa.Table:
    """Into a private DuckDB: ``entity_members`` holding the store's memberships of the records
    ``keys``, an empty ``entity_events``, and ``entity_id_seq`` where the store's stands.
    Returns the memberships copied (source, record_id, entity_id, run_id)."""
    for ddl in DDL:
        if any(f"TABLE IF NOT EXISTS {t}" in ddl for t in (MEMBERS, EVENTS)):
            db.run(ddl)
    db.run(f"CREATE SEQUENCE {SEQUENCE} START {tr.sequence_at(store, SEQUENCE) + 1}")
    before = store.read_arrow(f"SELECT source, record_id, entity_id, run_id FROM {MEMBERS} "
                              f"WHERE {store.dialect.in_keys()}", key_params(keys))
    with db.registered("_members_arrow", before):
        db.run(f"INSERT INTO {MEMBERS} (source, record_id, entity_id, run_id) "
               "SELECT source, record_id, entity_id, run_id FROM _members_arrow")
    return before


def copied_members(db: DuckDBBackend) -> dict[str, set[Key]]:
    """Person id -> its records, in the private DuckDB's ``entity_members``."""
    out: dict[str, set[Key]] = {}
    for s, r, e in db.rows(f"SELECT source, record_id, entity_id FROM {MEMBERS}"):
        out.setdefault(str(e), set()).add((s, r))
    return out


def copied_events(db: DuckDBBackend) -> set[tuple[str, str]]:
    """(event, person id) of the private DuckDB's ``entity_events``."""
    return {(str(ev), str(e)) for ev, e in db.rows(f"SELECT event, entity_id FROM {EVENTS}")}


def add_events(db: DuckDBBackend, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append events to the private DuckDB's ``entity_events``, each row's values in
    ``EVENT_COLUMNS`` order."""
    if not rows:
        return
    table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(EVENT_COLUMNS)})
    names = ", ".join(EVENT_COLUMNS)
    with db.registered("_events_arrow", table):
        db.run(f"INSERT INTO {EVENTS} ({names}) SELECT {names} FROM _events_arrow")


def publish_copy(store: Store, db: DuckDBBackend, run_id: int, before: pa.Table,
                 kept: Sequence[str]) -> None:
    """Write the private DuckDB's memberships and events to the store, in its transaction:
    the memberships of every person but those ``kept`` (whose records did not change: they
    keep their rows, and their version), each with ``run_id``, in place of the store's rows
    of their records and of the records ``before`` (the copy's first state) gave to a person
    not kept; every event; and the store's ``entity_id_seq`` past the ids handed out."""
    kept = sorted(kept)
    keep_sql = "entity_id NOT IN (SELECT unnest(?))" if kept else "TRUE"
    rows = db.arrow(f"SELECT source, record_id, entity_id, {int(run_id)} AS run_id "
                    f"FROM {MEMBERS} WHERE {keep_sql}", [kept] if kept else None)
    gone = [(s, r) for s, r, e in zip(before.column("source").to_pylist(),
                                      before.column("record_id").to_pylist(),
                                      before.column("entity_id").to_pylist(), strict=True)
            if e not in set(kept)]
    replaced = sorted(set(gone) | {(s, r) for s, r in zip(
        rows.column("source").to_pylist(), rows.column("record_id").to_pylist(), strict=True)})
    if replaced:
        store.write(f"DELETE FROM {MEMBERS} WHERE {store.dialect.in_keys()}", key_params(replaced))
    if rows.num_rows:
        store.bulk_load(MEMBERS, rows)
    events = db.arrow(f"SELECT * FROM {EVENTS}")
    if events.num_rows:
        store.bulk_load(EVENTS, events)
    handed = db.scalar(f"SELECT last_value FROM duckdb_sequences() WHERE sequence_name = '{SEQUENCE}'")
    tr.advance_sequence(store, SEQUENCE, int(handed or 0))
