"""Identifier, date and contact features as SQL expressions over one record (pure builders).

Ingest already checked the structure of every identifier (see ``accord.ingest.checks``); the
rules are applied again here so that the stage is correct on any source table, and then the
values no real person has are removed: well-known placeholder and advertising numbers
(123-45-6789, 078-05-1120, 999-99-9999, one digit repeated), fictional 555-01xx phone
numbers, "none@..." e-mail addresses, and default dates of birth (1900-01-01). A value
removed this way becomes NULL (missing: no evidence either way) and its name is added to the
record's ``flags`` list, so nothing is lost silently.

Each builder returns ``{column: sql}``; the expressions read the canonical record columns
(``ssn``, ``tin``, ``dob``, ...) and may refer to columns produced by earlier builders only
through the stage's layering in ``features``.
"""

from __future__ import annotations

from accord.ingest.checks import USPS_CODES
from accord.standardise.names import in_list

# Never issued to a person or published as examples; one digit repeated nine times.
SSN_PLACEHOLDERS = ("123456789", "078051120", "219099999", "111111111", "222222222", "333333333",
                    "444444444", "555555555", "777777777", "888888888")
ITIN_PLACEHOLDERS = ("999999999", "900000000", "911111111", "987654321")
A_NUMBER_PLACEHOLDERS = ("000000000", "999999999", "111111111", "123456789", "012345678")
PASSPORT_PLACEHOLDERS = ("000000000", "123456789", "999999999", "111111111", "NONE", "UNKNOWN",
                         "NA", "XXXXXXXXX", "PENDING")
# Default and "unknown" dates of birth that systems store when the real date is missing.
DOB_PLACEHOLDERS = ("1900-01-01", "1901-01-01", "1899-12-31", "1800-01-01", "1880-01-01")
EMAIL_PLACEHOLDER_USERS = ("none", "noemail", "no.email", "no-email", "na", "n/a", "unknown",
                           "noreply", "no-reply", "donotreply", "test", "null", "nobody")


def _digits(expr: str) -> str:
    return f"regexp_replace({expr}, '[^0-9]', '', 'g')"


def _not_one_char(x: str) -> str:
    """Not one character repeated (RE2 has no back-references)."""
    return f"replace({x}, left({x}, 1), '') <> ''"


def _ssn_ok(d: str) -> str:
    return (f"(regexp_full_match({d}, '[0-9]{{9}}') AND substr({d}, 1, 3) NOT IN ('000', '666') "
            f"AND substr({d}, 1, 1) <> '9' AND substr({d}, 4, 2) <> '00' AND substr({d}, 6, 4) <> '0000')")


def _itin_ok(d: str) -> str:
    g = f"TRY_CAST(substr({d}, 4, 2) AS INTEGER)"
    return (f"(regexp_full_match({d}, '9[0-9]{{8}}') AND ({g} BETWEEN 50 AND 65 OR {g} BETWEEN 70 AND 88 "
            f"OR {g} BETWEEN 90 AND 92 OR {g} BETWEEN 94 AND 99))")


def raw_identifier_sql() -> dict[str, str]:
    """Layer 1: candidate values (digits only; upper-case letters and digits for passports)."""
    tin = _digits("tin")
    phone = _digits("phone")
    return {
        "__ssn_c": f"coalesce({_digits('ssn')}, CASE WHEN NOT starts_with({tin}, '9') THEN {tin} END)",
        "__itin_c": f"coalesce({_digits('itin')}, CASE WHEN starts_with({tin}, '9') THEN {tin} END)",
        "__last4_c": _digits("ssn_last4"),
        "__anum_c": "regexp_replace(upper(a_number), '^A|[^0-9]', '', 'g')",
        "__passport_c": "regexp_replace(upper(passport_number), '[^A-Z0-9]', '', 'g')",
        "__phone_c": (f"CASE WHEN length({phone}) = 11 AND starts_with({phone}, '1') "
                      f"THEN substr({phone}, 2) ELSE {phone} END"),
        "__email_c": "lower(trim(email))",
    }


def validity_sql() -> dict[str, str]:
    """Layer 2 (reads layer 1): is each candidate a value a real person can have?"""
    p = "__phone_c"
    user = "split_part(__email_c, '@', 1)"
    return {
        "__ssn_ok": f"{_ssn_ok('__ssn_c')} AND __ssn_c NOT IN ({in_list(SSN_PLACEHOLDERS)})",
        "__itin_ok": f"{_itin_ok('__itin_c')} AND __itin_c NOT IN ({in_list(ITIN_PLACEHOLDERS)})",
        "__anum_ok": (f"regexp_full_match(__anum_c, '[0-9]{{7,9}}') AND lpad(__anum_c, 9, '0') NOT IN "
                      f"({in_list(A_NUMBER_PLACEHOLDERS)})"),
        "__passport_ok": (f"regexp_full_match(__passport_c, '[A-Z0-9]{{5,20}}') AND __passport_c NOT IN "
                          f"({in_list(PASSPORT_PLACEHOLDERS)}) AND {_not_one_char('__passport_c')}"),
        "__phone_ok": (f"regexp_full_match({p}, '[2-9][0-8][0-9][2-9][0-9]{{6}}') "
                       f"AND substr({p}, 2, 2) <> '11' AND substr({p}, 5, 2) <> '11' "
                       f"AND NOT (substr({p}, 4, 3) = '555' AND substr({p}, 7, 2) = '01') "
                       f"AND {_not_one_char(p)} AND {p} <> '2345678901'"),
        "__email_ok": (f"regexp_full_match(__email_c, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') "
                       f"AND {user} NOT IN ({in_list(EMAIL_PLACEHOLDER_USERS)})"),
        "__last4_ok": "regexp_full_match(__last4_c, '[0-9]{4}') AND __last4_c <> '0000'",
    }


def identifier_sql() -> dict[str, str]:
    """Layer 3 (reads layers 1 and 2): the features and the list of what was removed."""
    removed = []
    for name, c, ok in (("ssn", "__ssn_c", "__ssn_ok"), ("itin", "__itin_c", "__itin_ok"),
                        ("a_number", "__anum_c", "__anum_ok"), ("passport", "__passport_c", "__passport_ok"),
                        ("phone", "__phone_c", "__phone_ok"), ("email", "__email_c", "__email_ok")):
        removed.append(f"CASE WHEN {c} <> '' AND NOT {ok} THEN '{name}_removed' END")
    return {
        "ssn": "CASE WHEN __ssn_ok THEN __ssn_c END",
        # Comparable with a full SSN: the field when given, else the last four of the SSN.
        "ssn_last4": ("coalesce(CASE WHEN __last4_ok THEN __last4_c END, "
                      "CASE WHEN __ssn_ok THEN right(__ssn_c, 4) END)"),
        "itin": "CASE WHEN __itin_ok THEN __itin_c END",
        "a_number": "CASE WHEN __anum_ok THEN lpad(__anum_c, 9, '0') END",
        "passport": "CASE WHEN __passport_ok THEN __passport_c END",
        "email": "CASE WHEN __email_ok THEN __email_c END",
        "__id_flags": "[" + ", ".join(removed) + "]",
    }


def other_id_sql(stored: str) -> dict[str, str]:
    """``other_id`` as stored ("namespace:value", ``accord.ingest``): the namespace, a colon, and
    the value upper case with letters and digits only (``state_dl_ca:D1234567``). A value
    stored without a namespace (before schema version 4) has no feature; a value of one
    character repeated (0000000, XXXX) is removed (flagged ``other_id_removed``)."""
    ns = f"regexp_extract({stored}, '^([a-z][a-z0-9_]*):', 1)"
    value = f"regexp_replace(upper(substr({stored}, length({ns}) + 2)), '[^A-Z0-9]', '', 'g')"
    return {
        "__oid_ns": f"NULLIF({ns}, '')",
        "__oid_v": f"CASE WHEN {ns} <> '' THEN NULLIF({value}, '') END",
    }


def other_id_feature_sql() -> dict[str, str]:
    """Layer after :func:`other_id_sql`: the feature and its removal flag."""
    ok = f"length(__oid_v) > 1 AND {_not_one_char('__oid_v')}"
    return {
        "other_id": f"CASE WHEN {ok} THEN __oid_ns || ':' || __oid_v END",
        "other_id_ns": f"CASE WHEN {ok} THEN __oid_ns END",
        "__oid_flag": f"CASE WHEN __oid_v IS NOT NULL AND NOT ({ok}) THEN 'other_id_removed' END",
    }


def dob_sql(dob: str) -> dict[str, str]:
    """Date of birth (expression ``dob``, a DATE) split into parts; default dates removed
    (flagged ``dob_removed``)."""
    ok = f"{dob} IS NOT NULL AND CAST({dob} AS VARCHAR) NOT IN ({in_list(DOB_PLACEHOLDERS)})"
    return {
        "dob": f"CASE WHEN {ok} THEN CAST({dob} AS DATE) END",
        "dob_y": f"CASE WHEN {ok} THEN CAST(year({dob}) AS SMALLINT) END",
        "dob_m": f"CASE WHEN {ok} THEN CAST(month({dob}) AS TINYINT) END",
        "dob_d": f"CASE WHEN {ok} THEN CAST(day({dob}) AS TINYINT) END",
        "__dob_flag": f"CASE WHEN {dob} IS NOT NULL AND NOT ({ok}) THEN 'dob_removed' END",
    }


def sex_sql(sex: str) -> str:
    """M, F or X; U (unknown) and anything else is NULL."""
    return f"CASE upper(trim({sex})) WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' WHEN 'X' THEN 'X' END"


def state_sql(expr: str) -> str:
    return f"CASE WHEN upper(trim({expr})) IN ({in_list(USPS_CODES)}) THEN upper(trim({expr})) END"


def postcode_sql(expr: str) -> str:
    """A postcode of any country: upper case, letters and digits only (3 to 10 of them)."""
    p = f"regexp_replace(upper({expr}), '[^A-Z0-9]', '', 'g')"
    return f"CASE WHEN regexp_full_match({p}, '[A-Z0-9]{{3,10}}') THEN {p} END"


def zip5_sql(expr: str) -> str:
    d = f"left({_digits(expr)}, 5)"
    return f"CASE WHEN length({d}) = 5 AND {d} <> '00000' THEN {d} END"
