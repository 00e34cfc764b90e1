"""Whether a determination makes a person eligible for a purpose, and if not, why.

Only ``removal_order_enforcement`` has an eligibility rule: a ``final_order`` with a
decision date, nothing later that stops it (relief, appeal, pending or granted protection),
no citizenship or permanent-residence evidence anywhere in the records, no review reason, no
enforcement encounter after the order (it may have been executed) and no recorded death.
Every other determination is excluded with one reason code (:data:`EXCLUSIONS`, in the
order they are checked).

The ``protected`` code never says which protected application (asylum, TPS, VAWA, T, U,
DACA) it was: the fact that a person applied for asylum or VAWA/T/U protection may not be
disclosed (8 CFR 208.6, 8 U.S.C. 1367). Callers show enforcement users a generic reason
(:data:`GENERIC_REASON`) for it and must not show the determination's evidence under
regimes their purpose may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.errors import AccordError
from accord.status.facts import Determination

#: Exclusion codes for removal_order_enforcement, in the order they are checked.
EXCLUSIONS: dict[str, str] = {
    "conflicting_evidence": "the records conflict; a person must resolve them",
    "low_link_confidence": "the conclusion rests on records linked below the threshold",
    "needs_review": "the records need review before any conclusion",
    "citizenship_evidence": "there is evidence of US citizenship",
    "lpr": "there is evidence of lawful permanent residence",
    "protected": "protected from removal",
    "relief_granted": "an immigration court granted relief",
    "pending_appeal": "an appeal is pending",
    "in_proceedings": "removal proceedings are pending, with no final order",
    "departed": "the person departed the United States",
    "possibly_removed": "an enforcement encounter after the order: it may have been executed",
    "death_recorded": "a death is recorded; it must be verified before any action",
    "no_final_order": "there is no final order of removal",
}

#: Purposes with an eligibility rule (:func:`eligibility`).
ELIGIBILITY_PURPOSES = frozenset({"removal_order_enforcement"})

#: What an enforcement user is shown for ``protected`` (and may be shown for any exclusion):
#: it does not reveal that, or which, protected application exists.
GENERIC_REASON = "not eligible for this purpose"

#: Per purpose, the regimes whose records may only count in the person's favour: the
#: purpose may not read them (statutory floors, per-person-request-only tax information), so
#: they may take a person off a list (a protected application) but never put anyone on it
#: (a tax return showing presence after an exit). Pass as ``determine(favourable_only=...)``.
FAVOURABLE_ONLY: dict[str, tuple[str, ...]] = {
    "removal_order_enforcement": ("irc_6103", "medicaid_1396a", "asylum_208_6", "vawa_1367",
                                  "state_voter"),
}

_BY_STATUS = {"relief_granted": "relief_granted", "appeal_pending": "pending_appeal",
              "in_proceedings": "in_proceedings", "departed": "departed",
              "us_citizen": "citizenship_evidence", "lpr": "lpr",
              "protected_pending": "protected"}


class PurposeError(AccordError):
    """No eligibility rule exists for the purpose asked about."""


@dataclass(frozen=True)
class Eligibility:
    """eligible, or the exclusion code (:data:`EXCLUSIONS`) and its readable reason."""

    eligible: bool
    exclusion: str | None
    purpose: str
    reason: str = ""


def eligibility(determination: Determination, purpose: str) -> Eligibility:
    """Is the determined person eligible for ``purpose``? (Only removal_order_enforcement.)

    With an ``adverse_basis`` (``determine(favourable_only=FAVOURABLE_ONLY[purpose])``) the
    person is eligible only when both determinations are: records the purpose may not use
    against the person can exclude, never include."""
    if purpose != "removal_order_enforcement":
        raise PurposeError(f"no eligibility rule for purpose {purpose!r} "
                           "(only removal_order_enforcement)")
    code = removal_exclusion(determination)
    if code is None and determination.adverse_basis is not None:
        code = removal_exclusion(determination.adverse_basis)
    if code is None:
        return Eligibility(True, None, purpose, "final order of removal in force")
    return Eligibility(False, code, purpose, EXCLUSIONS[code])


def removal_exclusion(d: Determination) -> str | None:
    """The first exclusion that applies for removal_order_enforcement, or None (eligible)."""
    if d.status == "needs_review" or d.review_codes:
        for code in ("conflicting_evidence", "low_link_confidence"):
            if code in d.review_codes:
                return code
        return "needs_review"
    # Checked whatever the status: these outrank enforcement facts anywhere in the records.
    for code in ("citizenship_evidence", "lpr", "protected"):
        if code in d.findings:
            return code
    if d.status in _BY_STATUS:
        return _BY_STATUS[d.status]
    if d.status != "final_order" or d.status_date is None:
        return "no_final_order"
    if "encounter_after_order" in d.findings:
        return "possibly_removed"
    if d.death.state == "recorded":
        return "death_recorded"
    return None
