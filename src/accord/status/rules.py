"""The status rules, one function each, over the usable facts of one person.

Every rule takes facts (already screened: voter-roll records, annotated and future records
left out) and returns the evidence it found; :mod:`accord.status.determine` ranks the
results. The lists the rules read (classes of admission, protected applications, which
dates count as presence) are data in ``rules.yaml``. docs/status.md states each rule in
plain words with the test that checks it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from accord.status.facts import Day, Evidence, Fact, StatusInputError


class RuleSet(BaseModel):
    """The data of the rules (``rules.yaml``); see that file for the meaning of each list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link_threshold: float
    never_alone_systems: tuple[str, ...]
    citizen_codes: tuple[str, ...]
    noncitizen_codes: tuple[str, ...]
    citizen_admission_classes: tuple[str, ...]
    lpr_admission_classes: tuple[str, ...]
    nonimmigrant_admission_days: dict[str, int]
    protected_benefits: tuple[str, ...]
    in_force_benefit_statuses: tuple[str, ...]
    encounter_after_order_excludes: bool
    presence_fields: tuple[str, ...]
    activity_fields: tuple[str, ...]
    not_activity: dict[str, dict[str, tuple[str, ...]]]


@cache
def default_rules() -> RuleSet:
    """The packaged rule data."""
    text = resources.files("accord.status").joinpath("rules.yaml").read_text("utf-8")
    try:
        return RuleSet.model_validate(yaml.safe_load(text))
    except ValidationError as e:  # pragma: no cover - the packaged file is tested
        raise StatusInputError(f"status/rules.yaml: {e}") from None


def year_end(year: int) -> date:
    return date(year, 12, 31)


# --- citizenship, SSA snapshot, LPR -------------------------------------------------------

def citizenship(facts: Sequence[Fact], rules: RuleSet) -> list[Evidence]:
    """Rule citizenship: a citizen citizenship_code, a naturalisation (a naturalisation date
    or an approved naturalisation application) or an admission as a US citizen."""
    out: list[Evidence] = []
    for f in facts:
        if f.citizenship_code in rules.citizen_codes:
            out.append(Evidence.of("citizenship", f, "citizenship_code",
                                   f"{f.system} records a US citizen", f.event_date))
        if f.naturalization_date is not None:
            out.append(Evidence.of("citizenship", f, "naturalization_date", "naturalised"))
        elif f.benefit_type == "naturalization" and f.benefit_status == "approved":
            out.append(Evidence.of("citizenship", f, "benefit_type",
                                   "naturalisation application approved", f.benefit_date))
        if f.admission_class in rules.citizen_admission_classes:
            out.append(Evidence.of("citizenship", f, "admission_class",
                                   "admitted as a US citizen", f.entry_date))
    return out


def naturalization_dates(facts: Sequence[Fact]) -> list[date]:
    out = [f.naturalization_date for f in facts if f.naturalization_date is not None]
    out += [f.benefit_date for f in facts if f.benefit_type == "naturalization"
            and f.benefit_status == "approved" and f.benefit_date is not None]
    return out


def ssa_snapshot(facts: Sequence[Fact], rules: RuleSet) -> list[Evidence]:
    """Rule ssa_snapshot: a noncitizen citizenship code is a snapshot as of its record (SSA:
    enumeration). Contradicted by naturalisation evidence it is stale, not a conflict; it is
    set aside and never decides a status either way."""
    natz = naturalization_dates(facts)
    out: list[Evidence] = []
    for f in facts:
        if f.citizenship_code not in rules.noncitizen_codes:
            continue
        if natz:
            when = f.event_date
            after = [d for d in natz if when is None or d >= when]
            note = (f"stale: naturalised {min(after).isoformat()}, after this snapshot"
                    if after else "stale: contradicted by naturalisation evidence")
        else:
            note = "noncitizen code is a snapshot as of the record; it decides no status"
        out.append(Evidence.of("ssa_snapshot", f, "citizenship_code", note, f.event_date))
    return out


def lpr(facts: Sequence[Fact], rules: RuleSet) -> list[Evidence]:
    """Rule lpr: an approved permanent-residence application (I-485, I-90) or an admission
    as a permanent resident (immigrant visa, returning resident)."""
    out: list[Evidence] = []
    for f in facts:
        if f.benefit_type == "lpr" and f.benefit_status == "approved":
            out.append(Evidence.of("lpr", f, "benefit_type", "permanent residence approved",
                                   f.benefit_date))
        if f.admission_class in rules.lpr_admission_classes:
            out.append(Evidence.of("lpr", f, "admission_class",
                                   "admitted as a permanent resident", f.entry_date))
    return out


# --- protected applications ---------------------------------------------------------------

@dataclass
class Protection:
    pending: list[Evidence] = field(default_factory=list)
    approved: list[Evidence] = field(default_factory=list)

    @property
    def in_force(self) -> list[Evidence]:
        return self.approved + self.pending


def _benefit_when(f: Fact) -> date:
    return f.benefit_date or f.event_date or date.min


def protected(facts: Sequence[Fact], rules: RuleSet) -> Protection:
    """Rule protected: per protected kind (asylum, TPS, VAWA, T, U, DACA) the latest
    application decides; pending or approved, it protects from removal."""
    latest: dict[str, Fact] = {}
    for f in facts:
        if f.benefit_type in rules.protected_benefits and f.benefit_status is not None:
            seen = latest.get(f.benefit_type)
            if seen is None or _benefit_when(f) > _benefit_when(seen):
                latest[f.benefit_type] = f
    out = Protection()
    for f in latest.values():
        if f.benefit_status not in rules.in_force_benefit_statuses:
            continue
        bucket = out.pending if f.benefit_status == "pending" else out.approved
        bucket.append(Evidence.of("protected", f, "benefit_status",
                                  f"protected application {f.benefit_status}", _benefit_when(f)))
    return out


# --- immigration court ----------------------------------------------------------------------

TERMINAL = ("final_order", "relief_granted", "terminated", "voluntary_departure")


@dataclass
class Court:
    status: str | None = None
    date: Day | None = None
    next_date: Day | None = None
    evidence: list[Evidence] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def _posture(f: Fact, as_of: date) -> tuple[str, date | None, date | None]:
    """(case status as of as_of, its date, a scheduled hearing/decision date)."""
    status = f.case_status or ""
    decided = f.case_decision_date
    if decided is not None and decided > as_of:  # scheduled: as of as_of still pending
        return ("in_proceedings" if status in TERMINAL else status), f.event_date, decided
    if status in TERMINAL:
        return status, decided, None
    dated = [d for d in (f.event_date, decided) if d is not None]
    return status, max(dated) if dated else None, None


def court(facts: Sequence[Fact], as_of: date) -> Court:
    """Rule court: the latest court record decides the case posture. Records whose outcomes
    differ and cannot be ordered (same date, or an undated outcome) conflict; a single final
    order without a decision date needs review."""
    cases = [(f, *_posture(f, as_of)) for f in facts if f.case_status is not None]
    out = Court()
    if not cases:
        return out
    undated = [c for c in cases if c[2] is None and c[1] in TERMINAL]
    statuses = {c[1] for c in cases}
    if undated and len(statuses) > 1:
        out.conflicts.append(
            "court records disagree (" + ", ".join(sorted(statuses)) + ") and "
            + ", ".join(f"{c[0].source}:{c[0].record_id}" for c in undated)
            + " has no decision date, so they cannot be ordered")
        out.evidence = [Evidence.of("court", c[0], "case_status", "court record") for c in cases]
        return out
    dated = [c for c in cases if c[2] is not None] or cases
    top = max((c[2] for c in dated if c[2] is not None), default=None)
    latest = [c for c in dated if c[2] == top]
    if len({c[1] for c in latest}) > 1:
        out.conflicts.append(
            "court records of the same date disagree: " + ", ".join(
                f"{c[0].source}:{c[0].record_id} {c[1]}" for c in latest))
        out.evidence = [Evidence.of("court", c[0], "case_status", "court record", c[2])
                        for c in latest]
        return out
    out.status, out.date = latest[0][1], top
    nxt = [c[3] for c in latest if c[3] is not None]
    out.next_date = min(nxt) if nxt else None
    out.evidence = [Evidence.of("court", c[0], "case_status", f"latest court record: {c[1]}",
                                c[2]) for c in latest]
    if out.status == "final_order" and top is None:
        out.review.append("a final order without a decision date: the order cannot be "
                          "compared with later relief, appeals or applications")
    return out


# --- presence, departure, admission ---------------------------------------------------------

def dated_fields(f: Fact, names: Sequence[str], rules: RuleSet,
                 as_of: date) -> list[tuple[str, date]]:
    """(field, date) of the listed date fields of a record, on or before as_of, leaving out
    the ``not_activity`` exceptions; tax_year as the last day of the year."""
    out: list[tuple[str, date]] = []
    for name in names:
        value = getattr(f, name)
        if not isinstance(value, date) or value > as_of:
            continue
        unless = rules.not_activity.get(name, {})
        if any(getattr(f, k) in v for k, v in unless.items()):
            continue
        out.append((name, value))
    return out


def after(facts: Sequence[Fact], names: Sequence[str], when: date, rules: RuleSet,
          as_of: date, rule: str, what: str) -> list[Evidence]:
    """Evidence of the listed dates (and tax years) later than ``when``."""
    out: list[Evidence] = []
    for f in facts:
        for name, d in dated_fields(f, names, rules, as_of):
            if d > when:
                out.append(Evidence.of(rule, f, name, f"{what} after {when.isoformat()}", d))
        if f.tax_year is not None and f.tax_year > when.year and year_end(f.tax_year - 1) < as_of:
            out.append(Evidence.of(rule, f, "tax_year",
                                   f"tax return for {f.tax_year}, {what} after {when.isoformat()}",
                                   year_end(f.tax_year)))
    return out


def encounter_after_order(facts: Sequence[Fact], order: date, rules: RuleSet, as_of: date,
                          removals_recorded_by: Collection[str] = ()) -> list[Evidence]:
    """Rule order_execution: the latest enforcement encounter after a final order, when no
    presence is recorded after it (other than another encounter): the order may have been
    executed. Empty when the person was seen in the US after the encounter (released).

    Encounters from the sources in ``removals_recorded_by`` — sources whose encounter
    records carry the departure date when the encounter ended in a removal — are left out:
    without a departure date such an encounter did not end in a removal, and with one the
    departure rule decides."""
    if not rules.encounter_after_order_excludes:
        return []
    met = [f for f in facts if f.encounter_date is not None and order < f.encounter_date <= as_of
           and f.source not in removals_recorded_by]
    if not met:
        return []
    last = max(met, key=lambda f: f.encounter_date or date.min)
    assert last.encounter_date is not None
    names = [n for n in rules.presence_fields if n != "encounter_date"]
    if after(facts, names, last.encounter_date, rules, as_of, "order_execution", "present"):
        return []
    return [Evidence.of("order_execution", last, "encounter_date",
                        f"enforcement encounter after the final order of {order.isoformat()} "
                        "and no presence recorded since: the order may have been executed")]


@dataclass
class Departure:
    exit: Evidence
    present_after: list[Evidence]

    @property
    def departed(self) -> bool:
        return not self.present_after


def departure(facts: Sequence[Fact], rules: RuleSet, as_of: date) -> Departure | None:
    """Rule departure: the latest recorded exit, undone by any presence after it (an entry,
    an encounter, an application, a tax return for a later year)."""
    exits = [f for f in facts if f.exit_date is not None and f.exit_date <= as_of]
    if not exits:
        return None
    last = max(exits, key=lambda f: f.exit_date or date.min)
    assert last.exit_date is not None
    seen = after(facts, rules.presence_fields, last.exit_date, rules, as_of, "departure",
                 "present")
    return Departure(Evidence.of("departure", last, "exit_date", "latest recorded exit"), seen)


def admission(facts: Sequence[Fact], rules: RuleSet, as_of: date) -> tuple[Evidence | None, bool]:
    """Rule admission: the latest admission counts when its class is a nonimmigrant one
    whose usual period has not run out by as_of and no exit ended it. Returns (the latest
    admission as evidence with a note, or None; whether it is a valid admission)."""
    entries = [f for f in facts if f.entry_date is not None and f.entry_date <= as_of
               and f.admission_class]
    if not entries:
        return None, False
    last = max(entries, key=lambda f: f.entry_date or date.min)
    assert last.entry_date is not None and last.admission_class is not None
    days = rules.nonimmigrant_admission_days.get(last.admission_class)

    def note(text: str) -> Evidence:
        return Evidence.of("admission", last, "admission_class", text, last.entry_date)

    if days is None:
        return note(f"class {last.admission_class} is not a nonimmigrant class"), False
    if last.exit_date is not None and last.exit_date <= as_of:
        return note(f"ended with an exit on {last.exit_date.isoformat()}"), False
    until = last.entry_date + timedelta(days=days)
    if until < as_of:
        return note(f"admitted {last.entry_date.isoformat()}; the usual period ran out on "
                    f"{until.isoformat()}"), False
    return note(f"admitted {last.entry_date.isoformat()}, valid until {until.isoformat()}"), True
