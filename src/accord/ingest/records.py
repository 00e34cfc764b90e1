"""Record versions that ingest stores on another stage's request: a correction.

Ingest owns ``records`` and ``ingest_batches``. A correction (5 U.S.C. 552a(d)(2)) decided
by casework never edits a stored record: it is stored here as a new version (version + 1)
of the record with one field changed, through its own ``ingest_batches`` row, so that
``record_provenance`` shows where the corrected value came from. Every column is named. A
flag the record carried for the corrected field (``records.flags``: its value as written did
not pass ingest's rule) is dropped from the new version: the corrected value replaces it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from accord.errors import AccordError
from accord.resolve import queue as resolution_queue
from accord.sources.fields import catalogue
from accord.sql_text import ident
from accord.store import Store

# The columns of ``records`` besides the canonical fields (accord.ingest.schema).
_KEYS = ("source", "record_id", "version", "system")
_TRAILER = ("batch_id", "row_number", "flags")

_BATCH_COLUMNS = ("batch_id", "source", "system", "file_name", "file_path", "file_sha256", "file_bytes",
                  "mapping_path", "mapping_sha256", "user_id", "started_at", "finished_at", "rows_read",
                  "accepted", "new_records", "new_versions", "unchanged", "quarantined", "flagged")
_INSERT_BATCH = (f"INSERT INTO ingest_batches ({', '.join(_BATCH_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(_BATCH_COLUMNS))})")


@dataclass(frozen=True)
class Correction:
    """A stored correction: the batch that holds it and the record's new version."""

    batch_id: int
    version: int


def append_correction(store: Store, *, current: str, source: str, record_id: str, person_id: str,
                      field: str, value: str | None, system: str, name: str, path: str,
                      payload: bytes, user_id: str, from_version: int) -> Correction:
    """Store a new version of one record with ``field`` set to ``value``.

    ``current`` is SQL of the current records the caller may read (the scope the gate issued
    it, with a ``person_id`` column); the record ``source``/``record_id`` of ``person_id`` is
    copied from its version ``from_version``, every other field as it is. ``name`` and
    ``path`` name the batch (``correction:<id>``, where the correction came from) and
    ``payload`` is the correction's canonical text, whose SHA-256 the batch records as its
    file's. Runs in one transaction (the caller's, when it is in one)."""
    kind = catalogue().get(field)
    if kind is None:
        raise ValueError(f"unknown field {field!r}")
    digest = hashlib.sha256(payload).hexdigest()
    with store.transaction():
        started = datetime.now(UTC)
        batch_id = int(store.scalar("SELECT nextval('ingest_batch_seq')"))
        mapping = store.scalar("SELECT mapping_sha256 FROM sources WHERE source = ?", [source])
        # Ingest's own column (the scope carries no flags); the copy below checks the scope.
        flagged = store.query("SELECT flags FROM records WHERE source = ? AND record_id = ? AND "
                              "version = ?", [source, record_id, from_version])
        flags = _without(flagged[0][0] if flagged else None, field)
        columns = [*_KEYS, *catalogue(), *_TRAILER]
        exprs: list[str] = []
        params: list[object] = []
        for col in columns:
            if col == "version":
                exprs.append("version + 1")
            elif col == "batch_id":
                exprs.append("CAST(? AS BIGINT)")
                params.append(batch_id)
            elif col == "row_number":
                exprs.append("CAST(1 AS BIGINT)")
            elif col == "flags":
                exprs.append("CAST(? AS JSON)")
                params.append(flags)
            elif col == field:
                exprs.append(f"CAST(? AS {kind.sql_type})")
                params.append(value)
            else:
                exprs.append(ident(col))
        names = ", ".join(ident(c) for c in columns)
        picked = ", ".join(f"{e} AS {ident(c)}" for e, c in zip(exprs, columns, strict=True))
        added = store.write(
            f"INSERT INTO records ({names}) SELECT {picked} FROM ({current}) c "
            "WHERE source = ? AND record_id = ? AND person_id = ? AND version = ?",
            [*params, source, record_id, person_id, from_version])
        if added != [(1,)]:
            raise AccordError(f"record {source}/{record_id} version {from_version} of {person_id} is not "
                              "among the records the correction may copy")
        resolution_queue.enqueue(store, [(source, record_id)], "correction", from_version + 1)
        store.write(_INSERT_BATCH, [
            batch_id, source, system, name, path, digest, len(payload),
            name, mapping or digest, user_id, started, datetime.now(UTC), 1, 1, 0, 1, 0, 0,
            int(flags is not None)])
    return Correction(batch_id, from_version + 1)


def _without(flags: str | None, field: str) -> str | None:
    """The record's flags (JSON text) without the corrected field's; None when none is left.
    Written as ingest writes them (no spaces), so an unchanged flag hashes alike."""
    if flags is None:
        return None
    kept = [f for f in json.loads(flags) if f.get("field") != field]
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False) if kept else None
