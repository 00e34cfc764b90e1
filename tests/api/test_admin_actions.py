"""Administration actions over HTTP: rejecting an annotation, deactivating a user, revoking a
token (each audited, each refused to other roles; a deactivated user or revoked token no longer
authenticates), and paging through every audit event, disclosure and batch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.governance import audit
from accord.governance.gate import Gate
from accord.governance.policy import Request
from accord.store import Store

from .helpers import ENFORCEMENT, Api, add_user, error, refused


def _last(api: Api, action: str) -> dict[str, Any]:
    with Store(api.db) as store:
        cur = store.con.execute("SELECT user_id, decision, outcome, details FROM audit_events "
                                "WHERE action = ? ORDER BY seq DESC LIMIT 1", [action])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def _new_user(api: Api, user_id: str, role: str = "analyst") -> str:
    add_user(api, {"user_id": user_id, "name": user_id.title(), "roles": [role],
                   "organisation": "State Benefits Agency"})     # approved by a second admin
    t = api.client.post(f"/api/users/{user_id}/tokens", headers=api.h("admin"))
    assert t.status_code == 201, t.text
    token: str = t.json()["token"]
    assert t.json()["token_id"] and t.json()["token_id"] not in token
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- annotations ------------------------------------------------------------------------------------------


def test_a_second_approver_can_reject_an_annotation_for_good(api: Api) -> None:
    r = api.client.get(f"/api/worklists/{api.enf}?limit=1", headers=api.h("casey"))
    rec = r.json()["entries"][0]["records"][0]
    a = api.client.post("/api/annotations", headers=api.h("pat"), json={
        "source": rec["source"], "record_id": rec["record_id"], "kind": "record_not_this_person",
        "reason_code": "linkage_error", "evidence": "documents show a different date of birth"}).json()
    url = f"/api/annotations/{a['annotation_id']}"
    assert "two-person rule" in error(api.client.post(f"{url}/rejections", json={"reasons": "no"},
                                                      headers=api.h("pat")), 400, "bad_request")["message"]
    refused(api.client.post(f"{url}/rejections", json={"reasons": "no"}, headers=api.h("casey")),
            "annotation.approve")
    error(api.client.post(f"{url}/rejections", json={}, headers=api.h("priya")), 422, "invalid_request")
    r = api.client.post(f"{url}/rejections", json={"reasons": "the documents are of another person"},
                        headers=api.h("priya"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "rejected" and body["effective"] is False
    assert body["rejections"] == [{"user": "priya", "at": body["rejections"][0]["at"],
                                   "reason": "the documents are of another person"}]
    event = _last(api, "annotation.approve")
    assert (event["user_id"], event["decision"]) == ("priya", "allow") and "rejected" in event["outcome"]
    again = api.client.post(f"{url}/approvals", headers=api.h("priya"))
    assert "was rejected" in error(again, 400, "bad_request")["message"]
    error(api.client.post("/api/annotations/N-999999/rejections", json={"reasons": "x"},
                          headers=api.h("priya")), 404, "not_found")


# --- users and tokens -------------------------------------------------------------------------------------


def test_a_deactivated_user_no_longer_authenticates(api: Api) -> None:
    token = _new_user(api, "dora")
    assert api.client.get("/api/agreements", headers=_bearer(token)).status_code == 200
    refused(api.client.post("/api/users/dora/deactivation", headers=api.h("olive")), "users.manage")
    assert api.client.get("/api/agreements", headers=_bearer(token)).status_code == 200
    r = api.client.post("/api/users/dora/deactivation", headers=api.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["user_id"] == "dora"
    error(api.client.get("/api/agreements", headers=_bearer(token)), 401, "unauthenticated")
    event = _last(api, "users.manage")
    assert event["user_id"] == "admin" and json.loads(event["details"])["deactivate"] == "dora"
    users = api.client.get("/api/users", params={"limit": 100}, headers=api.h("admin")).json()["items"]
    assert {u["user_id"]: u["active"] for u in users}["dora"] is False
    error(api.client.post("/api/users/dora/deactivation", headers=api.h("admin")), 400, "bad_request")
    error(api.client.post("/api/users/admin/deactivation", headers=api.h("admin")), 400, "bad_request")
    error(api.client.post("/api/users/nobody/deactivation", headers=api.h("admin")), 404, "not_found")


def test_a_revoked_token_no_longer_authenticates_and_others_still_do(api: Api) -> None:
    first = _new_user(api, "rita")
    second = api.client.post("/api/users/rita/tokens", headers=api.h("admin")).json()
    listed = api.client.get("/api/users/rita/tokens", headers=api.h("admin"))
    assert listed.status_code == 200, listed.text
    ids = [t["token_id"] for t in listed.json()["items"]]
    assert len(ids) == 2 and second["token_id"] in ids
    assert first not in listed.text and second["token"] not in listed.text     # never the tokens
    refused(api.client.get("/api/users/rita/tokens", headers=api.h("pat")), "users.read")
    refused(api.client.post(f"/api/users/rita/tokens/{second['token_id']}/revocation", headers=api.h("pat")),
            "users.manage")

    r = api.client.post(f"/api/users/rita/tokens/{second['token_id']}/revocation", headers=api.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": "rita", "token_id": second["token_id"], "revoked": True}
    error(api.client.get("/api/agreements", headers=_bearer(second["token"])), 401, "unauthenticated")
    assert api.client.get("/api/agreements", headers=_bearer(first)).status_code == 200
    event = _last(api, "users.manage")
    assert json.loads(event["details"])["token"] == second["token_id"]
    assert second["token"] not in json.dumps(event)                            # the audit never holds it
    after = api.client.get("/api/users/rita/tokens", headers=api.h("admin")).json()["items"]
    assert {t["token_id"]: t["revoked_at"] is not None for t in after}[second["token_id"]] is True
    again = api.client.post(f"/api/users/rita/tokens/{second['token_id']}/revocation", headers=api.h("admin"))
    assert "already revoked" in error(again, 400, "bad_request")["message"]
    error(api.client.post("/api/users/rita/tokens/0123456789ab/revocation", headers=api.h("admin")), 404,
          "not_found")
    error(api.client.post("/api/users/nobody/tokens/0123456789ab/revocation", headers=api.h("admin")), 404,
          "not_found")
    error(api.client.post("/api/users/rita/tokens/not-an-id/revocation", headers=api.h("admin")), 422,
          "invalid_request")


# --- paging through everything ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy(api: Api) -> int:
    """Over a thousand audit events and disclosures in the store (the old browsing window)."""
    with Store(api.db) as store:
        with store.transaction():
            for i in range(1100):
                audit.append(store, audit.Event(user_id="olive", action="test.filler", outcome=f"filler {i}"))
        gate = Gate(store)
        persons = [str(p) for (p,) in store.query(
            "SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 1100")]

        class Many:
            def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
                return persons, []

        gate.read("casey", Request("person.search", ENFORCEMENT, api.enf), lambda d: Many(), nature="test")
        count = int(store.scalar("SELECT count(*) FROM disclosures"))
    assert count > 1000
    return count


def test_audit_events_page_back_through_the_whole_log(api: Api, busy: int) -> None:
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = api.client.get("/api/audit/events", params=params, headers=api.h("olive")).json()
        seen += [e["seq"] for e in page["items"]]
        if page["next_before"] is None:
            break
        assert page["next_before"] == page["items"][-1]["seq"]
        params["before"] = page["next_before"]
    assert len(seen) > 1000 and seen == list(range(seen[0], 0, -1))      # every event once, newest first
    filtered = api.client.get("/api/audit/events", params={"action": "test.*", "before": 500, "limit": 5},
                              headers=api.h("olive")).json()
    assert all(e["action"] == "test.filler" and e["seq"] < 500 for e in filtered["items"])


def test_disclosures_page_through_all_of_them(api: Api, busy: int) -> None:
    first = api.client.get("/api/disclosures", params={"limit": 100}, headers=api.h("olive")).json()
    as_of = first["as_of"]
    assert as_of == first["items"][0]["audit_seq"]
    rows = [(d["audit_seq"], d["person_id"]) for d in first["items"]]
    offset = first["next_offset"]
    meanwhile = api.client.get(f"/api/persons/{rows[0][1]}", headers=api.enforcement())   # a new disclosure
    assert meanwhile.status_code == 200 and meanwhile.json()["audit_event"] > as_of
    while offset is not None:
        page = api.client.get("/api/disclosures", params={"limit": 100, "offset": offset, "as_of": as_of},
                              headers=api.h("olive")).json()
        rows += [(d["audit_seq"], d["person_id"]) for d in page["items"]]
        offset = page["next_offset"]
    with Store(api.db) as store:
        expected = [(int(s), str(p)) for s, p in store.query(
            "SELECT audit_seq, person_id FROM disclosures WHERE audit_seq <= ? "
            "ORDER BY audit_seq DESC, person_id", [as_of])]
    assert len(rows) == len(expected) >= busy and rows == expected


def test_batches_page_past_the_old_window(api: Api) -> None:
    every = api.client.get("/api/batches", params={"limit": 100}, headers=api.h("dana")).json()["items"]
    assert every
    far = api.client.get("/api/batches", params={"offset": 950}, headers=api.h("dana"))
    assert far.status_code == 200 and far.json()["items"] == [] and far.json()["next_offset"] is None
    one = api.client.get("/api/batches", params={"limit": 1, "offset": len(every) - 1}, headers=api.h("dana"))
    assert one.json()["items"] == every[-1:]
