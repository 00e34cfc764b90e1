"""Moving a whole store to another engine (``accord store copy``): from the embedded store to
PostgreSQL, or back for an offline copy.

The source is opened read-only and must be at this accord's schema version. The target must
hold nothing yet (no file; a database with no tables). The copy is one transaction on the
target, and it is an action of the gate (``store.copy``, administrators only), decided with the
users the source holds and recorded on the target, after the copied audit chain: who copied,
from which store (never with a password), when, and how many rows of each table. Before it
commits, the copy is checked (every table's rows counted on both stores, every sequence past
the ids it copied, the copied chain intact and ending at the source's head); a refusal, a
failure or a check that fails removes what was made, so the target holds no store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.errors import StoreError
from accord.governance import audit
from accord.governance.gate import PolicyDenied
from accord.services.context import gate_over
from accord.services.results import Result
from accord.store import Store, open_store
from accord.store.target import StoreTarget, describe, is_url
from accord.store.transfer import (
    Copied,
    Progress,
    check_copy,
    copy_sequences,
    copy_tables,
    count_rows,
    new_store,
    prepare_copy,
)

# What the gate reads to decide who may copy (the acting user and their roles), and the table
# a gate records its registry's version in: copied before the gate is asked.
DECIDED_FROM = ("users", "role_grants", "registry_versions")


class TableCopyOut(Result):
    """One table of a copy: its rows, counted on both stores (and found equal)."""

    table: str
    rows: int


class StoreCopyOut(Result):
    source: str
    target: str
    source_engine: str
    target_engine: str
    tables: list[TableCopyOut]
    rows: int
    sequences: dict[str, int]
    audit_events: int
    source_head: dict[str, Any]
    target_head: dict[str, Any]
    copy_event: int


class CopyRefused(PolicyDenied):
    """The gate refused the copy. Nothing records the refusal: the source is opened read-only,
    and the target, where the refusal was decided, was left as it was."""

    def __init__(self, refused: PolicyDenied) -> None:
        super().__init__(refused.action, refused.reasons, 0)
        self.args = (f"refused: {refused.action}: {'; '.join(refused.reasons)}; nothing was copied, and "
                     "the refusal is recorded nowhere (the source is opened read-only, the target was "
                     "left as it was)",)


def copy(source: StoreTarget, target: StoreTarget, *, user: str, origin: str = "cli",
         progress: Progress | None = None) -> StoreCopyOut:
    """Copy the store at ``source`` into a new store at ``target`` as ``user`` (an
    administrator of the source), checked before it commits; see the module's description."""
    with open_store(source, read_only=True, create=False) as src, src.snapshot(), new_store(target) as dst:
        try:
            copied, event = _copy(src, dst, user=user, origin=origin, source=source, progress=progress)
        except PolicyDenied as e:
            raise CopyRefused(e) from None
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"copying {describe(source)} to {describe(target)} failed and was undone, "
                             f"so {describe(target)} holds no store: {_first_cause(e)}") from e
        chain = audit.verify(dst)
        if not chain.ok:
            raise StoreError(f"{describe(target)}: the copy's audit chain does not verify after commit "
                             f"({chain.problem}); it was removed")
        head = audit.chain_head(src)
        tables = [TableCopyOut(table=t, rows=n) for t, n in sorted(copied.tables.items())]
        return StoreCopyOut(
            source=describe(source), target=describe(target), source_engine=src.dialect.name,
            target_engine=dst.dialect.name, tables=tables, rows=copied.rows, sequences=copied.sequences,
            audit_events=chain.events, source_head={"seq": head[0], "hash": head[1]},
            target_head={"seq": chain.head_seq, "hash": chain.head_hash}, copy_event=event)


def _copy(src: Store, dst: Store, *, user: str, origin: str, source: StoreTarget,
          progress: Progress | None) -> tuple[Copied, int]:
    copied = Copied()
    with dst.transaction():
        tables = prepare_copy(src, dst)
        first = [t for t in tables if t in DECIDED_FROM]
        copy_tables(src, dst, first, copied, progress=progress)
        gate = gate_over(dst, origin=origin)    # records this accord's registry, if the source lacks it
        added = {t: n - copied.tables.get(t, 0) for t, n in count_rows(dst, ["registry_versions"]).items()}
        with gate.act(user, "store.copy", details={"from": _named(source),
                                                   "engine": src.dialect.name}) as activity:
            copy_tables(src, dst, [t for t in tables if t not in DECIDED_FROM], copied, progress=progress)
            copy_sequences(src, dst, copied)
            problems = check_copy(src, dst, copied, added=added)
            source_head, copy_head = audit.chain_head(src), audit.chain_head(dst)
            if copy_head != source_head:
                problems.append(f"the copy's audit chain ends at event {copy_head[0]}, the source's at "
                                f"{source_head[0]}")
            chain = audit.verify(dst, {"seq": source_head[0], "hash": source_head[1]})
            if not chain.ok:
                problems.append(f"the copy's audit chain does not verify: {chain.problem}")
            if problems:
                raise StoreError(f"the copy of {describe(source)} does not match it, so it was undone: "
                                 + "; ".join(problems))
            activity.details.update(rows=copied.tables, sequences=copied.sequences,
                                    source_head={"seq": source_head[0], "hash": source_head[1]})
        event = audit.chain_head(dst)[0]
    return copied, event


def _named(target: StoreTarget) -> str:
    """The store as the copy's event names it: a file by its absolute path, a database by its
    URL without the password."""
    return describe(target) if is_url(target) else str(Path(target).resolve())


def _first_cause(e: BaseException) -> str:
    """The error that began a failure (a failed statement on PostgreSQL makes the rest of its
    transaction fail too, with a message that says only that)."""
    while e.__context__ is not None:
        e = e.__context__
    return " ".join(str(e).split()) or type(e).__name__
