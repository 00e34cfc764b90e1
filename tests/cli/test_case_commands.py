"""The commands for listing cases and the administration actions: `accord finding list`,
`accord dispute list|show`, `accord annotation reject`, `accord users tokens|revoke-token|
deactivate`, and paging with `accord audit events --before` and `accord disclosures --offset`.
Refusals exit 2 with the gate's reasons."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = services.demo(tmp_path_factory.mktemp("cli-cases") / "w", persons=400, seed=3)
    enf = next(a for a in result.setup.agreements if a.startswith("CMA-ENF"))
    entry = services.worklist(result.db, user="casey", agreement=enf, limit=5).entries[0]
    return {"db": str(result.db), "enf": enf, "entry": entry}


def _run(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "200"})
    return result.exit_code, result.output


def test_finding_list_shows_the_agreements_findings_and_refuses_others(demo: dict[str, Any]) -> None:
    e, db = demo["entry"], demo["db"]
    code, text = _run("casey", "finding", "open", "--db", db, "--person", e.person_id, "--agreement",
                      demo["enf"], "--record", f"{e.records[0].source}:{e.records[0].record_id}",
                      "--basis", "final order on record", "--json")
    assert code == 0, text
    finding = json.loads(text)["finding_id"]
    code, text = _run("carl", "finding", "list", "--db", db, "--agreement", demo["enf"], "--json")
    assert code == 0, text
    listed = json.loads(text)
    assert finding in [f["finding_id"] for f in listed["items"]] and listed["audit_event"]
    code, text = _run("carl", "finding", "list", "--db", db, "--agreement", demo["enf"], "--state", "ready")
    assert code == 0 and finding not in text
    code, text = _run("carl", "finding", "list", "--db", db, "--agreement", demo["enf"], "--state", "pending")
    assert code == 0 and finding in text and "audit event" in text
    code, text = _run("pat", "finding", "list", "--db", db, "--agreement", demo["enf"])
    assert code == 2 and "finding.read is not among the actions of pat" in text
    code, text = _run("carl", "finding", "list", "--db", db, "--agreement", demo["enf"], "--limit", "500")
    assert code == 2 and "limit" in text


def test_dispute_list_marks_overdue_ones_and_dispute_show(demo: dict[str, Any]) -> None:
    e, db = demo["entry"], demo["db"]
    rec = e.records[0]
    late = services.file_dispute(Path(db), e.person_id, user="pat", source=rec.source,
                                 record_id=rec.record_id, field="dob", claimed_value="1950-01-02",
                                 statement="not my birth date", today=date.today() - timedelta(days=60))
    code, text = _run("priya", "dispute", "list", "--db", db, "--overdue")
    assert code == 0, text
    assert late.dispute_id in text and "OVERDUE" in text
    code, text = _run("priya", "dispute", "show", late.dispute_id, "--db", db)
    assert code == 0 and json.loads(text)["overdue"] is True
    code, text = _run("casey", "dispute", "list", "--db", db)
    assert code == 2 and "dispute.read" in text


def test_annotation_reject(demo: dict[str, Any]) -> None:
    rec = demo["entry"].records[0]
    a = services.request_annotation(Path(demo["db"]), user="pat", source=rec.source,
                                    record_id=rec.record_id, kind="record_not_this_person",
                                    reason_code="linkage_error", evidence="documents of someone else")
    code, text = _run("priya", "annotation", "reject", a.annotation_id, "--db", demo["db"], "--reasons",
                      "the documents are of this person", "--json")
    assert code == 0, text
    assert json.loads(text)["state"] == "rejected"
    code, text = _run("pat", "annotation", "reject", a.annotation_id, "--db", demo["db"], "--reasons", "x")
    assert code == 2


def test_users_tokens_revoke_and_deactivate(demo: dict[str, Any]) -> None:
    db = demo["db"]
    token = services.issue_token(Path(db), "ana", user="admin")
    code, text = _run("admin", "users", "tokens", "ana", "--db", db, "--json")
    assert code == 0, text
    ids = [t["token_id"] for t in json.loads(text)["items"]]
    assert len(ids) == 2 and token not in text
    assert services.authenticate(Path(db), token) == "ana"
    code, text = _run("admin", "users", "revoke-token", "ana", token, "--db", db)    # by the token itself
    assert code == 0 and "revoked" in text and token not in text
    assert services.authenticate(Path(db), token) is None
    code, text = _run("pat", "users", "deactivate", "ana", "--db", db)
    assert code == 2 and "users.manage" in text
    code, text = _run("admin", "users", "deactivate", "ana", "--db", db)
    assert code == 0 and "deactivated" in text
    code, text = _run("ana", "agreements", "list", "--db", db)
    assert code == 2 and "deactivated" in text


def test_audit_events_and_disclosures_page(demo: dict[str, Any]) -> None:
    db = demo["db"]
    code, text = _run("olive", "audit", "events", "--db", db, "--limit", "3", "--json")
    page = json.loads(text)
    first = [e["seq"] for e in page["items"]]
    assert page["limit"] == 3 and page["next_before"] == first[-1]
    code, text = _run("olive", "audit", "events", "--db", db, "--limit", "3", "--before",
                      str(page["next_before"]), "--json")
    assert code == 0
    assert [e["seq"] for e in json.loads(text)["items"]] == [first[-1] - 1, first[-1] - 2, first[-1] - 3]
    code, text = _run("olive", "disclosures", "--db", db, "--json", "--limit", "1000")
    every = json.loads(text)
    assert every["next_offset"] is None and every["offset"] == 0 and every["limit"] == 1000
    as_of = every["items"][0]["audit_seq"]
    assert every["as_of"] == as_of
    code, text = _run("olive", "disclosures", "--db", db, "--json", "--limit", "2", "--offset", "1",
                      "--as-of", str(as_of))
    assert code == 0
    page = json.loads(text)
    assert page["items"] == every["items"][1:3] and page["as_of"] == as_of
    assert page["next_offset"] == (3 if len(every["items"]) > 3 else None)
