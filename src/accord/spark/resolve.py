"""Batch resolution on Spark: ``accord resolve --engine spark``.

The run is the embedded one (``accord.resolve.pipeline``) with its computation on Spark: the
same stages, the same SQL builders (translated, ``accord.spark.dialect``), the same model
fitting and the same clustering functions, so the same store resolves to the same persons on
both engines. Only what the run writes is written the embedded way, by
``pipeline.write_results``, in the store's one transaction: ids, links, memberships, views,
events and the run.

What crosses between the store and Spark goes through an exchange folder of Parquet files,
written in parallel by whichever side produces them: the current records out (DuckDB's
``COPY``), then ``features``, the masked identifiers and the scored pairs at or above the
review threshold back (Spark's writers, one file per partition). The folder is private to the
run and removed when it ends, however it ends; by default it sits in the session's scratch
folder (``--spark-exchange``: a folder the driver and every executor can reach, for a cluster).

Steps on Spark: standardise (``accord.spark.standardise``) -> mask shared identifiers -> block
(``blocking.run_blocking``) -> compare -> train (u from the same random pairs: the draw is
DuckDB's, the pairs and their patterns Spark's; EM on the driver over pattern counts) or the
given model -> score -> cluster (``accord.spark.clustering``).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.errors import AccordError
from accord.governance.registry import Registry
from accord.ingest.reads import current_records_sql
from accord.resolve import blocking as blk
from accord.resolve.base import feature_columns, view_masks
from accord.resolve.comparisons import Comparisons, comparisons_of
from accord.resolve.model import FSModel, match_weight_sql
from accord.resolve.pipeline import (
    Compute,
    Computed,
    corroborated_sql,
    dob_exact_sql,
    given_model,
    identifier_agrees_sql,
    untrained_notes,
)
from accord.resolve.settings import Settings
from accord.resolve.training import draw_sql, fit, known_levels
from accord.resolve.working import (
    FEATURES,
    IN_BASE,
    MARKS,
    SHARED,
    VIEW,
    base_of,
    base_pairs_sql,
    blocking_source,
    load_masked,
    masked_view_sql,
    patterns,
    shared_identifiers_sql,
    tf_tables,
)
from accord.spark.backend import SparkBackend
from accord.spark.clustering import cluster_on_spark, labels_of
from accord.spark.dialect import SparkDialect, register_functions
from accord.spark.session import SparkOptions, spark_session
from accord.spark.standardise import EVIDENCE, features_frame
from accord.sql import local
from accord.sql.backend import DuckDBBackend, computing
from accord.sql_text import ident, lit
from accord.standardise.features import load_features
from accord.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Step = Callable[[str, float], None]
PROB = "1 / (1 + pow(2, -match_weight))"


def on_spark(options: SparkOptions | None = None, session: SparkSession | None = None,
             timings: dict[str, float] | None = None) -> Compute:
    """The computation of a resolution run on Spark, for ``pipeline.resolve(compute=...)``.
    ``options``: where Spark runs, how it compares strings and where it trades files with the
    store (None: the settings file's ``spark`` section); ``session``: one the caller holds,
    used as it is and left running; ``timings``: filled with each step's seconds and the
    clustering's sizes."""
    def compute(store: Store, db: DuckDBBackend, settings: Settings, model_path: Path | None,
                model_in: Path | None, labels: Path | None, registry: Registry,
                say: Step) -> Computed:
        if labels is not None:
            raise AccordError("--labels trains on the embedded engine only for now: train there "
                              "(accord resolve --labels FILE --model-out MODEL) and give the model "
                              "to the spark run (--model MODEL)")
        chosen = options or SparkOptions.of(settings.spark)
        with spark_session(chosen, session) as spark, _exchange(chosen.exchange) as folder:
            register_functions(spark)
            sb = SparkBackend(spark, SparkDialect(chosen.similarity))
            try:
                return _compute(store, db, sb, folder, settings, model_path, model_in, registry,
                                say, chosen, timings)
            finally:
                sb.close()
    return compute


@contextlib.contextmanager
def _exchange(where: Path | None) -> Iterator[Path]:
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="accord-exchange-", dir=where))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _partitions(spark: SparkSession, options: SparkOptions) -> int:
    return int(options.partitions or spark.conf.get("spark.sql.shuffle.partitions") or 8)


def _compute(store: Store, db: DuckDBBackend, sb: SparkBackend, folder: Path, settings: Settings,
             model_path: Path | None, model_in: Path | None, registry: Registry, say: Step,
             options: SparkOptions, timings: dict[str, float] | None) -> Computed:
    spark = sb.spark
    comps = comparisons_of(settings)
    clock: list[tuple[str, float]] = []   # (step, when it started)

    def step(label: str, frac: float) -> None:
        now = time.perf_counter()
        if timings is not None and clock:
            timings[clock[-1][0]] = now - clock[-1][1]
        clock.append((label, now))
        spark.sparkContext.setJobDescription(f"accord resolve: {label}")  # names the stages
        say(label, frac)

    step("standardise", 0.05)
    records_dir = folder / "records"
    db.run(f"COPY ({current_records_sql()}) TO {lit(str(records_dir))} "
           f"(FORMAT parquet, PER_THREAD_OUTPUT true)")
    records_in = spark.read.parquet(str(records_dir))
    features = features_frame(records_in, feature_columns(registry), _partitions(spark, options))
    sb.keep(FEATURES, features)
    records = int(sb.scalar(f"SELECT count(*) FROM {FEATURES}"))
    base = int(sb.scalar(f"SELECT count(*) FROM {FEATURES} WHERE {IN_BASE}"))
    k = settings.clustering.shared_identifier_people
    sb.create_table(SHARED, shared_identifiers_sql(k, base_of(FEATURES)))
    columns = [c for c in features.columns if c != EVIDENCE]
    sb.create_table(VIEW, masked_view_sql(FEATURES, SHARED, [*columns, EVIDENCE]))
    shared = int(sb.scalar(f"SELECT count(*) FROM {SHARED}"))

    step("block", 0.2)
    report = blk.run_blocking(sb, settings.blocking, blocking_source, "pairs", base=IN_BASE)

    step("compare", 0.35)
    _compare(sb, comps, "pairs", "gammas")
    sb.drop("pairs")

    step("train model", 0.55)
    model = given_model(comps, model_in, None)
    if model is None:
        model = _train(sb, settings, comps, base)
    notes = report.messages() + untrained_notes(model, base, records)
    if model_path is not None:
        model.save(model_path)

    step("score", 0.7)
    tf = tf_tables(sb, FEATURES, base_of(FEATURES), comps)
    sb.create_table("scored", f"""
        SELECT g.rid_l, g.rid_r,
               {match_weight_sql(model, settings.model.tf_min_u, tf)}
               AS match_weight, {corroborated_sql(settings)} AS corroborated,
               {identifier_agrees_sql(comps)} AS identifier, {dob_exact_sql(comps)} AS dob_exact
        FROM gammas g LEFT JOIN tf_rid t ON t.rid = g.rid_l""")
    sb.drop("gammas")
    histogram = [(int(b), int(n)) for b, n in sb.rows(
        "SELECT CAST(floor(match_weight) AS BIGINT) AS b, count(*) FROM scored GROUP BY 1 ORDER BY 1")]

    step("cluster", 0.8)
    c = settings.clustering
    sb.create_table("edges", f"SELECT rid_l, rid_r, match_weight, identifier, dob_exact FROM scored "
                             f"WHERE {PROB} >= {c.link_probability} AND corroborated")
    sb.create_table("guard_nodes", f"""
        SELECT rid, ssn, a_number, passport, itin,
               CASE WHEN dob IS NOT NULL THEN dob_y ELSE -1 END AS y, {EVIDENCE} AS ev,
               {MARKS} AS marks
        FROM {VIEW}""")
    clustering = cluster_on_spark(sb, "edges", "guard_nodes", records=records,
                                  gap=c.max_dob_year_gap, evidence_guard=c.evidence_guard,
                                  bridge=c.identifier_bridges_dob_gap,
                                  view_masks=view_masks(registry))
    labels = labels_of(clustering, records)

    step("write back", 0.85)
    _bring_back(sb, db, store, folder, columns, c.review_probability)
    if timings is not None:
        timings[clock[-1][0]] = time.perf_counter() - clock[-1][1]
        timings["components"] = clustering.components
        timings["components clustered again"] = clustering.clustered_again
        timings["largest component"] = clustering.largest
        timings["component rounds"] = clustering.rounds
        timings["pairs"] = report.pairs
    return Computed(records, shared, base, report, model, notes, histogram, labels,
                    clustering.rejected, clustering.reasons, clustering.parts)


def _compare(sb: SparkBackend, comps: Comparisons, pairs: str, out: str) -> None:
    """``out``: one row per pair of ``pairs`` (rid_l, rid_r, rule, rules and a gamma per
    comparison), read from the masked features."""
    gammas = ", ".join(comps.gamma_columns())
    frame = f"({comps.pair_frame_sql(pairs, VIEW)})"
    sb.create_table(out, f"SELECT rid_l, rid_r, rule, rules, {gammas} FROM ({comps.gammas_sql(frame)})")


def _train(sb: SparkBackend, settings: Settings, comps: Comparisons, base: int) -> FSModel:
    """EM as the embedded run trains it (``training.train``): u from the same random pairs of
    base records (ranks drawn by DuckDB's hash, as there), the known levels from value counts,
    m from the blocked pairs of two base records."""
    spark = sb.spark
    ms = settings.model
    draw = local.arrow(draw_sql(base, ms.u_sample_pairs, ms.u_seed))
    sb.keep("u_draw", spark.createDataFrame(draw))
    sb.keep("u_ranks", _ranks(sb))
    sb.create_table("u_pairs", """
        SELECT least(l.rid, r.rid) AS rid_l, greatest(l.rid, r.rid) AS rid_r, -1 AS rule,
               CAST(0 AS BIGINT) AS rules
        FROM u_draw s JOIN u_ranks l ON l.k = s.a JOIN u_ranks r ON r.k = s.b
        WHERE s.a <> s.b""")
    _compare(sb, comps, "u_pairs", "u_gammas")
    sampled = patterns(sb, "u_gammas", comps=comps)[:2]
    for t in ("u_draw", "u_ranks", "u_pairs", "u_gammas"):
        sb.drop(t)
    known = known_levels(sb, base_of(FEATURES), comps)
    blocked = patterns(sb, base_pairs_sql("gammas", VIEW), by_rules=True, comps=comps)
    return fit(settings, base, sampled, known, blocked)


def _ranks(sb: SparkBackend) -> Any:
    """(k, rid) of the base records, k = 0, 1, ... in rid order: range-partitioned by rid, each
    partition numbered in order and offset by the records of the partitions before it."""
    from pyspark.sql import functions as F

    base = sb.frame(f"SELECT rid FROM {FEATURES} WHERE {IN_BASE}")
    parts = int(sb.spark.conf.get("spark.sql.shuffle.partitions") or 8)
    ordered = (base.repartitionByRange(parts, "rid").sortWithinPartitions("rid")
               .withColumn("part", F.spark_partition_id())
               .withColumn("mono", F.monotonically_increasing_id()))
    ordered = sb.keep("_ranked", ordered)
    counts = sorted((int(p), int(n)) for p, n in ordered.groupBy("part").count().collect())
    starts, before = [], 0
    for part, n in counts:
        starts.append((part, before))
        before += n
    offsets = sb.spark.createDataFrame(starts or [(0, 0)], "part INT, start BIGINT")
    # monotonically_increasing_id: the partition in the upper 31 bits, the row in the lower 33.
    return (ordered.join(F.broadcast(offsets), "part")
            .select((F.col("start") + F.col("mono") - F.shiftleft(F.col("part").cast("bigint"), 33))
                    .alias("k"), "rid"))


def _bring_back(sb: SparkBackend, db: DuckDBBackend, store: Store, folder: Path,
                columns: list[str], review: float) -> None:
    """``features`` and the masked identifiers into the store (its working tables, declared),
    the masked view over them, and the pairs at or above the review threshold as the temp
    table ``scored`` that ``write_results`` reads."""
    cols = ", ".join(ident(c) for c in columns)
    for name, sql in ((FEATURES, f"SELECT {cols} FROM {FEATURES}"),
                      (SHARED, f"SELECT kind, value FROM {SHARED}"),
                      ("scored", f"SELECT rid_l, rid_r, match_weight, corroborated FROM scored "
                                 f"WHERE {PROB} >= {review}")):
        sb.frame(sql).write.mode("overwrite").parquet(str(folder / name))
    files = {name: str(folder / name / "*.parquet") for name in (FEATURES, SHARED, "scored")}
    with computing(store):
        load_features(db.con, files[FEATURES])
        load_masked(db, files[SHARED])
    db.create_table("scored", f"SELECT * FROM read_parquet({lit(files['scored'])})", temp=True)
