"""FastAPI application over the service layer.

Every person-data route needs a bearer token (``accord users token``) and declares its
purpose (``X-Accord-Purpose``) and, where the purpose needs one, its agreement
(``X-Accord-Agreement``); the governance gate decides and audits each request exactly as for
the CLI. Errors are JSON ``{"error": {"code", "message", "reasons"}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from accord import __version__, services
from accord.errors import AccordError, StoreError
from accord.governance.gate import PolicyDenied
from accord.governance.users import actor_for_token
from accord.store import Store
from accord.web import install_ui

MAX_PAGE = 100


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reasons = status, code, message, reasons or []


class VerifyIn(BaseModel):
    """A SAVE-like verification request: name, date of birth and a numeric identifier."""

    name: str = Field(min_length=1, max_length=200)
    dob: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    a_number: str | None = Field(default=None, max_length=12)
    ssn: str | None = Field(default=None, max_length=11)


def current_user(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The user a bearer token belongs to; 401 otherwise (anonymous callers get no data)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> (accord users token)")
    try:
        with Store(request.app.state.db) as store:
            actor = actor_for_token(store, authorization.split(" ", 1)[1].strip())
    except StoreError as e:
        raise ApiError(503, "store_unavailable", str(e)) from None
    if actor is None:
        raise ApiError(401, "unauthenticated", "unknown, revoked or deactivated token")
    return actor.user_id


User = Annotated[str, Depends(current_user)]
Purpose = Annotated[str | None, Header(alias="X-Accord-Purpose")]
Agreement = Annotated[str | None, Header(alias="X-Accord-Agreement")]
Justification = Annotated[str | None, Header(alias="X-Accord-Justification")]


def create_app(db: Path) -> FastAPI:
    app = FastAPI(title="Accord", version=__version__,
                  description="Purpose-bound person data with evidence, confidence and audit.")
    db = Path(db)
    app.state.db = db

    def _error(status: int, code: str, message: str, reasons: list[str] | None = None) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": message, "reasons": reasons or []}},
                            status_code=status)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, e: ApiError) -> JSONResponse:
        return _error(e.status, e.code, e.message, e.reasons)

    @app.exception_handler(PolicyDenied)
    async def _denied(_: Request, e: PolicyDenied) -> JSONResponse:
        return _error(403, "refused", str(e), list(e.reasons))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(AccordError)
    async def _accord_error(_: Request, e: AccordError) -> JSONResponse:
        return _error(400, "bad_request", str(e))

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        """Liveness; no data."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/persons")
    def search(who: User, purpose: Purpose = None, agreement: Agreement = None,
               justification: Justification = None, name: str | None = None, dob: str | None = None,
               ssn: str | None = None, a_number: str | None = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20) -> dict[str, Any]:
        """Person search (name + date of birth, or an identifier), ranked with scores."""
        return services.search(db, user=who, purpose=purpose or "", agreement=agreement, name=name, dob=dob,
                               ssn=ssn, a_number=a_number, limit=limit, justification=justification,
                               origin="api")

    @app.get("/api/persons/{person_id}")
    def person(person_id: str, who: User, purpose: Purpose = None, agreement: Agreement = None,
               justification: Justification = None) -> dict[str, Any]:
        """Person view with status and evidence, as the purpose may see it."""
        result = services.person(db, person_id, user=who, purpose=purpose or "", agreement=agreement,
                                 justification=justification, origin="api")
        if result["person"].get("found") is False:
            raise ApiError(404, "not_found", f"{person_id}: not found in this purpose's view")
        return result

    @app.post("/api/verifications")
    def verify(body: VerifyIn, who: User, purpose: Purpose = None, agreement: Agreement = None,
               justification: Justification = None) -> dict[str, Any]:
        """SAVE-like verification: 'verified: <status>' or 'institute additional verification'."""
        return services.verify(db, user=who, purpose=purpose or "", agreement=agreement, name=body.name,
                               dob=body.dob, a_number=body.a_number, ssn=body.ssn,
                               justification=justification, origin="api")

    @app.get("/api/worklists/{agreement_id}")
    def worklist(agreement_id: str, who: User, justification: Justification = None,
                 limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
                 offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        """The agreement's work list (unverified entries, exclusions counted by reason)."""
        return services.worklist(db, user=who, agreement=agreement_id, limit=limit, offset=offset,
                                 justification=justification, origin="api")

    @app.get("/api/subject-reports/{person_id}")
    def subject_report(person_id: str, who: User) -> dict[str, Any]:
        """Everything held about a person and every disclosure (privacy officer)."""
        return services.subject_report(db, person_id, user=who, origin="api")

    @app.get("/api/agreements")
    def agreements(who: User) -> list[dict[str, Any]]:
        """Matching agreements with their term and state."""
        return services.agreements(db, user=who, origin="api")

    @app.get("/api/audit/verification")
    def audit_verify(who: User) -> dict[str, Any]:
        """Recompute the audit chain (oversight)."""
        return services.audit_verify(db, user=who, origin="api").to_dict()

    @app.get("/api/audit/events")
    def audit_events(who: User, by: str | None = None, action: str | None = None, person: str | None = None,
                     limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> list[dict[str, Any]]:
        """Audit events, newest first, filtered (oversight)."""
        return services.audit_events(db, user=who, filter_user=by, action=action, person=person, limit=limit,
                                     origin="api")

    @app.get("/api/disclosures")
    def disclosures(who: User, person: str | None = None, agreement: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> list[dict[str, Any]]:
        """The accounting of disclosures (privacy officer, oversight)."""
        return services.disclosures(db, user=who, person=person, agreement=agreement, limit=limit,
                                    origin="api")

    @app.get("/api/batches")
    def batches(who: User, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> list[dict[str, Any]]:
        """Ingest batches with their reconciliation (data engineer)."""
        return services.batches(db, limit, user=who, origin="api")

    install_ui(app)
    return app
