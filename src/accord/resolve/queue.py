"""The resolution queue: record versions waiting to be resolved, durable in the store.

Owns ``resolution_queue``. Ingest queues every record version it stores (in the transaction
that stores it), a correction queues the version it writes, and the incremental path
(``accord.resolve.incremental``) queues what it must not do inside a call: the records holding
an identifier that has just become shared by several people, or sharing a block that has just
outgrown the block limit. An update takes rows and deletes them in the transaction that
writes its results, so a crash at any point leaves each row either queued or resolved, never
lost and never resolved twice. A batch run deletes the rows of every version it resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from accord.ingest.reads import CURRENT_RECORDS
from accord.store import Store

TABLE = "resolution_queue"
REASONS = ("new_version", "correction", "shared_identifier", "block_limit")


@dataclass(frozen=True)
class Queued:
    seq: int
    source: str
    record_id: str
    version: int
    reason: str


def enqueue_batch(store: Store, batch_id: int) -> int:
    """Queue every record version ingest batch ``batch_id`` stored (in the caller's
    transaction); returns how many."""
    from accord.ingest.reads import batch_versions_sql

    rows = store.write(
        f"INSERT INTO {TABLE} (seq, source, record_id, version, reason, queued_at) "
        "SELECT nextval('resolution_queue_seq'), b.source, b.record_id, b.version, 'new_version', "
        f"CAST(? AS TIMESTAMPTZ) FROM ({batch_versions_sql()}) b", [datetime.now(UTC), batch_id])
    return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0


def enqueue(store: Store, keys: Sequence[tuple[str, str]], reason: str, version: int = 0) -> int:
    """Queue these records (``version`` 0: whichever version is current when resolved)."""
    if reason not in REASONS:
        raise ValueError(f"unknown queue reason {reason!r}")
    if not keys:
        return 0
    now = datetime.now(UTC)
    store.write_many(
        f"INSERT INTO {TABLE} (seq, source, record_id, version, reason, queued_at) "
        "VALUES (nextval('resolution_queue_seq'), ?, ?, ?, ?, ?)",
        [(s, r, version, reason, now) for s, r in sorted(set(keys))])
    return len(set(keys))


def take(store: Store, limit: int | None = None,
         keys: Sequence[tuple[str, str]] | None = None) -> list[Queued]:
    """The oldest queued rows (at most ``limit``; only those of ``keys`` when given), every
    row of a record taken with its first: an update resolves a record once, however often it
    was queued."""
    sql = f"SELECT seq, source, record_id, version, reason FROM {TABLE}"
    params: list[object] = []
    if keys is not None:
        if not keys:
            return []
        sql += f" WHERE {store.dialect.in_list('source || chr(31) || record_id')}"
        params.append(sorted({f"{s}\x1f{r}" for s, r in keys}))
    rows = [Queued(int(q), s, r, int(v), str(why)) for q, s, r, v, why in
            store.query(sql + " ORDER BY seq", params)]
    if limit is None:
        return rows
    picked: set[tuple[str, str]] = set()
    out: list[Queued] = []
    for row in rows:
        key = (row.source, row.record_id)
        if key in picked or len(picked) < limit:
            picked.add(key)
            out.append(row)
    return out


def corrections_waiting(store: Store) -> list[tuple[str, str]]:
    """The records a correction queued and no update has resolved yet."""
    return [(str(s), str(r)) for s, r in store.query(
        f"SELECT DISTINCT source, record_id FROM {TABLE} WHERE reason = 'correction' ORDER BY 1, 2")]


def done(store: Store, rows: Sequence[Queued]) -> None:
    """Delete these rows (in the transaction that wrote what resolving them gave)."""
    if rows:
        store.write(f"DELETE FROM {TABLE} WHERE {store.dialect.in_list('seq')}",
                    [[q.seq for q in rows]])


def batch_keys(store: Store, batch_id: int) -> list[tuple[str, str]]:
    """The queued records an ingest batch stored (those still waiting)."""
    from accord.ingest.reads import batch_versions_sql

    return [(str(s), str(r)) for s, r in store.query(
        f"SELECT DISTINCT q.source, q.record_id FROM {TABLE} q JOIN ({batch_versions_sql()}) b "
        "ON b.source = q.source AND b.record_id = q.record_id ORDER BY 1, 2", [batch_id])]


def clear_resolved(store: Store, current: str = CURRENT_RECORDS) -> int:
    """A batch run's last step: delete the rows of every version it resolved (``current``:
    the current records it read, on the connection it computes on)."""
    rows = store.write(
        f"DELETE FROM {TABLE} WHERE EXISTS (SELECT 1 FROM {current} r WHERE r.source = "
        f"{TABLE}.source AND r.record_id = {TABLE}.record_id AND r.version >= {TABLE}.version)")
    return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0


def covered_seqs(store: Store, current: str = CURRENT_RECORDS) -> list[int]:
    """The rows ``clear_resolved`` would delete, by seq (a run computing in a workspace reads
    them there, then deletes them in the store by seq)."""
    return [int(r[0]) for r in store.query(
        f"SELECT q.seq FROM {TABLE} q JOIN {current} r ON r.source = q.source "
        "AND r.record_id = q.record_id AND r.version >= q.version")]


def delete_seqs(store: Store, seqs: Sequence[int]) -> None:
    if seqs:
        store.write(f"DELETE FROM {TABLE} WHERE {store.dialect.in_list('seq')}", [list(seqs)])


def waiting(store: Store) -> dict[str, int]:
    """Queued rows by reason."""
    return {str(r): int(n) for r, n in
            store.query(f"SELECT reason, count(*) FROM {TABLE} GROUP BY reason ORDER BY reason")}
