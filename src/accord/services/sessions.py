"""Sign-in sessions for the web UI: login, logout and the session behind a request.

These establish who the user is; they read no person data. Every login, refused login,
logout and session expiry is an audit event (``session.login``, ``session.logout``,
``session.end``), with the origin of the front end that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.governance import sessions as store_sessions
from accord.services.context import governed

REFUSED = "unknown user id, or the token is not a live token of that user"


class LoginRefused(AccordError):
    """A refused sign-in. The reasons never say which of user id and token was wrong."""

    def __init__(self, reasons: tuple[str, ...], audit_seq: int) -> None:
        self.reasons = reasons
        self.audit_seq = audit_seq
        super().__init__("sign-in refused: " + "; ".join(reasons) + f" (audit event {audit_seq})")


@dataclass(frozen=True)
class LoginResult:
    session_id: str       # goes to the browser once; the store keeps its SHA-256
    csrf_token: str
    user_id: str
    expires_at: datetime
    audit_event: int


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _who(user_id: str) -> str:
    """The user id as typed, bounded, for the audit record of a refusal."""
    text = "".join(ch for ch in (user_id or "").strip() if ch.isprintable())[:64]
    return text or "(none)"


def login(db: Path, user_id: str, token: str, *, origin: str = "web", now: datetime | None = None,
          idle: timedelta = store_sessions.IDLE) -> LoginResult:
    """Open a session for ``user_id`` if ``token`` is one of their live API tokens."""
    at = _now(now)
    who = _who(user_id)
    with governed(db, origin=origin) as gate:
        failures = store_sessions.recent_failures(gate.store, who, at)
        if failures >= store_sessions.LOCKOUT_FAILURES:
            reasons: tuple[str, ...] = (
                f"{failures} failed sign-ins for this user id in the last "
                f"{int(store_sessions.LOCKOUT_WINDOW.total_seconds() // 60)} minutes; "
                "sign-in is locked for now (try again later or ask an administrator)",)
            seq = gate.record(user_id=who, action=store_sessions.LOGIN_ACTION, decision="deny",
                              reasons=reasons, outcome="refused", details={"locked": True})
            raise LoginRefused(reasons, seq)
        actor = store_sessions.check_credentials(gate.store, user_id.strip(), token.strip())
        if actor is None:
            seq = gate.record(user_id=who, action=store_sessions.LOGIN_ACTION, decision="deny",
                              reasons=(REFUSED,), outcome="refused")
            raise LoginRefused((REFUSED,), seq)
        with gate.store.transaction():
            session_id = store_sessions.start(gate.store, actor, token.strip(), at)
        digest = store_sessions.session_hash(session_id)
        seq = gate.record(user_id=actor.user_id, action=store_sessions.LOGIN_ACTION,
                          outcome="session started", details={"session": digest[:16]})
        expires = min(at + idle, at + store_sessions.MAXIMUM)
        return LoginResult(session_id, store_sessions.csrf_token(session_id), actor.user_id, expires, seq)


def logout(db: Path, session_id: str, *, origin: str = "web", now: datetime | None = None) -> bool:
    """End a session; False when it was not open (already ended or unknown)."""
    if not session_id:
        return False
    digest = store_sessions.session_hash(session_id)
    with governed(db, origin=origin) as gate:
        with gate.store.transaction():
            user_id = store_sessions.end(gate.store, digest, _now(now), "logout")
        if user_id is None:
            return False
        gate.record(user_id=user_id, action="session.logout", outcome="session ended",
                    details={"session": digest[:16]})
        return True


def current_session(db: Path, session_id: str, *, origin: str = "web", now: datetime | None = None,
                    idle: timedelta = store_sessions.IDLE,
                    maximum: timedelta = store_sessions.MAXIMUM) -> dict[str, Any]:
    """The signed-in user behind a session id: ``{"user": {...}, "csrf_token", "expires_at"}``
    while it is open; ``{"user": None, "ended": reason}`` when it has just ended (expired, user
    deactivated, token revoked; recorded as ``session.end``); ``{"user": None, "ended": None}``
    for an unknown or earlier-ended session."""
    with governed(db, origin=origin) as gate:
        with gate.store.transaction():
            found = store_sessions.lookup(gate.store, session_id, _now(now), idle=idle, maximum=maximum)
        if found.session is None:
            if found.ended is not None and found.user_id is not None:
                gate.record(user_id=found.user_id, action="session.end", outcome=found.ended,
                            details={"session": store_sessions.session_hash(session_id)[:16]})
            return {"user": None, "ended": found.ended}
        s = store_sessions.touch(gate.store, found.session, _now(now))
        a = s.actor
        return {"user": {"user_id": a.user_id, "name": a.name, "roles": list(a.roles),
                         "organisation": a.organisation},
                "csrf_token": store_sessions.csrf_token(session_id), "session": s.session_sha256[:16],
                "started_at": s.created_at, "expires_at": s.expires_at, "ended": None}
