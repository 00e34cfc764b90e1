"""Casework: subject access, disputes and corrections, annotations that need two approvers,
and the adverse-action workflow for match findings. Each runs as a named user through the
gate (``accord.casework``, ``accord.governance.gate``); these wrappers open the store and
return typed results (``accord.services.casework_results``). A case named by its id is looked
up by the gate, after it has refused a user who may not attempt the action at all
(``gate.act``/``gate.read`` with ``lookup=``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Literal, TypeVar, overload

from accord.casework import annotations as notes
from accord.casework import corrections, disputes, filing, handling, statements
from accord.casework import findings as adverse
from accord.casework.notifications import Resolution
from accord.errors import AccordError, NotFound
from accord.governance.agreements import get_agreement
from accord.governance.gate import Case, Gate, Governed, Lookup
from accord.governance.policy import Request
from accord.governance.subject_report import subject_report as report
from accord.governance.subject_search import MAX_CANDIDATES, find_subject
from accord.services.casework_results import (
    AnnotationItemOut,
    AnnotationOut,
    AnnotationPageOut,
    DisputeEvent,
    DisputeItemOut,
    DisputeOut,
    DisputePageOut,
    FindingOut,
    FindingPageOut,
    Notification,
    NotificationOut,
    ResolutionOut,
    SubjectReportOut,
    SubjectSearchOut,
)
from accord.services.context import governed
from accord.store.target import StoreTarget

MAX_PAGE = 100
# Reading findings, one or a page, is a person-data read under the finding's agreement: the
# same purpose, agreement, recipient and term checks as the work list the findings came from.
FINDING_READ = "finding.read"
# Reading disputes (one or a page) is its own action of the privacy office, apart from handling.
DISPUTE_READ = "dispute.read"
# So is reading annotations (the queue waiting for approvers, or one annotation).
ANNOTATION_READ = "annotation.read"


C = TypeVar("C")


@dataclass
class Cases(Generic[C]):
    """Findings, disputes or annotations as the gate releases them: they disclose the persons
    and the records they name (recorded in the audit event and, for findings, the accounting)."""

    items: list[C]
    more: bool = False
    persons: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return sorted(set(self.persons)), sorted(set(self.records))


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise AccordError(f"limit must be from 1 to {MAX_PAGE} (got {limit})")
    if offset < 0:
        raise AccordError(f"offset must not be negative (got {offset})")


def _paged(cases: Cases[Any], limit: int, offset: int, seq: int) -> dict[str, Any]:
    return {"items": cases.items, "limit": limit, "offset": offset,
            "next_offset": offset + limit if cases.more else None, "audit_event": seq}


def _event_ids(dispute: dict[str, Any]) -> dict[str, Any]:
    """A dispute's plain fields, its events as ``DisputeEvent`` (with their ids)."""
    return dispute | {"events": [DisputeEvent.model_validate(e) for e in dispute["events"]]}


def _dispute(d: disputes.Dispute) -> dict[str, Any]:
    return _event_ids(d.to_dict())


def _resolution(r: Resolution) -> ResolutionOut:
    return ResolutionOut(dispute=DisputeOut.model_validate(_dispute(r.dispute)), batch_id=r.batch_id,
                         version=r.version,
                         notifications=[Notification.model_validate(n.to_dict()) for n in r.notifications])


def _finding(s: adverse.FindingState) -> FindingOut:
    return FindingOut.model_validate(s.to_dict())


def subject_report(db: StoreTarget, person_id: str, *, user: str, include_law_enforcement: bool = False,
                   origin: str = "cli", today: date | None = None) -> SubjectReportOut:
    """Everything held about a person, by source with provenance, and every disclosure."""
    with governed(db, origin=origin, today=today) as gate:
        done = report(gate, user, person_id, include_law_enforcement=include_law_enforcement)
    if not any((done.records, done.disclosures, done.disputes, done.statements, done.notifications,
                done.annotations, done.findings)):
        # An empty report would read as "nothing is held about you": an id that names nothing
        # the report may show is not found (the read is audited, as "nothing disclosed").
        raise NotFound(f"{person_id}: not found: no records, disclosures or casework are held under "
                       "this person id (check the id)")
    plain = done.to_dict()
    return SubjectReportOut.model_validate(plain | {
        "disputes": [_event_ids(d) for d in plain["disputes"]],
        # the person each notice concerns: printed, not published (SubjectNotificationOut)
        "notifications": [NotificationOut.model_validate(n) for n in plain["notifications"]]})


def subject_search(db: StoreTarget, *, user: str, name: str | None = None, dob: str | None = None,
                   ssn: str | None = None, a_number: str | None = None, limit: int = MAX_CANDIDATES,
                   origin: str = "cli", today: date | None = None) -> SubjectSearchOut:
    """The persons a subject-access request's details point to (name and date of birth, or an
    SSN or A-number), best first: person ids, scores and what agreed, never record values."""
    if not 1 <= limit <= MAX_CANDIDATES:
        raise AccordError(f"limit must be from 1 to {MAX_CANDIDATES} (got {limit})")
    with governed(db, origin=origin, today=today) as gate:
        found, seq = find_subject(gate, user, name=name, dob=dob, ssn=ssn, a_number=a_number, limit=limit)
        return SubjectSearchOut.model_validate({"candidates": found, "audit_event": seq})


def file_dispute(db: StoreTarget, person_id: str, *, user: str, source: str, record_id: str, field: str,
                 claimed_value: str | None, statement: str, origin: str = "cli",
                 today: date | None = None) -> DisputeOut:
    with governed(db, origin=origin, today=today) as gate:
        filed = filing.file_dispute(gate, user, person_id, source=source, record_id=record_id, field=field,
                                    claimed_value=claimed_value, statement=statement)
        return DisputeOut.model_validate(_dispute(filed))


@overload
def handle_dispute(db: StoreTarget, dispute_id: str, *, user: str, action: Literal["acknowledge", "deny"],
                   reasons: str | None = None, statement: str | None = None, origin: str = "cli",
                   today: date | None = None) -> DisputeOut: ...


@overload
def handle_dispute(db: StoreTarget, dispute_id: str, *, user: str, action: Literal["correct", "statement"],
                   reasons: str | None = None, statement: str | None = None, origin: str = "cli",
                   today: date | None = None) -> ResolutionOut: ...


@overload
def handle_dispute(db: StoreTarget, dispute_id: str, *, user: str, action: str, reasons: str | None = None,
                   statement: str | None = None, origin: str = "cli",
                   today: date | None = None) -> DisputeOut | ResolutionOut: ...


def handle_dispute(db: StoreTarget, dispute_id: str, *, user: str, action: str, reasons: str | None = None,
                   statement: str | None = None, origin: str = "cli",
                   today: date | None = None) -> DisputeOut | ResolutionOut:
    """action: acknowledge | correct | deny (with reasons) | statement (of disagreement); the
    dispute, or after a correction or a statement the resolution with its notifications."""
    # Each step refuses a user who may not take it before the dispute is looked up.
    with governed(db, origin=origin, today=today) as gate:
        if action == "acknowledge":
            return DisputeOut.model_validate(_dispute(handling.acknowledge_dispute(gate, user, dispute_id)))
        if action == "correct":
            corrected = _resolution(corrections.correct_dispute(gate, user, dispute_id))
            _resolve_correction(gate.store)
            return corrected
        if action == "deny":
            return DisputeOut.model_validate(_dispute(handling.deny_dispute(gate, user, dispute_id,
                                                                            reasons=reasons or "")))
        if action == "statement":
            return _resolution(statements.file_statement(gate, user, dispute_id, statement or ""))
        raise disputes.DisputeError(f"unknown dispute action {action!r} "
                                    "(acknowledge, correct, deny, statement)")


def _resolve_correction(store: Any) -> None:
    """The corrected version finds its person at once, through incremental resolution (the
    batch's rules and guards), once the store has been resolved; it stays queued otherwise."""
    from accord.resolve import incremental
    from accord.resolve.entities import latest_run
    from accord.resolve.queue import waiting

    if latest_run(store) is None or not waiting(store).get("correction"):
        return
    from accord.resolve.queue import corrections_waiting

    incremental.update(store, keys=corrections_waiting(store), limit=None)


def request_annotation(db: StoreTarget, *, user: str, source: str, record_id: str, kind: str,
                       reason_code: str, evidence: str, origin: str = "cli",
                       today: date | None = None) -> AnnotationOut:
    with governed(db, origin=origin, today=today) as gate:
        return AnnotationOut.model_validate(notes.request_annotation(
            gate, user, source=source, record_id=record_id, kind=kind, reason_code=reason_code,
            evidence=evidence).to_dict())


def approve_annotation(db: StoreTarget, annotation_id: str, *, user: str, origin: str = "cli",
                       today: date | None = None) -> AnnotationOut:
    with governed(db, origin=origin, today=today) as gate:
        return AnnotationOut.model_validate(notes.approve_annotation(gate, user, annotation_id).to_dict())


def reject_annotation(db: StoreTarget, annotation_id: str, *, user: str, reasons: str, origin: str = "cli",
                      today: date | None = None) -> AnnotationOut:
    """Refuse an annotation (never the requester; the reasons are required). One rejection
    stops it for good: it can no longer take effect."""
    with governed(db, origin=origin, today=today) as gate:
        return AnnotationOut.model_validate(notes.reject_annotation(gate, user, annotation_id,
                                                                    reason=reasons).to_dict())


def open_finding(db: StoreTarget, person_id: str, *, user: str, agreement: str,
                 records: list[tuple[str, str]], basis: str, origin: str = "cli",
                 today: date | None = None) -> FindingOut:
    with governed(db, origin=origin, today=today) as gate:
        return _finding(adverse.open_finding(gate, user, person_id, agreement=agreement, records=records,
                                             basis=basis))


def finding_step(db: StoreTarget, finding_id: str, *, user: str, step: str, method: str | None = None,
                 evidence: str | None = None, sent_on: date | None = None, contest: str | None = None,
                 contest_id: int | None = None, upheld: bool | None = None, reasons: str | None = None,
                 origin: str = "cli", today: date | None = None) -> FindingOut:
    """step: verify | notice | contest | decide-contest | actionable | state. None can be skipped."""
    # Each step refuses a user who may not take it before the finding is looked up, then
    # decides with the finding's purpose and agreement.
    with governed(db, origin=origin, today=today) as gate:
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
            return _read_finding(gate, user, finding_id, None)
        else:
            raise adverse.FindingError(f"unknown step {step!r} (verify, notice, contest, decide-contest, "
                                       "actionable, state)")
        return _finding(s)


# --- reading findings and disputes ---------------------------------------------------------


def _read_finding(gate: Gate, user: str, finding_id: str, justification: str | None) -> FindingOut:
    """One finding, read under its agreement; a user who may not read findings at all is
    refused before the finding is looked up."""
    found = adverse.finding_lookup(gate.store, finding_id)

    def reader(_: object) -> Cases[FindingOut]:
        f = found.value
        return Cases([_finding(adverse.finding_state(gate.store, finding_id, gate.today))],
                     persons=[f.person_id], records=f.records)

    g = gate.read(user, Request(FINDING_READ, justification=justification), reader,
                  nature="adverse-action finding", lookup=found)
    return g.value.items[0].model_copy(update={"audit_event": g.audit_seq})


def show_finding(db: StoreTarget, finding_id: str, *, user: str, justification: str | None = None,
                 origin: str = "cli", today: date | None = None) -> FindingOut:
    """One finding and what it still needs, read under its agreement (a recipient's caseworker)."""
    with governed(db, origin=origin, today=today) as gate:
        return _read_finding(gate, user, finding_id, justification)


def list_findings(db: StoreTarget, *, user: str, agreement: str | None = None, purpose: str | None = None,
                  state: str | None = None, person: str | None = None, limit: int = 50, offset: int = 0,
                  justification: str | None = None, origin: str = "cli",
                  today: date | None = None) -> FindingPageOut:
    """The findings opened under an agreement, oldest first, each with where it stands today;
    optionally one person's or those in one ``state``. Read under the agreement's purpose (a
    declared ``purpose`` must be the agreement's) and accounted as a disclosure of each person."""
    _check_page(limit, offset)
    with governed(db, origin=origin, today=today) as gate:
        g, declared = read_findings(gate, user, agreement=agreement, purpose=purpose, state=state,
                                    person=person, limit=limit, offset=offset, justification=justification,
                                    nature="adverse-action findings")
        return FindingPageOut.model_validate(_paged(g.value, limit, offset, g.audit_seq)
                                             | {"agreement": agreement, "purpose": declared})


def read_findings(gate: Gate, user: str, *, agreement: str | None, purpose: str | None, state: str | None,
                  person: str | None, limit: int, offset: int, justification: str | None, nature: str,
                  details: Callable[[Cases[FindingOut]], dict[str, Any]] | None = None
                  ) -> tuple[Governed[Cases[FindingOut]], str | None]:
    """One governed read of an agreement's findings (a page, or all of them for an export), and
    the purpose it was read under."""
    if state is not None and state not in adverse.STATES:
        raise adverse.FindingError(f"unknown finding state {state!r} ({', '.join(adverse.STATES)})")
    a = get_agreement(gate.store, agreement) if agreement else None
    declared = purpose or (a.purpose if a else None)

    def reader(_: object) -> Cases[FindingOut]:
        if agreement is None:
            return Cases([])
        states, more = adverse.list_findings(gate.store, agreement, gate.today, person_id=person,
                                             state=state, limit=limit, offset=offset)
        return Cases([_finding(s) for s in states], more, [s.finding.person_id for s in states],
                     [r for s in states for r in s.finding.records])

    def find() -> Case[None]:
        """An agreement that does not exist is not found (for a user who may read findings at
        all: the gate refuses anyone else first), not a purpose left undeclared."""
        if a is None:
            raise NotFound(f"no agreement {agreement!r} (see `accord agreements list`)")
        return Case(None, purpose=declared, agreement=agreement, persons=(person,) if person else ())

    g = gate.read(user, Request(FINDING_READ, declared, agreement, justification,
                                (person,) if person else ()), reader, nature=nature, details=details,
                  lookup=Lookup(find, agreement=agreement) if agreement else None)
    return g, declared


def show_dispute(db: StoreTarget, dispute_id: str, *, user: str, origin: str = "cli",
                 today: date | None = None) -> DisputeItemOut:
    """One dispute with its events (privacy officer)."""
    with governed(db, origin=origin, today=today) as gate:
        found = disputes.dispute_lookup(gate.store, dispute_id)   # looked up once the user may read disputes

        def reader(_: object) -> Cases[DisputeItemOut]:
            d = found.value
            return Cases([_dispute_item(d, gate.today)], persons=[d.person_id],
                         records=[(d.source, d.record_id)])

        g = gate.read(user, Request(DISPUTE_READ), reader, nature="dispute", lookup=found)
        return g.value.items[0].model_copy(update={"audit_event": g.audit_seq})


def list_disputes(db: StoreTarget, *, user: str, person: str | None = None, state: str | None = None,
                  overdue: bool = False, limit: int = 50, offset: int = 0, origin: str = "cli",
                  today: date | None = None) -> DisputePageOut:
    """Disputes, oldest first: one person's, those in one ``state`` (filed, acknowledged,
    corrected, denied, or ``open``: not yet resolved), or only those ``overdue`` for
    acknowledgement (10 working days, 552a(d)(2)(A)). Privacy officer."""
    _check_page(limit, offset)
    if state is not None and state not in disputes.STATES:
        raise disputes.DisputeError(f"unknown dispute state {state!r} ({', '.join(disputes.STATES)})")
    with governed(db, origin=origin, today=today) as gate:
        def reader(_: object) -> Cases[DisputeItemOut]:
            found, more = disputes.list_disputes(gate.store, gate.today, person_id=person, state=state,
                                                 overdue=overdue, limit=limit, offset=offset)
            return Cases([_dispute_item(d, gate.today) for d in found], more,
                         [d.person_id for d in found], [(d.source, d.record_id) for d in found])

        request = Request(DISPUTE_READ, disputes.DISPUTE_PURPOSE, persons=(person,) if person else ())
        g = gate.read(user, request, reader, nature="disputes")
        return DisputePageOut.model_validate(_paged(g.value, limit, offset, g.audit_seq)
                                             | {"as_of": gate.today.isoformat()})


def show_annotation(db: StoreTarget, annotation_id: str, *, user: str, origin: str = "cli",
                    today: date | None = None) -> AnnotationItemOut:
    """One annotation: its record, kind, reason code, evidence, approvals and rejections, and
    where it stands (privacy officer, under subject access)."""
    with governed(db, origin=origin, today=today) as gate:
        def find() -> Case[notes.Annotation]:
            a = notes.get_annotation(gate.store, annotation_id)
            return Case(a, disputes.DISPUTE_PURPOSE, persons=(a.person_id,) if a.person_id else ())

        found = Lookup(find, annotation=annotation_id)   # looked up once the user may read annotations

        def reader(_: object) -> Cases[AnnotationItemOut]:
            a = found.value
            return Cases([_annotation(a)], persons=[a.person_id] if a.person_id else [], records=[a.record])

        g = gate.read(user, Request(ANNOTATION_READ), reader, nature="annotation", lookup=found)
        return g.value.items[0].model_copy(update={"audit_event": g.audit_seq})


def list_annotations(db: StoreTarget, *, user: str, state: str | None = "pending", person: str | None = None,
                     limit: int = 50, offset: int = 0, origin: str = "cli",
                     today: date | None = None) -> AnnotationPageOut:
    """Annotations, oldest first: by default the queue of those waiting for an approver
    (``pending``), or those ``effective`` or ``rejected`` (``state=None``: all), optionally one
    person's. Privacy officer, under subject access; the audit event names every person and
    record listed."""
    _check_page(limit, offset)
    if state is not None and state not in notes.STATES:
        raise notes.AnnotationError(f"unknown annotation state {state!r} ({', '.join(notes.STATES)})")
    with governed(db, origin=origin, today=today) as gate:
        def reader(_: object) -> Cases[AnnotationItemOut]:
            found, more = notes.list_annotations(gate.store, state=state, person_id=person, limit=limit,
                                                 offset=offset)
            return Cases([_annotation(a) for a in found], more, [a.person_id for a in found if a.person_id],
                         [a.record for a in found])

        request = Request(ANNOTATION_READ, disputes.DISPUTE_PURPOSE, persons=(person,) if person else ())
        g = gate.read(user, request, reader, nature="annotations")
        return AnnotationPageOut.model_validate(_paged(g.value, limit, offset, g.audit_seq)
                                                | {"state": state})


def _dispute_item(d: disputes.Dispute, today: date) -> DisputeItemOut:
    """A dispute as read: with whether its acknowledgement is overdue on ``today``."""
    return DisputeItemOut.model_validate(_dispute(d) | {"overdue": d.overdue(today)})


def _annotation(a: notes.Annotation) -> AnnotationItemOut:
    """An annotation as read: with the approvals it still needs and who may not give them."""
    needed = 0 if a.rejections or a.effective else notes.APPROVALS_NEEDED - len(
        {u for u, _ in a.approvals} - {a.requested_by})
    return AnnotationItemOut.model_validate(a.to_dict() | {
        "approvals_needed": needed,
        "may_not_approve": sorted({a.requested_by} | {u for u, _ in a.approvals})})
