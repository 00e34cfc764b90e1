"""Person data, always under a declared purpose: search, person view, status with evidence,
match explanation, verification, work lists and per-person tax requests.

Each route hands the caller's declaration (purpose, agreement, justification headers) to the
service; the service's gate decides, reads through a scope and records the disclosure.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from accord import services
from accord.api.deps import Agreement, ApiError, Db, Justification, Limit, Offset, Purpose, User
from accord.api.routes.common import ERRORS
from accord.api.schemas import TaxRequestIn, VerifyIn
from accord.services.people_results import (
    ExplanationOut,
    PersonStatusOut,
    PersonViewOut,
    SearchOut,
    TaxReleaseOut,
    VerifyOut,
    WorklistOut,
    public,
)

router = APIRouter(prefix="/api", tags=["people"], responses=ERRORS)

PersonId = Annotated[str, Path(min_length=1, max_length=64, description="a person id (P000000001)")]
AgreementId = Annotated[str, Path(min_length=1, max_length=128)]
QueryText = Annotated[str | None, Query(max_length=200)]
RecordKey = Annotated[str | None, Query(max_length=300, description="SOURCE:RECORD_ID")]


def _person(db: Any, person_id: str, who: str, purpose: str | None, agreement: str | None,
            justification: str | None) -> PersonViewOut:
    result = services.person(db, person_id, user=who, purpose=purpose or "", agreement=agreement,
                             justification=justification, origin="api")
    if not result.found:
        raise ApiError(404, "not_found", f"{person_id}: not found in this purpose's view")
    return public(PersonViewOut, result)


@router.get("/persons", response_model=SearchOut)
def search(who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
           justification: Justification = None, name: QueryText = None,
           dob: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
           ssn: Annotated[str | None, Query(max_length=11)] = None,
           a_number: Annotated[str | None, Query(max_length=12)] = None,
           tin: Annotated[str | None, Query(max_length=11)] = None,
           limit: Limit = 20) -> SearchOut:
    """Person search (name and date of birth, or an identifier), best first with scores. Ranked
    results are not paged past ``limit``: the accounting records exactly what was returned."""
    return services.search(db, user=who, purpose=purpose or "", agreement=agreement, name=name, dob=dob,
                           ssn=ssn, a_number=a_number, tin=tin, limit=limit, justification=justification,
                           origin="api")


@router.get("/persons/{person_id}", response_model=PersonViewOut)
def person(person_id: PersonId, who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
           justification: Justification = None) -> PersonViewOut:
    """Person view: records by source with provenance, attributes and conflicts, links, history,
    and the status with its evidence, as the purpose may see them."""
    return _person(db, person_id, who, purpose, agreement, justification)


@router.get("/persons/{person_id}/status", response_model=PersonStatusOut)
def status(person_id: PersonId, who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
           justification: Justification = None) -> PersonStatusOut:
    """The person's status with its evidence chain and confidence. The accounting of the
    disclosure names the evidence records, the only records this answer shows."""
    result = services.status(db, person_id, user=who, purpose=purpose or "", agreement=agreement,
                             justification=justification, origin="api")
    if not result.found:
        raise ApiError(404, "not_found", f"{person_id}: not found in this purpose's view")
    return public(PersonStatusOut, result)


@router.get("/persons/{person_id}/explanation", response_model=ExplanationOut)
def explain(person_id: PersonId, who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
            justification: Justification = None, a: RecordKey = None, b: RecordKey = None,
            limit: Annotated[int, Query(ge=1, le=50, description="links, strongest first (1-50)")] = 20,
            ) -> ExplanationOut:
    """Why the person's records are linked: each link's match-weight contributions and, for two
    records ``a`` and ``b`` (SOURCE:RECORD_ID), the path of links between them."""
    result = services.explain(db, person_id, user=who, purpose=purpose or "", agreement=agreement, a=a, b=b,
                              limit=limit, justification=justification, origin="api")
    if not result.found:
        raise ApiError(404, "not_found", f"{person_id}: not found in this purpose's view")
    return public(ExplanationOut, result)


@router.post("/verifications", response_model=VerifyOut)
def verify(body: VerifyIn, who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
           justification: Justification = None) -> VerifyOut:
    """SAVE-like verification: 'verified: <status>' or 'institute additional verification' (an
    automated no-match is never a finding)."""
    return services.verify(db, user=who, purpose=purpose or "", agreement=agreement, name=body.name,
                           dob=body.dob, a_number=body.a_number, ssn=body.ssn,
                           justification=justification, origin="api")


@router.get("/worklists/{agreement_id}", response_model=WorklistOut)
def worklist(agreement_id: AgreementId, who: User, db: Db, justification: Justification = None,
             limit: Limit = 50, offset: Offset = 0) -> WorklistOut:
    """The agreement's work list: eligible persons with evidence (unverified), exclusions counted
    by reason. The agreement names the purpose."""
    result = services.worklist(db, user=who, agreement=agreement_id, limit=limit, offset=offset,
                               justification=justification, origin="api")
    eligible = result.eligible
    return public(WorklistOut, result, eligible=eligible, limit=limit, offset=offset,
                  next_offset=offset + limit if offset + limit < eligible else None)


@router.post("/tax-requests", response_model=TaxReleaseOut)
def tax_request(body: TaxRequestIn, who: User, db: Db, purpose: Purpose = None, agreement: Agreement = None,
                justification: Justification = None) -> TaxReleaseOut:
    """A per-person request for tax return information (26 U.S.C. 6103(i)(2)): the allowed
    fields are released only when name, TIN and address all match one record."""
    return services.tax_request(db, user=who, purpose=purpose or "", agreement=agreement,
                                full_name=body.full_name, tin=body.tin, address=body.address,
                                taxable_periods=body.taxable_periods,
                                statutory_authority=body.statutory_authority, reason=body.reason,
                                justification=justification, origin="api")
