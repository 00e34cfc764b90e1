"""Request and public response models of the HTTP API.

Three kinds of schema are kept apart: what the store holds (tables, owned by each stage), what
a service returns and what the API publishes. Where a service returns a typed result
(``accord.services.results``, ``accord.services.people_results``), the API publishes that
result as it is, or the public shape declared beside it (the person-data routes import them
from there). The models below are the request bodies, pages, and the
shapes that only the API builds or that services still return as plain data. Every route
declares its response model, so a column a service adds later, or an internal one (sequence
numbers, token hashes, raw quarantined values), never reaches a caller unless it is added on
purpose; and the OpenAPI description names every field.

Request models forbid unknown keys: a misspelt field is an error, not silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from accord.services.results import AuditEventOut, DisclosureOut, GrantOut

T = TypeVar("T")

MAX_PAGE = 100
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
DateText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]


class In(BaseModel):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A public response: keys a service returns beyond the declared fields are dropped."""

    model_config = ConfigDict(extra="ignore")


# --- shared ----------------------------------------------------------------------------------------------


class ErrorBody(Out):
    code: str = Field(description="stable machine-readable code, e.g. unauthenticated, refused, not_found")
    message: str
    reasons: list[str] = Field(description="for refusals: the gate's reasons, in words a person can read")


class ErrorOut(Out):
    error: ErrorBody


class Page(Out, Generic[T]):
    """One page of a list: at most ``limit`` items from ``offset``; ``next_offset`` is null on
    the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class RecordsIn(In):
    """Rows of one source, as its extract's columns: ingested through the source's stored
    mapping and resolved at once (``POST /api/records``)."""

    source: str = Field(min_length=1, max_length=128, description="a source already registered")
    rows: list[dict[str, str | int | float | None]] = Field(
        min_length=1, max_length=10_000,
        description="each row: the source's extract columns (as its mapping names them) to values")


class RecordRefIn(In):
    source: Id
    record_id: Id


class HealthOut(Out):
    status: str
    version: str


# --- people ----------------------------------------------------------------------------------------------


class VerifyIn(In):
    """A SAVE-like verification request: name, date of birth and a numeric identifier."""

    name: str = Field(min_length=1, max_length=200)
    dob: DateText
    a_number: str | None = Field(default=None, max_length=12)
    ssn: str | None = Field(default=None, max_length=11)


class TaxRequestIn(In):
    """A per-person request under 26 U.S.C. 6103(i)(2): released only if name, TIN and address
    all match one record."""

    full_name: str = Field(min_length=1, max_length=200)
    tin: str = Field(min_length=9, max_length=11)
    address: str = Field(min_length=1, max_length=300, description="street, city, ST zip")
    taxable_periods: str = Field(min_length=1, max_length=200)
    statutory_authority: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


# --- casework --------------------------------------------------------------------------------------------


class SubjectRecordProvenanceOut(Out):
    file_name: str | None
    file_sha256: str | None
    ingested_at: str | None
    batch_id: int | None
    row_number: int | None


class SubjectRecordOut(Out):
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


class SubjectDisclosureOut(Out):
    audit_seq: int
    disclosed_at: str
    nature: str
    purpose: str | None
    purpose_title: str | None
    authority: str | None
    agreement: str | None
    recipient: str | None
    recipient_address: str | None
    records: list[list[str]]
    law_enforcement: bool
    statement_attached: bool


class DisputeEventOut(Out):
    event: str
    on_date: str
    recorded_at: str
    user_id: str
    text: str | None
    appeal_rights: str | None
    batch_id: int | None
    version: int | None


class DisputeOut(Out):
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


class DisputePageOut(Page[DisputeItemOut]):
    """A page of disputes, oldest first."""

    as_of: str = Field(description="the day overdue is judged on")
    audit_event: int = Field(description="the audit event that recorded this read")


class StatementOut(Out):
    dispute_id: str
    statement: str
    filed_at: str


class SubjectNotificationOut(Out):
    """A (c)(4) notice, as the person sees it (without its id: gaps would betray withheld ones)."""

    dispute_id: str
    kind: str
    recipient: str
    address: str | None
    disclosure_seq: int | None
    record_disclosed: bool | None
    notified_at: str


class NotificationOut(SubjectNotificationOut):
    person_id: str


class ApprovalOut(Out):
    user: str
    at: str


class RejectionOut(Out):
    user: str
    at: str
    reason: str | None


class AnnotationOut(Out):
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


class AnnotationPageOut(Page[AnnotationItemOut]):
    """A page of annotations, oldest first."""

    state: str | None = Field(description="the state listed (null: all)")
    audit_event: int = Field(description="the audit event that recorded this read")


class ContestOut(Out):
    contest_id: int
    received_on: str
    by: str
    contest: str | None
    decision: str | None


class FindingOut(Out):
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


class FindingPageOut(Page[FindingOut]):
    """A page of the findings of one agreement, oldest first."""

    agreement: str | None
    purpose: str | None
    audit_event: int = Field(description="the audit event that recorded this disclosure")


class SubjectCountsOut(Out):
    records: int
    versions: int
    disclosures_listed: int


class SubjectReportOut(Out):
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
    counts: SubjectCountsOut
    audit_seq: int


class MatchedDetailOut(Out):
    field: str = Field(description="a detail the request supplied (given_name, family_name, dob, ssn, "
                                   "a_number)")
    level: str = Field(description="how well it agreed: exact, variant or nickname, one digit or "
                                   "transposition, ..., different, missing")


class SubjectCandidateOut(Out):
    person_id: str
    score: float = Field(description="0..1: the points the details earned over the most they could")
    matched_on: list[MatchedDetailOut]


class SubjectSearchOut(Out):
    """The persons a subject-access request's details point to, best first; no record values."""

    candidates: list[SubjectCandidateOut]
    audit_event: int = Field(description="the audit event that recorded this search")


class DisputeIn(In):
    person_id: Id
    source: Id
    record_id: Id
    field: str = Field(min_length=1, max_length=64)
    claimed_value: str | None = Field(default=None, max_length=500,
                                      description="the value the person says is right; null: empty")
    statement: Text


class DenialIn(In):
    reasons: Text


class StatementIn(In):
    statement: Text


class ResolutionOut(Out):
    dispute: DisputeOut
    batch_id: int | None = Field(description="corrected: the ingest batch holding the new version")
    version: int | None = Field(description="corrected: the record's new version")
    notifications: list[NotificationOut]


class AnnotationIn(In):
    source: Id
    record_id: Id
    kind: str = Field(min_length=1, max_length=64)
    reason_code: str = Field(min_length=1, max_length=64)
    evidence: Text


class RejectionIn(In):
    reasons: Text


class FindingIn(In):
    person_id: Id
    agreement: Id
    records: list[RecordRefIn] = Field(min_length=1, max_length=50)
    basis: Text


class FindingVerifyIn(In):
    method: str = Field(min_length=1, max_length=500)
    evidence: Text


class FindingNoticeIn(In):
    method: str = Field(min_length=1, max_length=500)
    sent_on: dt.date | None = Field(default=None, description="default: today")


class ContestIn(In):
    contest: Text


class ContestDecisionIn(In):
    upheld: bool
    reasons: Text


# --- administration --------------------------------------------------------------------------------------


class UserIn(In):
    user_id: str = Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=10)
    organisation: str | None = Field(default=None, max_length=200)


class GrantsOut(Out):
    """The grants one request made: each pending a second administrator or granted at once."""

    user_id: str
    grants: list[GrantOut]


class GrantIn(In):
    roles: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=10)


class GrantRejectionIn(In):
    reason: Text


class TokenOut(Out):
    user_id: str
    token: str = Field(description="shown once; the store keeps only its SHA-256")
    token_id: str = Field(description="the token's public id (the start of its SHA-256), to revoke it by")


class AuditEventPageOut(Page[AuditEventOut]):
    next_before: int | None = Field(description="the seq to pass as before for the next (older) page")


class DisclosurePageOut(Page[DisclosureOut]):
    as_of: int | None = Field(description="the newest audit seq listed: pass it back with the next "
                                          "offset so new disclosures do not shift the pages")


# --- data ------------------------------------------------------------------------------------------------


