"""Connected components on Spark beside the NumPy version, on one random graph.

    .venv/bin/python bench/bench_spark_components.py [--edges 1000000] [--nodes N]
        [--master local[2]] [--checkpoint-every 3] [--seed 7] [--no-check]

Draws ``--edges`` edges between ``--nodes`` nodes (as many nodes as edges by default: one giant
component and many small ones), uniformly, in either direction, duplicates and self-loops
included. Prints the NumPy seconds (``accord.resolve.cluster.component_roots``), then each
Spark round (edges left, seconds so far) and the Spark seconds: the rounds, then the roots
written to Spark's no-op sink (every row computed, nothing collected). With the check on, the
Spark roots are then fetched (outside the timing) and compared with NumPy's. No assertions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from accord.resolve.cluster import component_roots as numpy_roots
from accord.spark.components import component_roots
from accord.spark.session import SparkOptions, spark_session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--nodes", type=int, default=None, help="default: as many as edges")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--checkpoint-every", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-check", action="store_true", help="do not compare the roots")
    args = ap.parse_args()
    n = args.nodes or args.edges

    rng = np.random.default_rng(args.seed)
    a = rng.integers(0, n, args.edges, dtype=np.int64)
    b = rng.integers(0, n, args.edges, dtype=np.int64)
    t = time.perf_counter()
    expected = numpy_roots(n, a, b)
    numpy_s = time.perf_counter() - t
    print(f"graph: {n:,} nodes, {args.edges:,} edges, {len(np.unique(expected)):,} components")
    print(f"numpy: {numpy_s:.2f} s")

    with spark_session(SparkOptions(master=args.master)) as spark:
        edges = spark.createDataFrame(pa.table({"rid_l": a, "rid_r": b})).persist()
        nodes = spark.range(n).withColumnRenamed("id", "rid")
        edges.count()  # the input is in Spark before the clock starts
        t = time.perf_counter()

        def done(r: int, left: int) -> None:
            print(f"  round {r}: {left:,} edges, {time.perf_counter() - t:.1f} s")

        roots = component_roots(edges, nodes, checkpoint_every=args.checkpoint_every, round_done=done)
        rounds_s = time.perf_counter() - t
        roots.write.format("noop").mode("overwrite").save()
        spark_s = time.perf_counter() - t
        print(f"spark ({args.master}): {spark_s:.1f} s ({rounds_s:.1f} s in the rounds), "
              f"{spark_s / numpy_s:.0f}x numpy")
        if not args.no_check:
            got = roots.toArrow().sort_by("rid")
            same = np.array_equal(got["rid"].to_numpy(), np.arange(n)) and \
                np.array_equal(got["root"].to_numpy(), expected)
            print(f"same roots as numpy: {same}")


if __name__ == "__main__":
    main()
