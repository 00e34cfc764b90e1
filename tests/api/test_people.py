"""Person-data routes: search, person view, status, explanation, verification, work lists and
tax requests. Each answers only under a declared purpose (and its agreement), to a role that
may, and each answer is one audited disclosure; each refuses with reasons otherwise."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from accord.store import Store

from .helpers import BENEFITS, ENFORCEMENT, Api, error, refused


@pytest.fixture(scope="module")
def entry(api: Api) -> dict[str, Any]:
    """An entry of the enforcement work list: a person with a final order and their records."""
    r = api.client.get(f"/api/worklists/{api.enf}?limit=5", headers=api.h("casey"))
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    entry: dict[str, Any] = max(entries, key=lambda e: len(e["records"]))
    return entry


def _event(api: Api, seq: int) -> tuple[Any, ...]:
    with Store(api.db) as store:
        return store.query("SELECT user_id, action, purpose, agreement, origin, persons FROM audit_events "
                           "WHERE seq = ?", [seq])[0]


# --- search ----------------------------------------------------------------------------------------------


def test_search_finds_the_person_by_name_and_dob_and_records_the_disclosure(api: Api,
                                                                           entry: dict[str, Any]) -> None:
    r = api.client.get("/api/persons", params={"name": entry["name"], "dob": entry["dob"], "limit": 3},
                       headers=api.enforcement())
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert 1 <= len(hits) <= 3 and hits[0]["person_id"] == entry["person_id"]
    assert hits == sorted(hits, key=lambda h: -h["score"])
    user, action, purpose, agreement, origin, persons = _event(api, r.json()["audit_event"])
    assert (user, action, purpose, agreement) == ("casey", "person.search", ENFORCEMENT, api.enf)
    assert origin == "api"
    assert entry["person_id"] in persons


def test_search_refuses_without_purpose_agreement_or_role(api: Api, entry: dict[str, Any]) -> None:
    q = {"name": entry["name"], "dob": entry["dob"]}
    refused(api.client.get("/api/persons", params=q, headers=api.h("casey")), "declare a purpose")
    refused(api.client.get("/api/persons", params=q, headers=api.h("casey", purpose=ENFORCEMENT)),
            "agreement")
    refused(api.client.get("/api/persons", params=q, headers=api.h("casey", purpose=ENFORCEMENT,
                                                                   agreement=api.ben)), "is for")
    refused(api.client.get("/api/persons", params=q, headers=api.h("dana", purpose=ENFORCEMENT,
                                                                   agreement=api.enf)), "person.search")
    refused(api.client.get("/api/persons", params=q, headers=api.h("bea", purpose=ENFORCEMENT,
                                                                   agreement=api.enf)), "recipient")
    error(api.client.get("/api/persons", params=q | {"limit": 101}, headers=api.enforcement()), 422,
          "invalid_request")


def test_a_search_with_no_criteria_is_a_readable_400(api: Api) -> None:
    body = error(api.client.get("/api/persons", headers=api.enforcement()), 400, "bad_request")
    assert body["message"]


# --- person view and status ------------------------------------------------------------------------------


def test_person_view_shows_the_persons_records_with_provenance(api: Api, entry: dict[str, Any]) -> None:
    r = api.client.get(f"/api/persons/{entry['person_id']}", headers=api.enforcement())
    assert r.status_code == 200, r.text
    body = r.json()
    person = body["person"]
    shown = {(rec["provenance"]["source"], rec["provenance"]["record_id"])
             for g in person["sources"] for rec in g["records"]}
    assert {(x["source"], x["record_id"]) for x in entry["records"]} <= shown
    assert all(rec["provenance"]["file_sha256"] for g in person["sources"] for rec in g["records"])
    assert body["status"]["status"] == entry["status"] and body["status"]["evidence"]
    assert "found" not in person  # the public model says what a found person is; no flags leak


def test_person_view_refuses_the_wrong_role_purpose_or_agreement(api: Api, entry: dict[str, Any]) -> None:
    url = f"/api/persons/{entry['person_id']}"
    refused(api.client.get(url, headers=api.h("casey")), "purpose")
    refused(api.client.get(url, headers=api.h("casey", purpose=ENFORCEMENT)), "agreement")
    refused(api.client.get(url, headers=api.h("casey", purpose=ENFORCEMENT, agreement="CMA-NOPE")),
            "CMA-NOPE")
    refused(api.client.get(url, headers=api.h("casey", purpose="tax_administration")), "do not work under")
    refused(api.client.get(url, headers=api.h("olive", purpose=ENFORCEMENT, agreement=api.enf)),
            "person.view")
    refused(api.client.get(url, headers=api.h("ana", purpose=ENFORCEMENT, agreement=api.enf)),
            "do not work under")


def test_an_unknown_person_is_404_after_an_allowed_read(api: Api) -> None:
    error(api.client.get("/api/persons/P999999999", headers=api.enforcement()), 404, "not_found")
    error(api.client.get("/api/persons/P999999999/status", headers=api.enforcement()), 404, "not_found")


def test_status_route_gives_the_status_with_evidence(api: Api, entry: dict[str, Any]) -> None:
    r = api.client.get(f"/api/persons/{entry['person_id']}/status", headers=api.enforcement())
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"person_id", "status", "statements_of_disagreement", "audit_event"}
    status = body["status"]
    assert status["status"] == entry["status"] and 0 < status["confidence"] <= 1
    assert {e["record_id"] for e in status["evidence"]} <= {x["record_id"] for x in entry["records"]}
    assert _event(api, body["audit_event"])[1] == "person.view"
    # The accounting names the evidence records only, not every record of the person.
    with Store(api.db) as store:
        (records, nature), = store.query("SELECT records, nature FROM disclosures WHERE audit_seq = ?",
                                         [body["audit_event"]])
    evidence = sorted({(e["source"], e["record_id"]) for e in status["evidence"]})
    assert sorted(map(tuple, json.loads(records))) == evidence and evidence
    assert nature == "status determination with evidence"


def test_status_route_refuses_like_the_person_view(api: Api, entry: dict[str, Any]) -> None:
    url = f"/api/persons/{entry['person_id']}/status"
    refused(api.client.get(url, headers=api.h("casey")), "purpose")
    refused(api.client.get(url, headers=api.h("casey", purpose=ENFORCEMENT)), "agreement")
    refused(api.client.get(url, headers=api.h("pat", purpose=ENFORCEMENT, agreement=api.enf)), "person.view")


# --- explanation -----------------------------------------------------------------------------------------


def test_explanation_gives_contributions_and_the_path_between_two_records(api: Api,
                                                                         entry: dict[str, Any]) -> None:
    recs = [f"{x['source']}:{x['record_id']}" for x in entry["records"]]
    if len(recs) < 2:
        pytest.skip("the chosen entry has one record")
    r = api.client.get(f"/api/persons/{entry['person_id']}/explanation",
                       params={"a": recs[0], "b": recs[-1], "limit": 2}, headers=api.enforcement())
    assert r.status_code == 200, r.text
    body = r.json()
    assert 1 <= len(body["links"]) <= 2
    link = body["links"][0]
    total = link["prior_weight"] + sum(c["log2_bayes_factor"] for c in link["contributions"])
    assert total == pytest.approx(link["match_weight"], abs=0.01)
    path = body["path"]
    assert path and path[0]["a"] in ([*recs[0].split(":", 1)], [*recs[-1].split(":", 1)])
    error(api.client.get(f"/api/persons/{entry['person_id']}/explanation", params={"a": recs[0]},
                         headers=api.enforcement()), 400, "bad_request")
    error(api.client.get(f"/api/persons/{entry['person_id']}/explanation",
                         params={"a": "nocolon", "b": "x:y"}, headers=api.enforcement()), 400, "bad_request")
    error(api.client.get("/api/persons/P999999999/explanation", headers=api.enforcement()), 404, "not_found")


def test_explanation_refuses_without_purpose_or_role(api: Api, entry: dict[str, Any]) -> None:
    url = f"/api/persons/{entry['person_id']}/explanation"
    refused(api.client.get(url, headers=api.h("casey")), "purpose")
    refused(api.client.get(url, headers=api.h("casey", purpose=ENFORCEMENT)), "agreement")
    refused(api.client.get(url, headers=api.h("dana", purpose=ENFORCEMENT, agreement=api.enf)),
            "person.explain")


# --- verification ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lpr(api: Api) -> dict[str, str]:
    with open(api.world.persons_path, encoding="utf-8", newline="") as f:
        return next(r for r in csv.DictReader(f) if r["status"] == "lpr" and r["a_number"])


def test_verification_answers_verified_or_additional_verification(api: Api, lpr: dict[str, str]) -> None:
    body = {"name": f"{lpr['given_name']} {lpr['family_name']}", "dob": lpr["dob"],
            "a_number": lpr["a_number"]}
    r = api.client.post("/api/verifications", json=body, headers=api.benefits())
    assert r.status_code == 200, r.text
    assert r.json()["answer"] == "verified: lpr", r.json()
    wrong = body | {"a_number": "000000001"}
    r = api.client.post("/api/verifications", json=wrong, headers=api.benefits())
    assert r.json()["answer"] == "institute additional verification" and r.json()["status"] is None
    assert _event(api, r.json()["audit_event"])[1:3] == ("verify.query", BENEFITS)


def test_verification_refuses_without_purpose_agreement_or_role(api: Api, lpr: dict[str, str]) -> None:
    body = {"name": lpr["given_name"], "dob": lpr["dob"], "a_number": lpr["a_number"]}
    refused(api.client.post("/api/verifications", json=body, headers=api.h("ana")), "purpose")
    refused(api.client.post("/api/verifications", json=body, headers=api.h("ana", purpose=BENEFITS)),
            "agreement")
    refused(api.client.post("/api/verifications", json=body, headers=api.h("pat", purpose=BENEFITS,
                                                                          agreement=api.ben)), "verify.query")
    refused(api.client.post("/api/verifications", json=body, headers=api.h("casey", purpose=BENEFITS,
                                                                          agreement=api.ben)), "recipient")


# --- work lists ------------------------------------------------------------------------------------------


def test_worklist_pages_through_the_eligible_persons(api: Api) -> None:
    first = api.client.get(f"/api/worklists/{api.enf}?limit=1", headers=api.h("casey")).json()
    eligible = first["eligible"]
    assert eligible == first["candidates"] - sum(first["excluded"].values()) >= 2
    seen, offset = [], 0
    while offset is not None:
        page = api.client.get(f"/api/worklists/{api.enf}", params={"limit": 2, "offset": offset},
                              headers=api.h("casey")).json()
        assert len(page["entries"]) <= 2 and page["offset"] == offset
        seen += [e["person_id"] for e in page["entries"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == eligible
    assert all(e["verification"] == "unverified" for e in first["entries"])
    past = api.client.get(f"/api/worklists/{api.enf}", params={"offset": eligible + 5},
                          headers=api.h("casey")).json()
    assert past["entries"] == [] and past["next_offset"] is None


def test_worklist_refuses_other_roles_and_organisations_and_an_unknown_agreement_is_not_found(
        api: Api) -> None:
    refused(api.client.get(f"/api/worklists/{api.enf}", headers=api.h("ana")), "worklist.read")
    refused(api.client.get(f"/api/worklists/{api.enf}", headers=api.h("bea")), "recipient")
    # A role that may not read work lists is refused before the agreement is looked up ...
    refused(api.client.get("/api/worklists/CMA-NOPE", headers=api.h("ana")), "worklist.read")
    # ... one that may is told the agreement does not exist (not "declare a purpose").
    unknown = api.client.get("/api/worklists/CMA-NOPE", headers=api.h("casey"))
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == {"code": "not_found", "reasons": [],
                                       "message": "no agreement 'CMA-NOPE' (see `accord agreements list`)"}


# --- tax requests ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def irs_row(api: Api) -> dict[str, Any]:
    with Store(api.db) as store:
        cur = store.con.execute(
            "SELECT given_name, middle_name, family_name, tin, street, city, state, zip, tax_year "
            "FROM records_current "
            "WHERE source = 'irs' AND street IS NOT NULL AND zip IS NOT NULL AND tin IS NOT NULL "
            "ORDER BY record_id LIMIT 1")
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone() or (), strict=True))


def _tax_body(row: dict[str, Any], **change: str) -> dict[str, str]:
    # every name part on the record: 6103(i)(2) releases only on a full match
    names = (row[k] for k in ("given_name", "middle_name", "family_name") if row[k])
    return {"full_name": " ".join(names), "tin": row["tin"],
            "address": f"{row['street']}, {row['city']}, {row['state']} {row['zip']}",
            "taxable_periods": f"2022-{row['tax_year']}", "statutory_authority": "26 U.S.C. 6103(i)(2)",
            "reason": "named taxpayer in a non-tax criminal matter"} | change


def test_tax_request_releases_only_when_name_tin_and_address_all_match(api: Api,
                                                                       irs_row: dict[str, Any]) -> None:
    r = api.client.post("/api/tax-requests", json=_tax_body(irs_row), headers=api.enforcement())
    assert r.status_code == 200, r.text
    assert r.json()["released"] is True and r.json()["fields"].get("street") == irs_row["street"]
    elsewhere = _tax_body(irs_row, address="1 Elsewhere Rd, Nowhere, ZZ 00000")
    r = api.client.post("/api/tax-requests", json=elsewhere, headers=api.enforcement())
    assert r.json()["released"] is False and r.json()["fields"] == {}


def test_tax_request_refuses_without_purpose_or_role(api: Api, irs_row: dict[str, Any]) -> None:
    refused(api.client.post("/api/tax-requests", json=_tax_body(irs_row), headers=api.h("casey")), "purpose")
    refused(api.client.post("/api/tax-requests", json=_tax_body(irs_row),
                            headers=api.h("ana", purpose=BENEFITS, agreement=api.ben)), "tax.request")


def test_tax_administration_searches_by_tin_without_an_agreement(api: Api, irs_row: dict[str, Any]) -> None:
    r = api.client.get("/api/persons", params={"tin": irs_row["tin"]},
                       headers=api.h("tess", purpose="tax_administration"))
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits and any(x["source"] == "irs" for h in hits for x in h["summary"]["records"])
    refused(api.client.get("/api/persons", params={"tin": irs_row["tin"]},
                           headers=api.h("tess", purpose=ENFORCEMENT, agreement=api.enf)),
            "do not work under")
