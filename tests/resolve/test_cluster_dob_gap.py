"""The date-of-birth guard of clustering at its boundary: birth years exactly
``max_dob_year_gap`` apart may share an entity, one year more may not. Both places that apply
the gap are checked: the screen that picks the components to rebuild, and the rebuild that
adds links strongest first."""

from __future__ import annotations

import numpy as np
import pytest

from accord.resolve.cluster import ClusterResult, cluster, codes


def _run(edges: list[tuple[int, int, float]], years: list[int], gap: int,
         ssn: list[str | None] | None = None) -> ClusterResult:
    n = len(years)
    return cluster(n, np.array([e[0] for e in edges], dtype=np.int64),
                   np.array([e[1] for e in edges], dtype=np.int64),
                   np.array([e[2] for e in edges], dtype=float),
                   codes(ssn or [None] * n), codes([None] * n), np.array(years, dtype=np.int64), gap)


def _together(res: ClusterResult, a: int, b: int) -> bool:
    return bool(res.labels[a] == res.labels[b])


GAPS = [0, 1, 2, 5]


@pytest.mark.parametrize("gap", GAPS)
def test_two_records_exactly_the_gap_apart_join_and_one_year_more_do_not(gap: int) -> None:
    within = _run([(0, 1, 10.0)], [1980, 1980 + gap], gap)
    assert _together(within, 0, 1)
    assert within.components_split == 0 and within.rejected_links == []   # not even screened

    beyond = _run([(0, 1, 10.0)], [1980, 1981 + gap], gap)
    assert not _together(beyond, 0, 1)
    assert beyond.components_split == 1 and beyond.rejected_links == [(0, 1, 10.0)]


@pytest.mark.parametrize("gap", GAPS)
def test_the_rebuild_of_a_split_component_keeps_the_gap_boundary(gap: int) -> None:
    # Two different SSNs make the component break a guard, so it is rebuilt link by link: the
    # strongest link (0-1, birth years exactly the gap apart) must survive the rebuild, the
    # weak link that would join the second SSN must not.
    res = _run([(0, 1, 12.0), (1, 2, 3.0)], [1980, 1980 + gap, -1], gap,
               ssn=["111223333", None, "444556666"])
    assert res.components_split == 1
    assert _together(res, 0, 1) and not _together(res, 1, 2)
    assert res.rejected_links == [(1, 2, 3.0)]
    # One year more and the rebuild rejects the strong link too.
    res = _run([(0, 1, 12.0), (1, 2, 3.0)], [1980, 1981 + gap, -1], gap,
               ssn=["111223333", None, "444556666"])
    assert not _together(res, 0, 1)
    assert (0, 1, 12.0) in res.rejected_links


@pytest.mark.parametrize("gap", GAPS)
def test_a_chain_spanning_exactly_the_gap_stays_one_entity(gap: int) -> None:
    # The range of a whole group counts, not each link's own: 1980 .. 1980+gap through a middle
    # record joins; a third record one year beyond the first's range is split off at its link.
    years = [1980, 1980 + gap // 2, 1980 + gap]
    res = _run([(0, 1, 9.0), (1, 2, 8.0)], years, gap)
    assert _together(res, 0, 1) and _together(res, 1, 2) and res.components_split == 0
    res = _run([(0, 1, 9.0), (1, 2, 8.0), (2, 3, 7.0)], [*years, 1981 + gap], gap)
    assert _together(res, 0, 2) and not _together(res, 2, 3)
    assert res.rejected_links == [(2, 3, 7.0)]


def _bridged(edges: list[tuple[int, int, float, bool]], years: list[int], bridge: bool,
             gap: int = 1) -> ClusterResult:
    """Cluster with the evidence guard's link flags: (a, b, weight, identifier agrees)."""
    from accord.resolve.cluster import Edges

    n = len(years)
    flags = Edges(np.array([e[3] for e in edges], dtype=bool), np.zeros(len(edges), dtype=bool),
                  np.zeros(n, dtype=np.int64), np.full((1, n), -1, dtype=np.int64), bridge)
    return cluster(n, np.array([e[0] for e in edges], dtype=np.int64),
                   np.array([e[1] for e in edges], dtype=np.int64),
                   np.array([e[2] for e in edges], dtype=float), codes([None] * n),
                   codes([None] * n), np.array(years, dtype=np.int64), gap, flags)


def test_an_agreeing_identifier_bridges_the_gap_only_when_bridging_is_on() -> None:
    # 0 and 1: one identifier, birth years decades apart; 2: a record of 0's year linked by
    # names alone; 3: a record of neither year linked by names alone.
    edges = [(0, 1, 20.0, True), (0, 2, 15.0, False), (1, 3, 15.0, False)]
    years = [1950, 1980, 1950, 1965]
    on = _bridged(edges, years, bridge=True)
    assert _together(on, 0, 1) and _together(on, 0, 2)
    assert not _together(on, 0, 3) and on.rejected_links == [(1, 3, 15.0)]
    off = _bridged(edges, years, bridge=False)
    assert not _together(off, 0, 1) and _together(off, 0, 2) and not _together(off, 1, 3)


def test_a_link_on_names_alone_never_bridges_the_gap() -> None:
    on = _bridged([(0, 1, 30.0, False)], [1950, 1980], bridge=True)
    assert not _together(on, 0, 1) and on.rejected_links == [(0, 1, 30.0)]
    # Two groups within the gap each but not together stay apart without an identifier.
    res = _bridged([(0, 1, 20.0, True), (2, 3, 20.0, True), (1, 2, 10.0, False)],
                   [1950, 1950, 1952, 1952], bridge=True)
    assert _together(res, 0, 1) and _together(res, 2, 3) and not _together(res, 1, 2)
