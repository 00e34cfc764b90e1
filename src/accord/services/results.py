"""What the services return: typed, frozen results that the CLI prints, the web UI renders and
the HTTP API publishes as they are.

Each shape is declared once, here. A result forbids keys it does not declare, so a column a
stage adds later (or an internal one: sequence hashes, token hashes, raw quarantined values)
never reaches a front end unless it is added to its result on purpose; the API's OpenAPI
description names every field. Their names end in ``Out`` because they are the public shapes
(`accord.api.schemas` adds the request bodies, pages and the few shapes only the API builds).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _as_published(schema: dict[str, Any]) -> None:
    # Keys beyond the fields are refused when a result is made, not promised to API clients.
    schema.pop("additionalProperties", None)


class Result(BaseModel):
    """A service's result: frozen, and no keys beyond the declared fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_as_published)

    def plain(self) -> dict[str, Any]:
        """The result as JSON-ready data (dates as ISO text), as the CLI prints it."""
        return self.model_dump(mode="json")


# --- administration --------------------------------------------------------------------------------------


class AgreementSummaryOut(Result):
    id: str
    version: int
    title: str
    purpose: str
    start: str
    end: str
    state: str
    sources: list[str]


class PartyOut(Result):
    name: str
    role: str
    address: str | None


class RenewalOut(Result):
    start: str
    end: str
    approved_by: str


class AgreementOut(Result):
    id: str
    title: str
    purpose: str
    authority: str
    parties: list[PartyOut]
    sources: list[str]
    data_elements: list[str]
    start: str
    end: str
    approved_by: str
    verification: str
    notice_days: int
    justification: str | None
    expected_results: str | None
    approximate_records: int | None
    notice_to_individuals: str | None
    retention: str | None
    no_redisclosure: bool
    accuracy_assessment: str | None
    renewal: RenewalOut | None
    state: str
    ends_on: str


class AgreementAddedOut(Result):
    id: str
    version: int
    state: str


class GrantOut(Result):
    """One grant of a role to a user."""

    grant_id: str
    user_id: str
    role: str
    state: str = Field(description="pending (a second administrator must approve it), granted, rejected "
                                   "or removed")
    requested_by: str
    requested_at: str
    decided_by: str | None = Field(description="who approved or rejected it; null when granted without a "
                                               "second approver (a role that reads no person data)")
    decided_at: str | None
    note: str | None
    ended_by: str | None = Field(description="who removed the role later")
    ended_at: str | None


class UserOut(Result):
    user_id: str
    name: str
    roles: list[str] = Field(description="the roles in effect")
    organisation: str | None
    active: bool
    pending_grants: list[GrantOut] = Field(description="roles waiting for a second administrator's approval")
    conflicts: list[str] = Field(description="incompatible roles the user holds (from before the rules): "
                                             "remove one")


class TokenInfoOut(Result):
    """A token as listed: its id, never the token."""

    token_id: str
    user_id: str
    issued_at: str
    issued_by: str
    revoked_at: str | None


class TokenRevokedOut(Result):
    user_id: str
    token_id: str
    revoked: bool


class ChainHeadOut(Result):
    seq: int
    hash: str


class AuditHeadOut(ChainHeadOut):
    exported_at: str


class AuditVerificationOut(Result):
    ok: bool
    events: int
    head: ChainHeadOut
    first_bad_event: int | None
    problem: str | None


class AuditEventOut(Result):
    seq: int
    at_utc: str
    user_id: str
    action: str
    purpose: str | None
    agreement: str | None
    justification: str | None
    persons: list[str]
    records: list[list[str]]
    decision: str
    reasons: list[str]
    outcome: str | None
    origin: str | None
    details: dict[str, Any]
    hash: str


class DisclosureOut(Result):
    audit_seq: int
    disclosed_at: str
    person_id: str
    nature: str
    purpose: str | None
    agreement: str | None
    recipient_user: str
    recipient: str | None
    recipient_address: str | None
    law_enforcement: bool
    statement_attached: bool
    retain_until: str


class AgreementDisclosuresOut(Result):
    """The accounting of disclosures of one agreement, counted."""

    agreement: str
    disclosures: int
    persons: int
    law_enforcement: int
    with_statement: int
    purposes: str


class DisclosureSummaryOut(Result):
    """The whole accounting of disclosures counted by agreement."""

    as_of: int | None = Field(description="the newest audit seq counted")
    by_agreement: list[AgreementDisclosuresOut]


# --- data ------------------------------------------------------------------------------------------------


class SourceOut(Result):
    source: str
    system: str
    records: int
    versions: int
    quarantined_last_batch: int
    last_batch: int


class BatchOut(Result):
    batch: int
    source: str
    system: str
    file_name: str
    file_sha256: str
    user_id: str
    finished_at: str
    rows_read: int
    accepted: int
    new_records: int
    new_versions: int
    unchanged: int
    quarantined: int
    flagged: int = Field(description="rows stored or unchanged with at least one flagged identity value "
                         "(counted in accepted or unchanged too)")


class SourceBatchOut(Result):
    """One batch of a source, with the hash of the mapping it was read with."""

    batch: int
    system: str
    file_name: str
    file_sha256: str
    mapping_path: str
    mapping_sha256: str = Field(description="SHA-256 of the mapping text this batch was read with")
    user_id: str
    finished_at: str
    rows_read: int
    accepted: int
    unchanged: int
    quarantined: int
    flagged: int


class SourceDetailOut(Result):
    """A source's registration, the mapping stored with its last batch, and every batch."""

    source: str
    system: str
    format: str
    mapping_sha256: str
    mapping_yaml: str = Field(description="the mapping text of the source's last batch")
    first_batch: int
    last_batch: int
    records: int
    versions: int
    batches: list[SourceBatchOut]


class RetiredSourceOut(Result):
    """A retired source: its registration removed (it held no records); its batches stay."""

    source: str
    system: str
    batches: int


class FieldCheckOut(Result):
    """One mapped field in a mapping's dry run (``record_id``: the record id; ``(row)``: rows
    that cannot be parsed)."""

    field: str
    column: str | None
    values: int = Field(description="sampled rows with a value in the column")
    failed: int = Field(description="sampled rows whose value fails the field's rule")
    rate: float = Field(description="failed rows as a share of the rows sampled")
    outcome: str = Field(description="what ingest does with a failing row: flag, quarantine or unparseable")
    reason: str | None = Field(description="the most common reason a value fails")
    suggested_formats: list[str] = Field(description="for a date field that fails: the formats that "
                                         "read the most of its values (ties all named)")
    suggestion_reads: int = Field(description="how many values the suggested formats read")


class MappingCheckOut(Result):
    """A mapping's dry run on a sample of its extract: no store, nothing stored, no values shown."""

    mapping: str
    file: str
    source: str
    system: str
    system_problem: str | None = Field(description="why ingest would refuse the system, or null")
    format: str
    columns: list[str]
    unused_columns: list[str]
    rows: int = Field(description="rows sampled")
    whole_file: bool
    max_failure_rate: float
    fields: list[FieldCheckOut]
    refused: list[str] = Field(description="fields failing on more than max_failure_rate of the rows")
    ok: bool = Field(description="whether ingest would take the file, as far as the sample shows")


class QuarantineOut(Result):
    """Quarantined rows grouped by reason; raw values are person data and never shown."""

    batch: int
    source: str
    field: str
    reason: str
    rows: int
    example_rows: list[int]


class FlagOut(Result):
    """Flagged identity values of stored records grouped by reason; the values as written are
    person data and never shown (as quarantine's raw values)."""

    batch: int = Field(description="the batch that stored the flagged record version")
    source: str
    field: str = Field(description="the identity field whose value failed its rule (its column is NULL)")
    reason: str
    rows: int
    example_rows: list[int] = Field(description="row numbers in the batch's file, at most five")


class RecordCountsOut(Result):
    current: int
    by_source: dict[str, int]


class SizeBucketOut(Result):
    size: str
    persons: int


class EntityCountsOut(Result):
    persons: int
    records: int
    singletons: int
    largest: int
    mean_records: float
    size_distribution: list[SizeBucketOut]


class ReviewQueueOut(Result):
    links: int
    persons: int


class LinkCountsOut(Result):
    by_status: dict[str, int]
    review_queue: ReviewQueueOut


class SharedIdentifiersOut(Result):
    total: int
    by_kind: dict[str, int]


class ModelLevelOut(Result):
    label: str | None
    m: float | None
    u: float | None
    log2_bayes_factor: float | None


class ModelComparisonOut(Result):
    term_frequency: str | None
    levels: list[ModelLevelOut]


class ModelSummaryOut(Result):
    kind: str | None
    created: str | None
    prior: float | None
    em_iterations: int | None
    pairs_trained: int | None
    comparisons: dict[str, ModelComparisonOut]


class BlockingRuleOut(Result):
    name: str
    comparisons: int | None
    blocks: int | None
    largest_block: int | None
    skipped_blocks: int | None
    skipped_records: int | None


class RunOut(Result):
    run_id: int
    user_id: str
    started_at: str
    finished_at: str
    records: int
    pairs: int
    links: int
    review: int
    entities: int
    rejected_links: int
    id_events: dict[str, int]
    settings: dict[str, Any]
    model: ModelSummaryOut
    blocking: list[BlockingRuleOut]


class QuarantineReasonOut(Result):
    source: str
    field: str
    reason: str
    rows: int


class QuarantineCountsOut(Result):
    rows: int
    by_reason: list[QuarantineReasonOut]


class QualityOut(Result):
    """Linkage quality without a truth file: aggregate counts only."""

    as_of: str
    records: RecordCountsOut
    entities: EntityCountsOut
    links: LinkCountsOut
    shared_identifiers: SharedIdentifiersOut
    latest_run: RunOut | None
    quarantine: QuarantineCountsOut



# --- exports and batch verification ----------------------------------------------------------------------


class ExportOut(Result):
    """An audited export: what was written where, and the audit event that records it."""

    file: str
    format: str
    rows: int
    audit_event: int


class BatchVerifyOut(Result):
    """A batch of verifications answered in one governed read (its audit event counts them)."""

    file: str
    format: str
    queries: int
    verified: int
    additional_verification: int
    invalid: int = 0
    audit_event: int
