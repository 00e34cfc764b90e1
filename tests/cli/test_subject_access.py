"""The privacy officer's subject-access workflow through the real commands: from a letter that
names a person (name and date of birth, or an SSN) to a printed report, with the search going
through the gate (audited under subject_access, person ids and no values), an unknown person
id an error, and the annotation queue; casework text output as readable lines."""

from __future__ import annotations

import json
import re
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.governance.subject_report import LAW_ENFORCEMENT_NOTE
from accord.store import Store
from worlds import World, resolved_world

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("subject-access"), persons=300, seed=4)


def _run(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "200"})
    return result.exit_code, result.output


def _letter(db: Path, where: str) -> dict[str, Any]:
    """What a letter would give: one stored record's name, date of birth and identifiers, and
    the person it is linked to (read straight from the store, as the test's ground truth)."""
    with Store(db, read_only=True) as store:
        rows = store.query(f"""
            SELECT r.source, r.record_id, r.given_name, r.family_name, CAST(r.dob AS VARCHAR), r.ssn,
                   r.a_number, m.entity_id
            FROM records_current r JOIN entity_members m USING (source, record_id)
            WHERE r.given_name IS NOT NULL AND r.family_name IS NOT NULL AND r.dob IS NOT NULL AND {where}
            ORDER BY r.source, r.record_id LIMIT 1""")
    assert rows, f"the world has a record where {where}"
    source, record_id, given, family, dob, ssn, a_number, person = rows[0]
    return {"source": source, "record_id": record_id, "name": f"{given} {family}", "given": given,
            "dob": dob, "ssn": ssn, "a_number": a_number, "person": person}


def _events(db: str, action: str) -> list[dict[str, Any]]:
    code, text = _run("olive", "audit", "events", "--db", db, "--action", action, "--limit", "50", "--json")
    assert code == 0, text
    events: list[dict[str, Any]] = json.loads(text)["items"]
    return events


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_from_a_letter_to_a_printed_report(world: World, tmp_path: Path) -> None:
    """Name and date of birth from the letter -> the person's id -> the printable report. The
    person holds an asylum application: subject access is their own access, so the report
    shows it, while the search shows no record value of anyone."""
    db = str(world.db)
    letter = _letter(world.db, "r.benefit_type = 'asylum'")

    code, text = _run("pat", "subject-search", "--db", db, "--name", letter["name"], "--dob", letter["dob"],
                      "--json")
    assert code == 0, text
    found = json.loads(text)
    assert found["candidates"][0]["person_id"] == letter["person"]
    assert {m["field"]: m["level"] for m in found["candidates"][0]["matched_on"]} == {
        "given_name": "exact", "family_name": "exact", "dob": "exact"}
    code, text = _run("pat", "subject-search", "--db", db, "--name", letter["name"], "--dob", letter["dob"])
    assert code == 0 and letter["person"] in text
    for value in (letter["given"], letter["source"], "asylum", letter["record_id"]):
        assert value not in text, f"the search shows {value!r}"

    report_file = tmp_path / "report.html"
    code, text = _run("pat", "subject-report", "--db", db, "--person", found["candidates"][0]["person_id"],
                      "--format", "html", "--out", str(report_file))
    assert code == 0, text
    assert str(report_file) in text
    page = report_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(report_file.stat().st_mode) == 0o600
    assert page.startswith("<!doctype html>") and "@media print" in page and "<script" not in page
    for shown in (letter["person"], letter["record_id"], letter["given"], "asylum", "Records held",
                  "Disclosures (the accounting of disclosures)"):
        assert shown in page, shown
    assert " ".join(LAW_ENFORCEMENT_NOTE.split()[:8]) in page
    parser = _Html()
    parser.feed(page)
    assert {"html", "head", "style", "body", "h1", "h2", "table"} <= set(parser.tags)

    # Both reads are the privacy officer's under subject_access, in the audit chain; neither
    # is an accounted disclosure (the person's own access).
    search = _events(db, "subject.search")[0]
    assert (search["user_id"], search["purpose"], search["decision"]) == ("pat", "subject_access", "allow")
    assert letter["person"] in search["persons"]
    report = _events(db, "subject.report")[0]
    assert report["persons"] == [letter["person"]] and report["purpose"] == "subject_access"
    code, text = _run("olive", "disclosures", "--db", db, "--person", letter["person"], "--json")
    assert code == 0 and "subject_access" not in text


def test_by_ssn_to_a_text_report(world: World) -> None:
    db = str(world.db)
    letter = _letter(world.db, "r.ssn IS NOT NULL AND r.system = 'ssa-numident'")
    code, text = _run("pat", "subject-search", "--db", db, "--ssn", letter["ssn"], "--json")
    assert code == 0, text
    candidates = json.loads(text)["candidates"]
    assert candidates[0]["person_id"] == letter["person"]
    assert candidates[0]["matched_on"] == [{"field": "ssn", "level": "exact"}]
    code, text = _run("pat", "subject-report", "--db", db, "--person", letter["person"])
    assert code == 0, text
    assert text.startswith(f"SUBJECT-ACCESS REPORT: {letter['person']}")
    assert "RECORDS HELD" in text and letter["record_id"] in text and letter["ssn"] in text
    assert "None" not in text and "[{" not in text and "{'" not in text


def test_who_may_search_and_what_a_search_needs(world: World) -> None:
    db = str(world.db)
    letter = _letter(world.db, "TRUE")
    for user in ("ana", "casey", "olive"):
        code, text = _run(user, "subject-search", "--db", db, "--name", letter["name"], "--dob",
                          letter["dob"])
        assert code == 2 and "subject.search is not among the actions" in text, text
    code, text = _run("pat", "subject-search", "--db", db, "--name", letter["name"])
    assert code == 2 and "too broad" in text
    code, text = _run("pat", "subject-search", "--db", db, "--ssn", "078-05-1120", "--limit", "50")
    assert code == 2 and "limit" in text
    refusals = {e["user_id"] for e in _events(db, "subject.search") if e["decision"] == "deny"}
    assert {"ana", "casey", "olive"} <= refusals


def test_an_unknown_person_is_an_error_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    db = str(world.db)
    out = tmp_path / "nobody.html"
    code, text = _run("pat", "subject-report", "--db", db, "--person", "P999999999", "--format", "html",
                      "--out", str(out))
    assert code != 0 and "no person 'P999999999'" in text
    assert not out.exists()
    code, text = _run("pat", "subject-report", "--db", db, "--person", "P999999999", "--json")
    assert code != 0 and "no person" in text and "records" not in text


def test_a_bad_output_is_refused_before_anything_is_read(world: World, tmp_path: Path) -> None:
    db = str(world.db)
    letter = _letter(world.db, "TRUE")
    before = _events(db, "subject.report")
    taken = tmp_path / "taken.html"
    taken.write_text("an earlier report", encoding="utf-8")
    for target, why in ((taken, "exists"), (tmp_path / "no-such-folder" / "r.html", "does not exist")):
        code, text = _run("pat", "subject-report", "--db", db, "--person", letter["person"], "--format",
                          "html", "--out", str(target))
        assert code != 0 and why in text, text
    code, text = _run("pat", "subject-report", "--db", db, "--person", letter["person"], "--format", "pdf")
    assert code != 0 and "text, html, json" in text
    assert taken.read_text(encoding="utf-8") == "an earlier report"
    assert _events(db, "subject.report") == before


def test_the_annotation_queue_and_readable_casework_output(world: World) -> None:
    db = str(world.db)
    letter = _letter(world.db, "TRUE")
    code, text = _run("pat", "annotation", "request", "--db", db, "--source", letter["source"], "--record",
                      letter["record_id"], "--kind", "record_not_this_person", "--reason-code",
                      "linkage_error", "--evidence", "the requester's documents show another date of birth")
    assert code == 0, text
    annotation = re.search(r"annotation_id: (N-\d+)", text)
    assert annotation, text
    aid = annotation.group(1)
    assert "None" not in text and "[]" not in text and "note: —" in text and "rejections: —" in text

    code, text = _run("priya", "annotation", "list", "--db", db, "--json")
    assert code == 0, text
    queue = json.loads(text)
    mine = next(a for a in queue["items"] if a["annotation_id"] == aid)
    assert mine["approvals_needed"] == 2 and mine["may_not_approve"] == ["pat"] and queue["audit_event"]
    code, text = _run("priya", "annotation", "approve", aid, "--db", db)
    assert code == 0 and "approvals:\n  - user: priya" in text, text
    code, text = _run("priya", "annotation", "list", "--db", db)
    assert code == 0 and aid in text and "1 of 2" in text and "priya" in text
    code, text = _run("priya", "annotation", "list", "--db", db, "--state", "effective")
    assert code == 0 and aid not in text
    code, text = _run("pat", "annotation", "show", aid, "--db", db)
    assert code == 0 and "approvals_needed: 1" in text and "may_not_approve: pat, priya" in text
    code, text = _run("pat", "annotation", "show", "N-999999", "--db", db)
    assert code != 0 and "no annotation 'N-999999'" in text
    code, text = _run("casey", "annotation", "list", "--db", db)
    assert code == 2 and "annotation.read" in text
    code, text = _run("pat", "annotation", "list", "--db", db, "--state", "done")
    assert code != 0 and "pending, effective, rejected" in text
    listed = next(e for e in _events(db, "annotation.read") if e["decision"] == "allow")
    assert listed["purpose"] == "subject_access" and letter["person"] in listed["persons"]
