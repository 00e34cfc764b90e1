"""Sign-in sessions for the web UI: login, logout and the session behind a request; and the
command line's token check.

These establish who the user is; they read no person data. Every login, refused login,
logout and session expiry is an audit event (``session.login``, ``session.logout``,
``session.end``), with the origin of the front end that asked. A client that keeps failing is
slowed down (``accord.governance.sessions.SignInThrottle``): it is told to wait, and past the
first few of its failures in a window only a summary is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from accord.errors import AccordError
from accord.governance import sessions as store_sessions
from accord.governance.gate import Gate, PolicyDenied
from accord.services.admin import authenticate
from accord.services.context import governed
from accord.services.people_results import SessionState, SessionUser
from accord.store.target import StoreTarget

REFUSED = "unknown user id, or the token is not a live token of that user"
TOKEN_REFUSED = ("unknown, revoked or deactivated token, or not a token of the user named with "
                 "--user")
TOKEN_ACTION = "session.token"


class LoginRefused(AccordError):
    """A refused sign-in. The reasons never say which of user id and token was wrong.
    ``audit_seq`` is None when the refusal was only counted (a client past its recorded
    failures) or not checked at all (:class:`LoginThrottled`)."""

    kind = "refused"

    def __init__(self, reasons: tuple[str, ...], audit_seq: int | None) -> None:
        self.reasons = reasons
        self.audit_seq = audit_seq
        where = (f" (audit event {audit_seq})" if audit_seq is not None
                 else " (counted; recorded in a summary)")
        super().__init__("sign-in refused: " + "; ".join(reasons) + where)


class LoginThrottled(LoginRefused):
    """Too many failed sign-ins from this client lately: it must wait ``retry_after``."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = max(1, int(-(-retry_after.total_seconds() // 1)))   # whole seconds, up
        super().__init__((f"too many failed sign-ins from this address; try again in "
                          f"{self.retry_after} seconds",), None)


@dataclass(frozen=True)
class LoginResult:
    session_id: str       # goes to the browser once; the store keeps its SHA-256
    csrf_token: str
    user_id: str
    expires_at: datetime
    audit_event: int


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _refused(gate: Gate, user_id: str, action: str, reason: str, *, outcome: str = "refused",
             details: dict[str, Any] | None = None) -> int:
    """Record a sign-in step refused by its own check (the credentials), as an action the gate
    records as refused; returns the seq of its event."""
    try:
        with gate.act(user_id, action, details=details) as step:
            step.refuse(reason, outcome=outcome)
    except PolicyDenied as e:
        return e.audit_seq
    raise AssertionError("a refused step always raises")


def _record_suppressed(gate: Gate, summaries: list[store_sessions.Suppressed]) -> None:
    for s in summaries:
        _refused(gate, "(none)", store_sessions.LOGIN_ACTION,
                 f"{s.failed} further failed sign-ins suppressed; {s.throttled} attempts "
                 "refused while the client had to wait", outcome="refused (summary)",
                 details={"client": s.client, "failed": s.failed, "throttled": s.throttled,
                          "since": s.since.isoformat(), "until": s.until.isoformat()})


def login(db: StoreTarget, user_id: str, token: str, *, origin: str = "web", now: datetime | None = None,
          idle: timedelta = store_sessions.IDLE, client: str | None = None,
          throttle: store_sessions.SignInThrottle | None = None) -> LoginResult:
    """Open a session for ``user_id`` if ``token`` is one of their live API tokens.

    With a ``throttle`` (the web UI's), a ``client`` that failed too often lately is refused
    without a check (:class:`LoginThrottled`) and only its first failures of a window are
    recorded one by one; the right token is never refused because others guessed wrong."""
    at = _now(now)
    where = {"client": client} if client else {}
    if throttle is not None and not client:
        raise ValueError("a throttled sign-in needs its client")
    with governed(db, origin=origin) as gate:
        if throttle is not None and client:
            _record_suppressed(gate, throttle.closed(at))
            wait = throttle.wait(client, at)
            if wait is not None:
                raise LoginThrottled(wait)
        actor = store_sessions.check_credentials(gate.store, user_id.strip(), token.strip())
        if actor is None:
            if throttle is not None and client and not throttle.failed(client, at):
                raise LoginRefused((REFUSED,), None)
            raise LoginRefused((REFUSED,), _refused(gate, store_sessions.audit_name(gate.store, user_id),
                                                    store_sessions.LOGIN_ACTION, REFUSED, details=where))
        if throttle is not None and client:
            summary = throttle.succeeded(client, at)
            _record_suppressed(gate, [summary] if summary else [])
        with gate.act(actor.user_id, store_sessions.LOGIN_ACTION) as started:
            session_id = store_sessions.start(gate.store, actor, token.strip(), at)
            digest = store_sessions.session_hash(session_id)
            started.outcome, started.details = "session started", {"session": digest[:16], **where}
        assert started.audit_seq is not None
        expires = min(at + idle, at + store_sessions.MAXIMUM)
        return LoginResult(session_id, store_sessions.csrf_token(session_id), actor.user_id, expires,
                           started.audit_seq)


def logout(db: StoreTarget, session_id: str, *, origin: str = "web", now: datetime | None = None) -> bool:
    """End a session; False when it was not open (already ended or unknown)."""
    if not session_id:
        return False
    digest = store_sessions.session_hash(session_id)
    with governed(db, origin=origin) as gate:
        with gate.store.transaction():
            user_id = store_sessions.end(gate.store, digest, _now(now), "logout")
        if user_id is None:
            return False
        with gate.act(user_id, "session.logout", details={"session": digest[:16]}) as ended:
            ended.outcome = "session ended"
        return True


def current_session(db: StoreTarget, session_id: str, *, origin: str = "web", now: datetime | None = None,
                    idle: timedelta = store_sessions.IDLE,
                    maximum: timedelta = store_sessions.MAXIMUM) -> SessionState:
    """The signed-in user behind a session id, with the session's form token and times, while
    it is open; ``user`` None and ``ended`` the reason when it has just ended (expired, user
    deactivated, token revoked; recorded as ``session.end``); both None for an unknown or
    earlier-ended session."""
    with governed(db, origin=origin) as gate:
        with gate.store.transaction():
            found = store_sessions.lookup(gate.store, session_id, _now(now), idle=idle, maximum=maximum)
        if found.session is None:
            if found.ended is not None and found.user_id is not None:
                with gate.act(found.user_id, "session.end",
                              details={"session": store_sessions.session_hash(session_id)[:16]}) as ended:
                    ended.outcome = found.ended
            return SessionState(user=None, ended=found.ended)
        s = store_sessions.touch(gate.store, found.session, _now(now))
        a = s.actor
        return SessionState(user=SessionUser(user_id=a.user_id, name=a.name, roles=list(a.roles),
                                             organisation=a.organisation),
                            csrf_token=store_sessions.csrf_token(session_id), session=s.session_sha256[:16],
                            started_at=s.created_at, expires_at=s.expires_at, ended=None)


def token_user(db: StoreTarget, token: str, *, claimed: str | None = None, origin: str = "cli") -> str:
    """The user a command line's API token belongs to, checked as the API checks a bearer token
    (``services.authenticate``); with ``claimed`` (its ``--user``), the token must be theirs. A
    refusal is recorded (``session.token``, the user id named as for a refused sign-in) and
    raised as :class:`LoginRefused`."""
    given = (token or "").strip()
    user = authenticate(db, given) if given else None
    if user is not None and (not claimed or claimed == user):
        return user
    with governed(db, origin=origin) as gate:
        seq = _refused(gate, store_sessions.audit_name(gate.store, claimed or ""), TOKEN_ACTION,
                       TOKEN_REFUSED)
    raise LoginRefused((TOKEN_REFUSED,), seq)
