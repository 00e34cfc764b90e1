"""Person-data operations: every one is a ``gate.read`` under a declared purpose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from accord.errors import AccordError, NotFound
from accord.governance.policy import Decision, Request
from accord.governance.tax_request import release
from accord.services.context import governed
from accord.services.people_results import (
    ExplanationResult,
    PersonResult,
    SearchOut,
    StatusResult,
    TaxReleaseOut,
    VerifyOut,
    WorklistResult,
)
from accord.store.target import StoreTarget


def tax_request(db: StoreTarget, *, user: str, purpose: str, agreement: str | None, full_name: str, tin: str,
                address: str | dict[str, str], taxable_periods: str, statutory_authority: str, reason: str,
                justification: str | None = None, origin: str = "cli",
                today: date | None = None) -> TaxReleaseOut:
    """A per-person request for tax return information (6103(i)(2)): released only when name,
    TIN and address all match one IRS record, and only the fields the authority allows."""
    person_request = {"full_name": full_name, "tin": tin, "address": address,
                      "taxable_periods": taxable_periods, "statutory_authority": statutory_authority,
                      "reason": reason}
    with governed(db, origin=origin, today=today) as gate:
        governed_result = gate.read(
            user, Request("tax.request", purpose, agreement, justification or reason,
                          person_request=person_request),
            lambda d: release(gate.store, gate.registry, d, person_request),
            nature="tax return information (per-person request)")
        return TaxReleaseOut.model_validate(governed_result.value.to_dict()
                                            | {"audit_event": governed_result.audit_seq})


@dataclass
class PersonRead:
    """A person view with the status as the purpose may see it.

    The gate may hand the same result to later reads of the same request (``reuse``), so its
    plain form is made once and shared: callers read it and never change it."""

    view: Any
    status: Any
    _plain: dict[str, Any] | None = None

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        persons, records = self.view.touched()
        return persons, records

    def to_dict(self) -> dict[str, Any]:
        if self._plain is None:
            self._plain = {"person": self.view.to_dict(),
                           "status": self.status.to_dict() if self.status else None}
        return dict(self._plain)


def person(db: StoreTarget, person_id: str, *, user: str, purpose: str, agreement: str | None = None,
           justification: str | None = None, origin: str = "cli",
           today: date | None = None) -> PersonResult:
    """One person's linked records with provenance, conflicts, links, history and status."""
    from accord.master import PersonNotFound, person_view
    from accord.person_status.view import person_status

    with governed(db, origin=origin, today=today) as gate:
        def reader(d: Decision) -> PersonRead:
            assert d.scope is not None
            view = person_view(gate.store, gate.registry, d.scope, person_id)
            if isinstance(view, PersonNotFound):
                return PersonRead(view, None)
            status = person_status(gate.store, gate.registry, d, person_id, purpose, gate.today)
            return PersonRead(view, status)

        g = gate.read(user, Request("person.view", purpose, agreement, justification, (person_id,)), reader,
                      nature="person view", reuse=person_id)
        return PersonResult.model_validate(
            g.value.to_dict() | {"statements_of_disagreement": g.statements.get(person_id, []),
                                 "audit_event": g.audit_seq})


@dataclass
class StatusRead:
    """A person's status as the purpose may see it; it discloses the evidence records only."""

    person_id: str
    status: Any
    _plain: dict[str, Any] | None = None

    @property
    def found(self) -> bool:
        return bool(self.status.status != "not_found_in_scope")

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        if not self.found:
            return [], []
        records = {(str(e["source"]), str(e["record_id"])) for e in self.status.evidence}
        if self.status.status == "not_eligible":
            # the neutral answer rests on the person's records it does not show: the
            # accounting names them all (it is what the answer was derived from)
            records |= {(str(s), str(r)) for s, r in self.status.records}
        return [self.person_id], sorted(records)

    def to_dict(self) -> dict[str, Any]:
        if self._plain is None:
            from accord.status import DeathInfo

            status = self.status.to_dict()
            if not self.found:   # no determination: the death part reads as no death recorded
                status["death"] = DeathInfo().to_dict()
            self._plain = {"person_id": self.person_id, "found": self.found, "status": status}
        return dict(self._plain)


def status(db: StoreTarget, person_id: str, *, user: str, purpose: str, agreement: str | None = None,
           justification: str | None = None, origin: str = "cli",
           today: date | None = None) -> StatusResult:
    """One person's status with its evidence, without the rest of the person view: the
    accounting names the evidence records, the only records it discloses."""
    from accord.person_status.view import person_status

    with governed(db, origin=origin, today=today) as gate:
        def reader(d: Decision) -> StatusRead:
            return StatusRead(person_id, person_status(gate.store, gate.registry, d, person_id, purpose,
                                                       gate.today))

        g = gate.read(user, Request("person.view", purpose, agreement, justification, (person_id,)), reader,
                      nature="status determination with evidence", reuse=("status", person_id))
        return StatusResult.model_validate(
            g.value.to_dict() | {"statements_of_disagreement": g.statements.get(person_id, []),
                                 "audit_event": g.audit_seq})


def search(db: StoreTarget, *, user: str, purpose: str, agreement: str | None = None,
           name: str | None = None, dob: str | None = None, ssn: str | None = None,
           a_number: str | None = None, tin: str | None = None,
           limit: int = 20, justification: str | None = None, origin: str = "cli",
           today: date | None = None) -> SearchOut:
    """Persons matching name and date of birth or an identifier, ranked with scores."""
    from accord.master import search_persons

    with governed(db, origin=origin, today=today) as gate:
        def reader(d: Decision) -> Any:
            assert d.scope is not None
            return search_persons(gate.store, gate.registry, d.scope, name=name, dob=dob, ssn=ssn,
                                  a_number=a_number, tin=tin, limit=limit)

        g = gate.read(user, Request("person.search", purpose, agreement, justification), reader,
                      nature="person search results")
        return SearchOut.model_validate({"hits": g.value.to_dict(), "audit_event": g.audit_seq})


def verify(db: StoreTarget, *, user: str, purpose: str, agreement: str | None, name: str, dob: str,
           a_number: str | None = None, ssn: str | None = None, justification: str | None = None,
           origin: str = "cli", today: date | None = None) -> VerifyOut:
    """SAVE-like verification: 'verified: <status>' or 'institute additional verification'."""
    from accord.verification import verify as run

    with governed(db, origin=origin, today=today) as gate:
        g = gate.read(user, Request("verify.query", purpose, agreement, justification),
                      lambda d: run(gate.store, gate.registry, d, name, dob, a_number, ssn, gate.today),
                      nature="status verification response")
        return VerifyOut.model_validate(g.value.to_dict() | {"audit_event": g.audit_seq})


def worklist(db: StoreTarget, *, user: str, agreement: str, limit: int = 50, offset: int = 0,
             justification: str | None = None, origin: str = "cli", today: date | None = None,
             progress: Callable[[str, float], None] | None = None) -> WorklistResult:
    """The agreement's work list: eligible persons with evidence (unverified), exclusions counted."""
    from accord.governance.agreements import get_agreement
    from accord.governance.gate import Case, Lookup
    from accord.worklists.worklist import build

    if not 1 <= limit <= 500:
        raise AccordError(f"--limit must be from 1 to 500 (got {limit})")
    with governed(db, origin=origin, today=today) as gate:

        def find() -> Case[Any]:
            """The agreement names the purpose; one that does not exist is not found (for a user
            who may read work lists at all: the gate refuses anyone else first)."""
            a = get_agreement(gate.store, agreement)
            if a is None:
                raise NotFound(f"no agreement {agreement!r} (see `accord agreements list`)")
            return Case(a, purpose=a.purpose, agreement=agreement)

        g = gate.read(user, Request("worklist.read", "", agreement, justification),
                      lambda d: build(gate.store, gate.registry, d, gate.today, limit, offset, progress),
                      nature="work list entry", lookup=Lookup(find, agreement=agreement))
        return WorklistResult.model_validate(g.value.to_dict() | {"audit_event": g.audit_seq})


def explain(db: StoreTarget, person_id: str, *, user: str, purpose: str, agreement: str | None = None,
            a: str | None = None, b: str | None = None, limit: int = 20,
            justification: str | None = None, origin: str = "cli",
            today: date | None = None) -> ExplanationResult:
    """Why a person's records are linked: each link's per-comparison contributions to its
    match weight and, for two records ``SOURCE:RECORD_ID``, the path of links between them."""
    from accord.master.explain import Explanation, explain_person, parse_record

    ka = parse_record(a) if a else None
    kb = parse_record(b) if b else None
    if (ka is None) != (kb is None):
        raise AccordError("give both records (a and b) for a path, or neither")
    with governed(db, origin=origin, today=today) as gate:
        def reader(d: Decision) -> Explanation:
            assert d.scope is not None
            return explain_person(gate.store, gate.registry, d.scope, person_id, ka, kb, limit)

        g = gate.read(user, Request("person.explain", purpose, agreement, justification, (person_id,)),
                      reader, nature="match explanation")
        return ExplanationResult.model_validate(g.value.to_dict() | {"audit_event": g.audit_seq})
