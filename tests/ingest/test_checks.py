"""Identifier and contact rules, run through DuckDB with the SQL fragments of each check."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from accord.ingest.checks import CHECKS, USPS_CODES
from accord.sql_text import lit


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


def run(con: duckdb.DuckDBPyConnection, check: str, raws: list[str | None]) -> list[tuple[str | None, ...]]:
    """(value, reason) per raw text, computed as ingest does: pre into p, then reason and value."""
    pre, reason, value = CHECKS[check]('"raw"', '"p"')
    rows = ", ".join(f"({i}, {'NULL' if r is None else lit(r)})" for i, r in enumerate(raws))
    sql = (f"WITH src(i, raw) AS (VALUES {rows}), t AS (SELECT i, raw, {pre} AS p FROM src) "
           f"SELECT CASE WHEN ({reason}) IS NULL THEN {value} END, {reason} FROM t ORDER BY i")
    return con.execute(sql).fetchall()


VALID: dict[str, list[tuple[str, str]]] = {
    "ssn": [("123-45-6789", "123456789"), ("123 45 6789", "123456789"), ("001010001", "001010001"),
            ("665-99-9999", "665999999"), ("899-01-0001", "899010001")],
    "itin": [("912-50-1234", "912501234"), ("900-65-0000", "900650000"), ("999-70-1234", "999701234"),
             ("912-88-1234", "912881234"), ("912 90 1234", "912901234"), ("912-92-1234", "912921234"),
             ("912-94-1234", "912941234"), ("912-99-1234", "912991234")],
    "tin": [("123-45-6789", "123456789"), ("912-70-1234", "912701234")],
    "ssn_last4": [("1234", "1234"), ("XXX-XX-1234", "1234"), ("***-**-0042", "0042")],
    "a_number": [("A012345678", "012345678"), ("A-123-456-789", "123456789"), ("1234567", "001234567"),
                 ("a 12345678", "012345678"), ("A0001234", "000001234")],
    "passport": [("ab 12345", "AB12345"), ("X1234", "X1234"), ("123456789", "123456789"),
                 ("A" * 20, "A" * 20)],
    "state": [("ca", "CA"), ("PR", "PR"), ("Dc", "DC"), ("AE", "AE")],
    "zip": [("02134", "02134"), ("02134-1234", "02134-1234"), ("021341234", "02134-1234")],
    "postcode": [("2119", "2119"), ("sw1a 1aa", "SW1A1AA"), ("K1A-0B1", "K1A0B1"),
                 ("02134-1234", "021341234")],
    "phone": [("(617) 555-1234", "6175551234"), ("+1 617 555 1234", "6175551234"),
              ("617.555.1234", "6175551234"), ("16175551234", "6175551234")],
    "email": [("A.B@Example.COM", "a.b@example.com"), ("x+tag@mail.gov.uk", "x+tag@mail.gov.uk")],
}

INVALID: dict[str, list[tuple[str, str]]] = {
    "ssn": [("000-12-3456", "area"), ("666-12-3456", "area"), ("900-12-3456", "area"),
            ("999-99-9999", "area"), ("123-00-4567", "group"), ("123-45-0000", "serial"),
            ("12345678", "9 digits"), ("1234567890", "9 digits"), ("12345678a", "9 digits"),
            ("123.45.6789", "9 digits")],
    "itin": [("912-49-1234", "digits 4-5"), ("912-66-1234", "digits 4-5"), ("912-69-1234", "digits 4-5"),
             ("912-89-1234", "digits 4-5"), ("912-93-1234", "digits 4-5"), ("912-00-1234", "digits 4-5"),
             ("812-70-1234", "starting with 9"), ("912-70-123", "9 digits"), ("9127O1234", "9 digits")],
    "tin": [("912-45-6789", "ITIN digits 4-5"), ("000-45-6789", "SSN area"), ("123-45-0000", "serial"),
            ("1234-5678", "9 digits")],
    "ssn_last4": [("0000", "0000"), ("123", "4 digits"), ("12345", "4 digits"), ("XXX-XX-XXXX", "4 digits")],
    "a_number": [("123456", "7 to 9"), ("A1234567890", "7 to 9"), ("A000000000", "all zeros"),
                 ("0000000", "all zeros"), ("B1234567", "7 to 9"), ("12345678X", "7 to 9")],
    "passport": [("1234", "5 to 20"), ("AB-12345", "5 to 20"), ("A" * 21, "5 to 20"), ("ÄB12345", "5 to 20")],
    "state": [("XX", "USPS"), ("Calif", "USPS"), ("C A", "USPS")],
    "postcode": [("12", "3 to 10 letters"), ("--", "3 to 10 letters"), ("12345678901", "3 to 10 letters")],
    "zip": [("2134", "leading zero"), ("ABCDE", "5 digits"), ("021345", "5 digits"),
            ("02134-12", "5 digits")],
    "phone": [("555-1234", "10 digits"), ("617-555-CALL", "letters"), ("2 617 555 1234", "10 digits"),
              ("617555123456", "10 digits")],
    "email": [("nope", "email"), ("a@b", "email"), ("a@@b.com", "email"), ("a b@c.com", "email")],
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_every_check_has_valid_and_invalid_examples(check: str) -> None:
    assert VALID.get(check) and INVALID.get(check)


@pytest.mark.parametrize("check", sorted(VALID))
def test_valid_values_pass_and_are_normalised(con: duckdb.DuckDBPyConnection, check: str) -> None:
    raws = [raw for raw, _ in VALID[check]]
    assert run(con, check, raws) == [(norm, None) for _, norm in VALID[check]]


@pytest.mark.parametrize("check", sorted(INVALID))
def test_invalid_values_fail_with_the_rule_they_break(con: duckdb.DuckDBPyConnection, check: str) -> None:
    results = run(con, check, [raw for raw, _ in INVALID[check]])
    for (raw, fragment), (value, reason) in zip(INVALID[check], results, strict=True):
        assert value is None, (raw, value)
        assert reason is not None and fragment in reason, (raw, reason)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_a_missing_value_is_not_an_error(con: duckdb.DuckDBPyConnection, check: str) -> None:
    assert run(con, check, [None]) == [(None, None)]


def test_every_usps_code_is_accepted(con: duckdb.DuckDBPyConnection) -> None:
    assert len(set(USPS_CODES)) == len(USPS_CODES) >= 56
    results = run(con, "state", [c.lower() for c in USPS_CODES])
    assert [v for v, _ in results] == list(USPS_CODES)
