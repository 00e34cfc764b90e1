"""Sign in, sign out, and the purpose bar.

Sign-in takes a user id and one of the user's API tokens (``accord users token ID``). The
session id goes to the browser in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS);
the store keeps only its SHA-256. The login form carries its own form token, tied to a
short-lived cookie, so another site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord import services
from accord.governance.users import well_formed_user_id
from accord.services.sessions import LoginThrottled
from accord.web.core import (
    CONTEXT_COOKIE,
    LOGIN_COOKIE,
    MAX_JUSTIFICATION,
    ORIGIN,
    RECENT_COOKIE,
    SESSION_COOKIE,
    Context,
    LoginNeeded,
    WebUser,
    config,
    current_user,
    posted_user,
    render,
    safe_next,
    same_origin,
    secure,
    see_other,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
PostUser = Annotated[WebUser, Depends(posted_user)]


def _login_page(request: Request, *, next_path: str, message: str | None = None,
                reasons: list[str] | None = None, user_id: str = "", status: int = 200,
                notice: str | None = None, retry_after: int | None = None) -> HTMLResponse:
    form_token = secrets.token_urlsafe(24)
    page = render(request, "login.html", None, status=status, next_path=safe_next(next_path),
                  form_token=form_token, message=message, reasons=reasons or [], user_id=user_id,
                  notice=notice)
    set_cookie(page, request, LOGIN_COOKIE, form_token, max_age=1800)
    if retry_after is not None:
        page.headers["Retry-After"] = str(retry_after)
    return page


def _echo(user_id: str) -> str:
    """The user id to put back in the form: only one shaped like a user id (not a token typed
    into the wrong box)."""
    return user_id.strip() if well_formed_user_id(user_id.strip()) else ""


def _client(request: Request) -> str:
    """The address a sign-in comes from (failed sign-ins are slowed down per address)."""
    return request.client.host if request.client else "unknown"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    try:
        user = current_user(request)
    except LoginNeeded:
        return see_other("/login")
    return see_other(user.nav[0][0] if user.nav else "/account")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", ended: int = 0, out: int = 0) -> Response:
    notice = ("Your session ended (it expired or was closed). Sign in again to continue." if ended
              else "You are signed out." if out else None)
    return _login_page(request, next_path=next, notice=notice)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, user_id: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "",
          form_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    matches = bool(expected) and secrets.compare_digest(expected.encode(), form_token.encode())
    if not matches or not same_origin(request):
        return _login_page(request, next_path=next, user_id=_echo(user_id), status=403,
                           message="This sign-in form expired or did not come from this site; try again.")
    try:
        cfg = config(request)
        result = services.login(cfg.db, user_id, token, origin=ORIGIN, now=cfg.clock(), idle=cfg.idle,
                                client=_client(request), throttle=cfg.throttle)
    except LoginThrottled as e:
        return _login_page(request, next_path=next, user_id=_echo(user_id), status=429,
                           retry_after=e.retry_after,
                           message="Sign-in not tried: too many failed sign-ins from here.",
                           reasons=list(e.reasons))
    except services.LoginRefused as e:
        recorded = (f"audit event {e.audit_seq}" if e.audit_seq is not None
                    else "counted in the audit log's summary of repeated failures")
        return _login_page(request, next_path=next, user_id=_echo(user_id), status=401,
                           message=f"Sign-in refused ({recorded}).", reasons=list(e.reasons))
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:   # signing in again ends the session this browser had
        services.logout(cfg.db, earlier, origin=ORIGIN, now=cfg.clock())
    response = see_other(next)
    set_cookie(response, request, SESSION_COOKIE, result.session_id)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, user: PostUser) -> Response:
    services.logout(config(request).db, user.session_id, origin=ORIGIN, now=config(request).clock())
    response = RedirectResponse("/login?out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CONTEXT_COOKIE, path="/")
    response.delete_cookie(RECENT_COOKIE, path="/")
    return secure(response)


@router.post("/context")
def set_context(request: Request, user: PostUser, purpose: Annotated[str, Form()] = "",
                agreement: Annotated[str, Form()] = "", justification: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/") -> Response:
    """Declare the purpose, agreement and justification the next reads are made under. The
    gate decides each read; this only remembers what the user declared (in a cookie)."""
    del user
    ctx = Context(purpose.strip() or None, agreement.strip() or None,
                  justification.strip()[:MAX_JUSTIFICATION] or None)
    response = see_other(next)
    set_cookie(response, request, CONTEXT_COOKIE, ctx.encode())
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    user = current_user(request)
    return render(request, "account.html", user)
