"""Adverse-action findings on match results: 5 U.S.C. 552a(p).

No adverse action on a match result until (1) the information is independently verified,
(2) the person got notice of the findings and a chance to contest them, and (3) the notice
period of the matching agreement (30 days by default) has run out. A finding records each
step as an event; :func:`mark_actionable` refuses unless every step is on record, in order:

* opened (``finding.open``) by a user of a recipient party, under the agreement in force, on
  records of the person from the agreement's sources;
* who may take each step is the policy's (``accord.governance.policy``): notice and decisions
  (``finding.notice``, ``finding.decide``) only a user of a recipient party of the agreement;
* verified (``finding.verify``) by a *different* user, with the method and the evidence;
* notice recorded (``finding.notice``): the day it was sent and how; only after verification;
* the period runs from the (latest) notice: action is possible from ``sent_on + notice_days + 1``
  (the day after the period's last day);
* a contest (``finding.contest``, filed by a caseworker or a privacy officer for the person)
  blocks action while open; upheld, it closes the finding; rejected, the period runs on;
* the agreement must still be in force when the finding is marked actionable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from accord.casework.filters import Filters, Loader
from accord.errors import AccordError, NotFound
from accord.governance.agreements import Agreement, get_agreement
from accord.governance.gate import Activity, Case, Gate, Lookup
from accord.governance.scope import person_records
from accord.store import Store


class FindingError(AccordError):
    """A finding step that cannot be taken; the message says which requirement is missing."""


class NoSuchFinding(FindingError, NotFound):
    """A finding, or its agreement, named by an id that does not exist."""


@dataclass
class Finding:
    finding_id: str
    person_id: str
    agreement_id: str
    purpose: str
    records: list[tuple[str, str]]
    basis: str
    opened_by: str
    opened_on: date
    events: list[dict[str, Any]] = field(default_factory=list)

    def of(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] in kinds]


@dataclass
class FindingState:
    finding: Finding
    state: str                      # pending | ready | actionable | suspended | contested | closed
    needs: list[str]
    verified_by: list[str]
    notice_on: date | None
    actionable_from: date | None
    contests: list[dict[str, Any]]

    @property
    def open_contests(self) -> list[int]:
        return [c["contest_id"] for c in self.contests if c["decision"] is None]

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"finding_id": f.finding_id, "person_id": f.person_id, "agreement": f.agreement_id,
                "purpose": f.purpose, "records": [list(r) for r in f.records], "basis": f.basis,
                "opened_by": f.opened_by, "opened_on": f.opened_on.isoformat(), "state": self.state,
                "needs": self.needs, "verified_by": self.verified_by,
                "notice_on": self.notice_on.isoformat() if self.notice_on else None,
                "actionable_from": self.actionable_from.isoformat() if self.actionable_from else None,
                "contests": [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in c.items()}
                             for c in self.contests]}


_EVENT_COLS = ("seq", "finding_id", "event", "user_id", "on_date", "method", "text", "contest_seq")
_EVENT_INSERT = (f"INSERT INTO finding_events ({', '.join(_EVENT_COLS)}, recorded_at) "
                 f"VALUES ({', '.join('?' * (len(_EVENT_COLS) + 1))})")
_INSERT = ("INSERT INTO findings (finding_id, person_id, agreement_id, purpose, records, basis, opened_by, "
           "opened_on, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_LOADER: Loader[Finding] = Loader(
    Filters("finding_id", "person_id", "agreement_id", conditions={"finding_ids": "finding_id = ANY(?)"}),
    "SELECT finding_id, person_id, agreement_id, purpose, records, basis, opened_by, opened_on "
    "FROM findings {where} ORDER BY opened_at, finding_id",
    lambda r: Finding(r[0], r[1], r[2], r[3], [(s, i) for s, i in json.loads(r[4])], *r[5:]),
    lambda f: f.finding_id,
    f"SELECT {', '.join(_EVENT_COLS)} FROM finding_events WHERE finding_id = ANY(?) ORDER BY seq",
    1, lambda f, e: f.events.append(dict(zip(_EVENT_COLS, e, strict=True))))
_load = _LOADER.load


def get_finding(store: Store, finding_id: str) -> Finding:
    return _LOADER.one(store, NoSuchFinding(f"no finding {finding_id!r}"), finding_id=finding_id)


def findings_of(store: Store, person_id: str) -> list[Finding]:
    return _load(store, person_id=person_id)


STATES = ("pending", "ready", "actionable", "suspended", "contested", "closed")


def list_findings(store: Store, agreement_id: str, today: date, *, person_id: str | None = None,
                  state: str | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[FindingState], bool]:
    """The findings opened under an agreement, oldest first, with where each stands on ``today``
    (optionally one person's, or those in one state); a page of them and whether more follow."""
    if state is not None and state not in STATES:
        raise FindingError(f"unknown finding state {state!r} ({', '.join(STATES)})")
    agreement = get_agreement(store, agreement_id)
    if state is None:   # the page is cut in SQL; one more row says whether another page follows
        where, params = _LOADER.filters.where(agreement_id=agreement_id, person_id=person_id)
        ids = [r[0] for r in store.query(f"SELECT finding_id FROM findings {where} "
                                         "ORDER BY opened_at, finding_id LIMIT ? OFFSET ?",
                                         [*params, limit + 1, offset])]
        found = _load(store, finding_ids=ids[:limit]) if ids else []
        return [_state(f, agreement, today) for f in found], len(ids) > limit
    # A state is derived from the events, the agreement and the day: worked out for each finding.
    states = [s for s in (_state(f, agreement, today)
                          for f in _load(store, agreement_id=agreement_id, person_id=person_id))
              if s.state == state]
    return states[offset:offset + limit], len(states) > offset + limit


def _state(f: Finding, agreement: Agreement | None, today: date) -> FindingState:
    decisions = {e["contest_seq"]: e for e in f.of("contest_upheld", "contest_rejected")}
    contests = [{"contest_id": c["seq"], "received_on": c["on_date"], "by": c["user_id"],
                 "contest": c["text"], "decision": (decisions[c["seq"]]["event"].removeprefix("contest_")
                              if c["seq"] in decisions else None)}
                for c in f.of("contested")]
    verified_by = [e["user_id"] for e in f.of("verified") if e["user_id"] != f.opened_by]
    notices = f.of("notice_sent")
    notice_on = notices[-1]["on_date"] if notices else None
    days = agreement.notice_days if agreement else 30
    actionable_from = notice_on + timedelta(days=days + 1) if notice_on else None

    def result(state: str, needs: list[str]) -> FindingState:
        return FindingState(f, state, needs, verified_by, notice_on, actionable_from, contests)

    if any(c["decision"] == "upheld" for c in contests):
        return result("closed", [])
    needs = []
    if not verified_by:
        needs.append(f"independent verification by someone other than {f.opened_by} (552a(p)(1)(A))")
    if notice_on is None:
        needs.append("notice of the findings to the person, with the chance to contest (552a(p)(1)(B))")
    elif actionable_from is not None and today < actionable_from:
        needs.append(f"the {days}-day notice period from {notice_on} to run out: "
                     f"no action before {actionable_from} (552a(p)(1)(C))")
    open_contests = [c["contest_id"] for c in contests if c["decision"] is None]
    if open_contests:
        needs.append("a decision on the person's open contest " + ", ".join(f"#{c}" for c in open_contests))
    if agreement is None:
        needs.append(f"agreement {f.agreement_id} is not on record")
    elif not agreement.in_force(today):
        needs.append(f"agreement {agreement.id} is {agreement.state(today)} "
                     f"({agreement.start} to {agreement.ends_on}); it authorises nothing today")
    marked = bool(f.of("actionable"))
    return result("contested" if open_contests else "suspended" if marked and needs else
                  "actionable" if marked else "pending" if needs else "ready", needs)


def finding_state(store: Store, finding_id: str, today: date) -> FindingState:
    """Where a finding stands on ``today`` and what is still needed before any adverse action."""
    f = get_finding(store, finding_id)
    return _state(f, get_agreement(store, f.agreement_id), today)


def _event(store: Store, finding_id: str, event: str, user_id: str, on: date, method: str | None = None,
           text: str | None = None, contest_seq: int | None = None) -> int:
    seq = int(store.scalar("SELECT nextval('casework_seq')"))
    store.write(_EVENT_INSERT, [seq, finding_id, event, user_id, on, method, text, contest_seq,
                                      datetime.now(UTC)])
    return seq


def _required(**values: str | None) -> None:
    for name, v in values.items():
        if not v or not v.strip():
            raise FindingError(f"give the {name.replace('_', ' ')}")


def open_finding(gate: Gate, user_id: str, person_id: str, *, agreement: str, records: list[tuple[str, str]],
                 basis: str, today: date | None = None) -> FindingState:
    """Open a finding on a match result: the person's records it rests on and what it says."""
    today = today or gate.today
    store = gate.store
    a = get_agreement(store, agreement)
    with gate.act(user_id, "finding.open", purpose=a.purpose if a else None, agreement=agreement,
                  persons=(person_id,), details={"records": [list(r) for r in records]}) as act:
        act.records = list(records)
        if a is None:  # the gate refuses first; kept for type narrowing
            raise NoSuchFinding(f"no agreement {agreement!r} is on record")
        _required(basis=basis)
        if not records:
            raise FindingError("name the records of the match result the finding rests on")
        # The records are looked up as the finding's purpose sees the person (the scope the
        # gate issued this action), and a record that is not there gets one answer, whether it
        # does not exist, is another person's, is withheld from the purpose or is outside the
        # agreement's sources.
        scope = act.decision.scope if act.decision is not None else None
        shown = ({(r["source"], r["record_id"])
                  for r in person_records(store, gate.registry, scope, [person_id])}
                 if scope is not None else set())
        for source, record_id in records:
            if (source, record_id) not in shown:
                raise FindingError(f"record {source}/{record_id} is not among the records of person "
                                   f"{person_id} that this purpose may see")
        with store.transaction():
            finding_id = f"F-{int(store.scalar('SELECT nextval(?)', ['casework_seq'])):06d}"
            store.write(_INSERT, [finding_id, person_id, a.id, a.purpose,
                                        json.dumps(sorted(map(list, records))), basis.strip(), user_id, today,
                                        datetime.now(UTC)])
        act.details["finding"] = finding_id
        act.outcome = f"finding {finding_id} opened; unverified"
    return finding_state(store, finding_id, today)


def finding_lookup(store: Store, finding_id: str) -> Lookup[Finding]:
    """A finding named by its id, for the gate to look up once the user may attempt the step
    (``gate.act``/``gate.read`` with ``lookup=``): under the finding's purpose and agreement."""
    def find() -> Case[Finding]:
        f = get_finding(store, finding_id)
        return Case(f, f.purpose, f.agreement_id, (f.person_id,))

    return Lookup(find, finding=finding_id)


@contextmanager
def _step(gate: Gate, user_id: str, finding_id: str, action: str, step: str, today: date, *,
          open_only: bool = True) -> Iterator[tuple[Activity, Finding, FindingState]]:
    """A step on a finding named by its id, as ``gate.act`` with the finding's lookup: the
    activity, the finding and its state ``today``; refused (FindingError) when the finding is
    closed and the step needs an open one."""
    found = finding_lookup(gate.store, finding_id)
    with gate.act(user_id, action, details={"finding": finding_id, "step": step}, lookup=found) as act:
        s = finding_state(gate.store, finding_id, today)
        if open_only:
            _not_closed(s)
        yield act, found.value, s


def _not_closed(s: FindingState) -> None:
    if s.state == "closed":
        raise FindingError(f"finding {s.finding.finding_id} is closed: the person's contest was upheld")


def verify_finding(gate: Gate, user_id: str, finding_id: str, *, method: str, evidence: str,
                   today: date | None = None) -> FindingState:
    """Independent verification (552a(p)(1)(A)): never by the user who opened the finding."""
    today = today or gate.today
    with _step(gate, user_id, finding_id, "finding.verify", "verify", today) as (act, f, _):
        if user_id == f.opened_by:
            raise FindingError(f"{user_id} opened finding {finding_id}; verification must be independent "
                               "(by another user)")
        _required(verification_method=method, evidence=evidence)
        with gate.store.transaction():
            _event(gate.store, finding_id, "verified", user_id, today, method.strip(), evidence.strip())
        act.outcome = f"finding {finding_id} independently verified"
    return finding_state(gate.store, finding_id, today)


def record_notice(gate: Gate, user_id: str, finding_id: str, *, sent_on: date, method: str,
                  today: date | None = None) -> FindingState:
    """The notice of the findings sent to the person (552a(p)(1)(B)); only after verification."""
    today = today or gate.today
    with _step(gate, user_id, finding_id, "finding.notice", "notice", today) as (act, f, s):
        _required(notice_method=method)
        if not s.verified_by:
            raise FindingError(f"finding {finding_id} is not independently verified; "
                               "notice follows verification")
        verified_on = max(e["on_date"] for e in f.of("verified") if e["user_id"] != f.opened_by)
        if not verified_on <= sent_on <= today:
            raise FindingError(f"notice date {sent_on} must fall between the verification ({verified_on}) "
                               f"and today ({today})")
        with gate.store.transaction():
            _event(gate.store, finding_id, "notice_sent", user_id, sent_on, method.strip())
        act.outcome = f"notice sent {sent_on} by {method.strip()}"
    return finding_state(gate.store, finding_id, today)


def contest_finding(gate: Gate, user_id: str, finding_id: str, *, contest: str,
                    received_on: date | None = None, today: date | None = None) -> FindingState:
    """The person's contest of the findings, filed for them; it blocks action while open."""
    today = today or gate.today
    received_on = received_on or today
    with _step(gate, user_id, finding_id, "finding.contest", "contest", today) as (act, _, _):
        _required(contest=contest)
        if received_on > today:
            raise FindingError(f"a contest cannot be received in the future ({received_on})")
        with gate.store.transaction():
            seq = _event(gate.store, finding_id, "contested", user_id, received_on, None, contest.strip())
        act.details["contest"] = seq
        act.outcome = f"contest #{seq} filed; the finding cannot be acted on until it is decided"
    return finding_state(gate.store, finding_id, today)


def decide_contest(gate: Gate, user_id: str, finding_id: str, contest_id: int, *, upheld: bool, reasons: str,
                   today: date | None = None) -> FindingState:
    """Upheld closes the finding; rejected lets the notice period run on."""
    today = today or gate.today
    with _step(gate, user_id, finding_id, "finding.decide", "decide contest", today,
               open_only=False) as (act, _, s):
        act.details.update(contest=contest_id, upheld=upheld)
        if contest_id not in s.open_contests:
            raise FindingError(f"finding {finding_id} has no open contest #{contest_id}")
        _required(reasons=reasons)
        event = "contest_upheld" if upheld else "contest_rejected"
        with gate.store.transaction():
            _event(gate.store, finding_id, event, user_id, today, None, reasons.strip(), contest_id)
        act.outcome = f"contest #{contest_id} {'upheld: finding closed' if upheld else 'rejected'}"
    return finding_state(gate.store, finding_id, today)


def mark_actionable(gate: Gate, user_id: str, finding_id: str, *, today: date | None = None) -> FindingState:
    """Record that adverse action may now be taken; refused unless every requirement is met."""
    today = today or gate.today
    with _step(gate, user_id, finding_id, "finding.decide", "mark actionable", today) as (act, _, s):
        if s.state == "actionable":
            raise FindingError(f"finding {finding_id} is already actionable")
        if s.needs:
            raise FindingError(f"finding {finding_id} may not be acted on yet: " + "; ".join(s.needs))
        with gate.store.transaction():
            _event(gate.store, finding_id, "actionable", user_id, today)
        act.outcome = f"finding {finding_id} actionable (verified by {', '.join(s.verified_by)}; " \
                      f"notice {s.notice_on}; period ended {s.actionable_from})"
    return finding_state(gate.store, finding_id, today)
