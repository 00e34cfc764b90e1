"""The governance gate: the one way to person data, and the one way to act on the store.

Every operation of the service layer runs through a :class:`Gate`, by one of two ways in:

* ``gate.act(user, action)`` authorises an action that shows no person values (ingest,
  resolve, user administration, agreements, audit verification, casework steps) and records
  it, with its outcome, in the audit chain — refusals included. The action's work and its
  event commit in one transaction, or neither does. An action that must read records under a
  purpose asks the activity for a scope (:meth:`Activity.scope_for`); the gate decides it and
  the action's event records it. An evaluation's harm figures are measured under the decision
  a recipient of its agreement would get (:meth:`Activity.as_recipient`). An action whose own
  check refuses it (a sign-in's credentials) ends as refused (:meth:`Activity.refuse`); the
  sign-in and sign-out events are actions too (``policy.SESSION_ACTIONS``).
* ``gate.read(user, request, reader)`` decides a person-data request (purpose, agreement,
  policy), runs the reader with the scope the decision issued, and records the event and the
  accounting of disclosures before anything is returned. If the record cannot be written, the
  caller gets nothing (fail closed).

Both take a :class:`Lookup` for a case the caller names only by its id (a dispute, a
finding, an annotation): the gate refuses, audited, a user who may not attempt the action at
all before the case is looked up, so that a refusal says nothing of whether the case exists,
and then decides with the purpose, agreement and persons of the case.

These two are the gate's only public methods (``tests/governance/test_gate_entry_points.py``);
there is no decision without a record, and no record outside an action or a read.

The decisions themselves are made in ``accord.governance.policy`` only.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from accord.casework.reads import statements_by_person
from accord.errors import AccordError
from accord.faults import checkpoint
from accord.governance import audit
from accord.governance.agreements import get_agreement
from accord.governance.ledger import ledger
from accord.governance.policy import Decision, Request, decide, may_attempt
from accord.governance.registry import Registry, registry
from accord.governance.scope import Scope
from accord.governance.users import Actor, get_actor
from accord.resolve.entities import memberships
from accord.store import Store

# One writer at a time appends to the audit chain within a process (the API serves requests
# on several threads); across processes the store itself admits one writer.
_CHAIN_LOCK = threading.RLock()

RETENTION_YEARS = 5  # 552a(c)(2): five years or the life of the record, whichever is longer


class PolicyDenied(AccordError):
    """The gate refused a request; ``reasons`` say why in words a person can read."""

    kind = "refused"

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
C = TypeVar("C")


@dataclass(frozen=True)
class Case(Generic[C]):
    """A case as looked up for an action or a read on it: the case itself, and the purpose,
    agreement and persons the action or read then concerns."""

    value: C
    purpose: str | None = None
    agreement: str | None = None
    persons: tuple[str, ...] = ()


class Lookup(Generic[C]):
    """A case named only by its id, looked up by the gate once the user may attempt the action
    at all. ``about`` is what the caller named (recorded with a refusal before the lookup);
    ``find`` looks the case up, raising the case's own error when there is none (as any
    lookup, unrecorded). After the gate ran it, ``value`` is the case."""

    def __init__(self, find: Callable[[], Case[C]], **about: Any) -> None:
        self._find = find
        self.about = about
        self._case: Case[C] | None = None

    def _run(self) -> Case[C]:
        self._case = self._find()
        return self._case

    @property
    def value(self) -> C:
        if self._case is None:
            raise RuntimeError("a case is looked up by the gate (gate.act or gate.read with lookup=)")
        return self._case.value


@dataclass
class Governed(Generic[R]):
    """A reader's result as released by the gate."""

    value: R
    decision: Decision
    audit_seq: int
    statements: dict[str, list[str]] = field(default_factory=dict)  # person -> statements of disagreement


@dataclass
class Activity:
    """An authorised action in progress; set ``outcome``/``details`` before it ends.

    ``actor`` is the acting user (None only for a session action by a user id that is not,
    or not yet, known); ``decision`` is the decision that authorised it (with a scope when the
    action reads person data under its purpose). Once the action's event is chained,
    ``audit_seq`` is its seq."""

    actor: Actor | None
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)
    persons: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)
    decision: Decision | None = None
    audit_seq: int | None = None
    _gate: Gate | None = field(default=None, repr=False)
    _user_id: str = field(default="", repr=False)
    _action: str = field(default="", repr=False)
    _agreement: str | None = field(default=None, repr=False)

    def _made_by_act(self, what: str) -> Gate:
        if self._gate is None:
            raise RuntimeError(f"an activity that asks for {what} is made by Gate.act")
        return self._gate

    def scope_for(self, action: str, purpose: str, *, agreement: str | None = None) -> Scope:
        """The scope under which this action may read its persons' records for ``purpose`` (as
        a read ``action`` under it would), decided by the gate and recorded in this action's
        event (``details["read_under"]``). A refusal ends the action: its event records it as
        refused, and it is raised as PolicyDenied."""
        gate = self._made_by_act("a scope")
        request = Request(action, purpose, agreement, persons=tuple(self.persons))
        d = gate._decide(self._user_id, request)
        self.details.setdefault("read_under", []).append(
            {"action": action, "purpose": purpose, "agreement": agreement,
             "decision": "allow" if d.allow else "deny", "reasons": list(d.reasons)})
        if not d.allow or d.scope is None:
            raise _Refused(action, d.reasons)   # recorded as the action's refusal by Gate.act
        return d.scope

    def as_recipient(self) -> Decision:
        """The decision a recipient party of this evaluation's agreement would get for its work
        list, issued to the evaluation (``gate.act(user, "evaluate", agreement=...)``) for
        figures that carry no person values (harm measurement), and recorded in its event
        (``details["aggregate_over"]``). A refusal (no such agreement on record, or its
        recipient would be refused) ends the action as refused, raised as PolicyDenied."""
        gate = self._made_by_act("a recipient's decision")
        if self._action != "evaluate" or not self._agreement or self.actor is None:
            raise RuntimeError("a recipient's decision is issued to an evaluation under an agreement: "
                               "gate.act(user, 'evaluate', agreement=...)")
        self.details["aggregate_over"] = self._agreement
        return gate._as_recipient(self.actor, self._agreement)

    def refuse(self, *reasons: str, outcome: str = "refused") -> NoReturn:
        """End this action as refused by its own check (a sign-in's credentials, say): the work
        is rolled back, its event records the refusal with ``reasons`` and ``outcome``, and it
        is raised as PolicyDenied."""
        self._made_by_act("a refusal")
        raise _Refused(self._action, reasons, outcome)


class _Refused(Exception):
    """An action was refused inside its block (a scope or a recipient's decision it asked for,
    or its own check); ``Gate.act`` records the action as refused."""

    def __init__(self, action: str, reasons: tuple[str, ...], outcome: str = "refused") -> None:
        super().__init__(action)
        self.action = action
        self.reasons = reasons
        self.outcome = outcome


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
            store.write("INSERT INTO registry_versions (version, loaded_at, content) VALUES (?, now(), ?) "
                        "ON CONFLICT DO NOTHING",
                        [self.registry.version, json.dumps(self.registry.as_json())])

    def _actor(self, user_id: str) -> Actor | None:
        """The user behind an id, kept until the store's data changes."""
        return self.store.reuse(("actor", user_id), lambda: get_actor(self.store, user_id))

    @property
    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    def _event(self, **kw: Any) -> int:
        """Append one event (audit.Event fields) in its own transaction: a refusal, or a
        failure after the decision. Everything else is chained by ``act`` or ``read``."""
        with _CHAIN_LOCK, self.store.transaction():
            return audit.append(self.store, audit.Event(origin=self.origin, **kw))

    def _authorize(self, user_id: str, request: Request,
                   details: dict[str, Any] | None) -> tuple[Actor | None, Decision]:
        """The check ``act`` starts with. The policy refuses an unknown user every action but
        the session actions (``policy.SESSION_ACTIONS``). A refusal is audited and raised."""
        actor = self._actor(user_id)
        d = self._decide(user_id, request)
        if not d.allow:
            seq = self._event(user_id=user_id, action=request.action, purpose=request.purpose,
                              agreement=request.agreement, decision="deny", reasons=d.reasons,
                              outcome="refused", persons=request.persons,
                              justification=request.justification, details=details or {})
            raise PolicyDenied(request.action, d.reasons, seq)
        return actor, d

    def _before_lookup(self, user_id: str, action: str, lookup: Lookup[Any]) -> Case[Any]:
        """Refuse (audited) a user who may not try ``action`` at all, before the case is looked
        up; then look it up. The case's own step decides with its purpose and agreement."""
        actor = self._actor(user_id)
        d = may_attempt(self.registry, actor, action)
        if not d.allow or actor is None:
            seq = self._event(user_id=user_id, action=action, decision="deny", reasons=d.reasons,
                              outcome="refused", details=dict(lookup.about))
            raise PolicyDenied(action, d.reasons, seq)
        return lookup._run()

    @contextlib.contextmanager
    def act(self, user_id: str, action: str, *, purpose: str | None = None, agreement: str | None = None,
            persons: tuple[str, ...] = (), justification: str | None = None,
            details: dict[str, Any] | None = None, lookup: Lookup[Any] | None = None,
            reads_only: bool = False) -> Iterator[Activity]:
        """Authorise, run and record an action: one audit event with its outcome, also on failure.

        With ``lookup``, the action is on a case named by its id: a user who may not attempt
        the action is refused (audited) before the case is looked up, and the case then gives
        the purpose, agreement and persons the action is decided and recorded with (instead of
        the keywords).

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

        With ``reads_only`` (an action that only reads, such as audit verification), the block
        runs outside any transaction of the action's, so that it may read in a snapshot of its
        own (``store.snapshot()``, which inside a transaction joins it: on PostgreSQL each
        statement would then see its own moment), and without the chain lock; its event is
        chained after it, in a transaction of its own.
        """
        if lookup is not None:
            case = self._before_lookup(user_id, action, lookup)
            purpose, agreement, persons = case.purpose, case.agreement, case.persons
        request = Request(action, purpose, agreement, justification, persons)
        actor, decision = self._authorize(user_id, request, details)
        activity = Activity(actor, details=dict(details or {}), persons=list(persons), decision=decision,
                            _gate=self, _user_id=user_id, _action=action, _agreement=agreement)
        common: dict[str, Any] = {"user_id": user_id, "action": action, "purpose": purpose,
                                  "agreement": agreement, "justification": justification}
        try:
            if reads_only:
                yield activity
                activity.audit_seq = self._event(
                    **common, decision="allow", outcome=activity.outcome, details=activity.details,
                    persons=activity.persons, records=activity.records)
            else:
                with _CHAIN_LOCK, self.store.transaction():
                    yield activity
                    activity.audit_seq = audit.append(self.store, audit.Event(
                        **common, origin=self.origin, decision="allow", outcome=activity.outcome,
                        details=activity.details, persons=activity.persons, records=activity.records))
        except _Refused as e:
            seq = self._event(**common, decision="deny", reasons=e.reasons, outcome=e.outcome,
                              details=activity.details, persons=activity.persons, records=activity.records)
            raise PolicyDenied(e.action, e.reasons, seq) from None
        except BaseException as e:
            self._event(**common, decision="allow", outcome=failure(e), details=activity.details,
                        persons=activity.persons, records=activity.records)
            raise
        checkpoint("action.after_commit")

    def _decide(self, user_id: str, request: Request) -> Decision:
        actor = self._actor(user_id)
        name = request.agreement
        agreement = (self.store.reuse(("agreement", name), lambda: get_agreement(self.store, name))
                     if name else None)
        return decide(self.registry, actor, request.purpose, agreement, request, self.today)

    def _as_recipient(self, actor: Actor, agreement_id: str) -> Decision:
        """What ``Activity.as_recipient`` is issued: the decision a recipient party of the
        agreement would get for its work list; a refusal is raised as the evaluation's."""
        agreement = self.store.reuse(("agreement", agreement_id),
                                     lambda: get_agreement(self.store, agreement_id))
        if agreement is None:
            raise _Refused("evaluate", (f"no matching agreement {agreement_id!r} is on record",))
        roles = tuple(r for r, role in self.registry.roles.items()
                      if "worklist.read" in role.actions and agreement.purpose in role.purposes)
        recipient = agreement.recipients()[0].name
        stand_in = replace(actor, roles=roles, organisation=recipient)
        d = decide(self.registry, stand_in, agreement.purpose, agreement,
                   Request("worklist.read", agreement.purpose, agreement.id), self.today)
        if not d.allow:
            raise _Refused("evaluate", d.reasons)
        return d

    def read(self, user_id: str, request: Request, reader: Callable[[Decision], R], *,
             nature: str, reuse: Hashable | None = None, lookup: Lookup[Any] | None = None,
             details: Callable[[R], dict[str, Any]] | None = None) -> Governed[R]:
        """Decide, read, record. ``nature`` describes the disclosure for the accounting;
        ``details`` adds what the reader's result says of the read to its audit event (an
        export's format and row count, a batch's number of queries).

        With ``lookup``, the read is of a case named by its id: a user who may not attempt
        ``request.action`` is refused (audited) before the case is looked up, and the case
        then gives the request's purpose, agreement and persons.

        ``reuse`` names what the reader reads (a person id, say) when its result depends on
        nothing but that, the decision and the store's data: the result is then kept for the
        same request until the store's data version moves (``accord.store.base``). The decision and
        the audit event and accounting are made afresh for every read, kept result or not.
        """
        if lookup is not None:
            case = self._before_lookup(user_id, request.action, lookup)
            request = replace(request, purpose=case.purpose, agreement=case.agreement, persons=case.persons)
        decision = self._decide(user_id, request)
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
                    details={"nature": nature, "asked_about": list(request.persons)}
                    | (details(value) if details is not None else {}))
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
        return statements_by_person(self.store, persons)

    def _disclosures(self, user_id: str, request: Request, decision: Decision, nature: str,
                     persons: list[str], records: list[tuple[str, str]],
                     statements: dict[str, list[str]]) -> list[list[Any]]:
        """The accounting of disclosures (552a(c)): one row per person disclosed, each to be
        written after the audit event's seq (the ledger puts it first)."""
        actor = self._actor(user_id)
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


def failure(e: BaseException) -> str:
    """The outcome recorded for an action or a read that failed with ``e``.

    Never the exception's text, which may hold what the caller supplied (an SSN, a name): the
    exception's type, for Accord's own errors the description of their kind (their class's
    docstring, fixed text), and for anything else an incident id, also added to the exception
    as a note so that the server's log of it (with its traceback) carries the same id."""
    kind = type(e).__name__
    if isinstance(e, AccordError):
        about = query_columns(type(e))
        return f"failed: {kind}" + (f": {about}" if about else "")
    incident = secrets.token_hex(6)
    e.add_note(f"audit incident {incident}")
    return f"failed: {kind} (incident {incident})"


def query_columns(kind: type[AccordError]) -> str | None:
    """The first paragraph of the docstring of the error class or of its nearest ancestor
    below AccordError (whose own docstring describes every Accord error alike)."""
    for cls in kind.__mro__:
        if cls is AccordError or not issubclass(cls, AccordError):
            return None
        doc = vars(cls).get("__doc__")
        if doc and doc.strip():
            return " ".join(doc.strip().split("\n\n")[0].split()).replace("``", "")[:300]
    return None
