"""Moving rows between stores, in bulk: the one place a table crosses from one engine to another.

Used where a stage computes in an in-process DuckDB beside a store on another engine
(:mod:`accord.sql.workspace`: copies in, results back), and to move a whole embedded store to
PostgreSQL (:func:`copy_store`, ``accord store copy``). Rows travel as Arrow
(``Store.read_arrow`` / ``Store.bulk_load``); tables a stage makes as it computes (resolution's
``features``, say), which no schema module declares, are created on the receiving store from
the sending store's column types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from accord.errors import StoreError
from accord.sql_text import ident
from accord.store.base import DATA_VERSION_TABLE, Store
from accord.store.target import StoreTarget, describe, is_url

# The store's own bookkeeping: never copied (each store keeps its own).
BOOKKEEPING = frozenset({"accord_meta", "accord_migrations", DATA_VERSION_TABLE})
# Tables a new store starts with a row in (the audit chain's head at its genesis): a copy
# replaces that row with the sending store's.
STARTS_FILLED = frozenset({"audit_head"})
Progress = Callable[[str, int], None]


def base_tables(store: Store) -> list[str]:
    """The store's tables (not views, not a transaction's temporary tables), by name."""
    rows = store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema = current_schema() ORDER BY table_name")
    return [str(r[0]) for r in rows]


def column_types(store: Store, table: str) -> list[tuple[str, str]]:
    """(column, type in the store's SQL) of ``table``, in order."""
    if store.dialect.name == "duckdb":
        rows = store.query("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                           "AND schema_name = current_schema() AND database_name = current_database() "
                           "ORDER BY column_index", [table])
    else:
        rows = store.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum", [table])
    return [(str(n), str(t)) for n, t in rows]


# DuckDB types PostgreSQL has no name for, and the PostgreSQL type that holds every value.
_WIDER_FOR_POSTGRES = {"TINYINT": "SMALLINT", "UTINYINT": "SMALLINT", "USMALLINT": "INTEGER",
                       "UINTEGER": "BIGINT", "UBIGINT": "NUMERIC", "HUGEINT": "NUMERIC",
                       "UHUGEINT": "NUMERIC"}


def _type_for(sql_type: str, source: str, target: str) -> str:
    if source == target:
        return sql_type
    if target == "postgres":
        base, brackets = sql_type.partition("[")[0].strip(), sql_type[len(sql_type.partition("[")[0]):]
        if base.upper() in _WIDER_FOR_POSTGRES:
            return _WIDER_FOR_POSTGRES[base.upper()] + brackets
    return exp.DataType.build(sql_type, dialect=source).sql(dialect=target)


def ensure_table(src: Store, dst: Store, table: str) -> None:
    """Create ``table`` on ``dst`` with ``src``'s columns when ``dst`` has no such table (a table
    a stage made as it computed; the declared ones exist on every store)."""
    if column_types(dst, table):
        return
    cols = column_types(src, table)
    if not cols:
        raise StoreError(f"{table}: no such table on the sending store")
    target = "postgres" if dst.dialect.name == "postgresql" else "duckdb"
    source = "postgres" if src.dialect.name == "postgresql" else "duckdb"
    body = ", ".join(f"{ident(n)} {_type_for(t, source, target)}" for n, t in cols)
    dst.write(f"CREATE TABLE {ident(table)} ({body})")


def copy_rows(src: Store, dst: Store, table: str, *, where: str = "", params: Sequence[Any] | None = None,
              into: str | None = None, columns: Sequence[str] | None = None) -> int:
    """Append the rows of ``table`` on ``src`` (those ``where`` selects) to ``into`` (default
    the same name) on ``dst``, in the columns both have. The caller declares the transaction."""
    target = into or table
    if columns is None:
        theirs = {n for n, _ in column_types(dst, target)}
        columns = [n for n, _ in column_types(src, table) if n in theirs]
    names = ", ".join(ident(c) for c in columns)
    data = src.read_arrow(f"SELECT {names} FROM {ident(table)} {where}", params)
    if data.num_rows == 0:
        return 0
    return dst.bulk_load(target, data, list(columns))


@dataclass
class Copied:
    tables: dict[str, int] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def sequence_at(store: Store, name: str) -> int:
    """The last value ``name`` handed out on ``store`` (0 if none)."""
    if store.dialect.name == "postgresql":
        value = store.scalar(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {ident(name)}")
    else:
        value = store.scalar("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = ? "
                             "AND schema_name = current_schema()", [name])
    return int(value or 0)


def advance_sequence(store: Store, name: str, to: int) -> None:
    """Make ``name`` on ``store`` hand out values after ``to`` next (never moved back)."""
    if to <= sequence_at(store, name):
        return
    if store.dialect.name == "postgresql":
        store.write(f"SELECT setval('{name}', ?)", [to])
        return
    # DuckDB cannot set a sequence: draw it forward.
    store.write(f"SELECT max(nextval('{name}')) FROM range(?)", [to - sequence_at(store, name)])


def copy_store(src: Store, dst: Store, *, progress: Progress | None = None) -> Copied:
    """Every table of ``src`` onto ``dst`` (a store with no data yet), and its sequences, in one
    transaction of ``dst``: a failure leaves ``dst`` as it was."""
    copied = Copied()
    with dst.transaction():
        tables = prepare_copy(src, dst)
        copy_tables(src, dst, tables, copied, progress=progress)
        copy_sequences(src, dst, copied)
    return copied


def prepare_copy(src: Store, dst: Store) -> list[str]:
    """The tables of ``src`` a copy moves, each made ready on ``dst`` (created if a stage made
    it as it computed; emptied if a new store starts with a row in it). Refuses a ``dst`` that
    holds rows already. Inside the copy's transaction of ``dst``."""
    tables = [t for t in base_tables(src) if t not in BOOKKEEPING]
    dst.changed()
    for table in tables:
        ensure_table(src, dst, table)
        if table in STARTS_FILLED:
            dst.write(f"DELETE FROM {ident(table)}")
        elif dst.scalar(f"SELECT count(*) > 0 FROM {ident(table)}"):
            raise StoreError(f"{table}: the receiving store already holds rows; copy into a new store")
    return tables


def copy_tables(src: Store, dst: Store, tables: Sequence[str], copied: Copied, *,
                progress: Progress | None = None) -> None:
    """The rows of ``tables`` (made ready by :func:`prepare_copy`), counted in ``copied``."""
    for table in tables:
        copied.tables[table] = copy_rows(src, dst, table)
        if progress:
            progress(table, copied.tables[table])


def copy_sequences(src: Store, dst: Store, copied: Copied) -> None:
    """Every sequence of ``src``: on ``dst`` it hands out values after the last ``src`` did."""
    for name in _sequences(src):
        at = sequence_at(src, name)
        advance_sequence(dst, name, at)
        copied.sequences[name] = at


def count_rows(store: Store, tables: Sequence[str]) -> dict[str, int]:
    return {t: int(store.scalar(f"SELECT count(*) FROM {ident(t)}")) for t in tables}


def check_copy(src: Store, dst: Store, copied: Copied, *, added: dict[str, int] | None = None) -> list[str]:
    """What is wrong with a copy (nothing: an empty list): every table's rows counted on both
    stores (``dst`` holding ``added`` rows more, made there by the copy itself), and every
    sequence of ``dst`` at or past the ``src``'s."""
    problems = []
    theirs = count_rows(dst, list(copied.tables))
    for table, ours in count_rows(src, list(copied.tables)).items():
        ours += (added or {}).get(table, 0)
        if theirs[table] != ours:
            problems.append(f"{table}: {ours:,} rows on the source, {theirs[table]:,} on the copy")
    for name, at in copied.sequences.items():
        if sequence_at(dst, name) < at:
            problems.append(f"sequence {name}: at {sequence_at(dst, name)} on the copy, {at} on the source")
    return problems


def receivable(target: StoreTarget) -> str | None:
    """Why ``target`` cannot receive a copy of a store (None: it can). A copy goes only where
    nothing is yet: no file at the path; a PostgreSQL database whose schema holds nothing."""
    if not is_url(target):
        if Path(target).exists():
            return f"{describe(target)}: a file is there already; a store is copied only to a new file"
        return None
    from accord.store.postgres_store import relations

    found = relations(str(target))
    if "accord_meta" in found:
        return f"{describe(target)}: this database holds an Accord store already"
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        return (f"{describe(target)}: this database holds tables already ({shown}); a store is copied "
                "only into an empty database")
    return None


@contextlib.contextmanager
def new_store(target: StoreTarget) -> Iterator[Store]:
    """A new store at ``target`` (refused, with nothing changed, unless :func:`receivable`), for
    a copy to fill: if the block fails, what was made is removed again (the file, or every
    table, view and sequence the schema made in the database), so the target holds no store."""
    why = receivable(target)
    if why is not None:
        raise StoreError(f"{why}; nothing was changed")
    from accord.store import open_store

    store = open_store(target, create=True)
    try:
        yield store
    except BaseException:
        store.close()
        _remove(target)
        raise
    finally:
        store.close()


def _remove(target: StoreTarget) -> None:
    if is_url(target):
        from accord.store.postgres_store import drop_relations

        drop_relations(str(target))
        return
    path = Path(target)
    for made in (path, path.with_name(path.name + ".wal")):
        made.unlink(missing_ok=True)


def _sequences(store: Store) -> list[str]:
    if store.dialect.name == "postgresql":
        rows = store.query("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
    else:
        rows = store.query("SELECT sequence_name FROM duckdb_sequences() "
                           "WHERE schema_name = current_schema()")
    return sorted(str(r[0]) for r in rows)
