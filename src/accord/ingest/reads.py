"""What later stages read of ingest's tables, in one place: the newest version of each record
(``records_current``), counts of it, the files batches came from, each record version's
provenance (``record_provenance``) and the sources' mappings.

Ingest owns ``records``, ``ingest_batches``, ``sources`` and ``quarantine``
(``accord.ingest.pipeline`` writes them; ``accord.ingest.schema`` declares them and the
``records_current`` view). Other stages do not name these tables in their SQL: they call a
function here, or put :func:`current_records_sql` (or :func:`provenance_sql`) where their SQL
reads records (or where the record versions came from).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accord.store import Store
from accord.store.dialect import key_params

if TYPE_CHECKING:
    import pyarrow as pa

# The relation of current records (a view over ``records``: accord.ingest.schema), for compute
# and scope builders that take a relation name.
CURRENT_RECORDS = "records_current"


def current_records_sql(columns: str = "*") -> str:
    """A query of the current records (the newest version of each), ``columns`` of them."""
    return f"SELECT {columns} FROM {CURRENT_RECORDS}"


def current_records_of(store: Store, keys: Sequence[tuple[str, str]]) -> pa.Table:
    """Every column of the current records of these (source, record_id) keys, in bulk (a key
    with no current record has no row)."""
    return store.read_arrow(f"SELECT * FROM ({current_records_sql()}) c WHERE {store.dialect.in_keys()}",
                            key_params(keys))


def batch_versions_sql() -> str:
    """A query of (source, record_id, version) of the record versions one ingest batch stored,
    the batch id its one parameter."""
    return "SELECT source, record_id, version FROM records WHERE batch_id = ?"


def provenance_sql(columns: str = "*") -> str:
    """A query of where each record version came from (``record_provenance``: source,
    record_id, version, system, file_name, file_sha256, row_number, batch_id, ingested_at,
    user_id), ``columns`` of it."""
    return f"SELECT {columns} FROM record_provenance"


def newest_version(store: Store, source: str, record_id: str) -> tuple[str, int] | None:
    """(system, version) of the newest stored version of a record, from its provenance (no
    values are read); None if no version of it is stored."""
    rows = store.query("SELECT system, version FROM record_provenance WHERE source = ? AND record_id = ? "
                       "ORDER BY version DESC LIMIT 1", [source, record_id])
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def source_mappings(store: Store) -> list[tuple[str, str | None]]:
    """Each source with the text of its current mapping (``sources.mapping_yaml``)."""
    return [(str(s), m) for s, m in store.query("SELECT source, mapping_yaml FROM sources")]


def current_count(store: Store) -> int:
    """How many current records the store holds."""
    return int(store.scalar("SELECT count(*) FROM records_current"))


def current_by_source(store: Store) -> dict[str, int]:
    """Current records by source, in source order."""
    rows = store.query("SELECT source, count(*) FROM records_current GROUP BY source ORDER BY source")
    return {str(s): int(n) for s, n in rows}


def batch_files(store: Store) -> dict[int, tuple[str, str, datetime]]:
    """Batch id -> (file name, file SHA-256, when it was ingested), for provenance."""
    return {int(b): (f, h, at) for b, f, h, at in store.query(
        "SELECT batch_id, file_name, file_sha256, finished_at FROM ingest_batches")}


def quarantined_last_batches(store: Store) -> list[tuple[Any, ...]]:
    """Rows the latest batch of each source quarantined, counted by (source, field, reason),
    most first."""
    return store.query("""
        SELECT source, field, reason, count(*) AS n FROM quarantine
        WHERE batch_id IN (SELECT last_batch FROM sources)
        GROUP BY source, field, reason ORDER BY n DESC, source, field, reason""")
