"""Users, roles, role grants and API tokens. Tokens are stored as SHA-256 only and shown once.

A user's roles (``users.roles``) are the ones in effect. Every grant of a role is a row of
``role_grants``: a role that needs a second approver (``Registry.needs_second_approver``: it
reads person data, or roles.yaml asks for it) waits there, pending, until an administrator
other than the one who asked approves it; other roles are granted at once. No grant may give
a user two roles the registry declares incompatible.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from accord.errors import AccordError, NotFound
from accord.governance.registry import Conflict, Registry, registry
from accord.store import Store

# The one pattern of a user id: new users must match it, and a refused sign-in records the id
# typed only when it matches (anything else may be a token typed into the wrong box).
USER_ID = re.compile(r"[a-z][a-z0-9._-]{1,63}")
TOKEN_ID_LENGTH = 12
BOOTSTRAP = "bootstrap: held from creation, no second approver (accord init or a test set-up)"


def well_formed_user_id(text: str) -> bool:
    """Whether ``text`` is shaped like a user id (2-64 lowercase letters, digits, '.', '_', '-')."""
    return USER_ID.fullmatch(text) is not None


class UserError(AccordError):
    """A user or token operation that cannot be done as asked."""


class NoSuchUser(UserError, NotFound):
    """A user, grant or token named by an id that does not exist."""


class RoleConflict(UserError):
    """A role grant refused: the user would hold two roles the registry declares incompatible
    (separation of duties)."""

    def __init__(self, message: str, conflicts: list[Conflict]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


class SecondApproverRequired(UserError):
    """A role grant approved by the administrator who asked for it, or by the user it is for:
    another administrator must approve it."""


@dataclass(frozen=True)
class Actor:
    user_id: str
    name: str
    roles: tuple[str, ...]
    organisation: str | None
    active: bool


def get_actor(store: Store, user_id: str) -> Actor | None:
    rows = store.query("SELECT user_id, name, roles, organisation, active FROM users WHERE user_id = ?",
                       [user_id])
    if not rows:
        return None
    uid, name, roles, org, active = rows[0]
    return Actor(uid, name, tuple(roles), org, bool(active))


def count_users(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM users"))


def _new_user(store: Store, user_id: str, name: str, roles: list[str], organisation: str | None,
              created_by: str) -> Actor:
    if not well_formed_user_id(user_id):
        raise UserError(f"user id {user_id!r}: use 2-64 lowercase letters, digits, '.', '_' or '-', "
                        "starting with a letter")
    if get_actor(store, user_id) is not None:
        raise UserError(f"user {user_id} already exists")
    store.write("INSERT INTO users (user_id, name, roles, organisation, created_at, created_by, active) "
                "VALUES (?, ?, ?, ?, now(), ?, TRUE)", [user_id, name, roles, organisation, created_by])
    return Actor(user_id, name, tuple(roles), organisation, True)


def _known_roles(user_id: str, roles: list[str], reg: Registry) -> list[str]:
    known = reg.roles
    if not roles:
        raise UserError(f"user {user_id}: give at least one role ({', '.join(known)})")
    for role in roles:
        if role not in known:
            raise UserError(f"user {user_id}: unknown role {role!r} (known: {', '.join(known)})")
    return sorted(set(roles))


def _refuse_conflicts(user_id: str, roles: set[str], reg: Registry) -> None:
    conflicts = reg.conflicts(roles)
    if conflicts:
        said = "; nor ".join(f"{c.roles[0]} and {c.roles[1]} together (rule {c.rule}: {c.reason})"
                             for c in conflicts)
        raise RoleConflict(f"user {user_id} may not hold {said}", conflicts)


def add_user(store: Store, user_id: str, name: str, roles: list[str], organisation: str | None,
             created_by: str, *, reg: Registry | None = None, note: str = BOOTSTRAP) -> Actor:
    """Register a user holding ``roles`` at once, with no second approver: the bootstrapping
    path (``accord init``'s administrator and sample users, test set-ups). Incompatible roles
    are still refused. Administrators add users through ``services.add_user``, which registers
    the user with no roles and requests each role as a grant (:func:`request_grants`)."""
    reg = reg or registry()
    wanted = _known_roles(user_id, roles, reg)
    _refuse_conflicts(user_id, set(wanted), reg)
    with store.transaction():                   # the user and their grants, or neither
        actor = _new_user(store, user_id, name, wanted, organisation, created_by)
        for role in wanted:
            _insert_grant(store, user_id, role, "granted", created_by, None, note)
    return actor


def register_user(store: Store, user_id: str, name: str, organisation: str | None,
                  created_by: str) -> Actor:
    """A new user holding no role yet (their roles come by :func:`request_grants`)."""
    return _new_user(store, user_id, name, [], organisation, created_by)


def list_users(store: Store) -> list[Actor]:
    rows = store.query("SELECT user_id, name, roles, organisation, active FROM users ORDER BY user_id")
    return [Actor(u, n, tuple(r), o, bool(a)) for u, n, r, o, a in rows]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(store: Store, user_id: str, issued_by: str) -> str:
    """A new bearer token for a user; only its hash is stored."""
    if get_actor(store, user_id) is None:
        raise NoSuchUser(f"no user {user_id!r}")
    token = f"acc_{secrets.token_urlsafe(32)}"
    store.write("INSERT INTO user_tokens (token_sha256, user_id, issued_at, issued_by, revoked_at) "
                "VALUES (?, ?, now(), ?, NULL)", [token_hash(token), user_id, issued_by])
    return token


def token_id(token: str) -> str:
    """The public name of a token: the first characters of its SHA-256 (safe to show and log)."""
    return token_hash(token)[:TOKEN_ID_LENGTH]


def list_tokens(store: Store, user_id: str) -> list[dict[str, Any]]:
    """A user's tokens by id (never the token or its full hash), newest first."""
    if get_actor(store, user_id) is None:
        raise NoSuchUser(f"no user {user_id!r}")
    rows = store.query("SELECT left(token_sha256, ?), issued_at, issued_by, revoked_at FROM user_tokens "
                       "WHERE user_id = ? ORDER BY issued_at DESC, token_sha256", [TOKEN_ID_LENGTH, user_id])
    return [{"token_id": t, "user_id": user_id, "issued_at": at.isoformat(), "issued_by": by,
             "revoked_at": revoked.isoformat() if revoked else None} for t, at, by, revoked in rows]


def revoke_token(store: Store, user_id: str, token: str) -> str:
    """Revoke one of a user's tokens, named by the token itself or by its id; returns the id.
    A revoked token stops authenticating at once, and ends the web sessions signed in with it."""
    if get_actor(store, user_id) is None:
        raise NoSuchUser(f"no user {user_id!r}")
    given = token.strip()
    if re.fullmatch(rf"[0-9a-f]{{{TOKEN_ID_LENGTH},64}}", given):   # an id (or the whole hash)
        name = given
        rows = store.query("SELECT token_sha256, revoked_at FROM user_tokens WHERE user_id = ? "
                           "AND starts_with(token_sha256, ?)", [user_id, given])
    else:                                                          # the token itself: never echoed
        name = token_id(given)
        rows = store.query("SELECT token_sha256, revoked_at FROM user_tokens WHERE user_id = ? "
                           "AND token_sha256 = ?", [user_id, token_hash(given)])
    if not rows:
        raise NoSuchUser(f"no token {name!r} of user {user_id} (give the token or its id from "
                         "`accord users tokens ID`)")
    if len(rows) > 1:
        raise UserError(f"token id {name!r} names {len(rows)} tokens of {user_id}; give more of it")
    if rows[0][1] is not None:
        raise UserError(f"token {name} of {user_id} was already revoked on {rows[0][1]:%Y-%m-%d %H:%M}")
    store.write("UPDATE user_tokens SET revoked_at = now() WHERE token_sha256 = ?", [rows[0][0]])
    return str(rows[0][0])[:TOKEN_ID_LENGTH]


def deactivate_user(store: Store, user_id: str) -> Actor:
    """Deactivate a user: every token of theirs stops authenticating and their web sessions end.
    Nothing is deleted (audit events keep naming the user)."""
    actor = get_actor(store, user_id)
    if actor is None:
        raise NoSuchUser(f"no user {user_id!r}")
    if not actor.active:
        raise UserError(f"user {user_id} is already deactivated")
    store.write("UPDATE users SET active = FALSE WHERE user_id = ?", [user_id])
    return Actor(actor.user_id, actor.name, actor.roles, actor.organisation, False)


def actor_for_token(store: Store, token: str) -> Actor | None:
    """The active user a token belongs to, or None (unknown, revoked or inactive)."""
    rows = store.query("SELECT user_id FROM user_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                       [token_hash(token)])
    if not rows:
        return None
    actor = get_actor(store, rows[0][0])
    return actor if actor is not None and actor.active else None


# --- role grants ------------------------------------------------------------------------------------------

GRANT_STATES = ("pending", "granted", "rejected", "removed")
_GRANT_COLUMNS = ("grant_id, user_id, role, state, requested_by, requested_at, decided_by, decided_at, note, "
                  "ended_by, ended_at")


@dataclass(frozen=True)
class Grant:
    """One grant of a role to a user: ``pending`` a second administrator, ``granted`` (with the
    approver, or none when no second approver was needed), ``rejected``, or ``removed`` later."""

    grant_id: str
    user_id: str
    role: str
    state: str
    requested_by: str
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    note: str | None
    ended_by: str | None = None
    ended_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _grants(store: Store, where: str = "TRUE", params: list[Any] | None = None) -> list[Grant]:
    rows = store.query(f"SELECT {_GRANT_COLUMNS} FROM role_grants WHERE {where} "
                       "ORDER BY requested_at, grant_id", params or [])
    return [Grant(g, u, r, st, rb, _iso(ra) or "", db, _iso(da), n, eb, _iso(ea))
            for g, u, r, st, rb, ra, db, da, n, eb, ea in rows]


def _insert_grant(store: Store, user_id: str, role: str, state: str, requested_by: str,
                  decided_by: str | None, note: str | None) -> str:
    grant_id = f"G-{int(store.scalar('SELECT nextval(?)', ['role_grant_seq'])):06d}"
    decided = "now()" if state != "pending" else "NULL"
    store.write(f"INSERT INTO role_grants ({_GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, now(), ?, "
                f"{decided}, ?, NULL, NULL)",
                [grant_id, user_id, role, state, requested_by, decided_by, note])
    return grant_id


def _set_roles(store: Store, user_id: str, roles: set[str]) -> None:
    store.write("UPDATE users SET roles = ? WHERE user_id = ?", [sorted(roles), user_id])


def get_grant(store: Store, grant_id: str) -> Grant:
    found = _grants(store, "grant_id = ?", [grant_id])
    if not found:
        raise NoSuchUser(f"no grant {grant_id!r} (see `accord users grants`)")
    return found[0]


def list_grants(store: Store, *, state: str | None = None, user_id: str | None = None) -> list[Grant]:
    """Grants, oldest first, optionally of one state and one user."""
    if state is not None and state not in GRANT_STATES:
        raise UserError(f"unknown grant state {state!r} (one of {', '.join(GRANT_STATES)})")
    where, params = ["TRUE"], []
    if state is not None:
        where.append("state = ?")
        params.append(state)
    if user_id is not None:
        where.append("user_id = ?")
        params.append(user_id)
    return _grants(store, " AND ".join(where), params)


def request_grants(store: Store, user_id: str, roles: list[str], requested_by: str, *,
                   reg: Registry | None = None) -> list[Grant]:
    """Ask for roles for a user. Each role that needs a second approver waits as a pending
    grant; the others are granted at once. Refused as a whole when the user would then hold
    (or wait for) two incompatible roles, or already holds or waits for one of them."""
    reg = reg or registry()
    actor = get_actor(store, user_id)
    if actor is None:
        raise NoSuchUser(f"no user {user_id!r}")
    if not actor.active:
        raise UserError(f"user {user_id} is deactivated; no role can be granted to them")
    wanted = _known_roles(user_id, roles, reg)
    pending = {g.role: g.grant_id for g in _grants(store, "user_id = ? AND state = 'pending'", [user_id])}
    held = [r for r in wanted if r in actor.roles]
    if held:
        raise UserError(f"user {user_id} already holds {', '.join(held)}")
    waiting = [f"{r} ({pending[r]})" for r in wanted if r in pending]
    if waiting:
        raise UserError(f"user {user_id} already waits for {', '.join(waiting)}")
    _refuse_conflicts(user_id, set(actor.roles) | set(pending) | set(wanted), reg)
    ids = []
    now_in_effect = set(actor.roles)
    with store.transaction():                   # every grant asked for, or none
        for role in wanted:
            if reg.needs_second_approver(role):
                ids.append(_insert_grant(store, user_id, role, "pending", requested_by, None, None))
            else:
                ids.append(_insert_grant(store, user_id, role, "granted", requested_by, None,
                                         "no second approver needed (the role reads no person data)"))
                now_in_effect.add(role)
        if now_in_effect != set(actor.roles):
            _set_roles(store, user_id, now_in_effect)
    return [get_grant(store, g) for g in ids]


def _pending(store: Store, grant_id: str, user_id: str | None) -> Grant:
    grant = get_grant(store, grant_id)
    if user_id is not None and grant.user_id != user_id:
        raise NoSuchUser(f"no grant {grant_id!r} for user {user_id}")
    if grant.state != "pending":
        raise UserError(f"grant {grant_id} ({grant.role} for {grant.user_id}) is {grant.state}, not pending")
    return grant


def approve_grant(store: Store, grant_id: str, approver: str, *, user_id: str | None = None,
                  reg: Registry | None = None) -> Grant:
    """A second administrator approves a pending grant: the role takes effect. The administrator
    who asked for it, and the user it is for, cannot approve it."""
    reg = reg or registry()
    grant = _pending(store, grant_id, user_id)
    if approver == grant.requested_by:
        raise SecondApproverRequired(f"{approver} asked for grant {grant_id} and cannot also approve it: "
                                     f"granting {grant.role} needs a second administrator")
    if approver == grant.user_id:
        raise SecondApproverRequired(f"{approver} cannot approve a grant of a role to themselves")
    actor = get_actor(store, grant.user_id)
    if actor is None or not actor.active:
        raise UserError(f"user {grant.user_id} is deactivated; grant {grant_id} cannot take effect "
                        "(reject it)")
    others = {g.role for g in _grants(store, "user_id = ? AND state = 'pending' AND grant_id <> ?",
                                      [grant.user_id, grant_id])}
    _refuse_conflicts(grant.user_id, set(actor.roles) | others | {grant.role}, reg)
    with store.transaction():                   # the grant and the role in effect together
        store.write("UPDATE role_grants SET state = 'granted', decided_by = ?, decided_at = now() "
                    "WHERE grant_id = ?", [approver, grant_id])
        _set_roles(store, grant.user_id, set(actor.roles) | {grant.role})
    return get_grant(store, grant_id)


def reject_grant(store: Store, grant_id: str, by: str, reason: str, *, user_id: str | None = None) -> Grant:
    """Reject (or, by the administrator who asked, withdraw) a pending grant."""
    _pending(store, grant_id, user_id)
    if not reason.strip():
        raise UserError(f"give the reason for rejecting grant {grant_id}")
    store.write("UPDATE role_grants SET state = 'rejected', decided_by = ?, decided_at = now(), "
                "note = ? WHERE grant_id = ?", [by, reason.strip(), grant_id])
    return get_grant(store, grant_id)


def remove_role(store: Store, user_id: str, role: str, by: str) -> Actor:
    """Take a role away from a user (at once: it narrows what they may do). The way to resolve
    a user who holds incompatible roles from before the rules; nothing else drops a role."""
    actor = get_actor(store, user_id)
    if actor is None:
        raise NoSuchUser(f"no user {user_id!r}")
    if role not in actor.roles:
        raise UserError(f"user {user_id} does not hold {role!r} (holds {', '.join(actor.roles) or 'none'})")
    with store.transaction():                   # the grant ended and the role gone together
        store.write("UPDATE role_grants SET state = 'removed', ended_by = ?, ended_at = now() "
                    "WHERE user_id = ? AND role = ? AND state = 'granted'", [by, user_id, role])
        _set_roles(store, user_id, set(actor.roles) - {role})
    return Actor(actor.user_id, actor.name, tuple(r for r in actor.roles if r != role), actor.organisation,
                 actor.active)


def pending_by_user(store: Store) -> dict[str, list[Grant]]:
    out: dict[str, list[Grant]] = {}
    for g in _grants(store, "state = 'pending'"):
        out.setdefault(g.user_id, []).append(g)
    return out


def conflicts_of(actor: Actor, reg: Registry | None = None) -> list[Conflict]:
    """Incompatible pairs among the roles a user holds (stores from before the rules)."""
    return (reg or registry()).conflicts(actor.roles)
