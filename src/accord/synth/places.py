"""Places: countries, cities with ZIP ranges, street names; addresses of households."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.errors import AccordError
from accord.synth.namebank import load_yaml, read_data
from accord.synth.textops import (
    BoolArray,
    IntArray,
    apply_typos,
    choice,
    digits,
    join,
    strings,
    take,
)


@dataclass(frozen=True)
class Places:
    country_codes: list[str]
    country_names: list[str]
    city_state: list[str]
    city_name: list[str]
    zip_first: IntArray
    zip_last: IntArray
    city_weight: IntArray
    street_bases: list[str]
    suffix_full: list[str]
    suffix_abbr: list[str]
    suffix_weights: list[float]

    def country(self, iso3: str) -> int:
        return self.country_codes.index(iso3)


@cache
def places() -> Places:
    countries = list(csv.DictReader(io.StringIO(read_data("countries.csv"))))
    cities = list(csv.DictReader(io.StringIO(read_data("places.csv"))))
    streets = load_yaml("streets.yaml")
    return Places(
        country_codes=[c["iso3"] for c in countries],
        country_names=[c["name"] for c in countries],
        city_state=[c["state"] for c in cities],
        city_name=[c["city"] for c in cities],
        zip_first=np.array([int(c["zip_first"]) for c in cities], dtype=np.int64),
        zip_last=np.array([int(c["zip_last"]) for c in cities], dtype=np.int64),
        city_weight=np.array([int(c["weight"]) for c in cities], dtype=np.int64),
        street_bases=[str(b) for b in streets["bases"]],
        suffix_full=list(streets["suffixes"]),
        suffix_abbr=list(streets["suffixes"].values()),
        suffix_weights=[float(w) for w in streets["suffix_weights"]],
    )


@dataclass
class Addresses:
    """A table of addresses (one row per address id)."""

    city: IntArray
    number: IntArray
    base: IntArray
    suffix: IntArray
    unit: IntArray      # apartment number, -1 for none
    zip: IntArray

    def __len__(self) -> int:
        return int(self.city.size)


def make_addresses(rng: np.random.Generator, n: int, state: str, focal_share: float
                   ) -> Addresses:
    p = places()
    focal = np.array([s == state for s in p.city_state])
    if not focal.any():
        raise AccordError(f"synth config: no cities for state {state!r} in places.csv")
    in_focal = rng.random(n) < focal_share
    w_focal = np.where(focal, p.city_weight, 0)
    w_other = np.where(focal, 0, p.city_weight)
    city = np.where(in_focal, choice(rng, n, w_focal.tolist()),
                    choice(rng, n, w_other.tolist()) if w_other.any()
                    else choice(rng, n, w_focal.tolist()))
    span = p.zip_last[city] - p.zip_first[city] + 1
    zipc = p.zip_first[city] + (rng.random(n) * span).astype(np.int64)
    number = np.where(rng.random(n) < 0.7, rng.integers(100, 9999, n), rng.integers(1, 99999, n))
    apartment = rng.random(n) < 0.3
    unit = np.where(apartment, rng.integers(1, 400, n), -1)
    return Addresses(
        city=city.astype(np.int64), number=number.astype(np.int64),
        base=rng.integers(0, len(p.street_bases), n).astype(np.int64),
        suffix=choice(rng, n, p.suffix_weights), unit=unit.astype(np.int64),
        zip=zipc.astype(np.int64))


@dataclass(frozen=True)
class AddressStyle:
    upper: bool = True
    abbreviate: bool = True
    unit_prefix: str = "APT"    # "APT", "#", "Apt", "Unit"


def render_street(a: Addresses, rows: IntArray, style: AddressStyle,
                  typo_mask: BoolArray | None = None,
                  rng: np.random.Generator | None = None) -> pa.Array:
    p = places()
    suffixes = p.suffix_abbr if style.abbreviate else p.suffix_full
    base = take(strings(p.street_bases), a.base[rows])
    suffix = take(strings(suffixes), a.suffix[rows])
    unit_no = a.unit[rows]
    has_unit = unit_no >= 0
    unit_text = pc.cast(pa.array(np.where(has_unit, unit_no, 0)), pa.string())
    sep = "" if style.unit_prefix == "#" else " "
    unit = pc.binary_join_element_wise(style.unit_prefix, unit_text, sep)
    unit = pc.if_else(pa.array(has_unit), unit, "")
    street = join([pc.cast(pa.array(a.number[rows]), pa.string()), base, suffix, unit], sep=" ")
    if typo_mask is not None and rng is not None:
        street = apply_typos(street, typo_mask, rng)
    return pc.utf8_upper(street) if style.upper else street


def render_city(a: Addresses, rows: IntArray, upper: bool) -> pa.Array:
    names = [c.upper() for c in places().city_name] if upper else places().city_name
    return take(strings(names), a.city[rows])


def render_state(a: Addresses, rows: IntArray) -> pa.Array:
    return take(strings(places().city_state), a.city[rows])


def render_zip(a: Addresses, rows: IntArray) -> pa.Array:
    return digits(a.zip[rows], 5)
