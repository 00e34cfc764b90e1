"""SAVE-like verification: name, date of birth and a numeric identifier in; "verified:
<status>" or "institute additional verification" (with the reason) out. An automated no-match
is never a finding: it always leads to additional, human verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.master import search_persons
from accord.person_status.facts import annotations_for, fact_rows, facts_by_person
from accord.status import determine
from accord.store import Store

VERIFIABLE = frozenset({"us_citizen", "lpr", "valid_admission", "protected_pending", "relief_granted"})
ADDITIONAL = "institute additional verification"


@dataclass
class Verification:
    result: str                     # "verified" | "institute additional verification"
    status: str | None
    reason: str
    person_id: str | None = None
    records: tuple[tuple[str, str], ...] = ()

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return ([self.person_id] if self.person_id else []), list(self.records)

    def to_dict(self) -> dict[str, Any]:
        answer = f"verified: {self.status}" if self.result == "verified" else ADDITIONAL
        return {"answer": answer, "result": self.result, "status": self.status, "reason": self.reason}


def verify(store: Store, registry: Registry, decision: Decision, name: str, dob: str, a_number: str | None,
           ssn: str | None, as_of: date) -> Verification:
    assert decision.scope is not None and decision.determination_scope is not None
    if not (name and dob and (a_number or ssn)):
        return Verification(ADDITIONAL, None,
                            "a verification needs name, date of birth and a numeric identifier")
    hits = search_persons(store, registry, decision.scope, name=name, dob=dob, a_number=a_number, ssn=ssn,
                          limit=5)
    id_field = "a_number" if a_number else "ssn"
    def level(hit: Any, name: str) -> str:
        return next((m.level for m in hit.matched_on if m.field == name), "missing")

    strong = [h for h in hits if level(h, id_field).startswith("exact") and level(h, "dob") == "exact"
              and level(h, "family_name") in ("exact", "variant or nickname")
              and level(h, "given_name") not in ("different", "missing")]
    if not strong:
        return Verification(ADDITIONAL, None, "no record matches the name, date of birth and identifier "
                            "together; this is not a finding about the person")
    if len(strong) > 1:
        return Verification(ADDITIONAL, None, "more than one person matches; a person must resolve it")
    pid = strong[0].person_id
    scope = decision.determination_scope
    facts = facts_by_person(fact_rows(store, registry, scope, [pid])).get(pid, [])
    d = determine(facts, as_of, annotations=annotations_for(store, [pid], scope.view).get(pid, []))
    # The answer rests on these records and no others (withheld ones are never among them).
    records = tuple(sorted({(f.source, f.record_id) for f in facts}
                           | {(r.source, r.record_id) for r in strong[0].summary.records}))
    if d.status in VERIFIABLE and not d.needs_review_reasons:
        return Verification("verified", d.status, f"confidence {d.confidence:.3f}", pid, records)
    why = "; ".join(d.needs_review_reasons) or "the records do not establish a verifiable status"
    return Verification(ADDITIONAL, None, why, pid, records)
