"""The resolution stage: features -> blocking -> comparisons -> model -> links -> entities.

``resolve`` reads ``records_current`` (through the standardise stage's ``features``), and
writes ``links``, ``entity_members``, ``entity_events``, the per-view partitions
(``view_members``, ``view_links``: ``views.py``) and ``resolution_runs``. Working tables are
rebuilt on every run; the outputs are replaced in one transaction, so a failed run leaves the
previous entities in place. Running it twice on the same input changes nothing but the run
log.

Every statistic the run computes from the store is counted over the statistics base (records
under no floor regime: ``base.py``); the records outside it are blocked, compared, scored,
linked and clustered like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from accord.errors import AccordError
from accord.governance.registry import Registry
from accord.governance.visibility import views
from accord.ingest.reads import current_count, current_records_sql
from accord.resolve import blocking as blk
from accord.resolve import queue as resolution_queue
from accord.resolve import views as vw
from accord.resolve.base import feature_columns, withheld_by_view
from accord.resolve.cluster import Edges, cluster
from accord.resolve.comparisons import Comparisons, comparisons_of
from accord.resolve.evidence import evidence_sql
from accord.resolve.ids import assign_ids
from accord.resolve.model import FSModel, match_weight_sql
from accord.resolve.settings import Settings, default_settings
from accord.resolve.training import train, train_with_labels
from accord.resolve.working import (
    COMPARE,
    FEATURES,
    IN_BASE,
    SHARED,
    VIEW,
    base_of,
    compare,
    compare_blocking_source,
    engine_resources,
    memory_budget,
    prepare,
    tf_tables,
)
from accord.sql.backend import DuckDBBackend, computing
from accord.sql.resources import release_memory
from accord.sql.workspace import Workspace, workspace
from accord.store import Store
from accord.store.dialect import key_params

Step = Callable[[str, float], None]


@dataclass
class ResolveSummary:
    run_id: int
    records: int
    pairs: int
    links: int
    review: int
    rejected_links: int
    entities: int
    kept_ids: int
    merges: int
    splits: int
    shared_identifiers: int
    seconds: float
    base_records: int = 0  # records the statistics are counted over (base.py)
    # view -> clusters made again, view_members and view_links rows (views.py)
    views: dict[str, dict[str, int]] = field(default_factory=dict)
    blocking_messages: list[str] = field(default_factory=list)
    # Links the clustering guards rejected, by reason (accord.resolve.cluster.REASONS).
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)
    # Compared pairs by whole match weight (floor), for the match-weight chart: (weight, pairs).
    weight_histogram: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _codes(column: Any) -> np.ndarray:
    """Integer codes of a text column (-1 for missing), via Arrow dictionary encoding."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column).combine_chunks()
    return np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False),
                      dtype=np.int64)


def identifier_agrees_sql(comps: Comparisons) -> str:
    """SQL (over a gammas row g): does an identifier agree exactly on this pair? The top
    level of a comparison declared ``identifier`` (SSN, A-number, passport, ITIN, and any
    other a declaration adds, such as an other id)."""
    agree = " OR ".join(f"g.gamma_{c.name} = {c.top}" for c in comps if c.identifier)
    return f"({agree or 'FALSE'})"


def dob_exact_sql(comps: Comparisons) -> str:
    """SQL (over a gammas row g): are the dates of birth equal? The top level of the ``dob``
    comparison (TRUE without one: no link is then taken for a look-alike on dates)."""
    dob = next((c for c in comps if c.name == "dob"), None)
    return f"(g.gamma_dob = {dob.top})" if dob is not None else "TRUE"


def corroborated_sql(settings: Settings) -> str:
    """SQL (over a gammas row g): may this pair link, beyond its weight? Without an identifier
    that agrees exactly (a comparison declared ``identifier``), not when a comparison declared
    ``disagreement_needs_identifier`` is at its last level: by default, the given names differ
    outright, or an SSN (or its last four digits) or an A-number disagrees (see the
    clustering setting)."""
    comps = comparisons_of(settings)
    needs = [c.name for c in comps if c.disagreement_needs_identifier]
    if not settings.clustering.different_given_name_needs_identifier or not needs:
        return "TRUE"
    agree = " OR ".join(f"g.gamma_{c.name} = {c.top}" for c in comps if c.identifier)
    differ = " OR ".join(f"g.gamma_{n} = 0" for n in needs)
    return f"(({agree or 'FALSE'}) OR NOT ({differ}))"


def _guard_columns(db: DuckDBBackend, records: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SSN and A-number codes and birth year by rid (-1 where missing), for the guards. The
    year is a valid date's only: a flagged date of birth's parts are fuzzy evidence, never a
    guard (as before they existed)."""
    t = db.arrow(f"SELECT rid, ssn, a_number, CASE WHEN dob IS NOT NULL THEN dob_y ELSE -1 END AS y "
                 f"FROM {VIEW}")
    rid = t.column("rid").to_numpy()
    out = np.full((3, records), -1, dtype=np.int64)
    out[0, rid] = _codes(t.column("ssn"))
    out[1, rid] = _codes(t.column("a_number"))
    out[2, rid] = t.column("y").to_numpy()
    return out[0], out[1], out[2]


# The identifiers a record holds, for the look-alike guard (feature columns, masked).
GUARD_IDENTIFIERS = ("ssn", "a_number", "passport", "itin")


def _guard_records(db: DuckDBBackend, records: int) -> tuple[np.ndarray, np.ndarray]:
    """For the evidence and look-alike guards, by rid: each record's evidence bits, from its
    own current facts (``accord.resolve.evidence``), and its identifiers as codes (one row
    per identifier, masked ones missing)."""
    t = db.arrow(f"""SELECT f.rid, {evidence_sql('r')} AS ev, f.ssn, f.a_number, f.passport,
                            f.itin
                     FROM {VIEW} f JOIN ({current_records_sql()}) r
                       ON r.source = f.source AND r.record_id = f.record_id""")
    rid = t.column("rid").to_numpy()
    evidence = np.zeros(records, dtype=np.int64)
    evidence[rid] = t.column("ev").to_numpy()
    ids = np.full((len(GUARD_IDENTIFIERS), records), -1, dtype=np.int64)
    for i, name in enumerate(GUARD_IDENTIFIERS):
        ids[i, rid] = _codes(t.column(name))
    return evidence, ids


def untrained_notes(model: FSModel, base: int, records: int) -> list[str]:
    """What to tell when EM learned nothing: no blocking rule found enough pairs of two records
    of the statistics base (records under a floor regime never train the model, so that
    withholding them changes no weight), and the model is its starting guess."""
    if model.trained_from != "em" or model.iterations > 0:
        return []
    return [f"the model was not trained: the statistics base holds {base:,} of {records:,} records "
            f"and no blocking rule found enough pairs among them for EM (records under a floor "
            f"regime never train the model; docs/resolve.md). The weights are starting guesses: "
            f"train from labelled pairs (--labels TRUTH.csv) or give a model saved from another "
            f"run (--model FILE)"]


def resolve(store: Store, settings: Settings | None = None, *, user: str = "system",
            model_path: Path | None = None, model_in: Path | None = None,
            step: Step | None = None, labels: Path | None = None,
            registry: Registry | None = None, compute: Compute | None = None) -> ResolveSummary:
    """``registry``: the authority registry whose floors decide the statistics base and the
    views (by default the package's). ``compute``: the engine that computes the run
    (by default the store's own DuckDB, :func:`compute_on_duckdb`; Spark:
    ``accord.spark.resolve.on_spark``); the results are written the same way."""
    from accord.governance.registry import registry as package_registry

    settings = settings or default_settings()
    registry = registry or package_registry()
    with workspace(store) as ws:
        if not ws.separate:
            return _resolve_on(store, settings, user, model_path, model_in, step, labels, registry,
                               compute)
        # A store on another engine: one resolution at a time, computed in the workspace over
        # the store's records and the previous run's partitions, published in one transaction.
        with store.transaction():
            store.changed()
            store.lock("resolution")
            for table, select in BROUGHT:
                ws.bring(table, select)
            for sequence in SEQUENCES:
                ws.bring_sequence(sequence)
            covered = resolution_queue.covered_seqs(ws.compute)  # what this run resolves
            summary = _resolve_on(ws.compute, settings, user, model_path, model_in, step, labels,
                                  registry, compute)
            _publish(ws, summary.run_id)
            resolution_queue.delete_seqs(store, covered)
        return summary


# What a run reads of the store besides the registry, and what it writes (module docstring).
BROUGHT = [("records", current_records_sql()), (resolution_queue.TABLE, None), ("entity_members", None),
           ("view_members", None), ("view_links", None)]
REPLACED = ["links", "entity_members", "view_members", "view_links"]
APPENDED = ["resolution_runs", "entity_events"]       # the run's rows
COMPUTED = [FEATURES, SHARED, VIEW]                  # the working tables the readers use
SEQUENCES = ["resolution_run_seq", "entity_id_seq"]


def _publish(ws: Workspace, run_id: int) -> None:
    for table in REPLACED:
        ws.publish(table, replace=True)
    for table in APPENDED:
        ws.publish(table, where="WHERE run_id = ?", params=[run_id])
    for table in COMPUTED:
        ws.publish(table, computed=True)
    for sequence in SEQUENCES:
        ws.publish_sequence(sequence)


def _resolve_on(store: Store, settings: Settings, user: str, model_path: Path | None,
                model_in: Path | None, step: Step | None, labels: Path | None,
                registry: Registry, compute: Compute | None = None) -> ResolveSummary:
    budget = memory_budget(settings.resources, lambda: current_count(store))
    db = DuckDBBackend.of(store)
    started = datetime.now(UTC)
    tell = step or (lambda label, frac: None)

    def say(label: str, frac: float) -> None:
        release_memory()  # what the last step freed goes back before the next one starts
        tell(label, frac)

    with engine_resources(db, budget, settings.resources.threads):
        computed = (compute or compute_on_duckdb)(store, db, settings, model_path, model_in,
                                                  labels, registry, say)
        return write_results(store, db, settings, user, registry, started, computed, say)


# How a run computes what it writes: on the store's own DuckDB (``compute_on_duckdb``) or on
# another engine (``accord.spark.resolve``), which leaves ``features``, the masked identifiers
# and the temp table ``scored`` in ``db`` as this one does.
Compute = Callable[[Store, DuckDBBackend, Settings, Path | None, Path | None, Path | None,
                    Registry, Step], "Computed"]


def compute_on_duckdb(store: Store, db: DuckDBBackend, settings: Settings,
                      model_path: Path | None, model_in: Path | None, labels: Path | None,
                      registry: Registry, say: Step) -> Computed:
    say("standardise", 0.05)
    # Two transactions declare the run's writes (one, joined, when the run is a governed
    # action): the working tables of the store (features and the masked identifiers), then
    # the run's results. Between them only working tables of the connection (TEMP) are made.
    with computing(store):
        records, shared, base = prepare(db, settings, feature_columns(registry))
    say("block", 0.2)
    comps = comparisons_of(settings)
    report = blk.run_blocking(db, settings.blocking, compare_blocking_source(db, comps), "pairs",
                              base=IN_BASE)
    say("compare", 0.35)
    compare(db, "pairs", "gammas", COMPARE, comps=comps)
    db.run("DROP TABLE IF EXISTS pairs")
    say("train model", 0.55)
    model = given_model(comps, model_in, labels)
    if model is None and labels is not None:
        model = train_with_labels(db, settings, base, "gammas", VIEW, labels, base=True)
    elif model is None:
        model = train(db, settings, base, "gammas", COMPARE, base=True)
    notes = report.messages() + untrained_notes(model, base, records)
    if model_path is not None:
        model.save(model_path)
    db.run(f"DROP TABLE IF EXISTS {COMPARE}")
    say("score", 0.7)
    tf = tf_tables(db, FEATURES, base_of(FEATURES), comps)  # names: masking does not touch them
    # Every compared pair keeps its weight (the match-weight chart reads them); links and
    # entities read the pairs above their thresholds.
    db.create_table("scored", f"""
        SELECT g.rid_l, g.rid_r,
               {match_weight_sql(model, settings.model.tf_min_u, tf)}
               AS match_weight, {corroborated_sql(settings)} AS corroborated,
               {identifier_agrees_sql(comps)} AS identifier, {dob_exact_sql(comps)} AS dob_exact
        FROM gammas g LEFT JOIN tf_rid t ON t.rid = g.rid_l""", temp=True)
    db.run("DROP TABLE IF EXISTS gammas")
    histogram = [(int(b), int(n)) for b, n in db.rows(
        "SELECT floor(match_weight) AS b, count(*) FROM scored GROUP BY 1 ORDER BY 1")]
    c = settings.clustering
    prob = "1 / (1 + pow(2, -match_weight))"
    say("cluster", 0.8)
    edges = db.arrow(f"SELECT rid_l, rid_r, match_weight, identifier, dob_exact FROM scored "
                     f"WHERE {prob} >= {c.link_probability} AND corroborated")
    rid_l, rid_r = edges.column("rid_l").to_numpy(), edges.column("rid_r").to_numpy()
    weight = edges.column("match_weight").to_numpy()
    guards = _guard_columns(db, records)
    facts = None
    if c.evidence_guard:
        facts = Edges(np.asarray(edges.column("identifier").fill_null(False).to_numpy(
                          zero_copy_only=False), bool),
                      np.asarray(edges.column("dob_exact").fill_null(False).to_numpy(
                          zero_copy_only=False), bool),
                      *_guard_records(db, records), c.identifier_bridges_dob_gap)
    del edges
    result = cluster(records, rid_l, rid_r, weight, *guards, c.max_dob_year_gap, facts)
    # Each view's clustering without its withheld records, where it may differ.
    parts = vw.partitions(records, rid_l, rid_r, weight, *guards, c.max_dob_year_gap, result,
                          withheld_by_view(db, records, registry), facts)
    del rid_l, rid_r, weight, guards, facts
    return Computed(records, shared, base, report, model, notes, histogram, result.labels,
                    result.rejected_links, result.reasons, parts)


@dataclass
class Computed:
    """What a run computed before it writes (on either engine): the counts, the blocking
    report, the model, the clustering of every record (``labels`` by rid), the links a guard
    rejected (with ``reasons``) and each view's partition. ``write_results`` writes them
    together with the scored pairs (temp table ``scored``) and ``features``."""
    records: int
    shared: int
    base: int
    report: blk.BlockingReport
    model: FSModel
    notes: list[str]
    histogram: list[tuple[int, int]]
    labels: np.ndarray
    rejected_links: list[tuple[int, int, float]]
    reasons: list[str]
    parts: list[vw.ViewPartition]


def given_model(comps: Comparisons, model_in: Path | None, labels: Path | None) -> FSModel | None:
    """The model a run was given (``model_in``), or None when it trains one; a run given both a
    model and labels to train from is refused."""
    if model_in is not None and labels is not None:
        raise AccordError("give a saved model or labels to train from, not both")
    if model_in is None:
        return None
    try:
        return FSModel.from_json(json.loads(model_in.read_text(encoding="utf-8")), comps)
    except ValueError as e:
        raise AccordError(f"{model_in}: {e}") from None


def write_results(store: Store, db: DuckDBBackend, settings: Settings, user: str,
                  registry: Registry, started: datetime, computed: Computed,
                  say: Step) -> ResolveSummary:
    """Assign person ids and write links, memberships, views, events and the run, in one
    transaction. ``db`` holds ``features`` and the temp table ``scored`` (rid_l, rid_r,
    match_weight, corroborated: at least the pairs at or above ``review_probability``)."""
    c = settings.clustering
    prob = "1 / (1 + pow(2, -match_weight))"
    records, report, parts = computed.records, computed.report, computed.parts
    say("assign person ids", 0.9)
    labels_arrow = pa.table({"rid": np.arange(records, dtype=np.int64), "label": computed.labels})
    rejected = pa.table({"rid_l": pa.array([r[0] for r in computed.rejected_links], pa.int64()),
                         "rid_r": pa.array([r[1] for r in computed.rejected_links], pa.int64())})
    with db.registered("_labels_arrow", labels_arrow), db.registered("_rejected_arrow", rejected), \
            computing(store):
        run_id = int(db.scalar("SELECT nextval('resolution_run_seq')"))
        vw.remember_previous(db, parts, FEATURES)
        db.create_table("new_clusters", f"""
            SELECT f.source, f.record_id, l.label FROM {FEATURES} f
            JOIN _labels_arrow l USING (rid)""", temp=True)
        ids = assign_ids(db, run_id)
        db.run("DROP TABLE IF EXISTS new_clusters")
        db.run("DELETE FROM links")
        # The pairs to store first, on their own: the engine then knows they outnumber
        # the records and builds its two join tables on the records' keys, not on them.
        db.create_table("_to_link", f"""SELECT *, {prob} AS match_probability FROM scored
                                         WHERE {prob} >= {c.review_probability}""", temp=True)
        db.run(f"""
            INSERT INTO links (run_id, source_l, record_id_l, source_r, record_id_r, match_weight,
                               match_probability, status)
            SELECT {run_id}, fl.source, fl.record_id, fr.source,
                fr.record_id, s.match_weight, s.match_probability,
                CASE WHEN x.rid_l IS NOT NULL THEN 'rejected_by_guard'
                     WHEN s.match_probability >= {c.link_probability} AND s.corroborated
                     THEN 'linked'
                     ELSE 'review' END
            FROM _to_link s
            JOIN {FEATURES} fl ON fl.rid = s.rid_l
            JOIN {FEATURES} fr ON fr.rid = s.rid_r
            LEFT JOIN _rejected_arrow x ON x.rid_l = s.rid_l AND x.rid_r = s.rid_r""")
        db.run("DROP TABLE IF EXISTS _to_link")
        view_counts = vw.write(db, parts, FEATURES, list(views(registry)))
        counts = dict(db.rows("SELECT status, count(*) FROM links GROUP BY status"))
        finished = datetime.now(UTC)
        summary = ResolveSummary(
            run_id=run_id, records=records, pairs=report.pairs,
            links=int(counts.get("linked", 0)), review=int(counts.get("review", 0)),
            rejected_links=len(computed.rejected_links), entities=ids["entities"],
            kept_ids=ids["kept_ids"], merges=ids["merges"], splits=ids["splits"],
            shared_identifiers=computed.shared, seconds=(finished - started).total_seconds(),
            base_records=computed.base, views=view_counts, blocking_messages=computed.notes,
            rejected_by_reason={k: computed.reasons.count(k) for k in sorted(set(computed.reasons))},
            model=computed.model.to_json(), weight_histogram=computed.histogram)
        # The queued versions this run resolved leave the queue with its results.
        resolution_queue.clear_resolved(store)
        store.insert("resolution_runs", {
            "run_id": run_id, "user_id": user, "started_at": started, "finished_at": finished,
            "records": records, "pairs": report.pairs, "links": summary.links,
            "review": summary.review, "entities": summary.entities,
            "rejected_links": summary.rejected_links, "model": json.dumps(summary.model),
            "settings": settings.model_dump_json(),
            "blocking": json.dumps([asdict(r) for r in report.rules])})
    say("done", 1.0)
    return summary


def replace_links(store: Store, db: DuckDBBackend, queued: Sequence[tuple[str, str]],
                  hood: Sequence[tuple[str, str]]) -> None:
    """Replace every stored link of a queued record, and every one within the neighbourhood
    ``hood``, with the private DuckDB's ``_to_link``."""
    d, q, params = store.dialect, key_params(queued), key_params(hood)
    left, right = d.in_keys("source_l", "record_id_l"), d.in_keys("source_r", "record_id_r")
    store.write(f"DELETE FROM links WHERE ({left}) OR ({right}) OR (({left}) AND ({right}))",
                [*q, *q, *params, *params])
    rows = db.arrow("SELECT * FROM _to_link")
    if rows.num_rows:
        store.bulk_load("links", rows)
