"""Source commands: ``accord sources`` lists the sources; ``accord sources show SOURCE`` gives
one source's system, stored mapping and batches (each with its mapping's hash);
``accord sources retire SOURCE`` retires a source registered by mistake that holds no records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import (
    DEFAULT_DB,
    DbOption,
    Deferred,
    JsonOption,
    TokenOption,
    UserOption,
    _acting,
    app,
    as_json_out,
    command_group,
    fail,
    out,
    table,
    who,
)
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord import services
else:
    services = Deferred("accord.services")   # imported when a command runs

sources_app = command_group("Sources: list them (`accord sources`), show one, retire one registered by "
                            "mistake.")
app.add_typer(sources_app, name="sources", no_args_is_help=False, invoke_without_command=True)

SourceArgument = Annotated[str, typer.Argument(metavar="SOURCE", show_default=False,
                                               help="The source's name (the mapping's source:).")]


@sources_app.callback(invoke_without_command=True)
def sources(ctx: typer.Context, db: DbOption = DEFAULT_DB, user: UserOption = None,
            as_json: JsonOption = False, acting_token: TokenOption = None) -> None:
    """List the sources in the store with record and version counts (`accord sources show
    SOURCE`: one source's mapping and batches; `accord sources retire SOURCE`: retire a source
    that holds no records)."""
    if ctx.invoked_subcommand is not None:
        early = [f"--{name.replace('as_json', 'json').replace('acting_token', 'token')}"
                 for name in ("db", "user", "as_json", "acting_token")
                 if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"]
        if early:
            fail(AccordError(f"{', '.join(early)} before `{ctx.invoked_subcommand}` would be ignored: give "
                             f"it after the command (accord sources {ctx.invoked_subcommand} SOURCE "
                             f"{' '.join(early)} ...)"))
        return
    _acting(_list)(db=db, user=user, as_json=as_json, acting_token=acting_token)


def _list(db: str, user: str | None, as_json: bool) -> None:
    try:
        rows = services.sources(db, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        from accord.cli.listing import whole

        as_json_out(whole(rows))
        return
    table(["source", "system", "records", "versions", "quarantined (last batch)", "last batch"],
          [list(r.plain().values()) for r in rows])


@sources_app.command("show")
def show(source: SourceArgument, db: DbOption = DEFAULT_DB, user: UserOption = None,
         as_json: JsonOption = False) -> None:
    """One source: its record system, the mapping stored with its last batch, the records it
    holds, and every batch with the SHA-256 of the mapping it was read with."""
    try:
        d = services.source_show(db, source, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(d)
        return
    out.print(f"source [bold]{d.source}[/bold]: system {d.system}, {d.format}; {d.records:,} records "
              f"({d.versions:,} versions); batches {d.first_batch} to {d.last_batch}", highlight=False)
    out.print(f"mapping of the last batch (sha256 {d.mapping_sha256}):", highlight=False)
    out.print(d.mapping_yaml.rstrip(), highlight=False, markup=False)
    table(["batch", "system", "file", "mapping sha256", "user", "finished", "rows", "accepted",
           "unchanged", "quarantined", "flagged"],
          [[b.batch, b.system, b.file_name,
            b.mapping_sha256[:12] + (" (current)" if b.mapping_sha256 == d.mapping_sha256 else ""),
            b.user_id, b.finished_at[:19], b.rows_read, b.accepted, b.unchanged, b.quarantined, b.flagged]
           for b in d.batches], title=f"batches of {d.source}")


@sources_app.command("retire")
def retire(source: SourceArgument, db: DbOption = DEFAULT_DB, user: UserOption = None,
           as_json: JsonOption = False) -> None:
    """Retire a source that holds no records (registered by mistake, under a wrong system, say),
    so that its name can be registered again; refused, with the reason, when it holds records.
    Its batches and quarantined rows stay. Audited (administrator or data engineer)."""
    try:
        r = services.source_retire(db, source, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(r)
        return
    out.print(f"source {r.source} (system {r.system}) retired; its {r.batches} batches stay in "
              f"`accord batches`; the name {r.source} can be registered again", highlight=False)
