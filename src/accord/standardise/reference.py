"""Reference tables shipped with the standardise stage as data files (``data/``).

Every table is read once per process and cached. Files are UTF-8; lines starting with ``#``
are comments (each file's header says what it holds and where it comes from). Values are
upper-case and already folded, so they compare directly with ``names.fold_sql`` output.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


def data_text(name: str) -> str:
    return resources.files("accord.standardise").joinpath("data", name).read_text("utf-8")


def _lines(name: str) -> list[list[str]]:
    """Whitespace-separated fields of the non-comment, non-blank lines of a .txt table."""
    out = []
    for line in data_text(name).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line.split())
    return out


def csv_rows(name: str) -> list[dict[str, str]]:
    """Rows of a .csv table (comment lines skipped; the first other line is the header)."""
    lines = [ln for ln in data_text(name).splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines))


@dataclass(frozen=True)
class Particles:
    drop: tuple[str, ...]
    attach: tuple[str, ...]


@cache
def particles() -> Particles:
    rows = _lines("particles.txt")
    bad = [r for r in rows if len(r) != 2 or r[1] not in ("drop", "attach")]
    if bad:
        raise ValueError(f"particles.txt: bad lines {bad}")
    return Particles(tuple(r[0] for r in rows if r[1] == "drop"),
                     tuple(r[0] for r in rows if r[1] == "attach"))


@dataclass(frozen=True)
class Suffixes:
    standard: dict[str, str | None]  # variant -> JR/SR/II... ; None for professional (dropped)
    in_names: tuple[str, ...]  # variants also recognised as the last token of a name


@cache
def suffixes() -> Suffixes:
    standard: dict[str, str | None] = {}
    in_names = []
    for variant, std, where in _lines("suffixes.txt"):
        standard[variant] = None if std == "-" else std
        if where == "any":
            in_names.append(variant)
    return Suffixes(standard, tuple(in_names))


@cache
def titles() -> tuple[str, ...]:
    return tuple(r[0] for r in _lines("titles.txt"))


@cache
def placeholder_names() -> tuple[str, ...]:
    return tuple(" ".join(r) for r in _lines("placeholder_names.txt"))


@cache
def street_suffixes() -> dict[str, str]:
    return {r["variant"]: r["standard"] for r in csv_rows("street_suffixes.csv")}


@cache
def address_terms() -> dict[str, dict[str, str]]:
    """kind -> {variant: standard} for directional, unit, unit_alone and word."""
    out: dict[str, dict[str, str]] = {}
    for r in csv_rows("address_terms.csv"):
        out.setdefault(r["kind"], {})[r["variant"]] = r["standard"]
    return out


@cache
def transliteration() -> dict[str, str]:
    return {r["letter"]: r["latin"] for r in csv_rows("transliteration.csv")}
