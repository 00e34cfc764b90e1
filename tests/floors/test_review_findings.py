"""The security review's findings about derived answers, one test each (each failed before the
fix): verification, status views, findings, work-list exclusion counts and the confidence
beside a neutral answer must say nothing about records the purpose may not see."""

from __future__ import annotations

import pytest
import yaml

from accord import services
from accord.errors import AccordError
from accord.governance.gate import PolicyDenied
from accord.services.people_results import WorklistResult
from accord.store import Store
from worlds import ENGINEER, TODAY, World, resolved_world

ENFORCEMENT = "removal_order_enforcement"
IDENTITY = "identity_verification"
BENEFITS = "benefit_eligibility_verification"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("review-findings"), persons=600, seed=5)


def _agreement(world: World, purpose: str) -> str:
    return next(a.id for a in services.agreements(world.db, user="olive") if a.purpose == purpose)


def _worklist(world: World) -> WorklistResult:
    return services.worklist(world.db, user="casey", agreement=_agreement(world, ENFORCEMENT), limit=500,
                             today=TODAY)


@pytest.fixture(scope="module")
def applicant(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A person on the enforcement work list to whom a pending asylum application is then
    added (the same A-number, name and date of birth); (person id, the application's record id)."""
    entry = _worklist(world).entries[0]
    folder = tmp_path_factory.mktemp("asylum")
    given, family = str(entry.name).split(" ", 1)
    (folder / "asylum.csv").write_text(
        "RECEIPT,FORM,A_NUMBER,FIRST,LAST,DOB,STATUS,RECEIVED\n"
        f"ZLA7777777777,I-589,{entry.a_number},{given},{family},{entry.dob},pending,2026-10-01\n")
    mapping = folder / "asylum.yaml"
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
        pid = store.scalar("SELECT entity_id FROM entity_members WHERE source = 'uscis_asylum'")
    assert pid == entry.person_id, "the application links to the person"
    return str(pid), "ZLA7777777777"


def test_verification_is_no_enforcement_tool(world: World) -> None:
    """Finding 1: verify.query under removal enforcement is refused, whoever asks."""
    with pytest.raises(PolicyDenied, match=r"verify\.query is not done under removal_order_enforcement"):
        services.verify(world.db, user="casey", purpose=ENFORCEMENT, agreement=_agreement(world, ENFORCEMENT),
                        name="Ann Doe", dob="1980-01-01", a_number="A204518837", ssn=None, today=TODAY)


def _asylum_grantees(world: World) -> list[str]:
    with Store(world.db, read_only=True) as store:
        return [p for (p,) in store.query("""
            SELECT DISTINCT m.entity_id FROM records_current r JOIN entity_members m USING (source, record_id)
            WHERE r.benefit_type = 'asylum' ORDER BY 1""")]


def test_identity_verification_status_never_rests_on_an_asylum_record(world: World) -> None:
    """Findings 1 and 2: an analyst under identity verification never gets a status that
    rests on an asylum application (relief granted, protection pending), nor a note that part
    of the evidence is hidden."""
    grantees = _asylum_grantees(world)
    assert grantees, "the world has asylum applicants"
    idv = _agreement(world, IDENTITY)
    for pid in grantees[:15]:
        try:
            answer = services.status(world.db, pid, user="ana", purpose=IDENTITY, agreement=idv, today=TODAY)
        except AccordError:
            continue
        status = answer.status
        assert status.status not in {"relief_granted", "protected_pending"}, (pid, status)
        assert not any("outside this purpose" in r for r in status.needs_review), status
        assert all(e.value != "asylum" for e in status.evidence), status


def test_a_finding_on_a_withheld_record_gets_the_answer_a_missing_record_gets(
        world: World, applicant: tuple[str, str]) -> None:
    """Finding 3: opening a finding on the person's asylum record, on a record that does not
    exist and on another person's record gives one and the same error."""
    pid, receipt = applicant
    enf = _agreement(world, ENFORCEMENT)
    other = next(e for e in _worklist(world).entries if e.person_id != pid).records[0]
    messages = []
    for record in (("uscis_asylum", receipt), ("uscis_asylum", "ZLA0000000000"),
                   ("no-such-source", "1"), (other.source, other.record_id)):
        with pytest.raises(AccordError) as e:
            services.open_finding(world.db, pid, user="casey", agreement=enf, records=[record],
                                  basis="match result", today=TODAY)
        messages.append(str(e.value).replace(f"{record[0]}/{record[1]}", "<record>"))
    assert len(set(messages)) == 1, messages


def test_exclusion_counts_name_no_protected_bucket(world: World, applicant: tuple[str, str]) -> None:
    """Finding 4: no exclusion count names or separates protected evidence."""
    excluded = _worklist(world).excluded
    assert "protected" not in excluded
    assert all("protect" not in k and "asylum" not in k for k in excluded)


def test_a_neutral_answer_shows_no_confidence(world: World, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Finding 12: beside the neutral "not eligible for this purpose" no confidence, evidence,
    review reason or death detail is shown (any of them could come from a record linked to the
    person). Set up: a listed person's SSA record gains a citizenship code (a field enforcement
    is not shown) through a second SSA extract."""
    enf = _agreement(world, ENFORCEMENT)
    entry = _worklist(world).entries[-1]
    given, family = str(entry.name).split(" ", 1)
    folder = tmp_path_factory.mktemp("ssa-update")
    (folder / "ssa2.csv").write_text(
        f"KEY,ANUM,FIRST,LAST,DOB,CIT\n1,{entry.a_number},{given},{family},{entry.dob},A\n")
    mapping = folder / "ssa2.yaml"
    mapping.write_text(yaml.safe_dump({
        "source": "ssa_update", "system": "ssa-numident", "format": "csv", "file": "ssa2.csv",
        "record_id": "KEY", "fields": {
            "a_number": "ANUM", "given_name": "FIRST", "family_name": "LAST",
            "dob": {"column": "DOB", "format": "%Y-%m-%d"},
            "citizenship_code": {"column": "CIT", "values": {"A": "us_citizen"}}}}))
    services.ingest(world.db, mapping, user=ENGINEER)
    services.resolve(world.db, user=ENGINEER)
    with Store(world.db, read_only=True) as store:
        pid = store.scalar("SELECT entity_id FROM entity_members WHERE source = 'ssa_update'")
    assert pid == entry.person_id, "the SSA record links to the listed person"
    status = services.status(world.db, pid, user="casey", purpose=ENFORCEMENT, agreement=enf,
                             today=TODAY).status
    assert status.status == "not_eligible", status
    assert status.confidence == 0.0 and status.evidence == [] and status.needs_review == []
    assert status.death.state == "none"
    excluded = _worklist(world).excluded
    assert excluded.get("not_eligible_for_this_purpose", 0) >= 1 and "citizenship_evidence" not in excluded


def test_the_applicant_stays_exactly_where_they_were(world: World, applicant: tuple[str, str]) -> None:
    """8 CFR 208.6: after the application arrives the applicant is still listed, as before
    (taking them off would tell enforcement that they applied), and nothing enforcement
    receives about them names it."""
    pid, receipt = applicant
    entries = {e.person_id: e for e in _worklist(world).entries}
    assert pid in entries
    enf = _agreement(world, ENFORCEMENT)
    seen = repr(services.person(world.db, pid, user="casey", purpose=ENFORCEMENT, agreement=enf, today=TODAY))
    assert "uscis_asylum" not in seen and "asylum" not in seen and receipt not in seen
    assert "uscis_asylum" not in repr(entries[pid])
