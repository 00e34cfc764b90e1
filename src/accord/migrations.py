"""Schema versions of the store, and the steps that bring an older store up to this one.

A store records its schema version in ``accord_meta`` under the key ``format``. Every store
written before versions were kept holds ``1`` there, and the programs of that time refuse a
store whose format is not 1: a store this program has upgraded is never opened unawares by an
older one. This program's version is :data:`SCHEMA_VERSION`.

Opening a store (``accord.store.Store``):

- a new file gets the current schema (every stage's ``CREATE ... IF NOT EXISTS``);
- a store of this version: the same statements create whatever is missing, nothing else;
- an older store, opened for writing: the same statements first (they only add tables), then
  every pending :data:`MIGRATIONS` step in order, each in its own transaction with its record
  (a row of ``accord_migrations``: version, name, from which version, when, by which program,
  the notices it gave; an audit event ``store.upgrade``; the new version in ``accord_meta``).
  A step that fails is rolled back: the store stays at the last version it reached;
- an older store opened read-only, a store older than :data:`OLDEST_UPGRADABLE`, or a store
  of a newer version: refused, with a message that says what to do; nothing is changed.

Changing a table (a new table, a new column, a new meaning of a value) is a new version: add a
:class:`Migration` that brings a store of the version before to it, raise
:data:`SCHEMA_VERSION`, and describe the new schema (``python -m accord.migrations describe >
tests/fixtures/schema_v<N>.txt``; tests/test_store_versions.py compares a fresh store with it
and with an upgraded store of the oldest version). A step's SQL on a stage's tables lives in
that stage's schema module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.store import Store

SCHEMA_VERSION = 6
OLDEST_UPGRADABLE = 1
# PostgreSQL stores were first made at schema version 3: they upgrade from there.
OLDEST_UPGRADABLE_POSTGRES = 3
VERSION_KEY = "format"              # accord_meta: the store's schema version
RESOLVED_BEFORE_KEY = "resolve_again_after_run"   # accord_meta: see resolve_notices()


@dataclass(frozen=True)
class Upgrade:
    """What one step did: notices for the operator (what they must still do, what changed for
    them) and ``accord_meta`` entries to record with it."""

    notices: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Migration:
    """One step: brings a store of ``version - 1`` to ``version``."""

    version: int
    name: str
    summary: str
    apply: Callable[[Store], Upgrade]


def resolve_again(path: Path, run: int) -> str:
    return (f"the store's persons were resolved by an older accord (run {run}, before per-view partitions "
            f"and the statistics base): run `accord resolve --db {path}` before reading persons; until "
            "then a purpose that withholds records sees the old partition")


def _role_grants_and_view_partitions(store: Store) -> Upgrade:
    from accord.governance import schema as governance_schema
    from accord.resolve import schema as resolve_schema

    notices, meta = [], {}
    held = governance_schema.record_held_roles(store)
    if held:
        notices.append(f"{held} role(s) users held before role grants were kept are recorded as granted "
                       "with no second approver on record (`accord users grants` lists them)")
    run = resolve_schema.outdated_run(store)
    if run is not None:
        notices.append(resolve_again(store.path, run))
        meta[RESOLVED_BEFORE_KEY] = str(run)
    return Upgrade(notices, meta)


def _data_version(store: Store) -> Upgrade:
    # The counter table and its row are created with the store's own tables (accord.store);
    # the step records that this store now moves it, so that an accord that does not is refused.
    return Upgrade()


def _identity_flags(store: Store) -> Upgrade:
    from accord.ingest import schema as ingest_schema

    for ddl in ingest_schema.FLAGS_DDL:
        store.write(ddl)
    return Upgrade()


def _identity_fields_beyond_the_us(store: Store) -> Upgrade:
    from accord.ingest import schema as ingest_schema

    ingest_schema.add_record_fields(store, 5)
    notices = []
    kept = ingest_schema.unnamespaced_other_ids(store)
    if kept:
        notices.append(f"{kept} stored record version(s) hold an other_id without a namespace: they are "
                       "kept as they were and compared with nothing; give each mapping's other_id a "
                       "namespace (other_id: {column: ..., namespace: ...}) and ingest its extract again "
                       "to compare them")
    return Upgrade(notices)


def _incremental_resolution(store: Store) -> Upgrade:
    # The queue and the updates' log are created with resolution's own tables (their DDL). A
    # store resolved before has no queued versions: what it holds was resolved by its last run.
    return Upgrade()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "role-grants-and-view-partitions",
              "role grants (role_grants) with the roles users already held; per-view partitions "
              "(view_members, view_links) and the statistics base, which need a new resolution run",
              _role_grants_and_view_partitions),
    Migration(3, "data-version",
              "the data version (accord_data_version): a counter every transaction that changes data "
              "moves, so that any process can tell that data changed",
              _data_version),
    Migration(4, "identity-flags",
              "identity values that fail their rule are stored as flags (records.flags: field, value as "
              "written, reason) instead of quarantining the row; ingest batches count flagged rows "
              "(ingest_batches.flagged)",
              _identity_flags),
    Migration(5, "identity-fields-beyond-the-us",
              "records gain street_number, address_line_2, postcode (any country) and region (state, "
              "province or territory as written); other_id is stored with its namespace",
              _identity_fields_beyond_the_us),
    Migration(6, "incremental-resolution",
              "the resolution queue (resolution_queue: record versions waiting to be resolved, in the "
              "transaction that stores them) and the incremental updates' log (resolution_updates)",
              _incremental_resolution),
)


def pending(found: int) -> list[Migration]:
    """The steps that bring a store of version ``found`` to :data:`SCHEMA_VERSION`, in order."""
    return [m for m in MIGRATIONS if m.version > found]


def resolve_notices(store: Store) -> list[str]:
    """The upgrade's request to resolve again, while no resolution run has followed it."""
    from accord.resolve import schema as resolve_schema

    run = store.meta(RESOLVED_BEFORE_KEY)
    if run is None:
        return []
    latest = resolve_schema.latest_run(store)
    return [] if latest is not None and latest > int(run) else [resolve_again(store.path, int(run))]


# --- the schema's description (tests/fixtures/schema_v<N>.txt) ---------------------------------

def describe(store: Store) -> str:
    """Every sequence, table and view of the store, with its columns in order (type,
    nullability) and its constraints, one line each: what a fresh store of this version holds,
    and what an upgraded one must hold."""
    lines = [f"sequence {r[0]}" for r in store.query(
        "SELECT sequence_name FROM duckdb_sequences() WHERE schema_name = current_schema() ORDER BY 1")]
    kinds = dict(store.query("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_schema = current_schema()"))
    columns: dict[str, list[str]] = {}
    for table, column, kind, nullable in store.query(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        columns.setdefault(table, []).append(f"{column} {kind}{'' if nullable == 'YES' else ' NOT NULL'}")
    constraints: dict[str, list[str]] = {}
    for table, text in store.query(
            "SELECT table_name, constraint_text FROM duckdb_constraints() "
            "WHERE schema_name = current_schema() AND constraint_type <> 'NOT NULL'"):
        constraints.setdefault(table, []).append(" ".join(text.split()))
    for table in sorted(columns):
        lines.append(f"{'view' if kinds.get(table) == 'VIEW' else 'table'} {table}")
        lines += [f"  {c}" for c in columns[table]]
        lines += [f"  {c}" for c in sorted(constraints.get(table, []))]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["describe"]:
        print("usage: python -m accord.migrations describe   (the schema of a fresh store)", file=sys.stderr)
        return 2
    import tempfile

    from accord.store import open_store

    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "fresh.duckdb") as store:
        print(f"# schema version {SCHEMA_VERSION}", end="\n")
        print(describe(store), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

