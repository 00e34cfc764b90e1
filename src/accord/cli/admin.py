"""Administration commands: init, users, agreements, audit, disclosures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import (
    DEFAULT_DB,
    DbOption,
    Deferred,
    JsonOption,
    UserOption,
    app,
    as_json_out,
    command_group,
    describe,
    err,
    fail,
    out,
    table,
    who,
)
from accord.cli.listing import (
    FormatOption,
    JsonAlwaysOption,
    OutOption,
    export_instead,
    fetch_size,
    whole,
    window,
)
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord import services
    from accord.services.results import GrantOut
else:
    services = Deferred("accord.services")   # imported when a command runs

users_app = command_group("Users and API tokens (admin role).")
agreements_app = command_group("Computer matching agreements (552a(o)).")
audit_app = command_group("The tamper-evident audit chain.")
app.add_typer(users_app, name="users")
app.add_typer(agreements_app, name="agreements")
app.add_typer(audit_app, name="audit")


@app.command()
def init(
    db: DbOption = DEFAULT_DB,
    admin: Annotated[str, typer.Option("--admin", help="User id of the first administrator.")] = "admin",
    name: Annotated[str, typer.Option("--name", help="The administrator's name.")] = "Administrator",
    samples: Annotated[bool, typer.Option("--samples", help="Also create the sample users (one per "
                                          "role) and sample matching agreements.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a new store with its first administrator."""
    try:
        result = services.init(db, admin=admin, admin_name=name, samples=samples)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.to_dict())
        return
    out.print(f"store {describe(db)} created; administrator: {admin}", highlight=False)
    if samples:
        out.print(f"sample users: {', '.join(result.users[1:])}; agreements: {', '.join(result.agreements)}",
                  highlight=False)


def _grants_said(grants: list[GrantOut]) -> str:
    now = [g.role for g in grants if g.state == "granted"]
    waiting = [f"{g.role} (grant {g.grant_id})" for g in grants if g.state == "pending"]
    said = [f"in effect: {', '.join(now)}"] if now else []
    if waiting:
        said.append(f"awaiting a second administrator's approval: {', '.join(waiting)} "
                    "(`accord users approve-grant GRANT_ID`, by another administrator)")
    return "; ".join(said)


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="New user's id (lowercase).")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable).")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    organisation: Annotated[str | None, typer.Option("--org", help="Organisation (a party of the "
                                                     "agreements the user works under).")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a user and ask for their roles: a role that reads person data (or oversight)
    takes effect when another administrator approves it; incompatible roles are refused."""
    try:
        added = services.add_user(db, user_id, name, role, organisation, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(added)
        return
    said = [f"in effect: {', '.join(added.roles)}"] if added.roles else []
    if added.pending_grants:
        said.append(_grants_said(added.pending_grants))
    out.print(f"user {added.user_id} added; {'; '.join(said)}", highlight=False)


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB, user: UserOption = None,
               as_json: JsonOption = False) -> None:
    """List users, their roles in effect and pending; users holding incompatible roles are marked."""
    try:
        rows = services.list_users(db, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["user", "name", "roles", "pending", "organisation", "active", "incompatible roles"],
          [[r.user_id, r.name, ", ".join(r.roles),
            ", ".join(f"{g.role} ({g.grant_id})" for g in r.pending_grants), r.organisation or "",
            r.active, "; ".join(f"! {c}" for c in r.conflicts)] for r in rows])
    marked = [r.user_id for r in rows if r.conflicts]
    if marked:
        err.print(f"[red]{len(marked)} user(s) hold incompatible roles:[/red] {', '.join(marked)}; remove "
                  "one role each (`accord users remove-role ID --role R`)", highlight=False)


@users_app.command("grant")
def users_grant(
    user_id: Annotated[str, typer.Argument(help="User to give more roles.")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable).")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for more roles for a user (as `users add`: a second administrator approves roles
    that read person data; incompatible roles are refused)."""
    try:
        grants = services.grant_roles(db, user_id, role, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(grants))
        return
    out.print(f"roles for {user_id}: {_grants_said(grants)}", highlight=False)


@users_app.command("grants")
def users_grants(
    state: Annotated[str | None, typer.Option("--state", help="Only grants in this state: pending, "
                                              "granted, rejected or removed.")] = None,
    of: Annotated[str | None, typer.Option("--of", help="Only grants for this user.")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List role grants, oldest first (--state pending: those waiting for a second administrator)."""
    try:
        rows = services.list_grants(db, user=who(user), state=state, user_id=of)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["grant", "user", "role", "state", "asked by", "asked (UTC)", "decided by", "note"],
          [[r.grant_id, r.user_id, r.role, r.state, r.requested_by, r.requested_at[:19],
            r.decided_by or "", r.note or ""] for r in rows])


@users_app.command("approve-grant")
def users_approve_grant(
    grant_id: Annotated[str, typer.Argument(help="The pending grant (`accord users grants --state "
                                            "pending`).")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a pending role grant as the second administrator: the role takes effect."""
    try:
        grant = services.approve_grant(db, grant_id, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(grant)
        return
    out.print(f"grant {grant.grant_id} approved: {grant.user_id} now holds {grant.role}",
              highlight=False)


@users_app.command("reject-grant")
def users_reject_grant(
    grant_id: Annotated[str, typer.Argument(help="The pending grant.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected (recorded).")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a pending role grant (or withdraw your own request)."""
    try:
        grant = services.reject_grant(db, grant_id, reason, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(grant)
        return
    out.print(f"grant {grant.grant_id} rejected ({grant.role} for {grant.user_id})", highlight=False)


@users_app.command("remove-role")
def users_remove_role(
    user_id: Annotated[str, typer.Argument(help="User to take a role from.")],
    role: Annotated[str, typer.Option("--role", help="The role to remove.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take a role away from a user at once (e.g. one of two incompatible roles)."""
    try:
        changed = services.remove_role(db, user_id, role, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(changed)
        return
    out.print(f"{role} removed from {user_id}; roles now: {', '.join(changed.roles) or 'none'}",
              highlight=False)


@users_app.command("token")
def users_token(
    user_id: Annotated[str, typer.Argument(help="User to issue an API token for.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an API bearer token (shown once; only its hash is stored)."""
    try:
        token = services.issue_token(db, user_id, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out({"user_id": user_id, "token": token})
        return
    out.print(token, highlight=False)


@users_app.command("tokens")
def users_tokens(
    user_id: Annotated[str, typer.Argument(help="User whose tokens to list.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a user's API tokens by id (never the tokens), with whether each is revoked."""
    try:
        rows = services.list_tokens(db, user_id, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["token id", "issued (UTC)", "issued by", "revoked"],
          [[r.token_id, r.issued_at[:19], r.issued_by, (r.revoked_at or "")[:19]] for r in rows])


@users_app.command("revoke-token")
def users_revoke_token(
    user_id: Annotated[str, typer.Argument(help="User whose token to revoke.")],
    token: Annotated[str, typer.Argument(help="The token's id (`accord users tokens ID`) or the token.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token: it stops authenticating at once, and its web sessions end."""
    try:
        result = services.revoke_token(db, user_id, token, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result)
        return
    out.print(f"token {result.token_id} of {user_id} revoked", highlight=False)


@users_app.command("deactivate")
def users_deactivate(
    user_id: Annotated[str, typer.Argument(help="User to deactivate.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate a user: none of their tokens works any more and their web sessions end."""
    try:
        changed = services.deactivate_user(db, user_id, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(changed)
        return
    out.print(f"user {user_id} deactivated", highlight=False)


@agreements_app.command("add")
def agreements_add(
    file: Annotated[Path, typer.Argument(help="Agreement YAML.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate and record a matching agreement (a new version if its id exists)."""
    try:
        added = services.add_agreement(db, file, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(added)
        return
    out.print(f"agreement {added.id} version {added.version} recorded ({added.state})",
              highlight=False)


@agreements_app.command("list")
def agreements_list(db: DbOption = DEFAULT_DB, user: UserOption = None,
                    as_json: JsonOption = False) -> None:
    """List agreements with their term and whether they are in force today."""
    try:
        rows = services.agreements(db, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["id", "version", "purpose", "start", "end", "state", "title"],
          [[r.id, r.version, r.purpose, r.start, r.end, r.state, r.title] for r in rows])


@agreements_app.command("show")
def agreements_show(
    agreement_id: Annotated[str, typer.Argument(help="Agreement id.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonAlwaysOption = True,
) -> None:
    """Show one agreement in full (as JSON)."""
    del as_json
    try:
        as_json_out(services.show_agreement(db, agreement_id, user=who(user)))
    except AccordError as e:
        fail(e)


@audit_app.command("verify")
def audit_verify(
    db: DbOption = DEFAULT_DB,
    head: Annotated[Path | None, typer.Option("--head", help="An exported head (`accord audit head`) "
                                              "that must still be in the chain.")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain: exit 0 when intact, 1 naming the first bad event."""
    try:
        result = services.audit_verify(db, user=who(user), anchor=head)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.to_dict())
    elif result.ok:
        out.print(f"audit chain intact: {result.events:,} events, head {result.head_seq} "
                  f"{result.head_hash[:16]}…", highlight=False)
    else:
        out.print(f"[red]audit chain broken at event {result.first_bad}:[/red] {result.problem}",
                  highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(db: DbOption = DEFAULT_DB, user: UserOption = None,
               as_json: JsonAlwaysOption = True) -> None:
    """Print the chain head as JSON, to keep outside the store and check later with --head."""
    del as_json
    try:
        out.print(json.dumps(services.audit_head(db, user=who(user)).plain()), highlight=False)
    except AccordError as e:
        fail(e)


@audit_app.command("events")
def audit_events(
    db: DbOption = DEFAULT_DB,
    by: Annotated[str | None, typer.Option("--by", help="Only events of this user.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Action (* wildcard).")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Events touching this person.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", show_default=False,
                                              help="How many, newest first (1-1000; default 50).")] = None,
    before: Annotated[int | None, typer.Option("--before", help="Only events older than this seq (page "
                                               "back with the last seq shown).")] = None,
    export: OutOption = None,
    fmt: FormatOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Browse audit events (oversight), newest first; --before pages back through the whole log;
    --out exports every event the filters select."""
    if export_instead(export, fmt, as_json, "audit events", lambda to: services.export_audit_events(
            db, to, user=who(user), fmt=fmt, filter_user=by, action=action, person=person,
            before=before), limit=limit):
        return
    limit = 50 if limit is None else limit
    if not 1 <= limit <= services.MAX_EVENTS:
        fail(AccordError(f"--limit must be from 1 to {services.MAX_EVENTS} (got {limit})"))
    try:
        rows = services.audit_events(db, user=who(user), filter_user=by, action=action, person=person,
                                     limit=fetch_size(limit, services.MAX_EVENTS), before=before)
    except AccordError as e:
        fail(e)
    page = window(rows, limit, 0, services.MAX_EVENTS)
    next_before = page["items"][-1].seq if page["next_offset"] is not None else None
    if as_json:
        as_json_out({"items": page["items"], "limit": limit, "next_before": next_before})
        return
    table(["seq", "at (UTC)", "user", "action", "purpose", "decision", "outcome"],
          [[r.seq, r.at_utc[:19], r.user_id, r.action, r.purpose or "", r.decision,
            r.outcome] for r in page["items"]])
    if next_before is not None:
        out.print(f"more: --before {next_before}", highlight=False)


@app.command()
def disclosures(
    db: DbOption = DEFAULT_DB,
    person: Annotated[str | None, typer.Option("--person", help="One person.")] = None,
    agreement: Annotated[str | None, typer.Option("--agreement", help="One agreement.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", show_default=False,
                                              help="How many, newest first (1-1000; default 100).")] = None,
    offset: Annotated[int | None, typer.Option("--offset", show_default=False,
                                               help="Rows to skip (page through all of them).")] = None,
    as_of: Annotated[int | None, typer.Option("--as-of", help="Only disclosures up to this audit event "
                                              "(keeps pages steady while others read).")] = None,
    export: OutOption = None,
    fmt: FormatOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """The accounting of disclosures (552a(c)): date, nature, purpose, recipient; --out exports
    all of it (or one person's, one agreement's)."""
    if export_instead(export, fmt, as_json, "disclosures", lambda to: services.export_disclosures(
            db, to, user=who(user), fmt=fmt, person=person, agreement=agreement, as_of=as_of),
            limit=limit, offset=offset):
        return
    limit, offset = (100 if limit is None else limit), (offset or 0)
    if not 1 <= limit <= services.MAX_EVENTS:
        fail(AccordError(f"--limit must be from 1 to {services.MAX_EVENTS} (got {limit})"))
    if offset < 0:
        fail(AccordError(f"--offset must not be negative (got {offset})"))
    try:
        rows = services.disclosures(db, user=who(user), person=person, agreement=agreement,
                                    limit=fetch_size(limit, services.MAX_EVENTS), offset=offset, as_of=as_of)
    except AccordError as e:
        fail(e)
    pinned = as_of if as_of is not None else (rows[0].audit_seq if rows and offset == 0 else None)
    page = window(rows, limit, offset, services.MAX_EVENTS, as_of=pinned)
    if as_json:
        as_json_out(page)
        return
    table(["event", "at (UTC)", "person", "nature", "purpose", "agreement", "recipient"],
          [[r.audit_seq, r.disclosed_at[:19], r.person_id, r.nature, r.purpose,
            r.agreement or "", r.recipient] for r in page["items"]])
    if page["next_offset"] is not None:
        out.print(f"more: --offset {page['next_offset']}" + (f" --as-of {pinned}" if pinned else ""),
                  highlight=False)


@app.command()
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (a PostgreSQL store only; "
                                         "a dead worker is replaced).")] = 1,
) -> None:
    """HTTP API over the same services and gate as the CLI (bearer tokens: accord users token)."""
    from accord.api.workers import refuse_workers
    from accord.services.admin import durability_warnings

    refused = refuse_workers(db, workers)
    if refused:
        fail(AccordError(refused))
    try:
        for warning in durability_warnings(db):
            err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    except AccordError as e:
        fail(e)
    if workers > 1:
        _serve_workers(db, host, port, workers)
        return
    import uvicorn

    from accord.api.app import create_app
    from accord.services.context import keep_open, release

    try:
        keep_open(db)   # one connection per server thread, not one per request
    except AccordError as e:
        fail(e)
    out.print(f"Accord API on http://{host}:{port}/docs (store {describe(db)})", highlight=False)
    try:
        uvicorn.run(create_app(db), host=host, port=port, log_level="warning", access_log=False)
    finally:
        release(db)


def _serve_workers(db: str, host: str, port: int, workers: int) -> None:
    """Several worker processes under uvicorn's supervisor (accord.api.workers): the store and
    the settings are checked here first, so a mistake is said once, not by every worker."""
    import os

    from uvicorn import Config
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from accord.api.app import max_body_setting
    from accord.api.workers import STORE_SETTING, WORKER_APP
    from accord.store import open_store

    try:
        max_body_setting()
        open_store(db, create=False).close()
    except AccordError as e:
        fail(e)
    os.environ[STORE_SETTING] = db          # the workers' environment, never their command line
    config = Config(WORKER_APP, factory=True, host=host, port=port, workers=workers, log_level="info",
                    access_log=False)
    socket = config.bind_socket()
    out.print(f"Accord API on http://{host}:{port}/docs with {workers} workers (store {describe(db)})",
              highlight=False)
    supervisor = Multiprocess(config, sockets=[socket])
    supervisor.run()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        fail(AccordError("a worker process could not start, so the server stopped; its log above says why"))
