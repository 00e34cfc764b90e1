"""Incremental resolution: the records waiting in the queue find their persons without a
batch run, with the batch's rules, guards, model and stable ids.

An update takes queued records (``accord.resolve.queue``: new versions from ingest, corrections,
deferred re-evaluations) and, in one transaction under the store's resolution lock:

1. standardises them (the batch's standardisation, on those records alone: every feature is a
   function of the record) and writes their rows of ``features`` (a new record gets the next
   ``rid``; a new version keeps its record's);
2. re-counts the identifiers they hold: one that has just become shared by ``shared_identifier_people``
   dates of birth is masked from now on, and the other records holding it are queued again
   (``shared_identifier``), not re-resolved inside the call;
3. finds their candidates with the batch's blocking rules against every stored record (a key
   value whose block holds more than ``max_block_size`` base records is skipped, counted over
   the store, as the batch does), compares and scores them with the latest batch run's model
   and term frequencies counted over the store now;
4. takes the **neighbourhood**: the queued records, every record of the persons they link to
   (or belonged to), and — until nothing is added — every record of a person joined to those by
   a link a guard rejected (a guard's answer can change when the records around it change);
5. blocks, compares and scores every pair within the neighbourhood (and each queued record with
   its candidates outside it), and clusters the neighbourhood with the batch's ``cluster`` and
   guards, in the batch's record order; each view's partition likewise (``accord.resolve.views``);
6. keeps person ids as the batch does (largest overlap with the previous persons; new ids in
   the order of their first record) and records what changed: ``created``, ``added``, ``left``,
   ``merge``, ``split``, ``retired``, with the update's run id; a person whose records did not
   change keeps its rows and its version.

Persons outside the neighbourhood are untouched: no link of theirs changes status, and no
record of theirs is in a component the update clusters. docs/resolve.md lists where the
answer can differ from a batch run over the same records, and why.

The computation runs in a private in-process DuckDB over the rows the update reads from the
store (both engines: the same SQL, the same answer), and writes through the store. The rows of
other modules' tables are read, copied and written by their owners' functions: current records
(``accord.ingest.reads``, ``accord.ingest.schema``), ``features`` (``accord.standardise.features``),
memberships and events (``accord.resolve.ids``, ``accord.resolve.entities``), view rows
(``accord.resolve.views``); the writes of ``links`` and of the masked identifiers are at the end
of this module until they move to theirs.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from accord.errors import AccordError
from accord.faults import checkpoint
from accord.governance.registry import Registry
from accord.governance.visibility import views
from accord.ingest.reads import CURRENT_RECORDS, current_records_of
from accord.ingest.schema import current_records_copy
from accord.resolve import ids as person_ids
from accord.resolve import pipeline, working
from accord.resolve import queue as rq
from accord.resolve import views as vw
from accord.resolve.base import feature_columns, withheld_by_view
from accord.resolve.cluster import Edges, cluster
from accord.resolve.comparisons import Comparisons, comparisons_of
from accord.resolve.entities import persons_of_records, record_refs, records_of_persons, rejected_neighbours
from accord.resolve.model import FSModel, match_weight_sql
from accord.resolve.pipeline import (
    _guard_columns,
    _guard_records,
    corroborated_sql,
    dob_exact_sql,
    identifier_agrees_sql,
)
from accord.resolve.settings import BlockingRule, Settings
from accord.resolve.working import (
    COMPARE,
    FEATURES,
    IDENTIFIERS,
    IN_BASE,
    SHARED,
    VIEW,
    blocking_source,
    compare,
    compare_table_sql,
)
from accord.sql.backend import DuckDBBackend
from accord.sql_text import ident
from accord.standardise.features import features_of, numbered_copy, replace_features
from accord.store import Store
from accord.store.dialect import key_params

Key = tuple[str, str]
Step = Callable[[int, int], None]
BATCH = 2_000                   # records per update when draining the queue
MAX_NEIGHBOURHOOD_ROUNDS = 20   # rounds of the rejected-link closure before giving up
UPDATES = "resolution_updates"


class NotResolvedYet(AccordError):
    """The store has no batch run whose model an update could score with."""


@dataclass(frozen=True)
class PersonChange:
    person_id: str
    version: int   # the run id of the update that last changed the person
    change: str    # created | added | left | merge | split | retired


@dataclass
class UpdateSummary:
    run_id: int | None
    base_run: int | None
    records: int = 0            # records taken from the queue
    neighbourhood: int = 0      # records clustered again
    pairs: int = 0
    persons: list[PersonChange] = field(default_factory=list)
    deferred: int = 0           # records queued again for re-evaluation
    waiting: int = 0            # queue rows left after it
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# One update at a time per embedded store in this process (its server's threads): another
# process cannot write an embedded store while this one holds it, and a PostgreSQL store
# takes its advisory lock in the transaction.
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def one_writer(store: Store) -> Iterator[None]:
    """Hold this process's writer lock for the store while the block runs: an ingest and its
    update (``POST /api/records``) from one server's threads then run one after the other
    instead of conflicting (an embedded store admits one writing transaction at a time;
    PostgreSQL also takes its advisory lock in the update). Re-entrant."""
    name = str(getattr(store, "path", id(store)))
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(name, threading.RLock())
    with lock:
        yield


def update(store: Store, *, user: str = "system", keys: Sequence[Key] | None = None,
           limit: int | None = BATCH, registry: Registry | None = None) -> UpdateSummary:
    """Resolve queued records (those of ``keys`` only, when given; at most ``limit``) in one
    transaction. Returns what changed; ``run_id`` None when the queue had nothing to do."""
    from accord.governance.registry import registry as package_registry

    registry = registry or package_registry()
    started, began = time.perf_counter(), datetime.now(UTC)
    with one_writer(store), store.transaction():
        store.changed()
        store.lock("resolution")
        base_run, settings, comps, model = base_model(store)
        taken = rq.take(store, limit, keys)
        if not taken:
            return UpdateSummary(None, base_run, waiting=_waiting(store))
        run_id = int(store.scalar("SELECT nextval('resolution_run_seq')"))
        con = duckdb.connect(":memory:")
        try:
            summary = _Update(store, DuckDBBackend(con), settings, comps, model, registry,
                              run_id, base_run).run(sorted({(q.source, q.record_id) for q in taken}))
        finally:
            con.close()
        rq.done(store, taken)
        summary.waiting = _waiting(store)
        summary.seconds = time.perf_counter() - started
        checkpoint("resolve.update.before_commit")
        store.insert(UPDATES, {
            "run_id": run_id, "base_run": base_run, "user_id": user,
            "started_at": began, "finished_at": datetime.now(UTC), "records": summary.records,
            "neighbourhood": summary.neighbourhood, "pairs": summary.pairs,
            "persons_changed": len(summary.persons), "deferred": summary.deferred})
    checkpoint("resolve.update.after_commit")
    return summary


def drain(store: Store, *, user: str = "system", batch: int = BATCH, step: Step | None = None,
          registry: Registry | None = None) -> list[UpdateSummary]:
    """Run updates until the queue is empty (``accord resolve --redo``): each ``batch``
    records in its own transaction, so a crash loses at most the update under way, whose
    records stay queued. ``step(done, total)`` reports progress."""
    out: list[UpdateSummary] = []
    total = _waiting(store)
    done = 0
    while True:
        summary = update(store, user=user, limit=batch, registry=registry)
        if summary.run_id is None:
            break
        out.append(summary)
        done += summary.records
        if step:
            step(done, max(total, done + summary.waiting))
        if not summary.waiting:
            break
    return out


def _waiting(store: Store) -> int:
    return sum(rq.waiting(store).values())


def base_model(store: Store) -> tuple[int, Settings, Comparisons, FSModel]:
    """The latest batch run's id, settings, comparisons and model: what an update scores with."""
    rows = store.query("SELECT run_id, model, settings FROM resolution_runs "
                       "ORDER BY run_id DESC LIMIT 1")
    if not rows:
        raise NotResolvedYet("the store has no resolution run yet: run `accord resolve` once; "
                             "records then resolve as they arrive")
    settings = Settings.model_validate_json(rows[0][2])
    comps = comparisons_of(settings)
    return int(rows[0][0]), settings, comps, FSModel.from_json(json.loads(rows[0][1]), comps)


class _Update:
    """One update's working state: the local DuckDB (``db``) holds the rows it read."""

    def __init__(self, store: Store, db: DuckDBBackend, settings: Settings, comps: Comparisons,
                 model: FSModel, registry: Registry, run_id: int, base_run: int) -> None:
        self.store, self.db, self.settings, self.comps = store, db, settings, comps
        self.model, self.registry, self.run_id, self.base_run = model, registry, run_id, base_run
        self.rules: list[BlockingRule] = list(settings.blocking.rules)
        self.deferred: set[Key] = set()
        kind = store.scalar("SELECT table_type FROM information_schema.tables WHERE "
                            "table_name = ? AND table_schema = current_schema()", [VIEW])
        # A store that keeps the masked features as a table (PostgreSQL) has its rows to keep.
        self.masked_table = kind == "BASE TABLE"

    # --- 1. standardise and store the queued records' features -----------------------------

    def run(self, queued: list[Key]) -> UpdateSummary:
        store, db = self.store, self.db
        if not store.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                            "'features' AND column_name = 'in_base'"):
            raise NotResolvedYet("the store's features are missing: run `accord resolve` once")
        records = current_records_of(store, queued)
        found = {(s, r) for s, r in zip(records.column("source").to_pylist(),
                                        records.column("record_id").to_pylist(), strict=True)}
        queued = sorted(found)            # a key with no current record has nothing to resolve
        if not queued:
            return UpdateSummary(self.run_id, self.base_run)
        fresh = self._store_features(self._standardise(records), queued)
        self._recount_identifiers(fresh, queued)
        # --- 3. candidates, and the persons the queued records link to ----------------------
        candidates = self._candidates(fresh)
        self._local_features(fresh, candidates)
        self._local_shared()
        self._pairs("pairs_a", queued=True, within=False)
        self._score("pairs_a", "scored_a")
        affected = self._linked_persons(queued)
        # --- 4. the neighbourhood --------------------------------------------------------
        hood = self._neighbourhood(affected, queued)
        self._add_features(hood)
        self._local_shared()
        self._mark("_n", hood)
        self._pairs("pairs_b", queued=True, within=True)
        pairs = int(db.scalar("SELECT count(*) FROM pairs_b"))
        self._score("pairs_b", "scored")
        # --- 5, 6. cluster it, keep ids, write -------------------------------------------
        changes = self._cluster_and_write(hood, queued)
        return UpdateSummary(self.run_id, self.base_run, records=len(queued),
                             neighbourhood=len(hood), pairs=pairs, persons=changes,
                             deferred=len(self.deferred))

    def _standardise(self, records: pa.Table) -> pa.Table:
        """The queued records' features, as the batch's standardisation makes them (rid: 0..)."""
        current_records_copy(self.db.con, records)
        return features_of(self.db.con, CURRENT_RECORDS, extra=feature_columns(self.registry))

    def _store_features(self, fresh: pa.Table, queued: list[Key]) -> pa.Table:
        """Replace the queued records' rows of the store's ``features`` (and of its masked
        copy, on a store that keeps one as a table); rids kept, new ones after the last."""
        fresh = replace_features(self.store, fresh, queued)
        if self.masked_table:
            working.drop_masked(self.store, queued)
        return fresh

    # --- 2. shared identifiers --------------------------------------------------------------

    def _recount_identifiers(self, fresh: pa.Table, queued: list[Key]) -> None:
        """Mask an identifier value the queued records made shared (``shared_identifier_people``
        dates of birth in the statistics base); queue the other records holding it."""
        store = self.store
        k = self.settings.clustering.shared_identifier_people
        changed: dict[str, list[str]] = {}
        for c in IDENTIFIERS:
            values = sorted({v for v in fresh.column(c).to_pylist() if v is not None})
            if not values:
                continue
            now = {str(v) for (v,) in store.query(
                f"SELECT {ident(c)} FROM {FEATURES} WHERE {IN_BASE} AND "
                f"{store.dialect.in_set(ident(c))} GROUP BY {ident(c)} "
                f"HAVING count(DISTINCT dob) >= {int(k)}", [values])}
            before = {str(v) for (v,) in store.query(
                f"SELECT value FROM {SHARED} WHERE kind = ? AND {store.dialect.in_set('value')}",
                [c, values])}
            added = sorted(now - before)
            if added:
                working.add_shared(store, c, added)
                changed[c] = added
        for c, values in changed.items():
            holders = store.query(f"SELECT source, record_id FROM {FEATURES} WHERE "
                                  f"{store.dialect.in_set(ident(c))}", [values])
            others = sorted({(s, r) for s, r in holders} - set(queued))
            if others:
                rq.enqueue(store, others, "shared_identifier")
                self.deferred.update(others)
            if self.masked_table:
                working.mask_values(store, c, values)

    # --- 3. candidates ----------------------------------------------------------------------

    def _candidates(self, fresh: pa.Table) -> pa.Table:
        """Every stored record sharing a blocking key with a queued record (the key tuples of
        the queued records, column by column and then as tuples)."""
        store = self.store
        shared = {(c, str(v)) for c, v in store.query(f"SELECT kind, value FROM {SHARED}")} \
            if any(set(IDENTIFIERS) & set(r.keys) for r in self.rules) else set()
        conds: list[str] = []
        params: list[Any] = []
        for rule in self.rules:
            for mine, theirs in ((rule.keys, rule.right), (rule.right, rule.keys)):
                parts: list[str] = []
                given: list[Any] = []
                for a, b in zip(mine, theirs, strict=True):
                    values = sorted({v for v in fresh.column(a).to_pylist()
                                     if v is not None and (b, str(v)) not in shared}, key=str)
                    if not values:
                        parts = []
                        break
                    parts.append(store.dialect.in_set(ident(b)))
                    given.append(values)
                if parts and len(mine) > 1:
                    # The exact key tuples too: the columns' own lists first (cheap, and
                    # what an index serves), then the tuples on the rows they leave.
                    tuples = sorted({_tuple_text(t) for t in zip(
                        *(fresh.column(a).to_pylist() for a in mine), strict=True)
                        if all(v is not None for v in t)})
                    parts.append(store.dialect.in_set(f"({_key_text(theirs)})"))
                    given.append(tuples)
                if parts:
                    conds.append("(" + " AND ".join(parts) + ")")
                    params += given
                if rule.against is None:
                    break
        if not conds:
            return fresh.slice(0, 0)
        return store.read_arrow(f"SELECT * FROM {FEATURES} WHERE {' OR '.join(conds)}", params)

    def _local_features(self, fresh: pa.Table, candidates: pa.Table) -> None:
        """Local ``features``: the queued records' new rows and the candidates' stored rows,
        numbered in (source, record_id) order (the batch's order, so that ties fall alike)."""
        con = self.db.con
        con.register("_fresh_arrow", fresh)
        con.register("_cand_arrow", candidates.select(fresh.column_names)
                     if candidates.num_rows else fresh.slice(0, 0))
        con.execute("""CREATE OR REPLACE TABLE _rows AS
            SELECT * FROM _fresh_arrow UNION ALL BY NAME
            SELECT c.* FROM _cand_arrow c ANTI JOIN _fresh_arrow f USING (source, record_id)""")
        con.unregister("_fresh_arrow")
        con.unregister("_cand_arrow")
        numbered_copy(self.db, "_rows")
        self._mark("_d", [(s, r) for s, r in zip(fresh.column("source").to_pylist(),
                                                  fresh.column("record_id").to_pylist(),
                                                  strict=True)])

    def _mark(self, name: str, keys: Sequence[Key]) -> None:
        table = pa.table({"source": pa.array([k[0] for k in keys], pa.string()),
                          "record_id": pa.array([k[1] for k in keys], pa.string())})
        with self.db.registered("_mark_arrow", table):
            self.db.run(f"""CREATE OR REPLACE TABLE {name} AS SELECT f.rid FROM {FEATURES} f
                            SEMI JOIN _mark_arrow m USING (source, record_id)""")

    def _distinct(self, columns: Sequence[str], where: str = "TRUE") -> dict[str, list[Any]]:
        """The distinct values of these local columns (of the rows ``where`` selects), in one
        statement."""
        if not columns:
            return {}
        row = self.db.rows("SELECT " + ", ".join(
            f"list(DISTINCT {ident(c)}) FILTER (WHERE {ident(c)} IS NOT NULL)" for c in columns)
            + f" FROM {FEATURES} WHERE {where}")[0]
        return {c: list(v or []) for c, v in zip(columns, row, strict=True)}

    def _local_shared(self) -> None:
        """The masked identifiers among the local records' values, and the masked view."""
        store, db = self.store, self.db
        values = {c: [str(v) for v in vs] for c, vs in self._distinct(IDENTIFIERS).items() if vs}
        rows: list[tuple[Any, ...]] = []
        if values:
            sql = " UNION ALL ".join(f"SELECT kind, value FROM {SHARED} WHERE kind = ? AND "
                                     f"{store.dialect.in_set('value')}" for c in values)
            rows = store.query(sql, [x for c, vs in values.items() for x in (c, vs)])
        working.copy_shared(db, rows)

    # --- blocking, comparing, scoring ---------------------------------------------------------

    def _oversize(self) -> None:
        """Local table ``_over(rule, side, key)``: per rule and side (``l``: its key columns,
        ``r``: its right-hand ones), the key values among the neighbourhood's whose block holds
        more than ``max_block_size`` base records in the store — one query to the store for
        every rule. Every wanted pair has a record of ``_ends`` (the queued records and the
        neighbourhood), whose own values, in either column set, are the pair's."""
        store, db = self.store, self.db
        cap = int(self.settings.blocking.max_block_size)
        columns = sorted({c for r in self.rules for c in (*r.keys, *r.right)})
        values = self._distinct(columns, "rid IN (SELECT rid FROM _ends)")
        parts: list[str] = []
        params: list[Any] = []
        for i, rule in enumerate(self.rules):
            for side, cols in (("l", rule.keys), ("r", rule.right))[:1 if rule.against is None else 2]:
                given = [sorted({*values[c], *(v for o in self._mirror(rule, c) for v in values[o])},
                                key=str) for c in cols]
                if not all(given):
                    continue
                keys = ", ".join(ident(c) for c in cols)
                present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
                where = " AND ".join(store.dialect.in_set(ident(c)) for c in cols)
                parts.append(f"SELECT {i} AS rule, '{side}' AS side, {_key_text(cols)} AS key "
                             f"FROM {FEATURES} WHERE {IN_BASE} AND {present} AND {where} "
                             f"GROUP BY {keys} HAVING count(*) > {cap}")
                params += given
        rows = store.query(" UNION ALL ".join(parts), params) if parts else []
        table = pa.table({"rule": pa.array([int(r[0]) for r in rows], pa.int64()),
                          "side": pa.array([str(r[1]) for r in rows], pa.string()),
                          "key": pa.array([str(r[2]) for r in rows], pa.string())})
        with db.registered("_over_arrow", table):
            db.run("CREATE OR REPLACE TABLE _over AS SELECT * FROM _over_arrow")

    @staticmethod
    def _mirror(rule: BlockingRule, column: str) -> list[str]:
        """The columns a key column meets in a rule that is not symmetric (keys against
        right): their values may be the block's too."""
        if rule.against is None:
            return []
        pairs = list(zip(rule.keys, rule.right, strict=True))
        return [b for a, b in pairs if a == column] + [a for a, b in pairs if b == column]

    def _pairs(self, out: str, *, queued: bool, within: bool) -> None:
        """Pairs of the local records the rules find (blocks over the limit skipped): those
        with a queued record, and (``within``) those with both records in the neighbourhood."""
        db = self.db
        wanted = []
        if queued:
            wanted.append("l.rid IN (SELECT rid FROM _d) OR r.rid IN (SELECT rid FROM _d)")
        if within:
            wanted.append("(l.rid IN (SELECT rid FROM _n) AND r.rid IN (SELECT rid FROM _n))")
        parts = []
        db.run("CREATE OR REPLACE TABLE _ends AS SELECT rid FROM _d"
               + (" UNION SELECT rid FROM _n" if within else ""))
        self._oversize()
        for i, rule in enumerate(self.rules):
            src = blocking_source(rule)
            cond = " AND ".join(f"l.{ident(a)} = r.{ident(b)}"
                                for a, b in zip(rule.keys, rule.right, strict=True))
            right_side = "l" if rule.against is None else "r"
            over_l = (f"o.rule = {i} AND o.side = 'l' AND o.key = "
                      f"{_key_text(rule.keys, 'l')}")
            over_r = (f"o.rule = {i} AND o.side = '{right_side}' AND o.key = "
                      f"{_key_text(rule.right, 'r')}")
            # Every wanted pair has a record of the queued ones or of the neighbourhood: one
            # side starts from those alone (both sides, in turn, for a rule that is not
            # symmetric), never a block of candidates joined with itself.
            ends = ["l"] if rule.against is None else ["l", "r"]
            for end in ends:
                lsrc = f"(SELECT * FROM {src} WHERE rid IN (SELECT rid FROM _ends))" \
                    if end == "l" else src
                rsrc = f"(SELECT * FROM {src} WHERE rid IN (SELECT rid FROM _ends))" \
                    if end == "r" else src
                parts.append(
                    f"SELECT least(l.rid, r.rid) AS rid_l, greatest(l.rid, r.rid) AS rid_r, "
                    f"{i} AS rule FROM {lsrc} l JOIN {rsrc} r ON {cond} AND l.rid <> r.rid "
                    f"WHERE ({' OR '.join(wanted)}) "
                    f"AND NOT EXISTS (SELECT 1 FROM _over o WHERE {over_l}) "
                    f"AND NOT EXISTS (SELECT 1 FROM _over o WHERE {over_r})")
        db.run(f"CREATE OR REPLACE TABLE {out} AS SELECT rid_l, rid_r, min(rule) AS rule, "
               f"bit_or(CAST(1 AS BIGINT) << rule) AS rules FROM ({' UNION ALL '.join(parts)}) "
               f"GROUP BY rid_l, rid_r")

    def _score(self, pairs: str, out: str) -> None:
        """Compare and score ``pairs`` with the base run's model and term frequencies counted
        over the store's statistics base now."""
        db, comps = self.db, self.comps
        db.run(f"CREATE OR REPLACE TABLE {COMPARE} AS {compare_table_sql((), VIEW, (), comps)}")
        compare(db, pairs, "gammas", COMPARE, comps=comps)
        tf = self._term_frequencies()
        db.run(f"""CREATE OR REPLACE TABLE {out} AS
            SELECT g.rid_l, g.rid_r,
                   {match_weight_sql(self.model, self.settings.model.tf_min_u, tf)} AS match_weight,
                   {corroborated_sql(self.settings)} AS corroborated,
                   {identifier_agrees_sql(comps)} AS identifier, {dob_exact_sql(comps)} AS dob_exact
            FROM gammas g LEFT JOIN tf_rid t ON t.rid = g.rid_l""")
        db.run("DROP TABLE IF EXISTS gammas")

    def _term_frequencies(self) -> dict[str, str]:
        """``tf_rid`` (as ``accord.resolve.working.tf_tables`` makes it) from counts over the
        store's statistics base of the values the local records hold (one query)."""
        store, db = self.store, self.db
        columns = list(self.comps.tf_columns)
        values = self._distinct(columns)
        asked = [c for c in columns if values[c]]
        counts: dict[str, list[tuple[Any, int]]] = {c: [] for c in columns}
        totals: dict[str, int] = {}
        if columns:
            parts = [f"SELECT {i} AS c, NULL AS value, count({ident(c)}) AS n FROM {FEATURES} "
                     f"WHERE {IN_BASE}" for i, c in enumerate(columns)]
            parts += [f"SELECT {columns.index(c)} AS c, CAST({ident(c)} AS VARCHAR) AS value, "
                      f"count(*) AS n FROM {FEATURES} WHERE {IN_BASE} AND "
                      f"{store.dialect.in_set(ident(c))} GROUP BY {ident(c)}" for c in asked]
            for i, value, n in store.query(" UNION ALL ".join(parts), [values[c] for c in asked]):
                c = columns[int(i)]
                if value is None:
                    totals[c] = int(n or 0)
                else:
                    counts[c].append((value, int(n)))
        for c in columns:
            total = max(totals.get(c, 0), 1)
            table = pa.table({"value": pa.array([str(v) for v, _ in counts[c]], pa.string()),
                              "tf": pa.array([n / total for _, n in counts[c]], pa.float64())})
            with db.registered("_tf_arrow", table):
                db.run(f"CREATE OR REPLACE TABLE {ident('tf_' + c)} AS SELECT * FROM _tf_arrow")
        picked = "".join(f", {ident(f'x_{c}')}.tf AS {ident(f'tf_{c}')}" for c in columns)
        joins = " ".join(f"LEFT JOIN {ident(f'tf_{c}')} {ident(f'x_{c}')} "
                         f"ON {ident(f'x_{c}')}.value = f.{ident(c)}" for c in columns)
        db.run(f"CREATE OR REPLACE TABLE tf_rid AS SELECT f.rid{picked} FROM {VIEW} f {joins}")
        return {c: f"t.{ident(f'tf_{c}')}" for c in columns}

    def _edges_sql(self, scored: str) -> str:
        c = self.settings.clustering
        return (f"SELECT * FROM {scored} WHERE 1 / (1 + pow(2, -match_weight)) >= "
                f"{c.link_probability} AND corroborated")

    # --- 4. the neighbourhood -------------------------------------------------------------------

    def _linked_persons(self, queued: list[Key]) -> set[str]:
        """The persons a queued record links to now, and those queued records belonged to."""
        store, db = self.store, self.db
        ends = [(s, r) for s, r in db.rows(f"""
            WITH e AS ({self._edges_sql('scored_a')}),
                 x AS (SELECT rid_l AS rid FROM e UNION SELECT rid_r FROM e)
            SELECT f.source, f.record_id FROM x JOIN {FEATURES} f USING (rid)""")]
        return persons_of_records(store, sorted(set(ends) | set(queued)))

    def _neighbourhood(self, persons: set[str], queued: list[Key]) -> list[Key]:
        """Every record of ``persons`` and the queued records; then, until nothing is added,
        every record of a person a rejected link joins to one of them."""
        store = self.store
        hood: set[Key] = set(queued)
        seen: set[str] = set()
        todo = set(persons)
        check: set[Key] = set(queued)      # records whose rejected links are followed
        for _ in range(MAX_NEIGHBOURHOOD_ROUNDS):
            if todo:
                seen |= todo
                added = records_of_persons(store, sorted(todo)) - hood
                hood |= added
                check |= added
            if not check:
                break
            todo = rejected_neighbours(store, sorted(check)) - seen
            check = set()
            if not todo:
                break
        else:
            raise AccordError("the records' neighbourhood did not close within "
                              f"{MAX_NEIGHBOURHOOD_ROUNDS} rounds of rejected links: run a batch "
                              "`accord resolve`")
        return sorted(hood)

    def _add_features(self, hood: list[Key]) -> None:
        """Bring the stored rows of the neighbourhood's records not yet local; renumber."""
        store, db = self.store, self.db
        have = {(s, r) for s, r in db.rows(f"SELECT source, record_id FROM {FEATURES}")}
        missing = sorted(set(hood) - have)
        if missing:
            rows = store.read_arrow(f"SELECT * FROM {FEATURES} WHERE {store.dialect.in_keys()}",
                                    key_params(missing))
            with db.registered("_more_arrow", rows):
                db.run("INSERT INTO _rows BY NAME SELECT * FROM _more_arrow")
        queued = [(s, r) for s, r in db.rows(f"SELECT f.source, f.record_id FROM {FEATURES} f "
                                             "SEMI JOIN _d USING (rid)")]
        numbered_copy(db, "_rows")
        self._mark("_d", queued)
        # The records of the neighbourhood, for the evidence guard.
        current_records_copy(db.con, current_records_of(store, hood))

    # --- 5, 6. clustering, ids, writing -------------------------------------------------------------

    def _cluster_and_write(self, hood: list[Key], queued: list[Key]) -> list[PersonChange]:
        store, db, c = self.store, self.db, self.settings.clustering
        total = int(db.scalar(f"SELECT count(*) FROM {FEATURES}"))
        nodes = np.array([int(r) for (r,) in db.rows("SELECT rid FROM _n ORDER BY rid")],
                         dtype=np.int64)
        index = np.full(total, -1, dtype=np.int64)
        index[nodes] = np.arange(len(nodes), dtype=np.int64)
        m = len(nodes)
        edges = db.arrow(f"""SELECT rid_l, rid_r, match_weight, identifier, dob_exact
                             FROM ({self._edges_sql('scored')}) e
                             WHERE rid_l IN (SELECT rid FROM _n) AND rid_r IN (SELECT rid FROM _n)
                             ORDER BY rid_l, rid_r""")
        rid_l = index[edges.column("rid_l").to_numpy()]
        rid_r = index[edges.column("rid_r").to_numpy()]
        weight = edges.column("match_weight").to_numpy()
        ssn, anum, year = (g[nodes] for g in _guard_columns(db, total))
        facts = None
        if c.evidence_guard:
            evidence, ids = _guard_records(db, total)
            facts = Edges(np.asarray(edges.column("identifier").fill_null(False).to_numpy(
                              zero_copy_only=False), bool),
                          np.asarray(edges.column("dob_exact").fill_null(False).to_numpy(
                              zero_copy_only=False), bool),
                          evidence[nodes], ids[:, nodes], c.identifier_bridges_dob_gap)
        result = cluster(m, rid_l, rid_r, weight, ssn, anum, year, c.max_dob_year_gap, facts)
        withheld = {v: mask[nodes] for v, mask in withheld_by_view(db, total, self.registry).items()}
        parts = vw.partitions(m, rid_l, rid_r, weight, ssn, anum, year, c.max_dob_year_gap,
                              result, withheld, facts)
        # Local copies of what the id rules read: the neighbourhood's memberships and view
        # rows as they are, and the id sequence where the store's stands.
        before = person_ids.copy_members(store, db, hood)
        vw.copy_members(store, db, hood)
        node_keys = pa.table({"rid": pa.array(np.arange(m), pa.int64()),
                              "grid_local": pa.array(nodes, pa.int64())})
        with db.registered("_nodes_arrow", node_keys):
            db.run(f"""CREATE OR REPLACE TABLE _hood AS SELECT n.rid, f.source, f.record_id
                       FROM _nodes_arrow n JOIN {FEATURES} f ON f.rid = n.grid_local""")
        vw.remember_previous(db, parts, "_hood")
        labels = pa.table({"rid": pa.array(np.arange(m), pa.int64()),
                           "label": pa.array(result.labels, pa.int64())})
        with db.registered("_labels_arrow", labels):
            db.run("""CREATE OR REPLACE TABLE new_clusters AS SELECT h.source, h.record_id, l.label
                      FROM _hood h JOIN _labels_arrow l USING (rid)""")
        person_ids.assign_ids(db, self.run_id)
        vw.write(db, parts, "_hood", list(views(self.registry)))
        changes = self._events(before, queued)
        self._links(result.rejected_links, nodes)
        self._publish(hood, queued, before)
        return changes

    def _events(self, before: pa.Table, queued: list[Key]) -> list[PersonChange]:
        """Per person: its records before and after; ``created``, ``added`` and ``left``
        events beside the merges, splits and retirements ``assign_ids`` recorded. A person
        whose records did not change keeps its membership rows (and version)."""
        db = self.db
        old: dict[str, set[Key]] = {}
        for s, r, e in zip(before.column("source").to_pylist(), before.column("record_id").to_pylist(),
                           before.column("entity_id").to_pylist(), strict=True):
            old.setdefault(str(e), set()).add((s, r))
        new = person_ids.copied_members(db)
        logged = person_ids.copied_events(db)
        now = datetime.now(UTC)
        rows: list[tuple[Any, ...]] = []
        changes: list[PersonChange] = []
        for e in sorted(set(old) | set(new)):
            was, now_ = old.get(e, set()), new.get(e, set())
            if was == now_:
                continue
            kinds = sorted(k for k, x in logged if x == e)
            if not was:
                kinds = kinds or ["created"]
                if "created" in kinds:
                    rows.append((self.run_id, now, "created", e, record_refs(now_), len(now_),
                                 "a new person id for these records"))
            else:
                if now_ - was and not {"merge"} & set(kinds):
                    rows.append((self.run_id, now, "added", e, record_refs(now_ - was),
                                 len(now_ - was), "new or changed records joined this person"))
                    kinds.append("added")
                if now_ and was - now_ and not {"split"} & set(kinds):
                    rows.append((self.run_id, now, "left", e, record_refs(was - now_),
                                 len(was - now_), "changed records no longer belong to this person"))
                    kinds.append("left")
            changes += [PersonChange(e, self.run_id, k) for k in (kinds or ["changed"])]
        person_ids.add_events(db, rows)
        self.unchanged = sorted(e for e in set(old) & set(new) if old[e] == new[e])
        return changes

    def _links(self, rejected: list[tuple[int, int, float]], nodes: np.ndarray) -> None:
        """Local ``_to_link``: the scored pairs at or above the review threshold, by record,
        with their statuses (rejected: by the guards, in neighbourhood numbering)."""
        db, c = self.db, self.settings.clustering
        prob = "1 / (1 + pow(2, -match_weight))"
        out = pa.table({"rid_l": pa.array([int(nodes[a]) for a, b, _ in rejected], pa.int64()),
                        "rid_r": pa.array([int(nodes[b]) for a, b, _ in rejected], pa.int64())})
        with db.registered("_rejected_arrow", out):
            db.run(f"""CREATE OR REPLACE TABLE _to_link AS
                SELECT {self.run_id} AS run_id, fl.source AS source_l, fl.record_id AS record_id_l,
                       fr.source AS source_r, fr.record_id AS record_id_r, s.match_weight,
                       {prob} AS match_probability,
                       CASE WHEN x.rid_l IS NOT NULL THEN 'rejected_by_guard'
                            WHEN {prob} >= {c.link_probability} AND s.corroborated THEN 'linked'
                            ELSE 'review' END AS status
                FROM scored s JOIN {FEATURES} fl ON fl.rid = s.rid_l
                JOIN {FEATURES} fr ON fr.rid = s.rid_r
                LEFT JOIN _rejected_arrow x
                  ON (x.rid_l = s.rid_l AND x.rid_r = s.rid_r)
                  OR (x.rid_l = s.rid_r AND x.rid_r = s.rid_l)
                WHERE {prob} >= {c.review_probability}""")

    def _publish(self, hood: list[Key], queued: list[Key], before: pa.Table) -> None:
        """Write the neighbourhood's results to the store, in the update's transaction."""
        store, db = self.store, self.db
        # Links: every link of a queued record, and every link within the neighbourhood.
        pipeline.replace_links(store, db, queued, hood)
        # Memberships: a person whose records did not change keeps its rows (and version).
        person_ids.publish_copy(store, db, self.run_id, before, self.unchanged)
        # Views: the neighbourhood's rows.
        vw.publish_copy(store, db, hood)
        if self.masked_table:
            working.publish_masked(store, db)


def _key_text(columns: Sequence[str], alias: str = "") -> str:
    """SQL both engines read: the key columns as one text, joined by chr(31)."""
    p = f"{alias}." if alias else ""
    return " || chr(31) || ".join(f"CAST({p}{ident(c)} AS VARCHAR)" for c in columns)


def _tuple_text(values: Sequence[Any]) -> str:
    """Key values as the engine's ``CAST(... AS VARCHAR)`` joined by chr(31) writes them."""
    return "\x1f".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values)


# --- writes of tables whose owners' modules change on another branch -------------------------
# ``links`` (owner: accord.resolve.pipeline), ``resolve_features`` and
# ``resolve_shared_identifiers`` (owner: accord.resolve.working). These functions move into
# those modules as they are; tests/test_table_ownership.py lists them until then.
