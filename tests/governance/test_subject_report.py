"""The subject-access report (5 U.S.C. 552a(d)(1), (c)(3)): every version of every record held
about the person with provenance, and every disclosure of the person, exactly as accounted,
except law-enforcement disclosures unless asked for (and then not even their number)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from casework_helpers import BEN, ENF, IDV, casework_fixture

from accord.casework.annotations import request_annotation
from accord.casework.corrections import correct_dispute
from accord.casework.filing import file_dispute
from accord.casework.findings import open_finding, record_notice, verify_finding
from accord.governance import audit
from accord.governance.gate import PolicyDenied
from accord.governance.subject_report import LAW_ENFORCEMENT_NOTE, subject_report

SSA = "ssa-numident"
ERO = "DHS ICE Enforcement and Removal Operations"
casework = pytest.fixture(scope="module")(casework_fixture)


@pytest.fixture(scope="module")
def scenario(casework: Any) -> dict[str, Any]:
    """Governed reads of one person by different users under different purposes."""
    person, other = casework.persons_with(SSA, "irs-individual-returns")[:2]
    reads = {
        "ana/benefits": casework.read("ana", "benefit_eligibility_verification", BEN, person),
        "ana/identity": casework.read("ana", "identity_verification", IDV, person),
        "casey/removal": casework.read("casey", "removal_order_enforcement", ENF, person),
        "tess/tax": casework.read("tess", "tax_administration", None, person),
        "bea/benefits": casework.read("bea", "benefit_eligibility_verification", BEN, person),
        "carl/removal": casework.read("carl", "removal_order_enforcement", ENF, person),
    }
    other_read = casework.read("ana", "benefit_eligibility_verification", BEN, other)
    with pytest.raises(PolicyDenied):
        casework.read("casey", "identity_verification", IDV, person)   # refused: nothing disclosed
    assert all(r.value.records for r in reads.values()) and other_read.value.records
    return {"person": person, "other": other, "reads": reads, "other_read": other_read}


def _held(cw: Any, person: str) -> list[tuple[str, str, int, str]]:
    """Test-only: every stored version of the person's records, with its batch's file hash."""
    return sorted(cw.rows(
        "SELECT r.source, r.record_id, r.version, b.file_sha256 FROM records r "
        "JOIN entity_members m USING (source, record_id) JOIN ingest_batches b USING (batch_id) "
        "WHERE m.entity_id = ?", [person]))


def _listed(report: Any) -> list[tuple[str, str, int, str]]:
    return sorted((r["source"], r["record_id"], r["version"], r["provenance"]["file_sha256"])
                  for versions in report.records.values() for r in versions)


def test_every_disclosure_is_listed_except_law_enforcement(casework: Any, scenario: dict[str, Any]) -> None:
    person, reads = scenario["person"], scenario["reads"]
    law_enforcement = {"casey/removal", "carl/removal"}
    before = casework.rows("SELECT count(*) FROM disclosures WHERE person_id = ?", [person])

    report = subject_report(casework.gate, "pat", person)
    assert [d["audit_seq"] for d in report.disclosures] == sorted(
        r.audit_seq for k, r in reads.items() if k not in law_enforcement)
    by_seq = {d["audit_seq"]: d for d in report.disclosures}
    ana = by_seq[reads["ana/benefits"].audit_seq]
    assert (ana["purpose"], ana["agreement"], ana["recipient"], ana["recipient_address"]) == (
        "benefit_eligibility_verification", BEN, "State Benefits Agency",
        "1 Capitol Mall, Sacramento, CA 95814")
    tax = by_seq[reads["tess/tax"].audit_seq]
    assert (tax["purpose"], tax["agreement"], tax["recipient"]) == (
        "tax_administration", None, "Internal Revenue Service")
    assert sorted(map(tuple, tax["records"])) == reads["tess/tax"].value.records
    assert report.notes == [LAW_ENFORCEMENT_NOTE] and not report.law_enforcement_listed
    text = json.dumps(report.to_dict())
    assert ERO not in text and ENF not in text and "removal_order_enforcement" not in text

    full = subject_report(casework.gate, "priya", person, include_law_enforcement=True)
    assert [d["audit_seq"] for d in full.disclosures] == sorted(r.audit_seq for r in reads.values())
    assert full.notes == [] and ERO in json.dumps(full.to_dict())
    assert all(d["law_enforcement"] == (d["recipient"] == ERO) for d in full.disclosures)

    # The report is itself audited, and a person's own access is not a disclosure.
    assert casework.rows("SELECT count(*) FROM disclosures WHERE person_id = ?", [person]) == before
    event = casework.last_event()
    assert (event["seq"], event["action"], event["user_id"]) == (full.audit_seq, "subject.report", "priya")
    assert json.loads(event["persons"]) == [person]


def test_everything_held_with_provenance_and_nothing_of_anyone_else(casework: Any,
                                                                    scenario: dict[str, Any]) -> None:
    person, other = scenario["person"], scenario["other"]
    report = subject_report(casework.gate, "pat", person)
    assert _listed(report) == _held(casework, person)
    assert {r["system"] for v in report.records.values() for r in v} >= {SSA, "irs-individual-returns"}
    persons, records = report.touched()
    assert persons == [person] and records == sorted({(s, r) for s, r, _, _ in _held(casework, person)})
    other_records = {(s, r) for s, r, _, _ in _held(casework, other)}
    assert not other_records & set(records)
    assert scenario["other_read"].audit_seq not in {d["audit_seq"] for d in report.disclosures}
    assert all(r["fields"] for v in report.records.values() for r in v)
    json.dumps(report.to_dict())


def test_only_a_privacy_officer_runs_a_subject_report(casework: Any, scenario: dict[str, Any]) -> None:
    for user in ("ana", "casey", "olive"):
        with pytest.raises(PolicyDenied, match=r"subject\.report"):
            subject_report(casework.gate, user, scenario["person"])
        assert casework.last_event()["decision"] == "deny"


def test_corrections_disputes_notifications_annotations_and_findings_appear(
        casework: Any, scenario: dict[str, Any]) -> None:
    person, reads = scenario["person"], scenario["reads"]
    source, record_id = casework.record_of(person, SSA)
    d = file_dispute(casework.gate, "pat", person, source=source, record_id=record_id, field="dob",
                     claimed_value="1950-05-05", statement="My date of birth is 5 May 1950.")
    fixed = correct_dispute(casework.gate, "priya", d.dispute_id)
    a = request_annotation(casework.gate, "pat", source=source, record_id=record_id,
                           kind="identity_theft_victim", reason_code="identity_theft_report",
                           evidence="FTC report 123456789")
    f = open_finding(casework.gate, "casey", person, agreement=ENF, records=[(source, record_id)],
                     basis="Final order of removal matched on name and date of birth.")
    fid = f.finding.finding_id

    report = subject_report(casework.gate, "pat", person)
    versions = [r for r in report.records[source] if r["record_id"] == record_id]
    assert [r["version"] for r in versions] == [fixed.version - 1, fixed.version]
    assert versions[-1]["provenance"]["file_name"] == f"correction:{d.dispute_id}"
    assert versions[-1]["fields"]["dob"] == date(1950, 5, 5) != versions[0]["fields"].get("dob")
    assert [x["dispute_id"] for x in report.disputes] == [d.dispute_id]
    assert [x["state"] for x in report.disputes] == ["corrected"]
    assert [x["annotation_id"] for x in report.annotations] == [a.annotation_id]
    told = {n["disclosure_seq"] for n in report.notifications}
    le_seqs = {reads["casey/removal"].audit_seq, reads["carl/removal"].audit_seq}
    assert told == {n.disclosure_seq for n in fixed.notifications} - le_seqs
    assert all("notification_id" not in n for n in report.notifications)
    assert report.findings == []          # a law-enforcement finding the person was not told of yet

    full = subject_report(casework.gate, "pat", person, include_law_enforcement=True)
    assert {n["disclosure_seq"] for n in full.notifications} == {
        n.disclosure_seq for n in fixed.notifications}
    assert [x["finding_id"] for x in full.findings] == [fid]

    verify_finding(casework.gate, "carl", fid, method="documents", evidence="docket")
    record_notice(casework.gate, "casey", fid, sent_on=casework.gate.today, method="first-class mail")
    told_now = subject_report(casework.gate, "pat", person)
    assert [(x["finding_id"], x["notice_on"]) for x in told_now.findings] == [
        (fid, casework.gate.today.isoformat())]
    assert audit.verify(casework.store).ok      # every casework step was chained into the audit log
