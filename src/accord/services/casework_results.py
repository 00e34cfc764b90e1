"""What the casework services return: typed, frozen results (``accord.services.results``'
``Result``) for subject access, disputes, annotations and adverse-action findings, which the
CLI prints, the web UI renders and the HTTP API publishes as they are.

Each shape is declared once, here, as the API publishes it. Where the command line has always
printed a little more than the API publishes — a dispute event's sequence number and dispute
id, a notification's id, the person a notice in the subject-access report concerns — the
result holds a richer item (``DisputeEvent``, ``Notification``, ``NotificationOut``) in a list
of the published shape: the API serialises each item as the declared shape (only its fields),
``plain`` as what it is. ``plain`` also leaves out a field the service left at its default (the
``audit_event`` of an item listed, or of a finding after a step), which the API publishes as
null.

Fields keep the order the command line has always printed them in. Pydantic orders a model's
fields base by base, the base named last first: the small private bases below (``_...Ids``,
``_NoticeKeys``) put a richer item's extra fields where they have always been printed.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import Field

from accord.services.results import Result

T = TypeVar("T")


class CaseResult(Result):
    """A casework result; ``plain`` gives it as the service gave it (see the module's note)."""

    def plain(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, serialize_as_any=True)


class CasePage(CaseResult, Generic[T]):
    """One page of a list: at most ``limit`` items from ``offset``; ``next_offset`` is null on
    the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


# --- subject access --------------------------------------------------------------------------------------


class MatchedDetailOut(CaseResult):
    field: str = Field(description="a detail the request supplied (given_name, family_name, dob, ssn, "
                                   "a_number)")
    level: str = Field(description="how well it agreed: exact, variant or nickname, one digit or "
                                   "transposition, ..., different, missing")


class SubjectCandidateOut(CaseResult):
    person_id: str
    score: float = Field(description="0..1: the points the details earned over the most they could")
    matched_on: list[MatchedDetailOut]


class SubjectSearchOut(CaseResult):
    """The persons a subject-access request's details point to, best first; no record values."""

    candidates: list[SubjectCandidateOut]
    audit_event: int = Field(description="the audit event that recorded this search")


class SubjectRecordProvenanceOut(CaseResult):
    file_name: str | None
    file_sha256: str | None
    ingested_at: str | None
    batch_id: int | None
    row_number: int | None


class SubjectRecordOut(CaseResult):
    source: str
    record_id: str
    version: int
    system: str
    system_title: str | None
    owner: str | None
    sorn: str | None
    regimes: list[str]
    fields: dict[str, Any]
    provenance: SubjectRecordProvenanceOut


class SubjectDisclosureOut(CaseResult):
    audit_seq: int
    disclosed_at: str
    nature: str
    purpose: str | None
    agreement: str | None
    recipient: str | None
    recipient_address: str | None
    records: list[list[str]]
    law_enforcement: bool
    statement_attached: bool
    purpose_title: str | None
    authority: str | None


class StatementOut(CaseResult):
    dispute_id: str
    statement: str
    filed_at: str


class SubjectCountsOut(CaseResult):
    records: int
    versions: int
    disclosures_listed: int


# --- disputes and notifications --------------------------------------------------------------------------


class DisputeEventOut(CaseResult):
    event: str
    on_date: str
    recorded_at: str
    user_id: str
    text: str | None
    appeal_rights: str | None
    batch_id: int | None
    version: int | None


class _DisputeEventIds(CaseResult):
    seq: int
    dispute_id: str


class DisputeEvent(DisputeEventOut, _DisputeEventIds):
    """A dispute event with its sequence number and dispute id (first: the base named last gives
    the first fields), which ``plain`` prints and the API does not publish."""


class DisputeOut(CaseResult):
    dispute_id: str
    person_id: str
    source: str
    record_id: str
    field: str
    claimed_value: str | None
    statement: str
    filed_by: str
    filed_on: str
    acknowledge_by: str = Field(description="10 working days after filing (552a(d)(2)(A))")
    state: str
    acknowledged_on: str | None
    acknowledged_late: bool
    statement_of_disagreement: str | None
    events: list[DisputeEventOut]


class DisputeItemOut(DisputeOut):
    overdue: bool = Field(description="not acknowledged and past acknowledge_by")
    audit_event: int | None = Field(default=None, description="one dispute: the audit event of the read")


class DisputePageOut(CasePage[DisputeItemOut]):
    """A page of disputes, oldest first."""

    audit_event: int = Field(description="the audit event that recorded this read")
    as_of: str = Field(description="the day overdue is judged on")


class SubjectNotificationOut(CaseResult):
    """A (c)(4) notice, as the person sees it (without its id: gaps would betray withheld ones)."""

    dispute_id: str
    kind: str
    recipient: str
    address: str | None
    disclosure_seq: int | None
    record_disclosed: bool | None
    notified_at: str


class _NoticeKeys(CaseResult):
    dispute_id: str
    person_id: str


# A notice and the person it concerns; in the subject-access report the person is printed by
# ``plain`` and not published (the report's list is of SubjectNotificationOut).
class NotificationOut(SubjectNotificationOut, _NoticeKeys):
    pass


class _NotificationId(CaseResult):
    notification_id: int


class Notification(NotificationOut, _NotificationId):
    """A notice with its id (first), which ``plain`` prints and the API does not publish."""


class ResolutionOut(CaseResult):
    dispute: DisputeOut
    batch_id: int | None = Field(description="corrected: the ingest batch holding the new version")
    version: int | None = Field(description="corrected: the record's new version")
    notifications: list[NotificationOut]


# --- annotations -----------------------------------------------------------------------------------------


class ApprovalOut(CaseResult):
    user: str
    at: str


class RejectionOut(CaseResult):
    user: str
    at: str
    reason: str | None


class AnnotationOut(CaseResult):
    annotation_id: str
    source: str
    record_id: str
    person_id: str | None
    kind: str
    reason_code: str
    evidence: str
    note: str | None
    requested_by: str
    requested_at: str
    state: str
    effective: bool
    approvals: list[ApprovalOut]
    rejections: list[RejectionOut]


class AnnotationItemOut(AnnotationOut):
    approvals_needed: int = Field(description="approvals still needed before it is in force (0 once in force "
                                              "or rejected)")
    may_not_approve: list[str] = Field(description="users who may not give the next approval: the requester "
                                                   "and those who already approved")
    audit_event: int | None = Field(default=None, description="one annotation: the audit event of the read")


class AnnotationPageOut(CasePage[AnnotationItemOut]):
    """A page of annotations, oldest first."""

    audit_event: int = Field(description="the audit event that recorded this read")
    state: str | None = Field(description="the state listed (null: all)")


# --- findings (552a(p)) ----------------------------------------------------------------------------------


class ContestOut(CaseResult):
    contest_id: int
    received_on: str
    by: str
    contest: str | None
    decision: str | None


class FindingOut(CaseResult):
    finding_id: str
    person_id: str
    agreement: str
    purpose: str
    records: list[tuple[str, str]]
    basis: str
    opened_by: str
    opened_on: str
    state: str = Field(description="pending | ready | actionable | contested | suspended | closed")
    needs: list[str] = Field(description="what is still missing before adverse action (552a(p))")
    verified_by: list[str]
    notice_on: str | None
    actionable_from: str | None
    contests: list[ContestOut]
    audit_event: int | None = Field(default=None, description="reads: the audit event that recorded it")


class FindingPageOut(CasePage[FindingOut]):
    """A page of the findings of one agreement, oldest first."""

    audit_event: int = Field(description="the audit event that recorded this disclosure")
    agreement: str | None
    purpose: str | None


# --- the subject-access report ---------------------------------------------------------------------------


class SubjectReportOut(CaseResult):
    person_id: str
    generated_on: str
    records: dict[str, list[SubjectRecordOut]]
    disclosures: list[SubjectDisclosureOut]
    disputes: list[DisputeOut]
    statements: list[StatementOut]
    notifications: list[SubjectNotificationOut]
    annotations: list[AnnotationOut]
    findings: list[FindingOut]
    law_enforcement_listed: bool
    notes: list[str]
    audit_seq: int
    counts: SubjectCountsOut
