"""Clustering with guards: links above the threshold form entities, unless they would put
two different people's identifiers in one entity.

A cluster may not hold two different SSNs, two different A-numbers, or dates of birth more
than ``max_dob_year_gap`` years apart. Connected components are found first (NumPy); only
components that break a guard are rebuilt, adding their links strongest first and skipping
each link that would join incompatible groups — the component is split at its weakest links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster label per rid
    rejected_links: list[tuple[int, int, float]]  # links skipped by a guard
    components_split: int


class _Groups:
    """Union-find that tracks each group's SSNs, A-numbers and birth-year range."""

    def __init__(self, nodes: np.ndarray, ssn: np.ndarray, anum: np.ndarray,
                 year: np.ndarray, gap: int) -> None:
        self.parent = {int(n): int(n) for n in nodes}
        self.ssn = {int(n): ({int(ssn[i])} if ssn[i] >= 0 else set()) for i, n in enumerate(nodes)}
        self.anum = {int(n): ({int(anum[i])} if anum[i] >= 0 else set())
                     for i, n in enumerate(nodes)}
        self.ymin = {int(n): int(year[i]) if year[i] >= 0 else None for i, n in enumerate(nodes)}
        self.ymax = dict(self.ymin)
        self.gap = gap

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def try_union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if len(self.ssn[ra] | self.ssn[rb]) > 1 or len(self.anum[ra] | self.anum[rb]) > 1:
            return False
        lo = [y for y in (self.ymin[ra], self.ymin[rb]) if y is not None]
        hi = [y for y in (self.ymax[ra], self.ymax[rb]) if y is not None]
        if lo and max(hi) - min(lo) > self.gap:
            return False
        self.parent[rb] = ra
        self.ssn[ra] |= self.ssn.pop(rb)
        self.anum[ra] |= self.anum.pop(rb)
        self.ymin[ra] = min(lo) if lo else None
        self.ymax[ra] = max(hi) if hi else None
        return True


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` nodes given edges (a[i], b[i]): components numbered
    0, 1, ... in the order of their smallest node (as SciPy's ``connected_components``
    numbers them), in NumPy alone (:func:`component_roots`, renumbered)."""
    return np.unique(component_roots(n, a, b), return_inverse=True)[1].astype(np.int64)


def component_roots(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest node of each node's component, given edges (a[i], b[i]). Each round hooks
    the larger of two joined roots under the smaller, then jumps pointers until every node
    points at its root (the smallest node of its tree); a few rounds suffice."""
    parent = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            break
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]  # joined edges never return
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    return parent


def codes(values: list[str | None]) -> np.ndarray:
    """Identifier values as integer codes (-1 where missing), for the guards."""
    seen: dict[str, int] = {}
    return np.array([-1 if v is None else seen.setdefault(v, len(seen)) for v in values],
                    dtype=np.int64)


def cluster(n: int, rid_l: np.ndarray, rid_r: np.ndarray, weight: np.ndarray,
            ssn: np.ndarray, anum: np.ndarray, dob_year: np.ndarray,
            max_dob_year_gap: int = 1) -> ClusterResult:
    """Cluster ``n`` records (rids 0..n-1) given links. ``ssn`` and ``anum`` are integer
    codes of the identifiers (-1 where missing), ``dob_year`` -1 where missing; all by rid."""
    if len(rid_l) == 0:
        return ClusterResult(np.arange(n), [], 0)
    labels = connected_components(n, rid_l, rid_r)
    bad = _components_breaking_guards(labels, ssn, anum, dob_year, max_dob_year_gap)
    rejected: list[tuple[int, int, float]] = []
    if not len(bad):
        return ClusterResult(labels, rejected, 0)
    # Nodes and links of the offending components, grouped by component (one sort, not a
    # scan of every label per component); links strongest first, ties in rid order.
    is_bad = np.zeros(int(labels.max()) + 1, dtype=bool)
    is_bad[bad] = True
    nodes = np.flatnonzero(is_bad[labels])
    nodes = nodes[np.argsort(labels[nodes], kind="stable")]
    node_bounds = np.flatnonzero(np.diff(labels[nodes])) + 1
    edges = np.flatnonzero(is_bad[labels[rid_l]])
    edges = edges[np.lexsort((rid_r[edges], rid_l[edges], -weight[edges], labels[rid_l[edges]]))]
    edge_bounds = np.flatnonzero(np.diff(labels[rid_l[edges]])) + 1
    next_label = int(labels.max()) + 1
    for comp_nodes, comp_edges in zip(np.split(nodes, node_bounds), np.split(edges, edge_bounds),
                                      strict=True):
        comp = int(labels[comp_nodes[0]])
        groups = _Groups(comp_nodes, ssn[comp_nodes], anum[comp_nodes], dob_year[comp_nodes],
                         max_dob_year_gap)
        for e in comp_edges:
            a, b = int(rid_l[e]), int(rid_r[e])
            if not groups.try_union(a, b):
                rejected.append((a, b, float(weight[e])))
        roots: dict[int, int] = {}
        for node in comp_nodes:
            root = groups.find(int(node))
            if root not in roots:
                roots[root] = comp if not roots else next_label
                if roots[root] == next_label:
                    next_label += 1
            labels[node] = roots[root]
    return ClusterResult(labels, rejected, len(bad))


def _spread(labels: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """max - min of the present (>= 0) values per label; -1 where a label has none."""
    present = values >= 0
    hi = np.full(size, -1, dtype=np.int64)
    lo = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    np.maximum.at(hi, labels[present], values[present])
    np.minimum.at(lo, labels[present], values[present])
    return np.where(hi >= 0, hi - lo, -1)


def _components_breaking_guards(labels: np.ndarray, ssn: np.ndarray, anum: np.ndarray,
                                year: np.ndarray, gap: int) -> np.ndarray:
    size = int(labels.max()) + 1
    bad = (_spread(labels, ssn, size) > 0) | (_spread(labels, anum, size) > 0) | \
        (_spread(labels, year, size) > gap)
    return np.flatnonzero(bad)
