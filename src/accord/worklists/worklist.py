"""Work lists: for an agreement's purpose, the persons whose determination fits, each with its
evidence, link confidence and records, all "unverified"; everyone else counted by reason.

Candidates are the persons with a final order of removal anywhere in the facts the
determination scope allows; each is determined by the status rules and listed only when
eligible. Exclusions are counted, never listed. An entry is a lead for independent
verification (the adverse-action workflow), never a finding.

Before anyone is listed, their identity must be settled (precision first):

- a person one of whose records shares an A-number with a record of another person id, or
  whose records give no date of birth (name, date of birth and an identifier cannot be
  verified together, and such records cannot link to the person's other records), goes to
  review (``needs_review``);
- a person with possible matches — records of other person ids joined to one of theirs by a
  link held for review, or by a strong link a clustering guard rejected (the records carry
  different identifiers) — is determined again with every record of those person ids added
  as weakly linked facts (status rule 12): when they would change the outcome (an exit, a
  grant, citizenship evidence), the person goes to review (``low_link_confidence``); when
  they change nothing, the person is listed on the strength of their own records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.governance.scope import Scope
from accord.person_status.facts import annotations_for, fact_rows, facts_by_person, removal_sources
from accord.person_status.identity import possible_matches, unsettled_identities
from accord.person_status.view import HIDDEN_EXCLUSIONS, shown, visible_records
from accord.status import FAVOURABLE_ONLY, Fact, determine, eligibility
from accord.store import Store

Progress = Callable[[str, float], None]


@dataclass
class Entry:
    person_id: str
    name: str | None
    dob: str | None
    a_number: str | None
    status: str
    order_date: str | None
    link_confidence: float
    evidence: list[dict[str, Any]]
    records: list[dict[str, str]]
    verification: str = "unverified"


@dataclass
class Worklist:
    agreement: str
    purpose: str
    as_of: str
    entries: list[Entry] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    candidates: int = 0

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return ([e.person_id for e in self.entries],
                [(r["source"], r["record_id"]) for e in self.entries for r in e.records])

    def to_dict(self) -> dict[str, Any]:
        return {"agreement": self.agreement, "purpose": self.purpose, "as_of": self.as_of,
                "candidates": self.candidates, "entries": [asdict(e) for e in self.entries],
                "excluded": dict(self.excluded)}


def eligible_persons(store: Store, registry: Registry, decision: Decision, as_of: date,
                     progress: Progress | None = None) -> tuple[dict[str, Any], Counter[str], int]:
    """Determinations of every candidate: (eligible person -> determination, exclusion counts,
    candidates)."""
    scope = decision.determination_scope
    assert scope is not None
    rows = fact_rows(store, registry, scope, where="case_status = 'final_order'")
    facts = facts_by_person(rows)
    notes = annotations_for(store, list(facts), scope.view)
    purpose = decision.agreement.purpose if decision.agreement else "removal_order_enforcement"
    barred = FAVOURABLE_ONLY.get(purpose, ())
    removals = removal_sources(store)
    assert decision.scope is not None
    eligible: dict[str, Any] = {}
    excluded: Counter[str] = Counter()
    for i, (pid, person_facts) in enumerate(sorted(facts.items())):
        if progress and i % 500 == 0:
            progress("determining status", i / max(1, len(facts)))
        d = determine(person_facts, as_of, annotations=notes.get(pid, []), favourable_only=barred,
                      removals_recorded_by=removals)
        el = eligibility(d, purpose)
        if el.eligible:
            eligible[pid] = d
        else:
            excluded[_bucket(d, el.exclusion or "no_final_order", decision.scope, person_facts)] += 1
    # Precision first: a person whose identity is not settled is not listed until a person
    # resolves it; a person with possible matches is listed only when they change nothing.
    for pid in unsettled_identities(store, registry, scope, sorted(eligible)):
        del eligible[pid]
        excluded["needs_review"] += 1
    for pid, near in possible_matches(store, registry, scope, sorted(eligible)).items():
        d = determine(facts[pid] + near, as_of, annotations=notes.get(pid, []),
                      favourable_only=barred, removals_recorded_by=removals)
        el = eligibility(d, purpose)
        if not el.eligible:
            del eligible[pid]
            excluded[_bucket(d, el.exclusion or "needs_review", decision.scope, facts[pid] + near)] += 1
    return eligible, excluded, len(facts)


#: The exclusion count of persons whose exclusion rests on something the purpose is not shown
#: (a protected application, a field of a record it may see only in part): one bucket that
#: names nothing, so counts taken before and after a change tell nothing about what changed.
NEUTRAL_BUCKET = "not_eligible_for_this_purpose"


def _bucket(d: Any, exclusion: str, shown: Scope, facts: list[Fact]) -> str:
    """The exclusion count a person falls under (never one that separates unshown evidence)."""
    if exclusion in HIDDEN_EXCLUSIONS:
        return NEUTRAL_BUCKET
    system = {(f.source, f.record_id): f.system for f in facts}
    if any(e.field != "record" and e.field not in shown.fields_for(system.get((e.source, e.record_id), ""))
           for e in d.evidence):
        return NEUTRAL_BUCKET
    return exclusion


def build(store: Store, registry: Registry, decision: Decision, as_of: date, limit: int,
          offset: int = 0, progress: Progress | None = None) -> Worklist:
    assert decision.agreement is not None and decision.scope is not None
    purpose = decision.agreement.purpose
    eligible, excluded, candidates = eligible_persons(store, registry, decision, as_of, progress)
    ordered = sorted(eligible)
    page = ordered[offset:offset + limit]
    visible_rows = fact_rows(store, registry, decision.scope, page)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for r in visible_rows:
        by_person.setdefault(r["person_id"], []).append(r)
    wl = Worklist(decision.agreement.id, purpose, as_of.isoformat(), excluded=dict(sorted(excluded.items())),
                  candidates=candidates)
    for pid in page:
        rows = by_person.get(pid, [])
        if not rows:
            continue
        view = shown(eligible[pid], purpose, visible_records(store, registry, decision, [pid]), pid)
        wl.entries.append(Entry(
            pid, _common(rows, ("given_name", "family_name")), _common(rows, ("dob",)),
            _common(rows, ("a_number",)), view.status,
            eligible[pid].status_date.isoformat() if eligible[pid].status_date else None,
            eligible[pid].confidence, view.evidence,
            [{"source": r["source"], "record_id": r["record_id"]} for r in rows]))
    if progress:
        progress("work list", 1.0)
    return wl


def _common(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str | None:
    values = Counter(" ".join(str(r[f]) for f in fields if r.get(f) is not None) for r in rows)
    values.pop("", None)
    return values.most_common(1)[0][0] if values else None
