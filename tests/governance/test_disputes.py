"""Disputes and corrections (5 U.S.C. 552a(d), (c)(4)): acknowledgement within 10 working days,
correction as a new record version with provenance, denial with reasons and appeal rights,
statements of disagreement that travel with every later disclosure, notices to every earlier
recipient."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from casework_helpers import BEN, ENF, IDV, casework_fixture

from accord.casework.corrections import correct_dispute
from accord.casework.disputes import DisputeError, get_dispute
from accord.casework.filing import file_dispute
from accord.casework.handling import acknowledge_dispute, deny_dispute, overdue_disputes
from accord.casework.reasons import default_appeal_rights
from accord.casework.statements import file_statement
from accord.casework.workdays import federal_holidays, working_days_after
from accord.governance.gate import PolicyDenied
from accord.sources.fields import catalogue
from worlds import TODAY

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
SSA = "ssa-numident"
casework = pytest.fixture(scope="module")(casework_fixture)


def _file(cw: Any, person: str, field: str = "family_name", value: str | None = "Amended",
          today: date | None = None) -> Any:
    source, record_id = cw.record_of(person, SSA)
    return file_dispute(cw.gate, "pat", person, source=source, record_id=record_id, field=field,
                        claimed_value=value, statement="The agency has my name wrong.", today=today)


def _versions(cw: Any, source: str, record_id: str) -> list[dict[str, Any]]:
    cur = cw.store.con.execute("SELECT * FROM records WHERE source = ? AND record_id = ? ORDER BY version",
                               [source, record_id])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_federal_holidays_and_working_days() -> None:
    h = federal_holidays(2026)
    # 4 July 2026 is a Saturday (observed Friday 3 July); Thanksgiving is 26 November.
    assert {date(2026, 7, 3), date(2026, 11, 26), date(2026, 1, 19), date(2026, 5, 25)} <= h
    assert date(2026, 7, 4) not in h and len(h) == 11
    assert date(2027, 12, 31) in federal_holidays(2027)  # New Year's Day 2028 is a Saturday
    for start in (date(2026, 1, 1) + timedelta(days=i) for i in range(0, 365, 7)):
        due = working_days_after(start, 10)
        days = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
        working = [d for d in days if d.weekday() < 5 and d not in federal_holidays(d.year)]
        assert len(working) == 10 and working[-1] == due
    assert working_days_after(date(2026, 7, 2), 1) == date(2026, 7, 6)
    assert working_days_after(TODAY, 10) == date(2026, 12, 8)   # skips Thanksgiving and 2 weekends


def test_acknowledgement_due_in_10_working_days_and_overdue_list(casework: Any) -> None:
    person = casework.persons_with(SSA)[0]
    d = _file(casework, person)
    assert d.state == "filed" and d.acknowledge_by == date(2026, 12, 8)
    on_due = overdue_disputes(casework.at(date(2026, 12, 8)), "priya")
    late = overdue_disputes(casework.at(date(2026, 12, 9)), "priya")
    assert d.dispute_id not in {x.dispute_id for x in on_due}
    assert d.dispute_id in {x.dispute_id for x in late}
    acked = acknowledge_dispute(casework.gate, "priya", d.dispute_id, today=date(2026, 12, 10))
    assert acked.state == "acknowledged" and acked.to_dict()["acknowledged_late"] is True
    later = overdue_disputes(casework.at(date(2027, 1, 4)), "priya")
    assert d.dispute_id not in {x.dispute_id for x in later}
    with pytest.raises(DisputeError, match="already acknowledged"):
        acknowledge_dispute(casework.gate, "priya", d.dispute_id)


def test_filing_refusals_are_refused_and_audited(casework: Any) -> None:
    person, other = casework.persons_with(SSA)[1:3]
    source, record_id = casework.record_of(other, SSA)
    with pytest.raises(DisputeError, match="not a record of person"):
        file_dispute(casework.gate, "pat", person, source=source, record_id=record_id, field="dob",
                     claimed_value="1970-01-01", statement="wrong")
    event = casework.last_event()
    assert event["action"] == "dispute.file" and event["outcome"].startswith("failed: ")
    for field, value, why in [("nonsense", "x", "unknown field"), ("ssn", "000-12-3456", "never issued"),
                              ("dob", "12/31/1970", "not a date"), ("sex", "Q", "not one of"),
                              ("full_name", "A B", "split into parts")]:
        with pytest.raises(DisputeError, match=why):
            _file(casework, person, field, value)
    with pytest.raises(DisputeError, match="statement"):
        file_dispute(casework.gate, "pat", person, source="ssa", record_id=casework.record_of(person, SSA)[1],
                     field="dob", claimed_value="1970-01-01", statement="  ")
    with pytest.raises(PolicyDenied):
        file_dispute(casework.gate, "ana", person, source=source, record_id=record_id, field="dob",
                     claimed_value="1970-01-01", statement="wrong")
    assert casework.last_event()["decision"] == "deny"


def test_correction_is_a_new_version_with_provenance_and_every_earlier_recipient_is_told(
        casework: Any) -> None:
    person = casework.persons_with(SSA)[3]
    reads = [casework.read("ana", "benefit_eligibility_verification", BEN, person),
             casework.read("casey", "removal_order_enforcement", ENF, person),
             casework.read("ana", "identity_verification", IDV, person)]
    assert all(r.value.records for r in reads)
    source, record_id = casework.record_of(person, SSA)
    before = _versions(casework, source, record_id)
    records_before = casework.rows("SELECT count(*) FROM records")[0][0]
    d = _file(casework, person, "dob", "1971-02-03")
    result = correct_dispute(casework.gate, "priya", d.dispute_id)

    after = _versions(casework, source, record_id)
    assert after[:-1] == before                       # earlier versions untouched
    new, old = after[-1], before[-1]
    assert new["version"] == old["version"] + 1 == result.version
    assert new["dob"] == date(1971, 2, 3) != old["dob"]
    same = set(catalogue()) - {"dob"}
    assert {k: new[k] for k in same} == {k: old[k] for k in same}
    assert casework.rows("SELECT count(*) FROM records")[0][0] == records_before + 1
    current = casework.rows("SELECT dob FROM records_current WHERE source = ? AND record_id = ?",
                            [source, record_id])
    assert current == [(date(1971, 2, 3),)]

    prov = casework.rows("SELECT file_name, file_sha256, batch_id, user_id, row_number "
                         "FROM record_provenance WHERE source = ? AND record_id = ? AND version = ?",
                         [source, record_id, new["version"]])
    assert prov == [(f"correction:{d.dispute_id}", prov[0][1], result.batch_id, "priya", 1)]
    assert re.fullmatch(r"[0-9a-f]{64}", prov[0][1])
    batch = casework.rows("SELECT rows_read, accepted, new_records, new_versions, unchanged, quarantined, "
                          "file_bytes FROM ingest_batches WHERE batch_id = ?", [result.batch_id])
    assert batch[0][:6] == (1, 1, 0, 1, 0, 0)

    disclosed = casework.rows("SELECT audit_seq FROM disclosures WHERE person_id = ? ORDER BY 1", [person])
    assert {r.audit_seq for r in reads} <= {s for (s,) in disclosed}
    told = [(n.disclosure_seq, n.recipient, n.kind) for n in result.notifications]
    expected = [(s, r, "correction") for s, r in casework.rows(
        "SELECT audit_seq, recipient FROM disclosures WHERE person_id = ? ORDER BY audit_seq", [person])]
    assert told == [*expected, (None, "Social Security Administration", "correction")]
    stored = casework.rows("SELECT disclosure_seq, recipient, address FROM notifications "
                           "WHERE dispute_id = ? ORDER BY notification_id", [d.dispute_id])
    assert [(s, r) for s, r, _ in stored] == [(s, r) for s, r, _ in told]
    assert ("DHS ICE Enforcement and Removal Operations", "500 12th St SW, Washington, DC 20536") in {
        (r, a) for _, r, a in stored}

    event = casework.last_event()
    assert event["action"] == "dispute.handle" and json.loads(event["records"]) == [[source, record_id]]
    assert get_dispute(casework.store, d.dispute_id).state == "corrected"
    with pytest.raises(DisputeError, match="already corrected"):
        correct_dispute(casework.gate, "priya", d.dispute_id)
    with pytest.raises(DisputeError, match="already corrected"):
        deny_dispute(casework.gate, "priya", d.dispute_id, reasons="no")
    again = _file(casework, person, "dob", "1971-02-03")
    with pytest.raises(DisputeError, match="already holds"):
        correct_dispute(casework.gate, "priya", again.dispute_id)
    assert len(_versions(casework, source, record_id)) == len(after)


def test_correction_payload_hash_is_recomputable(casework: Any) -> None:
    person = casework.persons_with(SSA)[4]
    source, record_id = casework.record_of(person, SSA)
    d = _file(casework, person, "family_name", None)   # the field should hold nothing
    result = correct_dispute(casework.gate, "pat", d.dispute_id)
    old = _versions(casework, source, record_id)[-2]
    payload = json.dumps({"dispute": d.dispute_id, "source": source, "record_id": record_id,
                          "from_version": old["version"], "field": "family_name", "value": None,
                          "corrected_by": "pat", "on": TODAY.isoformat()}, sort_keys=True).encode()
    sha = casework.rows("SELECT file_sha256, file_bytes FROM ingest_batches WHERE batch_id = ?",
                        [result.batch_id])
    assert sha == [(hashlib.sha256(payload).hexdigest(), len(payload))]
    assert _versions(casework, source, record_id)[-1]["family_name"] is None


def test_denial_then_statement_of_disagreement_travels_with_later_disclosures(casework: Any) -> None:
    person = casework.persons_with(SSA)[5]
    early = casework.read("ana", "benefit_eligibility_verification", BEN, person)
    d = _file(casework, person)
    with pytest.raises(DisputeError, match="follows a refusal"):
        file_statement(casework.gate, "pat", d.dispute_id, "I disagree")
    with pytest.raises(DisputeError, match="reasons"):
        deny_dispute(casework.gate, "priya", d.dispute_id, reasons=" ")
    denied = deny_dispute(casework.gate, "priya", d.dispute_id,
                          reasons="The name matches the applicant's birth certificate on file.")
    assert denied.state == "denied"
    assert denied.resolution is not None and denied.resolution["appeal_rights"] == default_appeal_rights()
    assert "552a(d)(3)" in default_appeal_rights()

    statement = f"I dispute the family name on record {d.record_id}: it is not my name."
    filed = file_statement(casework.gate, "pat", d.dispute_id, statement)
    assert [n.disclosure_seq for n in filed.notifications] == [early.audit_seq, None]
    assert {n.kind for n in filed.notifications} == {"statement_of_disagreement"}
    assert casework.rows("SELECT statement FROM dispute_statements WHERE dispute_id = ?",
                         [d.dispute_id]) == [(statement,)]
    with pytest.raises(DisputeError, match="already has"):
        file_statement(casework.gate, "pat", d.dispute_id, "again")

    later = casework.read("bea", "benefit_eligibility_verification", BEN, person)
    assert later.statements == {person: [statement]}
    attached = dict(casework.rows("SELECT audit_seq, statement_attached FROM disclosures WHERE person_id = ?",
                                  [person]))
    assert attached == {early.audit_seq: False, later.audit_seq: True}


def test_casework_code_never_updates_or_deletes() -> None:
    files = [*sorted((SRC / "casework").glob("*.py")), SRC / "governance" / "subject_report.py",
             SRC / "ingest" / "records.py"]
    assert len(files) > 8
    for path in files:
        name = path.name
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(UPDATE|DELETE|TRUNCATE|DROP)\b", text), name
        assert "ON CONFLICT" not in text and "INSERT OR REPLACE" not in text, name
