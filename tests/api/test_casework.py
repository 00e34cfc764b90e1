"""Casework routes: subject-access report, disputes and corrections, annotations, and the
adverse-action workflow of findings; each by the role that may, each refused otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Api, add_user, error, refused


@pytest.fixture(scope="module")
def entry(api: Api) -> dict[str, Any]:
    r = api.client.get(f"/api/worklists/{api.enf}?limit=5", headers=api.h("casey"))
    assert r.status_code == 200, r.text
    entry: dict[str, Any] = max(r.json()["entries"], key=lambda e: len(e["records"]))
    return entry


def _record(entry: dict[str, Any], i: int = 0) -> dict[str, str]:
    rec: dict[str, str] = entry["records"][i]
    return rec


# --- subject access --------------------------------------------------------------------------------------


def test_subject_report_lists_records_and_withholds_law_enforcement_disclosures(api: Api,
                                                                               entry: dict[str, Any]) -> None:
    pid = entry["person_id"]
    seen = api.client.get(f"/api/persons/{pid}", headers=api.enforcement())  # a (b)(7) disclosure
    assert seen.status_code == 200
    r = api.client.get(f"/api/subject-reports/{pid}", headers=api.h("pat"))
    assert r.status_code == 200, r.text
    report = r.json()
    held = {(rec["source"], rec["record_id"]) for recs in report["records"].values() for rec in recs}
    assert {(x["source"], x["record_id"]) for x in entry["records"]} <= held
    assert report["counts"]["records"] == len(held)
    assert seen.json()["audit_event"] not in {d["audit_seq"] for d in report["disclosures"]}
    assert report["law_enforcement_listed"] is False and report["notes"]
    full = api.client.get(f"/api/subject-reports/{pid}", params={"include_law_enforcement": True},
                          headers=api.h("pat")).json()
    assert seen.json()["audit_event"] in {d["audit_seq"] for d in full["disclosures"]}


def test_subject_search_finds_the_person_without_values(api: Api, entry: dict[str, Any]) -> None:
    pid = entry["person_id"]
    report = api.client.get(f"/api/subject-reports/{pid}", headers=api.h("pat")).json()
    held = [r for recs in report["records"].values() for r in recs if r["fields"].get("a_number")]
    assert held, "the work-list entry has an A-number on record"
    a_number = held[0]["fields"]["a_number"]
    r = api.client.get("/api/subject-searches", params={"a_number": a_number}, headers=api.h("pat"))
    assert r.status_code == 200, r.text
    found = r.json()
    assert set(found) == {"candidates", "audit_event"}
    assert found["candidates"][0]["person_id"] == pid
    assert set(found["candidates"][0]) == {"person_id", "score", "matched_on"}
    assert found["candidates"][0]["matched_on"] == [{"field": "a_number", "level": "exact"}]
    refused(api.client.get("/api/subject-searches", params={"a_number": a_number}, headers=api.h("casey")),
            "subject.search")
    error(api.client.get("/api/subject-searches", params={"name": "Ann Lee"}, headers=api.h("pat")),
          400, "bad_request")


def test_an_unknown_person_has_no_subject_report(api: Api) -> None:
    assert "no person 'P999999999'" in error(
        api.client.get("/api/subject-reports/P999999999", headers=api.h("pat")), 404, "not_found")["message"]


def test_subject_report_is_for_privacy_officers_only(api: Api, entry: dict[str, Any]) -> None:
    for user in ("casey", "olive", "dana"):
        refused(api.client.get(f"/api/subject-reports/{entry['person_id']}", headers=api.h(user)),
                "subject.report")


# --- disputes --------------------------------------------------------------------------------------------


def _dispute(api: Api, entry: dict[str, Any], field: str, claimed: str | None, user: str = "pat") -> Any:
    rec = _record(entry)
    return api.client.post("/api/disputes", headers=api.h(user), json={
        "person_id": entry["person_id"], "source": rec["source"], "record_id": rec["record_id"],
        "field": field, "claimed_value": claimed, "statement": "this is not my date of birth"})


def test_dispute_acknowledge_deny_and_statement_of_disagreement(api: Api, entry: dict[str, Any]) -> None:
    filed = _dispute(api, entry, "dob", "1950-01-02")
    assert filed.status_code == 201, filed.text
    d = filed.json()
    assert d["state"] == "filed" and d["acknowledge_by"] > d["filed_on"] and d["events"] == []
    url = f"/api/disputes/{d['dispute_id']}"
    ack = api.client.post(f"{url}/acknowledgement", headers=api.h("priya"))
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    assert all("seq" not in e and "dispute_id" not in e for e in ack.json()["events"])
    denied = api.client.post(f"{url}/denial", json={"reasons": "the court record is right"},
                             headers=api.h("priya"))
    assert denied.json()["state"] == "denied"
    assert any(e["appeal_rights"] for e in denied.json()["events"] if e["event"] == "denied")
    stated = api.client.post(f"{url}/statement", json={"statement": "I still disagree"}, headers=api.h("pat"))
    assert stated.status_code == 200, stated.text
    body = stated.json()
    assert body["dispute"]["statement_of_disagreement"] == "I still disagree" and body["notifications"]
    assert all("notification_id" not in n for n in body["notifications"])
    again = api.client.post(f"{url}/statement", json={"statement": "again"}, headers=api.h("pat"))
    error(again, 400, "bad_request")
    report = api.client.get(f"/api/subject-reports/{entry['person_id']}", headers=api.h("pat")).json()
    assert "I still disagree" in {s["statement"] for s in report["statements"]}
    assert report["notifications"] and all("notification_id" not in n for n in report["notifications"])


def test_a_correction_is_a_new_record_version(api: Api, entry: dict[str, Any]) -> None:
    rec = _record(entry)
    before = api.client.get(f"/api/subject-reports/{entry['person_id']}", headers=api.h("pat")).json()
    held = next(v for v in before["records"][rec["source"]] if v["record_id"] == rec["record_id"])
    claimed = "M" if held["fields"].get("sex") == "F" else "F"
    d = _dispute(api, entry, "sex", claimed).json()
    r = api.client.post(f"/api/disputes/{d['dispute_id']}/correction", headers=api.h("priya"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dispute"]["state"] == "corrected" and body["version"] >= 2 and body["batch_id"]
    report = api.client.get(f"/api/subject-reports/{entry['person_id']}", headers=api.h("pat")).json()
    versions = [v for v in report["records"][rec["source"]] if v["record_id"] == rec["record_id"]]
    assert {v["version"] for v in versions} >= {1, body["version"]}
    assert any(v["fields"].get("sex") == claimed for v in versions if v["version"] == body["version"])


def test_disputes_refuse_other_roles_unknown_ids_and_bad_values(api: Api, entry: dict[str, Any]) -> None:
    refused(_dispute(api, entry, "dob", "1950-01-02", user="casey"), "dispute.file")
    d = _dispute(api, entry, "dob", "1950-01-03").json()
    for step, body in (("acknowledgement", None), ("correction", None), ("denial", {"reasons": "x"}),
                       ("statement", {"statement": "x"})):
        refused(api.client.post(f"/api/disputes/{d['dispute_id']}/{step}", json=body, headers=api.h("casey")))
    error(api.client.post("/api/disputes/D-999999/acknowledgement", headers=api.h("priya")), 404, "not_found")
    error(_dispute(api, entry, "dob", "not a date"), 400, "bad_request")
    error(_dispute(api, entry, "favourite_colour", "blue"), 400, "bad_request")
    error(api.client.post("/api/disputes", json={"person_id": "P1"}, headers=api.h("pat")), 422,
          "invalid_request")


# --- annotations -----------------------------------------------------------------------------------------


def test_an_annotation_needs_two_approvers_other_than_the_requester(api: Api, entry: dict[str, Any]) -> None:
    rec = _record(entry)
    r = api.client.post("/api/annotations", headers=api.h("pat"), json={
        "source": rec["source"], "record_id": rec["record_id"], "kind": "record_not_this_person",
        "reason_code": "linkage_error", "evidence": "documents show a different date of birth"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["state"].startswith("pending") and a["effective"] is False
    assert a["person_id"] == entry["person_id"]
    url = f"/api/annotations/{a['annotation_id']}/approvals"
    error(api.client.post(url, headers=api.h("pat")), 400, "bad_request")     # the requester
    one = api.client.post(url, headers=api.h("priya")).json()
    assert one["effective"] is False and [x["user"] for x in one["approvals"]] == ["priya"]
    add_user(api, {"user_id": "paz", "name": "Paz Privacy", "roles": ["privacy_officer"],
                   "organisation": "Privacy Office"}, token=True)     # approved by a second admin
    two = api.client.post(url, headers=api.h("paz")).json()
    assert two["effective"] is True and two["state"] == "effective"


def test_annotations_refuse_other_roles_and_unknown_ids(api: Api, entry: dict[str, Any]) -> None:
    rec = _record(entry)
    body = {"source": rec["source"], "record_id": rec["record_id"], "kind": "death_record_erroneous",
            "reason_code": "person_confirmed_alive", "evidence": "seen in person"}
    refused(api.client.post("/api/annotations", json=body, headers=api.h("casey")), "annotation.request")
    error(api.client.post("/api/annotations", json=body | {"reason_code": "made_up"}, headers=api.h("pat")),
          400, "bad_request")
    refused(api.client.post("/api/annotations/N-000001/approvals", headers=api.h("casey")),
            "annotation.approve")
    error(api.client.post("/api/annotations/N-999999/approvals", headers=api.h("priya")), 404, "not_found")
    refused(api.client.get("/api/annotations", headers=api.h("casey")), "annotation.read")
    error(api.client.get("/api/annotations/N-999999", headers=api.h("priya")), 404, "not_found")


def test_the_annotation_queue_lists_those_waiting_for_an_approver(api: Api, entry: dict[str, Any]) -> None:
    rec = _record(entry)
    a = api.client.post("/api/annotations", headers=api.h("pat"), json={
        "source": rec["source"], "record_id": rec["record_id"], "kind": "identity_theft_victim",
        "reason_code": "identity_theft_report", "evidence": "police report 2026-114"})
    assert a.status_code == 201, a.text
    aid = a.json()["annotation_id"]
    queue = api.client.get("/api/annotations", headers=api.h("priya"))
    assert queue.status_code == 200, queue.text
    page = queue.json()
    assert page["state"] == "pending" and page["audit_event"]
    item = next(x for x in page["items"] if x["annotation_id"] == aid)
    assert item["approvals_needed"] == 2 and item["may_not_approve"] == ["pat"]
    one = api.client.get(f"/api/annotations/{aid}", headers=api.h("priya")).json()
    assert one["annotation_id"] == aid and one["audit_event"]
    mine = api.client.get("/api/annotations", params={"person": entry["person_id"], "state": "all"},
                          headers=api.h("priya")).json()
    assert aid in {x["annotation_id"] for x in mine["items"]} and mine["state"] is None
    error(api.client.get("/api/annotations", params={"state": "done"}, headers=api.h("priya")),
          422, "invalid_request")


# --- findings --------------------------------------------------------------------------------------------


def _open(api: Api, entry: dict[str, Any], user: str = "casey", agreement: str | None = None) -> Any:
    return api.client.post("/api/findings", headers=api.h(user), json={
        "person_id": entry["person_id"], "agreement": agreement or api.enf, "records": [_record(entry)],
        "basis": "final order of removal in the immigration court record"})


def test_a_finding_cannot_skip_a_step(api: Api, entry: dict[str, Any]) -> None:
    r = _open(api, entry)
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["state"] == "pending" and f["opened_by"] == "casey"
    assert any("independent verification" in n for n in f["needs"])
    url = f"/api/findings/{f['finding_id']}"
    assert api.client.get(url, headers=api.h("carl")).json()["needs"] == f["needs"]
    early = api.client.post(f"{url}/notice", json={"method": "mail"}, headers=api.h("casey"))
    error(early, 400, "bad_request")
    body = error(api.client.post(f"{url}/actionable", headers=api.h("casey")), 400, "bad_request")
    assert "independent verification" in body["message"] and "notice" in body["message"]
    contested = api.client.post(f"{url}/contests", json={"contest": "I have a pending appeal"},
                                headers=api.h("casey")).json()
    assert contested["state"] == "contested"
    contest_id = contested["contests"][0]["contest_id"]
    error(api.client.post(f"{url}/contests/{contest_id + 1000}/decision",
                          json={"upheld": False, "reasons": "x"}, headers=api.h("casey")), 400, "bad_request")
    decided = api.client.post(f"{url}/contests/{contest_id}/decision",
                              json={"upheld": False, "reasons": "the appeal was dismissed"},
                              headers=api.h("casey"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["contests"][0]["decision"] == "rejected" and decided.json()["state"] == "pending"


def test_independent_verification_by_another_caseworker(api: Api, entry: dict[str, Any]) -> None:
    f = _open(api, entry).json()
    r = api.client.post(f"/api/findings/{f['finding_id']}/verification",
                        json={"method": "court docket", "evidence": "order dated and final"},
                        headers=api.h("carl"))
    assert r.status_code == 200, r.text
    assert r.json()["verified_by"] == ["carl"]
    noticed = api.client.post(f"/api/findings/{f['finding_id']}/notice", json={"method": "certified mail"},
                              headers=api.h("casey"))
    assert noticed.status_code == 200, noticed.text
    assert noticed.json()["notice_on"] and noticed.json()["actionable_from"] > noticed.json()["notice_on"]
    early = api.client.post(f"/api/findings/{f['finding_id']}/actionable", headers=api.h("casey"))
    assert "notice period" in error(early, 400, "bad_request")["message"]


def test_findings_refuse_other_roles_organisations_and_unknown_ids(api: Api, entry: dict[str, Any]) -> None:
    refused(_open(api, entry, user="ana"), "finding.open")
    refused(_open(api, entry, user="bea"), "recipient")
    refused(_open(api, entry, agreement="CMA-NOPE"))
    f = _open(api, entry).json()
    url = f"/api/findings/{f['finding_id']}"
    refused(api.client.get(url, headers=api.h("dana")), "finding.read")
    post = api.client.post
    refused(post(f"{url}/verification", json={"method": "m", "evidence": "e"}, headers=api.h("ana")))
    refused(post(f"{url}/notice", json={"method": "mail"}, headers=api.h("olive")), "finding.notice")
    refused(post(f"{url}/contests", json={"contest": "c"}, headers=api.h("ana")), "finding.contest")
    refused(api.client.post(f"{url}/actionable", headers=api.h("pat")), "finding.decide")
    error(api.client.get("/api/findings/F-999999", headers=api.h("casey")), 404, "not_found")
    other = dict(entry, records=[{"source": "ssa", "record_id": "not-this-persons"}])
    error(_open(api, other), 400, "bad_request")
