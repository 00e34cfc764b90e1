"""Administration and oversight routes: agreements (list, show, add as YAML), users and tokens,
the audit chain (head, verification, events) and the accounting of disclosures."""

from __future__ import annotations

import re

from accord.store import Store

from .helpers import Api, add_user, error, refused

YAML = {"Content-Type": "application/yaml"}


# --- agreements -------------------------------------------------------------------------------------------


def test_agreements_are_listed_in_pages_and_shown_in_full(api: Api) -> None:
    first = api.client.get("/api/agreements?limit=2", headers=api.h("olive")).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = api.client.get("/api/agreements?limit=2&offset=2", headers=api.h("olive")).json()
    ids = [a["id"] for a in first["items"] + rest["items"]]
    assert api.enf in ids and api.ben in ids and len(ids) == len(set(ids))
    assert rest["next_offset"] is None
    shown = api.client.get(f"/api/agreements/{api.enf}", headers=api.h("casey")).json()
    assert shown["id"] == api.enf and shown["state"] == "in force" and shown["no_redisclosure"] is True
    assert any(p["role"] == "recipient" for p in shown["parties"])
    error(api.client.get("/api/agreements/CMA-NOPE", headers=api.h("olive")), 404, "not_found")


def test_agreements_are_not_for_every_role(api: Api) -> None:
    refused(api.client.get("/api/agreements", headers=api.h("dana")), "agreements.read")
    refused(api.client.get(f"/api/agreements/{api.enf}", headers=api.h("dana")), "agreements.read")


def test_an_agreement_is_added_from_yaml_and_a_change_is_a_new_version(api: Api) -> None:
    text = (api.agreements_dir / "identity.agreement.yaml").read_text(encoding="utf-8")
    aid = re.search(r"^id: (\S+)", text, re.M).group(1)  # type: ignore[union-attr]
    same = api.client.post("/api/agreements", content=text, headers=api.h("pat") | YAML)
    assert same.status_code == 201, same.text
    assert same.json() == {"id": aid, "version": 1, "state": "in force"}   # unchanged text: same version
    changed = api.client.post("/api/agreements", content=text + "retention: 90 days after close\n",
                              headers=api.h("pat") | YAML)
    assert changed.json()["version"] == 2
    assert api.client.get(f"/api/agreements/{aid}", headers=api.h("pat")).json()["retention"] == \
        "90 days after close"


def test_a_bad_agreement_is_refused_with_its_rule_and_no_server_paths(api: Api) -> None:
    text = (api.agreements_dir / "identity.agreement.yaml").read_text(encoding="utf-8")
    long_term = re.sub(r'^end: .*$', 'end: "2030-12-31"', text, flags=re.M)
    body = error(api.client.post("/api/agreements", content=long_term, headers=api.h("pat") | YAML),
                 400, "bad_request")
    assert "18 months" in body["message"] and "/tmp" not in body["message"]
    assert body["message"].startswith("agreement")
    error(api.client.post("/api/agreements", content="- not\n- a mapping\n", headers=api.h("pat") | YAML),
          400, "bad_request")
    post = api.client.post
    error(post("/api/agreements", content=b"\xff\xfe", headers=api.h("pat") | YAML), 400, "bad_request")
    error(post("/api/agreements", json={"id": "X"}, headers=api.h("pat")), 415, "unsupported_media_type")
    error(post("/api/agreements", content="x" * 70_000, headers=api.h("pat") | YAML), 413, "too_large")
    refused(post("/api/agreements", content=text, headers=api.h("casey") | YAML), "agreements.manage")


# --- users and tokens -------------------------------------------------------------------------------------


def test_users_are_listed_in_pages_and_added_by_the_admin(api: Api) -> None:
    page = api.client.get("/api/users?limit=3&offset=1", headers=api.h("admin")).json()
    assert len(page["items"]) == 3 and page["offset"] == 1 and page["next_offset"] == 4
    added = add_user(api, {"user_id": "nina", "name": "Nina Analyst", "roles": ["analyst"],
                           "organisation": "State Benefits Agency"})     # approved by a second admin
    assert added["roles"] == ["analyst"]
    everyone = api.client.get("/api/users?limit=100", headers=api.h("admin")).json()["items"]
    assert "nina" in {u["user_id"] for u in everyone}
    error(api.client.post("/api/users", headers=api.h("admin"), json={
        "user_id": "nina", "name": "Again", "roles": ["analyst"]}), 400, "bad_request")
    error(api.client.post("/api/users", headers=api.h("admin"), json={
        "user_id": "Bad Id", "name": "x", "roles": ["analyst"]}), 422, "invalid_request")
    error(api.client.post("/api/users", headers=api.h("admin"), json={
        "user_id": "zoe", "name": "x", "roles": ["overlord"]}), 400, "bad_request")


def test_a_new_token_authenticates_its_user_with_that_users_roles(api: Api) -> None:
    add_user(api, {"user_id": "otto", "name": "Otto Oversight", "roles": ["oversight"]})
    r = api.client.post("/api/users/otto/tokens", headers=api.h("admin"))
    assert r.status_code == 201 and r.json()["user_id"] == "otto" and r.json()["token"]
    otto = {"Authorization": f"Bearer {r.json()['token']}"}
    assert api.client.get("/api/audit/head", headers=otto).status_code == 200
    refused(api.client.get("/api/users", headers=otto), "users.read")
    with Store(api.db) as store:
        stored = [str(v) for row in store.query("SELECT * FROM user_tokens") for v in row]
    assert r.json()["token"] not in stored       # only its hash is kept
    error(api.client.post("/api/users/nobody/tokens", headers=api.h("admin")), 404, "not_found")


def test_users_and_tokens_are_for_the_admin_only(api: Api) -> None:
    refused(api.client.get("/api/users", headers=api.h("pat")), "users.read")
    refused(api.client.post("/api/users", headers=api.h("pat"), json={
        "user_id": "eve", "name": "Eve", "roles": ["admin"]}), "users.manage")
    refused(api.client.post("/api/users/casey/tokens", headers=api.h("casey")), "users.manage")


# --- audit and accounting ---------------------------------------------------------------------------------


def test_audit_head_and_verification(api: Api) -> None:
    head = api.client.get("/api/audit/head", headers=api.h("olive")).json()
    assert head["seq"] > 0 and re.fullmatch(r"[0-9a-f]{64}", head["hash"])
    ok = api.client.get("/api/audit/verification", headers=api.h("olive")).json()
    assert ok["ok"] is True and ok["events"] >= head["seq"] and ok["first_bad_event"] is None
    kept = api.client.get("/api/audit/verification", headers=api.h("olive"),
                          params={"head_seq": head["seq"], "head_hash": head["hash"]}).json()
    assert kept["ok"] is True
    forged = api.client.get("/api/audit/verification", headers=api.h("olive"),
                            params={"head_seq": head["seq"], "head_hash": "0" * 64}).json()
    assert forged["ok"] is False and forged["problem"]
    error(api.client.get("/api/audit/verification", params={"head_seq": 1}, headers=api.h("olive")), 422,
          "invalid_request")


def test_a_tampered_chain_is_reported_not_hidden(api: Api) -> None:
    with Store(api.db) as store:
        store.con.execute("UPDATE audit_events SET outcome = 'edited' WHERE seq = 2")
    r = api.client.get("/api/audit/verification", headers=api.h("olive")).json()
    assert r["ok"] is False and r["first_bad_event"] == 2


def test_audit_events_page_newest_first_and_filter(api: Api) -> None:
    api.client.get("/api/persons/P999999999", headers=api.enforcement())
    first = api.client.get("/api/audit/events?limit=3", headers=api.h("olive")).json()
    assert first["next_offset"] == 3
    before = first["items"][-1]["seq"]
    second = api.client.get(f"/api/audit/events?limit=3&before={before}", headers=api.h("olive")).json()
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 6
    assert seqs[3] < before and seqs[0] - seqs[-1] == 5    # no gap and no repeat between the pages
    shifted = api.client.get("/api/audit/events?limit=3&offset=3", headers=api.h("olive")).json()
    assert shifted["items"][0]["seq"] == seqs[3] + 2       # browsing is audited: the list grew by two
    views = api.client.get("/api/audit/events", params={"by": "casey", "action": "person.*"},
                           headers=api.h("olive")).json()["items"]
    assert views and all(e["user_id"] == "casey" and e["action"].startswith("person.") for e in views)
    assert all(e["origin"] == "api" for e in views)
    error(api.client.get("/api/audit/events?offset=5000", headers=api.h("olive")), 422, "invalid_request")
    refused(api.client.get("/api/audit/events", headers=api.h("ana")), "audit.read")
    refused(api.client.get("/api/audit/head", headers=api.h("casey")), "audit.verify")
    refused(api.client.get("/api/audit/verification", headers=api.h("casey")), "audit.verify")


def test_disclosures_are_accounted_per_person_and_paged(api: Api) -> None:
    wl = api.client.get(f"/api/worklists/{api.enf}?limit=1", headers=api.h("casey")).json()
    pid = wl["entries"][0]["person_id"]
    seen = api.client.get(f"/api/persons/{pid}", headers=api.enforcement()).json()
    rows = api.client.get("/api/disclosures", params={"person": pid}, headers=api.h("pat")).json()["items"]
    mine = next(d for d in rows if d["audit_seq"] == seen["audit_event"])
    assert mine["nature"] == "person view" and mine["recipient_user"] == "casey" and mine["law_enforcement"]
    assert mine["agreement"] == api.enf
    page = api.client.get("/api/disclosures?limit=1", headers=api.h("olive")).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    refused(api.client.get("/api/disclosures", headers=api.h("dana")), "disclosures.read")
