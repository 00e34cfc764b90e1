"""Identifiers, dates and contact fields: normalised, validated, placeholders removed and flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from std_helpers import Batch, features, one

# (input field, raw value, output column, expected) - built once, checked one by one.
CASES: list[tuple[str, Any, str, Any]] = [
    ("a_number", "A87654321", "a_number", "087654321"),
    ("a_number", "a-1234567", "a_number", "001234567"),
    ("a_number", "A 204 551 873", "a_number", "204551873"),
    ("a_number", "1234567890", "a_number", None),
    ("a_number", "999999999", "a_number", None),
    ("a_number", "123456", "a_number", None),
    ("passport_number", "x1234567", "passport", "X1234567"),
    ("passport_number", "AB 12 34 56", "passport", "AB123456"),
    ("passport_number", "000000000", "passport", None),
    ("passport_number", "UNKNOWN", "passport", None),
    ("passport_number", "AAAAAAAA", "passport", None),
    ("phone", "(217) 555-1234", "phone", "2175551234"),
    ("phone", "+1 217 555 1234", "phone", "2175551234"),
    ("phone", "217-555-0123", "phone", None),
    ("phone", "111-111-1111", "phone", None),
    ("phone", "017-555-1234", "phone", None),
    ("phone", "217-055-1234", "phone", None),
    ("phone", "555-1234", "phone", None),
    ("email", " Ana.Lopez@Example.COM ", "email", "ana.lopez@example.com"),
    ("email", "none@none.com", "email", None),
    ("email", "noemail@x.org", "email", None),
    ("email", "not-an-email", "email", None),
    ("sex", "M", "sex", "M"),
    ("sex", "f", "sex", "F"),
    ("sex", "X", "sex", "X"),
    ("sex", "U", "sex", None),
    ("itin", "912-40-1234", "itin", None),
    ("itin", "999-99-9999", "itin", None),
    ("itin", "812-70-1234", "itin", None),
    ("itin", "912-70-1234", "itin", "912701234"),
]
BAD_SSNS = ["123-45-6789", "078-05-1120", "111-11-1111", "000-12-3456", "666-12-3456", "912-34-5678",
            "123-00-4567", "123-45-0000", "12345678"]


@pytest.fixture(scope="module")
def batch() -> Batch:
    return Batch([{field: raw} for field, raw, *_ in CASES] + [{"ssn": s} for s in BAD_SSNS])


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_normalised_or_removed(batch: Batch, i: int) -> None:
    _, _, column, expected = CASES[i]
    f = batch[i]
    if column != "phone":  # no phone feature (nothing compares on it): only whether it was kept
        assert f[column] == expected
    removed = {"passport": "passport_removed", "phone": "phone_removed", "email": "email_removed",
               "a_number": "a_number_removed", "itin": "itin_removed"}.get(column)
    if removed:
        assert (removed in f["flags"]) == (expected is None)


def test_ssn_last4_is_comparable_with_a_full_ssn() -> None:
    full, last4, both = features([{"ssn": "123-45-6780"}, {"ssn_last4": "XXX-XX-6780"},
                                  {"ssn": "123456780", "ssn_last4": "6780"}])
    assert full["ssn"] == "123456780" and full["ssn_last4"] == "6780"
    assert last4["ssn"] is None and last4["ssn_last4"] == "6780"
    assert both["ssn_last4"] == full["ssn_last4"] == last4["ssn_last4"]


@pytest.mark.parametrize("j", range(len(BAD_SSNS)), ids=BAD_SSNS)
def test_invalid_and_placeholder_ssns_are_removed_and_flagged(batch: Batch, j: int) -> None:
    f = batch[len(CASES) + j]
    assert f["ssn"] is None and f["ssn_last4"] is None
    assert "ssn_removed" in f["flags"]


def test_tin_is_split_into_ssn_or_itin() -> None:
    as_ssn, as_itin, both = features([{"tin": "123-45-6780"}, {"tin": "912-70-1234"},
                                      {"ssn": "123456780", "itin": "912701234"}])
    assert (as_ssn["ssn"], as_ssn["itin"]) == ("123456780", None)
    assert (as_itin["ssn"], as_itin["itin"]) == (None, "912701234")
    assert (both["ssn"], both["itin"]) == ("123456780", "912701234")


def test_dob_parts_and_placeholders() -> None:
    real, default, jan1, none = features([{"dob": dt.date(1984, 7, 9)}, {"dob": dt.date(1900, 1, 1)},
                                          {"dob": dt.date(1990, 1, 1)}, {}])
    assert (real["dob"], real["dob_y"], real["dob_m"], real["dob_d"]) == (dt.date(1984, 7, 9), 1984, 7, 9)
    assert default["dob"] is None and default["dob_y"] is None and "dob_removed" in default["flags"]
    assert jan1["dob"] == dt.date(1990, 1, 1)  # 1 January is a date, not a default
    assert none["dob"] is None and none["flags"] == []


def test_countries_are_folded() -> None:
    f = one(country_of_birth="México", citizenship_country="Côte d'Ivoire")
    assert (f["country_of_birth"], f["citizenship_country"]) == ("MEXICO", "COTE DIVOIRE")
