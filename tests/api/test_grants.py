"""Role grants over HTTP: a role that reads person data waits for a second administrator;
the one who asked cannot approve it; incompatible roles are refused naming both and the rule;
grants are listed by state, rejected with a reason, and roles removed. Each is audited."""

from __future__ import annotations

from typing import Any

from accord.store import Store

from .helpers import Api, error, refused, second_admin


def _users(api: Api) -> dict[str, dict[str, Any]]:
    items = api.client.get("/api/users", params={"limit": 100}, headers=api.h("admin")).json()["items"]
    return {u["user_id"]: u for u in items}


def _last_manage(api: Api) -> tuple[str, str, str]:
    with Store(api.db) as store:
        row = store.query("SELECT user_id, decision, outcome FROM audit_events WHERE action = 'users.manage' "
                          "ORDER BY seq DESC LIMIT 1")[0]
    return str(row[0]), str(row[1]), str(row[2])


def test_a_person_data_role_waits_for_a_second_administrator(api: Api) -> None:
    r = api.client.post("/api/users", headers=api.h("admin"), json={
        "user_id": "gil", "name": "Gil Analyst", "roles": ["analyst"],
        "organisation": "State Benefits Agency"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["roles"] == [] and body["conflicts"] == []
    [grant] = body["pending_grants"]
    assert grant["role"] == "analyst" and grant["state"] == "pending" and grant["requested_by"] == "admin"
    listed = api.client.get("/api/users/grants", params={"state": "pending"}, headers=api.h("admin")).json()
    assert grant["grant_id"] in [g["grant_id"] for g in listed["items"]]
    assert all(g["state"] == "pending" for g in listed["items"])
    url = f"/api/users/gil/grants/{grant['grant_id']}/approval"
    e = error(api.client.post(url, headers=api.h("admin")), 400, "bad_request")
    assert "cannot also approve" in e["message"]
    assert _users(api)["gil"]["roles"] == []
    refused(api.client.post(url, headers=api.h("olive")), "users.manage")
    error(api.client.post(f"/api/users/someone/grants/{grant['grant_id']}/approval",
                          headers=second_admin(api)), 404, "not_found")
    ok = api.client.post(url, headers=second_admin(api))
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "granted" and ok.json()["decided_by"] == "adam"
    assert _users(api)["gil"]["roles"] == ["analyst"]
    assert _last_manage(api)[0] == "adam" and "approved" in _last_manage(api)[2]
    error(api.client.post(url, headers=second_admin(api)), 400, "bad_request")      # not pending any more


def test_incompatible_roles_are_refused_naming_both_and_the_rule(api: Api) -> None:
    r = api.client.post("/api/users", headers=api.h("admin"), json={
        "user_id": "mox", "name": "Mox", "roles": ["caseworker", "privacy_officer", "oversight"]})
    e = error(r, 400, "bad_request")
    assert "caseworker and privacy_officer" in e["message"] and "act_review_audit" in e["message"]
    assert "mox" not in _users(api)
    error(api.client.post("/api/users/casey/grants", headers=api.h("admin"), json={"roles": ["oversight"]}),
          400, "bad_request")
    error(api.client.post("/api/users/admin/grants", headers=api.h("admin"), json={"roles": ["analyst"]}),
          400, "bad_request")
    error(api.client.post("/api/users/nobody/grants", headers=api.h("admin"), json={"roles": ["analyst"]}),
          404, "not_found")


def test_a_grant_for_an_existing_user_and_its_rejection(api: Api) -> None:
    r = api.client.post("/api/users/ana/grants", headers=api.h("admin"), json={"roles": ["caseworker"]})
    assert r.status_code == 201, r.text
    [grant] = r.json()["grants"]
    assert grant["state"] == "pending" and grant["user_id"] == "ana"
    url = f"/api/users/ana/grants/{grant['grant_id']}/rejection"
    error(api.client.post(url, headers=api.h("admin"), json={}), 422, "invalid_request")
    done = api.client.post(url, headers=second_admin(api), json={"reason": "no need to know"})
    assert done.status_code == 200 and done.json()["state"] == "rejected", done.text
    assert "caseworker" not in _users(api)["ana"]["roles"]
    error(api.client.post(f"/api/users/ana/grants/{grant['grant_id']}/approval", headers=second_admin(api)),
          400, "bad_request")
    error(api.client.post("/api/users/ana/grants/G-999999/approval", headers=second_admin(api)), 404,
          "not_found")
    error(api.client.post("/api/users/ana/grants/not-a-grant/approval", headers=second_admin(api)), 422,
          "invalid_request")
    rejected = api.client.get("/api/users/grants", params={"state": "rejected", "user": "ana"},
                              headers=api.h("admin")).json()["items"]
    assert [g["note"] for g in rejected] == ["no need to know"]
    error(api.client.get("/api/users/grants", params={"state": "whatever"}, headers=api.h("admin")), 422,
          "invalid_request")
    refused(api.client.get("/api/users/grants", headers=api.h("pat")), "users.read")


def test_a_user_holding_incompatible_roles_is_marked_and_put_right_by_removing_one(api: Api) -> None:
    with Store(api.db) as store:      # a store from before the rules (test-only write)
        store.con.execute("UPDATE users SET roles = ['analyst', 'privacy_officer'] WHERE user_id = 'priya'")
    priya = _users(api)["priya"]
    assert priya["roles"] == ["analyst", "privacy_officer"]
    assert priya["conflicts"] and "readers_do_not_review_or_audit_themselves" in priya["conflicts"][0]
    r = api.client.post("/api/users/priya/roles/analyst/removal", headers=api.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["privacy_officer"] and r.json()["conflicts"] == []
    assert _last_manage(api)[2] == "analyst removed from priya"
    error(api.client.post("/api/users/priya/roles/analyst/removal", headers=api.h("admin")), 400,
          "bad_request")
    error(api.client.post("/api/users/nobody/roles/analyst/removal", headers=api.h("admin")), 404,
          "not_found")
    refused(api.client.post("/api/users/priya/roles/privacy_officer/removal", headers=api.h("pat")),
            "users.manage")
