"""A case named by its id is looked up only after the gate has let the user attempt the step:
a refusal before the lookup is audited, and it reads the same whether the case exists or not
(the caller learns nothing of which cases exist)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from casework_helpers import casework_fixture

from accord.casework.annotations import approve_annotation, reject_annotation, request_annotation
from accord.casework.corrections import correct_dispute
from accord.casework.disputes import DisputeError, dispute_lookup
from accord.casework.filing import file_dispute
from accord.casework.findings import FindingError, finding_lookup, verify_finding
from accord.casework.handling import acknowledge_dispute
from accord.governance.gate import Gate, PolicyDenied
from accord.governance.policy import Request

SSA = "ssa-numident"
casework = pytest.fixture(scope="module")(casework_fixture)


class Nothing:
    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [], []


def _refusal(cw: Any, attempt: Callable[[str], object], case: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The reasons a refusal gives and the audit event it left (without its seq and ids)."""
    before = cw.last_event()["seq"]
    with pytest.raises(PolicyDenied) as refused:
        attempt(case)
    event = cw.last_event()
    assert event["seq"] == before + 1, "a refusal is one audit event"
    assert refused.value.audit_seq == event["seq"]
    assert (event["decision"], event["outcome"]) == ("deny", "refused")
    assert json.loads(event["persons"]) == [] and json.loads(event["records"]) == []
    return refused.value.reasons, {k: v for k, v in event.items() if k not in {"seq", "details"}}


def _a_dispute(cw: Any) -> str:
    person = cw.persons_with(SSA)[40]
    source, record_id = cw.record_of(person, SSA)
    d = file_dispute(cw.gate, "pat", person, source=source, record_id=record_id, field="dob",
                     claimed_value="1950-01-02", statement="not my date of birth")
    return d.dispute_id


def test_a_refusal_before_the_lookup_is_audited_and_the_same_for_a_case_that_does_not_exist(
        casework: Any) -> None:
    real = _a_dispute(casework)
    steps: list[Callable[[str], object]] = [
        lambda i: acknowledge_dispute(casework.gate, "ana", i),
        lambda i: correct_dispute(casework.gate, "ana", i),
        lambda i: approve_annotation(casework.gate, "ana", i),
        lambda i: reject_annotation(casework.gate, "ana", i, reason="no"),
        lambda i: verify_finding(casework.gate, "ana", i, method="m", evidence="e"),
    ]
    for step in steps:
        for missing in ("D-999999", "N-999999", "F-999999"):
            assert _refusal(casework, step, real) == _refusal(casework, step, missing)


def test_the_refusal_names_the_case_asked_about_and_nothing_about_it(casework: Any) -> None:
    real = _a_dispute(casework)
    for dispute_id in (real, "D-999999"):
        with pytest.raises(PolicyDenied):
            acknowledge_dispute(casework.gate, "ana", dispute_id)
        assert json.loads(casework.last_event()["details"]) == {"dispute": dispute_id}


def test_a_read_of_a_case_refuses_before_the_lookup_too(casework: Any) -> None:
    real = _a_dispute(casework)

    def read(gate: Gate, user: str, dispute_id: str) -> object:
        return gate.read(user, Request("dispute.read"), lambda _: Nothing(), nature="dispute",
                         lookup=dispute_lookup(gate.store, dispute_id))

    def as_ana(dispute_id: str) -> object:
        return read(casework.gate, "ana", dispute_id)

    assert _refusal(casework, as_ana, real) == _refusal(casework, as_ana, "D-999999")
    # a user who may read disputes learns that one does not exist (unrecorded, as any lookup)
    before = casework.last_event()["seq"]
    with pytest.raises(DisputeError, match="no dispute"):
        read(casework.gate, "pat", "D-999999")
    assert casework.last_event()["seq"] == before
    g = read(casework.gate, "pat", real)
    event = casework.last_event()
    assert (event["seq"], event["action"], event["decision"]) == (g.audit_seq, "dispute.read", "allow")
    with pytest.raises(FindingError, match="no finding"):
        casework.gate.read("carl", Request("finding.read"), lambda _: Nothing(), nature="finding",
                           lookup=finding_lookup(casework.store, "F-999999"))


def test_an_allowed_user_is_decided_with_the_case_s_purpose_and_persons(casework: Any) -> None:
    real = _a_dispute(casework)
    acknowledge_dispute(casework.gate, "pat", real)
    event = casework.last_event()
    row = casework.rows("SELECT purpose, persons FROM audit_events WHERE seq = ?", [event["seq"]])[0]
    person = casework.rows("SELECT person_id FROM disputes WHERE dispute_id = ?", [real])[0][0]
    assert (event["action"], event["decision"], row[0], json.loads(row[1])) == (
        "dispute.handle", "allow", "subject_access", [person])


def test_a_lookup_is_read_only_by_the_gate(casework: Any) -> None:
    with pytest.raises(RuntimeError, match="looked up by the gate"):
        _ = dispute_lookup(casework.store, "D-000001").value


def test_an_annotation_request_on_a_record_is_unchanged(casework: Any) -> None:
    """Requesting names a record, not a case: the gate decides with the record's person."""
    person = casework.persons_with(SSA)[41]
    source, record_id = casework.record_of(person, SSA)
    a = request_annotation(casework.gate, "pat", source=source, record_id=record_id,
                           kind="identity_theft_victim", reason_code=_a_reason(), evidence="police report")
    assert a.person_id == person


def _a_reason() -> str:
    from accord.casework.reasons import annotation_kinds

    return next(iter(annotation_kinds()["identity_theft_victim"]["reasons"]))


def test_a_correction_reads_under_a_scope_the_gate_issued_and_its_event_says_so(casework: Any) -> None:
    real = _a_dispute(casework)
    correct_dispute(casework.gate, "pat", real)
    event = casework.last_event()
    assert (event["action"], event["decision"], event["outcome"][:9]) == (
        "dispute.handle", "allow", "corrected")
    [read] = json.loads(event["details"])["read_under"]
    assert read.pop("reasons")
    assert read == {"action": "subject.report", "purpose": "subject_access", "agreement": None,
                    "decision": "allow"}
