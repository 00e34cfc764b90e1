"""Administration and oversight: matching agreements, users and tokens, the audit chain and the
accounting of disclosures."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from accord import services
from accord.api.deps import ApiError, Db, Limit, Offset, User, WindowOffset, page, window
from accord.api.routes.common import ERRORS, not_found
from accord.api.schemas import (
    AuditEventPageOut,
    DisclosurePageOut,
    GrantIn,
    GrantRejectionIn,
    GrantsOut,
    Page,
    TokenOut,
    UserIn,
)
from accord.errors import AccordError
from accord.governance.users import token_id
from accord.services.results import (
    AgreementAddedOut,
    AgreementOut,
    AgreementSummaryOut,
    AuditEventOut,
    AuditHeadOut,
    AuditVerificationOut,
    GrantOut,
    TokenInfoOut,
    TokenRevokedOut,
    UserOut,
)
from accord.store.target import StoreTarget

router = APIRouter(prefix="/api", responses=ERRORS)

MAX_AGREEMENT_BYTES = 64 * 1024
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
Filter = Annotated[str | None, Query(max_length=128)]
UserId = Annotated[str, Path(min_length=1, max_length=64)]
GrantId = Annotated[str, Path(pattern=r"^G-[0-9]{6,12}$", description="the grant's id (from the grant list)")]
GrantState = Annotated[Literal["pending", "granted", "rejected", "removed"] | None, Query(
    description="only grants in this state (pending: waiting for a second administrator)")]


# --- agreements -------------------------------------------------------------------------------------------


@router.get("/agreements", response_model=Page[AgreementSummaryOut], tags=["agreements"])
def agreements(who: User, db: Db, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Matching agreements with their term and whether they are in force today."""
    return page(services.agreements(db, user=who, origin="api"), limit, offset)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, tags=["agreements"])
def agreement(agreement_id: Annotated[str, Path(min_length=1, max_length=128)], who: User,
              db: Db) -> AgreementOut:
    """One agreement in full (its newest version)."""
    with not_found("agreement", agreement_id):
        return services.show_agreement(db, agreement_id, user=who, origin="api")


@router.post("/agreements", response_model=AgreementAddedOut, status_code=201, tags=["agreements"],
             openapi_extra={"requestBody": {
                 "required": True,
                 "description": "the agreement document, as YAML (docs/governance.md); the same file "
                                "`accord agreements add` takes",
                 "content": {"application/yaml": {"schema": {"type": "string",
                                                             "maxLength": MAX_AGREEMENT_BYTES}}}}})
async def add_agreement(request: Request, who: User, db: Db) -> AgreementAddedOut:
    """Validate and record a matching agreement (a new version if its id exists; privacy
    officer). Refused, with the rule, when it breaks one (term, renewal, sources, elements,
    floors, redisclosure)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the agreement as YAML (Content-Type: "
                       "application/yaml)")
    body = await request.body()
    if len(body) > MAX_AGREEMENT_BYTES:
        raise ApiError(413, "too_large", f"an agreement document is at most {MAX_AGREEMENT_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "the agreement is not UTF-8 text") from None
    return await run_in_threadpool(_add_agreement, db, text, who)


def _add_agreement(db: StoreTarget, text: str, who: str) -> AgreementAddedOut:
    # The service validates a file (as `accord agreements add` does); the upload is written to a
    # private temporary folder for it, and its path is kept out of what the caller sees.
    with tempfile.TemporaryDirectory(prefix="accord-agreement-") as folder:
        path = FilePath(folder) / "agreement.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return services.add_agreement(db, path, user=who, origin="api")
        except AccordError as e:
            e.args = (str(e).replace(str(path), "agreement"),)
            raise


# --- users ------------------------------------------------------------------------------------------------


@router.get("/users", response_model=Page[UserOut], tags=["users"])
def users(who: User, db: Db, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Users with their roles and organisation (admin)."""
    return page(services.list_users(db, user=who, origin="api"), limit, offset)


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def add_user(body: UserIn, who: User, db: Db) -> UserOut:
    """Register a user with one or more roles (admin). A role that reads person data (and
    oversight) waits in ``pending_grants`` until another administrator approves it; the others
    take effect at once. Incompatible roles are refused (400, naming both and the rule)."""
    return services.add_user(db, body.user_id, body.name, body.roles, body.organisation, user=who,
                             origin="api")


@router.get("/users/grants", response_model=Page[GrantOut], tags=["users"])
def grants(who: User, db: Db, state: GrantState = None,
           user: Annotated[str | None, Query(max_length=64, description="only grants for this user")] = None,
           limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Role grants, oldest first, by state and user (admin): ``state=pending`` lists those
    waiting for a second administrator."""
    return page(services.list_grants(db, user=who, state=state, user_id=user, origin="api"), limit, offset)


@router.post("/users/{user_id}/grants", response_model=GrantsOut, status_code=201, tags=["users"])
def grant_roles(user_id: UserId, body: GrantIn, who: User, db: Db) -> dict[str, Any]:
    """Ask for more roles for a user (admin): as when adding a user, a role that reads person
    data waits for a second administrator; incompatible roles are refused."""
    with not_found("user", user_id):
        return {"user_id": user_id, "grants": services.grant_roles(db, user_id, body.roles, user=who,
                                                                   origin="api")}


@router.post("/users/{user_id}/grants/{grant_id}/approval", response_model=GrantOut, tags=["users"])
def approve_grant(user_id: UserId, grant_id: GrantId, who: User, db: Db) -> GrantOut:
    """Approve a pending grant as the second administrator (not the one who asked for it, not
    the user it is for): the role takes effect."""
    with not_found("grant", grant_id):
        return services.approve_grant(db, grant_id, user=who, user_id=user_id, origin="api")


@router.post("/users/{user_id}/grants/{grant_id}/rejection", response_model=GrantOut, tags=["users"])
def reject_grant(user_id: UserId, grant_id: GrantId, body: GrantRejectionIn, who: User,
                 db: Db) -> GrantOut:
    """Reject a pending grant, with the reason (admin; the administrator who asked may withdraw it)."""
    with not_found("grant", grant_id):
        return services.reject_grant(db, grant_id, body.reason, user=who, user_id=user_id, origin="api")


@router.post("/users/{user_id}/roles/{role}/removal", response_model=UserOut, tags=["users"])
def remove_role(user_id: UserId, role: Annotated[str, Path(min_length=1, max_length=64)], who: User,
                db: Db) -> UserOut:
    """Take a role away from a user (admin; at once): how a user holding incompatible roles
    from before the rules is put right."""
    with not_found("user", user_id):
        return services.remove_role(db, user_id, role, user=who, origin="api")


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201, tags=["users"])
def issue_token(user_id: UserId, who: User, db: Db) -> dict[str, Any]:
    """Issue an API bearer token for a user (admin). Shown once; the store keeps its hash."""
    with not_found("user", user_id):
        token = services.issue_token(db, user_id, user=who, origin="api")
    return {"user_id": user_id, "token": token, "token_id": token_id(token)}


@router.get("/users/{user_id}/tokens", response_model=Page[TokenInfoOut], tags=["users"])
def tokens(user_id: UserId, who: User, db: Db, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """A user's tokens by id, newest first, with whether each is revoked (admin); never the tokens."""
    with not_found("user", user_id):
        return page(services.list_tokens(db, user_id, user=who, origin="api"), limit, offset)


@router.post("/users/{user_id}/tokens/{token_id}/revocation", response_model=TokenRevokedOut,
             tags=["users"])
def revoke_token(user_id: UserId, token_id: Annotated[str, Path(
                     pattern=r"^[0-9a-f]{12,64}$", description="the token's id (from the token list)")],
                 who: User, db: Db) -> TokenRevokedOut:
    """Revoke a token (admin): it stops authenticating at once and the web sessions signed in
    with it end."""
    with not_found("user", user_id), not_found("token", token_id):
        return services.revoke_token(db, user_id, token_id, user=who, origin="api")


@router.post("/users/{user_id}/deactivation", response_model=UserOut, tags=["users"])
def deactivate_user(user_id: UserId, who: User, db: Db) -> UserOut:
    """Deactivate a user (admin; not oneself): none of their tokens authenticates any more and
    their web sessions end. Their audit history stays."""
    with not_found("user", user_id):
        return services.deactivate_user(db, user_id, user=who, origin="api")


# --- audit and accounting ---------------------------------------------------------------------------------


@router.get("/audit/head", response_model=AuditHeadOut, tags=["audit"])
def audit_head(who: User, db: Db) -> AuditHeadOut:
    """The chain head (seq, hash), to keep outside the store and check later."""
    return services.audit_head(db, user=who, origin="api")


@router.get("/audit/verification", response_model=AuditVerificationOut, tags=["audit"])
def audit_verify(who: User, db: Db,
                 head_seq: Annotated[int | None, Query(ge=0, le=2**62, description=(
                     "an exported head's seq that must still be in the chain (with head_hash)"))] = None,
                 head_hash: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None) -> dict[str, Any]:
    """Recompute the hash chain (oversight): ``ok`` false names the first bad event."""
    if (head_seq is None) != (head_hash is None):
        raise ApiError(422, "invalid_request", "give both head_seq and head_hash, or neither")
    if head_seq is None:
        return services.audit_verify(db, user=who, origin="api").to_dict()
    with tempfile.TemporaryDirectory(prefix="accord-head-") as folder:
        anchor = FilePath(folder) / "head.json"
        anchor.write_text(json.dumps({"seq": head_seq, "hash": head_hash}), encoding="utf-8")
        return services.audit_verify(db, user=who, anchor=anchor, origin="api").to_dict()


@router.get("/audit/events", response_model=AuditEventPageOut, tags=["audit"])
def audit_events(who: User, db: Db, by: Filter = None,
                 action: Annotated[str | None, Query(max_length=128, description="* is a wildcard")] = None,
                 person: Filter = None,
                 before: Annotated[int | None, Query(ge=1, le=2**62, description=(
                     "only events older than this seq: page with before=<next_before of the previous "
                     "page> (browsing is itself audited, so offsets shift between calls)"))] = None,
                 limit: Limit = 50, offset: WindowOffset = 0) -> dict[str, Any]:
    """Audit events, newest first, filtered by user, action or person (oversight); pages back
    through the whole log with ``before``."""
    def fetch(n: int) -> list[AuditEventOut]:
        return services.audit_events(db, user=who, filter_user=by, action=action, person=person, limit=n,
                                     before=before, origin="api")

    result = window(fetch, limit, offset)
    items = result["items"]
    return result | {"next_before": items[-1].seq if items and result["next_offset"] is not None else None}


@router.get("/disclosures", response_model=DisclosurePageOut, tags=["audit"])
def disclosures(who: User, db: Db, person: Filter = None, agreement: Filter = None,
                as_of: Annotated[int | None, Query(ge=1, le=2**62, description=(
                    "only disclosures up to this audit seq: pass back the first page's as_of"))] = None,
                limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """The accounting of disclosures (552a(c)), newest first (privacy officer, oversight), paged
    through all of it."""
    rows = services.disclosures(db, user=who, person=person, agreement=agreement, limit=limit + 1,
                                offset=offset, as_of=as_of, origin="api")
    more = len(rows) > limit
    pinned = as_of if as_of is not None else (rows[0].audit_seq if rows and offset == 0 else None)
    return {"items": rows[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None, "as_of": pinned}
