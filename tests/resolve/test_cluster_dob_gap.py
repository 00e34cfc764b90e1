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
