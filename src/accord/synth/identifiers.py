"""Identifiers with real structure: SSN, ITIN, A-number, passport numbers, record ids.

Numbers are held as int64 and written as zero-padded text, so leading zeros survive.
- SSN: area 001-899 except 666, group 01-99, serial 0001-9999.
- ITIN: 9XX-YY-ZZZZ with YY in 50-65, 70-88, 90-92 or 94-99.
- A-number: 8 or 9 significant digits (10,000,000 - 249,999,999), written with 9 digits.
- Passport: 6-9 letters and digits, by issuing country.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth.textops import BoolArray, IntArray, digit_matrix, from_matrix, with_dashes

_AREAS = np.array([a for a in range(1, 900) if a != 666], dtype=np.int64)
_ITIN_GROUPS = np.array([g for g in range(50, 100) if g <= 65 or 70 <= g <= 88
                         or 90 <= g <= 92 or g >= 94], dtype=np.int64)
SSN_SPACE = _AREAS.size * 99 * 9999
ITIN_SPACE = 100 * _ITIN_GROUPS.size * 9999
A_NUMBER_LOW, A_NUMBER_HIGH = 10_000_000, 250_000_000


def unique(rng: np.random.Generator, n: int, space: int) -> IntArray:
    return rng.choice(space, size=n, replace=False).astype(np.int64)


def ssns(rng: np.random.Generator, n: int) -> IntArray:
    """n distinct valid SSNs as 9-digit integers."""
    k = unique(rng, n, SSN_SPACE)
    area = _AREAS[k // (99 * 9999)]
    group = (k // 9999) % 99 + 1
    serial = k % 9999 + 1
    return area * 1_000_000 + group * 10_000 + serial


def itins(rng: np.random.Generator, n: int) -> IntArray:
    k = unique(rng, n, ITIN_SPACE)
    area = 900 + k // (_ITIN_GROUPS.size * 9999)
    group = _ITIN_GROUPS[(k // 9999) % _ITIN_GROUPS.size]
    serial = k % 9999 + 1
    return area * 1_000_000 + group * 10_000 + serial


def a_numbers(rng: np.random.Generator, n: int) -> IntArray:
    return A_NUMBER_LOW + unique(rng, n, A_NUMBER_HIGH - A_NUMBER_LOW)


def valid_ssn(v: IntArray) -> BoolArray:
    area, group, serial = v // 1_000_000, (v // 10_000) % 100, v % 10_000
    ok = (area > 0) & (area != 666) & (area < 900) & (group > 0) & (serial > 0) & (v >= 0)
    return np.asarray(ok, dtype=bool)


def valid_itin(v: IntArray) -> BoolArray:
    area, group, serial = v // 1_000_000, (v // 10_000) % 100, v % 10_000
    return (area >= 900) & (area <= 999) & np.isin(group, _ITIN_GROUPS) & (serial >= 0)


def valid_tin(v: IntArray) -> BoolArray:
    return np.where(v // 100_000_000 == 9, valid_itin(v), valid_ssn(v))


def transpose(v: IntArray, mask: BoolArray, rng: np.random.Generator, width: int = 9) -> IntArray:
    """Swap two adjacent digits where ``mask`` (only where the digits differ)."""
    mat = digit_matrix(v, width).astype(np.int64) - 48
    pos = rng.integers(0, width - 1, v.size)
    rows = np.flatnonzero(mask)
    p = pos[rows]
    a, b = mat[rows, p].copy(), mat[rows, p + 1].copy()
    mat[rows, p], mat[rows, p + 1] = b, a
    weights = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return np.asarray(mat @ weights, dtype=np.int64)


def mistype(v: IntArray, mask: BoolArray, rng: np.random.Generator, width: int = 9) -> IntArray:
    """Change one digit to another where ``mask``."""
    pos = rng.integers(0, width, v.size)
    place = 10 ** (width - 1 - pos)
    digit = (v // place) % 10
    new = (digit + rng.integers(1, 10, v.size)) % 10
    return np.where(mask, v + (new - digit) * place, v)


def corrupt(v: IntArray, transpose_rate: float, mistype_rate: float,
            rng: np.random.Generator, valid: BoolArray | None = None) -> IntArray:
    """Keying errors that keep the number structurally valid (invalid results are undone,
    so structural failures come only from the documented bad-row rate)."""
    u = rng.random(v.size)
    t = u < transpose_rate
    m = (u >= transpose_rate) & (u < transpose_rate + mistype_rate)
    out = mistype(transpose(v, t, rng), m, rng)
    # A mistyped SSN must still look like an SSN (and an ITIN like an ITIN).
    same_kind = np.where(v // 100_000_000 == 9, valid_itin(out), valid_ssn(out))
    ok = same_kind if valid is None else valid
    return np.where(ok & (v >= 0), out, v)


def ssn_text(v: IntArray, dashed: bool) -> pa.Array:
    """SSN/ITIN/TIN text: '123-45-6789' or '123456789'; negative values become null."""
    mat = digit_matrix(np.where(v < 0, 0, v), 9)
    arr = with_dashes(mat, (3, 2, 4)) if dashed else from_matrix(mat)
    return _nulls(arr, v < 0)


def last4_text(v: IntArray) -> pa.Array:
    return _nulls(from_matrix(digit_matrix(np.where(v < 0, 0, v) % 10_000, 4)), v < 0)


def a_number_text(v: IntArray, style: str) -> pa.Array:
    """A-number as 'A012345678' (prefix), '012-345-678' (dashed), 'A12345678' (short: no
    leading zero) or '012345678' (plain); negative values become null."""
    safe = np.where(v < 0, A_NUMBER_LOW, v)
    mat = digit_matrix(safe, 9)
    if style == "dashed":
        arr = with_dashes(mat, (3, 3, 3))
    elif style == "plain":
        arr = from_matrix(mat)
    else:
        a = np.full((v.size, 1), ord("A"), dtype=np.uint8)
        arr = from_matrix(np.hstack([a, mat]))
        if style == "short":
            short = from_matrix(np.hstack([a, mat[:, 1:]]))
            arr = pc.if_else(pa.array(safe < 100_000_000), short, arr)
    return _nulls(arr, v < 0)


def passports(rng: np.random.Generator, n: int, letters: IntArray) -> pa.Array:
    """Distinct 9-character passport numbers: ``letters`` leading letters (0, 1 or 2)
    then digits."""
    k = unique(rng, n, 90_000_000) + 10_000_000
    mat = digit_matrix(k, 8)
    first = (rng.integers(0, 26, n) + 65).astype(np.uint8)
    second = (rng.integers(0, 26, n) + 65).astype(np.uint8)
    nine = (rng.integers(1, 10, n) + 48).astype(np.uint8)
    out = np.empty((n, 9), dtype=np.uint8)
    out[:, 0] = np.where(letters == 0, nine, first)
    out[:, 1:] = mat
    two = letters == 2
    out[two, 1] = second[two]
    return from_matrix(out)


def _nulls(arr: pa.Array, mask: BoolArray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)


def spread_ids(rng: np.random.Generator, n: int, width: int) -> IntArray:
    """n distinct numbers of ``width`` digits (no leading zero), in random order."""
    low = 10 ** (width - 1)
    return np.asarray(low + unique(rng, n, 9 * low), dtype=np.int64)
