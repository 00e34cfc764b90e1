"""Work lists list only persons whose identity is settled: possible matches (links held for
review, links a clustering guard rejected) are handed to the status rules as weakly linked
records and send the person to review when they would change the outcome; a shared A-number
or no date of birth sends the person to review. On copies of one resolved synthetic world,
with the resolution's links edited to set up each case."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.services.people_results import WorklistResult
from accord.store import Store
from accord.worklists.worklist import NEUTRAL_BUCKET
from worlds import TODAY, World, resolved_world

ENF = "CMA-ENF-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("identity"), persons=4000, seed=5)


@pytest.fixture
def db(world: World, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(world.db, copy)
    return copy


def _worklist(db: Path) -> WorklistResult:
    return services.worklist(db, user="casey", agreement=ENF, limit=500, today=TODAY)


def _listed(db: Path) -> set[str]:
    return {e.person_id for e in _worklist(db).entries}


def _entity_with(store: Store, where: str) -> tuple[str, str, str]:
    """(entity, source, record_id) of one record matching ``where`` alone in no list."""
    row = store.query(f"""SELECT m.entity_id, r.source, r.record_id FROM records_current r
                          JOIN entity_members m USING (source, record_id) WHERE {where}
                          ORDER BY r.source, r.record_id LIMIT 1""")
    assert row, where
    return row[0][0], row[0][1], row[0][2]


def _link(store: Store, a: tuple[str, str], b: tuple[str, str], p: float, status: str) -> None:
    run = store.scalar("SELECT max(run_id) FROM resolution_runs")
    store.con.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?, 0.0, ?, ?)",
                      [run, a[0], a[1], b[0], b[1], p, status])


def _a_court_record(db: Path) -> tuple[str, tuple[str, str]]:
    entry = _worklist(db).entries[0]
    court = next(r for r in entry.records if r.source == "court")
    return entry.person_id, (court.source, court.record_id)


def test_a_possible_match_that_would_change_the_outcome_sends_the_person_to_review(db: Path) -> None:
    pid, court = _a_court_record(db)
    # The citizenship code of an SSA record is a field enforcement is not shown: the person is
    # counted under the bucket that names nothing, not under low_link_confidence.
    before = _worklist(db).excluded.get(NEUTRAL_BUCKET, 0)
    with Store(db) as store:
        _, *citizen = _entity_with(store, "r.citizenship_code = 'us_citizen' AND r.source = 'ssa'")
        _link(store, court, (citizen[0], citizen[1]), 0.93, "review")
    wl = _worklist(db)
    assert pid not in {e.person_id for e in wl.entries}
    assert wl.excluded[NEUTRAL_BUCKET] == before + 1


def test_a_possible_match_that_changes_nothing_leaves_the_person_listed(db: Path) -> None:
    pid, court = _a_court_record(db)
    with Store(db) as store:
        # a person known only from tax returns: nothing in them bears on a final order
        other, *tax = _entity_with(store, """r.source = 'irs' AND m.entity_id IN (
            SELECT entity_id FROM entity_members GROUP BY entity_id HAVING bool_and(source = 'irs'))""")
        _link(store, court, (tax[0], tax[1]), 0.9, "review")
    assert other != pid and pid in _listed(db)


def test_a_link_a_guard_rejected_counts_as_a_possible_match(db: Path) -> None:
    pid, court = _a_court_record(db)
    with Store(db) as store:
        # the person's own records: nothing later than this
        latest = store.scalar("""
            SELECT max(greatest(case_decision_date, entry_date, encounter_date, event_date,
                                make_date(tax_year, 12, 31)))
            FROM records_current JOIN entity_members USING (source, record_id)
            WHERE entity_id = ?""", [pid])
        # another person id holds an exit after the order (say, a removal under an A-number
        # keyed with two digits swapped): the guard kept the records apart
        gone = store.query(f"""
            WITH x AS (SELECT m.entity_id, r.source, r.record_id, r.exit_date,
                              greatest(r.entry_date, r.encounter_date, r.event_date,
                                       make_date(r.tax_year, 12, 31)) AS seen
                       FROM records_current r JOIN entity_members m USING (source, record_id)),
                 e AS (SELECT entity_id, max(exit_date) AS left_on FROM x GROUP BY ALL)
            SELECT x.source, x.record_id FROM x JOIN e USING (entity_id)
            WHERE x.exit_date = e.left_on AND e.left_on > DATE '{latest}' AND x.entity_id <> '{pid}'
              AND NOT EXISTS (SELECT 1 FROM x y WHERE y.entity_id = x.entity_id AND y.seen > e.left_on)
            ORDER BY 1, 2 LIMIT 1""")[0]
        _link(store, court, (gone[0], gone[1]), 1.0, "rejected_by_guard")
    wl = _worklist(db)
    assert pid not in {e.person_id for e in wl.entries}
    assert wl.excluded["low_link_confidence"] >= 1


def test_a_shared_a_number_or_no_date_of_birth_sends_the_person_to_review(db: Path, world: World) -> None:
    wl = _worklist(db)
    first, second = wl.entries[0], wl.entries[1]
    review = wl.excluded.get("needs_review", 0)
    with Store(db) as store:
        # a record of someone else (another person id) carries the first person's A-number
        _, *other = _entity_with(store, f"r.a_number IS NOT NULL AND m.entity_id NOT IN "
                                        f"('{first.person_id}', '{second.person_id}')")
        a_number = store.scalar("SELECT a_number FROM records_current WHERE source = 'court' AND "
                                "record_id = ?", [next(r.record_id for r in first.records
                                                       if r.source == "court")])
        store.con.execute("UPDATE records SET a_number = ? WHERE source = ? AND record_id = ?",
                          [a_number, other[0], other[1]])
        # no record of the second person gives a date of birth
        store.con.execute("UPDATE records SET dob = NULL WHERE (source, record_id) IN (SELECT "
                          "source, record_id FROM entity_members WHERE entity_id = ?)",
                          [second.person_id])
    wl = _worklist(db)
    assert not {first.person_id, second.person_id} & {e.person_id for e in wl.entries}
    assert wl.excluded["needs_review"] == review + 2
    with Path(world.world.persons_path).open(newline="") as f:
        assert sum(1 for r in csv.DictReader(f) if r["status"] == "final_order") >= len(wl.entries)


def test_an_encounter_after_the_order_excludes_only_where_removals_are_not_recorded(db: Path) -> None:
    """Status rule 9 is off for encounters of a source whose mapping records the departure
    date of a removal (the synthetic ICE extract): a blank one is no removal."""
    from accord.person_status.facts import removal_sources

    with Store(db) as store:
        assert removal_sources(store) == {"ice"}   # cbp maps exit_date, but no encounters
        entry = _worklist(db).entries[0]
        pid = entry.person_id
        ice = store.query("""SELECT record_id FROM records_current JOIN entity_members
                             USING (source, record_id) WHERE entity_id = ? AND source = 'ice'""", [pid])
        assert ice, "the charging encounter of the case"
        # Encountered again on the world's last day: after the order and every other record.
        store.con.execute("UPDATE records SET encounter_date = DATE '2026-06-29', exit_date = NULL "
                          "WHERE source = 'ice' AND record_id = ?", [ice[0][0]])
    assert pid in _listed(db)
    with Store(db) as store:
        text = store.scalar("SELECT mapping_yaml FROM sources WHERE source = 'ice'")
        store.con.execute("UPDATE sources SET mapping_yaml = ? WHERE source = 'ice'",
                          [text.replace("exit_date:", "other_id:")])
        assert removal_sources(store) == set()
    wl = _worklist(db)
    assert pid not in {e.person_id for e in wl.entries} and wl.excluded["possibly_removed"] >= 1


def test_the_person_view_holds_for_review_whom_the_work_list_holds(db: Path) -> None:
    pid, court = _a_court_record(db)

    def eligible() -> Any:
        status = services.person(db, pid, user="casey", purpose="removal_order_enforcement", agreement=ENF,
                                 today=TODAY).status
        assert status is not None
        return status.eligible, status.exclusion

    assert eligible() == (True, None)
    with Store(db) as store:
        _, *citizen = _entity_with(store, "r.citizenship_code = 'us_citizen' AND r.source = 'ssa'")
        _link(store, court, (citizen[0], citizen[1]), 0.93, "review")
    assert pid not in _listed(db)
    assert eligible() == (False, "needs_review")


def test_dates_of_birth_years_apart_send_the_person_to_review(db: Path) -> None:
    # An agreeing identifier may join records whose dates of birth are decades apart (one of
    # them mistaken, clustering.identifier_bridges_dob_gap): which date is right is for a
    # person to decide, so the work list holds such a person for review.
    wl = _worklist(db)
    first = wl.entries[0]
    review = wl.excluded.get("needs_review", 0)
    with Store(db) as store:
        dated = store.query("SELECT r.source, r.record_id FROM records_current r JOIN entity_members m "
                            "USING (source, record_id) WHERE m.entity_id = ? AND r.dob IS NOT NULL "
                            "ORDER BY 1, 2", [first.person_id])
        assert len(dated) >= 2
        store.con.execute("UPDATE records SET dob = dob - INTERVAL 20 YEAR WHERE source = ? "
                          "AND record_id = ?", list(dated[0]))
    wl = _worklist(db)
    assert first.person_id not in {e.person_id for e in wl.entries}
    assert wl.excluded["needs_review"] == review + 1
