"""Durable records of governed reads, written in groups.

Every governed read ends with its audit event and its accounting of disclosures written and
committed before the caller sees anything. A server answers many reads at once; writing each
in its own transaction would make every reader wait for every other reader's commit in turn.
Here the reads that arrive while a commit is under way wait together, and the next of them to
go writes the whole group in one transaction: one chain of events, one insert of the
accounting rows, one commit. Each reader still returns only after the transaction holding its
own event has committed, and a failed commit fails every read in it (fail closed).

There is no thread of its own: whichever waiting reader finds no commit under way leads the
next one, on its own connection. Nothing about the chain is kept in memory: each group's
transaction reads the chain head under its row lock (:func:`accord.governance.audit.append_many`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from accord.governance import audit
from accord.store import Store

# Rows of the accounting of disclosures for one event, before its seq is known.
DisclosureRows = list[list[Any]]

_LEDGERS_LOCK = threading.Lock()


@dataclass
class _Entry:
    event: audit.Event
    disclosures: DisclosureRows
    seq: int | None = None
    error: BaseException | None = None
    done: bool = False
    waiters: list[Any] = field(default_factory=list)


@dataclass
class Pending:
    """A read under way that will append an event (see :meth:`Ledger.reading`)."""

    arrived: bool = False


# The accounting of disclosures, in the order the gate builds its rows (after the event's seq).
DISCLOSURE_COLUMNS = ("audit_seq", "disclosed_at", "person_id", "records", "nature", "purpose", "agreement",
                      "recipient_user", "recipient", "recipient_address", "law_enforcement",
                      "statement_attached", "retain_until")

class Ledger:
    """The group committer of one open store (shared by its connections)."""

    # How long a leader waits for reads still under way to join its group (seconds).
    LINGER = 0.002

    def __init__(self, chain_lock: threading.RLock) -> None:
        self._chain_lock = chain_lock
        self._cond = threading.Condition()
        self._queue: list[_Entry] = []
        self._leading = False
        self._reading = 0            # reads under way that will append an event
        self.commits = 0
        self.events = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[Pending]:
        """Around a read that will end in :meth:`append` (pass it what this yields): a leader
        about to commit waits a moment (``LINGER``) for such reads to join its group instead
        of committing alone."""
        pending = Pending()
        with self._cond:
            self._reading += 1
        try:
            yield pending
        finally:
            if not pending.arrived:          # the read failed before its event was appended
                with self._cond:
                    self._reading -= 1
                    self._cond.notify_all()

    def append(self, store: Store, event: audit.Event, disclosures: DisclosureRows,
               pending: Pending | None = None) -> int:
        """Write ``event`` (and its accounting rows, which get its seq first) durably; returns
        the event's seq once its transaction has committed. Raises what the commit raised."""
        entry = _Entry(event, disclosures)
        with self._cond:
            self._queue.append(entry)
            if pending is not None and not pending.arrived:
                pending.arrived = True
                self._reading -= 1
            self._cond.notify_all()
            while not entry.done:
                if not self._leading:
                    self._leading = True
                    # Reads still under way may join this group (for at most LINGER).
                    if self._reading:
                        self._cond.wait_for(lambda: self._reading == 0, self.LINGER)
                    group, self._queue = self._queue, []
                    break
                self._cond.wait()
            else:
                return self._result(entry)
        try:
            self._commit(store, group)
        finally:
            with self._cond:
                self._leading = False
                self._cond.notify_all()
        return self._result(entry)

    @staticmethod
    def _result(entry: _Entry) -> int:
        if entry.error is not None:
            raise entry.error
        assert entry.seq is not None
        return entry.seq

    def _commit(self, store: Store, group: list[_Entry]) -> None:
        try:
            # The chain lock orders this process's writers; the head itself is read in the
            # transaction, under its row lock (audit.append_many), so a writer elsewhere (another
            # process, another store object on the file) can never fork the chain.
            with self._chain_lock, store.transaction():
                seqs = audit.append_many(store, [e.event for e in group])
                rows = [[seq, *row] for e, seq in zip(group, seqs, strict=True) for row in e.disclosures]
                if rows:
                    store.insert_rows("disclosures", DISCLOSURE_COLUMNS, rows, ledger=True)
        except BaseException as e:  # every read in the group fails closed
            for entry in group:
                entry.error, entry.done = e, True
            raise
        self.commits += 1
        self.events += len(group)
        for entry, seq in zip(group, seqs, strict=True):
            entry.seq, entry.done = seq, True


def ledger(store: Store, chain_lock: threading.RLock) -> Ledger:
    """The ledger of the open store ``store`` belongs to (its connections share one)."""
    shared = store.shared
    with _LEDGERS_LOCK:
        if not isinstance(shared.ledger, Ledger):
            shared.ledger = Ledger(chain_lock)
        return shared.ledger


# --- reading the accounting of disclosures ---------------------------------------------------
# Modules outside accord.governance read ``disclosures`` through these, never with SQL of their own.

def disclosed_to(store: Store, person_id: str, until: Any) -> list[tuple[int, str, str | None, str]]:
    """The person's disclosures made up to ``until``, oldest first: (audit seq, recipient,
    recipient's address, the records disclosed as JSON [[source, record_id], ...])."""
    rows = store.query("SELECT audit_seq, recipient, recipient_address, records FROM disclosures "
                       "WHERE person_id = ? AND disclosed_at <= ? ORDER BY audit_seq", [person_id, until])
    return [(int(seq), recipient, address, records) for seq, recipient, address, records in rows]


def _filter(person: str | None, agreement: str | None, as_of: int | None) -> tuple[str, list[Any]]:
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if person:
        where.append("person_id = ?")
        params.append(person)
    if agreement:
        where.append("agreement = ?")
        params.append(agreement)
    if as_of is not None:
        where.append("audit_seq <= ?")
        params.append(as_of)
    return " AND ".join(where), params


def disclosure_page(store: Store, *, person: str | None, agreement: str | None, as_of: int | None,
                    limit: int, offset: int) -> list[dict[str, Any]]:
    """A page of the accounting (of one person, under one agreement, up to audit seq ``as_of``:
    each if given), newest first, times as text."""
    where, params = _filter(person, agreement, as_of)
    return store.query_dicts(
        f"SELECT audit_seq, CAST(disclosed_at AS VARCHAR) AS disclosed_at, person_id, nature, purpose, "
        f"agreement, recipient_user, recipient, recipient_address, law_enforcement, statement_attached, "
        f"CAST(retain_until AS VARCHAR) AS retain_until FROM disclosures WHERE {where} "
        f"ORDER BY audit_seq DESC, person_id LIMIT ? OFFSET ?", [*params, limit, offset])


def disclosure_counts(store: Store, *, agreement: str | None) -> tuple[list[tuple[Any, ...]], int | None]:
    """The accounting counted by agreement ('(no agreement)' for none), in agreement order:
    (agreement, disclosures, distinct persons, law-enforcement ones, those with a statement
    attached, purposes most frequent first); and the newest audit seq among them."""
    where, params = _filter(None, agreement, None)
    rows = store.query(
        f"SELECT coalesce(agreement, '(no agreement)') AS a, count(*), count(DISTINCT person_id), "
        f"count(*) FILTER (WHERE law_enforcement), count(*) FILTER (WHERE statement_attached), "
        f"array_agg(purpose ORDER BY n DESC, purpose) FROM (SELECT *, count(*) OVER (PARTITION BY "
        f"coalesce(agreement, ''), purpose) AS n FROM disclosures WHERE {where}) d GROUP BY a ORDER BY a",
        params)
    newest = store.scalar(f"SELECT max(audit_seq) FROM disclosures WHERE {where}", params)
    return rows, None if newest is None else int(newest)
