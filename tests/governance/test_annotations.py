"""Status-changing annotations: a reason code and evidence, two approvers who are neither the
requester nor each other, in force only then, and never an edit of the record."""

from __future__ import annotations

from typing import Any

import pytest
from casework_helpers import casework_fixture

from accord.casework.annotations import (
    AnnotationError,
    annotation_kinds,
    annotations_of,
    approve_annotation,
    effective_annotations,
    reject_annotation,
    request_annotation,
)
from accord.governance.gate import PolicyDenied
from accord.person_status.facts import annotations_for

SSA = "ssa-numident"
casework = pytest.fixture(scope="module")(casework_fixture)


def _records(cw: Any) -> list[tuple[Any, ...]]:
    return sorted(cw.rows("SELECT * FROM records"), key=repr)


def _request(cw: Any, person: str, kind: str = "death_record_erroneous",
             reason: str = "person_confirmed_alive",
             evidence: str = "Appeared in person at the field office with a valid passport.",
             user: str = "pat") -> Any:
    source, record_id = cw.record_of(person, SSA)
    return request_annotation(cw.gate, user, source=source, record_id=record_id, kind=kind,
                              reason_code=reason, evidence=evidence)


def test_reason_codes_are_data_with_the_kinds_the_status_rules_use() -> None:
    from accord.status import ANNOTATION_KINDS

    kinds = annotation_kinds()
    assert set(ANNOTATION_KINDS) <= set(kinds)
    for kind in kinds.values():
        assert kind["title"] and kind["effect"] and kind["reasons"]


def test_two_distinct_approvers_other_than_the_requester_make_it_effective(casework: Any) -> None:
    person = casework.persons_with(SSA)[10]
    before = _records(casework)
    a = _request(casework, person)
    assert a.state.startswith("pending") and not a.effective
    assert a.annotation_id not in {x.annotation_id for x in effective_annotations(casework.store)}

    with pytest.raises(AnnotationError, match="two-person rule"):
        approve_annotation(casework.gate, "pat", a.annotation_id)
    assert casework.last_event()["outcome"].startswith("failed: ")
    one = approve_annotation(casework.gate, "priya", a.annotation_id)
    assert not one.effective and len(one.approvals) == 1
    with pytest.raises(AnnotationError, match="already approved"):
        approve_annotation(casework.gate, "priya", a.annotation_id)
    assert a.annotation_id not in {x.annotation_id for x in effective_annotations(casework.store)}

    two = approve_annotation(casework.gate, "paz", a.annotation_id)
    assert two.effective and two.state == "effective"
    assert [u for u, _ in two.approvals] == ["priya", "paz"]
    effective = effective_annotations(casework.store, records=[a.record])
    assert [(x.annotation_id, x.kind) for x in effective] == [(a.annotation_id, "death_record_erroneous")]
    assert effective_annotations(casework.store, records=[("ssa", "no-such-record")]) == []
    with pytest.raises(AnnotationError, match="already in force"):
        approve_annotation(casework.gate, "pat", a.annotation_id)

    # The record itself is untouched; the status rules receive the annotation as input.
    assert _records(casework) == before
    assert [(x.record, x.kind) for x in annotations_for(casework.store, [person])[person]] == [
        (a.record, "death_record_erroneous")]
    assert [x.annotation_id for x in annotations_of(casework.store, person_id=person)] == [a.annotation_id]


def test_a_rejection_stops_an_annotation(casework: Any) -> None:
    person = casework.persons_with(SSA)[11]
    a = _request(casework, person, "record_not_this_person", "linkage_error")
    with pytest.raises(AnnotationError, match="reason"):
        reject_annotation(casework.gate, "priya", a.annotation_id, reason="")
    rejected = reject_annotation(casework.gate, "priya", a.annotation_id, reason="Evidence does not show it.")
    assert rejected.state == "rejected"
    with pytest.raises(AnnotationError, match="rejected by priya"):
        approve_annotation(casework.gate, "paz", a.annotation_id)
    assert a.annotation_id not in {x.annotation_id for x in effective_annotations(casework.store)}


@pytest.mark.parametrize(("kind", "reason", "evidence", "why"), [
    ("no_such_kind", "x", "evidence", "unknown annotation kind"),
    ("death_record_erroneous", "linkage_error", "evidence", "unknown reason code"),
    ("death_record_erroneous", "person_confirmed_alive", "   ", "give the evidence"),
])
def test_requests_need_a_known_kind_a_reason_code_and_evidence(casework: Any, kind: str, reason: str,
                                                               evidence: str, why: str) -> None:
    person = casework.persons_with(SSA)[12]
    with pytest.raises(AnnotationError, match=why):
        _request(casework, person, kind, reason, evidence)
    event = casework.last_event()
    assert event["action"] == "annotation.request" and event["outcome"].startswith("failed: ")
    assert casework.rows("SELECT count(*) FROM annotations WHERE person_id = ?", [person]) == [(0,)]


def test_unknown_records_and_other_roles_are_refused(casework: Any) -> None:
    with pytest.raises(AnnotationError, match="no record"):
        request_annotation(casework.gate, "pat", source="ssa", record_id="no-such-record",
                           kind="death_record_erroneous", reason_code="person_confirmed_alive", evidence="e")
    person = casework.persons_with(SSA)[13]
    with pytest.raises(PolicyDenied, match=r"annotation\.request"):
        _request(casework, person, user="casey")
    a = _request(casework, person)
    with pytest.raises(PolicyDenied, match=r"annotation\.approve"):
        approve_annotation(casework.gate, "ana", a.annotation_id)
    assert casework.last_event()["decision"] == "deny"
