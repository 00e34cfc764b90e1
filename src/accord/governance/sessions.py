"""Web UI sessions: who is signed in, for how long, and with which token.

A person signs in with their user id and one of their API tokens (``accord users token``).
The browser gets a random session id in a cookie; the store keeps only its SHA-256, the user,
the SHA-256 of the token used (so revoking the token or deactivating the user ends the
session), when it started and when it was last used. A session ends at logout, after
``IDLE`` without a request, after ``MAXIMUM`` in all, or when its user or token is no longer
valid. The form token that protects every POST (CSRF) is derived from the session id, so it
is never stored either.

Failed sign-ins slow down the client that makes them, not the user id they name (NIST SP
800-53 AC-7): :class:`SignInThrottle` keeps, in memory and per client address, how many sign-ins
failed lately; after ``THROTTLE_FREE`` of them the client must wait, twice as long after each
further one (up to ``THROTTLE_MAX``), and is answered "try again later" meanwhile. Someone
guessing at a user id therefore never locks its owner out: the right token from another client
still signs in. Only the first ``AUDITED_FAILURES`` failures of a client in a window are
recorded one by one; the rest are counted and recorded as one summary when the window closes.

A refused sign-in names the user id typed only when it is well-formed
(:func:`accord.governance.users.well_formed_user_id`); anything else (a token typed into the
wrong box, say) is recorded as a keyed hash (:func:`audit_name`), so oversight can tell repeated
attempts apart without reading what was typed.

These functions decide nothing about person data and write no audit events themselves; the
service layer (``accord.services.sessions``) records logins, refusals, logouts and expiries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from accord.governance.users import Actor, actor_for_token, get_actor, token_hash, well_formed_user_id
from accord.store import Store

IDLE = timedelta(hours=8)
MAXIMUM = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often
LOGIN_ACTION = "session.login"
THROTTLE_FREE = 3                         # failed sign-ins a client may make before it must wait
THROTTLE_BASE = timedelta(seconds=2)      # its wait after the next failure; doubles with each further one
THROTTLE_MAX = timedelta(minutes=15)      # the longest wait
THROTTLE_WINDOW = timedelta(minutes=15)   # a client's failures are forgotten this long after its last
AUDITED_FAILURES = 5                      # failures recorded one by one per client and window
MAX_CLIENTS = 10_000                      # clients remembered at once (the oldest go first)
_AUDIT_KEY = "audit_name_key"             # the store's key for hashing malformed ids (Store.meta)


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


def audit_name(store: Store, typed: str) -> str:
    """How the audit log names a user id someone typed: as typed when it is a well-formed user
    id, ``(none)`` when empty, and otherwise ``(malformed <hash>)``: an HMAC keyed with a secret
    of this store, so the same text gives the same name but the text cannot be read back."""
    text = (typed or "").strip()
    if not text:
        return "(none)"
    if well_formed_user_id(text):
        return text
    digest = hmac.new(_store_key(store), text.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"(malformed {digest[:16]})"


def _store_key(store: Store) -> bytes:
    """The store's secret for :func:`audit_name`, made the first time it is needed."""
    found = store.meta(_AUDIT_KEY)
    if found is None:                                  # the first writer's key is the key
        found = store.put_meta(_AUDIT_KEY, secrets.token_hex(32), keep=True)
    return bytes.fromhex(found)


def check_credentials(store: Store, user_id: str, token: str) -> Actor | None:
    """The active user when ``token`` is a live token of ``user_id``; None otherwise (one answer
    for every failure, so a caller cannot learn which part was wrong). A user id that is not
    well-formed is refused without looking the token up."""
    if not well_formed_user_id(user_id) or not token:
        return None
    actor = actor_for_token(store, token)
    if actor is None or not hmac.compare_digest(actor.user_id.encode("utf-8"), user_id.encode("utf-8")):
        return None
    return actor


@dataclass(frozen=True)
class Suppressed:
    """Failed sign-ins of one client that were counted but not recorded one by one."""

    client: str
    failed: int           # failed sign-ins past the first AUDITED_FAILURES of the window
    throttled: int        # attempts answered "try again later" (never checked)
    since: datetime
    until: datetime


@dataclass
class _Client:
    failures: int          # since the client's last quiet window (sets its wait)
    last_failure: datetime
    wait_until: datetime | None
    window_start: datetime
    recorded: int = 0
    failed: int = 0
    throttled: int = 0

    def summary(self, client: str, until: datetime) -> Suppressed | None:
        if not self.failed and not self.throttled:
            return None
        return Suppressed(client, self.failed, self.throttled, self.window_start, until)


class SignInThrottle:
    """Failed sign-ins per client (remote address), kept in this process's memory.

    ``wait`` says how long a client must still wait; ``failed`` counts a failure (and says
    whether to record it); ``succeeded`` forgets the client; ``closed`` hands back the summaries
    of windows that have closed with failures left unrecorded. Thread-safe."""

    def __init__(self, *, free: int = THROTTLE_FREE, base: timedelta = THROTTLE_BASE,
                 longest: timedelta = THROTTLE_MAX, window: timedelta = THROTTLE_WINDOW,
                 audited: int = AUDITED_FAILURES, max_clients: int = MAX_CLIENTS) -> None:
        self.free, self.base, self.longest, self.window = free, base, longest, window
        self.audited, self.max_clients = audited, max_clients
        self._clients: dict[str, _Client] = {}
        self._pending: list[Suppressed] = []
        self._lock = threading.Lock()

    def wait(self, client: str, now: datetime) -> timedelta | None:
        """How long ``client`` must still wait before its next sign-in is checked; None when it
        may sign in now. A refused attempt counts towards the window's summary."""
        with self._lock:
            c = self._clients.get(client)
            if c is None or c.wait_until is None or now >= c.wait_until:
                return None
            c.throttled += 1
            return c.wait_until - now

    def failed(self, client: str, now: datetime) -> bool:
        """Count a failed sign-in of ``client``; True when it is to be recorded in the audit log
        (one of the first ``audited`` of its window), False when only counted."""
        with self._lock:
            c = self._clients.get(client)
            if c is None:
                if len(self._clients) >= self.max_clients:
                    self._forget_oldest()
                c = self._clients[client] = _Client(0, now, None, now)
            c.failures += 1
            c.last_failure = now
            if c.failures > self.free:
                c.wait_until = now + min(self.base * 2 ** min(c.failures - self.free - 1, 30), self.longest)
            if c.recorded < self.audited:
                c.recorded += 1
                return True
            c.failed += 1
            return False

    def succeeded(self, client: str, now: datetime) -> Suppressed | None:
        """A sign-in of ``client`` succeeded: forget its failures; the summary of what was left
        unrecorded, if anything was."""
        with self._lock:
            c = self._clients.pop(client, None)
        return None if c is None else c.summary(client, now)

    def closed(self, now: datetime) -> list[Suppressed]:
        """Summaries of the windows closed by ``now`` with failures left unrecorded, each handed
        back once. A client quiet for a whole window is forgotten (its wait with it)."""
        with self._lock:
            out, self._pending = self._pending, []
            for client, c in list(self._clients.items()):
                if now < c.window_start + self.window:
                    continue
                summary = c.summary(client, now)
                if summary is not None:
                    out.append(summary)
                if now - c.last_failure >= self.window:
                    del self._clients[client]
                else:                                   # still failing: a new window
                    c.window_start, c.recorded, c.failed, c.throttled = now, 0, 0, 0
            return out

    def _forget_oldest(self) -> None:
        client = min(self._clients, key=lambda k: self._clients[k].last_failure)
        c = self._clients.pop(client)
        summary = c.summary(client, c.last_failure)
        if summary is not None:
            self._pending.append(summary)


def start(store: Store, actor: Actor, token: str, now: datetime) -> str:
    """A new session for ``actor``; returns the session id (shown once, to the browser)."""
    session_id = secrets.token_urlsafe(32)
    store.insert("web_sessions", {"session_sha256": session_hash(session_id), "user_id": actor.user_id,
                                  "token_sha256": token_hash(token), "created_at": now, "last_seen": now})
    return session_id


def end(store: Store, session_sha256: str, now: datetime, reason: str) -> str | None:
    """End an open session; returns its user, or None when it was not open."""
    rows = store.query("SELECT user_id FROM web_sessions WHERE session_sha256 = ? AND ended_at IS NULL",
                       [session_sha256])
    if not rows:
        return None
    store.write("UPDATE web_sessions SET ended_at = ?, end_reason = ? WHERE session_sha256 = ?",
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
            store.write("UPDATE web_sessions SET last_seen = ? WHERE session_sha256 = ? "
                        "AND ended_at IS NULL", [now, session.session_sha256])
    except store.conflicts:
        return session
    return dataclasses.replace(session, last_seen=now)


def _hours(d: timedelta) -> str:
    hours = d.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{d.total_seconds() / 60:g} minutes"
