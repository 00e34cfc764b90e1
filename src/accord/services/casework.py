"""Casework: subject access, disputes and corrections, annotations that need two approvers,
and the adverse-action workflow for match findings. Each runs as a named user through the
gate (``accord.governance``); these wrappers open the store and return plain data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from accord.governance import annotations as notes
from accord.governance import disputes
from accord.governance import findings as adverse
from accord.governance.subject_report import subject_report as report
from accord.services.context import governed


def subject_report(db: Path, person_id: str, *, user: str, include_law_enforcement: bool = False,
                   origin: str = "cli", today: date | None = None) -> dict[str, Any]:
    """Everything held about a person, by source with provenance, and every disclosure."""
    with governed(db, origin=origin, today=today) as gate:
        return report(gate, user, person_id, include_law_enforcement=include_law_enforcement).to_dict()


def file_dispute(db: Path, person_id: str, *, user: str, source: str, record_id: str, field: str,
                 claimed_value: str | None, statement: str, origin: str = "cli",
                 today: date | None = None) -> dict[str, Any]:
    with governed(db, origin=origin, today=today) as gate:
        return disputes.file_dispute(gate, user, person_id, source=source, record_id=record_id, field=field,
                                     claimed_value=claimed_value, statement=statement).to_dict()


def handle_dispute(db: Path, dispute_id: str, *, user: str, action: str, reasons: str | None = None,
                   statement: str | None = None, origin: str = "cli",
                   today: date | None = None) -> dict[str, Any]:
    """action: acknowledge | correct | deny (with reasons) | statement (of disagreement)."""
    with governed(db, origin=origin, today=today) as gate:
        gate.authorize(user, "dispute.handle", details={"dispute": dispute_id})  # before any lookup
        if action == "acknowledge":
            return disputes.acknowledge_dispute(gate, user, dispute_id).to_dict()
        if action == "correct":
            return disputes.correct_dispute(gate, user, dispute_id).to_dict()
        if action == "deny":
            return disputes.deny_dispute(gate, user, dispute_id, reasons=reasons or "").to_dict()
        if action == "statement":
            return disputes.file_statement(gate, user, dispute_id, statement or "").to_dict()
        raise disputes.DisputeError(f"unknown dispute action {action!r} "
                                    "(acknowledge, correct, deny, statement)")


def request_annotation(db: Path, *, user: str, source: str, record_id: str, kind: str, reason_code: str,
                       evidence: str, origin: str = "cli", today: date | None = None) -> dict[str, Any]:
    with governed(db, origin=origin, today=today) as gate:
        return notes.request_annotation(gate, user, source=source, record_id=record_id, kind=kind,
                                        reason_code=reason_code, evidence=evidence).to_dict()


def approve_annotation(db: Path, annotation_id: str, *, user: str, origin: str = "cli",
                       today: date | None = None) -> dict[str, Any]:
    with governed(db, origin=origin, today=today) as gate:
        gate.authorize(user, "annotation.approve", details={"annotation": annotation_id})
        return notes.approve_annotation(gate, user, annotation_id).to_dict()


def open_finding(db: Path, person_id: str, *, user: str, agreement: str, records: list[tuple[str, str]],
                 basis: str, origin: str = "cli", today: date | None = None) -> dict[str, Any]:
    with governed(db, origin=origin, today=today) as gate:
        return adverse.open_finding(gate, user, person_id, agreement=agreement, records=records,
                                    basis=basis).to_dict()


_STEP_ACTIONS = {"verify": "finding.verify", "notice": "finding.notice", "contest": "finding.contest",
                 "decide-contest": "finding.decide", "actionable": "finding.decide",
                 "state": "finding.decide"}


def finding_step(db: Path, finding_id: str, *, user: str, step: str, method: str | None = None,
                 evidence: str | None = None, sent_on: date | None = None, contest: str | None = None,
                 contest_id: int | None = None, upheld: bool | None = None, reasons: str | None = None,
                 origin: str = "cli", today: date | None = None) -> dict[str, Any]:
    """step: verify | notice | contest | decide-contest | actionable | state. None can be skipped."""
    with governed(db, origin=origin, today=today) as gate:
        # Before the finding is looked up; each step then decides with the finding's purpose.
        gate.may_attempt(user, _STEP_ACTIONS.get(step, "finding.decide"), details={"finding": finding_id})
        if step == "verify":
            s = adverse.verify_finding(gate, user, finding_id, method=method or "", evidence=evidence or "")
        elif step == "notice":
            s = adverse.record_notice(gate, user, finding_id, sent_on=sent_on or gate.today,
                                      method=method or "")
        elif step == "contest":
            s = adverse.contest_finding(gate, user, finding_id, contest=contest or "")
        elif step == "decide-contest":
            s = adverse.decide_contest(gate, user, finding_id, contest_id or 0, upheld=bool(upheld),
                                       reasons=reasons or "")
        elif step == "actionable":
            s = adverse.mark_actionable(gate, user, finding_id)
        elif step == "state":
            gate.authorize(user, "finding.decide", details={"finding": finding_id, "state": True})
            s = adverse.finding_state(gate.store, finding_id, gate.today)
        else:
            raise adverse.FindingError(f"unknown step {step!r} (verify, notice, contest, decide-contest, "
                                       "actionable, state)")
        return s.to_dict()
