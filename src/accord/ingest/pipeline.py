"""Ingest one extract: read, validate, quarantine, version and store atomically.

Reconciliation: ``rows_read = accepted + unchanged + quarantined`` where
- accepted: rows stored as a new record or a new version of a changed record;
- unchanged: rows identical to the stored current version, or to an earlier row of the
  same file with the same record id (so ingesting a file twice accepts 0 rows);
- quarantined: rows that failed parsing, rows without a record id or with a *fact* field
  that fails its rule, and rows that share a record id with a different row of the same file
  (all rows of such a conflict are quarantined: which one is right cannot be decided here).
An *identity* field that fails its rule does not quarantine the row: the record is stored with
that column NULL and the value as written, with its reason, in ``records.flags``
(``accord.ingest.transform``). ``flagged`` counts the rows stored or unchanged that carry a
flag; they are counted in accepted or unchanged too.
A batch in which one field fails on more than a set share of its rows is refused and loads
nothing (``accord.ingest.failures``); so is a source whose record system is not registered
(``accord.ingest.registration``).
The whole ingest is one transaction: any error or kill leaves the store as it was. Run as a
governed action (``services.ingest``), that transaction is the action's, which commits the
batch together with its audit event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from accord.errors import SourceFileError
from accord.faults import checkpoint
from accord.ingest.failures import (
    DEFAULT_MAX_FAILURE_RATE,
    FailureRateError,
    failures,
    over_limit,
    staged_failures_sql,
)
from accord.ingest.registration import check_system, register
from accord.ingest.transform import FLAGS, content_hash_sql, stored_fields, transform_sql
from accord.resolve import queue as resolution_queue
from accord.sources.mapping import MappingFile, load_mapping_file
from accord.sources.readers import ROW, Extract, open_extract
from accord.sql.backend import compute_connection
from accord.sql.resources import MIB, auto_budget, engine_resources, parse_size, release_memory
from accord.sql.workspace import Workspace, workspace
from accord.sql_text import ident
from accord.store import Store

Progress = Callable[[int], None]
CHUNK_ROWS = 32_768


@dataclass
class IngestResult:
    batch: int
    source: str
    system: str
    file: str
    file_sha256: str
    rows_read: int
    accepted: int
    new_records: int
    new_versions: int
    unchanged: int
    quarantined: int
    flagged: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest_file(store: Store, mapping_path: str | Path, file: str | Path | None = None, *,
                user: str = "system", progress: Progress | None = None,
                resources: Resources | None = None,
                max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE,
                systems: Collection[str] | None = None) -> IngestResult:
    """Ingest one extract (see the module docstring). ``resources``: what the engine may use
    meanwhile (default: ``Resources()``, a limit sized to the file). ``max_failure_rate``: the
    share of rows one field may fail on before the batch is refused. ``systems``: the record
    systems a source may name (the authority registry's; None: not checked)."""
    resources = resources or Resources()
    mf = load_mapping_file(mapping_path)
    path = mf.data_path(file)
    if not path.is_file():
        raise SourceFileError(str(path), "no such file")
    try:
        budget = resources.budget(path.stat().st_size)
        with workspace(store) as ws, \
                engine_resources(compute_connection(ws.compute), budget, resources.threads):
            return _ingest(ws, mf, path, user, progress, max_failure_rate, systems)
    finally:
        release_memory()


@dataclass(frozen=True)
class Resources:
    """The engine's memory limit and threads while ingesting. ``memory_limit``: a size
    ("1GB"), ``auto`` (``memory_per_file_byte`` times the file's size, at least 256 MiB and at
    most half the machine's memory) or None (the connection's own setting). Beyond the limit
    the staged rows spill to the engine's temporary directory."""

    memory_limit: str | None = "auto"
    memory_per_file_byte: int = 4
    threads: int | None = None

    def budget(self, file_bytes: int) -> int | None:
        if self.memory_limit is None:
            return None
        if self.memory_limit.strip().lower() == "auto":
            return auto_budget(file_bytes * self.memory_per_file_byte, floor=256 * MIB)
        return parse_size(self.memory_limit)


def _ingest(ws: Workspace, mf: MappingFile, path: Path, user: str, progress: Progress | None,
            max_failure_rate: float, systems: Collection[str] | None) -> IngestResult:
    started = datetime.now(UTC)
    store, compute = ws.home, ws.compute
    extract = open_extract(mf, path)
    sha, size = extract.sha256, extract.size
    check_system(store, mf, systems)
    sql = transform_sql(mf.spec, extract.columns, extract.native_dates)
    # Validation runs in the engine (temp table ``_stage``) of the workspace: the store itself
    # when it is the embedded one; what it stores is declared.
    con = compute_connection(compute)
    with store.transaction():
        store.changed()
        batch_id = int(store.scalar("SELECT nextval('ingest_batch_seq')"))
        # The source's current versions, against which rows are new, changed or unchanged.
        ws.bring("records", "SELECT * FROM records_current WHERE source = ?", [mf.spec.source])
        with compute.transaction():
            compute.changed()
            parsed = _stage(con, sql, extract, progress)
            bad = extract.bad_rows
            # No row parsed at all: the file is not as declared.
            if bad and not parsed:
                first = bad[0]
                raise SourceFileError(
                    str(path), f"{len(bad)} of {len(bad) + parsed} rows cannot be parsed as declared "
                    f"(first: row {first.row_number}: {first.reason}); check delimiter, quote and "
                    "header in the mapping")
            # One field failing on too many rows: the mapping or the file is not as declared.
            over = over_limit(failures(con.execute(staged_failures_sql()).fetchall(), bad),
                              parsed + len(bad), max_failure_rate)
            if over:
                raise FailureRateError(str(path), over, parsed + len(bad), max_failure_rate)
            counts = _store_batch(compute, con, mf, batch_id, bad)
            con.execute("DROP TABLE IF EXISTS _stage")
        for table in ("quarantine", "records"):
            ws.publish(table, where="WHERE batch_id = ?", params=[batch_id])
        # Every version stored waits in the resolution queue (same transaction: none is lost).
        resolution_queue.enqueue_batch(store, batch_id)
        checkpoint("ingest.before_commit")
        finished = datetime.now(UTC)
        rows_read = parsed + len(bad)
        store.insert("ingest_batches", {
            "batch_id": batch_id, "source": mf.spec.source, "system": mf.spec.system,
            "file_name": path.name, "file_path": str(path.resolve()), "file_sha256": sha,
            "file_bytes": size, "mapping_path": str(mf.path.resolve()), "mapping_sha256": mf.sha256,
            "user_id": user, "started_at": started, "finished_at": finished, "rows_read": rows_read,
            "accepted": counts["new_records"] + counts["new_versions"],
            "new_records": counts["new_records"], "new_versions": counts["new_versions"],
            "unchanged": counts["unchanged"], "quarantined": counts["quarantined"],
            "flagged": counts["flagged"]})
        register(store, mf, batch_id)
    # Committed here, unless the ingest runs inside a governed action's transaction (which
    # commits later, with the action's audit event).
    checkpoint("ingest.after_commit")
    return IngestResult(
        batch=batch_id, source=mf.spec.source, system=mf.spec.system, file=str(path),
        file_sha256=sha, rows_read=rows_read,
        accepted=counts["new_records"] + counts["new_versions"],
        new_records=counts["new_records"], new_versions=counts["new_versions"],
        unchanged=counts["unchanged"], quarantined=counts["quarantined"], flagged=counts["flagged"],
        seconds=(finished - started).total_seconds())


def _stage(con: duckdb.DuckDBPyConnection, sql: str, extract: Extract,
           progress: Progress | None) -> int:
    """Run the transform over the whole extract into temp table ``_stage``, in one statement
    that streams the reader's batches (nothing is gathered in Python first); returns the rows
    parsed. An error raised while reading (a file that turns unreadable, an interrupted
    progress callback) is raised as itself, not as the engine's wrapping of it."""
    counted = [0]
    failure: list[BaseException] = []

    def feed() -> Iterator[pa.RecordBatch]:
        try:
            for b in _chunks(extract.batches):
                counted[0] += b.num_rows
                yield b
                if progress:
                    progress(counted[0])
        except BaseException as e:
            failure.append(e)
            raise

    schema = pa.schema([(c, pa.string()) for c in extract.columns] + [(ROW, pa.int64())])
    con.register("batch", pa.RecordBatchReader.from_batches(schema, feed()))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS {sql}")
    except BaseException:
        if failure:
            raise failure[0] from None
        raise
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction: replaced next time
            con.unregister("batch")
    if failure:  # a KeyboardInterrupt the engine did not see as an error
        raise failure[0]
    return counted[0]


def _chunks(batches: Iterable[pa.RecordBatch], rows: int | None = None) -> Iterator[pa.RecordBatch]:
    """The reader's batches cut (zero-copy) into pieces of at most ``rows`` rows (default
    ``CHUNK_ROWS``): the units the engine's threads share out while staging."""
    rows = rows or CHUNK_ROWS
    for b in batches:
        for start in range(0, b.num_rows, rows):
            yield b.slice(start, rows)


QUARANTINE_COLUMNS = "batch_id, source, row_number, record_id, field, raw_value, reason, errors, raw_row"


def _store_batch(store: Store, con: duckdb.DuckDBPyConnection, mf: MappingFile, batch_id: int,
                 bad: list[Any]) -> dict[str, int]:
    """Quarantine and version the staged rows (``_stage``, on the compute connection ``con``)."""
    src, system = mf.spec.source, mf.spec.system
    # Unparseable rows.
    if bad:
        store.insert_rows(
            "quarantine", QUARANTINE_COLUMNS.split(", "),
            [[batch_id, src, r.row_number, None, "(row)", r.text[:1000], r.reason,
              f'[{{"field": "(row)", "reason": {_json_str(r.reason)}}}]', r.text] for r in bad])
    # Rows that failed validation of their record id or a fact field: one quarantine row each,
    # the first such error in field/reason, every error of the row in errors.
    con.execute(
        f"INSERT INTO quarantine ({QUARANTINE_COLUMNS}) SELECT ?, ?, row_number, record_id, blocking.field, "
        "blocking.value, blocking.reason, to_json(errors), raw_row "
        "FROM _stage WHERE quarantined", [batch_id, src])
    invalid = int(store.scalar("SELECT count(*) FROM _stage WHERE quarantined"))
    # Record ids the file repeats (usually none), with their rows and distinct contents.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ids AS SELECT record_id, min(row_number) AS first_row, "
        "count(*) AS n, count(DISTINCT content_hash) AS n_distinct, "
        "list(row_number ORDER BY row_number)[1:10] AS rows FROM _stage "
        "WHERE NOT quarantined AND record_id IN (SELECT record_id FROM _stage "
        "WHERE NOT quarantined GROUP BY record_id HAVING count(*) > 1) GROUP BY record_id")
    # Same record id, different content, within this file: quarantine every such row.
    con.execute(
        f"INSERT INTO quarantine ({QUARANTINE_COLUMNS}) SELECT ?, ?, s.row_number, s.record_id, "
        "'record_id', s.record_id, "
        "'record id appears in rows ' || array_to_string(i.rows, ', ') || "
        "' with different values', '[]', to_json(s) FROM _stage s JOIN _ids i USING (record_id) "
        "WHERE i.n_distinct > 1 AND NOT s.quarantined", [batch_id, src])
    conflicted = int(store.scalar("SELECT coalesce(sum(n), 0) FROM _ids WHERE n_distinct > 1"))
    repeats = int(store.scalar("SELECT count(*) FROM _ids"))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _current AS SELECT record_id, version, "
        f"{content_hash_sql()} AS content_hash "
        "FROM records WHERE source = ? "
        "QUALIFY version = max(version) OVER (PARTITION BY record_id)", [src])
    # Rows to store: valid, first of their record id (the rest repeat it), not conflicted,
    # and new or changed against the current stored version.
    has_current = bool(store.scalar("SELECT count(*) > 0 FROM _current"))
    # Of a repeated record id keep the first row; conflicted ids were quarantined above.
    first_only = ("AND (s.record_id NOT IN (SELECT record_id FROM _ids) OR "
                  "(s.record_id, s.row_number) IN (SELECT (record_id, first_row) FROM _ids "
                  "WHERE n_distinct = 1))") if repeats else ""
    cols = [ident(n) for n in [*stored_fields(mf.spec), FLAGS]]
    insert_cols = "".join(f"s.{c}, " for c in cols)
    if has_current:
        version, join = "coalesce(c.version, 0) + 1", "LEFT JOIN _current c USING (record_id)"
        changed = "AND c.content_hash IS DISTINCT FROM s.content_hash"
    else:  # first load of this source: every valid record is new
        version, join, changed = "1", "", ""
    con.execute(
        f"INSERT INTO records (source, record_id, version, system, {''.join(c + ', ' for c in cols)}"
        f"batch_id, row_number) SELECT ?, s.record_id, {version}, ?, "
        f"{insert_cols}?, s.row_number FROM _stage s {join} "
        f"WHERE NOT s.quarantined {changed} {first_only}",
        [src, system, batch_id])
    new_records, new_versions = store.query(
        "SELECT count(*) FILTER (WHERE version = 1), count(*) FILTER (WHERE version > 1) "
        "FROM records WHERE batch_id = ?", [batch_id])[0]
    valid = int(store.scalar("SELECT count(*) FROM _stage WHERE NOT quarantined"))
    conflicts = ("AND record_id NOT IN (SELECT record_id FROM _ids WHERE n_distinct > 1)" if repeats
                 else "")
    flagged = int(store.scalar("SELECT count(*) FROM _stage WHERE NOT quarantined AND flags IS NOT NULL "
                               f"{conflicts}"))
    for t in ("_ids", "_current"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return {
        "new_records": int(new_records),
        "new_versions": int(new_versions),
        "unchanged": valid - conflicted - int(new_records) - int(new_versions),
        "quarantined": len(bad) + invalid + conflicted,
        "flagged": flagged,
    }


def _json_str(s: str) -> str:
    import json

    return json.dumps(s)
