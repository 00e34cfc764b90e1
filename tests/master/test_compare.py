"""What counts as a conflict between two records' values of one attribute."""

from __future__ import annotations

from datetime import date

import pytest

from accord.master.compare import SINGLE_VALUED, compatible, in_conflict, json_value, normalise


@pytest.mark.parametrize("field, a, b, same", [
    ("ssn", "123-45-6780", "123456780", True),
    ("ssn", "123-45-6780", "123-45-6708", False),
    ("a_number", "A023456781", "23456781", True),
    ("a_number", "A023456781", "A023456782", False),
    ("dob", date(1980, 2, 3), date(1980, 2, 3), True),
    ("dob", date(1980, 2, 3), date(1980, 3, 2), False),
    ("sex", "f", "F", True),
    ("passport_number", "ab-123 456", "AB123456", True),
    ("email", " Ana@Example.org", "ana@example.org", True),
])
def test_identifiers_and_dates_compare_on_their_cleaned_form(field: str, a: object, b: object,
                                                             same: bool) -> None:
    na, nb = normalise(field, a), normalise(field, b)
    assert na is not None and nb is not None
    assert (na == nb) is same
    assert in_conflict(field, [na, nb], {}) is (not same and field in SINGLE_VALUED)


@pytest.mark.parametrize("field, value", [("ssn", "123-45-6789"), ("dob", date(1900, 1, 1)),
                                          ("a_number", "A000000000"), ("sex", "U"), ("ssn", "--")])
def test_placeholders_carry_no_evidence(field: str, value: object) -> None:
    assert normalise(field, value) is None


@pytest.mark.parametrize("field, a, b, same", [
    ("given_name", "WILLIAM", "BILL", True),         # nickname
    ("given_name", "J", "JOHN", True),               # initial
    ("given_name", "JEAN", "JEAN PAUL", True),       # one holds the other
    ("given_name", "MARIA", "ROSA", False),
    ("middle_name", "A", "ANNE", True),
    ("middle_name", "ANNE", "MARIE", False),
    ("family_name", "ORTIZ", "ORTIZ PACHECO", True),  # compound surname cut short
    ("family_name", "CRUZ", "DE LA CRUZ", True),      # particles
    ("family_name", "JONES", "THOMPSON", False),      # a changed name is a conflict to show
])
def test_names_compare_on_standardised_forms(field: str, a: str, b: str, same: bool) -> None:
    tokens = {"DE LA CRUZ": ("CRUZ",), "ORTIZ PACHECO": ("ORTIZ", "PACHECO")}
    assert compatible(field, a, b, tokens) is same
    assert in_conflict(field, [a, b], tokens) is (not same)


def test_names_are_folded_by_the_caller_and_other_fields_never_conflict() -> None:
    assert normalise("family_name", "García", folded="GARCIA") == "GARCIA"
    assert in_conflict("street", ["1 MAIN ST", "2 OAK AVE"], {}) is False
    assert in_conflict("entry_date", ["2020-01-01", "2021-01-01"], {}) is False
    assert json_value(date(2020, 1, 2)) == "2020-01-02"
