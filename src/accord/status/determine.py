"""Status determination: the rules of :mod:`accord.status.rules` over one person's facts,
ranked, with an evidence chain, a confidence and readable reasons for review.

Order of the steps (docs/status.md states them in plain words):

1. Screen: records of never-alone systems (the voter roll), records annotated
   ``record_not_this_person`` and records that did not exist yet on ``as_of`` are set aside.
2. Death: reported beside the status, flagged when contradicted, never used to end anything.
3. Rank: citizenship > permanent residence > protected application > departure > court
   posture > valid admission > unknown. Conflicting court records give needs_review; an
   enforcement encounter after a final order is noted (the order may have been executed).
4. Link confidence: the ranking is run with and without the records linked below the
   threshold; when they change the outcome the result is needs_review, never a status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from accord.status import rules as r
from accord.status.death import death
from accord.status.facts import Annotation, Determination, Evidence, Fact, StatusInputError
from accord.status.rules import RuleSet, default_rules

ANNOTATION_KINDS = ("death_record_erroneous", "record_not_this_person")


@dataclass
class _Outcome:
    status: str
    evidence: list[Evidence] = field(default_factory=list)
    status_date: date | None = None
    next_date: date | None = None
    codes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    findings: set[str] = field(default_factory=set)
    notes: list[Evidence] = field(default_factory=list)

    def same_as(self, other: _Outcome) -> bool:
        return (self.status, self.status_date, self.codes) == (other.status, other.status_date,
                                                               other.codes)


def determine(facts: Iterable[Fact], as_of: date,
              annotations: Iterable[Annotation | Mapping[str, Any]] = (), *,
              link_threshold: float | None = None, rules: RuleSet | None = None,
              favourable_only: Collection[str] = (),
              removals_recorded_by: Collection[str] = ()) -> Determination:
    """The status of one person as of ``as_of`` from the facts of their linked records.

    ``annotations``: effective, two-person-approved annotations (:class:`Annotation` or
    ``{"record": (source, record_id), "kind": ...}``). ``link_threshold`` overrides the
    rules' default (0.99): records linked below it may not carry a conclusion.
    ``favourable_only``: regimes whose records the purpose at hand may not use against the
    person (for removal enforcement: tax, Medicaid, asylum, VAWA/T/U, voter records; see
    ``eligibility.FAVOURABLE_ONLY``). The determination still uses them (they may protect);
    ``adverse_basis`` holds the determination without them, and eligibility requires both.
    ``removals_recorded_by``: sources whose encounter records carry the departure date when
    the encounter ended in a removal; their encounters after a final order are no sign that
    it was executed (rule 9). The product names every source whose mapping maps both
    ``encounter_date`` and ``exit_date``.
    """
    if favourable_only:
        barred = set(favourable_only)
        facts, annotations = list(facts), list(annotations)
        basis = determine([f for f in facts if not barred & set(f.regimes)], as_of, annotations,
                          link_threshold=link_threshold, rules=rules,
                          removals_recorded_by=removals_recorded_by)
        every = determine(facts, as_of, annotations, link_threshold=link_threshold, rules=rules,
                          removals_recorded_by=removals_recorded_by)
        return dataclasses.replace(every, adverse_basis=basis)
    rs = rules or default_rules()
    threshold = rs.link_threshold if link_threshold is None else link_threshold
    if not 0.0 <= threshold <= 1.0:
        raise StatusInputError(f"link_threshold {threshold} is not in 0..1")
    facts = list(facts)
    usable, set_aside, erroneous = _screen(facts, [Annotation.coerce(a) for a in annotations],
                                           as_of, rs)
    death_info, ignored = death(usable, rs, as_of, erroneous)
    set_aside += ignored
    weak_death = [e for e in death_info.records if e.link_confidence < threshold]
    if weak_death:
        death_info.reasons.append("the death record is linked with confidence "
                                  f"{min(e.link_confidence for e in weak_death):.3f} < {threshold}")

    removals = frozenset(removals_recorded_by)
    full = _decide(usable, as_of, rs, removals)
    weak = [f for f in usable if f.link_confidence < threshold]
    chosen = full
    if weak:
        base = _decide([f for f in usable if f.link_confidence >= threshold], as_of, rs, removals)
        if full.same_as(base):
            chosen = base
            set_aside += [_whole("link_confidence", f, f"linked with confidence "
                                 f"{f.link_confidence:.3f} < {threshold}; not needed for the "
                                 f"conclusion") for f in weak]
        else:
            chosen = _weak_review(full, base, weak, threshold)
    confidence = (min((e.link_confidence for e in chosen.evidence), default=1.0)
                  if chosen.status != "unknown" else 0.0)
    return Determination(
        status=chosen.status, confidence=confidence, evidence=chosen.evidence,
        needs_review_reasons=chosen.reasons, death=death_info, as_of=as_of,
        status_date=chosen.status_date, next_date=chosen.next_date,
        review_codes=chosen.codes, findings=frozenset(full.findings | chosen.findings),
        set_aside=set_aside + chosen.notes)


def _whole(rule: str, f: Fact, note: str) -> Evidence:
    return Evidence(rule, f.source, f.record_id, "record", None, None, note,
                    f.link_confidence, f.regimes)


def _known_on(f: Fact) -> date | None:
    """The earliest date the record shows (a return: 1 January after its tax year)."""
    days = [d for d in (getattr(f, n) for n in
                        ("event_date", "entry_date", "encounter_date", "benefit_date",
                         "case_decision_date", "naturalization_date", "exit_date", "death_date"))
            if isinstance(d, date)]
    if f.tax_year is not None:
        days.append(date(f.tax_year + 1, 1, 1))
    return min(days, default=None)


def _screen(facts: Sequence[Fact], annotations: Sequence[Annotation], as_of: date,
            rs: RuleSet) -> tuple[list[Fact], list[Evidence], set[tuple[str, str]]]:
    """(usable facts, set-aside evidence, records whose death date is erroneous)."""
    by_key = {f.key: f for f in facts}
    erroneous: set[tuple[str, str]] = set()
    excluded: set[tuple[str, str]] = set()
    set_aside: list[Evidence] = []
    for a in annotations:
        fact = by_key.get(a.record)
        if fact is None:
            continue
        if a.kind == "death_record_erroneous":
            erroneous.add(a.record)
        elif a.kind == "record_not_this_person":
            excluded.add(a.record)
            set_aside.append(_whole("annotation", fact, "record_not_this_person: left out"))
        else:
            set_aside.append(_whole("annotation", fact, f"annotation {a.kind!r} is not one the "
                                    f"status rules use ({', '.join(ANNOTATION_KINDS)})"))
    usable: list[Fact] = []
    for f in facts:
        if f.key in excluded:
            continue
        if f.system in rs.never_alone_systems:
            set_aside.append(_whole("never_alone", f, f"{f.system} records are never used to "
                                    "conclude anything about status"))
            continue
        known = _known_on(f)
        if known is not None and known > as_of:
            set_aside.append(_whole("as_of", f, f"not on record yet on {as_of.isoformat()}"))
            continue
        usable.append(f)
    return usable, set_aside, erroneous


def _first_date(evidence: Sequence[Evidence]) -> date | None:
    return min((e.date for e in evidence if e.date is not None), default=None)


def _decide(facts: Sequence[Fact], as_of: date, rs: RuleSet, removals: frozenset[str]) -> _Outcome:
    """Rule rank: the first rule in order of precedence that concludes decides."""
    citizen = r.citizenship(facts, rs)
    stale = r.ssa_snapshot(facts, rs)
    resident = r.lpr(facts, rs)
    shield = r.protected(facts, rs)
    findings = {name for name, found in (("citizenship_evidence", citizen), ("lpr", resident),
                                         ("protected", shield.in_force)) if found}
    out = _rank(facts, as_of, rs, citizen, resident, shield, removals)
    out.findings |= findings
    out.notes += stale
    return out


def _rank(facts: Sequence[Fact], as_of: date, rs: RuleSet, citizen: list[Evidence],
          resident: list[Evidence], shield: r.Protection, removals: frozenset[str]) -> _Outcome:
    if citizen:
        return _Outcome("us_citizen", citizen, _first_date(citizen))
    if resident:
        return _Outcome("lpr", resident, _first_date(resident))
    if shield.approved:
        return _Outcome("relief_granted", shield.in_force, _first_date(shield.approved))
    if shield.pending:
        return _Outcome("protected_pending", shield.pending, _first_date(shield.pending))
    gone = r.departure(facts, rs, as_of)
    if gone is not None and gone.departed:
        return _Outcome("departed", [gone.exit], gone.exit.date)
    case = r.court(facts, as_of)
    if case.conflicts:
        return _Outcome("needs_review", case.evidence, codes=["conflicting_evidence"],
                        reasons=case.conflicts)
    if case.review:
        return _Outcome("needs_review", case.evidence, codes=["needs_review"], reasons=case.review)
    if case.status == "final_order" and case.date is not None:
        executed = r.encounter_after_order(facts, case.date, rs, as_of, removals)
        return _Outcome(case.status, case.evidence + executed, case.date,
                        findings={"encounter_after_order"} if executed else set())
    if case.status in ("final_order", "in_proceedings", "appeal_pending", "relief_granted"):
        return _Outcome(case.status, case.evidence, case.date, case.next_date)
    if case.status == "voluntary_departure":
        return _Outcome("departed", case.evidence, case.date)
    admitted, valid = r.admission(facts, rs, as_of)
    if admitted is not None and valid:
        return _Outcome("valid_admission", [admitted], admitted.date)
    return _Outcome("unknown", notes=[admitted] if admitted is not None else [])


def _weak_review(full: _Outcome, base: _Outcome, weak: Sequence[Fact],
                 threshold: float) -> _Outcome:
    names = ", ".join(f"{f.source}:{f.record_id} ({f.system}, link confidence "
                      f"{f.link_confidence:.3f})" for f in weak)
    reason = (f"records linked below the {threshold} threshold change the conclusion: with "
              f"them {full.status}, without them {base.status}; weak records: {names}")
    codes = ["low_link_confidence", *[c for c in base.codes if c != "low_link_confidence"]]
    weak_keys = {f.key for f in weak}
    evidence = full.evidence + [_whole("link_confidence", f, "linked below the threshold")
                                for f in weak if f.key not in
                                {(e.source, e.record_id) for e in full.evidence}]
    reasons = [reason, *(full.reasons if full.status == "needs_review" else []), *base.reasons]
    return _Outcome("needs_review", evidence, codes=codes, reasons=reasons,
                    findings=full.findings | base.findings,
                    notes=[e for e in base.notes if (e.source, e.record_id) not in weak_keys])
