"""What the person-data services return: typed, frozen results (``accord.services.results``'
``Result``) for search, the person view, status, match explanation, verification, work lists,
tax requests, evaluation, the demo's governed reads and the web session.

Where the API publishes a result as it is (search, verification, tax requests), the result is
the public shape. Where the service says more than the API shows (whether the person was found
in the purpose's view, the not-found message, the work list's page figures the API adds), the
public shape is its own model here (``PersonViewOut``, ``PersonStatusOut``, ``ExplanationOut``,
``WorklistOut``), made from the result with :func:`public`: only the fields it declares are
read, so nothing beyond them reaches an API caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from accord.services.results import AuditVerificationOut, Result

P = TypeVar("P", bound=BaseModel)


def public(shape: type[P], result: BaseModel, **extra: Any) -> P:
    """``shape`` (a public model) made from ``result``: only the fields ``shape`` declares are
    read (nested results too), plus ``extra``."""
    return shape.model_validate({**{k: getattr(result, k) for k in shape.model_fields if k not in extra},
                                 **extra}, from_attributes=True)


class RecordRef(Result):
    source: str
    record_id: str


# --- search ----------------------------------------------------------------------------------------------


class MatchedOn(Result):
    field: str
    level: str
    points: float


class PersonSummaryOut(Result):
    name: str | None
    dob: str | None
    sources: list[str]
    records: list[RecordRef]


class SearchHitOut(Result):
    person_id: str
    score: float
    matched_on: list[MatchedOn]
    summary: PersonSummaryOut
    regimes: list[str]


class SearchOut(Result):
    hits: list[SearchHitOut]
    audit_event: int = Field(description="the audit event that recorded this disclosure")


# --- person view -----------------------------------------------------------------------------------------


class ProvenanceOut(Result):
    source: str
    record_id: str
    version: int
    system: str
    file_name: str | None
    file_sha256: str | None
    ingested_at: str | None
    batch_id: int
    row_number: int


class RecordViewOut(Result):
    provenance: ProvenanceOut
    regimes: list[str]
    date: str | None
    date_field: str | None
    fields: dict[str, Any] = Field(description="every canonical field; null when empty or masked")
    masked: list[str] = Field(description="fields this purpose may not see for the record's system")


class SourceGroupOut(Result):
    source: str
    system: str
    records: list[RecordViewOut]


class AttributeSourceOut(Result):
    source: str
    record_id: str
    version: int
    value: Any
    date: str | None
    date_field: str | None


class AttributeValueOut(Result):
    value: Any
    normalised: str | None
    sources: list[AttributeSourceOut]


class AttributeOut(Result):
    field: str
    kind: str
    single_valued: bool
    conflict: bool
    values: list[AttributeValueOut]


class LinkOut(Result):
    source_l: str
    record_id_l: str
    source_r: str
    record_id_r: str
    match_probability: float
    match_weight: float
    status: str


class HistoryEventOut(Result):
    run_id: int
    event_at: str
    event: str
    entity_id: str
    related_ids: list[str]
    reason: str


class PersonOut(Result):
    person_id: str
    regimes: list[str]
    marks: list[str]
    sources: list[SourceGroupOut]
    attributes: list[AttributeOut]
    links: list[LinkOut]
    history: list[HistoryEventOut]
    conflicts: list[str]


class PersonFound(Result):
    """A person found in the purpose's view (``PersonOut`` and ``found``)."""

    person_id: str
    regimes: list[str]
    marks: list[str]
    sources: list[SourceGroupOut]
    attributes: list[AttributeOut]
    links: list[LinkOut]
    history: list[HistoryEventOut]
    found: bool = True
    conflicts: list[str]


class PersonNotFound(Result):
    """No record of the id is visible in the purpose's view (whether or not the id exists)."""

    person_id: str
    message: str
    found: bool = False


# --- status ----------------------------------------------------------------------------------------------


class EvidenceOut(Result):
    rule: str
    source: str
    record_id: str
    field: str
    value: Any
    date: dt.date | str | None
    note: str
    link_confidence: float | None = None


class DeathOut(Result):
    state: str
    date: dt.date | str | None
    records: list[list[str]]
    contradicted_by: list[list[Any]]
    reasons: list[str]


class StatusOut(Result):
    person_id: str
    status: str
    confidence: float
    evidence: list[EvidenceOut]
    needs_review: list[str]
    death: DeathOut
    eligible: bool | None
    exclusion: str | None
    reason: str | None
    records: list[RecordRef]


class PersonResult(Result):
    """``services.person``: the person (or that it is not found) and the status."""

    person: PersonFound | PersonNotFound
    status: StatusOut | None
    statements_of_disagreement: list[str]
    audit_event: int

    @property
    def found(self) -> bool:
        return self.person.found

    @property
    def found_person(self) -> PersonFound | None:
        """The person, when found in the purpose's view."""
        return self.person if isinstance(self.person, PersonFound) else None


class PersonViewOut(Result):
    person: PersonOut
    status: StatusOut | None
    statements_of_disagreement: list[str]
    audit_event: int


class StatusResult(Result):
    """``services.status``: the status alone (``not_found_in_scope`` when not found)."""

    person_id: str
    found: bool
    status: StatusOut
    statements_of_disagreement: list[str]
    audit_event: int


class PersonStatusOut(Result):
    person_id: str
    status: StatusOut | None
    statements_of_disagreement: list[str]
    audit_event: int


# --- explanation -----------------------------------------------------------------------------------------


class StepOut(Result):
    comparison: str
    level: str
    log2_bayes_factor: float


class LinkExplanationOut(Result):
    a: tuple[str, str]
    b: tuple[str, str]
    status: str
    match_weight: float
    match_probability: float
    prior_weight: float
    contributions: list[StepOut]


class ExplanationResult(Result):
    """``services.explain``: ``found`` false (and a message) when the person is not in view."""

    person_id: str
    found: bool
    message: str | None
    links: list[LinkExplanationOut]
    more_links: int
    path: list[LinkExplanationOut] | None
    path_note: str | None
    audit_event: int


class ExplanationOut(Result):
    person_id: str
    links: list[LinkExplanationOut]
    more_links: int
    path: list[LinkExplanationOut] | None
    path_note: str | None
    audit_event: int


# --- verification, tax requests --------------------------------------------------------------------------


class VerifyOut(Result):
    answer: str = Field(description="'verified: <status>' or 'institute additional verification'")
    result: str
    status: str | None
    reason: str | None
    audit_event: int


class TaxReleaseOut(Result):
    released: bool
    message: str
    fields: dict[str, Any]
    audit_event: int


# --- work lists ------------------------------------------------------------------------------------------


class WorklistEntryOut(Result):
    person_id: str
    name: str | None
    dob: str | None
    a_number: str | None
    status: str
    order_date: str | None
    link_confidence: float
    evidence: list[EvidenceOut]
    records: list[RecordRef]
    verification: str


class WorklistResult(Result):
    """``services.worklist``: one page of entries; exclusions counted over the whole list."""

    agreement: str
    purpose: str
    as_of: str
    candidates: int
    entries: list[WorklistEntryOut]
    excluded: dict[str, int]
    audit_event: int

    @property
    def eligible(self) -> int:
        """Persons on the whole list (candidates less exclusions)."""
        return self.candidates - sum(self.excluded.values())


class WorklistOut(Result):
    agreement: str
    purpose: str
    as_of: str
    candidates: int
    eligible: int = Field(description="persons on the whole list (candidates less exclusions)")
    entries: list[WorklistEntryOut]
    excluded: dict[str, int]
    limit: int
    offset: int
    next_offset: int | None
    audit_event: int


# --- evaluation and the demo's governed reads ------------------------------------------------------------


class EvaluationOut(Result):
    """Linkage quality against a truth file; the harm figures only when asked for (their keys
    are absent otherwise, in ``plain``)."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    records: int
    entities: int
    true_persons: int
    entities_mixing_persons: int
    persons_split: int
    truth_records_not_in_store: int
    store_records_not_in_truth: int
    worklist_agreement: str | None = None
    worklist_listed: int | None = None
    worklist_candidates: int | None = None
    worklist_excluded: dict[str, int] | None = None
    wrongly_listed_persons: int | None = None
    wrongly_listed_by_true_status: dict[str, int] | None = None
    citizens_listed: int | None = None
    final_orders_with_court_record: int | None = None
    final_orders_found: int | None = None
    final_orders_missed: int | None = None
    final_order_recall: float | None = None

    def plain(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class VerificationQuery(Result):
    name: str
    dob: str
    a_number: str


class ShownVerification(Result):
    query: VerificationQuery
    answer: VerifyOut


class ShownRefusal(Result):
    user: str
    request: str
    reasons: list[str]


class ShowcaseOut(Result):
    """The demo's governed reads; a part that did not happen is null."""

    worklist: WorklistResult
    person: PersonResult | None = None
    verification: ShownVerification | None = None
    refused: ShownRefusal | None = None
    audit: AuditVerificationOut


# --- web sessions ----------------------------------------------------------------------------------------


class SessionUser(Result):
    user_id: str
    name: str
    roles: list[str]
    organisation: str | None


class SessionState(Result):
    """``services.current_session``: while the session is open, its user, form token and times;
    once ended, ``user`` is null and ``ended`` says why (null: unknown or ended earlier)."""

    user: SessionUser | None
    csrf_token: str | None = None
    session: str | None = None
    started_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    ended: str | None
