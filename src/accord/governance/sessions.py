"""Web UI sessions: who is signed in, for how long, and with which token.

A person signs in with their user id and one of their API tokens (``accord users token``).
The browser gets a random session id in a cookie; the store keeps only its SHA-256, the user,
the SHA-256 of the token used (so revoking the token or deactivating the user ends the
session), when it started and when it was last used. A session ends at logout, after
``IDLE`` without a request, after ``MAXIMUM`` in all, or when its user or token is no longer
valid. The form token that protects every POST (CSRF) is derived from the session id, so it
is never stored either.

Repeated failed sign-ins lock a user id for a while (NIST SP 800-53 AC-7): after
``LOCKOUT_FAILURES`` failures within ``LOCKOUT_WINDOW`` every sign-in for it is refused until
the window has passed. Failures are counted from the audit log, where each one is recorded.
These functions decide nothing about person data and write no audit events themselves; the
service layer (``accord.services.sessions``) records logins, refusals, logouts and expiries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from accord.governance.users import Actor, actor_for_token, get_actor, token_hash
from accord.store import Store

IDLE = timedelta(hours=8)
MAXIMUM = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOGIN_ACTION = "session.login"


@dataclass(frozen=True)
class Session:
    session_sha256: str
    actor: Actor
    created_at: datetime
    last_seen: datetime
    idle: timedelta
    maximum: timedelta

    @property
    def expires_at(self) -> datetime:
        """When the session ends if nothing more happens."""
        return min(self.last_seen + self.idle, self.created_at + self.maximum)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def csrf_token(session_id: str) -> str:
    """The form token of a session: a keyed hash of the session id (never stored)."""
    return hmac.new(session_id.encode("utf-8"), b"accord-csrf-v1", hashlib.sha256).hexdigest()


def recent_failures(store: Store, user_id: str, now: datetime, window: timedelta = LOCKOUT_WINDOW) -> int:
    """Failed sign-ins for ``user_id`` recorded in the audit log within ``window`` before ``now``."""
    since = (now - window).isoformat(timespec="microseconds")
    return int(store.scalar(
        "SELECT count(*) FROM audit_events WHERE action = ? AND decision = 'deny' AND user_id = ? "
        "AND at_utc >= ?", [LOGIN_ACTION, user_id, since]))


def check_credentials(store: Store, user_id: str, token: str) -> Actor | None:
    """The active user when ``token`` is a live token of ``user_id``; None otherwise (one answer
    for every failure, so a caller cannot learn which part was wrong)."""
    if not user_id or not token:
        return None
    actor = actor_for_token(store, token)
    if actor is None or not hmac.compare_digest(actor.user_id, user_id):
        return None
    return actor


def start(store: Store, actor: Actor, token: str, now: datetime) -> str:
    """A new session for ``actor``; returns the session id (shown once, to the browser)."""
    session_id = secrets.token_urlsafe(32)
    store.con.execute("INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                      [session_hash(session_id), actor.user_id, token_hash(token), now, now])
    return session_id


def end(store: Store, session_sha256: str, now: datetime, reason: str) -> str | None:
    """End an open session; returns its user, or None when it was not open."""
    rows = store.query("SELECT user_id FROM web_sessions WHERE session_sha256 = ? AND ended_at IS NULL",
                       [session_sha256])
    if not rows:
        return None
    store.con.execute("UPDATE web_sessions SET ended_at = ?, end_reason = ? WHERE session_sha256 = ?",
                      [now, reason, session_sha256])
    return str(rows[0][0])


@dataclass(frozen=True)
class Lookup:
    """A session that is open (``session``), or one that has just ended (``ended``: why, and
    ``user_id``), or nothing (unknown or already ended)."""

    session: Session | None = None
    ended: str | None = None
    user_id: str | None = None


def lookup(store: Store, session_id: str, now: datetime, *, idle: timedelta = IDLE,
           maximum: timedelta = MAXIMUM) -> Lookup:
    """The open session for ``session_id`` at ``now``. A session found past its time, or whose
    user or token is no longer valid, is ended here (with the reason) and not returned. Run it
    inside a transaction; record the request with :func:`touch` afterwards."""
    if not session_id:
        return Lookup()
    digest = session_hash(session_id)
    rows = store.query(
        "SELECT s.user_id, s.created_at, s.last_seen, t.revoked_at IS NULL AND t.user_id = s.user_id "
        "FROM web_sessions s LEFT JOIN user_tokens t ON t.token_sha256 = s.token_sha256 "
        "WHERE s.session_sha256 = ? AND s.ended_at IS NULL", [digest])
    if not rows:
        return Lookup()
    user_id, created, seen, token_live = rows[0]
    actor = get_actor(store, user_id)
    reason = None
    if now >= created + maximum:
        reason = f"expired: {_hours(maximum)} maximum session length"
    elif now >= seen + idle:
        reason = f"expired: {_hours(idle)} without activity"
    elif actor is None or not actor.active:
        reason = "ended: the user is no longer active"
    elif not token_live:
        reason = "ended: the token used to sign in was revoked"
    if reason is not None or actor is None:
        end(store, digest, now, reason or "ended")
        return Lookup(ended=reason, user_id=str(user_id))
    return Lookup(Session(digest, actor, created, seen, idle, maximum))


def touch(store: Store, session: Session, now: datetime) -> Session:
    """Record a request on an open session (at most every ``TOUCH_EVERY``), in its own
    transaction. Two requests touching it at once is not an error: either time will do."""
    if now - session.last_seen < TOUCH_EVERY:
        return session
    try:
        with store.transaction():
            store.con.execute("UPDATE web_sessions SET last_seen = ? WHERE session_sha256 = ? "
                              "AND ended_at IS NULL", [now, session.session_sha256])
    except duckdb.TransactionException:
        return session
    return dataclasses.replace(session, last_seen=now)


def _hours(d: timedelta) -> str:
    hours = d.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{d.total_seconds() / 60:g} minutes"
