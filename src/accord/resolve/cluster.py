"""Clustering with guards: links above the threshold form entities, unless they would put
two different people's identifiers, or one person's citizenship and another's removal order,
in one entity.

A cluster may not hold two different SSNs, two different A-numbers, or dates of birth more
than ``max_dob_year_gap`` years apart. With the evidence guard on (``edges`` given, see
:class:`Edges`), also:

- **evidence conflict**: a group holding citizenship or lawful-status evidence and a group
  holding removal-order evidence (``accord.resolve.evidence``) join only through a link whose
  identifiers agree exactly (SSN, A-number, passport, ITIN); a link resting on names and
  dates of birth never does. Tracked per group, so it holds through a chain A ~ B ~ C.
- **look-alike**: a link without an exactly agreeing identifier whose dates of birth are not
  equal (day and month swapped, one part off by one, ...) does not join two groups that share
  no identifier when each holds one confirmed by another of its records (an identifier link
  inside it): each side's identifier points to records of its own.

Connected components are found first (NumPy); only components that could break a guard are
rebuilt, adding their links with an exactly agreeing identifier first, then the others,
strongest first within each, and skipping each link that would join incompatible groups —
the component is split at its weakest links, and a record stays with the records that share
its identifier rather than with look-alikes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accord.resolve.evidence import CITIZENSHIP, REMOVAL

# Why a link was skipped (ClusterResult.reasons).
REASONS = {
    "ssn": "the entity would hold two different SSNs",
    "a_number": "the entity would hold two different A-numbers",
    "dob_gap": "the entity's dates of birth would be too far apart",
    "evidence_conflict": "citizenship or lawful-status evidence and a removal order would join "
                         "on names and dates of birth alone, without an identifier agreeing",
    "look_alike": "names and an unequal date of birth would put together two groups whose "
                  "identifiers other records of their own confirm",
}


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster label per rid
    rejected_links: list[tuple[int, int, float]]  # links skipped by a guard
    components_split: int
    reasons: list[str] = field(default_factory=list)  # per rejected link, a key of REASONS


@dataclass
class Edges:
    """What the evidence and look-alike guards read, besides the links' weights: per link,
    does an identifier agree exactly, and do the dates of birth agree exactly; per record
    (by rid), its evidence bits and its identifiers (``ids``: one row per kind, integer codes,
    -1 where missing)."""
    identifier: np.ndarray   # bool per link
    dob_exact: np.ndarray    # bool per link
    evidence: np.ndarray     # int per record
    ids: np.ndarray          # (kinds, records) int
    # May a link whose identifier agrees exactly join dates of birth further apart than the
    # gap (clustering.identifier_bridges_dob_gap)?
    bridge_dob_gap: bool = False

    def take(self, links: np.ndarray, nodes: np.ndarray) -> Edges:
        """These links (by position) between these records (renumbered 0..len-1)."""
        return Edges(self.identifier[links], self.dob_exact[links], self.evidence[nodes],
                     self.ids[:, nodes], self.bridge_dob_gap)


class _Groups:
    """Union-find that tracks each group's SSNs, A-numbers, birth-year range, evidence kinds,
    identifiers and whether an identifier link holds it together."""

    def __init__(self, nodes: np.ndarray, ssn: np.ndarray, anum: np.ndarray,
                 year: np.ndarray, gap: int, evidence: np.ndarray | None = None,
                 ids: np.ndarray | None = None, bridge: bool = False) -> None:
        keys = [int(n) for n in nodes]
        self.parent = {n: n for n in keys}
        self.ssn = {n: ({int(ssn[i])} if ssn[i] >= 0 else set()) for i, n in enumerate(keys)}
        self.anum = {n: ({int(anum[i])} if anum[i] >= 0 else set()) for i, n in enumerate(keys)}
        self.years = {n: ({int(year[i])} if year[i] >= 0 else set()) for i, n in enumerate(keys)}
        self.gap = gap
        self.bridge = bridge
        self.ev = {n: int(evidence[i]) if evidence is not None else 0 for i, n in enumerate(keys)}
        self.ids: dict[int, set[tuple[int, int]]] = {
            n: ({(k, int(ids[k, i])) for k in range(ids.shape[0]) if ids[k, i] >= 0}
                if ids is not None else set()) for i, n in enumerate(keys)}
        self.anchored = dict.fromkeys(keys, False)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def try_union(self, a: int, b: int, identifier: bool = False,
                  look_alike: bool = False) -> str | None:
        """Join the groups of a and b; None if joined, else the guard's reason (REASONS)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if len(self.ssn[ra] | self.ssn[rb]) > 1:
            return "ssn"
        if len(self.anum[ra] | self.anum[rb]) > 1:
            return "a_number"
        if not self._years_fit(self.years[ra], self.years[rb], identifier):
            return "dob_gap"
        ea, eb = self.ev[ra], self.ev[rb]
        if not identifier and ((ea & CITIZENSHIP and eb & REMOVAL) or
                               (ea & REMOVAL and eb & CITIZENSHIP)):
            return "evidence_conflict"
        if (look_alike and self.ids[ra] and self.ids[rb] and not self.ids[ra] & self.ids[rb]
                and (self.anchored[ra] and self.anchored[rb])):
            return "look_alike"
        self.parent[rb] = ra
        self.ssn[ra] |= self.ssn.pop(rb)
        self.anum[ra] |= self.anum.pop(rb)
        self.years[ra] |= self.years.pop(rb)
        self.ev[ra] = ea | self.ev.pop(rb)
        self.ids[ra] |= self.ids.pop(rb)
        self.anchored[ra] = self.anchored[ra] or self.anchored.pop(rb) or identifier
        return None

    def _years_fit(self, ya: set[int], yb: set[int], identifier: bool) -> bool:
        """May groups with these birth years join? When their years together span at most the
        gap. Beyond it, with bridging on: through a link whose identifier agrees exactly (one
        person's records, one of them with a mistaken date), or into a group so bridged from
        a group within the gap whose every year is within the gap of one of its years (a
        record of one of the dates the identifier joined)."""
        if not ya or not yb:
            return True
        both = ya | yb
        if max(both) - min(both) <= self.gap:
            return True
        if not self.bridge:
            return False
        if identifier:
            return True
        for small, wide in ((ya, yb), (yb, ya)):
            if (max(small) - min(small) <= self.gap < max(wide) - min(wide)
                    and all(any(abs(y - w) <= self.gap for w in wide) for y in small)):
                return True
        return False


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
            max_dob_year_gap: int = 1, edges: Edges | None = None) -> ClusterResult:
    """Cluster ``n`` records (rids 0..n-1) given links. ``ssn`` and ``anum`` are integer
    codes of the identifiers (-1 where missing), ``dob_year`` -1 where missing; all by rid.
    ``edges``: what the evidence and look-alike guards read (None: those guards are off, and
    a rebuilt component takes its links by weight alone)."""
    if len(rid_l) == 0:
        return ClusterResult(np.arange(n), [], 0)
    labels = connected_components(n, rid_l, rid_r)
    bad = _components_breaking_guards(labels, ssn, anum, dob_year, max_dob_year_gap)
    if edges is not None:
        bad = np.union1d(bad, component_at_risk(labels, rid_l, edges))
    rejected: list[tuple[int, int, float]] = []
    reasons: list[str] = []
    if not len(bad):
        return ClusterResult(labels, rejected, 0)
    # Nodes and links of the offending components, grouped by component (one sort, not a
    # scan of every label per component); links with an exactly agreeing identifier first,
    # then strongest first, ties in rid order.
    is_bad = np.zeros(int(labels.max()) + 1, dtype=bool)
    is_bad[bad] = True
    nodes = np.flatnonzero(is_bad[labels])
    nodes = nodes[np.argsort(labels[nodes], kind="stable")]
    node_bounds = np.flatnonzero(np.diff(labels[nodes])) + 1
    links = np.flatnonzero(is_bad[labels[rid_l]])
    first = (~edges.identifier[links]).astype(np.int64) if edges is not None else \
        np.zeros(len(links), dtype=np.int64)
    links = links[np.lexsort((rid_r[links], rid_l[links], -weight[links], first,
                              labels[rid_l[links]]))]
    link_bounds = np.flatnonzero(np.diff(labels[rid_l[links]])) + 1
    next_label = int(labels.max()) + 1
    for comp_nodes, comp_links in zip(np.split(nodes, node_bounds), np.split(links, link_bounds),
                                      strict=True):
        comp = int(labels[comp_nodes[0]])
        groups = _Groups(comp_nodes, ssn[comp_nodes], anum[comp_nodes], dob_year[comp_nodes],
                         max_dob_year_gap,
                         edges.evidence[comp_nodes] if edges is not None else None,
                         edges.ids[:, comp_nodes] if edges is not None else None,
                         edges.bridge_dob_gap if edges is not None else False)
        for e in comp_links:
            a, b = int(rid_l[e]), int(rid_r[e])
            ident = bool(edges.identifier[e]) if edges is not None else False
            alike = edges is not None and not ident and not bool(edges.dob_exact[e])
            why = groups.try_union(a, b, ident, alike)
            if why is not None:
                rejected.append((a, b, float(weight[e])))
                reasons.append(why)
        roots: dict[int, int] = {}
        for node in comp_nodes:
            root = groups.find(int(node))
            if root not in roots:
                roots[root] = comp if not roots else next_label
                if roots[root] == next_label:
                    next_label += 1
            labels[node] = roots[root]
    return ClusterResult(labels, rejected, len(bad), reasons)


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


def component_at_risk(labels: np.ndarray, rid_l: np.ndarray, edges: Edges) -> np.ndarray:
    """Components the evidence or look-alike guard could split: those holding both evidence
    kinds, and those with both a look-alike link and an identifier link (without an
    identifier link no group is confirmed by one). Any other component breaks neither guard
    however its links are taken, and neither does any part of it (a view's)."""
    size = int(labels.max()) + 1
    found = np.zeros((4, size), dtype=bool)
    for i, bit in enumerate((CITIZENSHIP, REMOVAL)):
        found[i, labels[(edges.evidence & bit) != 0]] = True
    ident = np.asarray(edges.identifier, dtype=bool)
    found[2, labels[rid_l[ident]]] = True
    found[3, labels[rid_l[~ident & ~np.asarray(edges.dob_exact, dtype=bool)]]] = True
    return np.flatnonzero((found[0] & found[1]) | (found[2] & found[3]))
