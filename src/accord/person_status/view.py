"""A person's status as a purpose may see it.

The rules run over the facts of the records the purpose may see (the decision's
determination scope: withheld records are never among them, so a person with a protected
application and one without get the same answer); what is shown is only evidence from fields
the disclosure scope shows. For a purpose with an eligibility rule, an exclusion resting on a
field it is not shown reads "not eligible for this purpose" and nothing more.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.person_status.facts import annotations_for, fact_rows, facts_by_person, removal_sources
from accord.person_status.identity import possible_matches, unsettled_identities
from accord.status import FAVOURABLE_ONLY, GENERIC_REASON, DeathInfo, Determination, determine, eligibility
from accord.status.eligibility import ELIGIBILITY_PURPOSES
from accord.store import Store

HIDDEN_EXCLUSIONS = frozenset({"protected"})


@dataclass
class StatusView:
    person_id: str
    status: str
    confidence: float
    evidence: list[dict[str, Any]]
    needs_review: list[str]
    death: dict[str, Any]
    eligible: bool | None = None          # for purposes with an eligibility rule
    exclusion: str | None = None
    reason: str | None = None
    records: list[tuple[str, str]] = field(default_factory=list)

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return ([self.person_id] if self.records else []), self.records

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["records"] = [{"source": s, "record_id": r} for s, r in self.records]
        return d


Visible = dict[tuple[str, str], frozenset[str]]   # record -> fields the disclosure scope shows


def visible_records(store: Store, registry: Registry, decision: Decision, persons: list[str]) -> Visible:
    assert decision.scope is not None
    rows = fact_rows(store, registry, decision.scope, persons)
    return {(r["source"], r["record_id"]): decision.scope.fields_for(r["system"]) | {"record"} for r in rows}


def _can_show(visible: Visible, source: str, record_id: str, field_name: str) -> bool:
    return field_name in visible.get((source, record_id), frozenset())


def shown(d: Determination, purpose: str, visible: Visible, person_id: str) -> StatusView:
    """What of a determination the purpose may see.

    The determination rests only on records the purpose may see (withheld records are not
    among its facts). For a purpose with an eligibility rule it may also rest on fields of
    those records the purpose is not shown (protective use): an exclusion resting on any of
    them, or on a protected application, is the neutral answer — status ``not_eligible``,
    the generic reason, and no evidence, confidence, review reasons or death details."""
    evidence = [asdict(e) | {"date": e.date.isoformat() if isinstance(e.date, date) else e.date}
                for e in d.evidence if _can_show(visible, e.source, e.record_id, e.field)]
    for e in evidence:
        if isinstance(e.get("value"), date):
            e["value"] = e["value"].isoformat()
        e.pop("regimes", None)
    view = StatusView(person_id, d.status, d.confidence, evidence, list(d.needs_review_reasons),
                      _death_shown(d, visible), records=sorted(visible))
    if purpose in ELIGIBILITY_PURPOSES:
        el = eligibility(d, purpose)
        view.eligible, view.exclusion, view.reason = el.eligible, el.exclusion, el.reason
        rests_on_unshown = any(not _can_show(visible, e.source, e.record_id, e.field) for e in d.evidence)
        if el.exclusion in HIDDEN_EXCLUSIONS or (not el.eligible and rests_on_unshown):
            neutral(view)
    return view


def neutral(view: StatusView) -> None:
    """The answer that says no more than "not eligible for this purpose"."""
    view.status, view.exclusion, view.reason, view.eligible = "not_eligible", None, GENERIC_REASON, False
    view.confidence, view.evidence, view.needs_review = 0.0, [], []
    view.death = DeathInfo().to_dict()


def _death_shown(d: Determination, visible: Visible) -> dict[str, Any]:
    """The death part of a determination as far as it rests on shown death dates; a death
    known only from fields the purpose is not shown reads as no death recorded (the status
    is then the neutral answer)."""
    info = d.death.to_dict()
    records = [r for r in info["records"] if _can_show(visible, r[0], r[1], "death_date")]
    if not records:
        return DeathInfo().to_dict()
    info["records"] = records
    info["contradicted_by"] = [r for r in info["contradicted_by"] if _can_show(visible, r[0], r[1], r[2])]
    return info


def person_status(store: Store, registry: Registry, decision: Decision, person_id: str, purpose: str,
                  as_of: date) -> StatusView:
    assert decision.determination_scope is not None
    facts = facts_by_person(fact_rows(store, registry, decision.determination_scope, [person_id]))
    visible = visible_records(store, registry, decision, [person_id])
    if not visible:
        return StatusView(person_id, "not_found_in_scope", 0.0, [], [], {})
    notes = annotations_for(store, [person_id], decision.determination_scope.view).get(person_id, [])
    removals = removal_sources(store)
    d = determine(facts.get(person_id, []), as_of, annotations=notes,
                  favourable_only=FAVOURABLE_ONLY.get(purpose, ()), removals_recorded_by=removals)
    view = shown(d, purpose, visible, person_id)
    if view.eligible and _identity_needs_review(store, registry, decision, person_id,
                                                facts.get(person_id, []), notes, removals, purpose, as_of):
        view.eligible, view.exclusion, view.reason = False, "needs_review", IDENTITY_REVIEW
    return view


IDENTITY_REVIEW = ("the person's identity needs review before any action (an identifier shared with "
                   "another person, no date of birth, or a possible match that would change the outcome)")


def _identity_needs_review(store: Store, registry: Registry, decision: Decision, person_id: str,
                           facts: list[Any], notes: list[Any], removals: frozenset[str], purpose: str,
                           as_of: date) -> bool:
    """The work list's identity checks for one person, so that the person view never calls
    eligible someone the work list would hold for review (details are not shown: they may
    rest on another person's records)."""
    scope = decision.determination_scope
    assert scope is not None
    if person_id in unsettled_identities(store, registry, scope, [person_id]):
        return True
    near = possible_matches(store, registry, scope, [person_id]).get(person_id)
    if not near:
        return False
    d = determine(facts + near, as_of, annotations=notes, favourable_only=FAVOURABLE_ONLY.get(purpose, ()),
                  removals_recorded_by=removals)
    return not eligibility(d, purpose).eligible
