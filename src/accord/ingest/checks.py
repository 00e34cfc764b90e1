"""Structural checks on identifier and contact fields, as SQL fragments.

Each check takes the SQL expression of the trimmed raw text and returns
``(value_sql, reason_sql)``: the normalised value when valid (else NULL) and a
readable reason when invalid (else NULL). Pure functions; no database needed.

Rules:
- SSN: 9 digits (dashes and spaces ignored); area 000, 666 and 900-999, group 00 and
  serial 0000 are never issued.
- ITIN: 9 digits starting with 9; digits 4-5 in 50-65, 70-88, 90-92 or 94-99.
- TIN: a valid SSN or a valid ITIN.
- ssn_last4: 4 digits, not 0000 (masking characters such as XXX-XX- are dropped).
- A-number: optional A prefix, 7 to 9 digits; stored zero-padded to 9 digits.
- Passport: 5 to 20 letters and digits; stored upper case without spaces.
- State: a USPS state, district or territory code.
- ZIP: 5 digits or ZIP+4; 4 digits is reported as a lost leading zero.
- Postcode (any country): 3 to 10 letters and digits once spaces, dashes and other
  punctuation are removed; stored upper case in that form (SW1A 1AA -> SW1A1AA).
- Phone: 10 digits, optionally with country code 1.
- Email: one @ and a dotted domain; stored lower case.
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[str, str], tuple[str, str, str]]
"""check(raw, p) -> (pre, reason, value): ``pre`` is computed once from the trimmed raw
text into column ``p``; ``reason`` (over raw and p) is NULL when valid; ``value`` (over p)
is the normalised value stored when valid."""

USPS_CODES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI",
    "UM", "FM", "MH", "PW", "AA", "AE", "AP",
)


def _digits(raw: str, strip: str = "[ -]") -> str:
    if strip == "[ -]":  # the common case, without a regular expression
        return f"replace(replace({raw}, '-', ''), ' ', '')"
    return f"regexp_replace({raw}, '{strip}', '', 'g')"


def _ssn_reason(d: str) -> str:
    return (
        f"CASE WHEN NOT regexp_full_match({d}, '[0-9]{{9}}') THEN 'SSN must be 9 digits' "
        f"WHEN substr({d}, 1, 3) IN ('000', '666') OR substr({d}, 1, 1) = '9' "
        f"THEN 'SSN area number (first 3 digits) 000, 666 and 900-999 is never issued' "
        f"WHEN substr({d}, 4, 2) = '00' THEN 'SSN group number (digits 4-5) 00 is never issued' "
        f"WHEN substr({d}, 6, 4) = '0000' THEN 'SSN serial number (last 4) 0000 is never issued' "
        f"END"
    )


def _itin_reason(d: str) -> str:
    g = f"TRY_CAST(substr({d}, 4, 2) AS INTEGER)"
    return (
        f"CASE WHEN NOT regexp_full_match({d}, '9[0-9]{{8}}') "
        f"THEN 'ITIN must be 9 digits starting with 9' "
        f"WHEN NOT ({g} BETWEEN 50 AND 65 OR {g} BETWEEN 70 AND 88 OR {g} BETWEEN 90 AND 92 "
        f"OR {g} BETWEEN 94 AND 99) "
        f"THEN 'ITIN digits 4-5 must be in 50-65, 70-88, 90-92 or 94-99' END"
    )


def ssn(raw: str, p: str) -> tuple[str, str, str]:
    return _digits(raw), _ssn_reason(p), p


def itin(raw: str, p: str) -> tuple[str, str, str]:
    return _digits(raw), _itin_reason(p), p


def tin(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN substr({p}, 1, 1) = '9' THEN {_itin_reason(p)} "
              f"ELSE {_ssn_reason(p)} END")
    return _digits(raw), reason, p


def ssn_last4(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN NOT regexp_full_match({p}, '[0-9]{{4}}') "
              f"THEN 'ssn_last4 must be 4 digits' "
              f"WHEN {p} = '0000' THEN 'SSN serial number 0000 is never issued' END")
    return _digits(raw, "[^0-9]"), reason, p


def a_number(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN NOT regexp_full_match({p}, '[0-9]{{7,9}}') "
              f"THEN 'A-number must be 7 to 9 digits, optionally prefixed with A' "
              f"WHEN TRY_CAST({p} AS BIGINT) = 0 THEN 'A-number cannot be all zeros' END")
    d = _digits(f"upper({raw})")
    pre = f"CASE WHEN starts_with({d}, 'A') THEN substr({d}, 2) ELSE {d} END"
    return pre, reason, f"lpad({p}, 9, '0')"


def passport(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN NOT regexp_full_match({p}, '[A-Z0-9]{{5,20}}') "
              f"THEN 'passport number must be 5 to 20 letters and digits' END")
    return f"replace(upper({raw}), ' ', '')", reason, p


def state(raw: str, p: str) -> tuple[str, str, str]:
    codes = ", ".join(f"'{c}'" for c in USPS_CODES)
    reason = (f"CASE WHEN {p} NOT IN ({codes}) "
              f"THEN 'not a USPS state or territory code' END")
    return f"upper({raw})", reason, p


def zip_code(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN regexp_full_match({p}, '[0-9]{{4}}') "
              f"THEN 'ZIP has 4 digits (leading zero lost?)' "
              f"WHEN NOT regexp_full_match({p}, '[0-9]{{5}}(-?[0-9]{{4}})?') "
              f"THEN 'ZIP must be 5 digits or ZIP+4' END")
    value = (f"CASE WHEN length({p}) > 5 THEN substr({p}, 1, 5) || '-' || "
             f"right({p}, 4) ELSE {p} END")
    return raw, reason, value


def postcode(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN NOT regexp_full_match({p}, '[A-Z0-9]{{3,10}}') "
              f"THEN 'postcode must be 3 to 10 letters and digits' END")
    return f"regexp_replace(upper({raw}), '[^A-Z0-9]', '', 'g')", reason, p


def phone(raw: str, p: str) -> tuple[str, str, str]:
    d = _digits(raw, "[^0-9]")
    pre = f"CASE WHEN length({d}) = 11 AND substr({d}, 1, 1) = '1' THEN substr({d}, 2) ELSE {d} END"
    reason = (f"CASE WHEN regexp_matches({raw}, '[A-Za-z]') "
              f"THEN 'phone number contains letters' "
              f"WHEN length({p}) <> 10 THEN 'phone number must have 10 digits' END")
    return pre, reason, p


def email(raw: str, p: str) -> tuple[str, str, str]:
    reason = (f"CASE WHEN NOT regexp_full_match({p}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') "
              f"THEN 'not an email address' END")
    return f"lower({raw})", reason, p


CHECKS: dict[str, Check] = {
    "ssn": ssn,
    "itin": itin,
    "tin": tin,
    "ssn_last4": ssn_last4,
    "a_number": a_number,
    "passport": passport,
    "state": state,
    "zip": zip_code,
    "postcode": postcode,
    "phone": phone,
    "email": email,
}
