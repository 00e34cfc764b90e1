"""Person view with status, verification and work lists, end to end through the services and
the gate, on a resolved synthetic world."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from accord import services
from accord.governance.gate import PolicyDenied
from accord.services.people_results import WorklistResult
from accord.services.results import Result
from accord.store import Store
from worlds import ENGINEER, TODAY, World, resolved_world

ENF, BEN = "CMA-ENF-2026", "CMA-BEN-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("people"), persons=4000, seed=5)


def _worklist(world: World, user: str = "casey", limit: int = 500) -> WorklistResult:
    return services.worklist(world.db, user=user, agreement=ENF, limit=limit, today=TODAY)


def _truth(world: World) -> tuple[dict[tuple[str, str], str], dict[str, dict[str, str]]]:
    with Path(world.world.truth_path).open(newline="") as f:
        truth = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
    with Path(world.world.persons_path).open(newline="") as f:
        persons = {r["person_id"]: r for r in csv.DictReader(f)}
    return truth, persons


def test_worklist_lists_only_final_orders_unverified_and_counts_the_rest(world: World) -> None:
    wl = _worklist(world)
    assert wl.entries, "the world should hold listable final orders"
    truth, persons = _truth(world)
    for e in wl.entries:
        assert e.status == "final_order" and e.verification == "unverified"
        assert e.records and e.evidence
        true = {truth[(r.source, r.record_id)] for r in e.records}
        assert all(persons[p]["status"] not in ("citizen_birth", "naturalized", "lpr") for p in true)
        assert not {r.source for r in e.records} & {"irs", "medicaid", "voter"}
    assert sum(wl.excluded.values()) + len(wl.entries) == wl.candidates
    with Store(world.db) as store:
        disclosed = store.scalar("SELECT count(*) FROM disclosures WHERE audit_seq = ?", [wl.audit_event])
    assert disclosed == len(wl.entries)


def test_only_the_roles_and_agreements_allowed_get_a_worklist(world: World) -> None:
    with pytest.raises(PolicyDenied, match="not among the actions"):
        _worklist(world, user="ana")
    with pytest.raises(PolicyDenied, match="not with a recipient party"):
        _worklist(world, user="bea")   # a caseworker, but of the benefits agency


def _answers(world: World, pid: str) -> dict[str, object]:
    """What an enforcement caseworker receives about one person and the work list, without
    the audit sequence numbers (which count every request)."""
    def strip(value: object) -> object:
        if isinstance(value, Result):
            return strip(value.plain())
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in {"audit_event", "audit_seq"}}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {"worklist": strip(_worklist(world)),
            "person": strip(services.person(world.db, pid, user="casey", purpose="removal_order_enforcement",
                                            agreement=ENF, today=TODAY)),
            "status": strip(services.status(world.db, pid, user="casey", purpose="removal_order_enforcement",
                                            agreement=ENF, today=TODAY))}


def test_a_protected_application_changes_nothing_an_enforcement_user_receives(
        world: World, tmp_path: Path) -> None:
    """8 CFR 208.6: not even the fact that a person applied may reach enforcement. The
    application is withheld from the purpose before resolution, so the work list, the person
    view and the status are exactly what they were; the benefit agency, whose purpose may see
    the application, sees it."""
    entry = _worklist(world).entries[0]
    pid, a_number = entry.person_id, entry.a_number
    name, dob = entry.name.split(" ", 1), entry.dob
    before = _answers(world, pid)
    # A pending asylum application for the same person arrives from USCIS.
    data = tmp_path / "asylum.csv"
    data.write_text("RECEIPT,FORM,A_NUMBER,FIRST,LAST,DOB,STATUS,RECEIVED\n"
                    f"ZLA9999999999,I-589,{a_number},{name[0]},{name[1]},{dob},pending,2026-10-01\n")
    mapping = tmp_path / "asylum.yaml"
    mapping.write_text(yaml.safe_dump({
        "source": "uscis_asylum", "system": "uscis-benefits", "format": "csv", "file": "asylum.csv",
        "record_id": "RECEIPT", "fields": {
            "a_number": "A_NUMBER", "given_name": "FIRST", "family_name": "LAST",
            "dob": {"column": "DOB", "format": "%Y-%m-%d"},
            "benefit_type": {"column": "FORM", "values": {"I-589": "asylum"}},
            "benefit_status": "STATUS", "benefit_date": {"column": "RECEIVED", "format": "%Y-%m-%d"}}}))
    services.ingest(world.db, mapping, user=ENGINEER)
    services.resolve(world.db, user=ENGINEER)
    with Store(world.db) as store:
        new_pid = store.scalar("SELECT entity_id FROM entity_members WHERE source = 'uscis_asylum'")
    assert new_pid == pid, "the application should link to the person"
    after = _answers(world, pid)
    assert after == before
    assert "ZLA9999999999" not in repr(after) and "asylum" not in repr(after)
    # the benefit agency, whose purpose may see it, sees the pending application
    ben = services.person(world.db, pid, user="ana", purpose="benefit_eligibility_verification",
                          agreement=BEN, today=TODAY)
    assert "ZLA9999999999" in repr(ben)


def test_verification_answers_verified_or_additional_verification_never_not_found(world: World) -> None:
    truth, persons = _truth(world)
    with Store(world.db) as store:   # an LPR as a benefit applicant would present (from their card)
        rows = store.query("SELECT source, record_id, given_name, family_name, CAST(dob AS VARCHAR), "
                           "a_number FROM records_current WHERE source = 'uscis' AND benefit_type = 'lpr' "
                           "AND benefit_status = 'approved' AND dob IS NOT NULL ORDER BY record_id")
    _, _, given, family, dob, a_number = next(
        r for r in rows if persons[truth[(r[0], r[1])]]["status"] == "lpr")
    lpr = {"dob": dob}
    ask = {"user": "bea", "purpose": "benefit_eligibility_verification", "agreement": BEN, "today": TODAY,
           "name": f"{given} {family}", "a_number": a_number}
    ok = services.verify(world.db, dob=lpr["dob"], **ask)
    assert ok.answer == "verified: lpr", ok
    wrong_dob = lpr["dob"][:3] + str((int(lpr["dob"][3]) + 3) % 10) + lpr["dob"][4:]
    other = services.verify(world.db, dob=wrong_dob, **ask)
    assert other.answer == "institute additional verification"
    assert other.reason is not None and "not a finding" in other.reason
    with pytest.raises(PolicyDenied):
        services.verify(world.db, dob=lpr["dob"], **(ask | {"agreement": None}))


def test_the_person_view_calls_eligible_exactly_those_the_work_list_lists(world: World) -> None:
    listed = {e.person_id for e in _worklist(world).entries}
    with Store(world.db, read_only=True) as store:
        candidates = [p for (p,) in store.query("""
            SELECT DISTINCT m.entity_id FROM records_current r JOIN entity_members m USING (source, record_id)
            WHERE r.case_status = 'final_order' ORDER BY 1""")]
    assert listed and len(candidates) > len(listed)
    for pid in candidates:
        status = services.person(world.db, pid, user="casey", purpose="removal_order_enforcement",
                                 agreement=ENF, today=TODAY).status
        assert bool(status and status.eligible) == (pid in listed), (pid, status)
