"""Person search on a small resolved world: fuzzy, ranked, bounded, and only within the scope."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from accord.governance.scope import Scope, freeze
from accord.master import MAX_LIMIT, SearchHit, SearchQueryError, search_persons
from accord.sources.fields import catalogue

from .master_helpers import World, build_world, custom_scope, purpose_systems, scope_for

BEV = "benefit_eligibility_verification"
ROE = "removal_order_enforcement"
IDENTITY = {n for n, f in catalogue().items() if f.kind == "identity"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("search"))


@pytest.fixture(scope="module")
def entities_of(world: World) -> dict[str, set[str]]:
    """True person id -> the entities holding their records that carry a name and a date of
    birth in a system benefit verification may read."""
    systems = list(purpose_systems(BEV))
    rows = world.rows("""SELECT r.source, r.record_id, m.entity_id FROM records_current r
        JOIN entity_members m USING (source, record_id)
        WHERE list_contains(?, r.system) AND r.dob IS NOT NULL AND r.family_name IS NOT NULL""", [systems])
    out: dict[str, set[str]] = defaultdict(set)
    for source, record_id, entity in rows:
        out[world.truth[(source, record_id)]].add(entity)
    return dict(out)


def search(world: World, scope: Scope, **query: Any) -> list[SearchHit]:
    return search_persons(world.store, world.registry, scope, **query)


def _typo(rng: random.Random, name: str) -> str:
    """Two neighbouring letters swapped inside the name (never the first letter)."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 2)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def test_name_and_birth_date_with_typos_find_the_person_first(world: World,
                                                               entities_of: dict[str, set[str]]) -> None:
    rng = random.Random(20)
    people = [p for p in world.persons if p["person_id"] in entities_of]
    sample = rng.sample(people, 40)
    first = 0
    for p in sample:
        name = f"{_typo(rng, p['given_name'])} {_typo(rng, p['family_name'])}"
        hits = search(world, scope_for(BEV), name=name, dob=p["dob"])
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True) and all(0.5 <= s <= 1 for s in scores)
        if hits and hits[0].person_id in entities_of[p["person_id"]]:
            first += 1
    assert first >= 36, f"the right person ranked first for only {first} of 40"


def test_the_right_twin_ranks_first_and_limit_bounds_the_hits(world: World,
                                                             entities_of: dict[str, set[str]]) -> None:
    persons = {p["person_id"]: p for p in world.persons}
    pairs = [(p, persons[p["twin_of"]]) for p in world.persons
             if p["twin_of"] and p["person_id"] in entities_of and p["twin_of"] in entities_of
             and not entities_of[p["person_id"]] & entities_of[p["twin_of"]]
             and p["given_name"] != persons[p["twin_of"]]["given_name"]]
    assert pairs, "the test world has no twins with separate records"
    both = 0
    for a, b in pairs:
        hits = search(world, scope_for(BEV), name=f"{a['given_name']} {a['family_name']}", dob=a["dob"])
        assert hits and hits[0].person_id in entities_of[a["person_id"]]
        twin = [h for h in hits if h.person_id in entities_of[b["person_id"]]]
        assert all(h.score < hits[0].score for h in twin)
        if twin:
            both += 1
            assert len(hits) >= 2
            one = search(world, scope_for(BEV), name=f"{a['given_name']} {a['family_name']}", dob=a["dob"],
                         limit=1)
            assert [h.person_id for h in one] == [hits[0].person_id]
    assert both, "no twin pair where the search finds both twins"


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, True, 2.5])
def test_limit_must_be_between_1_and_100(world: World, limit: Any) -> None:
    with pytest.raises(SearchQueryError, match="limit"):
        search(world, scope_for(BEV), ssn="574-73-0660", limit=limit)


@pytest.mark.parametrize("query, message", [
    ({}, "empty search"),
    ({"name": "Maria Garcia"}, "a name alone is too broad"),
    ({"dob": "1980-02-03"}, "a date of birth alone is too broad"),
    ({"name": "  ", "dob": None, "ssn": ""}, "empty search"),
    ({"name": "Garcia", "dob": "1980-02-03"}, "given and a family name"),
    ({"name": "FNU Garcia", "dob": "1980-02-03"}, "given and a family name"),
    ({"name": "Maria Garcia", "dob": "03/02/1980"}, "YYYY-MM-DD"),
    ({"name": "Maria Garcia", "dob": "1900-01-01"}, "default date"),
    ({"ssn": "123-45-6789"}, "not a valid ssn"),
    ({"ssn": "12345"}, "not a valid ssn"),
    ({"a_number": "A0"}, "not a valid a_number"),
    ({"tin": "000-00-0000"}, "not a valid tin"),
])
def test_empty_or_broad_queries_are_refused(world: World, query: dict[str, Any], message: str) -> None:
    with pytest.raises(SearchQueryError, match=message):
        search(world, scope_for(BEV), **query)


def test_a_scope_not_issued_by_the_gate_searches_nothing(world: World) -> None:
    forged = Scope(freeze(purpose_systems(BEV)))
    with pytest.raises(PermissionError, match="issued by the governance gate"):
        search(world, forged, name="Maria Garcia", dob="1980-02-03")


def test_identifiers_match_only_where_the_scope_shows_them(world: World) -> None:
    ssn, entity = world.rows("""SELECT r.ssn, m.entity_id FROM records_current r
        JOIN entity_members m USING (source, record_id) WHERE r.source = 'ssa'
        AND r.ssn NOT IN (SELECT ssn FROM records_current WHERE source <> 'ssa' AND ssn IS NOT NULL)
        ORDER BY r.record_id LIMIT 1""")[0]
    shown = custom_scope({"ssa-numident": IDENTITY})
    hits = search(world, shown, ssn=ssn)
    assert hits[0].person_id == entity and hits[0].score == 1.0
    assert [(m.field, m.level) for m in hits[0].matched_on] == [("ssn", "exact")]
    near = ssn[:-2] + ssn[-1] + ssn[-2]  # last two digits transposed
    if near != ssn:
        assert search(world, shown, ssn=near)[0].matched_on[0].level == "one digit or transposition"
    hidden = custom_scope({"ssa-numident": IDENTITY - {"ssn", "ssn_last4", "tin"}})
    assert search(world, hidden, ssn=ssn) == []
    # The record is there for a name and date of birth search in the same scope.
    given, family, dob = world.rows("SELECT given_name, family_name, dob FROM records_current "
                                    "WHERE source = 'ssa' AND ssn = ?", [ssn])[0]
    assert search(world, hidden, name=f"{given} {family}", dob=dob)[0].person_id == entity
    no_names = custom_scope({"ssa-numident": IDENTITY - {"given_name", "family_name"}})
    assert all(h.person_id != entity for h in search(world, no_names, name=f"{given} {family}", dob=dob))


def test_tax_numbers_are_searched_only_where_tax_data_is_in_scope(world: World) -> None:
    tin, entity = world.rows("""SELECT r.tin, m.entity_id FROM records_current r
        JOIN entity_members m USING (source, record_id)
        WHERE r.source = 'irs' AND starts_with(r.tin, '9') ORDER BY r.record_id LIMIT 1""")[0]
    hits = search(world, scope_for("tax_administration"), tin=tin)
    assert hits[0].person_id == entity and hits[0].matched_on[0].level == "exact"
    assert "irc_6103" in hits[0].regimes
    assert search(world, scope_for(BEV), tin=tin) == []


def test_withheld_records_are_not_searched_or_shown(world: World) -> None:
    asylum = world.rows("""SELECT r.source, r.record_id, r.a_number, m.entity_id FROM records_current r
        JOIN entity_members m USING (source, record_id) WHERE r.benefit_type = 'asylum'
        ORDER BY r.record_id""")
    # A person known only through an asylum application: found for benefit verification,
    # not for enforcement, which may not learn even that the application exists.
    only = [(a, e) for _, rid, a, e in asylum
            if world.rows("SELECT count(*) FROM entity_members WHERE entity_id = ?", [e])[0][0] == 1]
    assert only, "the test world has no person known only through an asylum application"
    a_number, entity = only[0]
    assert search(world, scope_for(BEV), a_number=a_number)[0].person_id == entity
    assert search(world, scope_for(ROE), a_number=a_number) == []
    # A person with other records: found by name and date of birth, the asylum record left out.
    mixed = [(s, rid, e) for s, rid, _, e in asylum
             if world.rows("""SELECT count(*) FROM entity_members m JOIN records_current r
                 USING (source, record_id) WHERE m.entity_id = ? AND r.source IN ('ssa', 'cbp', 'court')
                 AND r.dob IS NOT NULL""", [e])[0][0] > 0]
    assert mixed
    source, record_id, entity = mixed[0]
    given, family, dob = world.rows("""SELECT given_name, family_name, dob FROM records_current r
        JOIN entity_members m USING (source, record_id) WHERE m.entity_id = ?
        AND r.source IN ('ssa', 'cbp', 'court') AND r.dob IS NOT NULL LIMIT 1""", [entity])[0]
    full = search(world, scope_for(BEV), name=f"{given} {family}", dob=dob)[0]
    assert full.person_id == entity and (source, record_id) in full.touched_records()
    assert "asylum_208_6" in full.regimes
    hit = search(world, scope_for(ROE), name=f"{given} {family}", dob=dob)[0]
    assert hit.person_id == entity
    assert (source, record_id) not in hit.touched_records() and "asylum_208_6" not in hit.regimes
    assert record_id not in json.dumps(hit.to_dict())


def test_hits_say_what_matched_and_what_they_disclose(world: World) -> None:
    given, family, dob, ssn, entity = world.rows("""SELECT r.given_name, r.family_name, r.dob, r.ssn,
        m.entity_id FROM records_current r JOIN entity_members m USING (source, record_id)
        WHERE r.source = 'ssa' ORDER BY r.record_id LIMIT 1""")[0]
    hits = search_persons(world.store, world.registry, scope_for(BEV), name=f"{family}, {given}",
                          dob=dob, ssn=ssn)
    top = hits[0]
    assert top.person_id == entity and top.score == 1.0
    assert {m.field: m.level for m in top.matched_on} == {
        "given_name": "exact", "family_name": "exact", "dob": "exact", "ssn": "exact"}
    assert top.summary.dob == dob.isoformat() and "ssa" in top.summary.sources
    persons, records = hits.touched()
    assert persons == [h.person_id for h in hits]
    assert set(top.touched_records()) <= set(records)
    json.dumps(hits.to_dict())


def test_nicknames_and_swapped_names_are_recognised(world: World) -> None:
    from accord.standardise import variants

    nicknames = {e.name: e for e in variants.variant_entries()
                 if e.part == "given" and e.key != e.name and len(e.keys) == 1}
    by_key = {e.key: e.name for e in nicknames.values()}
    rows = world.rows("""SELECT f.given_std, r.family_name, r.dob, m.entity_id FROM records_current r
        JOIN features f USING (source, record_id) JOIN entity_members m USING (source, record_id)
        WHERE r.source = 'ssa' AND f.given_std IN (SELECT unnest(?::VARCHAR[])) ORDER BY r.record_id""",
                      [sorted(by_key)])
    assert rows, "the test world has no SSA record whose given name has a nickname"
    given, family, dob, entity = rows[0]
    hits = search(world, scope_for(BEV), name=f"{by_key[given].title()} {family}", dob=dob)
    assert hits[0].person_id == entity
    assert hits[0].matched_on[0].level == "variant or nickname"
    swapped = search(world, scope_for(BEV), name=f"{family} {given}", dob=dob)
    assert swapped[0].person_id == entity
    assert ("name_order", "given and family swapped") in {(m.field, m.level) for m in swapped[0].matched_on}
