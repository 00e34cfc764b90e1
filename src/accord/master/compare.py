"""Comparing one attribute's values across a person's records (for conflicts).

Values are grouped by a normalised form so that spelling noise does not read as a conflict
("GARCIA" / "García" / "Garcia" are one value; "123-45-6789" and "123456789" are one SSN),
while two different dates of birth or two different SSNs are. Names are folded with the
standardise stage's SQL (``names.fold_sql``, run by the view's query, which passes the folded
form in); everything else is normalised here.

Which fields are expected to hold one value per person (``SINGLE_VALUED``) decides where a
difference is a conflict. Others (addresses, phones, passports, entry dates...) legitimately
change or repeat over time: their values are listed side by side without a conflict flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from accord.standardise import variants
from accord.standardise.identifiers import (
    A_NUMBER_PLACEHOLDERS,
    DOB_PLACEHOLDERS,
    ITIN_PLACEHOLDERS,
    SSN_PLACEHOLDERS,
)

# Fields folded by names.fold_sql in the view's query (upper case, diacritics and punctuation
# folded) before they are compared.
FOLDED_FIELDS = ("given_name", "middle_name", "family_name", "given_names", "full_name", "name_suffix",
                 "country_of_birth", "citizenship_country")

# One value per person: differing values are a conflict.
SINGLE_VALUED = frozenset({
    "given_name", "middle_name", "family_name", "name_suffix", "dob", "sex", "ssn", "ssn_last4",
    "itin", "tin", "a_number", "country_of_birth", "death_date", "naturalization_date",
    "citizenship_code",
})

_DIGITS = {"ssn", "ssn_last4", "itin", "tin", "zip", "phone"}
_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "ssn": frozenset(SSN_PLACEHOLDERS), "tin": frozenset(SSN_PLACEHOLDERS) | frozenset(ITIN_PLACEHOLDERS),
    "itin": frozenset(ITIN_PLACEHOLDERS), "a_number": frozenset(A_NUMBER_PLACEHOLDERS),
    "dob": frozenset(DOB_PLACEHOLDERS),
}


def json_value(value: Any) -> Any:
    """A stored value as JSON: dates as ISO text, numbers and text as they are."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def normalise(field: str, value: Any, folded: str | None = None) -> str | None:
    """The comparison form of a value; None when it carries no evidence (a placeholder such
    as SSN 123-45-6789 or date of birth 1900-01-01, or nothing left after cleaning)."""
    if value is None:
        return None
    if field in FOLDED_FIELDS:
        return folded
    text = str(json_value(value)).strip()
    if field in _DIGITS:
        text = re.sub(r"[^0-9]", "", text)
    elif field == "a_number":
        text = re.sub(r"[^0-9]", "", text.upper()).zfill(9)
    elif field == "passport_number":
        text = re.sub(r"[^A-Z0-9]", "", text.upper())
    elif field == "email":
        text = text.lower()
    elif field == "sex":
        text = text.upper() if text.upper() in ("M", "F", "X") else ""
    elif isinstance(value, str):
        text = " ".join(re.sub(r"[^\w]+", " ", text.upper()).split())
    if not text or text in _PLACEHOLDERS.get(field, frozenset()):
        return None
    return text


def _tokens_subset(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return bool(a) and bool(b) and (set(a) <= set(b) or set(b) <= set(a))


def _initial_of(a: str, b: str) -> bool:
    return (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def compatible(field: str, a: str, b: str, family_tokens: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether two normalised values of one field can be the same fact.

    Given and middle names: an initial, a name and its nickname or variant (BILL, WILLIAM), or
    one name holding the other's tokens (JEAN / JEAN PAUL). Family names: one holding the
    other's tokens without particles (ORTIZ / ORTIZ PACHECO, CRUZ / DE LA CRUZ)."""
    if a == b:
        return True
    if field in ("given_name", "middle_name"):
        if _initial_of(a, b) or _tokens_subset(tuple(a.split()), tuple(b.split())):
            return True
        if field == "given_name":
            ea, eb = variants.lookup(a, "given"), variants.lookup(b, "given")
            keys_a = set(ea.keys) if ea else {a.split()[0]}
            keys_b = set(eb.keys) if eb else {b.split()[0]}
            return bool(keys_a & keys_b)
        return False
    if field == "family_name":
        return _tokens_subset(family_tokens.get(a, tuple(a.split())), family_tokens.get(b, tuple(b.split())))
    return False


def in_conflict(field: str, values: list[str], family_tokens: Mapping[str, tuple[str, ...]]) -> bool:
    """True when a single-valued field holds two values that cannot be the same fact."""
    if field not in SINGLE_VALUED:
        return False
    return any(not compatible(field, a, b, family_tokens)
               for i, a in enumerate(values) for b in values[i + 1:])
