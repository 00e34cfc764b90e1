"""Indistinguishability of resolution: what a purpose reads of the store must be what it would
read of the store without the records it may not see.

(a) The statistics (model, term frequencies, block sizes, shared identifiers) ignore every
record under a floor regime: resolving the world without those records gives the same model
and the same links between the records left. (b) Each view's partition and link statuses
equal those of the world resolved without the view's withheld records, constructed cases
included (a withheld record as the only bridge; a withheld record's SSN splitting a person).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from floor_worlds import (
    A1,
    B1,
    G1,
    G2,
    G3,
    W1,
    FloorWorld,
    Pair,
    build,
    entity,
    links,
    partition,
    records,
    withheld_records,
)

from accord.governance.registry import registry
from accord.governance.visibility import floor_regimes, views
from accord.store import Store

REG = registry()
VIEWS = views(REG)
FLOORS = floor_regimes(REG)
SEEDS = (3, 8)
PERSONS = 400


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[FloorWorld]:
    yield build(tmp_path_factory.mktemp(f"floors{request.param}"), PERSONS, request.param, REG)


def _model(db: Path) -> dict[str, object]:
    with Store(db, read_only=True) as store:
        model = json.loads(store.query("SELECT model FROM resolution_runs ORDER BY run_id DESC "
                                       "LIMIT 1")[0][0])
    model.pop("created")
    return dict(model)


def _everything_view() -> str | None:
    """The view that withholds every floor regime, when the registry has one."""
    return next((v for v, w in VIEWS.items() if w == FLOORS), None)


def test_the_statistics_ignore_every_record_under_a_floor(world: FloorWorld) -> None:
    reduced = world.reduced(FLOORS)
    with Store(world.full, read_only=True) as full, Store(reduced, read_only=True) as small:
        hidden = withheld_records(full, REG, FLOORS)
        assert hidden, "the world holds records under floor regimes"
        keep = records(small)
        assert keep == records(full) - hidden
        assert keep, "records are left"
        # The same model, parameter for parameter.
        assert _model(world.full) == _model(reduced)
        # The same links between the records left: pairs, weights, probabilities; statuses
        # as the view without every floor regime sees them (in the full run a guard may have
        # rejected a link because of a withheld record's identifier).
        view = _everything_view()
        got = links(full, view or "", keep)
        want = links(small, "", keep)
        if view is None:
            def plain(d: dict[Pair, tuple[float, float, str]]) -> dict[Pair, tuple[float, float, str]]:
                return {k: (w, p, "linked" if s == "rejected_by_guard" else s)
                        for k, (w, p, s) in d.items()}
            got, want = plain(got), plain(want)
        assert got == want
        assert len(want) > 100


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_a_views_partition_is_the_store_without_its_withheld_records(world: FloorWorld,
                                                                    view: str) -> None:
    withheld = VIEWS[view]
    reduced = world.reduced(withheld)
    with Store(world.full, read_only=True) as full, Store(reduced, read_only=True) as small:
        keep = records(small)
        assert keep == records(full) - withheld_records(full, REG, withheld)
        assert partition(full, view, keep) == partition(small, "", keep)
        assert links(full, view, keep) == links(small, "", keep)


def _asylum_views() -> list[str]:
    return sorted(v for v, w in VIEWS.items() if "asylum_208_6" in w)


def test_a_withheld_record_that_alone_bridges_two_records_joins_them_in_no_view_that_withholds_it(
        world: FloorWorld) -> None:
    with Store(world.full, read_only=True) as store:
        # The full run: W1 links A1 and B1 (whose own link is not corroborated).
        assert entity(store, "", A1) == entity(store, "", W1) == entity(store, "", B1)
        assert _asylum_views()
        for view in _asylum_views():
            assert entity(store, view, A1) != entity(store, view, B1), view
        for view in sorted(set(VIEWS) - set(_asylum_views())):
            assert entity(store, view, A1) == entity(store, view, B1), view


def test_a_withheld_records_identifier_splits_no_person_in_a_view_that_withholds_it(
        world: FloorWorld) -> None:
    pair = (*G1, *G3) if G1 < G3 else (*G3, *G1)
    with Store(world.full, read_only=True) as store:
        # The full run: G2's SSN differs from G3's; G1-G2 (same address) is the stronger link,
        # so the guard rejects G1-G3.
        assert entity(store, "", G1) == entity(store, "", G2) != entity(store, "", G3)
        everyone = records(store)
        assert links(store, "", everyone)[pair][2] == "rejected_by_guard"
        for view in _asylum_views():
            assert entity(store, view, G1) == entity(store, view, G3), view
            assert links(store, view, everyone)[pair][2] == "linked", view
            rows = store.query("SELECT status FROM view_links WHERE view = ? AND source_l = ? "
                               "AND record_id_l = ? AND source_r = ? AND record_id_r = ?",
                               [view, *pair])
            assert rows == [("linked",)]
