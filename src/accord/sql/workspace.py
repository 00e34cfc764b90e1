"""Where a stage that computes in DuckDB (ingest's validation, standardisation, resolution) runs
its SQL, whichever engine holds the store.

The embedded store *is* a DuckDB database: the stage computes on it directly and the
workspace is the store itself (every method below is then a no-op). A store on another engine
(PostgreSQL has no Jaro-Winkler and is the wrong engine for scoring pairs) gets a private
in-process DuckDB store beside it, in a temporary folder, with the same schema: the stage
brings in the rows it reads (:meth:`Workspace.bring`), computes exactly as on the embedded
store, and publishes what it wrote back to the store (:meth:`Workspace.publish`) inside the
store's transaction, so the results land all together or not at all. The workspace is deleted
when the stage ends, however it ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from accord.sql_text import ident
from accord.store import DuckDBStore, Store
from accord.store import transfer as tr


class Workspace:
    """The store a stage computes on (:attr:`compute`) beside the store its results belong to
    (:attr:`home`)."""

    def __init__(self, home: Store, compute: Store) -> None:
        self.home, self.compute = home, compute

    @property
    def separate(self) -> bool:
        """Whether the stage computes in a DuckDB of its own (the store is on another engine)."""
        return self.compute is not self.home

    def bring(self, table: str, select: str | None = None, params: Sequence[Any] | None = None) -> int:
        """Fill the workspace's ``table`` with the rows ``select`` gives on the store (default:
        every row of the store's table of that name); returns the rows brought."""
        if not self.separate:
            return 0
        data = self.home.read_arrow(select or f"SELECT * FROM {ident(table)}", params)
        with self.compute.transaction():
            self.compute.changed()
            self.compute.write(f"DELETE FROM {ident(table)}")
            if data.num_rows:
                self.compute.bulk_load(table, data)
        return int(data.num_rows)

    def bring_sequence(self, name: str) -> None:
        """Start the workspace's sequence ``name`` where the store's stands."""
        if self.separate:
            with self.compute.transaction():
                self.compute.changed()
                tr.advance_sequence(self.compute, name, tr.sequence_at(self.home, name))

    def publish(self, table: str, *, where: str = "", params: Sequence[Any] | None = None,
                replace: bool = False, computed: bool = False) -> int:
        """Append the workspace's rows of ``table`` (those ``where`` selects) to the store's.
        ``replace``: the store's rows go first. ``computed``: a table the stage makes as it
        computes (no schema module declares it): the store's is made afresh with the
        workspace's columns. Inside the store's transaction, which the caller holds."""
        if not self.separate:
            return 0
        if computed:
            self.home.write(f"DROP TABLE IF EXISTS {ident(table)}")
            tr.ensure_table(self.compute, self.home, table)
        elif replace:
            self.home.write(f"DELETE FROM {ident(table)}")
        return tr.copy_rows(self.compute, self.home, table, where=where, params=params)

    def publish_sequence(self, name: str) -> None:
        """Move the store's sequence ``name`` past what the workspace handed out."""
        if self.separate:
            tr.advance_sequence(self.home, name, tr.sequence_at(self.compute, name))


@contextlib.contextmanager
def workspace(store: Store) -> Iterator[Workspace]:
    """The workspace for a stage on ``store`` (see the module's description)."""
    if isinstance(store, DuckDBStore):
        yield Workspace(store, store)
        return
    folder = Path(tempfile.mkdtemp(prefix="accord-workspace-"))
    try:
        with DuckDBStore(folder / "workspace.duckdb") as local:
            yield Workspace(store, local)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
