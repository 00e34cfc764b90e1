"""Subject access (5 U.S.C. 552a(d)) covers one person's own records and nothing of anyone else's:
not through the scope's SQL, not through the per-person reads, and not through a link held for
review between one of the person's records and another person's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from casework_helpers import Read, casework_fixture

from accord.governance.policy import Decision, Request
from accord.governance.scope import person_records, require_issued, scoped_records_sql
from accord.governance.subject_report import subject_report

SSA = "ssa-numident"
casework = pytest.fixture(scope="module")(casework_fixture)


@pytest.fixture(scope="module")
def linked(casework: Any) -> dict[str, Any]:
    """Two persons, one record of each joined by a link held for review."""
    person, other = casework.persons_with(SSA)[:2]
    mine, theirs = casework.record_of(person, SSA), casework.record_of(other, SSA)
    run = casework.store.scalar("SELECT max(run_id) FROM resolution_runs")
    casework.store.con.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?, 2.5, 0.85, 'review')",
                               [run, *mine, *theirs])
    held = {p: {(str(s), str(r)) for s, r in casework.rows(
        "SELECT source, record_id FROM entity_members WHERE entity_id = ?", [p])} for p in (person, other)}
    assert held[person] and held[other] and not held[person] & held[other]
    return {"person": person, "other": other, "mine": mine, "theirs": theirs, "held": held}


def _subject_access(casework: Any, person: str, reader: Any) -> Any:
    return casework.gate.read("pat", Request("subject.report", "subject_access", persons=(person,)), reader,
                              nature="test: subject access read").value


def test_the_scope_of_a_subject_access_read_holds_only_that_persons_records(
        casework: Any, linked: dict[str, Any]) -> None:
    person, other = linked["person"], linked["other"]
    registry = casework.gate.registry
    seen: dict[str, Any] = {}

    def reader(d: Decision) -> Read:
        assert d.scope is not None and d.determination_scope is not None
        require_issued(d.scope)
        for name, scope in (("scope", d.scope), ("determination", d.determination_scope)):
            # Every record the scope's SQL yields, of anyone: nothing in the query limits it but
            # the scope itself.
            sql = scoped_records_sql(registry, scope, table="records")
            seen[name] = {(p, (str(s), str(r))) for p, s, r in casework.store.query(
                f"SELECT person_id, source, record_id FROM ({sql})")}
            seen[name + " by person"] = {(row["person_id"], (row["source"], row["record_id"]))
                                         for row in person_records(casework.store, registry, scope,
                                                                   [person, other])}
        records = sorted(r for _, r in seen["scope"])
        return Read([person] if records else [], records)

    read = _subject_access(casework, person, reader)
    assert read.persons == [person] and linked["mine"] in read.records
    for name, rows in seen.items():
        assert {p for p, _ in rows} == {person}, name
        assert {r for _, r in rows} <= linked["held"][person], name
        assert linked["theirs"] not in {r for _, r in rows}, name


def test_a_subject_report_holds_nothing_of_a_person_linked_for_review(
        casework: Any, linked: dict[str, Any]) -> None:
    person, other = linked["person"], linked["other"]
    report = subject_report(casework.gate, "pat", person)
    persons, records = report.touched()
    assert persons == [person] and linked["mine"] in records
    assert set(records) <= linked["held"][person] and not set(records) & linked["held"][other]
    text = json.dumps(report.to_dict(), default=str)
    assert other not in text and f'"{linked["theirs"][1]}"' not in text
    # The other way round, too.
    theirs = subject_report(casework.gate, "pat", other)
    assert set(theirs.touched()[1]) <= linked["held"][other] and linked["mine"] not in theirs.touched()[1]
    assert person not in json.dumps(theirs.to_dict(), default=str)
