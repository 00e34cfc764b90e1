"""The resolution stage: features -> blocking -> comparisons -> model -> links -> entities.

``resolve`` reads ``records_current`` (through the standardise stage's ``features``), and
writes ``links``, ``entity_members``, ``entity_events`` and ``resolution_runs``. Working
tables are rebuilt on every run; the outputs are replaced in one transaction, so a failed
run leaves the previous entities in place. Running it twice on the same input changes
nothing but the run log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from accord.resolve import blocking as blk
from accord.resolve.cluster import cluster
from accord.resolve.comparisons import (
    comparisons_for_keys,
    gammas_sql,
    pair_frame_sql,
    similarity_sql,
)
from accord.resolve.ids import assign_ids
from accord.resolve.model import FSModel, estimate_u, gamma_columns, match_weight_sql, tf_sql, train_em
from accord.resolve.settings import Settings, default_settings
from accord.sql.backend import DuckDBBackend
from accord.store import Store

Step = Callable[[str, float], None]
IDENTIFIERS = ("ssn", "a_number", "passport", "itin")


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
    blocking_messages: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _features(db: DuckDBBackend, settings: Settings) -> int:
    from accord.standardise.features import build_features

    build_features(db.con, "records_current")
    k = settings.clustering.shared_identifier_people
    parts = [f"SELECT '{c}' AS kind, {c} AS value FROM features WHERE {c} IS NOT NULL "
             f"GROUP BY {c} HAVING count(DISTINCT dob) >= {k}" for c in IDENTIFIERS]
    db.create_table("shared_identifiers", " UNION ALL ".join(parts), temp=True)
    masked = ", ".join(
        f"CASE WHEN {c} IN (SELECT value FROM shared_identifiers WHERE kind = '{c}') "
        f"THEN NULL ELSE {c} END AS {c}" for c in IDENTIFIERS)
    db.create_table("resolve_features", f"SELECT * REPLACE ({masked}) FROM features")
    return int(db.scalar("SELECT count(*) FROM shared_identifiers"))


def _codes(column: Any) -> np.ndarray:
    """Integer codes of a text column (-1 for missing), via Arrow dictionary encoding."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column).combine_chunks()
    return np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False),
                      dtype=np.int64)


def _gammas(db: DuckDBBackend, pairs: str, out: str) -> None:
    # The frame (both sides' features) is a view: it is streamed into the narrow gammas
    # table instead of being held in memory with every feature column twice.
    db.run(f"CREATE OR REPLACE TEMP VIEW {out}_frame AS {pair_frame_sql(pairs, 'resolve_features')}")
    db.create_table(f"{out}_sim_given", similarity_sql(f"{out}_frame", "given_std", "jw_given"),
                    temp=True)
    db.create_table(f"{out}_sim_family", similarity_sql(f"{out}_frame", "family_std", "jw_family"),
                    temp=True)
    db.create_table(out, gammas_sql(f"{out}_frame", f"{out}_sim_given", f"{out}_sim_family"),
                    temp=True)
    db.run(f"DROP VIEW IF EXISTS {out}_frame")
    for t in ("sim_given", "sim_family"):
        db.run(f"DROP TABLE IF EXISTS {out}_{t}")


def _patterns(db: DuckDBBackend, table: str) -> tuple[np.ndarray, np.ndarray]:
    cols = ", ".join(gamma_columns())
    t = db.arrow(f"SELECT {cols}, count(*) AS n FROM {table} GROUP BY ALL")
    patterns = np.column_stack([t.column(c).to_numpy() for c in gamma_columns()]).astype(np.int64)
    return patterns, t.column("n").to_numpy().astype(np.int64)


def train(db: DuckDBBackend, settings: Settings, records: int) -> FSModel:
    n_pairs = settings.model.u_sample_pairs
    db.create_table("u_pairs", f"""
        SELECT least(a, b) AS rid_l, greatest(a, b) AS rid_r, -1 AS rule, [-1] AS rules FROM (
          SELECT CAST(hash(i, 'l') % {records} AS BIGINT) AS a,
                 CAST(hash(i, 'r') % {records} AS BIGINT) AS b FROM range({n_pairs}) t(i))
        WHERE a <> b""", temp=True)
    _gammas(db, "u_pairs", "u_gammas")
    u = estimate_u(*_patterns(db, "u_gammas"))
    db.run("DROP TABLE IF EXISTS u_pairs")
    db.run("DROP TABLE IF EXISTS u_gammas")
    cols = ", ".join(gamma_columns())
    # One training session per rule, over every pair that rule finds (not only the pairs
    # credited to it): a pair found first by the SSN rule still teaches the name rules.
    t = db.arrow(f"SELECT rule, {cols}, count(*) AS n FROM (SELECT unnest(rules) AS rule, {cols} "
                 f"FROM gammas) GROUP BY ALL")
    patterns = np.column_stack([t.column(c).to_numpy() for c in gamma_columns()]).astype(np.int64)
    # A rule with different right-hand keys (a swap rule) also decides name order.
    blocked_on = {i: comparisons_for_keys(r.keys) | comparisons_for_keys(r.right)
                  | ({"name_order"} if r.against else set())
                  for i, r in enumerate(settings.blocking.rules)}
    return train_em(patterns, t.column("n").to_numpy().astype(np.int64), u,
                    settings.model.em_max_iterations, settings.model.em_tolerance,
                    rules=t.column("rule").to_numpy().astype(np.int64), blocked_on=blocked_on,
                    total_pairs=records * (records - 1) // 2)


def resolve(store: Store, settings: Settings | None = None, *, user: str = "system",
            model_path: Path | None = None, model_in: Path | None = None,
            step: Step | None = None) -> ResolveSummary:
    settings = settings or default_settings()
    started = datetime.now(UTC)
    db = DuckDBBackend(store.con)
    say = step or (lambda label, frac: None)
    say("standardise", 0.05)
    shared = _features(db, settings)
    records = int(db.scalar("SELECT count(*) FROM resolve_features"))
    say("block", 0.2)
    report = blk.run_blocking(db, settings.blocking, "resolve_features", "pairs")
    say("compare", 0.35)
    _gammas(db, "pairs", "gammas")
    say("train model", 0.55)
    if model_in is not None:
        model = FSModel.from_json(json.loads(model_in.read_text(encoding="utf-8")))
    else:
        model = train(db, settings, records)
    if model_path is not None:
        model.save(model_path)
    say("score", 0.7)
    db.create_table("tf_given", tf_sql("given_std", "resolve_features"), temp=True)
    db.create_table("tf_family", tf_sql("family_std", "resolve_features"), temp=True)
    weight = match_weight_sql(model, settings.model.tf_min_u)
    db.create_table("scored", f"""
        SELECT g.rid_l, g.rid_r, {weight} AS match_weight FROM gammas g
        LEFT JOIN tf_given tg ON tg.value = g.given_std_l
        LEFT JOIN tf_family tf ON tf.value = g.family_std_l""", temp=True)
    db.run("ALTER TABLE scored ADD COLUMN match_probability DOUBLE")
    db.run("UPDATE scored SET match_probability = 1 / (1 + pow(2, -match_weight))")
    c = settings.clustering
    say("cluster", 0.8)
    edges = db.arrow(f"SELECT rid_l, rid_r, match_weight FROM scored "
                     f"WHERE match_probability >= {c.link_probability}")
    ident_tbl = db.arrow("SELECT ssn, a_number, coalesce(dob_y, -1) AS y FROM resolve_features "
                         "ORDER BY rid")
    result = cluster(records, edges.column("rid_l").to_numpy(), edges.column("rid_r").to_numpy(),
                     edges.column("match_weight").to_numpy(),
                     _codes(ident_tbl.column("ssn")), _codes(ident_tbl.column("a_number")),
                     ident_tbl.column("y").to_numpy().astype(np.int64), c.max_dob_year_gap)
    say("assign person ids", 0.9)
    import pyarrow as pa

    db.con.register("_labels_arrow", pa.table({"rid": np.arange(records, dtype=np.int64),
                                               "label": result.labels}))
    rejected = pa.table({"rid_l": pa.array([r[0] for r in result.rejected_links], pa.int64()),
                         "rid_r": pa.array([r[1] for r in result.rejected_links], pa.int64())})
    db.con.register("_rejected_arrow", rejected)
    with store.transaction():
        run_id = int(db.scalar("SELECT nextval('resolution_run_seq')"))
        db.create_table("new_clusters", """
            SELECT f.source, f.record_id, l.label FROM resolve_features f
            JOIN _labels_arrow l USING (rid)""", temp=True)
        ids = assign_ids(db, run_id)
        db.run("DELETE FROM links")
        db.run(f"""
            INSERT INTO links SELECT {run_id}, fl.source, fl.record_id, fr.source, fr.record_id,
                s.match_weight, s.match_probability,
                CASE WHEN (s.rid_l, s.rid_r) IN (SELECT (rid_l, rid_r) FROM _rejected_arrow)
                     THEN 'rejected_by_guard'
                     WHEN s.match_probability >= {c.link_probability} THEN 'linked'
                     ELSE 'review' END
            FROM scored s JOIN resolve_features fl ON fl.rid = s.rid_l
            JOIN resolve_features fr ON fr.rid = s.rid_r
            WHERE s.match_probability >= {c.review_probability}""")
        counts = dict(db.rows("SELECT status, count(*) FROM links GROUP BY status"))
        finished = datetime.now(UTC)
        summary = ResolveSummary(
            run_id=run_id, records=records, pairs=report.pairs,
            links=int(counts.get("linked", 0)), review=int(counts.get("review", 0)),
            rejected_links=len(result.rejected_links), entities=ids["entities"],
            kept_ids=ids["kept_ids"], merges=ids["merges"], splits=ids["splits"],
            shared_identifiers=shared, seconds=(finished - started).total_seconds(),
            blocking_messages=report.messages(), model=model.to_json())
        db.run("INSERT INTO resolution_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_id, user, started, finished, records, report.pairs, summary.links,
            summary.review, summary.entities, summary.rejected_links,
            json.dumps(summary.model), settings.model_dump_json(),
            json.dumps([asdict(r) for r in report.rules])])
    db.con.unregister("_labels_arrow")
    db.con.unregister("_rejected_arrow")
    say("done", 1.0)
    return summary
