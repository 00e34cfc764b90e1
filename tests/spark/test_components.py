"""Connected components on Spark give every node the root the NumPy clustering gives it."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import AccordError
from accord.resolve.cluster import component_roots as numpy_roots
from accord.spark.components import component_roots

EDGES = "rid_l bigint, rid_r bigint"
NODES = "rid bigint"


def rid(i: int) -> int:
    """Node i's rid: spread out and partly negative, in the same order as i."""
    return 7 * i - 1000


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """``n`` nodes (0..n-1) and edges among them: a small random graph (self-loops, isolated
    nodes), maybe a path of 200 in scrambled order and a star of 500 with its hub among its
    leaves, a few edges joining pieces, duplicates, each edge in either direction."""
    rnd: random.Random = draw(st.randoms(use_true_random=False))
    n = draw(st.integers(0, 30))
    pairs: list[tuple[int, int]] = []
    if n:
        pairs += draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))
    if draw(st.booleans()):
        order = list(range(n, n + 200))
        rnd.shuffle(order)
        pairs += list(itertools.pairwise(order))
        n += 200
    if draw(st.booleans()):
        hub = n + rnd.randrange(501)
        pairs += [(hub, leaf) for leaf in range(n, n + 501) if leaf != hub]
        n += 501
    if n:
        pairs += [(rnd.randrange(n), rnd.randrange(n)) for _ in range(draw(st.integers(0, 3)))]
    pairs += rnd.sample(pairs, k=min(len(pairs), draw(st.integers(0, 10))))
    pairs = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in pairs]
    rnd.shuffle(pairs)
    return n, pairs


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=graphs(), with_nodes=st.booleans(), checkpoint_every=st.integers(1, 3))
def test_roots_equal_the_numpy_roots(spark: Any, graph: tuple[int, list[tuple[int, int]]],
                                     with_nodes: bool, checkpoint_every: int) -> None:
    n, pairs = graph
    edges = spark.createDataFrame([(rid(a), rid(b)) for a, b in pairs], EDGES)
    nodes = spark.createDataFrame([(rid(i),) for i in range(n)], NODES) if with_nodes else None
    rounds: list[tuple[int, int]] = []
    got = component_roots(edges, nodes, checkpoint_every=checkpoint_every,
                          round_done=lambda r, e: rounds.append((r, e)))
    rows = got.collect()
    found = {row["rid"]: row["root"] for row in rows}
    assert len(rows) == len(found)  # one row per node

    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    roots = numpy_roots(n, a, b)
    present = range(n) if with_nodes else sorted({i for p in pairs for i in p})
    assert found == {rid(i): rid(int(roots[i])) for i in present}

    assert [r for r, _ in rounds] == list(range(1, len(rounds) + 1))
    if any(x != y for x, y in pairs):
        # The last round leaves one edge per node that is not its component's root.
        assert rounds[-1][1] == sum(1 for i in present if roots[i] != i)
    else:
        assert rounds == []


def test_no_edges(spark: Any) -> None:
    edges = spark.createDataFrame([], EDGES)
    assert component_roots(edges).collect() == []
    nodes = spark.createDataFrame([(5,), (3,), (5,)], NODES)
    rounds: list[int] = []
    got = component_roots(edges, nodes, round_done=lambda r, e: rounds.append(r))
    assert sorted((row["rid"], row["root"]) for row in got.collect()) == [(3, 3), (5, 5)]
    assert rounds == []


def test_too_many_rounds_is_an_error(spark: Any) -> None:
    edges = spark.createDataFrame([(i, i + 1) for i in range(10)], EDGES)
    with pytest.raises(AccordError, match="did not settle in 1 rounds"):
        component_roots(edges, max_rounds=1)
