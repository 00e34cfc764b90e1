"""Per-view partitions of records into persons: for each view (one distinct set of withheld
regimes, ``accord.governance.visibility.views``), the persons that resolving the store without
the view's withheld records would give, kept as differences from the full run.

Owned tables (DDL in ``schema.py``), rewritten by every resolution run in the transaction
that writes ``entity_members`` and ``links``:

- ``view_members(view, source, record_id, entity_id)``: a record the view does not withhold
  whose person id in the view differs from its ``entity_members`` id;
- ``view_links(view, source_l, record_id_l, source_r, record_id_r, status)``: a link between
  two records the view does not withhold whose status in the view differs (a link a guard
  rejected in the full run that the view's clustering accepts is ``linked``, and the reverse).

How a view's partition is made: its edges are the full run's clustering edges (links at or
above ``link_probability`` and corroborated: status ``linked`` or ``rejected_by_guard``)
between two records it does not withhold, clustered with the same guards by the same
``cluster`` function. Every statistic behind those edges is counted over the statistics base,
which no view withholds (``accord.resolve.base``), so they are the edges, weights and guard
values a store without the withheld records would have, and the clustering is that store's.
Only the full run's connected components (before guards) that hold a withheld record can
differ; only those are looked at again, and only those a guard split are clustered again.

Person ids in a view: each view cluster takes the full run's id it shares the most records
with (largest overlaps first, each id once, ties by id and then by the cluster's first
record); otherwise the id its records had in this view in the previous run (the same way,
among ids that are no person of the full run now); otherwise a new id.

Readers: :func:`members_sql`, :func:`links_sql` and :func:`view_memberships`. A withheld
record keeps its full-run id there; readers leave it out by scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.resolve.cluster import ClusterResult, Edges, cluster, component_at_risk, component_roots
from accord.resolve.schema import DDL
from accord.sql.backend import DuckDBBackend
from accord.sql_text import lit
from accord.store import Store
from accord.store.dialect import key_params

MEMBERS = "view_members"
LINKS = "view_links"
LINKED, REJECTED = "linked", "rejected_by_guard"


# --- readers -------------------------------------------------------------------------------

def members_sql(view: str) -> str:
    """(source, record_id, entity_id) of every record of ``entity_members`` with its person id
    in ``view`` (``""``: the full run's, ``entity_members`` as it is)."""
    if not view:
        return "SELECT source, record_id, entity_id FROM entity_members"
    return f"""SELECT m.source, m.record_id, coalesce(v.entity_id, m.entity_id) AS entity_id
FROM entity_members m
LEFT JOIN (SELECT source, record_id, entity_id FROM {MEMBERS} WHERE view = {lit(view)}) v
  ON v.source = m.source AND v.record_id = m.record_id"""


def links_sql(view: str) -> str:
    """The columns of ``links`` (run_id, source_l, record_id_l, source_r, record_id_r,
    match_weight, match_probability, status), with the statuses of ``view``."""
    cols = "run_id, source_l, record_id_l, source_r, record_id_r, match_weight, match_probability"
    if not view:
        return f"SELECT {cols}, status FROM links"
    return f"""SELECT l.run_id, l.source_l, l.record_id_l, l.source_r, l.record_id_r, l.match_weight,
       l.match_probability, coalesce(v.status, l.status) AS status
FROM links l
LEFT JOIN (SELECT source_l, record_id_l, source_r, record_id_r, status FROM {LINKS}
           WHERE view = {lit(view)}) v
  ON v.source_l = l.source_l AND v.record_id_l = l.record_id_l
 AND v.source_r = l.source_r AND v.record_id_r = l.record_id_r"""


def view_memberships(store: Store, view: str, persons: list[str]) -> dict[tuple[str, str], str]:
    """Record -> person id in ``view``, for the records whose id there is one of ``persons``
    (withheld records included, with their full-run id): one query, shared by the readers of
    one governed read (``store.memo``: the person's records and the links touching them both
    start from its memberships)."""
    if not persons:
        return {}
    memo = store.memo
    key = ("view_memberships", view, tuple(persons))
    if memo is not None and key in memo:
        return dict(memo[key])
    found = _view_memberships(store, view, persons)
    if memo is not None:
        memo[key] = found
        return dict(found)
    return found


def _view_memberships(store: Store, view: str, persons: list[str]) -> dict[tuple[str, str], str]:
    if not view:
        rows = store.query("SELECT source, record_id, entity_id FROM entity_members "
                           f"WHERE {store.dialect.in_list('entity_id')}", [persons])
    else:
        rows = store.query(f"""
            SELECT source, record_id, entity_id FROM {MEMBERS}
            WHERE view = ? AND {store.dialect.in_list('entity_id')}
            UNION ALL
            SELECT m.source, m.record_id, m.entity_id FROM entity_members m
            WHERE {store.dialect.in_list('m.entity_id')} AND NOT EXISTS (
              SELECT 1 FROM {MEMBERS} v
              WHERE v.view = ? AND v.source = m.source AND v.record_id = m.record_id)""",
                           [view, persons, persons, view])
    return {(s, r): e for s, r, e in rows}


# --- partitions (computed before the run's transaction) -------------------------------------

@dataclass
class ViewPartition:
    """The part of one view's partition that may differ from the full run."""
    view: str
    rids: np.ndarray        # records (not withheld) whose cluster in the view is not exactly
    #                         the records of one full-run entity (the others keep its id)
    labels: np.ndarray      # their cluster in the view (by position in ``rids``)
    flipped_l: np.ndarray   # links between two such records whose status differs in the view
    flipped_r: np.ndarray
    flipped_status: np.ndarray  # the status in the view (linked | rejected_by_guard)


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(a, dtype=np.int64) * np.int64(max(n, 1)) + np.asarray(b, dtype=np.int64)


def _same_as_full(view_labels: np.ndarray, full_labels: np.ndarray) -> np.ndarray:
    """By node: is its view cluster exactly the (not withheld) records of one full-run entity?
    Such a cluster overlaps that entity alone, and no other cluster overlaps it: it takes the
    entity's id whatever the others do, so it needs no id of its own and no row. (Labels are
    non-negative integers; the nodes given are every record of the view that either
    labelling puts with one of them.)"""
    if not len(view_labels):
        return np.zeros(0, dtype=bool)

    def single(by: np.ndarray, values: np.ndarray) -> np.ndarray:
        size = int(by.max()) + 1
        lo = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(size, -1, dtype=np.int64)
        np.minimum.at(lo, by, values)
        np.maximum.at(hi, by, values)
        return np.asarray(lo[by] == hi[by])

    return np.asarray(single(view_labels, full_labels) & single(full_labels, view_labels))


def partitions(records: int, rid_l: np.ndarray, rid_r: np.ndarray, weight: np.ndarray,
               ssn: np.ndarray, anum: np.ndarray, dob_year: np.ndarray, max_dob_year_gap: int,
               full: ClusterResult, withheld: dict[str, np.ndarray],
               edges: Edges | None = None) -> list[ViewPartition]:
    """Each view's clustering where it may differ from ``full`` (the full run's clustering
    of these edges and guard columns), the view's withheld records left out (``withheld``:
    view -> mask by rid).

    Only a component of the edges that holds a withheld record can change. If the full run
    kept it whole (no guard broken), its records without the withheld ones break no guard
    either: the view's persons there are the components of the edges left. If a guard split
    it, its edges left are clustered again by ``cluster`` with the same guards, on those
    records alone (renumbered in rid order, so that equal weights are taken in the same
    order as in a store of those records). ``edges``: what the evidence and look-alike guards
    read (``accord.resolve.cluster.Edges``, by link and by rid, None when they are off). A
    component those guards could split is clustered again whether or not the full run split
    it (an identifier shared through a withheld record can be what let a link through);
    each record's evidence is its own, so the view's guards read the records it sees alone."""
    out: list[ViewPartition] = []
    if len(rid_l) == 0:
        return out
    rid_l, rid_r = np.asarray(rid_l, dtype=np.int64), np.asarray(rid_r, dtype=np.int64)
    root = component_roots(records, rid_l, rid_r)   # each record's component, by its first rid
    linked = np.zeros(records, dtype=bool)
    linked[root[rid_l]] = True                      # components with an edge
    split = np.zeros(records, dtype=bool)           # components a guard split
    full_rejected = np.zeros(0, dtype=np.int64)
    if full.rejected_links:
        rejected = np.array([(a, b) for a, b, _ in full.rejected_links], dtype=np.int64)
        split[root[rejected[:, 0]]] = True
        full_rejected = _pair_keys(rejected[:, 0], rejected[:, 1], records)
    if edges is not None:
        split[component_at_risk(root, rid_l, edges)] = True
    for view, mask in withheld.items():
        touched = np.zeros(records, dtype=bool)
        touched[root[mask]] = True
        touched &= linked
        if not touched.any():
            continue
        sel = touched[root[rid_l]] & ~mask[rid_l] & ~mask[rid_r]
        el, er = rid_l[sel], rid_r[sel]
        nodes = np.flatnonzero(touched[root] & ~mask)
        labels = component_roots(records, el, er)
        # Components a guard split: clustered again, their records renumbered 0..m-1.
        again = nodes[split[root[nodes]]]
        redo = split[root[el]]
        was = now = np.zeros(0, dtype=bool)
        flipped_l = flipped_r = np.zeros(0, dtype=np.int64)
        if again.size:
            index = np.full(records, -1, dtype=np.int64)
            index[again] = np.arange(again.size, dtype=np.int64)
            picked = np.flatnonzero(sel)[redo]
            res = cluster(again.size, index[el[redo]], index[er[redo]], weight[picked],
                          ssn[again], anum[again], dob_year[again], max_dob_year_gap,
                          edges.take(picked, again) if edges is not None else None)
            labels[again] = records + res.labels
            keys = _pair_keys(el[redo], er[redo], records)
            rejected_now = np.array([(again[a], again[b]) for a, b, _ in res.rejected_links],
                                    dtype=np.int64).reshape(-1, 2)
            was = np.isin(keys, full_rejected)
            now = np.isin(keys, _pair_keys(rejected_now[:, 0], rejected_now[:, 1], records))
            flip = was != now
            flipped_l, flipped_r, now = el[redo][flip], er[redo][flip], now[flip]
        rids = nodes[~_same_as_full(labels[nodes], full.labels[nodes])]
        if not rids.size and not flipped_l.size:
            continue
        out.append(ViewPartition(view, rids, labels[rids], flipped_l, flipped_r,
                                 np.where(now, REJECTED, LINKED).astype(object)))
    return out


# --- writes (inside the run's transaction) --------------------------------------------------

NODES = "_view_nodes"
PREVIOUS = "_view_previous"


def remember_previous(db: DuckDBBackend, parts: list[ViewPartition], features: str) -> None:
    """Before ``entity_members`` is replaced: the records of ``parts`` (temp table
    ``_view_nodes``: view, rid, label, source, record_id) and their person ids in their view
    as the previous run left them (``_view_previous``)."""
    import pyarrow as pa

    if not parts:
        return
    nodes = pa.table({
        "view": pa.array([p.view for p in parts for _ in range(len(p.rids))], pa.string()),
        "rid": pa.array(np.concatenate([p.rids for p in parts]), pa.int64()),
        "label": pa.array(np.concatenate([p.labels for p in parts]), pa.int64())})
    with db.registered("_view_nodes_arrow", nodes):
        db.create_table(NODES, f"""SELECT n.view, n.rid, n.label, f.source, f.record_id
                                   FROM _view_nodes_arrow n JOIN {features} f USING (rid)""",
                        temp=True)
    db.create_table(PREVIOUS, f"""
        SELECT n.view, n.label, coalesce(v.entity_id, m.entity_id) AS entity_id, n.rid
        FROM {NODES} n
        LEFT JOIN entity_members m ON m.source = n.source AND m.record_id = n.record_id
        LEFT JOIN {MEMBERS} v ON v.view = n.view AND v.source = n.source
                             AND v.record_id = n.record_id
        WHERE coalesce(v.entity_id, m.entity_id) IS NOT NULL""", temp=True)


def _take(overlaps: list[tuple[Any, ...]], first: dict[tuple[str, int], int],
          kept: dict[tuple[str, int], str], used: dict[str, set[str]]) -> None:
    """Give each (view, label) without an id the id it overlaps most (rows: view, label,
    entity_id, n), largest first, each id once per view; ties by id, then first record."""
    for view, label, eid, _ in sorted(overlaps, key=lambda r: (-r[3], r[2], first[(r[0], r[1])])):
        key = (str(view), int(label))
        taken = used.setdefault(key[0], set())
        if key not in kept and eid not in taken:
            kept[key] = str(eid)
            taken.add(str(eid))


def write(db: DuckDBBackend, parts: list[ViewPartition], features: str,
          views: list[str]) -> dict[str, dict[str, int]]:
    """After ``entity_members`` and ``links`` are written: ids for the view clusters of
    ``parts`` (see the module) and the rows of ``view_members`` and ``view_links``, replacing
    the previous run's. Returns, per view of ``views``: its clusters that are not one full-run
    entity's records, and the rows written."""
    import pyarrow as pa

    db.run(f"DELETE FROM {MEMBERS}")
    db.run(f"DELETE FROM {LINKS}")
    out = {v: {"clusters": 0, "members": 0, "links": 0} for v in views}
    if not parts:
        return out
    first = {(str(v), int(lb)): int(r) for v, lb, r in
             db.rows(f"SELECT view, label, min(rid) FROM {NODES} GROUP BY ALL")}
    kept: dict[tuple[str, int], str] = {}
    used: dict[str, set[str]] = {}
    db.create_table("_view_full", f"""SELECT n.view, n.label, n.source, n.record_id, m.entity_id
                                      FROM {NODES} n JOIN entity_members m
                                      ON m.source = n.source AND m.record_id = n.record_id""",
                    temp=True)
    _take(db.rows("SELECT view, label, entity_id, count(*) FROM _view_full GROUP BY ALL"),
          first, kept, used)
    _take(db.rows(f"""SELECT view, label, entity_id, count(*) FROM {PREVIOUS}
                      WHERE entity_id NOT IN (SELECT entity_id FROM entity_members)
                      GROUP BY ALL"""), first, kept, used)
    labels = sorted(first, key=lambda k: (k[0], first[k]))
    # New ids in the order of the clusters' first records: the same records, the same ids.
    fresh = [k for k in labels if k not in kept]
    if fresh:
        last = int(db.scalar("SELECT max(nextval('entity_id_seq')) FROM range(?)", [len(fresh)]))
        for i, k in enumerate(fresh):
            kept[k] = f"P{last - len(fresh) + 1 + i:09d}"
    ids = pa.table({"view": pa.array([k[0] for k in labels], pa.string()),
                    "label": pa.array([k[1] for k in labels], pa.int64()),
                    "entity_id": pa.array([kept[k] for k in labels], pa.string())})
    with db.registered("_view_ids_arrow", ids):
        db.create_table("_view_ids", "SELECT view, label, entity_id FROM _view_ids_arrow", temp=True)
    db.run(f"""INSERT INTO {MEMBERS} (view, source, record_id, entity_id)
               SELECT n.view, n.source, n.record_id, i.entity_id FROM _view_full n
               JOIN _view_ids i ON i.view = n.view AND i.label = n.label
               WHERE i.entity_id <> n.entity_id""")
    flips = pa.table({
        "view": pa.array([p.view for p in parts for _ in range(len(p.flipped_l))], pa.string()),
        "rid_l": pa.array(np.concatenate([p.flipped_l for p in parts]), pa.int64()),
        "rid_r": pa.array(np.concatenate([p.flipped_r for p in parts]), pa.int64()),
        "status": pa.array(np.concatenate([p.flipped_status for p in parts]).tolist(), pa.string())})
    with db.registered("_view_flips_arrow", flips):
        db.run(f"""INSERT INTO {LINKS} (view, source_l, record_id_l, source_r, record_id_r, status)
                   SELECT x.view, fl.source, fl.record_id, fr.source, fr.record_id, x.status
                   FROM _view_flips_arrow x JOIN {features} fl ON fl.rid = x.rid_l
                   JOIN {features} fr ON fr.rid = x.rid_r""")
    for view, n in db.rows(f"SELECT view, count(*) FROM {MEMBERS} GROUP BY view"):
        out.setdefault(view, {"clusters": 0, "members": 0, "links": 0})["members"] = int(n)
    for view, n in db.rows(f"SELECT view, count(*) FROM {LINKS} GROUP BY view"):
        out.setdefault(view, {"clusters": 0, "members": 0, "links": 0})["links"] = int(n)
    for view, n in db.rows("SELECT view, count(*) FROM _view_ids GROUP BY view"):
        out.setdefault(view, {"clusters": 0, "members": 0, "links": 0})["clusters"] = int(n)
    for t in (NODES, PREVIOUS, "_view_ids", "_view_full"):
        db.run(f"DROP TABLE IF EXISTS {t}")
    return out


# --- a neighbourhood's copy (incremental resolution: accord.resolve.incremental) ---------------

def copy_members(store: Store, db: DuckDBBackend, keys: Sequence[tuple[str, str]]) -> None:
    """Into a private DuckDB: ``view_members`` holding the store's rows of the records ``keys``
    and an empty ``view_links``, for :func:`remember_previous` and :func:`write` there."""
    for ddl in DDL:
        if any(f"TABLE IF NOT EXISTS {t}" in ddl for t in (MEMBERS, LINKS)):
            db.run(ddl)
    rows = store.read_arrow(f"SELECT view, source, record_id, entity_id FROM {MEMBERS} "
                            f"WHERE {store.dialect.in_keys()}", key_params(keys))
    with db.registered("_view_members_arrow", rows):
        db.run(f"INSERT INTO {MEMBERS} (view, source, record_id, entity_id) "
               "SELECT view, source, record_id, entity_id FROM _view_members_arrow")


def publish_copy(store: Store, db: DuckDBBackend, keys: Sequence[tuple[str, str]]) -> None:
    """Replace the store's rows of the records ``keys`` (members; links with either record
    among them) with the private DuckDB's, in the store's transaction."""
    d, params = store.dialect, key_params(keys)
    store.write(f"DELETE FROM {MEMBERS} WHERE {d.in_keys()}", params)
    store.write(f"DELETE FROM {LINKS} WHERE ({d.in_keys('source_l', 'record_id_l')}) OR "
                f"({d.in_keys('source_r', 'record_id_r')})", [*params, *params])
    for table in (MEMBERS, LINKS):
        rows = db.arrow(f"SELECT * FROM {table}")
        if rows.num_rows:
            store.bulk_load(table, rows)
