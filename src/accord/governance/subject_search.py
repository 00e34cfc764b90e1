"""Finding the person a subject-access request concerns (5 U.S.C. 552a(d)(1)).

A person asks for their records in a letter that names them: name and date of birth, an SSN or
an A-number. Before the privacy officer can run the subject-access report (one person's own
records, ``accord.governance.subject_report``) they need that person's id. This search is one
governed read (``subject.search`` under ``subject_access``): the policy issues a scope that
shows only the identifying fields the search compares (``policy.IDENTIFYING_FIELDS``) over every
person, and the answer is, for each candidate, its person id, a score and which of the supplied
details agreed and how — never a name, a date of birth, a source, a regime or a record count. A
candidate who is not the requester is thereby told about no more than "someone matches these
details", whatever records they hold (an asylum or VAWA record stays as unseen here as anywhere
else); the requester's own records, floors included, are theirs to see in the report.

The audit event names every candidate listed and the records that were compared for them;
there is no accounting row (subject access is the agency's own handling of the person's
request, as the report itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.governance.gate import Gate
from accord.governance.policy import Decision, Request
from accord.master.search import SearchHit, search_persons

MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Candidate:
    person_id: str
    score: float
    matched_on: list[dict[str, Any]]    # {field, level}: which supplied details agreed, how well
    compared: list[tuple[str, str]] = field(default_factory=list, repr=False)  # for the audit only

    def to_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "score": self.score, "matched_on": self.matched_on}


@dataclass
class Candidates:
    """The persons the supplied details point to, best first; ``touched`` tells the gate whom
    and which records the search compared (recorded in its audit event)."""

    items: list[Candidate]

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [c.person_id for c in self.items], sorted({r for c in self.items for r in c.compared})


def _candidate(hit: SearchHit) -> Candidate:
    # The level without the record column an identifier agreed in ("exact (tin)" says that a
    # tax return holds it): which kind of record matched is not the search's to tell.
    matched = [{"field": m.field, "level": m.level.split(" (")[0]} for m in hit.matched_on]
    return Candidate(hit.person_id, hit.score, matched, hit.touched_records())


def find_subject(gate: Gate, user_id: str, *, name: str | None = None, dob: str | None = None,
                 ssn: str | None = None, a_number: str | None = None,
                 limit: int = MAX_CANDIDATES) -> tuple[list[dict[str, Any]], int]:
    """The persons matching the details a subject-access request gives (name and date of birth,
    or an SSN or A-number), best first, and the audit event of the search."""

    def reader(decision: Decision) -> Candidates:
        assert decision.scope is not None   # an allowed subject.search decision always has a scope
        hits = search_persons(gate.store, gate.registry, decision.scope, name=name, dob=dob, ssn=ssn,
                              a_number=a_number, limit=limit)
        return Candidates([_candidate(h) for h in hits])

    g = gate.read(user_id, Request("subject.search", "subject_access"), reader,
                  nature="subject-access search")
    return [c.to_dict() for c in g.value.items], g.audit_seq
