"""Identifiers follow real structure (outside the deliberately bad rows)."""

from __future__ import annotations

import re

import numpy as np

from accord.synth import identifiers
from accord.synth.textops import digits

from .synth_helpers import WrittenWorld

SSN = re.compile(r"^(?!000|666|9)\d{3}-?(?!00)\d{2}-?(?!0000)\d{4}$")
ITIN = re.compile(r"^9\d{2}-?(5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])-?\d{4}$")
A_NUMBER = re.compile(r"^A?\d{7,9}$")
PASSPORT = re.compile(r"^[A-Z0-9]{6,9}$")


def _mapped_values(world: WrittenWorld, field: str) -> dict[str, list[str]]:
    """Non-empty values of a canonical field per source, without the bad rows."""
    bad = {(b["source"], b["record_id"]) for b in world.bad_rows}
    out: dict[str, list[str]] = {}
    for source, ex in world.extracts.items():
        spec = ex.mapping.fields.get(field)
        if spec is None:
            continue
        ids = ex.record_ids()
        out[source] = [v for v, rid in zip(ex.column(spec.column), ids, strict=True)
                       if v and (source, rid) not in bad]
    return out


def test_ssns_are_structurally_valid(csv_world: WrittenWorld) -> None:
    values = _mapped_values(csv_world, "ssn")
    assert set(values) == {"ssa", "uscis", "medicaid"}
    for source, ssns in values.items():
        bad = [s for s in ssns if not SSN.match(s)]
        assert not bad, f"{source}: {bad[:5]}"
    assert all(len(s) == 9 for s in values["ssa"])            # written without dashes
    assert all(len(s) == 11 for s in values["medicaid"])      # written with dashes
    assert any(s.startswith("0") for s in values["ssa"]), "leading zeros survive"


def test_tins_are_ssns_or_itins(csv_world: WrittenWorld) -> None:
    tins = _mapped_values(csv_world, "tin")["irs"]
    assert all(SSN.match(t) or ITIN.match(t) for t in tins)
    assert identifiers.valid_tin(np.array([int(t) for t in tins])).all()
    assert any(ITIN.match(t) for t in tins), "some filers use an ITIN"


def test_other_identifiers(csv_world: WrittenWorld) -> None:
    for source, values in _mapped_values(csv_world, "a_number").items():
        stripped = [v.replace("-", "") for v in values]
        assert all(A_NUMBER.match(v) for v in stripped), source
        assert all(int(v.lstrip("A")) > 0 for v in stripped)
    court = _mapped_values(csv_world, "a_number")["court"]
    assert all(re.fullmatch(r"\d{3}-\d{3}-\d{3}", v) for v in court)
    assert all(v.startswith("A") for v in _mapped_values(csv_world, "a_number")["uscis"])
    passports = _mapped_values(csv_world, "passport_number")["cbp"]
    assert passports and all(PASSPORT.match(v) for v in passports)
    last4 = _mapped_values(csv_world, "ssn_last4")["voter"]
    assert last4 and all(re.fullmatch(r"\d{4}", v) and v != "0000" for v in last4)
    zips = [z for vs in _mapped_values(csv_world, "zip").values() for z in vs]
    assert zips and all(re.fullmatch(r"\d{5}", z) for z in zips)


def test_person_identifiers(csv_world: WrittenWorld) -> None:
    ssns = [p["ssn"] for p in csv_world.persons if p["ssn"]]
    itins = [p["itin"] for p in csv_world.persons if p["itin"]]
    a_numbers = [p["a_number"] for p in csv_world.persons if p["a_number"]]
    assert len(set(ssns)) == len(ssns) and all(SSN.match(s) for s in ssns)
    assert itins and len(set(itins)) == len(itins) and all(ITIN.match(i) for i in itins)
    assert len(set(a_numbers)) == len(a_numbers)
    assert all(re.fullmatch(r"\d{9}", a) for a in a_numbers)


def test_generators_and_keying_errors_keep_structure() -> None:
    rng = np.random.default_rng(0)
    ssn = identifiers.ssns(rng, 50_000)
    itin = identifiers.itins(rng, 50_000)
    assert identifiers.valid_ssn(ssn).all() and identifiers.valid_itin(itin).all()
    assert not identifiers.valid_ssn(np.array([0, 666_12_3456, 900_12_3456, 123_00_4567,
                                               123_45_0000])).any()
    corrupted = identifiers.corrupt(ssn, 0.5, 0.3, rng)
    assert identifiers.valid_ssn(corrupted).all()
    assert (corrupted != ssn).mean() > 0.5
    text = identifiers.ssn_text(np.array([12_34_5678, -1]), dashed=True).to_pylist()
    assert text == ["012-34-5678", None]
    assert digits(np.array([7, 123]), 4).to_pylist() == ["0007", "0123"]
    a = identifiers.a_number_text(np.array([12_345_678, 212_345_678]), "short").to_pylist()
    assert a == ["A12345678", "A212345678"]
    assert identifiers.a_number_text(np.array([12_345_678]), "dashed").to_pylist() == [
        "012-345-678"]
