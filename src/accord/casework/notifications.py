"""Notices of a correction or a statement of disagreement (5 U.S.C. 552a(c)(4)).

After a correction or a statement, every earlier recipient of the person's records is told:
one ``notifications`` row per earlier disclosure of the person (by its audit seq), saying
whether that disclosure included the disputed record, and one more to the owner of the record
system (Accord is read-only toward systems of record: the source agency corrects its own copy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accord.casework.disputes import Dispute, next_seq
from accord.casework.filters import Filters
from accord.governance.ledger import disclosed_to
from accord.governance.registry import Registry
from accord.store import Store

_COLS = ("notification_id", "dispute_id", "person_id", "kind", "recipient", "address", "disclosure_seq",
         "record_disclosed", "notified_at")
_INSERT = (f"INSERT INTO notifications ({', '.join(_COLS)}, created_by) "
           f"VALUES ({', '.join('?' * (len(_COLS) + 1))})")
_FILTERS = Filters("person_id", "dispute_id")


@dataclass
class Notification:
    notification_id: int
    dispute_id: str
    person_id: str
    kind: str
    recipient: str
    address: str | None
    disclosure_seq: int | None
    record_disclosed: bool | None
    notified_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


@dataclass
class Resolution:
    """A dispute after a step that notified recipients (a correction or a statement)."""

    dispute: Dispute
    notifications: list[Notification]
    batch_id: int | None = None      # corrected: the batch holding the new version
    version: int | None = None       # corrected: the record's new version

    def to_dict(self) -> dict[str, Any]:
        return {"dispute": self.dispute.to_dict(), "batch_id": self.batch_id, "version": self.version,
                "notifications": [n.to_dict() for n in self.notifications]}


def notifications_of(store: Store, *, person_id: str | None = None,
                     dispute_id: str | None = None) -> list[Notification]:
    where, params = _FILTERS.where(person_id=person_id, dispute_id=dispute_id)
    rows = store.query(f"SELECT {', '.join(_COLS)} FROM notifications {where} ORDER BY notification_id",
                       params)
    return [Notification(*r) for r in rows]


def notify(store: Store, registry: Registry, d: Dispute, kind: str, system: str,
           user_id: str) -> list[Notification]:
    """One notification per earlier disclosure of the person, and one to the system's owner."""
    now = datetime.now(UTC)
    rows = disclosed_to(store, d.person_id, now)
    owner = registry.systems[system].owner if system in registry.systems else system
    targets: list[tuple[str, str | None, int | None, bool | None]] = [
        (recipient, address, int(seq), [d.source, d.record_id] in json.loads(records))
        for seq, recipient, address, records in rows]
    targets.append((owner, None, None, None))
    out = []
    for recipient, address, seq, included in targets:
        n = Notification(next_seq(store), d.dispute_id, d.person_id, kind, recipient, address, seq, included,
                         now)
        store.write(_INSERT, [n.notification_id, n.dispute_id, n.person_id, n.kind, n.recipient,
                                    n.address, n.disclosure_seq, n.record_disclosed, n.notified_at, user_id])
        out.append(n)
    return out
