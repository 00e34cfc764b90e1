"""26 U.S.C. 6103(i)(2): a per-person request releases return information only on a FULL match
of name (every part, no subset), TIN and address (street, city, state and ZIP), and only from
returns of the taxable periods it states. Any mismatch releases nothing and is answered in the
same words whatever failed, and whether or not a record exists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from accord import services
from accord.governance.agreements import get_agreement
from accord.governance.gate import PolicyDenied
from accord.governance.policy import Request, decide
from accord.governance.registry import registry
from accord.governance.tax_request import NOTHING, release, stated_periods
from accord.governance.users import get_actor
from accord.services.people_results import TaxReleaseOut
from accord.store import Store
from worlds import TODAY, World, resolved_world

ENF = "CMA-ENF-2026"
PURPOSE = "removal_order_enforcement"
SUFFIXES = ("ST", "AVE", "DR", "LN", "RD", "PL", "CT", "BLVD")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("tax-match"), persons=600, seed=21)


@pytest.fixture(scope="module")
def filer(world: World) -> dict[str, Any]:
    """An IRS return (read directly from the store, test-only) whose filer has a middle initial,
    a plain street (number, name, USPS suffix) and no other return under the same TIN."""
    with Store(world.db) as store:
        cur = store.con.execute(
            "SELECT record_id, given_name, middle_name, family_name, tin, street, city, state, zip, tax_year "
            "FROM records_current r WHERE source = 'irs' AND middle_name IS NOT NULL "
            "AND tax_year IS NOT NULL AND city IS NOT NULL AND state IS NOT NULL AND zip IS NOT NULL "
            "AND tin IS NOT NULL "
            f"AND regexp_full_match(street, '[0-9]+ [A-Z]{{4,}} ({'|'.join(SUFFIXES)})') "
            "AND (SELECT count(*) FROM records_current o WHERE o.source = 'irs' AND o.tin = r.tin) = 1 "
            "ORDER BY record_id LIMIT 1")
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    assert row is not None, "the world has no plain IRS filer to test with"
    return dict(zip(names, row, strict=True))


def _elements(f: dict[str, Any]) -> dict[str, str]:
    """What a requester who knows the filer exactly would supply."""
    return {"full_name": f"{f['given_name']} {f['middle_name']} {f['family_name']}".title(),
            "tin": f["tin"], "street": f["street"].title(), "city": f["city"].title(), "state": f["state"],
            "zip": f["zip"], "taxable_periods": str(f["tax_year"])}


def _person_request(e: dict[str, str]) -> dict[str, Any]:
    return {"full_name": e["full_name"], "tin": e["tin"],
            "address": f"{e['street']}, {e['city']}, {e['state']} {e['zip']}",
            "taxable_periods": e["taxable_periods"], "statutory_authority": "26 U.S.C. 6103(i)(2)",
            "reason": "failure to depart after a final order (8 U.S.C. 1253)"}


def _ask(world: World, e: dict[str, str]) -> TaxReleaseOut:
    return services.tax_request(world.db, user="casey", purpose=PURPOSE, agreement=ENF, today=TODAY,
                                **_person_request(e))


def _disclosures(world: World) -> int:
    with Store(world.db) as store:
        return int(store.scalar("SELECT count(*) FROM disclosures WHERE nature LIKE 'tax%'"))


def _nothing(world: World, e: dict[str, str]) -> TaxReleaseOut:
    before = _disclosures(world)
    out = _ask(world, e)
    assert out.released is False and out.fields == {}, out
    assert out.message == NOTHING        # the same words whatever failed
    assert _disclosures(world) == before
    return out


def test_the_full_match_releases_the_address_and_nothing_else(world: World, filer: dict[str, Any]) -> None:
    before = _disclosures(world)
    out = _ask(world, _elements(filer))
    assert out.released is True, out
    assert out.fields == {k: filer[k] for k in ("street", "city", "state", "zip")}
    assert str(filer["tax_year"]) not in out.message     # not even which year's return matched
    assert _disclosures(world) == before + 1


def test_formatting_and_standard_forms_still_match(world: World, filer: dict[str, Any]) -> None:
    e = _elements(filer)
    suffix = e["street"].split()[-1].upper()
    long_form = {"ST": "Street", "AVE": "Avenue", "DR": "Drive", "LN": "Lane", "RD": "Road", "PL": "Place",
                 "CT": "Court", "BLVD": "Boulevard"}[suffix]
    same = e | {"full_name": f"{filer['family_name']}, {filer['given_name']} {filer['middle_name']}.",
                "tin": f"{filer['tin'][:3]}-{filer['tin'][3:5]}-{filer['tin'][5:]}",
                "street": " ".join([*e["street"].split()[:-1], long_form]),
                "city": e["city"].upper(), "zip": filer["zip"] + "-1234",
                "taxable_periods": f"{filer['tax_year'] - 1}-{filer['tax_year'] + 1}"}
    assert _ask(world, same).released is True


def test_a_record_name_that_is_only_part_of_the_supplied_name_releases_nothing(
        world: World, filer: dict[str, Any]) -> None:
    more = f"{filer['given_name']} Anne {filer['middle_name']} {filer['family_name']}"
    _nothing(world, _elements(filer) | {"full_name": more})


def test_a_supplied_name_missing_a_part_of_the_record_releases_nothing(world: World,
                                                                        filer: dict[str, Any]) -> None:
    _nothing(world, _elements(filer) | {"full_name": f"{filer['given_name']} {filer['family_name']}"})


def test_a_different_city_releases_nothing(world: World, filer: dict[str, Any]) -> None:
    other = "Springfield" if filer["city"].upper() != "SPRINGFIELD" else "Shelbyville"
    _nothing(world, _elements(filer) | {"city": other})


def test_a_different_zip_releases_nothing(world: World, filer: dict[str, Any]) -> None:
    _nothing(world, _elements(filer) | {"zip": filer["zip"] + "1"})       # six digits: not this ZIP
    _nothing(world, _elements(filer) | {"zip": filer["zip"][:4] + str((int(filer["zip"][4]) + 1) % 10)})


def test_a_different_state_or_a_missing_address_part_releases_nothing(world: World,
                                                                       filer: dict[str, Any]) -> None:
    e = _elements(filer)
    _nothing(world, e | {"state": "NM" if filer["state"] != "NM" else "AZ"})
    req = _person_request(e) | {"address": f"{e['street']}, {e['state']} {e['zip']}"}     # no city
    out = services.tax_request(world.db, user="casey", purpose=PURPOSE, agreement=ENF, today=TODAY, **req)
    assert out.released is False and out.message == NOTHING


def test_a_return_outside_the_stated_periods_releases_nothing(world: World, filer: dict[str, Any]) -> None:
    year = filer["tax_year"]
    _nothing(world, _elements(filer) | {"taxable_periods": f"{year - 3}-{year - 1}, {year + 1}"})


@pytest.mark.parametrize("periods", ["last three years", "2024 and soon", "2025-2023", "20x4", "1850",
                                     "2023 2024"])
def test_periods_that_name_no_tax_year_are_refused_with_a_reason(world: World, filer: dict[str, Any],
                                                                 periods: str) -> None:
    before = _disclosures(world)
    with pytest.raises(PolicyDenied, match="taxable periods"):
        _ask(world, _elements(filer) | {"taxable_periods": periods})
    assert _disclosures(world) == before


def test_the_periods_parser() -> None:
    assert stated_periods("2024") == {2024}
    assert stated_periods("2021-2023") == {2021, 2022, 2023}
    assert stated_periods("TY2019, 2021 to 2022; 2024") == {2019, 2021, 2022, 2024}
    assert stated_periods("tax years 2019 and 2020") == {2019, 2020}
    for bad in ("", "  ", "recent", "2024, later", "2023-2021", "2024-", "1899", "2101", "2023 2024"):
        assert stated_periods(bad) == frozenset(), bad


def test_every_mismatch_and_an_unknown_tin_get_the_same_answer(world: World, filer: dict[str, Any]) -> None:
    e = _elements(filer)
    unknown = "9" + filer["tin"][1:] if filer["tin"][0] != "9" else "8" + filer["tin"][1:]
    answers = {_nothing(world, e | change).message for change in (
        {"tin": unknown}, {"tin": filer["tin"][:8]}, {"tin": filer["tin"][:8] + "X"},
        {"full_name": "Someone Else"}, {"street": "1 Nowhere Rd"}, {"city": "Elsewhere"}, {"zip": "00000"})}
    assert answers == {NOTHING}


# --- property: a single-character change to any supplied element releases nothing -----------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


def _editable(element: str, value: str) -> tuple[list[int], str]:
    """The positions a change may touch and the characters of the element's own kind. Street:
    the house number and the street name, not the USPS suffix (whose standard variants, e.g.
    AVENU for AVE, are the same street by design)."""
    if element in ("tin", "zip"):
        return [i for i, c in enumerate(value) if c.isdigit()], DIGITS
    if element == "street":
        words = value.split()
        end = len(value) - len(words[-1]) - 1
        return [i for i in range(end) if value[i] != " "], DIGITS + LETTERS
    return [i for i, c in enumerate(value) if c.isalpha()], LETTERS


@st.composite
def one_change(draw: st.DrawFn, elements: dict[str, str]) -> tuple[str, str]:
    element = draw(st.sampled_from(["full_name", "tin", "street", "city", "state", "zip"]))
    value = elements[element]
    positions, kind = _editable(element, value)
    i = draw(st.sampled_from(positions))
    how = draw(st.sampled_from(["replace", "delete", "insert_before", "insert_after"]))
    if how == "delete":
        return element, value[:i] + value[i + 1:]
    c = draw(st.sampled_from(kind))
    if how == "replace":
        hypothesis.assume(c != value[i].upper())
        return element, value[:i] + c + value[i + 1:]
    at = i if how == "insert_before" else i + 1
    return element, value[:at] + c + value[at:]


@pytest.fixture(scope="module")
def read_as_casey(world: World) -> Iterator[Any]:
    """The reader behind `services.tax_request`, run under the policy's decision for each request
    (no audit event: the property runs it many times; the gate adds only the audit)."""
    store = Store(world.db)
    reg = registry()
    casey, agreement = get_actor(store, "casey"), get_agreement(store, ENF)

    def read(person_request: dict[str, Any]) -> Any:
        d = decide(reg, casey, PURPOSE, agreement,
                   Request("tax.request", PURPOSE, ENF, person_request=person_request), TODAY)
        assert d.allow, d.reasons
        return release(store, reg, d, person_request)

    try:
        yield read
    finally:
        store.close()


def test_a_single_character_change_to_any_element_releases_nothing(read_as_casey: Any,
                                                                   filer: dict[str, Any]) -> None:
    exact = _elements(filer)
    assert read_as_casey(_person_request(exact)).released

    @hypothesis.settings(max_examples=100, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(one_change(exact))
    def check(change: tuple[str, str]) -> None:
        element, value = change
        out = read_as_casey(_person_request(exact | {element: value}))
        assert not out.released and out.fields == {} and out.message == NOTHING, (element, value)

    check()
