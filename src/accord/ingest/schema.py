"""Tables owned by ingestion: sources, ingest batches, records (versioned), quarantine.

``records.flags`` (schema version 4): the identity values of the record that failed their rule,
as written, with the reason (a JSON array, NULL when none; ``accord.ingest.transform``).
``ingest_batches.flagged``: the batch's rows stored or unchanged that carry a flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.sources.fields import catalogue

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from accord.store import Store


def record_columns_ddl(later: bool = False) -> str:
    """The canonical columns of ``records``: those of the first schema, or (``later``) those
    later schema versions added, by version: after the table's own columns, where an upgrade's
    ``ALTER TABLE ... ADD COLUMN`` puts them."""
    fields = sorted((f for f in catalogue().values() if (f.since > 1) == later), key=lambda f: f.since)
    return "".join(f",\n  {f.name} {f.sql_type}" for f in fields)


def added_record_fields(version: int) -> list[str]:
    """The canonical fields schema version ``version`` added to ``records``."""
    return [f.name for f in catalogue().values() if f.since == version]


DDL: list[str] = [
    "CREATE SEQUENCE IF NOT EXISTS ingest_batch_seq START 1",
    """CREATE TABLE IF NOT EXISTS sources (
  source VARCHAR PRIMARY KEY,
  system VARCHAR NOT NULL,
  format VARCHAR NOT NULL,
  mapping_yaml VARCHAR NOT NULL,
  mapping_sha256 VARCHAR NOT NULL,
  first_batch BIGINT NOT NULL,
  last_batch BIGINT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS ingest_batches (
  batch_id BIGINT PRIMARY KEY,
  source VARCHAR NOT NULL,
  system VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  file_path VARCHAR NOT NULL,
  file_sha256 VARCHAR NOT NULL,
  file_bytes BIGINT NOT NULL,
  mapping_path VARCHAR NOT NULL,
  mapping_sha256 VARCHAR NOT NULL,
  user_id VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL,
  rows_read BIGINT NOT NULL,
  accepted BIGINT NOT NULL,
  new_records BIGINT NOT NULL,
  new_versions BIGINT NOT NULL,
  unchanged BIGINT NOT NULL,
  quarantined BIGINT NOT NULL,
  flagged BIGINT NOT NULL DEFAULT 0,
  CHECK (rows_read = accepted + unchanged + quarantined),
  CHECK (accepted = new_records + new_versions)
)""",
    f"""CREATE TABLE IF NOT EXISTS records (
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  system VARCHAR NOT NULL{record_columns_ddl()},
  batch_id BIGINT NOT NULL,
  row_number BIGINT NOT NULL,
  flags JSON{record_columns_ddl(later=True)}
)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
  batch_id BIGINT NOT NULL,
  source VARCHAR NOT NULL,
  row_number BIGINT NOT NULL,
  record_id VARCHAR,
  field VARCHAR NOT NULL,
  raw_value VARCHAR,
  reason VARCHAR NOT NULL,
  errors JSON NOT NULL,
  raw_row VARCHAR
)""",
    # The newest version of every record: what later stages read. A version is current when
    # no later version of its record exists. Every later version is above 1, so the join table
    # holds those few rows only: a scan, where a window would partition every record.
    """CREATE OR REPLACE VIEW records_current AS
SELECT r.* FROM records r
ANTI JOIN (SELECT source, record_id, version FROM records WHERE version > 1) n
  ON n.source = r.source AND n.record_id = r.record_id AND n.version > r.version""",
    # Provenance of every stored record version.
    """CREATE OR REPLACE VIEW record_provenance AS
SELECT r.source, r.record_id, r.version, r.system, b.file_name, b.file_sha256,
       r.row_number, r.batch_id, b.finished_at AS ingested_at, b.user_id
FROM records r JOIN ingest_batches b USING (batch_id)""",
]


CURRENT = "records_current"


def current_records_copy(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """A private DuckDB's copy of current records: ``rows`` (read from a store by
    ``accord.ingest.reads.current_records_of``) as a table named as the view, replacing the
    copy there, for computations that read current records by that name (standardisation, the
    resolution guards) on a few records."""
    con.register("_current_arrow", rows)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {CURRENT} AS SELECT * FROM _current_arrow")
    finally:
        con.unregister("_current_arrow")


# The upgrade to schema version 4 (accord.migrations runs it): ``records.flags`` and
# ``ingest_batches.flagged``; stored records and batches have none (they were ingested before
# identity values were flagged: their rows with a bad identity value are in quarantine). Plain
# enough for both engines; the store makes the views over ``records`` again after the upgrade
# (their columns are fixed when they are made).
FLAGS_DDL: tuple[str, ...] = (
    "ALTER TABLE records ADD COLUMN flags JSON",
    "ALTER TABLE ingest_batches ADD COLUMN flagged BIGINT NOT NULL DEFAULT 0",
)


def add_record_fields(store: Store, version: int) -> list[str]:
    """Upgrade step: the canonical columns schema version ``version`` added, on a store of the
    version before (NULL in every stored record), and the views over ``records`` made again
    (a view's ``r.*`` holds the columns of its time)."""
    added = added_record_fields(version)
    for name in added:
        store.write(f"ALTER TABLE records ADD COLUMN {name} {catalogue()[name].sql_type}")
    for ddl in DDL:
        if ddl.startswith("CREATE OR REPLACE VIEW"):
            for statement in _in_engine(store, ddl):
                store.write(statement)
    return added


def _in_engine(store: Store, ddl: str) -> tuple[str, ...]:
    """A statement of this module (DuckDB SQL) in the store's engine's SQL."""
    if store.dialect.name != "postgresql":
        return (ddl,)
    import sqlglot

    return tuple(sqlglot.transpile(ddl, read="duckdb", write="postgres"))


def unnamespaced_other_ids(store: Store) -> int:
    """Record versions holding an other_id stored before namespaces (schema version 4)."""
    return int(store.scalar("SELECT count(*) FROM records WHERE other_id IS NOT NULL") or 0)
