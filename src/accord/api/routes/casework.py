"""Casework: the subject-access report, disputes and corrections, annotations that need two
approvers, and the adverse-action workflow of match findings (5 U.S.C. 552a(d), (c)(4), (p)).

Findings run under their agreement: the agreement named when a finding is opened (and kept by
the finding) declares the purpose, as for work lists. Every step is the service's; none can
be skipped or taken out of order.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from accord import services
from accord.api.deps import Agreement, Db, Justification, Limit, Offset, Purpose, User
from accord.api.routes.common import ERRORS, not_found
from accord.api.schemas import (
    AnnotationIn,
    ContestDecisionIn,
    ContestIn,
    DenialIn,
    DisputeIn,
    FindingIn,
    FindingNoticeIn,
    FindingVerifyIn,
    RejectionIn,
    StatementIn,
)
from accord.services.casework_results import (
    AnnotationItemOut,
    AnnotationOut,
    AnnotationPageOut,
    DisputeItemOut,
    DisputeOut,
    DisputePageOut,
    FindingOut,
    FindingPageOut,
    ResolutionOut,
    SubjectReportOut,
    SubjectSearchOut,
)

router = APIRouter(prefix="/api", responses=ERRORS)

PersonId = Annotated[str, Path(min_length=1, max_length=64)]
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
PersonFilter = Annotated[str | None, Query(min_length=1, max_length=64, description="one person's only")]
FindingState = Literal["pending", "ready", "actionable", "suspended", "contested", "closed"]
DisputeState = Literal["filed", "acknowledged", "corrected", "denied", "open"]
AnnotationState = Literal["pending", "effective", "rejected", "all"]


@router.get("/subject-searches", response_model=SubjectSearchOut, tags=["casework"])
def subject_search(who: User, db: Db, name: Annotated[str | None, Query(max_length=200)] = None,
                   dob: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
                   ssn: Annotated[str | None, Query(max_length=11)] = None,
                   a_number: Annotated[str | None, Query(max_length=12)] = None,
                   limit: Annotated[int, Query(ge=1, le=20)] = 10) -> SubjectSearchOut:
    """The persons a subject-access request names (name and date of birth, or an SSN or
    A-number), best first: person ids, scores and which details agreed, never record values
    (privacy officer, under subject access; audited with every candidate listed)."""
    return services.subject_search(db, user=who, name=name, dob=dob, ssn=ssn, a_number=a_number, limit=limit,
                                   origin="api")


@router.get("/subject-reports/{person_id}", response_model=SubjectReportOut, tags=["casework"])
def subject_report(person_id: PersonId, who: User, db: Db, include_law_enforcement: Annotated[bool, Query(
        description="also list (b)(7) law-enforcement disclosures")] = False) -> SubjectReportOut:
    """Everything held about a person, by source with provenance, and every disclosure
    (privacy officer, under subject access). 404 when nothing at all is held under the id."""
    with not_found("person", person_id):
        return services.subject_report(db, person_id, user=who,
                                       include_law_enforcement=include_law_enforcement, origin="api")


# --- disputes ---------------------------------------------------------------------------------------------


@router.get("/disputes", response_model=DisputePageOut, tags=["disputes"])
def disputes(who: User, db: Db, person: PersonFilter = None,
             state: Annotated[DisputeState | None, Query(description=(
                 "filed, acknowledged, corrected, denied, or open (not yet corrected or denied)"))] = None,
             overdue: Annotated[bool, Query(description=(
                 "only those not acknowledged within 10 working days (552a(d)(2)(A))"))] = False,
             limit: Limit = 50, offset: Offset = 0) -> DisputePageOut:
    """Disputes, oldest first, filtered by person, state or overdue acknowledgement (privacy
    officer, under subject access; audited with the persons listed)."""
    return services.list_disputes(db, user=who, person=person, state=state, overdue=overdue, limit=limit,
                                  offset=offset, origin="api")


@router.get("/disputes/{dispute_id}", response_model=DisputeItemOut, tags=["disputes"])
def dispute(dispute_id: CaseId, who: User, db: Db) -> DisputeItemOut:
    """One dispute with its events and whether its acknowledgement is overdue."""
    with not_found("dispute", dispute_id):
        return services.show_dispute(db, dispute_id, user=who, origin="api")


@router.post("/disputes", response_model=DisputeOut, status_code=201, tags=["disputes"])
def file_dispute(body: DisputeIn, who: User, db: Db) -> DisputeOut:
    """File a dispute against one field of one of the person's records; acknowledgement is due
    in 10 working days."""
    return services.file_dispute(db, body.person_id, user=who, source=body.source, record_id=body.record_id,
                                 field=body.field, claimed_value=body.claimed_value, statement=body.statement,
                                 origin="api")


@router.post("/disputes/{dispute_id}/acknowledgement", response_model=DisputeOut, tags=["disputes"])
def acknowledge_dispute(dispute_id: CaseId, who: User, db: Db) -> DisputeOut:
    """Acknowledge a dispute."""
    with not_found("dispute", dispute_id):
        return services.handle_dispute(db, dispute_id, user=who, action="acknowledge", origin="api")


@router.post("/disputes/{dispute_id}/correction", response_model=ResolutionOut, tags=["disputes"])
def correct_dispute(dispute_id: CaseId, who: User, db: Db) -> ResolutionOut:
    """Correct the record: a new version with provenance; every earlier recipient and the record
    system's owner are notified."""
    with not_found("dispute", dispute_id):
        return services.handle_dispute(db, dispute_id, user=who, action="correct", origin="api")


@router.post("/disputes/{dispute_id}/denial", response_model=DisputeOut, tags=["disputes"])
def deny_dispute(dispute_id: CaseId, body: DenialIn, who: User, db: Db) -> DisputeOut:
    """Refuse the amendment, with reasons (appeal rights are attached)."""
    with not_found("dispute", dispute_id):
        return services.handle_dispute(db, dispute_id, user=who, action="deny", reasons=body.reasons,
                                       origin="api")


@router.post("/disputes/{dispute_id}/statement", response_model=ResolutionOut, tags=["disputes"])
def dispute_statement(dispute_id: CaseId, body: StatementIn, who: User, db: Db) -> ResolutionOut:
    """File the person's statement of disagreement after a denial; it travels with every later
    disclosure and earlier recipients are notified."""
    with not_found("dispute", dispute_id):
        return services.handle_dispute(db, dispute_id, user=who, action="statement", statement=body.statement,
                                       origin="api")


# --- annotations ------------------------------------------------------------------------------------------


@router.get("/annotations", response_model=AnnotationPageOut, tags=["annotations"])
def annotation_queue(who: User, db: Db, state: Annotated[AnnotationState, Query(description=(
        "pending (waiting for an approver; the default), effective, rejected, or all"))] = "pending",
        person: PersonFilter = None, limit: Limit = 50, offset: Offset = 0) -> AnnotationPageOut:
    """Annotations, oldest first: by default the queue waiting for an approver (privacy officer,
    under subject access; audited with the persons and records listed)."""
    return services.list_annotations(db, user=who, state=None if state == "all" else state, person=person,
                                     limit=limit, offset=offset, origin="api")


@router.get("/annotations/{annotation_id}", response_model=AnnotationItemOut, tags=["annotations"])
def annotation(annotation_id: CaseId, who: User, db: Db) -> AnnotationItemOut:
    """One annotation with its approvals and rejections and the approvals it still needs."""
    with not_found("annotation", annotation_id):
        return services.show_annotation(db, annotation_id, user=who, origin="api")


@router.post("/annotations", response_model=AnnotationOut, status_code=201, tags=["annotations"])
def request_annotation(body: AnnotationIn, who: User, db: Db) -> AnnotationOut:
    """Request a status-changing annotation on a record: evidence and a reason code; in force
    only after two other users approve it."""
    return services.request_annotation(db, user=who, source=body.source, record_id=body.record_id,
                                       kind=body.kind, reason_code=body.reason_code, evidence=body.evidence,
                                       origin="api")


@router.post("/annotations/{annotation_id}/approvals", response_model=AnnotationOut, tags=["annotations"])
def approve_annotation(annotation_id: CaseId, who: User, db: Db) -> AnnotationOut:
    """Approve an annotation (never the requester; two different approvers make it effective)."""
    with not_found("annotation", annotation_id):
        return services.approve_annotation(db, annotation_id, user=who, origin="api")


@router.post("/annotations/{annotation_id}/rejections", response_model=AnnotationOut, tags=["annotations"])
def reject_annotation(annotation_id: CaseId, body: RejectionIn, who: User, db: Db) -> AnnotationOut:
    """Reject an annotation, with reasons (never the requester); one rejection stops it for good."""
    with not_found("annotation", annotation_id):
        return services.reject_annotation(db, annotation_id, user=who, reasons=body.reasons, origin="api")


# --- findings (552a(p)) -----------------------------------------------------------------------------------


@router.get("/findings", response_model=FindingPageOut, tags=["findings"])
def findings(who: User, db: Db, purpose: Purpose = None, declared_agreement: Agreement = None,
             justification: Justification = None,
             agreement: Annotated[str | None, Query(min_length=1, max_length=128, description=(
                 "the agreement the findings were opened under (default: X-Accord-Agreement)"))] = None,
             state: Annotated[FindingState | None, Query(description="only findings in this state")] = None,
             person: PersonFilter = None, limit: Limit = 50, offset: Offset = 0) -> FindingPageOut:
    """The findings opened under an agreement, oldest first, each with where it stands; read
    under the agreement's purpose by a caseworker of a recipient party, and accounted as a
    disclosure of every person listed."""
    return services.list_findings(db, user=who, agreement=agreement or declared_agreement, purpose=purpose,
                                  state=state, person=person, limit=limit, offset=offset,
                                  justification=justification, origin="api")


@router.post("/findings", response_model=FindingOut, status_code=201, tags=["findings"])
def open_finding(body: FindingIn, who: User, db: Db) -> FindingOut:
    """Open a finding on a match result (the person's records it rests on and what it says);
    nothing is actionable yet."""
    return services.open_finding(db, body.person_id, user=who, agreement=body.agreement,
                                 records=[(r.source, r.record_id) for r in body.records], basis=body.basis,
                                 origin="api")


def _step(db: Any, finding_id: str, who: str, step: str, **kw: Any) -> FindingOut:
    with not_found("finding", finding_id):
        return services.finding_step(db, finding_id, user=who, step=step, origin="api", **kw)


@router.get("/findings/{finding_id}", response_model=FindingOut, tags=["findings"])
def finding(finding_id: CaseId, who: User, db: Db, justification: Justification = None) -> FindingOut:
    """The finding's state and everything still needed before adverse action; read under the
    finding's agreement (a caseworker of a recipient party) and accounted as a disclosure."""
    with not_found("finding", finding_id):
        return services.show_finding(db, finding_id, user=who, justification=justification, origin="api")


@router.post("/findings/{finding_id}/verification", response_model=FindingOut, tags=["findings"])
def verify_finding(finding_id: CaseId, body: FindingVerifyIn, who: User, db: Db) -> FindingOut:
    """Independent verification, by a different user than the opener, with method and evidence."""
    return _step(db, finding_id, who, "verify", method=body.method, evidence=body.evidence)


@router.post("/findings/{finding_id}/notice", response_model=FindingOut, tags=["findings"])
def finding_notice(finding_id: CaseId, body: FindingNoticeIn, who: User, db: Db) -> FindingOut:
    """Record the notice of the findings sent to the person (only after verification)."""
    return _step(db, finding_id, who, "notice", method=body.method, sent_on=body.sent_on)


@router.post("/findings/{finding_id}/contests", response_model=FindingOut, tags=["findings"])
def contest_finding(finding_id: CaseId, body: ContestIn, who: User, db: Db) -> FindingOut:
    """File the person's contest; it blocks action while open."""
    return _step(db, finding_id, who, "contest", contest=body.contest)


@router.post("/findings/{finding_id}/contests/{contest_id}/decision", response_model=FindingOut,
             tags=["findings"])
def decide_contest(finding_id: CaseId, contest_id: Annotated[int, Path(ge=1, le=2**62)],
                   body: ContestDecisionIn, who: User, db: Db) -> FindingOut:
    """Decide a contest: upheld closes the finding; rejected lets the notice period run on."""
    return _step(db, finding_id, who, "decide-contest", contest_id=contest_id, upheld=body.upheld,
                 reasons=body.reasons)


@router.post("/findings/{finding_id}/actionable", response_model=FindingOut, tags=["findings"])
def mark_actionable(finding_id: CaseId, who: User, db: Db) -> FindingOut:
    """Record that adverse action may be taken: refused, listing what is missing, unless the
    finding was independently verified, notice was given, the notice period is over, no contest
    is open or upheld and the agreement is in force."""
    return _step(db, finding_id, who, "actionable")
