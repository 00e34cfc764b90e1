"""Rule death: what the records say about a death, and whether anything contradicts it.

A death record is never used to end anything when it is contradicted: by activity after
the death date (a tax return for a later year, an entry or exit, an encounter, an
application, a hearing decision or a benefit decision; ``rules.yaml`` lists the dates) or
by another death record with a different date. Such a death is flagged ``conflicting``.
A record annotated ``death_record_erroneous`` (an effective, two-person-approved
annotation) has its death date ignored. The death never changes the status: it is
reported beside it in :class:`~accord.status.facts.DeathInfo`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from accord.status.facts import DeathInfo, Evidence, Fact
from accord.status.rules import RuleSet, after


def death(facts: Sequence[Fact], rules: RuleSet, as_of: date,
          erroneous: Collection[tuple[str, str]] = ()) -> tuple[DeathInfo, list[Evidence]]:
    """(death information, death records set aside by annotation)."""
    ignored = [Evidence.of("annotation", f, "death_date",
                           "death_record_erroneous: death date ignored")
               for f in facts if f.death_date is not None and f.key in erroneous]
    records = [f for f in facts if f.death_date is not None and f.key not in erroneous
               and f.death_date <= as_of]
    if not records:
        return DeathInfo(state="ignored" if ignored else "none"), ignored
    evidence = [Evidence.of("death", f, "death_date", f"death recorded by {f.system}")
                for f in records]
    days = sorted({f.death_date for f in records if f.death_date is not None})
    reasons: list[str] = []
    if len(days) > 1:
        reasons.append("death records disagree on the date: "
                       + ", ".join(d.isoformat() for d in days))
    # Activity after the earliest recorded death date contradicts it.
    first = days[0]
    contra = after(facts, rules.activity_fields, first, rules, as_of, "death", "activity")
    if contra:
        reasons.append(f"{len(contra)} later activit{'y' if len(contra) == 1 else 'ies'} after "
                       f"the recorded death on {first.isoformat()} "
                       f"(e.g. {contra[0].field} {contra[0].value} in {contra[0].source})")
    state = "conflicting" if reasons else "recorded"
    return DeathInfo(state=state, date=first, records=evidence, contradicted_by=contra,
                     reasons=reasons), ignored
