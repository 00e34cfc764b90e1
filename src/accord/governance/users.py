"""Users, roles and API tokens. Tokens are stored as SHA-256 only and shown once."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from accord.errors import AccordError
from accord.governance.registry import registry
from accord.store import Store

# The one pattern of a user id: new users must match it, and a refused sign-in records the id
# typed only when it matches (anything else may be a token typed into the wrong box).
USER_ID = re.compile(r"[a-z][a-z0-9._-]{1,63}")
TOKEN_ID_LENGTH = 12


def well_formed_user_id(text: str) -> bool:
    """Whether ``text`` is shaped like a user id (2-64 lowercase letters, digits, '.', '_', '-')."""
    return USER_ID.fullmatch(text) is not None


class UserError(AccordError):
    """A user or token operation that cannot be done as asked."""


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


def add_user(store: Store, user_id: str, name: str, roles: list[str], organisation: str | None,
             created_by: str) -> Actor:
    if not well_formed_user_id(user_id):
        raise UserError(f"user id {user_id!r}: use 2-64 lowercase letters, digits, '.', '_' or '-', "
                        "starting with a letter")
    known = registry().roles
    if not roles:
        raise UserError(f"user {user_id}: give at least one role ({', '.join(known)})")
    for role in roles:
        if role not in known:
            raise UserError(f"user {user_id}: unknown role {role!r} (known: {', '.join(known)})")
    if get_actor(store, user_id) is not None:
        raise UserError(f"user {user_id} already exists")
    store.con.execute("INSERT INTO users VALUES (?, ?, ?, ?, now(), ?, TRUE)",
                      [user_id, name, sorted(set(roles)), organisation, created_by])
    return Actor(user_id, name, tuple(sorted(set(roles))), organisation, True)


def list_users(store: Store) -> list[Actor]:
    rows = store.query("SELECT user_id, name, roles, organisation, active FROM users ORDER BY user_id")
    return [Actor(u, n, tuple(r), o, bool(a)) for u, n, r, o, a in rows]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(store: Store, user_id: str, issued_by: str) -> str:
    """A new bearer token for a user; only its hash is stored."""
    if get_actor(store, user_id) is None:
        raise UserError(f"no user {user_id!r}")
    token = f"acc_{secrets.token_urlsafe(32)}"
    store.con.execute("INSERT INTO user_tokens VALUES (?, ?, now(), ?, NULL)",
                      [token_hash(token), user_id, issued_by])
    return token


def token_id(token: str) -> str:
    """The public name of a token: the first characters of its SHA-256 (safe to show and log)."""
    return token_hash(token)[:TOKEN_ID_LENGTH]


def list_tokens(store: Store, user_id: str) -> list[dict[str, Any]]:
    """A user's tokens by id (never the token or its full hash), newest first."""
    if get_actor(store, user_id) is None:
        raise UserError(f"no user {user_id!r}")
    rows = store.query("SELECT left(token_sha256, ?), issued_at, issued_by, revoked_at FROM user_tokens "
                       "WHERE user_id = ? ORDER BY issued_at DESC, token_sha256", [TOKEN_ID_LENGTH, user_id])
    return [{"token_id": t, "user_id": user_id, "issued_at": at.isoformat(), "issued_by": by,
             "revoked_at": revoked.isoformat() if revoked else None} for t, at, by, revoked in rows]


def revoke_token(store: Store, user_id: str, token: str) -> str:
    """Revoke one of a user's tokens, named by the token itself or by its id; returns the id.
    A revoked token stops authenticating at once, and ends the web sessions signed in with it."""
    if get_actor(store, user_id) is None:
        raise UserError(f"no user {user_id!r}")
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
        raise UserError(f"no token {name!r} of user {user_id} (give the token or its id from "
                        "`accord users tokens ID`)")
    if len(rows) > 1:
        raise UserError(f"token id {name!r} names {len(rows)} tokens of {user_id}; give more of it")
    if rows[0][1] is not None:
        raise UserError(f"token {name} of {user_id} was already revoked on {rows[0][1]:%Y-%m-%d %H:%M}")
    store.con.execute("UPDATE user_tokens SET revoked_at = now() WHERE token_sha256 = ?", [rows[0][0]])
    return str(rows[0][0])[:TOKEN_ID_LENGTH]


def deactivate_user(store: Store, user_id: str) -> Actor:
    """Deactivate a user: every token of theirs stops authenticating and their web sessions end.
    Nothing is deleted (audit events keep naming the user)."""
    actor = get_actor(store, user_id)
    if actor is None:
        raise UserError(f"no user {user_id!r}")
    if not actor.active:
        raise UserError(f"user {user_id} is already deactivated")
    store.con.execute("UPDATE users SET active = FALSE WHERE user_id = ?", [user_id])
    return Actor(actor.user_id, actor.name, actor.roles, actor.organisation, False)


def actor_for_token(store: Store, token: str) -> Actor | None:
    """The active user a token belongs to, or None (unknown, revoked or inactive)."""
    rows = store.query("SELECT user_id FROM user_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                       [token_hash(token)])
    if not rows:
        return None
    actor = get_actor(store, rows[0][0])
    return actor if actor is not None and actor.active else None
