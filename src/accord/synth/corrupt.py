"""Errors in records: keying errors that keep values valid (dates, SSNs, blanks), and a
small documented share of structurally bad rows that ingest must quarantine.

A bad row keeps its record id (so it is in truth.csv) and is logged with the column, the
bad value and the kind of fault in ``bad_rows.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from accord.synth import dates, identifiers
from accord.synth.config import SynthConfig
from accord.synth.textops import BoolArray, IntArray, replace_at

BAD_KINDS = ("date", "ssn", "code", "zip", "a_number", "tax_year", "last4", "passport")


@dataclass(frozen=True)
class BadKind:
    column: str
    kind: str                  # one of BAD_KINDS
    date_format: str = ""      # for 'date'
    dashed: bool = False       # for 'ssn'
    code: str = "??"           # for 'code': a value outside the column's values map


@dataclass(frozen=True)
class BadRow:
    source: str
    row: int                   # 0-based position in the data file
    column: str
    value: str
    kind: str


def dob_errors(dob: IntArray, cfg: SynthConfig, rng: np.random.Generator,
               mult: float = 1.0) -> IntArray:
    """Day/month swaps and off-by-one dates at the configured rates (valid dates only)."""
    u = rng.random(dob.size)
    swapped = dates.swap_day_month(dob, u < cfg.dob_swap_rate * mult)
    off = (u >= cfg.dob_swap_rate * mult) & (
        u < (cfg.dob_swap_rate + cfg.dob_off_by_one_rate) * mult)
    out = dates.off_by_one(swapped, off, rng)
    # An error may not move a birth date past as_of (it would be a date in the future).
    return np.where(out > dates.day(cfg.as_of), dob, out)


def ssn_errors(ssn: IntArray, cfg: SynthConfig, rng: np.random.Generator,
               mult: float = 1.0) -> IntArray:
    """Transposed or mistyped digits; results that would be structurally invalid are undone."""
    return identifiers.corrupt(ssn, cfg.ssn_transposition_rate * mult,
                               cfg.ssn_digit_error_rate * mult, rng)


def blanks(n: int, rate: float, rng: np.random.Generator) -> BoolArray:
    return rng.random(n) < rate


def inject_bad_rows(source: str, columns: dict[str, pa.Array], kinds: list[BadKind],
                    rate: float, rng: np.random.Generator) -> list[BadRow]:
    """Replace one value in about ``rate`` of rows with a structurally bad one (in place)."""
    if not kinds or not columns:
        return []
    n = len(next(iter(columns.values())))
    rows = np.flatnonzero(rng.random(n) < rate)
    which = rng.integers(0, len(kinds), rows.size)
    log: list[BadRow] = []
    for k, kind in enumerate(kinds):
        sel = rows[which == k]
        if sel.size == 0:
            continue
        col = columns[kind.column]
        values = _bad_values(kind, col, sel, rng)
        if pa.types.is_integer(col.type):
            new = pa.array([int(v) for v in values], col.type)
        else:
            new = pa.array(values, pa.string())
        columns[kind.column] = replace_at(col, sel, new)
        log += [BadRow(source, int(r), kind.column, v, kind.kind)
                for r, v in zip(sel.tolist(), values, strict=True)]
    log.sort(key=lambda b: b.row)
    return log


def _bad_values(kind: BadKind, col: pa.Array, rows: IntArray,
                rng: np.random.Generator) -> list[str]:
    m = rows.size
    if kind.kind == "date":
        years = rng.integers(1940, 2020, m)
        base = dates.from_ymd(years, np.ones(m, dtype=np.int64), np.ones(m, dtype=np.int64))
        return dates.bad_date_text(base, kind.date_format, rng)
    if kind.kind == "ssn":
        # Area 000 is never issued (also not a valid ITIN).
        v = rng.integers(1, 99, m) * 10_000 + rng.integers(1, 9999, m)
        text = identifiers.ssn_text(v.astype(np.int64), kind.dashed)
        return [str(s) for s in text.to_pylist()]
    if kind.kind == "code":
        return [kind.code] * m
    if kind.kind == "zip":
        # A ZIP that lost its leading digit(s): 4 digits.
        return [f"{z:04d}" for z in rng.integers(1000, 9999, m).tolist()]
    if kind.kind == "a_number":
        return [f"A{z}" for z in rng.integers(100, 99999, m).tolist()]
    if kind.kind == "tax_year":
        return [str(y) for y in rng.choice([202, 203, 1024, 20222], m).tolist()]
    if kind.kind == "last4":
        return ["0000"] * m
    if kind.kind == "passport":
        # Punctuation inside a document number.
        return [f"P-{z}" for z in rng.integers(1000, 99999, m).tolist()]
    raise ValueError(f"unknown bad-row kind {kind.kind!r}")

