"""Identity fields beyond the US: other_id within its namespace, any country's postcode, a
region as written, a house number given apart from the street line."""

from __future__ import annotations

from std_helpers import Batch, one


def test_other_id_keeps_its_namespace_and_compares_letters_and_digits() -> None:
    b = Batch([
        {"other_id": "febrl_soc_sec:1804974"},
        {"other_id": "state_dl_ca:d123-456 7"},
        {"other_id": "febrl_soc_sec:0000000"},     # one digit repeated: no person's number
        {"other_id": "1804974"},                   # stored before namespaces: no feature
        {"other_id": "febrl_soc_sec: - "},         # nothing left
        {},
    ])
    assert [r["other_id"] for r in b.rows] == [
        "febrl_soc_sec:1804974", "state_dl_ca:D1234567", None, None, None, None]
    assert b.rows[2]["flags"] == ["other_id_removed"]
    assert [r["flags"] for r in b.rows if r is not b.rows[2]] == [[]] * 5


def test_postcode_is_the_zip_else_any_countrys_postcode_in_letters_and_digits() -> None:
    b = Batch([
        {"postcode": "2119"},
        {"postcode": "sw1a 1aa"},
        {"postcode": "K1A-0B1"},
        {"zip": "62701-1234"},
        {"zip": "62701", "postcode": "9999"},      # a US record's ZIP comes first
        {"postcode": "12"},                        # too short to be a postcode
    ])
    assert [r["postcode"] for r in b.rows] == ["2119", "SW1A1AA", "K1A0B1", "62701", "62701", None]
    assert [r["zip5"] for r in b.rows] == [None, None, None, "62701", "62701", None]


def test_region_is_folded_as_written_else_the_usps_state() -> None:
    b = Batch([
        {"region": "nsw"},
        {"region": "N.S.W."},
        {"region": "Québec"},
        {"region": "New South Wales"},
        {"state": "il"},
        {"state": "IL", "region": "Illinois"},
        {"region": "--"},
    ])
    assert [r["region"] for r in b.rows] == ["NSW", "NSW", "QUEBEC", "NEWSOUTHWALES", "IL", "ILLINOIS", None]
    assert [r["state"] for r in b.rows][4:6] == ["IL", "IL"]


def test_a_mapped_house_number_is_used_before_the_one_parsed_from_the_street_line() -> None:
    b = Batch([
        {"street": "rothschild avenue", "street_number": "177"},
        {"street": "12 Main Street", "street_number": " 12 a"},
        {"street": "12 Main Street", "street_number": ""},
        {"street": "12 Main Street"},
        {"street_number": "4-6"},
    ])
    assert [r["street_number"] for r in b.rows] == ["177", "12A", "12", "12", "46"]
    assert [r["street_name"] for r in b.rows] == ["ROTHSCHILD AVE", "MAIN ST", "MAIN ST", "MAIN ST", None]


def test_a_second_address_line_is_kept_but_not_compared() -> None:
    assert "address_line_2" not in one(street="7 wallaby place", address_line_2="delmar")
