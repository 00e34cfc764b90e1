"""Street lines parsed to number / street name / unit; city, state and ZIP."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from std_helpers import Batch, features, one

from accord.standardise import addresses

STREETS: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    # line, number, name, core, unit
    ("123 N Main Street Apt 4B", "123", "N MAIN ST", "MAIN", "4B"),
    ("123 North Main St., Apt. 4B", "123", "N MAIN ST", "MAIN", "4B"),
    ("123 N. Main St #4B", "123", "N MAIN ST", "MAIN", "4B"),
    ("123 Main St Unit 4-B", "123", "MAIN ST", "MAIN", "4B"),
    ("456 Oak Avenue", "456", "OAK AVE", "OAK", None),
    ("456 OAK AV", "456", "OAK AVE", "OAK", None),
    ("789 Elm Boulevard Suite 200", "789", "ELM BLVD", "ELM", "200"),
    ("10 Downing Road Floor 3", "10", "DOWNING RD", "DOWNING", "3"),
    ("1600 Pennsylvania Ave NW", "1600", "PENNSYLVANIA AVE NW", "PENNSYLVANIA", None),
    ("500 West Fifth Avenue", "500", "W 5TH AVE", "5TH", None),
    ("12 Saint Paul Street Rear", "12", "ST PAUL ST", "ST PAUL", "REAR"),
    ("123-A Main St", "123A", "MAIN ST", "MAIN", None),
    ("123 1/2 Main St", "123 1/2", "MAIN ST", "MAIN", None),
    ("77 North Street", "77", "NORTH ST", "NORTH", None),
    ("9 Broadway", "9", "BROADWAY", "BROADWAY", None),
    ("PO Box 123", "123", "PO BOX", "PO BOX", None),
    ("P.O. Box 77", "77", "PO BOX", "PO BOX", None),
    ("1 Rue Sainte Catherine", "1", "RUE SAINTE CATHERINE", "RUE SAINTE CATHERINE", None),
    ("Calle Sin Número", None, "CALLE SIN NUMERO", "CALLE SIN NUMERO", None),
]


@pytest.fixture(scope="module")
def streets() -> Batch:
    return Batch([{"street": line} for line, *_ in STREETS])


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[Any, ...]]:
    """The street parser's own output per line (core and unit are parsed but not features)."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {addresses.TERMS_TABLE} AS {addresses.terms_values_sql()}")
    con.execute("CREATE TABLE lines (street_line VARCHAR)")
    con.executemany("INSERT INTO lines VALUES (?)", [[line] for line, *_ in STREETS])
    rows = con.execute(f"SELECT street_line, street_number, street_name, street_core, street_unit "
                       f"FROM ({addresses.street_parse_sql('lines')})").fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("i", range(len(STREETS)), ids=[s for s, *_ in STREETS])
def test_street_line(streets: Batch, parsed: dict[str, tuple[Any, ...]], i: int) -> None:
    line, number, name, core, unit = STREETS[i]
    f = streets[i]
    assert (f["street_number"], f["street_name"]) == (number, name)
    assert parsed[line] == (number, name, core, unit)


def test_same_address_written_two_ways_compares_equal() -> None:
    a = one(street="123 North Main Street Apartment 4B", city="Saint Louis", state="mo", zip="63101-1234")
    b = one(street="123 N MAIN ST APT 4B", city="St. Louis", state="MO", zip="63101")
    cols = ("street_number", "street_name", "city_std", "state", "zip5")
    expected = ["123", "N MAIN ST", "ST LOUIS", "MO", "63101"]
    assert [a[c] for c in cols] == [b[c] for c in cols] == expected


FULL: list[tuple[str, tuple[Any, ...]]] = [
    ("123 Main St Apt 4, Springfield, IL 62701", ("123", "MAIN ST", "SPRINGFIELD", "IL", "62701")),
    ("PO Box 12, Austin, TX 78701-1234", ("12", "PO BOX", "AUSTIN", "TX", "78701")),
    ("55 Elm Rd, Fort Worth TX 76101", ("55", "ELM RD", "FT WORTH", "TX", "76101")),
]


def test_full_address_is_used_when_street_is_missing() -> None:
    cols = ("street_number", "street_name", "city_std", "state", "zip5")
    got = features([{"full_address": full} for full, _ in FULL])
    assert [tuple(f[c] for c in cols) for f in got] == [expected for _, expected in FULL]


def test_street_field_wins_over_full_address_and_bad_state_or_zip_is_missing() -> None:
    f = one(street="1 Oak Ct", full_address="9 Elm St, Reno, NV 89501", state="ZZ", zip="0000")
    assert (f["street_name"], f["city_std"], f["state"], f["zip5"]) == ("OAK CT", "RENO", None, None)
