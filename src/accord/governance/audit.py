"""The tamper-evident audit log (AU-2, AU-3, AU-9, AU-10; IRS Publication 1075).

Every event holds the AU-3 content (UTC time, unique user id, action, purpose, agreement,
justification, persons and records touched, decision and reasons, outcome, origin) and the
hash of the previous event; its own hash covers all of that. ``verify`` recomputes the chain
and names the first event that was changed, removed, inserted or reordered; a separate head
row (and heads exported with :func:`head`) catches removal of the newest events.

Nothing in the product updates or deletes audit events (retention: AU-11, LEGAL.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from accord.store import Store

GENESIS = "0" * 64
MAX_EVENTS = 1000   # the most events one browsing call returns
# Every column of an event but its chain links (prev_hash, hash); its hash covers all of them.
COLUMNS = ("seq", "at_utc", "user_id", "action", "purpose", "agreement", "justification", "persons",
            "records", "decision", "reasons", "outcome", "origin", "details")


@dataclass(frozen=True)
class Event:
    """One thing that happened, before it is chained."""

    user_id: str
    action: str
    decision: str = "allow"          # allow | deny | n/a
    outcome: str = "ok"
    origin: str = "cli"
    purpose: str | None = None
    agreement: str | None = None
    justification: str | None = None
    persons: Iterable[str] = ()
    records: Iterable[tuple[str, str]] = ()
    reasons: Iterable[str] = ()
    details: dict[str, Any] = field(default_factory=dict)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    body = _canon({k: row[k] for k in COLUMNS})
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _row(seq: int, at: str, e: Event) -> dict[str, Any]:
    return {
        "seq": seq, "at_utc": at, "user_id": e.user_id, "action": e.action, "purpose": e.purpose,
        "agreement": e.agreement, "justification": e.justification,
        "persons": _canon(sorted(set(e.persons))),
        "records": _canon(sorted({(s, r) for s, r in e.records})),
        "decision": e.decision, "reasons": _canon(list(e.reasons)), "outcome": e.outcome,
        "origin": e.origin, "details": _canon(e.details),
    }


def append(store: Store, event: Event) -> int:
    """Chain one event onto the log inside the caller's transaction; returns its seq."""
    return append_many(store, [event])[-1]


# The chain head, read inside the appending transaction (with the engine's row lock, so that
# another writer's append waits for this transaction, or conflicts with it, and never forks it).
HEAD_SQL = "SELECT seq, hash FROM audit_head WHERE one = 1"
HEAD_COLUMNS = ["one", "seq", "hash"]
# The head row before the first event, made with the table (accord.governance.schema), so that
# the first append too reads and locks an existing row.
FIRST_HEAD = f"INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT DO NOTHING"


def chain_head(store: Store, *, lock: bool = False) -> tuple[int, str]:
    """The chain's head (seq, hash); (0, GENESIS) before the first event. With ``lock``, the
    head row stays locked until the caller's transaction ends (``Dialect.lock_rows``)."""
    rows = store.query(HEAD_SQL + (store.dialect.lock_rows() if lock else ""))
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)


def append_many(store: Store, events: list[Event]) -> list[int]:
    """Chain several events in order, in the caller's transaction (or one of their own): the
    head is read under its row lock in that transaction, the events go in with one insert,
    the head moves to the last of them. Two writers can therefore never chain onto the same
    head: on an engine with row locks the second waits for the first to commit and reads its
    head; on DuckDB (one writing process) the second transaction's update of the head
    conflicts and it is rolled back (``Store.conflicts``). Appends to the ledger leave the
    store's data version where it is."""
    with store.transaction():
        seq, prev = chain_head(store, lock=True)
        first = seq
        rows = []
        for e in events:
            seq += 1
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            row = _row(seq, at, e)
            row["prev_hash"] = prev
            row["hash"] = prev = _digest(prev, row)
            rows.append(row)
        names = (*COLUMNS, "prev_hash", "hash")
        store.insert_rows("audit_events", names, [[r[c] for c in names] for r in rows], ledger=True)
        # The head row is made with the schema; should it be missing, it is made again.
        moved = store.write("UPDATE audit_head SET seq = ?, hash = ? WHERE one = 1", [seq, prev], ledger=True)
        if not moved or not moved[0][0]:
            store.write(store.dialect.upsert("audit_head", HEAD_COLUMNS, ["one"]), [1, seq, prev],
                        ledger=True)
    return list(range(first + 1, seq + 1))


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_bad_event": self.first_bad, "problem": self.problem}


def verify(store: Store, anchor: dict[str, Any] | None = None) -> Verification:
    """Recompute the whole chain. ``anchor`` ({seq, hash}, from :func:`head` earlier) must
    still be in the chain, so a rewrite or a removal since it was exported is caught too."""
    with store.snapshot():                      # the events and the head as of one moment
        chain = store.read_arrow(
            f"SELECT {', '.join((*COLUMNS, 'prev_hash', 'hash'))} FROM audit_events ORDER BY seq, at_utc")
        found_head = chain_head(store)
    expected_seq, prev, count = 1, GENESIS, 0
    anchor_seen = anchor is None

    def bad(seq: int, problem: str) -> Verification:
        return Verification(False, count, expected_seq - 1, prev, seq, problem)

    for batch in chain.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            seq = int(row["seq"])
            if seq != expected_seq:
                what = "missing (removed)" if seq > expected_seq else "duplicated or inserted"
                return bad(min(seq, expected_seq), f"event {expected_seq} {what}: found event {seq} "
                           f"where event {expected_seq} should be")
            if row["prev_hash"] != prev:
                return bad(seq, f"event {seq} does not follow event {seq - 1} "
                           "(inserted, removed or reordered before it)")
            if _digest(prev, row) != row["hash"]:
                return bad(seq, f"event {seq} was changed after it was written")
            if anchor is not None and seq == int(anchor["seq"]):
                if row["hash"] != anchor["hash"]:
                    return bad(seq, f"event {seq} differs from the exported head (the chain was rewritten)")
                anchor_seen = True
            prev, expected_seq, count = row["hash"], seq + 1, count + 1
    head_seq, head_hash = found_head
    if (head_seq, head_hash) != (count, prev):
        first = min(head_seq, count) + 1
        return Verification(False, count, count, prev, first,
                            f"the log ends at event {count} but its head records event {head_seq}: "
                            "events after the last intact one were removed or the head was altered")
    if not anchor_seen:
        return Verification(False, count, count, prev, int(anchor["seq"]) if anchor else None,
                            f"the exported head (event {anchor['seq'] if anchor else '?'}) is no longer "
                            "in the log: events were removed")
    return Verification(True, count, count, prev)


def head(store: Store) -> dict[str, Any]:
    """The chain head to keep outside the store (check it later with verify(anchor=...))."""
    seq, h = chain_head(store)
    return {"seq": seq, "hash": h, "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}


def events(store: Store, *, user: str | None = None, action: str | None = None,
           person: str | None = None, before: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered (for oversight browsing): by user, action (``*``
    wildcard) and person touched; ``before`` (a seq) pages back through the whole log. At most
    1000 a call."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if before is not None:
        where.append("seq < ?")
        params.append(before)
    if user:
        where.append("user_id = ?")
        params.append(user)
    if action:
        where.append("action LIKE ?")
        params.append(action.replace("*", "%"))
    if person:
        where.append(store.dialect.json_array_has("persons"))
        params.append(person)
    found = store.read_arrow(
        f"SELECT {', '.join(COLUMNS)}, hash FROM audit_events WHERE {' AND '.join(where)} "
        f"ORDER BY seq DESC LIMIT ?", [*params, max(1, min(limit, MAX_EVENTS))])
    out = []
    for row in found.to_pylist():
        for k in ("persons", "records", "reasons", "details"):
            row[k] = json.loads(row[k])
        out.append(row)
    return out
