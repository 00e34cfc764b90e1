"""Disputes: requests to amend one field of one record (5 U.S.C. 552a(d)(2)), and loading them.

A privacy officer files a dispute on a person's behalf against one field of one of the
person's records (``accord.casework.filing``). The agency acknowledges it within 10 working
days, then either corrects the record (``accord.casework.corrections``) or denies the request
with reasons and appeal rights (``accord.casework.handling``). After a denial the person may
file a statement of disagreement (``accord.casework.statements``). After a correction or a
statement every earlier recipient is notified (``accord.casework.notifications``).

Disputes are one row each; what happens to them is appended to ``dispute_events``; the
current state is derived from those events, here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from accord.casework.filters import Filters, Loader
from accord.errors import AccordError, NotFound
from accord.governance.gate import Case, Lookup
from accord.ingest.reads import newest_version
from accord.resolve.entities import person_of
from accord.store import Store

# Disputes are handled for the person, on their request: under subject access (no accounting
# of disclosures is kept for the agency's own handling of a person's request).
DISPUTE_PURPOSE = "subject_access"


class DisputeError(AccordError):
    """A dispute operation that cannot be done as asked; the message says why."""


class NoSuchDispute(DisputeError, NotFound):
    """A dispute, or a record disputed, named by an id that does not exist."""


@dataclass
class Dispute:
    dispute_id: str
    person_id: str
    source: str
    record_id: str
    field: str
    claimed_value: str | None
    statement: str
    filed_by: str
    filed_on: date
    acknowledge_by: date
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def _first(self, *kinds: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["event"] in kinds), None)

    @property
    def acknowledged_on(self) -> date | None:
        """A resolution within the time limit is an acknowledgement too."""
        e = self._first("acknowledged", "corrected", "denied")
        return e["on_date"] if e else None

    @property
    def resolution(self) -> dict[str, Any] | None:
        return self._first("corrected", "denied")

    @property
    def disagreement(self) -> str | None:
        e = self._first("statement")
        return str(e["text"]) if e else None

    @property
    def state(self) -> str:
        if self.resolution is not None:
            return str(self.resolution["event"])
        return "acknowledged" if self.acknowledged_on else "filed"

    def overdue(self, today: date) -> bool:
        """Not acknowledged and past the acknowledgement deadline."""
        return self.acknowledged_on is None and today > self.acknowledge_by

    def to_dict(self) -> dict[str, Any]:
        ack = self.acknowledged_on
        return {"dispute_id": self.dispute_id, "person_id": self.person_id, "source": self.source,
                "record_id": self.record_id, "field": self.field, "claimed_value": self.claimed_value,
                "statement": self.statement, "filed_by": self.filed_by, "filed_on": self.filed_on.isoformat(),
                "acknowledge_by": self.acknowledge_by.isoformat(), "state": self.state,
                "acknowledged_on": ack.isoformat() if ack else None,
                "acknowledged_late": ack is not None and ack > self.acknowledge_by,
                "statement_of_disagreement": self.disagreement,
                "events": [{k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in e.items()}
                           for e in self.events]}


# --- loading ---------------------------------------------------------------------------------

_DISPUTE_COLS = ("dispute_id, person_id, source, record_id, field, claimed_value, statement, filed_by, "
                 "filed_on, acknowledge_by")
_EVENT_COLS = ("seq", "dispute_id", "event", "on_date", "recorded_at", "user_id", "text", "appeal_rights",
               "batch_id", "version")
_LOADER: Loader[Dispute] = Loader(
    Filters("dispute_id", "person_id", conditions={
        "dispute_ids": "dispute_id = ANY(?)", "due_before": "acknowledge_by < ?"}),
    f"SELECT {_DISPUTE_COLS} FROM disputes {{where}} ORDER BY filed_at, dispute_id",
    lambda row: Dispute(*row), lambda d: d.dispute_id,
    f"SELECT {', '.join(_EVENT_COLS)} FROM dispute_events WHERE dispute_id = ANY(?) ORDER BY seq",
    1, lambda d, e: d.events.append(dict(zip(_EVENT_COLS, e, strict=True))))
_load = _LOADER.load


def get_dispute(store: Store, dispute_id: str) -> Dispute:
    return _LOADER.one(store, NoSuchDispute(f"no dispute {dispute_id!r}"), dispute_id=dispute_id)


def disputes_of(store: Store, person_id: str) -> list[Dispute]:
    return _load(store, person_id=person_id)


def due_before(store: Store, day: date) -> list[Dispute]:
    """Disputes whose acknowledgement was due before ``day`` (acknowledged or not)."""
    return _load(store, due_before=day)


def dispute_lookup(store: Store, dispute_id: str, **about: Any) -> Lookup[Dispute]:
    """A dispute named by its id, for the gate to look up once the user may attempt the action
    (``gate.act``/``gate.read`` with ``lookup=``): read or handled for its person under subject
    access."""
    def find() -> Case[Dispute]:
        d = get_dispute(store, dispute_id)
        return Case(d, DISPUTE_PURPOSE, persons=(d.person_id,))

    return Lookup(find, dispute=dispute_id, **about)


# open: not yet corrected or denied (filed or acknowledged)
STATES = ("filed", "acknowledged", "corrected", "denied", "open")

# Each dispute's state derived from its events in SQL (as Dispute.state derives it in Python):
# the first correction or denial resolves it; any acknowledgement or resolution acknowledges it.
_STATE_SQL = """
SELECT d.dispute_id, d.person_id, d.filed_at, d.acknowledge_by, e.acked IS TRUE AS acked,
       coalesce(r.event, CASE WHEN e.acked THEN 'acknowledged' ELSE 'filed' END) AS state
FROM disputes d
LEFT JOIN (SELECT dispute_id, bool_or(event IN ('acknowledged', 'corrected', 'denied')) AS acked
           FROM dispute_events GROUP BY dispute_id) e ON e.dispute_id = d.dispute_id
LEFT JOIN (SELECT dispute_id, min(seq) AS seq FROM dispute_events WHERE event IN ('corrected', 'denied')
           GROUP BY dispute_id) f ON f.dispute_id = d.dispute_id
LEFT JOIN dispute_events r ON r.dispute_id = d.dispute_id AND r.seq = f.seq"""
_STATE_FILTERS = Filters("person_id", "state", conditions={
    "open": "state IN ('filed', 'acknowledged')",
    "overdue_on": "NOT acked AND acknowledge_by < ?"})


def list_disputes(store: Store, today: date, *, person_id: str | None = None, state: str | None = None,
                  overdue: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Dispute], bool]:
    """Disputes, oldest first: one person's, those in one state (``open``: not yet corrected or
    denied), or only those overdue for acknowledgement on ``today``. A page of them and whether
    more follow."""
    if state is not None and state not in STATES:
        raise DisputeError(f"unknown dispute state {state!r} ({', '.join(STATES)})")
    where, params = _STATE_FILTERS.where(person_id=person_id, open=True if state == "open" else None,
                                         state=None if state == "open" else state,
                                         overdue_on=today if overdue else None)
    ids = [r[0] for r in store.query(f"SELECT dispute_id FROM ({_STATE_SQL}) s {where} "
                                     "ORDER BY filed_at, dispute_id LIMIT ? OFFSET ?",
                                     [*params, limit + 1, offset])]
    found = _load(store, dispute_ids=ids[:limit]) if ids else []
    return found, len(ids) > limit


def record_of(store: Store, source: str, record_id: str) -> tuple[str, str | None, int]:
    """(record system, the person it is linked to, current version) of a stored record, from
    provenance and entity membership only (no values are read)."""
    newest = newest_version(store, source, record_id)
    if newest is None:
        raise NoSuchDispute(f"no record {source}/{record_id} is stored")
    system, version = newest
    return system, person_of(store, source, record_id), version


# --- writing events --------------------------------------------------------------------------

_EVENT_INSERT = (f"INSERT INTO dispute_events ({', '.join(_EVENT_COLS)}) "
                 f"VALUES ({', '.join('?' * len(_EVENT_COLS))})")


def next_seq(store: Store) -> int:
    """The next number of the casework sequence (ids and event order across casework tables)."""
    return int(store.scalar("SELECT nextval('casework_seq')"))


def add_event(store: Store, dispute_id: str, event: str, on: date, user_id: str, text: str | None = None,
              appeal_rights: str | None = None, *, batch_id: int | None = None,
              version: int | None = None) -> None:
    """Append what happened to a dispute (its state is derived from these)."""
    store.write(_EVENT_INSERT, [next_seq(store), dispute_id, event, on, datetime.now(UTC), user_id,
                                      text, appeal_rights, batch_id, version])


def still_open(d: Dispute) -> None:
    """Refuse a step on a dispute already corrected or denied."""
    if d.resolution is not None:
        raise DisputeError(f"dispute {d.dispute_id} was already {d.state} on {d.resolution['on_date']}")
