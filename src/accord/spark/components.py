"""Connected components on Spark: for every node, the smallest node of its component, the same
root as :func:`accord.resolve.cluster.component_roots` gives on one machine. Nothing is
collected on the driver: edges and nodes stay in DataFrames; the driver reads two counts a round.

The algorithm is the alternating one of Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii,
"Connected Components in MapReduce and Beyond" (SoCC 2014). Each edge is kept once, as
``(hi, lo)`` with ``hi > lo``; m(u) is the smallest of u and its neighbours. A round is

- **large-star**: every node u links each of its *larger* neighbours to m(u);
- **small-star**: every node u links itself and each of its *smaller* neighbours to m(u).

Each step keeps the graph's components and only ever moves an edge's end to a smaller node. A
round that moves no edge has found a star around each component's smallest node, so a leaf's
one edge names its root. The paper bounds the rounds by O(log² n); a random graph of a million
edges takes seven here, the last one only confirming that nothing moves.

Skew. A node of huge degree (one identifier shared by many records) is what large-star is for:
in one step it hands all the hub's larger neighbours to the hub's smallest neighbour, so the
hub's edges do not stay on the hub; the one node that keeps a huge degree at the end is a big
component's root, whose edges the output needs. Spark does the rest without salting: m(u) is a
grouped minimum, reduced in each map task before the shuffle (a hub sends one row per task, not
one per edge); each join pairs the edges with one row per node, and adaptive execution (on by
default) splits a partition of edges grown past its skew threshold (256 MB by default) over
several tasks, each given that node's one row, which is what salting would do by hand; the
de-duplication shuffles on the whole edge, spreading a hub's edges over every partition. Spark
may broadcast a table of minima smaller than ``spark.sql.autoBroadcastJoinThreshold`` (10 MB by
default) through the driver; set it to -1 to keep every row off the driver.

Lineage. A round joins the edges with themselves twice, so a plan that is never cut grows four
times over each round, and Spark's planning time with it (at a million edges: 5, 19 and 48
seconds of planning for the first three rounds). So each round's edges are checkpointed locally
(``localCheckpoint``: kept in the executors' block stores, under ``spark.local.dir``; no path of
ours) every ``checkpoint_every`` rounds (by default every round), and persisted in between: a
persisted round is released once the next one is computed, a checkpointed one when Spark's
cleaner finds it unused. A local checkpoint is lost with its executor: on a cluster that
removes idle executors, rerun the step.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accord.errors import AccordError

RoundDone = Callable[[int, int], None]
"""Told after each round: the round's number (from 1) and the edges it left."""


def component_roots(edges: DataFrame, nodes: DataFrame | None = None, *, max_rounds: int = 100,
                    checkpoint_every: int = 1, round_done: RoundDone | None = None) -> DataFrame:
    """``(rid BIGINT, root BIGINT)`` for every node in ``edges`` (columns ``rid_l``, ``rid_r``,
    in either order, duplicates and self-loops allowed) or ``nodes`` (column ``rid``): root is
    the smallest rid of the node's component; a node without edges is its own root. An edge
    with a missing end joins nothing (its other end is still a node). More than ``max_rounds``
    rounds without settling is an error. ``round_done`` is told each round's edges."""
    if max_rounds < 1 or checkpoint_every < 1:
        raise AccordError("max_rounds and checkpoint_every must be at least 1")
    # Each pair once, (hi, lo); a self-loop or an edge with one missing end is (x, x): a node.
    pairs = (edges.select(F.greatest("rid_l", "rid_r").cast("bigint").alias("hi"),
                          F.least("rid_l", "rid_r").cast("bigint").alias("lo"))
             .where(F.col("hi").isNotNull()).distinct().localCheckpoint(eager=True))
    current = pairs.where(F.col("hi") != F.col("lo"))
    moved = current.count()
    rounds = 0
    while moved:
        if rounds == max_rounds:
            current.unpersist()
            raise AccordError(f"connected components did not settle in {max_rounds} rounds")
        rounds += 1
        following = _small_star(_large_star(current.select("hi", "lo")))
        checkpointed = rounds % checkpoint_every == 0
        following = following.localCheckpoint(eager=True) if checkpointed else _persisted(following)
        left, moved = _counts(following)  # computes it (if not checkpointed) from the round before
        current.unpersist()
        current = following
        if round_done is not None:
            round_done(rounds, left)
    if rounds % checkpoint_every:
        stars = current.localCheckpoint(eager=True)
        current.unpersist()
        current = stars
    return _roots(current, pairs, nodes)


def _counts(edges: DataFrame) -> tuple[int, int]:
    """The round's edges and how many of them it moved: one row of two counts."""
    row = edges.agg(F.count("*").alias("edges"), F.count_if("moved").alias("moved")).first()
    assert row is not None
    return int(row["edges"]), int(row["moved"])


def _persisted(frame: DataFrame) -> DataFrame:
    return frame.persist(StorageLevel.MEMORY_AND_DISK)


def _smallest_neighbour(edges: DataFrame, key: str) -> DataFrame:
    """``(key, m)``: for each ``hi``, the smallest of its (smaller) neighbours."""
    return edges.groupBy(F.col("hi").alias(key)).agg(F.min("lo").alias("m"))


def _large_star(edges: DataFrame) -> DataFrame:
    """Each edge (hi, lo) becomes (hi, m(lo)): lo's larger neighbour hi goes to lo's smallest
    neighbour, or stays with lo when lo has no smaller neighbour (m(lo) = lo). ``moved``: the
    edge changed. Each edge gives one, duplicates included (the small-star removes them)."""
    smallest = _smallest_neighbour(edges, "lo")
    return (edges.join(smallest, "lo", "left")
            .select("hi", F.coalesce("m", "lo").alias("lo"), F.col("m").isNotNull().alias("moved")))


def _small_star(edges: DataFrame) -> DataFrame:
    """Each edge (hi, lo) becomes (lo, m(hi)): hi's smaller neighbours go to hi's smallest one;
    the edge to that smallest one itself stays (hi, m(hi)), which links hi to it too. An edge
    is ``moved`` when this step or the large-star before it changed it; each edge once."""
    smallest = _smallest_neighbour(edges, "hi")
    at_smallest: Column = F.col("lo") == F.col("m")
    return (edges.join(smallest, "hi")
            .select(F.when(at_smallest, F.col("hi")).otherwise(F.col("lo")).alias("hi"),
                    F.col("m").alias("lo"), (F.col("moved") | ~at_smallest).alias("moved"))
            .groupBy("hi", "lo").agg(F.max("moved").alias("moved")))


def _roots(stars: DataFrame, pairs: DataFrame, nodes: DataFrame | None) -> DataFrame:
    """Every node with its root: a star's leaf (hi) has one edge, to its root; every other node
    is the smallest of its component."""
    ids = pairs.select(F.col("hi").alias("rid")).union(pairs.select(F.col("lo").alias("rid")))
    if nodes is not None:
        given = nodes.select(F.col("rid").cast("bigint").alias("rid"))
        ids = ids.union(given.where(F.col("rid").isNotNull()))
    leaves = stars.select(F.col("hi").alias("rid"), F.col("lo").alias("root"))
    return (ids.distinct().join(leaves, "rid", "left")
            .select("rid", F.coalesce("root", "rid").alias("root")))
