"""The inputs and outputs of status determination: facts, annotations, evidence, results.

A :class:`Fact` is one record of one person as the status rules see it: where it comes from
(source, record system, record id), the canonical fact fields present on it
(``accord/sources/canonical_fields.yaml``), how confident the link between the record and
the person is, and the legal regimes the record falls under. Nothing here reads a store;
callers gather facts (through the governance gate in the product) and pass them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from accord.errors import AccordError

Day = date  # the type, where a field is named ``date``
FactValue = str | int | date

#: Status vocabulary of a :class:`Determination`.
STATUSES = ("us_citizen", "lpr", "valid_admission", "protected_pending", "in_proceedings",
            "relief_granted", "appeal_pending", "final_order", "departed", "needs_review",
            "unknown")

#: Codes explaining why a determination needs review (``Determination.review_codes``).
REVIEW_CODES = ("conflicting_evidence", "low_link_confidence", "needs_review")

_CONTROLLED: dict[str, tuple[str, ...]] = {
    "citizenship_code": ("us_citizen", "noncitizen_authorized", "noncitizen_unauthorized",
                         "unknown"),
    "benefit_type": ("lpr", "naturalization", "asylum", "tps", "daca", "vawa", "t_visa",
                     "u_visa", "other"),
    "benefit_status": ("pending", "approved", "denied", "revoked"),
    "case_status": ("in_proceedings", "final_order", "relief_granted", "terminated",
                    "appeal_pending", "voluntary_departure"),
}
DATE_FIELDS = ("death_date", "naturalization_date", "benefit_date", "case_decision_date",
               "entry_date", "exit_date", "encounter_date", "event_date")


class StatusInputError(AccordError):
    """A fact or annotation handed to the status rules is malformed."""


@dataclass(frozen=True)
class Fact:
    """One record of the person: provenance, canonical fact fields, link confidence, regimes.

    ``link_confidence`` (0..1) is how confident the record belongs to this person (the
    weakest link probability on its path to the rest of the entity; 1.0 for a lone record).
    ``regimes`` are the legal regimes of the record (``["asylum_208_6", "privacy_act"]``);
    they are carried into every piece of evidence drawn from the record.
    """

    source: str
    system: str
    record_id: str
    citizenship_code: str | None = None
    death_date: date | None = None
    naturalization_date: date | None = None
    benefit_type: str | None = None
    benefit_status: str | None = None
    benefit_date: date | None = None
    case_status: str | None = None
    case_decision_date: date | None = None
    entry_date: date | None = None
    exit_date: date | None = None
    admission_class: str | None = None
    encounter_date: date | None = None
    tax_year: int | None = None
    program: str | None = None
    event_date: date | None = None
    passport_number: str | None = None
    link_confidence: float = 1.0
    regimes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"{self.source}:{self.record_id}"
        if not 0.0 <= self.link_confidence <= 1.0:
            raise StatusInputError(f"{where}: link_confidence {self.link_confidence} is not in 0..1")
        for name, allowed in _CONTROLLED.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise StatusInputError(f"{where}: {name} {value!r} is not one of {', '.join(allowed)}")
        for name in DATE_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, date):
                raise StatusInputError(f"{where}: {name} must be a date, not {value!r}")
        object.__setattr__(self, "regimes", tuple(self.regimes))

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, link_confidence: float = 1.0,
                 regimes: tuple[str, ...] | list[str] = ()) -> Fact:
        """A fact from a mapping such as a ``records_current`` row: known keys are taken,
        others (identity fields, store columns) ignored; empty strings count as missing."""
        known = {f.name for f in fields(cls)} - {"link_confidence", "regimes"}
        values = {k: v for k, v in row.items() if k in known and v is not None and v != ""}
        return cls(**values, link_confidence=link_confidence, regimes=tuple(regimes))

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.record_id)

    def values(self) -> dict[str, FactValue]:
        """The fact fields present on the record (provenance and link data left out)."""
        skip = {"source", "system", "record_id", "link_confidence", "regimes"}
        return {f.name: v for f in fields(self) if f.name not in skip
                and (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class Annotation:
    """An effective, two-person-approved annotation on one record.

    Kinds understood by the status rules: ``death_record_erroneous`` (the record's death
    date is ignored) and ``record_not_this_person`` (the whole record is left out).
    """

    record: tuple[str, str]
    kind: str

    @classmethod
    def coerce(cls, value: Annotation | Mapping[str, Any]) -> Annotation:
        if isinstance(value, Annotation):
            return value
        try:
            source, record_id = value["record"]
            return cls((str(source), str(record_id)), str(value["kind"]))
        except (KeyError, TypeError, ValueError):
            raise StatusInputError(f"annotation {value!r}: needs record (source, record_id) "
                                   f"and kind") from None


@dataclass(frozen=True)
class Evidence:
    """One fact the determination rests on (or set aside), with where it came from.

    ``rule`` names the rule that used it (``docs/status.md``); ``note`` says how. The
    record's ``regimes`` travel with it: a caller must withhold evidence under a regime its
    purpose may not see (an asylum or VAWA/T/U application) before showing it.
    """

    rule: str
    source: str
    record_id: str
    field: str
    value: FactValue | None
    date: Day | None
    note: str
    link_confidence: float = 1.0
    regimes: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: str, fact: Fact, field_name: str, note: str,
           when: Day | None = None) -> Evidence:
        value = getattr(fact, field_name)
        if when is None and isinstance(value, date):
            when = value
        return cls(rule, fact.source, fact.record_id, field_name, value, when, note,
                   fact.link_confidence, fact.regimes)


@dataclass(frozen=True)
class DeathInfo:
    """What the records say about a death, and whether it may be relied on.

    state: ``none`` (no death recorded), ``recorded`` (a death date nothing contradicts),
    ``conflicting`` (contradicted by later activity or by another death date: flagged,
    never used to end anything) or ``ignored`` (every death record was annotated
    ``death_record_erroneous``).
    """

    state: str = "none"
    date: Day | None = None
    records: list[Evidence] = field(default_factory=list)
    contradicted_by: list[Evidence] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def conflicting(self) -> bool:
        return self.state == "conflicting"

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "date": self.date,
                "records": [(e.source, e.record_id) for e in self.records],
                "contradicted_by": [(e.source, e.record_id, e.field, e.value)
                                    for e in self.contradicted_by],
                "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Determination:
    """The status of one person as of a date, with the evidence chain and a confidence.

    ``confidence`` is the weakest link confidence among the records the status rests on
    (0.0 for ``unknown``). ``needs_review_reasons`` are readable; ``review_codes`` are the
    same as codes (:data:`REVIEW_CODES`). ``findings`` name what was found anywhere in the
    records whatever the status (``citizenship_evidence``, ``lpr``, ``protected``), so a
    purpose check can refuse on them independently. ``set_aside`` lists facts looked at and
    not used (stale SSA codes, voter-roll records, annotated or future records, weak links).
    ``adverse_basis`` (when favourable-only regimes were given) is the determination from
    only the records that may be used against the person.
    """

    status: str
    confidence: float
    evidence: list[Evidence]
    needs_review_reasons: list[str]
    death: DeathInfo
    as_of: date
    status_date: date | None = None
    next_date: date | None = None
    review_codes: list[str] = field(default_factory=list)
    findings: frozenset[str] = frozenset()
    set_aside: list[Evidence] = field(default_factory=list)
    adverse_basis: Determination | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise StatusInputError(f"unknown status {self.status!r}")
