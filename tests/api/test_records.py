"""POST /api/records: rows of one source through its stored mapping, resolved at once; the
data engineer's action, audited as an ingest; bad rows and unknown sources load nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from accord.sources.mapping import load_mapping
from accord.store import Store

from .helpers import Api, error, refused


def _row(api: Api, receipt: str) -> dict[str, Any]:
    """A new benefit application of an existing person (the first uscis row's person)."""
    ex = next(e for e in api.world.extracts if e.source == "uscis")
    spec = load_mapping(ex.mapping_path)
    with Store(api.db, read_only=True) as store:
        given, family, dob, a_number = store.query(
            "SELECT given_name, family_name, dob, a_number FROM records_current WHERE source = "
            "'uscis' AND a_number IS NOT NULL AND dob IS NOT NULL ORDER BY record_id LIMIT 1")[0]
    out: dict[str, Any] = dict.fromkeys(spec.columns_used())
    out[spec.record_id_columns[0]] = receipt
    formats = spec.fields["dob"].formats
    values = {"given_name": given, "family_name": family, "a_number": a_number,
              "dob": date.fromisoformat(str(dob)).strftime(formats[0]) if formats else str(dob)}
    for field, value in values.items():
        out[spec.fields[field].column] = value
    return out


def test_a_record_arrives_and_its_person_changes_at_once(api: Api) -> None:
    row = _row(api, "API0000000001")
    r = api.client.post("/api/records", headers=api.h("dana"),
                        json={"source": "uscis", "rows": [row]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["new_records"], body["quarantined"]) == (1, 1, 0)
    changed = body["resolution"]["persons"]
    assert changed and all(p["version"] == body["resolution"]["run_ids"][-1] for p in changed)
    with Store(api.db, read_only=True) as store:
        person = store.scalar("SELECT entity_id FROM entity_members WHERE source = 'uscis' AND "
                              "record_id = 'API0000000001'")
        event = store.query("SELECT action, decision, details FROM audit_events "
                            "ORDER BY seq DESC LIMIT 1")[0]
    assert person in {p["person_id"] for p in changed}
    assert event[0] == "ingest" and "records" in event[2]
    # The same row again: unchanged, nothing to resolve.
    again = api.client.post("/api/records", headers=api.h("dana"),
                            json={"source": "uscis", "rows": [row]}).json()
    assert again["unchanged"] == 1 and again["resolution"]["persons"] == []


def test_only_the_data_engineer_adds_records(api: Api) -> None:
    r = api.client.post("/api/records", headers=api.h("casey"),
                        json={"source": "uscis", "rows": [_row(api, "API0000000002")]})
    refused(r, "ingest")


def test_rows_that_do_not_fit_load_nothing(api: Api) -> None:
    with Store(api.db, read_only=True) as store:
        batches = store.scalar("SELECT count(*) FROM ingest_batches")
    bad = api.client.post("/api/records", headers=api.h("dana"),
                          json={"source": "uscis", "rows": [{"NO_SUCH_COLUMN": "x"}]})
    assert "not in the mapping" in error(bad, 400, "bad_request")["message"]
    unknown = api.client.post("/api/records", headers=api.h("dana"),
                              json={"source": "nope", "rows": [{"a": "b"}]})
    assert "no source" in error(unknown, 400, "bad_request")["message"]
    empty = api.client.post("/api/records", headers=api.h("dana"), json={"source": "uscis", "rows": []})
    assert empty.status_code == 422
    with Store(api.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM ingest_batches") == batches
