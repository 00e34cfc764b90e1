"""Request and public response models of the HTTP API.

Three kinds of schema are kept apart: what the store holds (tables, owned by each stage), what
a service returns and what the API publishes. Where a service returns a typed result
(``accord.services.results``, ``accord.services.people_results``), the API publishes that
result as it is, or the public shape declared beside it (the person-data routes import them
from there; the casework routes from ``accord.services.casework_results``). The models below
are the request bodies, pages, and the shapes that only the API builds. Every route
declares its response model, so a column a service adds later, or an internal one (sequence
numbers, token hashes, raw quarantined values), never reaches a caller unless it is added on
purpose; and the OpenAPI description names every field.

Request models forbid unknown keys: a misspelt field is an error, not silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

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


