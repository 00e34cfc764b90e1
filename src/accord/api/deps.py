"""What every route shares: who is calling (bearer token), the declared purpose, agreement and
justification headers, pages, and the API's error type.

The API decides nothing about policy: it authenticates the caller (``services.authenticate``)
and hands the declaration to the service, whose gate decides and audits.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from accord import services
from accord.api.schemas import MAX_PAGE
from accord.errors import StoreError
from accord.services.context import kept, reuse
from accord.store.target import StoreTarget

T = TypeVar("T")
log = logging.getLogger("accord.api")
STORE_UNAVAILABLE = "the store cannot be opened; the operator can see why in the server log"

# The services that browse a window (audit events, disclosures) read at most this many rows.
MAX_WINDOW = 1000
MAX_OFFSET = MAX_WINDOW - MAX_PAGE - 1


class ApiError(Exception):
    """An error the API answers itself (before or after a service), with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reasons = status, code, message, reasons or []


async def store_path(request: Request) -> StoreTarget:
    """The store the app serves (async: nothing to wait for, so no worker thread is taken)."""
    db: StoreTarget = request.app.state.db
    return db


bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="an API token from `accord users token ID` (or POST /api/users/{id}/tokens)")


# Where the app's first middleware leaves the user it authenticated (before the body is read).
AUTHENTICATED = "accord_user"


async def current_user(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The user a bearer token belongs to; 401 otherwise (anonymous callers get no data).

    The app checks the token of every route that needs one before the request's body is read
    (``accord.api.app.AuthenticateFirst``) and leaves the user here; this dependency reads it,
    or checks the token itself when called otherwise."""
    found = request.scope.get("state", {}).get(AUTHENTICATED)
    if isinstance(found, str):
        return found
    return await user_for_token(await store_path(request),
                                credentials.credentials if credentials is not None else None)


async def user_for_token(db: StoreTarget, token: str | None) -> str:
    """The user a bearer token belongs to, or ApiError 401 (503 when the store cannot be read).

    Kept until the store's data changes (revoking a token or deactivating a user does): a
    kept answer costs no worker thread; looking one up runs on a worker thread."""
    token = (token or "").strip()
    if not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> (accord users token)")
    key = ("token", hashlib.sha256(token.encode()).hexdigest())
    try:
        user: str | None = kept(db, key)
        if user is None:
            user = await run_in_threadpool(reuse, db, key, lambda: services.authenticate(db, token))
    except StoreError as e:
        log.error("store unavailable: %s", e)
        raise ApiError(503, "store_unavailable", STORE_UNAVAILABLE) from None
    if user is None:
        raise ApiError(401, "unauthenticated", "unknown, revoked or deactivated token")
    return user


Db = Annotated[StoreTarget, Depends(store_path)]
User = Annotated[str, Depends(current_user)]
Purpose = Annotated[str | None, Header(
    alias="X-Accord-Purpose", max_length=100,
    description="the declared purpose of a person-data request (registry/purposes.yaml)")]
Agreement = Annotated[str | None, Header(
    alias="X-Accord-Agreement", max_length=128,
    description="the matching agreement the purpose runs under, where it needs one")]
Justification = Annotated[str | None, Header(
    alias="X-Accord-Justification", max_length=500,
    description="why this read is needed (recorded in the audit event)")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size (1-{MAX_PAGE})")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
WindowOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET,
                                    description=f"items to skip (browsing reaches the newest {MAX_WINDOW})")]


def page(items: list[T], limit: int, offset: int) -> dict[str, Any]:
    """A page of a list that holds every item (not person data: users, agreements, counts)."""
    chunk = items[offset:offset + limit]
    more = offset + limit < len(items)
    return {"items": chunk, "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


def window(fetch: Callable[[int], list[T]], limit: int, offset: int) -> dict[str, Any]:
    """A page of a list a service returns newest first, up to a count: one more than the page
    is fetched to know whether another page follows."""
    rows = fetch(offset + limit + 1)
    chunk = rows[offset:offset + limit]
    more = len(rows) > offset + limit
    return {"items": chunk, "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}
