"""The governance gate: the one way to person data, and the one way to act on the store.

Every operation of the service layer runs through a :class:`Gate`:

* ``gate.act(user, action)`` authorises an action that reads no person values (ingest,
  resolve, user administration, agreements, audit verification) and records it, with its
  outcome, in the audit chain — refusals included. The action's work and its event commit in
  one transaction, or neither does.
* ``gate.read(user, request, reader)`` decides a person-data request (purpose, agreement,
  policy), runs the reader with the scope the decision issued, and records the event and the
  accounting of disclosures before anything is returned. If the record cannot be written, the
  caller gets nothing (fail closed).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import duckdb

from accord.errors import AccordError
from accord.faults import checkpoint
from accord.governance import audit
from accord.governance.agreements import get_agreement
from accord.governance.ledger import ledger
from accord.governance.policy import Decision, Request, decide, may_attempt
from accord.governance.registry import Registry, registry
from accord.governance.users import Actor, get_actor
from accord.master.links import memberships
from accord.store import Store

# One writer at a time appends to the audit chain within a process (the API serves requests
# on several threads); across processes the store itself admits one writer.
_CHAIN_LOCK = threading.RLock()

RETENTION_YEARS = 5  # 552a(c)(2): five years or the life of the record, whichever is longer


class PolicyDenied(AccordError):
    """The gate refused a request; ``reasons`` say why in words a person can read."""

    def __init__(self, action: str, reasons: tuple[str, ...], audit_seq: int) -> None:
        self.action = action
        self.reasons = reasons
        self.audit_seq = audit_seq
        super().__init__(f"refused: {action}: " + "; ".join(reasons) + f" (audit event {audit_seq})")


class Touches(Protocol):
    """What a reader's result disclosed: person ids and (source, record_id) pairs."""

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]: ...


R = TypeVar("R", bound=Touches)
T = TypeVar("T")


@dataclass
class Governed(Generic[R]):
    """A reader's result as released by the gate."""

    value: R
    decision: Decision
    audit_seq: int
    statements: dict[str, list[str]] = field(default_factory=dict)  # person -> statements of disagreement


@dataclass
class Activity:
    """An authorised action in progress; set ``outcome``/``details`` before it ends."""

    actor: Actor
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)
    persons: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)


class Gate:
    def __init__(self, store: Store, *, origin: str = "cli", today: date | None = None,
                 reg: Registry | None = None) -> None:
        self.store = store
        self.origin = origin
        self.registry = reg or registry()
        self._today = today
        # Record the registry version once per store: a read (once per generation), a write
        # only when new.
        if not store.read_only and not store.reuse(
                ("registry_version", self.registry.version),
                lambda: bool(store.query("SELECT 1 FROM registry_versions WHERE version = ?",
                                         [self.registry.version])) or None):
            store.con.execute("INSERT INTO registry_versions VALUES (?, now(), ?) ON CONFLICT DO NOTHING",
                              [self.registry.version, json.dumps(self.registry.as_json())])

    def actor(self, user_id: str) -> Actor | None:
        return self.store.reuse(("actor", user_id), lambda: get_actor(self.store, user_id))

    @property
    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    def record(self, **kw: Any) -> int:
        """Append one event (audit.Event fields) in its own transaction (within an action, in
        the action's); returns its seq."""
        return self._event(**kw)

    def _event(self, **kw: Any) -> int:
        with _CHAIN_LOCK, self.store.transaction():
            return audit.append(self.store, audit.Event(origin=self.origin, **kw))

    def authorize(self, user_id: str, action: str, *, purpose: str | None = None,
                  agreement: str | None = None, persons: tuple[str, ...] = (),
                  justification: str | None = None, details: dict[str, Any] | None = None) -> Actor:
        """Check an action (with its purpose and agreement when it concerns persons); a refusal
        is audited and raised as PolicyDenied."""
        actor = self.actor(user_id)
        d = self.decide(user_id, Request(action, purpose, agreement, justification, persons))
        if not d.allow or actor is None:
            seq = self._event(user_id=user_id, action=action, purpose=purpose, agreement=agreement,
                              decision="deny", reasons=d.reasons, outcome="refused", persons=persons,
                              justification=justification, details=details or {})
            raise PolicyDenied(action, d.reasons, seq)
        return actor

    def may_attempt(self, user_id: str, action: str, *, details: dict[str, Any] | None = None) -> Actor:
        """Refuse (audited) a user who may not try ``action`` at all, before a case is looked
        up; the case's own step then decides with its purpose and agreement."""
        actor = self.actor(user_id)
        d = may_attempt(self.registry, actor, action)
        if not d.allow or actor is None:
            seq = self._event(user_id=user_id, action=action, decision="deny", reasons=d.reasons,
                              outcome="refused", details=details or {})
            raise PolicyDenied(action, d.reasons, seq)
        return actor

    @contextlib.contextmanager
    def act(self, user_id: str, action: str, *, purpose: str | None = None, agreement: str | None = None,
            persons: tuple[str, ...] = (), justification: str | None = None,
            details: dict[str, Any] | None = None) -> Iterator[Activity]:
        """Authorise, run and record an action: one audit event with its outcome, also on failure.

        The block runs inside one store transaction, and its event is chained into that
        transaction before it commits: the action's work and its event are stored together or
        not at all (a kill at any moment leaves both or neither). ``store.transaction()``
        blocks within it join it. On failure the work is rolled back and the failure is
        recorded in a transaction of its own.

        The audit chain lock is held from the start of the transaction to its commit: the
        event is chained onto a head no other writer of this process may move meanwhile. A
        long action (resolve) therefore holds back this process's other actions and governed
        reads until it ends; other processes are held back by the store's single writer
        anyway. No governed read runs inside an action.
        """
        actor = self.authorize(user_id, action, purpose=purpose, agreement=agreement, persons=persons,
                               justification=justification, details=details)
        activity = Activity(actor, details=dict(details or {}), persons=list(persons))
        common: dict[str, Any] = {"user_id": user_id, "action": action, "purpose": purpose,
                                  "agreement": agreement, "justification": justification}
        with _CHAIN_LOCK:
            try:
                with _one_transaction(self.store):
                    yield activity
                    audit.append(self.store, audit.Event(
                        **common, origin=self.origin, decision="allow", outcome=activity.outcome,
                        details=activity.details, persons=activity.persons, records=activity.records))
            except BaseException as e:
                self._event(**common, decision="allow", outcome=failure(e), details=activity.details,
                            persons=activity.persons, records=activity.records)
                raise
        checkpoint("action.after_commit")

    def decide(self, user_id: str, request: Request) -> Decision:
        actor = self.actor(user_id)
        name = request.agreement
        agreement = (self.store.reuse(("agreement", name), lambda: get_agreement(self.store, name))
                     if name else None)
        return decide(self.registry, actor, request.purpose, agreement, request, self.today)

    def aggregate_decision(self, user_id: str, agreement_id: str) -> Decision:
        """The decision a recipient of an agreement would get for its work list, issued to a
        user who may evaluate, for figures that carry no person values (harm measurement).
        Audited as an evaluation under the agreement."""
        from dataclasses import replace

        actor = self.authorize(user_id, "evaluate", agreement=agreement_id,
                               details={"aggregate_over": agreement_id})
        agreement = get_agreement(self.store, agreement_id)
        if agreement is None:
            raise PolicyDenied("evaluate", (f"no matching agreement {agreement_id!r} is on record",),
                               self._event(user_id=user_id, action="evaluate", decision="deny",
                                           reasons=("unknown agreement",), outcome="refused"))
        roles = tuple(r for r, role in self.registry.roles.items()
                      if "worklist.read" in role.actions and agreement.purpose in role.purposes)
        recipient = agreement.recipients()[0].name
        stand_in = replace(actor, roles=roles, organisation=recipient)
        d = decide(self.registry, stand_in, agreement.purpose, agreement,
                   Request("worklist.read", agreement.purpose, agreement.id), self.today)
        if not d.allow:
            seq = self._event(user_id=user_id, action="evaluate", agreement=agreement_id, decision="deny",
                              reasons=d.reasons, outcome="refused")
            raise PolicyDenied("evaluate", d.reasons, seq)
        return d

    def read(self, user_id: str, request: Request, reader: Callable[[Decision], R], *,
             nature: str, reuse: Hashable | None = None) -> Governed[R]:
        """Decide, read, record. ``nature`` describes the disclosure for the accounting.

        ``reuse`` names what the reader reads (a person id, say) when its result depends on
        nothing but that, the decision and the store's data: the result is then kept for the
        same request until the store's data changes (``accord.generation``). The decision and
        the audit event and accounting are made afresh for every read, kept result or not.
        """
        decision = self.decide(user_id, request)
        common: dict[str, Any] = {"user_id": user_id, "action": request.action, "purpose": request.purpose,
                  "agreement": request.agreement, "justification": request.justification}
        if decision.allow and decision.scope is not None and decision.scope.view:
            # A purpose with withheld records reads persons only from a resolution run that
            # kept its partition (an upgraded store's older run did not).
            stale = self.store.reuse(("resolve_notices",), lambda: tuple(self.store.notices()))
            if stale:
                decision = Decision(False, ("persons cannot be read under a purpose with withheld records "
                                            "until the store is resolved again: " + stale[0],))
        if not decision.allow:
            seq = self._event(**common, decision="deny", reasons=decision.reasons, outcome="refused",
                              persons=request.persons)
            raise PolicyDenied(request.action, decision.reasons, seq)
        # The decision is a function of the user, the request and the store's data, so the same
        # key under the same generation means the same decision and the same scope.
        key = None if reuse is None else ("read", user_id, request.action, request.purpose,
                                          request.agreement, request.persons, self.today, reuse)

        def run() -> R:
            self.store.memo = {}     # the reader's record reads of one person are shared
            try:
                return reader(decision)
            finally:
                self.store.memo = None

        books = ledger(self.store, _CHAIN_LOCK)
        with books.reading() as pending:
            try:
                value = run() if key is None else self.store.reuse(key, run)
                persons, records = value.touched()
                statements = self.store.reuse(("statements", tuple(persons)),
                                              lambda: self._statements(persons))
                event = audit.Event(
                    **common, origin=self.origin, decision="allow", reasons=decision.reasons,
                    outcome=f"disclosed {len(records)} records of {len(persons)} persons" if records
                    else "nothing disclosed", persons=persons, records=records,
                    details={"nature": nature, "asked_about": list(request.persons)})
                rows: list[list[Any]] = []
                if persons and request.purpose != "subject_access":
                    rows = self._disclosures(user_id, request, decision, nature, persons, records,
                                             statements)
                seq = books.append(self.store, event, rows, pending)
            except BaseException as e:
                # Whatever fails after the decision (the reader, the accounting, the commit, an
                # interruption) is recorded too, and the caller gets nothing (nothing was
                # disclosed). An interruption while another read's commit carried this event
                # leaves both records: the log then says more, never less.
                self._event(**common, decision="allow", reasons=decision.reasons, outcome=failure(e),
                            persons=request.persons,
                            details={"nature": nature, "asked_about": list(request.persons)})
                raise
        return Governed(value, decision, seq, statements)

    def _statements(self, persons: list[str]) -> dict[str, list[str]]:
        if not persons:
            return {}
        rows = self.store.query(
            "SELECT person_id, statement FROM dispute_statements WHERE list_contains(?, person_id) "
            "ORDER BY filed_at", [persons])
        out: dict[str, list[str]] = {}
        for pid, text in rows:
            out.setdefault(pid, []).append(text)
        return out

    def _disclosures(self, user_id: str, request: Request, decision: Decision, nature: str,
                     persons: list[str], records: list[tuple[str, str]],
                     statements: dict[str, list[str]]) -> list[list[Any]]:
        """The accounting of disclosures (552a(c)): one row per person disclosed, each to be
        written after the audit event's seq (the ledger puts it first)."""
        actor = self.actor(user_id)
        recipient, address = (actor.organisation if actor else None) or user_id, None
        if decision.agreement is not None:
            for p in decision.agreement.recipients():
                if p.name == recipient:
                    address = p.address
        by_person: dict[str, list[tuple[str, str]]] = {p: [] for p in persons}
        # Which disclosed record is whose: the persons' memberships (read once per person and
        # shared with the readers that read them).
        person_of = memberships(self.store, persons, decision.scope.view if decision.scope else "")
        for rec in records:
            pid = person_of.get(rec)
            if pid in by_person:
                by_person[pid].append(rec)
        now = datetime.now(UTC)
        retain = (now + timedelta(days=365 * RETENTION_YEARS + 2)).date()
        return [[now, pid, json.dumps(sorted(recs)), nature, request.purpose, request.agreement, user_id,
                 recipient, address, decision.law_enforcement, bool(statements.get(pid)), retain]
                for pid, recs in by_person.items()]


@contextlib.contextmanager
def _one_transaction(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction on ``store`` that every ``store.transaction()`` block run inside it joins
    (a DuckDB connection holds one transaction at a time): the action's own all-or-nothing
    blocks become part of the action's transaction, and an error in one of them rolls back
    the whole action. The joining lasts while this block runs, on this store object only."""
    with store.transaction() as con:
        if "transaction" in vars(store):      # an action within an action: the outer one's
            yield con
            return

        @contextlib.contextmanager
        def joined() -> Iterator[duckdb.DuckDBPyConnection]:
            yield con

        vars(store)["transaction"] = joined
        try:
            yield con
        finally:
            del vars(store)["transaction"]


def failure(e: BaseException) -> str:
    """The outcome recorded for an action or a read that failed with ``e``.

    Never the exception's text, which may hold what the caller supplied (an SSN, a name): the
    exception's type, for Accord's own errors the description of their kind (their class's
    docstring, fixed text), and for anything else an incident id, also added to the exception
    as a note so that the server's log of it (with its traceback) carries the same id."""
    kind = type(e).__name__
    if isinstance(e, AccordError):
        about = _described(type(e))
        return f"failed: {kind}" + (f": {about}" if about else "")
    incident = secrets.token_hex(6)
    e.add_note(f"audit incident {incident}")
    return f"failed: {kind} (incident {incident})"


def _described(kind: type[AccordError]) -> str | None:
    """The first paragraph of the docstring of the error class or of its nearest ancestor
    below AccordError (whose own docstring describes every Accord error alike)."""
    for cls in kind.__mro__:
        if cls is AccordError or not issubclass(cls, AccordError):
            return None
        doc = vars(cls).get("__doc__")
        if doc and doc.strip():
            return " ".join(doc.strip().split("\n\n")[0].split()).replace("``", "")[:300]
    return None
