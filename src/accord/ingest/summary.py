"""Counts about what ingestion stored: sources, batches, quarantine and flag reasons (no person
values)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from accord.errors import NotFound
from accord.store import Store


@dataclass
class SourceSummary:
    source: str
    system: str
    records: int
    versions: int
    quarantined_last_batch: int
    last_batch: int


def sources(store: Store) -> list[SourceSummary]:
    """Per source: current records, stored versions and the last batch's quarantine count."""
    rows = store.query("""
        SELECT s.source, s.system,
               (SELECT count(DISTINCT record_id) FROM records r WHERE r.source = s.source),
               (SELECT count(*) FROM records r WHERE r.source = s.source),
               b.quarantined, s.last_batch
        FROM sources s JOIN ingest_batches b ON b.batch_id = s.last_batch
        ORDER BY s.source""")
    return [SourceSummary(*r) for r in rows]


def batches(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Ingest batches, newest first, with their reconciliation counts."""
    return _dicts(
        store, "SELECT batch_id AS batch, source, system, file_name, file_sha256, user_id, "
        "CAST(finished_at AS VARCHAR) AS finished_at, rows_read, accepted, new_records, "
        "new_versions, unchanged, quarantined, flagged "
        "FROM ingest_batches ORDER BY batch_id DESC LIMIT ?", [limit])


def quarantine(store: Store, batch: int | None = None, source: str | None = None) -> list[dict[str, Any]]:
    """Quarantined rows grouped by source, field and reason, with example row numbers.

    Raw values are not shown here: they are person data.
    """
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if batch is not None:
        where.append("batch_id = ?")
        params.append(batch)
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if batch is None:
        where.append("batch_id IN (SELECT last_batch FROM sources)")
    return _dicts(
        store, f"SELECT batch_id AS batch, source, field, reason, count(*) AS rows, "
        f"(array_agg(row_number ORDER BY row_number))[1:5] AS example_rows FROM quarantine "
        f"WHERE {' AND '.join(where)} GROUP BY batch_id, source, field, reason "
        f"ORDER BY batch, source, rows DESC", params)


def flags(store: Store, batch: int | None = None, source: str | None = None,
          field: str | None = None) -> list[dict[str, Any]]:
    """Flagged identity values of stored records grouped by batch, source, field and reason,
    with example row numbers: by default the current records' flags, with ``batch`` the flags
    of the record versions that batch stored.

    Values as written are not shown here, as quarantine's raw values are not: they are person
    data. The flags are read here and counted in Python (the same on both engines)."""
    where: list[str] = ["flags IS NOT NULL"]
    params: list[Any] = []
    if batch is not None:
        where.append("batch_id = ?")
        params.append(batch)
    if source is not None:
        where.append("source = ?")
        params.append(source)
    table = "records" if batch is not None else "records_current"
    groups: dict[tuple[int, str, str, str], list[int]] = {}
    for batch_id, src, row_number, text in store.query(
            f"SELECT batch_id, source, row_number, flags FROM {table} WHERE {' AND '.join(where)}", params):
        for flag in json.loads(text):
            if field is None or flag.get("field") == field:
                key = (int(batch_id), str(src), str(flag.get("field")), str(flag.get("reason")))
                groups.setdefault(key, []).append(int(row_number))
    out = [{"batch": b, "source": s, "field": f, "reason": r, "rows": len(rows),
            "example_rows": sorted(rows)[:5]} for (b, s, f, r), rows in groups.items()]
    return sorted(out, key=lambda g: (g["batch"], g["source"], -g["rows"], g["field"], g["reason"]))


def require_named(store: Store, batch: int | None = None, source: str | None = None) -> None:
    """Raise NotFound for a batch or a source named that the store does not hold: a summary of
    one that does not exist would be empty, which reads as "nothing was quarantined"."""
    if batch is not None and not store.query("SELECT 1 FROM ingest_batches WHERE batch_id = ?", [batch]):
        raise NotFound(f"no batch {batch} (see `accord batches`)")
    if source is not None and not store.query("SELECT 1 FROM sources WHERE source = ?", [source]):
        raise NotFound(f"no source {source!r} (see `accord sources`)")


def _dicts(store: Store, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """The rows of a read, as dicts by column name."""
    rows: list[dict[str, Any]] = store.read_arrow(sql, params).to_pylist()
    return rows
