"""Explanations: how a pair's match weight is built, and why records share an entity.

These read person data (which records link, how their values compare). They are library
functions for the services behind the governance gate; no front end calls them directly.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord import charts
from accord.errors import AccordError
from accord.ingest.reads import current_records_sql
from accord.resolve.base import withheld_sql
from accord.resolve.comparisons import Comparisons, comparisons_of
from accord.resolve.model import FSModel
from accord.resolve.settings import ModelSettings, Settings
from accord.resolve.views import links_sql, members_sql
from accord.resolve.working import FEATURES, IDENTIFIERS, IN_BASE, SHARED, masked_view_sql
from accord.sql import local
from accord.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

RecordKey = tuple[str, str]  # (source, record_id)


@dataclass
class Contribution:
    comparison: str
    level: str
    gamma: int
    log2_bayes_factor: float


@dataclass
class PairExplanation:
    a: RecordKey
    b: RecordKey
    prior_weight: float
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def match_weight(self) -> float:
        return self.prior_weight + sum(c.log2_bayes_factor for c in self.contributions)

    @property
    def match_probability(self) -> float:
        return float(1 / (1 + 2 ** (-self.match_weight)))

    def waterfall_svg(self) -> str:
        steps = [charts.Bar(f"{c.comparison}: {c.level}", c.log2_bayes_factor)
                 for c in self.contributions]
        return charts.waterfall("How the match weight is built", "prior", self.prior_weight,
                                steps)


def latest_model(store: Store) -> FSModel:
    """The latest run's model, with the comparisons that run declared."""
    rows = store.query("SELECT model, settings FROM resolution_runs ORDER BY run_id DESC LIMIT 1")
    if not rows:
        raise AccordError("no resolution run in the store: run `accord resolve` first")
    return FSModel.from_json(json.loads(rows[0][0]), run_comparisons(rows[0][1]))


def run_comparisons(settings_json: str | None) -> Comparisons:
    """The comparisons a run declared (its stored settings; a run stored before comparisons
    were declared used the package's)."""
    if not settings_json:
        return comparisons_of(None)
    return comparisons_of(Settings.model_validate_json(settings_json))


def _pair_features(store: Store, a: RecordKey, b: RecordKey) -> tuple[pa.Table, pa.Table]:
    """The two records' rows of ``features`` and the shared identifiers among their values
    (what ``resolve_features`` masks), read from the store in SQL both engines read."""
    feats = store.read_arrow(f"SELECT * FROM {FEATURES} WHERE (source = ? AND record_id = ?) "
                             "OR (source = ? AND record_id = ?)", [*a, *b])
    for key in (a, b):
        if not any(s == key[0] and r == key[1] for s, r in zip(feats.column("source").to_pylist(),
                                                               feats.column("record_id").to_pylist(),
                                                               strict=True)):
            raise AccordError(f"record {key[0]}:{key[1]} is not among the resolved records")
    values = sorted({str(v) for c in IDENTIFIERS for v in feats.column(c).to_pylist() if v is not None})
    shared = store.read_arrow(f"SELECT kind, value FROM {SHARED} WHERE {store.dialect.in_list('value')}",
                              [values or ["<none>"]])
    return feats, shared


def explain_pair(store: Store, a: RecordKey, b: RecordKey) -> PairExplanation:
    """Per-comparison contributions to the pair's match weight (the waterfall's data). The two
    records' features are read from the store; the comparison runs in an in-process DuckDB,
    as resolution compares, whatever engine holds the store."""
    model = latest_model(store)
    feats, shared = _pair_features(store, a, b)
    rid = {(s, r): int(i) for s, r, i in zip(feats.column("source").to_pylist(),
                                              feats.column("record_id").to_pylist(),
                                              feats.column("rid").to_pylist(), strict=True)}
    ra, rb = sorted((rid[a], rid[b]))
    comps = model.comparisons
    cols = ", ".join(f"gamma_{c.name}" for c in comps)
    tf_cols = ", ".join(f"{c}_l" for c in comps.tf_columns)
    row = local.rows(f"""
        WITH _xrf AS ({masked_view_sql('_xfeat', '_xshared')}),
             _xp AS (SELECT CAST(? AS BIGINT) AS rid_l, CAST(? AS BIGINT) AS rid_r, -1 AS rule,
                            CAST(0 AS BIGINT) AS rules),
             _xf AS ({comps.pair_frame_sql('_xp', '_xrf')})
        SELECT {cols}{', ' if tf_cols else ''}{tf_cols} FROM ({comps.gammas_sql('_xf')}) g""",
                     [ra, rb], tables={"_xfeat": feats, "_xshared": shared})[0]
    values = row[len(comps):]
    tf = {c: _tf(store, c, v) for c, v in zip(comps.tf_columns, values, strict=True)}
    out = PairExplanation(a, b, model.prior_weight)
    floor = _tf_min_u(store)
    for c, gamma in zip(comps, row[: len(comps)], strict=True):
        bf = model.bayes_factor_log2(c.name, gamma)
        top = gamma == len(c.levels) - 1
        if top and c.tf_column is not None:
            # As scoring: a name no base record holds counts as the rarest (tf_min_u).
            bf = math.log2(model.m[c.name][gamma] / max(tf[c.tf_column] or floor, floor))
        out.contributions.append(Contribution(c.name, c.label(gamma), int(gamma), bf))
    return out


def _tf(store: Store, column: str, value: str | None) -> float | None:
    """The value's term frequency as the run counted it: among the base records (the names
    ``resolve_features`` holds are those of ``features``: it masks identifiers only)."""
    if value is None:
        return None
    total = store.scalar(f"SELECT count(*) FROM {FEATURES} WHERE {column} IS NOT NULL AND {IN_BASE}")
    if not total:
        return None
    n = store.scalar(f"SELECT count(*) FROM {FEATURES} WHERE {column} = ? AND {IN_BASE}", [value])
    return float(int(n) / int(total)) if n else None


def _tf_min_u(store: Store) -> float:
    """The latest run's floor for term-frequency u."""
    rows = store.query("SELECT settings FROM resolution_runs ORDER BY run_id DESC LIMIT 1")
    try:
        return float(json.loads(rows[0][0])["model"]["tf_min_u"])
    except (IndexError, KeyError, TypeError, ValueError):
        return float(ModelSettings().tf_min_u)


@dataclass
class LinkStep:
    a: RecordKey
    b: RecordKey
    match_weight: float
    match_probability: float


def entity_path(store: Store, a: RecordKey, b: RecordKey, view: str = "") -> list[LinkStep]:
    """Why two records are in one entity: the chain of links joining them, choosing at each
    step the strongest available (a maximum-bottleneck path). ``view``: in that view's
    partition, through its links (accord.resolve.views)."""
    members = members_sql(view)
    ea = store.scalar(f"SELECT entity_id FROM ({members}) m WHERE source = ? AND record_id = ?",
                      list(a))
    eb = store.scalar(f"SELECT entity_id FROM ({members}) m WHERE source = ? AND record_id = ?",
                      list(b))
    if ea is None or eb is None:
        raise AccordError("both records must belong to resolved entities")
    if ea != eb:
        return []
    # In a view, the records it withholds keep their full-run ids but are absent: no step
    # goes through them.
    hidden = (f"JOIN ({current_records_sql()}) r USING (source, record_id) "
              f"WHERE NOT ({withheld_sql(view)}) AND" if view else "WHERE")
    rows = store.query(f"""
        WITH m AS (SELECT m.source, m.record_id FROM ({members}) m {hidden} m.entity_id = ?)
        SELECT l.source_l, l.record_id_l, l.source_r, l.record_id_r, l.match_weight,
               l.match_probability FROM ({links_sql(view)}) l
        JOIN m ml ON ml.source = l.source_l AND ml.record_id = l.record_id_l
        JOIN m mr ON mr.source = l.source_r AND mr.record_id = l.record_id_r
        WHERE l.status = 'linked'""", [ea])
    graph: dict[RecordKey, list[tuple[RecordKey, float, float]]] = {}
    for sl, il, sr, ir, w, p in rows:
        graph.setdefault((sl, il), []).append(((sr, ir), w, p))
        graph.setdefault((sr, ir), []).append(((sl, il), w, p))
    best: dict[RecordKey, float] = {a: float("inf")}
    prev: dict[RecordKey, tuple[RecordKey, float, float]] = {}
    heap: list[tuple[float, RecordKey]] = [(-float("inf"), a)]
    while heap:
        neg, node = heapq.heappop(heap)
        if node == b:
            break
        for nxt, w, p in graph.get(node, []):
            cap = min(-neg, w)
            if cap > best.get(nxt, -float("inf")):
                best[nxt] = cap
                prev[nxt] = (node, w, p)
                heapq.heappush(heap, (-cap, nxt))
    if b not in prev and a != b:
        return []
    path: list[LinkStep] = []
    node = b
    while node != a:
        p_node, w, p = prev[node]
        path.append(LinkStep(p_node, node, w, p))
        node = p_node
    return list(reversed(path))


def write_model_charts(store: Store, out_dir: Path,
                       histogram: Sequence[tuple[int, int]] = ()) -> list[Path]:
    """m/u (as log2 Bayes factors per level) and, given the run's ``histogram`` of compared
    pairs by whole match weight (``ResolveSummary.weight_histogram``), the match-weight
    histogram, as SVG files."""
    model = latest_model(store)
    bars = []
    for c in model.comparisons:
        for g in range(len(c.levels) - 1, -1, -1):
            bars.append(charts.Bar(f"{c.name}: {c.label(g)}", model.bayes_factor_log2(c.name, g)))
    files = [charts.write(out_dir / "model_weights.svg", charts.signed_bars(
        "Evidence per comparison level (log2 m/u)", bars))]
    if histogram:
        lo, hi = int(histogram[0][0]), int(histogram[-1][0]) + 1
        counts = [0] * (hi - lo)
        for b, n in histogram:
            counts[int(b) - lo] = int(n)
        files.append(charts.write(out_dir / "match_weights.svg", charts.histogram(
            "Match weights of compared pairs", [float(x) for x in range(lo, hi + 1)], counts,
            "match weight (log2 odds)")))
    return files


def describe(expl: PairExplanation) -> dict[str, Any]:
    return {"a": list(expl.a), "b": list(expl.b), "prior_weight": expl.prior_weight,
            "match_weight": expl.match_weight, "match_probability": expl.match_probability,
            "contributions": [c.__dict__ for c in expl.contributions]}
