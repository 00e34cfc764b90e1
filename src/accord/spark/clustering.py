"""Clustering on Spark: connected components of the links, then the guards and the views' partitions
component by component, as on DuckDB.

The embedded run clusters every link at once (``accord.resolve.cluster.cluster``) and then each
view (``accord.resolve.views.partitions``); both work component by component: a guard only
splits a component, and a view only differs where a component holds a record it withholds. So
on Spark:

1. the components come from :func:`accord.spark.components.component_roots` (each record's
   smallest rid), never collected on the driver;
2. the components that could break a guard (two SSNs or A-numbers, birth years too far apart,
   and with the evidence guard citizenship beside a removal order, or a look-alike link beside an
   identifier link) or that hold a record under a floor regime are found by aggregates;
3. each of those is clustered again on an executor by the very functions the embedded run
   uses, over its own records renumbered in rid order (``applyInPandas`` by component); every
   other component is one person as it stands.

A component is one task's work: its links are few (a person's records and the look-alikes
around them; blocking and masked identifiers keep blocks small), and the largest is reported.

Labels follow the embedded run's order, on which the person ids' tie-breaks rest: a record's
label is its component's smallest rid, and a part a guard split off takes ``n + root * n +``
its own smallest rid (after every component, in component order, as ``cluster`` numbers them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from accord.resolve import views as vw
from accord.resolve.cluster import ClusterResult, Edges, cluster
from accord.resolve.evidence import CITIZENSHIP, REMOVAL

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

# Per record, what the guards read (the masked identifiers; the year of a valid date of birth).
NODE_COLUMNS = ("ssn", "a_number", "passport", "itin", "y", "ev", "marks")
GUARD_IDS = ("ssn", "a_number", "passport", "itin")
OUT_SCHEMA = "kind STRING, view STRING, a BIGINT, b BIGINT, weight DOUBLE, text STRING"


@dataclass
class Clustering:
    """The clustering of every record: ``labels`` of the records in a component (rid, label;
    a record in none is its own person), the links a guard rejected (rid_l, rid_r, weight,
    reason) and the views' partitions."""
    labels: DataFrame
    rejected: list[tuple[int, int, float]]
    reasons: list[str]
    parts: list[vw.ViewPartition]
    components: int
    clustered_again: int
    largest: int
    rounds: int = 0          # rounds of large-star/small-star the components took


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1 where missing): the guards only ask whether two
    values are equal."""
    import pandas as pd

    return np.asarray(pd.factorize(values, use_na_sentinel=True)[0], dtype=np.int64)


def _ints(values: pd.Series, missing: int) -> np.ndarray:
    return np.asarray(values.fillna(missing).astype("int64"), dtype=np.int64)


def bucket_rows(group: pd.DataFrame, *, records: int, gap: int, evidence_guard: bool,
                bridge: bool, view_masks: dict[str, int]) -> pd.DataFrame:
    """The clustering of some components (their links, each with its component's ``root`` and
    both records' guard columns), as rows of ``OUT_SCHEMA``: ``label`` (a = rid, b = label)
    for every record, ``rejected`` (a, b, weight, text = reason), ``view`` (view, a = rid,
    b = label) and ``flip`` (view, a, b, text = status).

    ``cluster`` and ``views.partitions`` work component by component, so one call over several
    components gives what a call per component would: a bucket of them is one call."""
    import pandas as pd

    rid_l = group["rid_l"].to_numpy(np.int64)
    rid_r = group["rid_r"].to_numpy(np.int64)
    sides = [group[["rid_l", "root", *(f"{c}_l" for c in NODE_COLUMNS)]].set_axis(
                 ["rid", "root", *NODE_COLUMNS], axis=1),
             group[["rid_r", "root", *(f"{c}_r" for c in NODE_COLUMNS)]].set_axis(
                 ["rid", "root", *NODE_COLUMNS], axis=1)]
    node = (pd.concat(sides, ignore_index=True).drop_duplicates("rid")
            .sort_values("rid", kind="stable").reset_index(drop=True))
    nodes = node["rid"].to_numpy(np.int64)                  # in rid order
    n = len(nodes)
    li, ri = np.searchsorted(nodes, rid_l), np.searchsorted(nodes, rid_r)
    year = _ints(node["y"], -1)
    ssn, anum = _codes(node["ssn"]), _codes(node["a_number"])
    weight = group["match_weight"].to_numpy(np.float64)
    facts = None
    if evidence_guard:
        ids = np.vstack([_codes(node[c]) for c in GUARD_IDS])
        facts = Edges(group["identifier"].fillna(False).to_numpy(bool),
                      group["dob_exact"].fillna(False).to_numpy(bool), _ints(node["ev"], 0), ids,
                      bridge)
    result: ClusterResult = cluster(n, li, ri, weight, ssn, anum, year, gap, facts)
    root = node["root"].to_numpy(np.int64)
    first = _first_rid(result.labels, nodes)
    label = np.where(first == root, root, records + root * records + first)
    out = _Rows()
    out.add("label", None, nodes, label)
    if result.rejected_links:
        rej = np.array([(a, b) for a, b, _ in result.rejected_links], np.int64)
        out.add("rejected", None, nodes[rej[:, 0]], nodes[rej[:, 1]],
                np.array([w for _, _, w in result.rejected_links], np.float64), result.reasons)
    marks = _ints(node["marks"], 0)
    withheld = {v: (marks & m) != 0 for v, m in view_masks.items() if ((marks & m) != 0).any()}
    if withheld:
        for part in vw.partitions(n, li, ri, weight, ssn, anum, year, gap, result, withheld, facts):
            out.add("view", part.view, nodes[part.rids], _first_rid(part.labels, nodes[part.rids]))
            if len(part.flipped_l):
                out.add("flip", part.view, nodes[part.flipped_l], nodes[part.flipped_r],
                        text=[str(x) for x in part.flipped_status])
    return out.frame()


class _Rows:
    """Rows of ``OUT_SCHEMA``, gathered column by column and made into one frame at the end."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {c: [] for c in ("kind", "view", "a", "b", "weight",
                                                               "text")}

    def add(self, kind: str, view: str | None, a: np.ndarray, b: np.ndarray,
            weight: np.ndarray | None = None, text: list[str] | None = None) -> None:
        n = len(a)
        self.columns["kind"].append(np.full(n, kind, dtype=object))
        self.columns["view"].append(np.full(n, view, dtype=object))
        self.columns["a"].append(np.asarray(a, dtype=np.int64))
        self.columns["b"].append(np.asarray(b, dtype=np.int64))
        self.columns["weight"].append(np.full(n, np.nan) if weight is None else weight)
        self.columns["text"].append(np.full(n, None, dtype=object) if text is None
                                    else np.array(text, dtype=object))

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({c: np.concatenate(parts) for c, parts in self.columns.items()})


def _first_rid(labels: np.ndarray, rids: np.ndarray) -> np.ndarray:
    """For each position, the smallest rid among the positions with its label."""
    labels = np.asarray(labels, dtype=np.int64)
    if not len(labels):
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(labels, return_inverse=True)
    smallest = np.full(int(inverse.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, inverse, rids)
    return smallest[inverse]


def needs_clustering_sql(roots: str, nodes: str, edges: str, gap: int, evidence_guard: bool,
                         withheld_bits: int) -> str:
    """The components (root) a guard could split or a view see differently (one holding a
    record some view withholds: ``withheld_bits`` of ``marks``): aggregates over their records
    (``nodes``: rid and ``NODE_COLUMNS``) and links (``edges``)."""
    risky = (f"OR (max(CASE WHEN (n.ev & {CITIZENSHIP}) <> 0 THEN 1 ELSE 0 END) = 1 "
             f"AND max(CASE WHEN (n.ev & {REMOVAL}) <> 0 THEN 1 ELSE 0 END) = 1)"
             if evidence_guard else "")
    alike = (f"""UNION SELECT c.root FROM {edges} e JOIN {roots} c ON c.rid = e.rid_l
                 GROUP BY c.root
                 HAVING max(CASE WHEN e.identifier THEN 1 ELSE 0 END) = 1
                    AND max(CASE WHEN NOT coalesce(e.identifier, FALSE)
                                  AND NOT coalesce(e.dob_exact, FALSE) THEN 1 ELSE 0 END) = 1"""
             if evidence_guard else "")
    return f"""SELECT c.root FROM {roots} c JOIN {nodes} n ON n.rid = c.rid GROUP BY c.root
               HAVING count(DISTINCT n.ssn) > 1 OR count(DISTINCT n.a_number) > 1
                   OR max(CASE WHEN n.y >= 0 THEN n.y END) - min(CASE WHEN n.y >= 0 THEN n.y END) > {gap}
                   OR max(CASE WHEN (n.marks & {int(withheld_bits)}) <> 0 THEN 1 ELSE 0 END) = 1 {risky}
               {alike}"""


def cluster_on_spark(db: Any, edges: str, nodes: str, *, records: int, gap: int,
                     evidence_guard: bool, bridge: bool, view_masks: dict[str, int],
                     round_done: Any = None) -> Clustering:
    """Cluster ``edges`` (a working table of ``db``, a :class:`~accord.spark.backend.SparkBackend`:
    rid_l, rid_r, match_weight, identifier, dob_exact) over ``nodes`` (rid and
    ``NODE_COLUMNS``). See the module."""
    from pyspark.sql import functions as F

    from accord.spark.components import component_roots

    rounds: list[int] = []

    def counted(done: int, left: int) -> None:
        rounds.append(done)
        if round_done is not None:
            round_done(done, left)

    found = component_roots(db.table(edges).select("rid_l", "rid_r"), round_done=counted)
    db.keep("_roots", found.select("rid", "root"))
    sizes = db.rows("SELECT count(DISTINCT root), coalesce(max(n), 0) FROM "
                    "(SELECT root, count(*) AS n FROM _roots GROUP BY root)")[0]
    withheld_bits = 0
    for mask in view_masks.values():
        withheld_bits |= mask
    db.create_table("_again", needs_clustering_sql("_roots", nodes, edges, gap, evidence_guard,
                                                   withheld_bits))
    again = int(db.scalar("SELECT count(*) FROM _again"))
    picked = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in NODE_COLUMNS)
    links = db.frame(f"""SELECT c.root, e.rid_l, e.rid_r, e.match_weight, e.identifier, e.dob_exact,
                                {picked}
                         FROM {edges} e JOIN _roots c ON c.rid = e.rid_l
                         JOIN _again a ON a.root = c.root
                         JOIN {nodes} l ON l.rid = e.rid_l JOIN {nodes} r ON r.rid = e.rid_r""")

    def run(group: pd.DataFrame) -> pd.DataFrame:
        return bucket_rows(group, records=records, gap=gap, evidence_guard=evidence_guard,
                           bridge=bridge, view_masks=view_masks)

    # Components in buckets (by root): one Python call per bucket, not per component.
    buckets = max(1, int(db.spark.conf.get("spark.sql.shuffle.partitions") or 8) * 4)
    db.keep("_clustered", links.withColumn("bucket", F.abs(F.hash("root")) % buckets)
            .groupBy("bucket").applyInPandas(run, OUT_SCHEMA))
    labels = db.frame("""SELECT c.rid, coalesce(k.b, c.root) AS label FROM _roots c
                         LEFT JOIN (SELECT a, b FROM _clustered WHERE kind = 'label') k
                         ON k.a = c.rid""")
    rejected = db.rows("SELECT a, b, weight, text FROM _clustered WHERE kind = 'rejected' "
                       "ORDER BY a, b")
    parts = _view_parts(db.arrow("SELECT kind, view, a, b, text FROM _clustered "
                                 "WHERE kind IN ('view', 'flip') ORDER BY view, kind, a, b"))
    return Clustering(labels, [(int(a), int(b), float(w)) for a, b, w, _ in rejected],
                      [str(r[3]) for r in rejected], parts, int(sizes[0]), again, int(sizes[1]),
                      max(rounds, default=0))


def _view_parts(rows: Any) -> list[vw.ViewPartition]:
    out: list[vw.ViewPartition] = []
    table = rows.to_pylist()
    for view in sorted({r["view"] for r in table}):
        mine = [r for r in table if r["view"] == view]
        members = [r for r in mine if r["kind"] == "view"]
        flips = [r for r in mine if r["kind"] == "flip"]
        out.append(vw.ViewPartition(
            view, np.array([r["a"] for r in members], np.int64),
            np.array([r["b"] for r in members], np.int64),
            np.array([r["a"] for r in flips], np.int64), np.array([r["b"] for r in flips], np.int64),
            np.array([r["text"] for r in flips], dtype=object)))
    return out


def labels_of(clustering: Clustering, records: int) -> np.ndarray:
    """The label of every record (rid 0..records-1): its own rid unless a component holds it."""
    labels = np.arange(records, dtype=np.int64)
    t = clustering.labels.toArrow()
    labels[t.column("rid").to_numpy()] = t.column("label").to_numpy()
    return labels
