"""Store commands: copying a whole store to another engine (``accord store copy``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import (
    Deferred,
    JsonOption,
    UserOption,
    app,
    as_json_out,
    command_group,
    err,
    fail,
    out,
    progress_bars,
    table,
    unauthenticated_origin,
    who,
)
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.services import store_admin
else:
    store_admin = Deferred("accord.services.store_admin")   # imported when a command runs

store_app = command_group("The store itself: moving it between engines (admin role).")
app.add_typer(store_app, name="store")


@store_app.command("copy")
def store_copy(
    source: Annotated[str, typer.Option("--from", show_default=False,
                                        help="The store to copy: an embedded DuckDB file or a postgresql:// "
                                             "URL. Opened read-only; it must be at this accord's schema "
                                             "version.")],
    target: Annotated[str, typer.Option("--to", show_default=False,
                                        help="Where the copy goes: a new file, or a postgresql:// URL of "
                                             "a database with no tables.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy a whole store to a new store on either engine (embedded <-> PostgreSQL), as an
    administrator of the source: one transaction, checked before it commits (rows of every
    table, sequences, the audit chain), recorded in the copy's audit chain."""
    from accord.services.context import cli_origin
    from accord.store.target import store_target

    acting = who(user)
    try:
        with cli_origin(unauthenticated_origin()), progress_bars(not as_json) as bars:
            task = bars.add_task("copying", total=None, detail="")
            result = store_admin.copy(store_target(source), store_target(target), user=acting,
                                      progress=lambda t, n: bars.update(task, description=t,
                                                                        detail=f"{n:,} rows"))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain())
        return
    table(["table", "rows"], [[t.table, t.rows] for t in result.tables if t.rows],
          title=f"{result.source} ({result.source_engine}) -> {result.target} ({result.target_engine})")
    empty = [t.table for t in result.tables if not t.rows]
    if empty:
        err.print(f"empty tables (copied as they are): {', '.join(empty)}", highlight=False)
    out.print(f"copied {result.rows:,} rows in {len(result.tables)} tables; every table's rows counted on "
              f"both stores, sequences continue past the copied ids; audit chain intact "
              f"({result.audit_events:,} events), ending at the source's head (event "
              f"{result.source_head['seq']}) and then the copy's own event {result.copy_event}",
              highlight=False)
