"""Evidence-based status determination over the linked facts of one person.

Pure functions: callers gather a person's facts (through the governance gate) and pass
them in; nothing here reads a store. See docs/status.md.

    from accord.status import Fact, determine, eligibility
    purpose = "removal_order_enforcement"
    d = determine(facts, as_of=date(2026, 6, 30), favourable_only=FAVOURABLE_ONLY[purpose])
    e = eligibility(d, purpose)
"""

from accord.status.determine import ANNOTATION_KINDS, determine
from accord.status.eligibility import (
    EXCLUSIONS,
    FAVOURABLE_ONLY,
    GENERIC_REASON,
    Eligibility,
    PurposeError,
    eligibility,
)
from accord.status.facts import (
    REVIEW_CODES,
    STATUSES,
    Annotation,
    DeathInfo,
    Determination,
    Evidence,
    Fact,
    StatusInputError,
)
from accord.status.rules import RuleSet, default_rules

__all__ = [
    "ANNOTATION_KINDS",
    "EXCLUSIONS",
    "FAVOURABLE_ONLY",
    "GENERIC_REASON",
    "REVIEW_CODES",
    "STATUSES",
    "Annotation",
    "DeathInfo",
    "Determination",
    "Eligibility",
    "Evidence",
    "Fact",
    "PurposeError",
    "RuleSet",
    "StatusInputError",
    "default_rules",
    "determine",
    "eligibility",
]
