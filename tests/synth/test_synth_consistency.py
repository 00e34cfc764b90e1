"""Who appears in which system is consistent with each person's true status and history."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from accord.synth import SynthConfig, dates, generate
from accord.synth.world import World, build_world

from .synth_helpers import WrittenWorld, read_csv_rows, read_extract


def _rows_by_person(world: WrittenWorld, source: str) -> dict[str, list[dict[str, str | None]]]:
    ex = world.extracts[source]
    ids = ex.record_ids()
    person_of = {t["record_id"]: t["person_id"] for t in world.truth if t["source"] == source}
    cols = {c: ex.column(c) for c in ex.table.column_names}
    out: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for i, rid in enumerate(ids):
        out[person_of[rid]].append({c: v[i] for c, v in cols.items()})
    return out


def _with_status(world: WrittenWorld, *statuses: str) -> set[str]:
    return {p["person_id"] for p in world.persons if p["status"] in statuses}


def test_citizens_by_birth_are_not_in_court_or_uscis(csv_world: WrittenWorld) -> None:
    born = _with_status(csv_world, "citizen_birth")
    assert born
    assert not born & csv_world.people_in("court")
    assert not born & csv_world.people_in("uscis")
    citizens = _with_status(csv_world, "citizen_birth", "citizen_naturalized")
    assert not citizens & csv_world.people_in("court")


def test_proceedings_and_final_orders_are_in_court(csv_world: WrittenWorld) -> None:
    court = _rows_by_person(csv_world, "court")
    bad = {b["record_id"] for b in csv_world.bad_rows if b["source"] == "court"}
    expected = {"in_proceedings": {"PENDING", "APPEAL PENDING"},
                "final_order": {"REMOVAL ORDERED"}}
    for status, codes in expected.items():
        people = _with_status(csv_world, status)
        assert people, status
        for pid in people:
            rows = court[pid]
            assert len(rows) == 1, pid
            if rows[0]["IDNCASE"] not in bad:
                assert rows[0]["CASE_STATUS"] in codes, (pid, rows[0]["CASE_STATUS"])
    for rows in court.values():
        assert "SSN" not in rows[0]  # the court system carries no SSN


def test_uscis_holds_applications_that_match_status(csv_world: WrittenWorld) -> None:
    uscis = _rows_by_person(csv_world, "uscis")
    for pid in _with_status(csv_world, "asylum_pending"):
        forms = {(r["FORM_TYPE"], r["CASE_STATUS"]) for r in uscis[pid]}
        assert any(f == "I-589" and s != "Case Was Approved" for f, s in forms), pid
    naturalized = [p for p in csv_world.persons if p["status"] == "citizen_naturalized"]
    assert naturalized
    for p in naturalized:
        oaths = {r["OATH_DATE"] for r in uscis[p["person_id"]]
                 if r["FORM_TYPE"] in ("N-400", "N-600") and r["CASE_STATUS"] == "Case Was Approved"}
        nat = date.fromisoformat(p["naturalization_date"]).strftime("%m/%d/%Y")
        assert oaths == {nat}, p["person_id"]
    statuses = {csv_world.person(pid)["status"] for pid in uscis}
    assert statuses <= {"citizen_naturalized", "lpr", "visa", "asylum_pending", "asylum_granted",
                        "tps", "daca", "vawa_t_u_pending", "in_proceedings", "final_order",
                        "departed"}


def test_voters_are_adult_citizens_of_the_state(csv_world: WrittenWorld) -> None:
    voters = csv_world.people_in("voter")
    assert voters
    noncitizens = [v for v in voters if not csv_world.person(v)["status"].startswith("citizen")]
    assert len(noncitizens) <= max(3, 0.01 * len(voters))
    as_of = date(2026, 6, 30)
    for v in voters:
        p = csv_world.person(v)
        assert (as_of - date.fromisoformat(p["dob"])).days >= 18 * 365
        assert p["state"] == "TX"
    for rows in _rows_by_person(csv_world, "voter").values():
        assert ", TX " in (rows[0]["RES_ADDRESS"] or ", TX ")


def test_medicaid_enrolls_living_residents_of_the_state(csv_world: WrittenWorld) -> None:
    people = csv_world.people_in("medicaid")
    assert people
    for pid in people:
        p = csv_world.person(pid)
        assert p["state"] == "TX" and p["deceased"] == "false" and p["status"] != "departed"


def test_ssa_holds_each_ssn_holder_once(csv_world: WrittenWorld) -> None:
    ssa = _rows_by_person(csv_world, "ssa")
    holders = {p["person_id"]: p["ssn"] for p in csv_world.persons if p["ssn"]}
    assert set(ssa) == set(holders)
    for pid, rows in ssa.items():
        assert len(rows) == 1 and rows[0]["SSN"] == holders[pid]


def test_departed_and_deceased_leave_no_later_records(csv_world: WrittenWorld) -> None:
    irs = _rows_by_person(csv_world, "irs")
    bad = {b["record_id"] for b in csv_world.bad_rows if b["source"] == "irs"}
    checked = 0
    for p in csv_world.persons:
        end = p["exit_date"] or p["death_date"]
        if not end:
            continue
        for r in irs.get(p["person_id"], []):
            if r["DLN"] not in bad:
                assert int(r["TAX_PRD"] or 0) <= int(end[:4]), p["person_id"]
                checked += 1
    assert checked


def test_encounters_happen_while_the_person_is_in_the_us(big_world: World) -> None:
    """No encounter before arrival, after the exit or after as_of; none before age 16
    except the encounter that started a removal case and the arrest of a removal."""
    p, t = big_world.people, big_world.timeline
    arrived = np.where(p.foreign, t.entry, p.dob)
    end = np.where(t.exit_date != dates.NA, t.exit_date, p.as_of)
    checked = 0
    for enc in (t.encounter1, t.encounter2):
        has = enc != dates.NA
        assert not (has & (enc < arrived)).any()
        assert not (has & (enc > end)).any(), np.flatnonzero(has & (enc > end))[:5]
        young = has & (enc < p.dob + int(16 * dates.YEAR))
        assert not (young & ~t.removed & ~t.charging).any()
        checked += int((has & (t.exit_date != dates.NA)).sum())
    assert checked > 50
    second = t.encounter2 != dates.NA
    assert (t.encounter2[second] > t.encounter1[second]).all()


def test_removal_cases_start_and_removals_end_at_an_encounter(big_world: World) -> None:
    """Every removal case that enforcement started has the encounter at which the notice to
    appear was issued (at most 60 days before it); every removal has its arrest (the last
    encounter, at most 20 days before the exit)."""
    t = big_world.timeline
    charged, removed = t.charged, t.removed
    assert charged.sum() > 200 and removed.any() and not (removed & ~charged).any()
    assert (t.charging == charged).all()  # charging_encounter_rate is 1 by default
    assert (t.encounter1[charged] != dates.NA).all()
    gap = t.nta_date[charged] - t.encounter1[charged]
    assert (gap >= 0).all() and (gap <= 60).all()
    last = np.maximum(t.encounter1, t.encounter2)[removed]
    assert ((t.exit_date[removed] - last >= 0) & (t.exit_date[removed] - last <= 20)).all()
    # Cases USCIS started (asylum referrals, denied applications) need no encounter.
    others = t.court & ~charged
    assert others.any() and (t.encounter1[others] == dates.NA).any()


def test_charging_encounters_can_be_left_out_of_the_world() -> None:
    cfg = dataclasses.replace(SynthConfig(), charging_encounter_rate=0.0)
    t = build_world(20_000, 5, cfg).timeline
    assert t.charged.any() and not t.charging.any()
    assert (t.encounter1[t.charged] == dates.NA).any()
    # removals still have their arrest, the last encounter
    last = np.maximum(t.encounter1, t.encounter2)[t.removed]
    assert (t.exit_date[t.removed] - last <= 20).all()


def test_charging_and_removal_encounters_carry_the_a_number(csv_world: WrittenWorld) -> None:
    ice = _rows_by_person(csv_world, "ice")
    bad = {b["record_id"] for b in csv_world.bad_rows if b["source"] == "ice"}
    charged = {p["person_id"]: p for p in csv_world.persons
               if p["court_case_status"] in ("in_proceedings", "appeal_pending", "final_order",
                                             "voluntary_departure")
               and p["status"] in ("in_proceedings", "final_order", "departed")}
    assert len(charged) > 20
    shown = 0
    for pid, p in charged.items():
        rows = [r for r in ice.get(pid, []) if r["EVENT_ID"] not in bad]
        first = min(rows, key=lambda r: datetime.strptime(r["ENCOUNTER_DATE"] or "", "%d-%b-%Y"),
                    default=None)
        if first is None:  # its only encounter became a bad row
            continue
        assert (first["A_NUMBER"] or "").lstrip("A") == p["a_number"].lstrip("0"), pid
        shown += 1
    assert shown > 0.95 * len(charged)
    # Other encounters carry it only sometimes.
    rest = [r["A_NUMBER"] for pid, rows in ice.items() if pid not in charged for r in rows
            if r["EVENT_ID"] not in bad and csv_world.person(pid)["a_number"]]
    assert rest and 0.4 < sum(1 for a in rest if a) / len(rest) < 0.8


def test_households_share_addresses_and_twins_look_alike(csv_world: WrittenWorld) -> None:
    homes: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for p in csv_world.persons:
        homes[p["household_id"]].add((p["street"], p["zip"]))
    assert all(len(v) == 1 for v in homes.values())
    assert any(len([p for p in csv_world.persons if p["household_id"] == h]) > 3
               for h in list(homes)[:200])
    twins = [p for p in csv_world.persons if p["twin_of"]]
    assert twins
    for p in twins:
        other = csv_world.person(p["twin_of"])
        assert other["twin_of"] == p["person_id"]
        assert (other["dob"], other["family_name"], other["household_id"]) == (
            p["dob"], p["family_name"], p["household_id"])
        assert other["given_name"] != p["given_name"]


@pytest.fixture(scope="module")
def failure_world(tmp_path_factory: pytest.TempPathFactory) -> WrittenWorld:
    """A small world where the known failure modes are frequent enough to see."""
    cfg = dataclasses.replace(SynthConfig(), erroneous_death_rate=0.03,
                              borrowed_ssn_rate=0.5, immigrant_household_rate=0.5)
    result = generate(2500, 21, tmp_path_factory.mktemp("failures"), config=cfg)
    return WrittenWorld(result, {w.source: read_extract(w.mapping_path) for w in result.extracts},
                        read_csv_rows(result.persons_path), read_csv_rows(result.truth_path),
                        read_csv_rows(result.bad_rows_path))


def test_stale_ssa_citizenship_codes(failure_world: WrittenWorld) -> None:
    bad = {b["record_id"] for b in failure_world.bad_rows if b["source"] == "ssa"}
    ssa = {pid: rows for pid, rows in _rows_by_person(failure_world, "ssa").items()
           if rows[0]["SSN"] not in bad}
    stale = [p for p in failure_world.persons if p["ssa_citizenship_stale"] == "true"]
    assert stale
    for p in stale:
        assert p["status"] == "citizen_naturalized"
        assert p["ssn_issued"] < p["naturalization_date"]
        if p["person_id"] in ssa:
            assert ssa[p["person_id"]][0]["CIT_CD"] in ("B", "C", "D")
    current = [p for p in failure_world.persons if p["status"] == "citizen_naturalized"
               and p["ssn"] and p["ssa_citizenship_stale"] == "false"]
    assert current and all(ssa[p["person_id"]][0]["CIT_CD"] == "A" for p in current
                           if p["person_id"] in ssa)


def test_erroneous_deaths_are_contradicted_by_later_activity(failure_world: WrittenWorld
                                                             ) -> None:
    ssa = _rows_by_person(failure_world, "ssa")
    irs = _rows_by_person(failure_world, "irs")
    wrong = [p for p in failure_world.persons if p["ssa_erroneous_death"] == "true"]
    assert wrong
    contradicted = 0
    for p in wrong:
        assert p["deceased"] == "false" and p["ssa_death_date"]
        dod = ssa[p["person_id"]][0]["DOD"]
        assert dod is None or dod[4:] == p["ssa_death_date"][:4]  # MMDDYYYY, or a bad row
        year = int(p["ssa_death_date"][:4])
        contradicted += any(int(r["TAX_PRD"] or 0) > year for r in irs.get(p["person_id"], []))
    assert contradicted


def test_borrowed_ssns_and_itins_appear_on_returns(failure_world: WrittenWorld) -> None:
    irs = _rows_by_person(failure_world, "irs")
    borrowers = [p for p in failure_world.persons if p["uses_ssn_of"]]
    assert borrowers
    used = 0
    for p in borrowers:
        owner_ssn = failure_world.person(p["uses_ssn_of"])["ssn"]
        assert owner_ssn and not p["ssn"]
        used += any(r["TIN"] == owner_ssn for r in irs.get(p["person_id"], []))
    assert used
    itin_filers = [p for p in failure_world.persons
                   if p["itin"] and any(r["TIN"] == p["itin"] for r in irs.get(p["person_id"], []))]
    assert itin_filers


def test_a_world_can_be_generated_with_a_tiny_population(tmp_path: Path) -> None:
    result = generate(1, 0, tmp_path / "one")
    assert result.persons == 1 and len(read_csv_rows(result.persons_path)) == 1
    assert all(read_extract(w.mapping_path).table.num_rows == w.rows for w in result.extracts)
