"""Disputes and corrections: 5 U.S.C. 552a(d)(2)-(4) and (c)(4).

A privacy officer files a dispute on a person's behalf against one field of one of the
person's records, with the value the person says is correct and their statement. The agency
acknowledges it within 10 working days (Saturdays, Sundays and federal holidays excluded),
then either corrects the record or denies the request with reasons and appeal rights. After a
denial the person may file a statement of disagreement; the gate attaches it to every later
disclosure of the person. After a correction or a statement every earlier recipient of the
person's records is notified, and so is the owner of the record system (Accord is read-only
toward systems of record: the source agency must correct its own copy).

A correction never edits a stored record: it adds a new version (version + 1) through a new
``ingest_batches`` row named ``correction:<dispute id>``, so ``record_provenance`` shows where
the corrected value came from. Disputes are one row each; what happens to them is appended to
``dispute_events``; the current state is derived from those events.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from accord.errors import AccordError
from accord.governance.gate import Gate
from accord.governance.policy import Request
from accord.governance.scope import require_issued, scoped_records_sql
from accord.ingest.checks import CHECKS
from accord.sources.fields import catalogue
from accord.sql_text import ident
from accord.store import Store

ACKNOWLEDGE_WORKING_DAYS = 10  # 552a(d)(2)(A)
# Raw forms split into name parts at ingest: correct the parts instead.
NOT_CORRECTABLE = frozenset({"full_name", "given_names", "full_address"})


class DisputeError(AccordError):
    """A dispute operation that cannot be done as asked; the message says why."""


# --- working days ------------------------------------------------------------------------

def federal_holidays(year: int) -> frozenset[date]:
    """Legal public holidays (5 U.S.C. 6103) as observed in ``year`` (Saturday -> Friday,
    Sunday -> Monday)."""
    def nth(month: int, weekday: int, n: int) -> date:
        if n > 0:
            first = date(year, month, 1)
            return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)

    def observed(d: date) -> date:
        return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d

    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2021:
        fixed.append(date(year, 6, 19))
    days = {observed(d) for d in fixed}
    if date(year + 1, 1, 1).weekday() == 5:  # next New Year's Day observed on 31 December
        days.add(date(year, 12, 31))
    days |= {nth(1, 0, 3), nth(2, 0, 3), nth(5, 0, -1), nth(9, 0, 1), nth(10, 0, 2), nth(11, 3, 4)}
    return frozenset(d for d in days if d.year == year)


def working_days_after(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (weekends and federal holidays skipped)."""
    d, count = start, 0
    while count < n:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in federal_holidays(d.year):
            count += 1
    return d


# --- reading ---------------------------------------------------------------------------

@cache
def reason_codes() -> dict[str, Any]:
    """The casework reason codes and texts (``registry/reason_codes.yaml``)."""
    text = resources.files("accord.governance").joinpath("registry", "reason_codes.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def default_appeal_rights() -> str:
    return str(reason_codes()["denial_appeal_rights"]).strip()


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


_DISPUTE_COLS = ("dispute_id, person_id, source, record_id, field, claimed_value, statement, filed_by, "
                 "filed_on, acknowledge_by")
_EVENT_COLS = ("seq", "dispute_id", "event", "on_date", "recorded_at", "user_id", "text", "appeal_rights",
               "batch_id", "version")


def _load(store: Store, where: str, params: list[Any]) -> list[Dispute]:
    rows = store.query(f"SELECT {_DISPUTE_COLS} FROM disputes WHERE {where} ORDER BY filed_at, dispute_id",
                       params)
    out = [Dispute(*row) for row in rows]
    if out:
        events = store.query(f"SELECT {', '.join(_EVENT_COLS)} FROM dispute_events "
                             "WHERE list_contains(?, dispute_id) ORDER BY seq", [[d.dispute_id for d in out]])
        by_id = {d.dispute_id: d for d in out}
        for e in events:
            by_id[e[1]].events.append(dict(zip(_EVENT_COLS, e, strict=True)))
    return out


def get_dispute(store: Store, dispute_id: str) -> Dispute:
    found = _load(store, "dispute_id = ?", [dispute_id])
    if not found:
        raise DisputeError(f"no dispute {dispute_id!r}")
    return found[0]


def disputes_of(store: Store, person_id: str) -> list[Dispute]:
    return _load(store, "person_id = ?", [person_id])


# open: not yet corrected or denied (filed or acknowledged)
STATES = ("filed", "acknowledged", "corrected", "denied", "open")

# Each dispute's state derived from its events in SQL (as Dispute.state derives it in Python):
# the first correction or denial resolves it; any acknowledgement or resolution acknowledges it.
_STATE_SQL = """
SELECT d.dispute_id, d.person_id, d.filed_at, d.acknowledge_by, e.acked IS TRUE AS acked,
       coalesce(e.resolution, CASE WHEN e.acked THEN 'acknowledged' ELSE 'filed' END) AS state
FROM disputes d LEFT JOIN (
  SELECT dispute_id, bool_or(event IN ('acknowledged', 'corrected', 'denied')) AS acked,
         arg_min(event, seq) FILTER (WHERE event IN ('corrected', 'denied')) AS resolution
  FROM dispute_events GROUP BY dispute_id) e USING (dispute_id)"""


def list_disputes(store: Store, today: date, *, person_id: str | None = None, state: str | None = None,
                  overdue: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Dispute], bool]:
    """Disputes, oldest first: one person's, those in one state (``open``: not yet corrected or
    denied), or only those overdue for acknowledgement on ``today``. A page of them and whether
    more follow."""
    if state is not None and state not in STATES:
        raise DisputeError(f"unknown dispute state {state!r} ({', '.join(STATES)})")
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if person_id is not None:
        where.append("person_id = ?")
        params.append(person_id)
    if state == "open":
        where.append("state IN ('filed', 'acknowledged')")
    elif state is not None:
        where.append("state = ?")
        params.append(state)
    if overdue:
        where.append("NOT acked AND acknowledge_by < ?")
        params.append(today)
    ids = [r[0] for r in store.query(f"SELECT dispute_id FROM ({_STATE_SQL}) WHERE {' AND '.join(where)} "
                                     "ORDER BY filed_at, dispute_id LIMIT ? OFFSET ?",
                                     [*params, limit + 1, offset])]
    found = _load(store, "list_contains(?, dispute_id)", [ids[:limit]]) if ids else []
    return found, len(ids) > limit


def notifications_of(store: Store, *, person_id: str | None = None,
                     dispute_id: str | None = None) -> list[Notification]:
    rows = store.query(
        "SELECT notification_id, dispute_id, person_id, kind, recipient, address, disclosure_seq, "
        "record_disclosed, notified_at FROM notifications WHERE (? IS NULL OR person_id = ?) "
        "AND (? IS NULL OR dispute_id = ?) ORDER BY notification_id",
        [person_id, person_id, dispute_id, dispute_id])
    return [Notification(*r) for r in rows]


def record_of(store: Store, source: str, record_id: str) -> tuple[str, str | None, int]:
    """(record system, the person it is linked to, current version) of a stored record, from
    provenance and entity membership only (no values are read)."""
    rows = store.query(
        "SELECT p.system, m.entity_id, p.version FROM record_provenance p "
        "LEFT JOIN entity_members m USING (source, record_id) WHERE p.source = ? AND p.record_id = ? "
        "ORDER BY p.version DESC LIMIT 1", [source, record_id])
    if not rows:
        raise DisputeError(f"no record {source}/{record_id} is stored")
    return str(rows[0][0]), rows[0][1], int(rows[0][2])


def normalise_value(store: Store, name: str, value: str | None) -> str | None:
    """A claimed value as the field stores it, or a DisputeError saying why it cannot be."""
    f = catalogue().get(name)
    if f is None:
        raise DisputeError(f"unknown field {name!r} (fields: {', '.join(catalogue())})")
    if name in NOT_CORRECTABLE:
        raise DisputeError(f"{name} is split into parts at ingest; dispute the parts "
                           "(given_name, middle_name, family_name; street, city, state, zip)")
    if value is None or not value.strip():
        return None
    text = value.strip()
    if f.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise DisputeError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None
    if f.type == "integer":
        try:
            number = int(text)
        except ValueError:
            raise DisputeError(f"{name}: {text!r} is not a whole number") from None
        if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
            raise DisputeError(f"{name}: {number} is outside {f.min}-{f.max}")
        return str(number)
    if f.values is not None:
        canon = {v.lower(): v for v in f.values}
        if text.lower() not in canon:
            raise DisputeError(f"{name}: {text!r} is not one of {', '.join(f.values)}")
        return canon[text.lower()]
    if f.check is not None:
        pre, reason, normal = CHECKS[f.check]("raw", "p")
        row = store.query(f"SELECT {reason}, {normal} FROM (SELECT raw, {pre} AS p FROM "
                          "(SELECT CAST(? AS VARCHAR) AS raw))", [text])[0]
        if row[0] is not None:
            raise DisputeError(f"{name}: {text!r}: {row[0]}")
        return str(row[1])
    return text


# --- acting ------------------------------------------------------------------------------

def _next(store: Store) -> int:
    return int(store.scalar("SELECT nextval('casework_seq')"))


def _event(store: Store, dispute_id: str, event: str, on: date, user_id: str, text: str | None = None,
           appeal_rights: str | None = None, batch_id: int | None = None, version: int | None = None) -> None:
    store.con.execute("INSERT INTO dispute_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [_next(store), dispute_id, event, on, datetime.now(UTC), user_id, text, appeal_rights,
                       batch_id, version])


def _open(d: Dispute) -> None:
    if d.resolution is not None:
        raise DisputeError(f"dispute {d.dispute_id} was already {d.state} on {d.resolution['on_date']}")


def file_dispute(gate: Gate, user_id: str, person_id: str, *, source: str, record_id: str, field: str,
                 claimed_value: str | None, statement: str, today: date | None = None) -> Dispute:
    """File a request to amend one field of one of the person's records (on their behalf)."""
    today = today or gate.today
    store = gate.store
    with gate.act(user_id, "dispute.file", purpose="subject_access", persons=(person_id,),
                  details={"source": source, "record_id": record_id, "field": field}) as act:
        act.records = [(source, record_id)]
        value = normalise_value(store, field, claimed_value)
        if not statement or not statement.strip():
            raise DisputeError("a dispute needs the person's statement of what is wrong and why")
        _, linked, _ = record_of(store, source, record_id)
        if linked != person_id:
            raise DisputeError(f"record {source}/{record_id} is not a record of person {person_id}")
        due = working_days_after(today, ACKNOWLEDGE_WORKING_DAYS)
        with store.transaction():
            dispute_id = f"D-{_next(store):06d}"
            store.con.execute("INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              [dispute_id, person_id, source, record_id, field, value, statement.strip(),
                               user_id, today, datetime.now(UTC), due])
        act.details["dispute"] = dispute_id
        act.outcome = f"dispute {dispute_id} filed; acknowledge by {due}"
    return get_dispute(store, dispute_id)


def acknowledge_dispute(gate: Gate, user_id: str, dispute_id: str, *, note: str | None = None,
                        today: date | None = None) -> Dispute:
    today = today or gate.today
    d = get_dispute(gate.store, dispute_id)
    with gate.act(user_id, "dispute.handle", purpose="subject_access", persons=(d.person_id,),
                  details={"dispute": dispute_id, "step": "acknowledge"}) as act:
        if d.acknowledged_on is not None:
            raise DisputeError(f"dispute {dispute_id} was already acknowledged on {d.acknowledged_on}")
        with gate.store.transaction():
            _event(gate.store, dispute_id, "acknowledged", today, user_id, note)
        late = today > d.acknowledge_by
        act.outcome = f"acknowledged {'late' if late else 'in time'} (due {d.acknowledge_by})"
    return get_dispute(gate.store, dispute_id)


def overdue_disputes(gate: Gate, user_id: str, *, today: date | None = None) -> list[Dispute]:
    """Disputes not acknowledged within 10 working days of filing, oldest first."""
    today = today or gate.today
    with gate.act(user_id, "dispute.read", details={"list": "overdue", "as_of": today.isoformat()}) as act:
        late = [d for d in _load(gate.store, "acknowledge_by < ?", [today]) if d.overdue(today)]
        act.persons = sorted({d.person_id for d in late})
        act.outcome = f"{len(late)} disputes overdue for acknowledgement"
    return late


@dataclass
class Resolution:
    dispute: Dispute
    notifications: list[Notification]
    batch_id: int | None = None      # corrected: the batch holding the new version
    version: int | None = None       # corrected: the record's new version

    def to_dict(self) -> dict[str, Any]:
        return {"dispute": self.dispute.to_dict(), "batch_id": self.batch_id, "version": self.version,
                "notifications": [n.to_dict() for n in self.notifications]}


def correct_dispute(gate: Gate, user_id: str, dispute_id: str, *, today: date | None = None) -> Resolution:
    """Correct the record as the person asked: a new version with provenance, and notices to
    every earlier recipient and to the record system's owner."""
    today = today or gate.today
    store = gate.store
    d = get_dispute(store, dispute_id)
    with gate.act(user_id, "dispute.handle", purpose="subject_access", persons=(d.person_id,),
                  details={"dispute": dispute_id, "step": "correct"}) as act:
        act.records = [(d.source, d.record_id)]
        _open(d)
        # The record is read only through a scope the gate issues for the person's own records.
        decision = gate.decide(user_id, Request("subject.report", "subject_access", persons=(d.person_id,)))
        if not decision.allow or decision.scope is None:
            raise DisputeError(f"cannot read record {d.source}/{d.record_id} to correct it: "
                               + "; ".join(decision.reasons))
        require_issued(decision.scope)
        system, _, _ = record_of(store, d.source, d.record_id)
        if set(catalogue()) - decision.scope.fields_for(system):
            raise DisputeError(f"not every field of {system} records is readable; a copy would lose data")
        scoped = scoped_records_sql(gate.registry, decision.scope, table="records_current")
        where = "WHERE source = ? AND record_id = ? AND person_id = ?"
        keys = [d.source, d.record_id, d.person_id]
        current = store.query(f"SELECT version, CAST({ident(d.field)} AS VARCHAR) FROM ({scoped}) {where}",
                              keys)
        if len(current) != 1:
            raise DisputeError(f"record {d.source}/{d.record_id} is no longer a record of {d.person_id}")
        old_version, old_value = int(current[0][0]), current[0][1]
        if old_value == d.claimed_value:
            raise DisputeError(f"record {d.source}/{d.record_id} already holds the claimed {d.field}; "
                               "nothing to correct")
        payload = json.dumps({"dispute": dispute_id, "source": d.source, "record_id": d.record_id,
                              "from_version": old_version, "field": d.field, "value": d.claimed_value,
                              "corrected_by": user_id, "on": today.isoformat()}, sort_keys=True).encode()
        sql_type = catalogue()[d.field].sql_type
        with store.transaction():
            started = datetime.now(UTC)
            batch_id = int(store.scalar("SELECT nextval('ingest_batch_seq')"))
            mapping = store.scalar("SELECT mapping_sha256 FROM sources WHERE source = ?", [d.source])
            store.con.execute(
                f"INSERT INTO records BY NAME SELECT * EXCLUDE (regimes, person_id) REPLACE ("
                f"version + 1 AS version, CAST(? AS BIGINT) AS batch_id, CAST(1 AS BIGINT) AS row_number, "
                f"CAST(? AS {sql_type}) AS {ident(d.field)}) FROM ({scoped}) {where}",
                [batch_id, d.claimed_value, *keys])
            store.con.execute(
                "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, 0, 1, 0, 0)",
                [batch_id, d.source, system, f"correction:{dispute_id}", f"accord:disputes/{dispute_id}",
                 hashlib.sha256(payload).hexdigest(), len(payload), f"correction:{dispute_id}",
                 mapping or hashlib.sha256(payload).hexdigest(), user_id, started, datetime.now(UTC)])
            _event(store, dispute_id, "corrected", today, user_id, None, None, batch_id, old_version + 1)
            sent = _notify(gate, d, "correction", system, user_id)
        act.details.update(batch=batch_id, version=old_version + 1, notifications=len(sent))
        act.outcome = f"corrected {d.source}/{d.record_id} {d.field} (version {old_version + 1}); " \
                      f"{len(sent)} recipients notified"
    return Resolution(get_dispute(store, dispute_id), sent, batch_id, old_version + 1)


def deny_dispute(gate: Gate, user_id: str, dispute_id: str, *, reasons: str,
                 appeal_rights: str | None = None, today: date | None = None) -> Dispute:
    """Refuse the amendment, with the reasons and the person's appeal rights (552a(d)(2)(B)(ii))."""
    today = today or gate.today
    d = get_dispute(gate.store, dispute_id)
    with gate.act(user_id, "dispute.handle", purpose="subject_access", persons=(d.person_id,),
                  details={"dispute": dispute_id, "step": "deny"}) as act:
        _open(d)
        if not reasons or not reasons.strip():
            raise DisputeError("a refusal to amend must give the person its reasons")
        rights = (appeal_rights or "").strip() or default_appeal_rights()
        with gate.store.transaction():
            _event(gate.store, dispute_id, "denied", today, user_id, reasons.strip(), rights)
        act.outcome = "amendment refused with reasons and appeal rights"
    return get_dispute(gate.store, dispute_id)


def file_statement(gate: Gate, user_id: str, dispute_id: str, statement: str, *,
                   today: date | None = None) -> Resolution:
    """The person's statement of disagreement after a refusal (552a(d)(3)): kept with the
    person, attached by the gate to every later disclosure, and sent to earlier recipients."""
    today = today or gate.today
    d = get_dispute(gate.store, dispute_id)
    with gate.act(user_id, "dispute.file", purpose="subject_access", persons=(d.person_id,),
                  details={"dispute": dispute_id, "step": "statement of disagreement"}) as act:
        if d.state != "denied":
            raise DisputeError(f"dispute {dispute_id} is {d.state}: a statement of disagreement follows a "
                               "refusal to amend")
        if d.disagreement is not None:
            raise DisputeError(f"dispute {dispute_id} already has a statement of disagreement")
        if not statement or not statement.strip():
            raise DisputeError("the statement of disagreement is empty")
        system, _, _ = record_of(gate.store, d.source, d.record_id)
        with gate.store.transaction():
            gate.store.con.execute("INSERT INTO dispute_statements VALUES (?, ?, ?, ?)",
                                   [d.person_id, dispute_id, statement.strip(), datetime.now(UTC)])
            _event(gate.store, dispute_id, "statement", today, user_id, statement.strip())
            sent = _notify(gate, d, "statement_of_disagreement", system, user_id)
        act.details["notifications"] = len(sent)
        act.outcome = f"statement of disagreement filed; {len(sent)} recipients notified"
    return Resolution(get_dispute(gate.store, dispute_id), sent)


def _notify(gate: Gate, d: Dispute, kind: str, system: str, user_id: str) -> list[Notification]:
    """One notification per earlier disclosure of the person, and one to the system's owner."""
    store = gate.store
    now = datetime.now(UTC)
    rows = store.query("SELECT audit_seq, recipient, recipient_address, records FROM disclosures "
                       "WHERE person_id = ? AND disclosed_at <= ? ORDER BY audit_seq", [d.person_id, now])
    owner = gate.registry.systems[system].owner if system in gate.registry.systems else system
    targets: list[tuple[str, str | None, int | None, bool | None]] = [
        (recipient, address, int(seq), [d.source, d.record_id] in json.loads(records))
        for seq, recipient, address, records in rows]
    targets.append((owner, None, None, None))
    out = []
    for recipient, address, seq, included in targets:
        n = Notification(_next(store), d.dispute_id, d.person_id, kind, recipient, address, seq, included,
                         now)
        store.con.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [n.notification_id, n.dispute_id, n.person_id, n.kind, n.recipient, n.address,
                           n.disclosure_seq, n.record_disclosed, n.notified_at, user_id])
        out.append(n)
    return out
