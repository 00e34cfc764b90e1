"""Status determination on resolved synthetic worlds, measured against the ground truth.

Harm targets for removal_order_enforcement (issue 5): at default settings nobody whose true
status is not final_order is listed — no citizen, no one with any other status — and at
least 90% of true final-order persons with a court record are found. The larger worlds are
measured exactly as ``accord evaluate --persons ... --agreement CMA-ENF-<year>`` measures
them: the agreement's work list, built by the product code through the gate, against
``persons.csv``.

The small world is measured by the status rules alone over every entity
(``status_world.measure``, no identity checks of the work list): no citizen and no mixed
entity may be eligible, and an eligible person who in fact left may only be one whose
departure is recorded outside the entity (or nowhere).

Figures: ``python tests/status/status_world.py --persons 30000 --seeds 1 2 3`` (rules over
every entity) and ``accord evaluate`` on ``accord demo`` worlds (the work list; docs/status.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from status_world import Harm, build_world, measure

from accord import services
from accord.status import STATUSES
from worlds import ENGINEER, TODAY, resolved_world


def _check(harm: Harm) -> None:
    assert harm.citizens_listed == 0, harm.summary()
    assert harm.mixed_listed == [], harm.summary()
    wrong = [(e, s, why) for e, s, why in harm.wrongly_listed
             if s != "departed" or why == "departure evidence in the entity"]
    assert wrong == [], harm.summary()


def test_a_small_world_lists_no_citizen_and_no_one_it_should_not(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    harm, results = measure(*build_world(tmp_path_factory.mktemp("status3k"), 3000, 11))
    _check(harm)
    assert {d.status for d in results.values()} <= set(STATUSES)
    assert harm.statuses[("citizen_birth", "us_citizen")] > 2000
    assert harm.statuses[("citizen_birth", "final_order")] == 0


@pytest.mark.slow
def test_harm_targets_on_three_larger_worlds(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The issue's targets on each of three worlds of two sizes, through the harm figures
    of ``accord evaluate`` (the enforcement agreement's work list at default settings)."""
    figures: list[dict[str, Any]] = []
    for persons, seed in ((20_000, 1), (20_000, 2), (30_000, 3)):
        world = resolved_world(tmp_path_factory.mktemp(f"harm{seed}"), persons=persons, seed=seed)
        out = services.evaluate(world.db, world.world.truth_path, user=ENGINEER,
                                persons=world.world.persons_path, agreement="CMA-ENF-2026",
                                today=TODAY)
        figures.append({k: v for k, v in out.plain().items()
                        if k.startswith(("worklist", "wrongly", "citizens", "final_order"))})
    for f in figures:
        assert f["wrongly_listed_persons"] == 0, figures
        assert f["citizens_listed"] == 0, figures
        assert f["final_orders_with_court_record"] >= 30, figures
        assert f["final_order_recall"] >= 0.90, figures
        assert f["worklist_listed"] == f["final_orders_found"], figures
