"""What every page shares: the signed-in user behind the session cookie, the declared purpose
and agreement, form tokens (CSRF), page rendering with safe headers, and refusals shown with
their reasons.

Nothing here opens the store or decides policy: the session comes from
``services.current_session`` and every read or action goes to a service, which passes the
governance gate. Which links the menu shows is a convenience; the gate decides every request.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from accord import services
from accord.errors import AccordError, NotFound
from accord.governance.gate import PolicyDenied
from accord.governance.registry import registry
from accord.governance.sessions import IDLE, MAXIMUM, SignInThrottle
from accord.services.context import reuse
from accord.store.target import StoreTarget

SESSION_COOKIE = "accord_session"
LOGIN_COOKIE = "accord_login"        # pre-session form token of the login form
CONTEXT_COOKIE = "accord_context"    # the declared purpose, agreement and justification
RECENT_COOKIE = "accord_recent"      # the findings this session opened or worked in, newest first
ORIGIN = "web"
MAX_JUSTIFICATION = 300

# Pages show person data: never cached, never framed, scripts and styles only from this site.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
}

NAV = (  # (path, label, actions any of which makes the link useful)
    ("/search", "Search", ("person.search",)),
    ("/worklist", "Work list", ("worklist.read",)),
    ("/subjects", "Subject access", ("subject.report",)),
    ("/disputes", "Disputes", ("dispute.handle",)),
    ("/oversight", "Oversight", ("audit.read", "audit.verify", "disclosures.read", "quality.read")),
)


@dataclass
class UiConfig:
    db: StoreTarget
    idle: timedelta = IDLE
    maximum: timedelta = MAXIMUM
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Failed sign-ins per client, in this process's memory: with several worker processes each
    # counts only the sign-ins it answered (docs/deploy.md says what that weakens, and by how much).
    throttle: SignInThrottle = field(default_factory=SignInThrottle)


def config(request: Request) -> UiConfig:
    cfg: UiConfig = request.app.state.ui
    return cfg


@dataclass(frozen=True)
class Context:
    """The purpose and agreement the user declared, and an optional justification."""

    purpose: str | None = None
    agreement: str | None = None
    justification: str | None = None

    def encode(self) -> str:
        raw = json.dumps({"p": self.purpose, "a": self.agreement, "j": self.justification}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Context:
        if not text:
            return cls()
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            return cls(*(str(data[k])[:MAX_JUSTIFICATION] if data.get(k) else None for k in ("p", "a", "j")))
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass
class WebUser:
    user_id: str
    name: str
    roles: tuple[str, ...]
    organisation: str | None
    session_id: str
    session: str                  # first characters of the session's hash (as in the audit log)
    csrf: str
    expires_at: datetime
    context: Context

    @property
    def actions(self) -> set[str]:
        reg = registry()
        return {a for r in self.roles if r in reg.roles for a in reg.roles[r].actions}

    @property
    def purposes(self) -> list[tuple[str, str]]:
        """Purposes of the user's roles that read person data, with their titles."""
        reg = registry()
        out: dict[str, str] = {}
        for r in self.roles:
            for p in reg.roles[r].purposes if r in reg.roles else ():
                if p in reg.purposes and reg.purposes[p].person_data:
                    out.setdefault(p, reg.purposes[p].title)
        return list(out.items())

    @property
    def nav(self) -> list[tuple[str, str]]:
        mine = self.actions
        return [(path, label) for path, label, acts in NAV if mine & set(acts)]


class LoginNeeded(Exception):
    """Raised by page dependencies: no session, or it ended; the handler redirects to /login."""

    def __init__(self, next_path: str, ended: str | None = None) -> None:
        super().__init__(ended or "sign in")
        self.next_path, self.ended = next_path, ended


class FormRejected(Exception):
    """A POST without this session's form token, or from another site."""


def whole_number(text: str, default: int, lo: int, hi: int) -> int:
    """A whole number from a query parameter, clamped; the default for anything else."""
    text = text.strip()
    if not text.isdecimal() or len(text) > 9:
        return default
    return min(max(int(text), lo), hi)


def safe_next(path: str | None) -> str:
    """Only paths on this site (no scheme, no host, no '//' or backslash tricks)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/"
    return path


def login_redirect(e: LoginNeeded) -> RedirectResponse:
    target = f"/login?next={quote(safe_next(e.next_path), safe='/')}"
    if e.ended:
        target += "&ended=1"
    r = RedirectResponse(target, status_code=303)
    r.delete_cookie(SESSION_COOKIE, path="/")
    secure(r)
    return r


def current_user(request: Request) -> WebUser:
    """The signed-in user, or LoginNeeded. Every page depends on this."""
    cfg = config(request)
    sid = request.cookies.get(SESSION_COOKIE, "")
    here = "/"  # after signing in again, a POST's form is gone: start from the home page
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not sid:
        raise LoginNeeded(here)
    info = services.current_session(cfg.db, sid, origin=ORIGIN, now=cfg.clock(), idle=cfg.idle,
                                    maximum=cfg.maximum)
    user = info.user
    if user is None or info.session is None or info.csrf_token is None or info.expires_at is None:
        raise LoginNeeded(here, info.ended)
    return WebUser(user.user_id, user.name, tuple(user.roles), user.organisation, sid,
                   info.session, info.csrf_token, info.expires_at,
                   Context.decode(request.cookies.get(CONTEXT_COOKIE)))


def same_origin(request: Request) -> bool:
    """A browser's Origin (or Referer) header, when sent, must name this site."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or sent == "null":
        return sent is None
    return urlsplit(sent).netloc == request.headers.get("host", request.url.netloc)


def posted_user(request: Request, csrf: str = Form("")) -> WebUser:
    """The signed-in user of a POST that carries this session's form token."""
    user = current_user(request)
    if not same_origin(request) or not csrf or not secrets.compare_digest(user.csrf.encode(), csrf.encode()):
        raise FormRejected()
    return user


@dataclass
class Problem:
    """A refusal (with the gate's reasons) or an error, as a page shows it."""

    title: str
    message: str
    reasons: list[str] = field(default_factory=list)
    audit_event: int | None = None
    status: int = 400


T = TypeVar("T")


def attempt(call: Callable[[], T]) -> tuple[T | None, Problem | None]:
    """Run a service call; a refusal or an error becomes a Problem to show, not a crash."""
    try:
        return call(), None
    except PolicyDenied as e:
        return None, Problem("Refused", f"The governance gate refused {e.action}.", list(e.reasons),
                             e.audit_seq, 403)
    except NotFound as e:
        return None, Problem("Not found", str(e), [], None, 404)
    except AccordError as e:
        return None, Problem("Not done", str(e), [], None, 400)


def agreements_for(request: Request, user: WebUser) -> list[dict[str, Any]]:
    """The matching agreements the user may list, for the purpose bar of every page. Each
    listing is an audited action, so a server keeps it per user and day for the store's data
    version (``services.context.reuse``): an agreement added, or a role changed, through any
    worker or process is on the next page."""
    cfg = config(request)

    def listing() -> tuple[dict[str, Any], ...] | None:
        # A user who may not list agreements simply gets none to choose from (not kept: None).
        rows, _ = attempt(lambda: services.agreements(cfg.db, user=user.user_id, origin=ORIGIN))
        return None if rows is None else tuple(a.plain() for a in rows)   # the pages' form

    kept: tuple[dict[str, Any], ...] | None = reuse(
        cfg.db, ("web.agreements", user.user_id, cfg.clock().date()), listing)
    return list(kept or ())


_ENV = Environment(loader=PackageLoader("accord.web", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_ENV.filters["num"] = lambda v, d=2: f"{float(v):,.{d}f}" if v is not None else "—"
_ENV.filters["pct"] = lambda v: f"{float(v) * 100:.2f}%" if v is not None else "—"
_ENV.filters["when"] = lambda v: (v.strftime("%Y-%m-%d %H:%M UTC") if isinstance(v, datetime)
                                  else str(v).replace("T", " ")[:19] if v else "—")


def render(request: Request, template: str, user: WebUser | None = None, *, status: int = 200,
           **ctx: Any) -> HTMLResponse:
    """A page with the user's menu and purpose bar (when signed in) and the security headers."""
    page: dict[str, Any] = {"request": request, "user": user, "path": request.url.path}
    if user is not None:
        page["agreements"] = agreements_for(request, user)
        reg = registry()
        page["purpose_titles"] = {p: reg.purposes[p].title for p in reg.purposes}
    html = _ENV.get_template(template).render(**page, **ctx)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


ERROR_TITLES = {400: "Not done", 403: "Refused", 404: "Page not found", 405: "Not allowed here",
                413: "Too large", 422: "Invalid request", 429: "Too many attempts",
                500: "Something went wrong", 503: "Service unavailable"}


def is_api(path: str) -> bool:
    """Paths of the HTTP API, whose errors are JSON; every other path is a page of the UI."""
    return path == "/api" or path.startswith("/api/")


def error_page(request: Request, status: int, message: str, reasons: list[str] | None = None, *,
               audit_event: int | None = None, incident: str | None = None,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """An error as a page (with a link home) for a path of the UI. The signed-in user's menu is
    shown when their session can be read; an error page never needs one."""
    user: WebUser | None = None
    if request.cookies.get(SESSION_COOKIE) and status not in (500, 503):
        try:
            user = current_user(request)
        except (LoginNeeded, AccordError):
            user = None
    problem = Problem(ERROR_TITLES.get(status, "Error"), message, list(reasons or []), audit_event, status)
    page = render(request, "error.html", user, status=status, problem=problem, incident=incident)
    for k, v in (headers or {}).items():
        page.headers[k] = v
    return page


def plain_error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error page without the user's menu: for answers given before the request reaches a
    page (a body over the size limit), which must not read the store."""
    problem = Problem(ERROR_TITLES.get(status, "Error"), message, [], None, status)
    return render(request, "error.html", None, status=status, problem=problem, incident=None)


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    """A cookie of this site: HttpOnly, SameSite=Strict, Secure over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def secure(response: Response) -> Response:
    for k, v in SECURITY_HEADERS.items():
        response.headers[k] = v
    return response


def see_other(path: str) -> RedirectResponse:
    r = RedirectResponse(safe_next(path), status_code=303)
    secure(r)
    return r
