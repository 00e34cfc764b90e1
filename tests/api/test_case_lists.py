"""Listing and reading findings and disputes over HTTP: person data, so each list is a governed
read (audited with the persons listed; findings also in the accounting of disclosures), paged,
filtered, and refused with the gate's reasons to a caller without the role, purpose or
agreement."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.store import Store

from .helpers import BENEFITS, ENFORCEMENT, Api, error, refused


@pytest.fixture(scope="module")
def entries(api: Api) -> list[dict[str, Any]]:
    r = api.client.get(f"/api/worklists/{api.enf}?limit=10", headers=api.h("casey"))
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["entries"]
    assert len(found) >= 3, "the API world needs three work-list entries"
    return found


@pytest.fixture(scope="module")
def findings(api: Api, entries: list[dict[str, Any]]) -> list[str]:
    ids = []
    for e in entries[:3]:
        r = api.client.post("/api/findings", headers=api.h("casey"), json={
            "person_id": e["person_id"], "agreement": api.enf, "records": [e["records"][0]],
            "basis": "final order of removal in the immigration court record"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["finding_id"])
    r = api.client.post(f"/api/findings/{ids[1]}/contests", json={"contest": "the order was reopened"},
                        headers=api.h("casey"))
    assert r.json()["state"] == "contested"
    return ids


def _event(api: Api, seq: int) -> dict[str, Any]:
    with Store(api.db) as store:
        cur = store.con.execute("SELECT user_id, action, purpose, agreement, decision, persons, records, "
                                "details FROM audit_events WHERE seq = ?", [seq])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def _disclosed(api: Api, seq: int) -> list[tuple[str, str]]:
    with Store(api.db) as store:
        return [(str(p), str(n)) for p, n in store.query(
            "SELECT person_id, nature FROM disclosures WHERE audit_seq = ? ORDER BY person_id", [seq])]


# --- findings ---------------------------------------------------------------------------------------------


def test_findings_of_an_agreement_are_listed_paged_and_accounted(api: Api, findings: list[str]) -> None:
    r = api.client.get("/api/findings", params={"agreement": api.enf}, headers=api.h("carl"))
    assert r.status_code == 200, r.text
    body = r.json()
    listed = [f["finding_id"] for f in body["items"]]
    assert listed[:3] == findings                                  # oldest first
    assert body["agreement"] == api.enf and body["purpose"] == ENFORCEMENT
    persons = sorted({f["person_id"] for f in body["items"]})
    event = _event(api, body["audit_event"])
    assert (event["user_id"], event["action"], event["purpose"], event["agreement"], event["decision"]) == (
        "carl", "finding.read", ENFORCEMENT, api.enf, "allow")
    assert json.loads(event["persons"]) == persons
    assert _disclosed(api, body["audit_event"]) == [(p, "adverse-action findings") for p in persons]

    pages, offset = [], 0
    while offset is not None:
        page = api.client.get("/api/findings", params={"agreement": api.enf, "limit": 1, "offset": offset},
                              headers=api.h("carl")).json()
        assert len(page["items"]) <= 1
        pages += [f["finding_id"] for f in page["items"]]
        offset = page["next_offset"]
    assert pages == listed


def test_findings_filter_by_state_and_person_and_take_the_agreement_header(api: Api,
                                                                          findings: list[str]) -> None:
    contested = api.client.get("/api/findings", params={"state": "contested"},
                               headers=api.enforcement("carl"))
    assert contested.status_code == 200, contested.text
    assert [f["finding_id"] for f in contested.json()["items"]] == [findings[1]]
    assert all(f["state"] == "contested" for f in contested.json()["items"])
    one = api.client.get(f"/api/findings/{findings[0]}", headers=api.h("carl")).json()
    mine = api.client.get("/api/findings", params={"agreement": api.enf, "person": one["person_id"]},
                          headers=api.h("carl")).json()
    assert findings[0] in {f["finding_id"] for f in mine["items"]}
    assert {f["person_id"] for f in mine["items"]} == {one["person_id"]}
    error(api.client.get("/api/findings", params={"agreement": api.enf, "state": "done"},
                         headers=api.h("carl")), 422, "invalid_request")


def test_one_finding_is_a_governed_read(api: Api, findings: list[str]) -> None:
    r = api.client.get(f"/api/findings/{findings[0]}", headers=api.h("carl", justification="case 7"))
    assert r.status_code == 200, r.text
    f = r.json()
    event = _event(api, f["audit_event"])
    assert (event["action"], event["agreement"], json.loads(event["persons"])) == (
        "finding.read", api.enf, [f["person_id"]])
    assert json.loads(event["records"]) == [list(x) for x in f["records"]]
    assert _disclosed(api, f["audit_event"]) == [(f["person_id"], "adverse-action finding")]


def test_findings_are_refused_without_the_role_agreement_or_purpose(api: Api, findings: list[str]) -> None:
    listing = "/api/findings"
    for user in ("ana", "pat", "dana", "olive", "admin"):
        refused(api.client.get(listing, params={"agreement": api.enf}, headers=api.h(user)), "finding.read")
        refused(api.client.get(f"{listing}/{findings[0]}", headers=api.h(user)), "finding.read")
    # a caseworker, but not with a recipient party of the enforcement agreement
    refused(api.client.get(listing, params={"agreement": api.enf}, headers=api.h("bea")), "recipient")
    refused(api.client.get(f"{listing}/{findings[0]}", headers=api.h("bea")), "recipient")
    refused(api.client.get(listing, headers=api.h("carl")), "declare a purpose")
    refused(api.client.get(listing, headers=api.h("carl", purpose=ENFORCEMENT)),
            "name the matching agreement")
    refused(api.client.get(listing, params={"agreement": api.enf}, headers=api.h("carl", purpose=BENEFITS)),
            "not " + BENEFITS)
    error(api.client.get(listing, params={"agreement": "CMA-NOPE"}, headers=api.h("carl")), 404, "not_found")
    refused(api.client.get(listing, params={"agreement": "CMA-NOPE"}, headers=api.h("ana")),
            "finding.read")                                                        # before the lookup
    error(api.client.get(f"{listing}/F-999999", headers=api.h("carl")), 404, "not_found")
    refused(api.client.get(f"{listing}/F-999999", headers=api.h("ana")), "finding.read")  # before the lookup


# --- disputes ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def disputes(api: Api, entries: list[dict[str, Any]]) -> list[str]:
    ids = []
    for e in entries[:2]:
        rec = e["records"][0]
        r = api.client.post("/api/disputes", headers=api.h("pat"), json={
            "person_id": e["person_id"], "source": rec["source"], "record_id": rec["record_id"],
            "field": "dob", "claimed_value": "1950-01-02", "statement": "this is not my date of birth"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["dispute_id"])
    r = api.client.post(f"/api/disputes/{ids[1]}/denial", json={"reasons": "the court record is right"},
                        headers=api.h("priya"))
    assert r.json()["state"] == "denied"
    return ids


def test_disputes_are_listed_filtered_and_audited(api: Api, disputes: list[str]) -> None:
    r = api.client.get("/api/disputes", headers=api.h("priya"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["dispute_id"] for d in body["items"]][-2:] == disputes     # oldest first
    assert all(d["overdue"] is False for d in body["items"])            # filed today
    event = _event(api, body["audit_event"])
    assert (event["action"], event["purpose"], event["decision"]) == (
        "dispute.read", "subject_access", "allow")
    assert set(json.loads(event["persons"])) == {d["person_id"] for d in body["items"]}
    assert _disclosed(api, body["audit_event"]) == []    # the privacy office's own handling: no accounting
    open_ = api.client.get("/api/disputes", params={"state": "open"}, headers=api.h("priya")).json()
    assert disputes[0] in {d["dispute_id"] for d in open_["items"]}
    assert disputes[1] not in {d["dispute_id"] for d in open_["items"]}
    denied = api.client.get("/api/disputes", params={"state": "denied"}, headers=api.h("priya")).json()
    assert [d["dispute_id"] for d in denied["items"]] == [disputes[1]]
    overdue = api.client.get("/api/disputes", params={"overdue": True}, headers=api.h("priya")).json()
    assert overdue["items"] == []
    page = api.client.get("/api/disputes", params={"limit": 1}, headers=api.h("priya")).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    one = api.client.get(f"/api/disputes/{disputes[1]}", headers=api.h("priya"))
    assert one.status_code == 200 and one.json()["state"] == "denied" and one.json()["audit_event"]
    assert all("seq" not in e for e in one.json()["events"])


def test_disputes_are_refused_to_other_roles(api: Api, disputes: list[str]) -> None:
    for user in ("casey", "ana", "olive", "dana", "admin"):
        refused(api.client.get("/api/disputes", headers=api.h(user)), "dispute.read")
        refused(api.client.get(f"/api/disputes/{disputes[0]}", headers=api.h(user)), "dispute.read")
    refused(api.client.get("/api/disputes/D-999999", headers=api.h("casey")), "dispute.read")
    error(api.client.get("/api/disputes/D-999999", headers=api.h("priya")), 404, "not_found")
    error(api.client.get("/api/disputes", params={"state": "lost"}, headers=api.h("priya")), 422,
          "invalid_request")
