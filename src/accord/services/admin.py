"""Administration: creating a store, users, role grants and tokens, matching agreements, the
audit chain and the accounting of disclosures."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from accord.errors import AccordError, NotFound, StoreError
from accord.governance import audit as audit_log
from accord.governance import users as user_store
from accord.governance.agreements import add_agreement as store_agreement
from accord.governance.agreements import get_agreement, list_agreements
from accord.governance.ledger import disclosure_counts, disclosure_page
from accord.governance.samples import USERS, write_agreements
from accord.services.context import governed
from accord.services.results import (
    AgreementAddedOut,
    AgreementDisclosuresOut,
    AgreementOut,
    AgreementSummaryOut,
    AuditEventOut,
    AuditHeadOut,
    DisclosureOut,
    DisclosureSummaryOut,
    GrantOut,
    TokenInfoOut,
    TokenRevokedOut,
    UserOut,
)
from accord.store import open_store
from accord.store.target import StoreTarget, beside, describe, file_exists, is_url

INIT_NOTE = "at initialisation (accord init): held from creation, no second administrator yet"


@dataclass
class InitResult:
    db: StoreTarget
    admin: str
    users: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"db": str(self.db), "admin": self.admin, "users": self.users, "agreements": self.agreements,
                "tokens": self.tokens, "roles": self.roles}


def init(db: StoreTarget, *, admin: str = "admin", admin_name: str = "Administrator", samples: bool = False,
         tokens: bool = False, today: date | None = None, origin: str = "cli") -> InitResult:
    """Create a store with its first administrator; with ``samples``, the sample users (one per
    role) and sample matching agreements in force from this month. ``tokens`` issues an API
    token per user (shown once; only hashes are kept).

    Initialisation is the one place roles are held without a second approver: there is no
    second administrator yet. Each sample user is still an audited ``users.manage`` action by
    the administrator, and its grants are recorded as made at initialisation."""
    exists = f"{describe(db)}: a store already exists here; `accord init` only creates new stores"
    if file_exists(db):
        raise StoreError(exists)
    with governed(db, origin=origin, create=True, today=today) as gate:
        store = gate.store
        if not store.created:           # a PostgreSQL database that already holds a store
            raise StoreError(exists)
        with store.transaction():
            user_store.add_user(store, admin, admin_name, ["admin"], None, created_by="accord init",
                                reg=gate.registry, note=INIT_NOTE)
            audit_log.append(store, audit_log.Event(user_id=admin, action="store.init", origin=origin,
                                                    details={"registry": gate.registry.version}))
        result = InitResult(db, admin, [admin], roles={admin: ["admin"]})
        if samples:
            for uid, name, roles, org in USERS:
                with (gate.act(admin, "users.manage", details={"add": uid, "roles": list(roles),
                                                               "organisation": org, "bootstrap": True}),
                      store.transaction()):
                    user_store.add_user(store, uid, name, list(roles), org, created_by=admin,
                                        reg=gate.registry, note=INIT_NOTE)
                result.users.append(uid)
                result.roles[uid] = list(roles)
            folder = beside(db, "-agreements")
            for path in write_agreements(folder, gate.today):
                a = add_agreement(db, path, user="pat", origin=origin, _gate=gate)
                result.agreements.append(a.id)
        if tokens:
            for uid in result.users:
                result.tokens[uid] = issue_token(db, uid, user=admin, origin=origin, _gate=gate)
        return result


def _gate_or_open(db: StoreTarget, origin: str, gate: Any, today: date | None = None) -> Any:
    from contextlib import nullcontext

    return nullcontext(gate) if gate is not None else governed(db, origin=origin, today=today)


@contextlib.contextmanager
def _conflicts_recorded(act: Any) -> Iterator[None]:
    """A grant refused for incompatible roles: the pairs and rules go into the audit event."""
    try:
        yield
    except user_store.RoleConflict as e:
        act.details["refused_incompatible"] = [f"{c.roles[0]} + {c.roles[1]} ({c.rule})" for c in e.conflicts]
        raise


def _user_out(gate: Any, actor: user_store.Actor,
              pending: list[user_store.Grant] | None = None) -> UserOut:
    """A user as the front ends show it: roles in effect, grants waiting for a second
    administrator, and any incompatible roles held (stores from before the rules)."""
    if pending is None:
        pending = user_store.list_grants(gate.store, state="pending", user_id=actor.user_id)
    return UserOut(user_id=actor.user_id, name=actor.name, roles=list(actor.roles),
                   organisation=actor.organisation, active=actor.active,
                   pending_grants=[_grant(g) for g in pending],
                   conflicts=[str(c) for c in gate.registry.conflicts(actor.roles)])


def _grant(grant: user_store.Grant) -> GrantOut:
    return GrantOut.model_validate(grant.to_dict())


def _grant_outcome(grants: list[user_store.Grant]) -> str:
    now = [g.role for g in grants if g.state == "granted"]
    waiting = [f"{g.role} ({g.grant_id})" for g in grants if g.state == "pending"]
    parts = ([f"in effect: {', '.join(now)}"] if now else []) + (
        [f"awaiting a second administrator: {', '.join(waiting)}"] if waiting else [])
    return "; ".join(parts) or "no roles"


def add_user(db: StoreTarget, user_id: str, name: str, roles: list[str], organisation: str | None, *,
             user: str, origin: str = "cli", _gate: Any = None) -> UserOut:
    """Register a user and ask for their roles (admin). A role that needs a second approver
    (one that reads person data, or oversight) waits as a pending grant until another
    administrator approves it (:func:`approve_grant`); the others take effect at once. Roles
    the registry declares incompatible are refused, naming both and the rule."""
    details = {"add": user_id, "roles": roles, "organisation": organisation}
    with _gate_or_open(db, origin, _gate) as gate, gate.act(user, "users.manage", details=details) as act:
        with _conflicts_recorded(act), gate.store.transaction():
            user_store.register_user(gate.store, user_id, name, organisation, created_by=user)
            grants = user_store.request_grants(gate.store, user_id, roles, requested_by=user,
                                               reg=gate.registry)
            actor = user_store.get_actor(gate.store, user_id)
        assert actor is not None
        act.details["grants"] = {g.grant_id: f"{g.role}: {g.state}" for g in grants}
        act.outcome = f"user {user_id} added; {_grant_outcome(grants)}"
        return _user_out(gate, actor)


def list_users(db: StoreTarget, *, user: str, origin: str = "cli") -> list[UserOut]:
    """Users with their roles in effect, pending grants and any incompatible roles they hold."""
    with governed(db, origin=origin) as gate, gate.act(user, "users.read"):
        pending = user_store.pending_by_user(gate.store)
        return [_user_out(gate, a, pending.get(a.user_id, [])) for a in user_store.list_users(gate.store)]


def grant_roles(db: StoreTarget, user_id: str, roles: list[str], *, user: str,
                origin: str = "cli") -> list[GrantOut]:
    """Ask for more roles for an existing user (admin): as :func:`add_user`, a role that needs
    a second approver waits for one; incompatible combinations are refused."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"grant_to": user_id, "roles": roles}) as act:
        with _conflicts_recorded(act), gate.store.transaction():
            grants = user_store.request_grants(gate.store, user_id, roles, requested_by=user,
                                               reg=gate.registry)
        act.details["grants"] = {g.grant_id: f"{g.role}: {g.state}" for g in grants}
        act.outcome = f"roles for {user_id}: {_grant_outcome(grants)}"
        return [_grant(g) for g in grants]


def list_grants(db: StoreTarget, *, user: str, state: str | None = None, user_id: str | None = None,
                origin: str = "cli") -> list[GrantOut]:
    """Role grants, oldest first, by state (pending, granted, rejected, removed) and user (admin)."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.read", details={"grants": state or "all", "of": user_id}):
        return [_grant(g) for g in user_store.list_grants(gate.store, state=state, user_id=user_id)]


def approve_grant(db: StoreTarget, grant_id: str, *, user: str, user_id: str | None = None,
                  origin: str = "cli") -> GrantOut:
    """Approve a pending role grant as the second administrator: the role takes effect. The
    administrator who asked for it cannot approve it, nor can the user it is for; a grant that
    would now give incompatible roles is refused."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"approve_grant": grant_id}) as act:
        with _conflicts_recorded(act), gate.store.transaction():
            grant = user_store.approve_grant(gate.store, grant_id, user, user_id=user_id, reg=gate.registry)
        act.details.update(user=grant.user_id, role=grant.role, requested_by=grant.requested_by)
        act.outcome = f"grant {grant_id} approved: {grant.user_id} holds {grant.role}"
        return _grant(grant)


def reject_grant(db: StoreTarget, grant_id: str, reason: str, *, user: str, user_id: str | None = None,
                 origin: str = "cli") -> GrantOut:
    """Reject a pending role grant (or withdraw one's own request), with the reason."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"reject_grant": grant_id, "reason": reason}) as act:
        with gate.store.transaction():
            grant = user_store.reject_grant(gate.store, grant_id, user, reason, user_id=user_id)
        act.details.update(user=grant.user_id, role=grant.role)
        act.outcome = f"grant {grant_id} rejected ({grant.role} for {grant.user_id})"
        return _grant(grant)


def remove_role(db: StoreTarget, user_id: str, role: str, *, user: str, origin: str = "cli") -> UserOut:
    """Take a role away from a user (admin; at once, as it narrows access): how a user who
    holds incompatible roles from before the rules is put right."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"remove_role": role, "of": user_id}) as act:
        with gate.store.transaction():
            actor = user_store.remove_role(gate.store, user_id, role, user)
        act.outcome = f"{role} removed from {user_id}"
        return _user_out(gate, actor)


def issue_token(db: StoreTarget, user_id: str, *, user: str, origin: str = "cli", _gate: Any = None) -> str:
    """A new API token for a user (admin only). Shown once; the store keeps its hash."""
    with (_gate_or_open(db, origin, _gate) as gate,
          gate.act(user, "users.manage", details={"token_for": user_id}),
          gate.store.transaction()):
        return user_store.issue_token(gate.store, user_id, issued_by=user)


def list_tokens(db: StoreTarget, user_id: str, *, user: str, origin: str = "cli") -> list[TokenInfoOut]:
    """A user's API tokens by id, with who issued them and when, and whether revoked (admin).
    Never the tokens themselves (only their hashes are kept)."""
    with governed(db, origin=origin) as gate, gate.act(user, "users.read", details={"tokens_of": user_id}):
        return [TokenInfoOut.model_validate(t) for t in user_store.list_tokens(gate.store, user_id)]


def revoke_token(db: StoreTarget, user_id: str, token: str, *, user: str,
                 origin: str = "cli") -> TokenRevokedOut:
    """Revoke one of a user's tokens, named by its id (or the token itself) (admin). It stops
    authenticating at once, and the web sessions signed in with it end."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"revoke_token_of": user_id}) as act:
        with gate.store.transaction():
            revoked = user_store.revoke_token(gate.store, user_id, token)
        act.details["token"] = revoked
        act.outcome = f"token {revoked} of {user_id} revoked"
        return TokenRevokedOut(user_id=user_id, token_id=revoked, revoked=True)


def deactivate_user(db: StoreTarget, user_id: str, *, user: str, origin: str = "cli") -> UserOut:
    """Deactivate a user (admin): none of their tokens authenticates any more and their web
    sessions end; their audit history stays. An administrator cannot deactivate themselves."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "users.manage", details={"deactivate": user_id}) as act:
        if user_id == user:
            raise user_store.UserError(f"{user} cannot deactivate themselves (ask another administrator)")
        with gate.store.transaction():
            actor = user_store.deactivate_user(gate.store, user_id)
        act.outcome = f"user {user_id} deactivated"
        return _user_out(gate, actor)


def add_agreement(db: StoreTarget, path: Path, *, user: str, origin: str = "cli", today: date | None = None,
                  _gate: Any = None) -> AgreementAddedOut:
    """Validate and record a matching agreement (a new version if its id exists)."""
    with _gate_or_open(db, origin, _gate, today) as gate, gate.act(
            user, "agreements.manage", details={"file": str(path)}) as act:
        with gate.store.transaction():
            a, version = store_agreement(gate.store, path, gate.registry, added_by=user)
        act.outcome = f"agreement {a.id} version {version} ({a.state(gate.today)})"
        act.details.update(agreement=a.id, version=version)
        return AgreementAddedOut(id=a.id, version=version, state=a.state(gate.today))


def agreements(db: StoreTarget, *, user: str, origin: str = "cli",
               today: date | None = None) -> list[AgreementSummaryOut]:
    """Matching agreements (their newest versions) with their term and state today."""
    with governed(db, origin=origin, today=today) as gate, gate.act(user, "agreements.read"):
        return [AgreementSummaryOut.model_validate(a) for a in list_agreements(gate.store, gate.today)]


def show_agreement(db: StoreTarget, agreement_id: str, *, user: str, origin: str = "cli",
                   today: date | None = None) -> AgreementOut:
    """One agreement in full (its newest version), with its state today."""
    with governed(db, origin=origin, today=today) as gate, gate.act(
            user, "agreements.read", details={"agreement": agreement_id}):
        a = get_agreement(gate.store, agreement_id)
        if a is None:
            raise NotFound(f"no agreement {agreement_id!r} (see `accord agreements list`)")
        return AgreementOut.model_validate(a.model_dump(mode="json") | {"state": a.state(gate.today),
                                                                        "ends_on": a.ends_on.isoformat()})


def audit_verify(db: StoreTarget, *, user: str, anchor: Path | None = None,
                 origin: str = "cli") -> audit_log.Verification:
    """Recompute the audit chain (and check an exported head is still in it). The check is
    itself recorded after it ran, so it never hides a broken chain."""
    head = None
    if anchor is not None:
        try:
            head = json.loads(anchor.read_text("utf-8"))
            int(head["seq"]), str(head["hash"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise AccordError(f"{anchor}: not an exported audit head ({e})") from None
    # The check reads the chain in a snapshot of its own, outside the action's transaction.
    with governed(db, origin=origin) as gate, gate.act(user, "audit.verify", reads_only=True) as act:
        result = audit_log.verify(gate.store, head)
        act.outcome = "intact" if result.ok else f"broken at event {result.first_bad}"
        act.details = result.to_dict()
        return result


def audit_head(db: StoreTarget, *, user: str, origin: str = "cli") -> AuditHeadOut:
    """The chain head (seq, hash) to keep outside the store, with when it was exported."""
    with governed(db, origin=origin) as gate, gate.act(user, "audit.verify", details={"export": "head"}):
        return AuditHeadOut.model_validate(audit_log.head(gate.store))


MAX_EVENTS = audit_log.MAX_EVENTS


def audit_events(db: StoreTarget, *, user: str, filter_user: str | None = None, action: str | None = None,
                 person: str | None = None, limit: int = 50, before: int | None = None,
                 origin: str = "cli") -> list[AuditEventOut]:
    """Audit events, newest first, filtered; ``before`` (a seq) pages back through the whole
    log: pass the last seq of one page to get the next (browsing is itself audited, so a seq
    cursor is stable where an offset is not). At most 1000 a call."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "audit.read", details={"user": filter_user, "action": action, "person": person,
                                         "before": before}):
        return [AuditEventOut.model_validate(e) for e in audit_log.events(
            gate.store, user=filter_user, action=action, person=person, before=before, limit=limit)]


def disclosures(db: StoreTarget, *, user: str, person: str | None = None, agreement: str | None = None,
                limit: int = 100, offset: int = 0, as_of: int | None = None,
                origin: str = "cli") -> list[DisclosureOut]:
    """The accounting of disclosures (552a(c)), newest first, a page of at most 1000 from
    ``offset``. ``as_of`` (an audit seq, e.g. the newest of the first page) pins the listing so
    that disclosures made while paging do not shift the pages."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "disclosures.read", details={"person": person, "agreement": agreement, "offset": offset,
                                               "as_of": as_of}):
        _require_agreement(gate, agreement)
        found = disclosure_page(gate.store, person=person, agreement=agreement, as_of=as_of,
                                limit=max(1, min(limit, MAX_EVENTS)), offset=max(0, offset))
        return [DisclosureOut.model_validate(row) for row in found]


def _require_agreement(gate: Any, agreement: str | None) -> None:
    """An accounting filtered by an agreement that does not exist would be empty, which reads as
    "nothing was disclosed under it": not found instead."""
    if agreement is not None and get_agreement(gate.store, agreement) is None:
        raise NotFound(f"no agreement {agreement!r} (see `accord agreements list`)")


def disclosure_summary(db: StoreTarget, *, user: str, agreement: str | None = None,
                       origin: str = "cli") -> DisclosureSummaryOut:
    """The whole accounting of disclosures counted by agreement: disclosures, distinct persons,
    (b)(7) law-enforcement ones and those that carried a statement of disagreement, with the
    purposes (most frequent first) and the newest audit seq (to page the rows ``as_of``)."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "disclosures.read", details={"summary": True, "agreement": agreement}):
        _require_agreement(gate, agreement)
        rows, newest = disclosure_counts(gate.store, agreement=agreement)
        return DisclosureSummaryOut(
            as_of=newest,
            by_agreement=[AgreementDisclosuresOut(agreement=a, disclosures=int(n), persons=int(p),
                                                  law_enforcement=int(le), with_statement=int(st),
                                                  purposes=", ".join(dict.fromkeys(x for x in purposes if x)))
                          for a, n, p, le, st, purposes in rows])


def authenticate(db: StoreTarget, token: str) -> str | None:
    """The active user an API token belongs to, or None. Not a disclosure of person data, so
    not an audited action; every request the user then makes is decided and audited."""
    with governed(db, origin="api") as gate:
        actor = user_store.actor_for_token(gate.store, token)
    return actor.user_id if actor is not None else None


# PostgreSQL settings an answered request's audit event depends on surviving a crash
# (docs/deploy.md): the value each must not have.
DURABILITY = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}


def durability_warnings(db: StoreTarget) -> list[str]:
    """What the PostgreSQL server behind ``db`` is set to that may lose audit events in a
    crash; nothing for an embedded store."""
    if not is_url(db):
        return []
    with open_store(db, create=False) as store:
        found = {name: str(store.scalar("SELECT current_setting(?)", [name])) for name in DURABILITY}
    return [f"{name} is {value} on the PostgreSQL server: a crash may lose or corrupt the audit events "
            "of requests already answered (docs/deploy.md)"
            for name, value in found.items() if value == DURABILITY[name]]
