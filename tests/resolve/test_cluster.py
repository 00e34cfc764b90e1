from __future__ import annotations

import numpy as np

from accord.resolve.cluster import cluster, codes


def _run(edges: list[tuple[int, int, float]], n: int, ssn: list[str | None] | None = None,
         anum: list[str | None] | None = None, years: list[int] | None = None):
    rid_l = np.array([e[0] for e in edges], dtype=np.int64)
    rid_r = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=float)
    return cluster(n, rid_l, rid_r, w, codes(ssn or [None] * n), codes(anum or [None] * n),
                   np.array(years or [-1] * n, dtype=np.int64), 1)


def _groups(labels: np.ndarray) -> set[frozenset[int]]:
    out: dict[int, set[int]] = {}
    for i, lab in enumerate(labels):
        out.setdefault(int(lab), set()).add(i)
    return {frozenset(g) for g in out.values()}


def test_links_form_connected_entities() -> None:
    res = _run([(0, 1, 10.0), (1, 2, 9.0), (3, 4, 8.0)], 6)
    assert _groups(res.labels) == {frozenset({0, 1, 2}), frozenset({3, 4}), frozenset({5})}
    assert res.rejected_links == [] and res.components_split == 0


def test_two_different_ssns_are_split_at_the_weakest_link() -> None:
    # 0 and 2 hold different SSNs; the chain 0-1-2 must break at the weaker link (1-2).
    res = _run([(0, 1, 12.0), (1, 2, 7.0)], 3, ssn=["111223333", None, "444556666"])
    assert _groups(res.labels) == {frozenset({0, 1}), frozenset({2})}
    assert res.rejected_links == [(1, 2, 7.0)]
    assert res.components_split == 1


def test_different_a_numbers_never_share_an_entity() -> None:
    res = _run([(0, 1, 5.0), (1, 2, 20.0), (0, 2, 4.0)], 3, anum=["000000001", None, "000000002"])
    groups = _groups(res.labels)
    assert not any({0, 2} <= g for g in groups)
    assert frozenset({1, 2}) in groups  # the strongest link survives


def test_birth_years_too_far_apart_are_split() -> None:
    res = _run([(0, 1, 15.0), (1, 2, 14.0)], 3, years=[1980, 1981, 1990])
    assert frozenset({0, 1}) in _groups(res.labels)
    assert not any(2 in g and len(g) > 1 for g in _groups(res.labels))


def test_no_links_means_singletons() -> None:
    res = _run([], 4)
    assert len(_groups(res.labels)) == 4


def test_guarded_split_does_not_depend_on_the_order_links_arrive_in() -> None:
    # Equal weights everywhere: ties are broken by record, not by arrival order.
    edges = [(0, 1, 5.0), (1, 2, 5.0), (2, 3, 5.0), (0, 3, 5.0), (4, 5, 5.0)]
    ssn = ["111223333", None, "444556666", None, "777889999", None]
    first = _run(edges, 6, ssn=ssn)
    again = _run(list(reversed(edges)), 6, ssn=ssn)
    assert _groups(first.labels) == _groups(again.labels)
    assert sorted(first.rejected_links) == sorted(again.rejected_links)


def test_components_match_scipy_and_number_by_smallest_node() -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    from accord.resolve.cluster import connected_components

    rng = np.random.default_rng(7)
    cases = [(1, 0), (5, 2), (200, 150), (2000, 1500), (3000, 6000)]
    for n, m in cases:
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        ref = scipy_components(coo_matrix((np.ones(m), (a, b)), shape=(n, n)), directed=False)[1]
        assert np.array_equal(connected_components(n, a, b), ref), (n, m)
    # A long chain in shuffled order (the worst case for pointer jumping) is one component.
    n = 5000
    perm = rng.permutation(n)
    labels = connected_components(n, perm[:-1], perm[1:])
    assert set(labels.tolist()) == {0}
