"""Data routes (sources, batches, quarantine, flags) and the linkage-quality report: counts only, for
the roles that watch quality, never person values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord import services
from accord.governance.gate import PolicyDenied
from accord.store import Store

from .helpers import Api, error, refused


def test_sources_and_batches_reconcile(api: Api) -> None:
    sources = api.client.get("/api/sources?limit=100", headers=api.h("dana")).json()["items"]
    batches = api.client.get("/api/batches?limit=100", headers=api.h("dana")).json()["items"]
    assert len(sources) == 8 and len(batches) >= 8
    last = {b["batch"]: b for b in batches}
    for s in sources:
        b = last[s["last_batch"]]
        assert b["source"] == s["source"] and b["quarantined"] == s["quarantined_last_batch"]
        assert b["rows_read"] == b["accepted"] + b["unchanged"] + b["quarantined"]
    page = api.client.get("/api/batches?limit=3&offset=2", headers=api.h("dana")).json()
    assert [b["batch"] for b in page["items"]] == [b["batch"] for b in batches[2:5]]


def test_quarantine_groups_reasons_without_raw_values(api: Api) -> None:
    rows = api.client.get("/api/quarantine?limit=100", headers=api.h("dana")).json()["items"]
    keys = {"batch", "source", "field", "reason", "rows", "example_rows"}
    assert rows and all(set(r) == keys for r in rows)
    sources = {s["source"]: s for s in api.client.get("/api/sources", headers=api.h("dana")).json()["items"]}
    for name, s in sources.items():
        assert sum(r["rows"] for r in rows if r["source"] == name) == s["quarantined_last_batch"]
    with Store(api.db) as store:
        raw = {str(v) for (v,) in store.query("SELECT raw_value FROM quarantine WHERE raw_value <> ''")}
    assert raw and not any(v in json.dumps(rows) for v in raw if len(v) > 4)
    one = rows[0]["source"]
    only = api.client.get("/api/quarantine", params={"source": one}, headers=api.h("dana")).json()["items"]
    assert only and {r["source"] for r in only} == {one}


def test_flags_group_reasons_without_the_values_as_written(api: Api) -> None:
    rows = api.client.get("/api/flags?limit=100", headers=api.h("dana")).json()["items"]
    keys = {"batch", "source", "field", "reason", "rows", "example_rows"}
    assert rows and all(set(r) == keys for r in rows)
    with Store(api.db) as store:
        stored = [(s, json.loads(f)) for s, f in store.query(
            "SELECT source, flags FROM records_current WHERE flags IS NOT NULL")]
    # Every flag of every current record is counted once, under its source, field and reason.
    assert sum(r["rows"] for r in rows) == sum(len(f) for _, f in stored)
    counted = {(r["source"], r["field"]): 0 for r in rows}
    for r in rows:
        counted[(r["source"], r["field"])] += r["rows"]
    expected: dict[tuple[str, str], int] = {}
    for source, flags in stored:
        for f in flags:
            expected[(source, f["field"])] = expected.get((source, f["field"]), 0) + 1
    assert counted == expected
    values = {f["value"] for _, flags in stored for f in flags}
    assert values and not any(v in json.dumps(rows) for v in values if len(v) > 4)
    one = rows[0]["field"]
    only = api.client.get("/api/flags", params={"field": one}, headers=api.h("dana")).json()["items"]
    assert only and {r["field"] for r in only} == {one}
    wrong = api.client.get("/api/flags", params={"field": "case_status"}, headers=api.h("dana"))
    assert "not an identity field" in error(wrong, 400, "bad_request")["message"]


def test_data_routes_are_for_the_data_engineer(api: Api) -> None:
    for path in ("/api/sources", "/api/batches", "/api/quarantine", "/api/flags"):
        refused(api.client.get(path, headers=api.h("casey")))
    error(api.client.get("/api/quarantine?batch=0", headers=api.h("dana")), 422, "invalid_request")


# --- linkage quality -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quality(api: Api) -> dict[str, Any]:
    r = api.client.get("/api/quality", headers=api.h("olive"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_quality_counts_agree_with_the_store(api: Api, quality: dict[str, Any]) -> None:
    with Store(api.db) as store:
        sources = dict(store.query("SELECT source, count(DISTINCT record_id) FROM records GROUP BY source"))
        persons = store.scalar("SELECT count(DISTINCT entity_id) FROM entity_members")
        links = dict(store.query("SELECT status, count(*) FROM links GROUP BY status"))
        run = store.query("SELECT run_id, links, review, entities, rejected_links FROM resolution_runs "
                          "ORDER BY run_id DESC LIMIT 1")[0]
        quarantined = store.scalar("SELECT sum(quarantined) FROM ingest_batches "
                                   "WHERE batch_id IN (SELECT last_batch FROM sources)")
    assert quality["records"]["by_source"] == sources
    assert quality["records"]["current"] == sum(sources.values()) == quality["entities"]["records"]
    ent = quality["entities"]
    assert ent["persons"] == persons == run[3]
    assert sum(b["persons"] for b in ent["size_distribution"]) == persons
    assert ent["singletons"] == ent["size_distribution"][0]["persons"] and ent["largest"] >= 2
    statuses = ("linked", "review", "rejected_by_guard")
    assert quality["links"]["by_status"] == {k: links.get(k, 0) for k in statuses}
    assert (quality["latest_run"]["run_id"], quality["latest_run"]["links"], quality["latest_run"]["review"],
            quality["latest_run"]["rejected_links"]) == (run[0], run[1], run[2], run[4])
    queue = quality["links"]["review_queue"]
    assert queue["links"] == links.get("review", 0) and 0 < queue["persons"] <= 2 * queue["links"]
    assert quality["quarantine"]["rows"] == quarantined
    assert quality["shared_identifiers"]["total"] == sum(quality["shared_identifiers"]["by_kind"].values())


def test_quality_reports_settings_and_model_but_no_person_values(api: Api, quality: dict[str, Any]) -> None:
    run = quality["latest_run"]
    clustering = run["settings"]["clustering"]
    assert clustering["link_probability"] > clustering["review_probability"]
    assert {"given_name", "dob"} <= set(run["model"]["comparisons"])
    assert all(r["name"] for r in run["blocking"])
    with Store(api.db) as store:
        ids = [str(v) for (v,) in store.query(
            "SELECT DISTINCT entity_id FROM entity_members UNION ALL "
            "SELECT DISTINCT ssn FROM records WHERE ssn IS NOT NULL UNION ALL "
            "SELECT DISTINCT family_name FROM records WHERE family_name IS NOT NULL")]
    text = json.dumps(quality)
    assert not [v for v in ids if len(v) > 5 and f'"{v}"' in text]


def test_quality_is_for_engineers_privacy_officers_and_oversight(api: Api) -> None:
    for user in ("dana", "pat", "olive"):
        assert api.client.get("/api/quality", headers=api.h(user)).status_code == 200, user
    for user in ("casey", "ana", "admin"):
        refused(api.client.get("/api/quality", headers=api.h(user)), "quality.read")


def test_quality_service_is_audited_and_works_before_any_resolution(tmp_path: Any) -> None:
    from worlds import governed_store

    db = governed_store(tmp_path)
    empty = services.quality(db, user="olive")
    assert empty.latest_run is None and empty.entities.persons == 0
    assert empty.links.by_status == {"linked": 0, "review": 0, "rejected_by_guard": 0}
    with pytest.raises(PolicyDenied):
        services.quality(db, user="casey")
    with Store(db) as store:
        rows = store.query("SELECT user_id, action, decision FROM audit_events ORDER BY seq DESC LIMIT 2")
    assert rows == [("casey", "quality.read", "deny"), ("olive", "quality.read", "allow")]
