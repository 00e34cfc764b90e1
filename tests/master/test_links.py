"""The links around a person, read once: the link confidences and the links between a
person's records are exactly what the store-wide SQL gives, also with a second run's links."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.governance.registry import registry
from accord.governance.scope import Scope, freeze, issue
from accord.master.view import _links
from accord.person_status.facts import _link_confidence
from accord.resolve.entities import person_links
from accord.store import Store

from .master_helpers import World, build_world

CONFIDENCE_SQL = """
    WITH k AS (SELECT source, record_id FROM entity_members WHERE list_contains(?, entity_id)),
         l AS (SELECT * FROM links WHERE status = 'linked')
    SELECT source, record_id, max(match_probability) FROM (
        SELECT k.source, k.record_id, l.match_probability FROM l
        JOIN k ON k.source = l.source_l AND k.record_id = l.record_id_l
        UNION ALL
        SELECT k.source, k.record_id, l.match_probability FROM l
        JOIN k ON k.source = l.source_r AND k.record_id = l.record_id_r)
    GROUP BY ALL"""

LINKS_SQL = """
    SELECT source_l, record_id_l, source_r, record_id_r, match_probability, match_weight, status FROM links
    WHERE list_contains(?, source_l || chr(31) || record_id_l)
      AND list_contains(?, source_r || chr(31) || record_id_r)"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("links"))


@pytest.fixture(scope="module")
def two_runs(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A copy in which a later run (an incremental update) scored a third of the links again,
    with other probabilities and statuses: ``links`` holds each pair once, from the run that
    scored it last, and every reader takes them all."""
    db = tmp_path_factory.mktemp("two-runs") / "copy.duckdb"
    shutil.copy(world.db, db)
    with Store(db) as store:
        run = store.scalar("SELECT max(run_id) FROM resolution_runs")
        store.con.execute(
            "UPDATE links SET run_id = ?, match_probability = 1 - (1 - match_probability) / 2, "
            "status = CASE WHEN hash(record_id_r) % 2 = 0 THEN 'review' ELSE status END "
            "WHERE hash(record_id_l) % 3 = 0", [int(run) + 1])
        yield store


def _everything() -> Scope:
    """A scope that withholds nothing (every system, the full partition): the store-wide SQL's."""
    reg = registry()
    return issue(Scope(freeze({s: set() for s in reg.systems}), frozenset()))


def _persons(store: Store) -> list[str]:
    return [p for (p,) in store.query("""SELECT entity_id FROM entity_members GROUP BY ALL
                                         HAVING count(*) > 1 ORDER BY entity_id LIMIT 40""")]


@pytest.mark.parametrize("which", ["one run", "two runs"])
def test_confidences_and_links_equal_the_store_wide_sql(world: World, two_runs: Store, which: str) -> None:
    store = world.store if which == "one run" else two_runs
    persons = _persons(store)
    assert len(persons) == 40
    for pid in persons:
        confidence, sizes = _link_confidence(store, registry(), _everything(), [pid])
        expected = {(s, r): float(c) for s, r, c in store.query(CONFIDENCE_SQL, [[pid]])}
        assert confidence == expected
        members = store.query("SELECT source, record_id FROM entity_members WHERE entity_id = ?", [pid])
        assert sizes == {pid: len(members)}
        keys = {(s, r) for s, r in members}
        got = [(v.source_l, v.record_id_l, v.source_r, v.record_id_r, v.match_probability, v.match_weight,
                v.status) for v in _links(store, "", pid, keys)]
        flat = [f"{s}\x1f{r}" for s, r in keys]
        want = store.query(LINKS_SQL, [flat, flat])
        assert sorted(got) == sorted(want)
        assert [g[4] for g in got] == sorted((g[4] for g in got), reverse=True)   # strongest first
    runs = {link.run_id for pid in persons for link in person_links(store, [pid]).links}
    assert len(runs) == (1 if which == "one run" else 2)


def test_a_person_with_no_records_has_no_links(world: World, tmp_path: Path) -> None:
    around = person_links(world.store, ["P-NO-SUCH"])
    assert around.members == {} and around.links == ()
    assert _link_confidence(world.store, registry(), _everything(), ["P-NO-SUCH"]) == ({}, {})
