"""Vectorised text building on Arrow arrays, and the few per-string edits (typos, folding).

Columns are built from small vocabularies (``vocab.take(indices)``) and fixed-width digit
matrices, so no Python code runs per row except on the small subsets that get a typo.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL_FOLD = str.maketrans({
    "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "ß": "ss", "Æ": "AE",
    "æ": "ae", "Œ": "OE", "œ": "oe", "ı": "i", "Þ": "Th", "þ": "th",
})
# Keyboard neighbours on a QWERTY layout (typos substitute a neighbour).
_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv",
    "g": "fhtb", "h": "gjyn", "j": "hkum", "k": "jli", "l": "ko", "z": "ax", "x": "zsc",
    "c": "xdv", "v": "cfb", "b": "vgn", "n": "bhm", "m": "nj",
}


@cache
def fold_ascii(s: str) -> str:
    """Strip diacritics: 'Nguyễn' -> 'Nguyen', 'Peña' -> 'Pena', 'Đặng' -> 'Dang'."""
    decomposed = unicodedata.normalize("NFKD", s.translate(_SPECIAL_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def fold_latin1(s: str) -> str:
    """Keep what Latin-1 can encode ('José' stays), fold the rest ('Nguyễn' -> 'Nguyen')."""
    try:
        s.encode("latin-1")
        return s
    except UnicodeEncodeError:
        return "".join(c if _latin1(c) else fold_ascii(c) for c in s)


def _latin1(c: str) -> bool:
    try:
        c.encode("latin-1")
        return True
    except UnicodeEncodeError:
        return False


def typo(s: str, kind: int, pos_u: float, pick_u: float) -> str:
    """One keyboard typo in ``s``: 0 substitute a neighbour key, 1 drop a letter,
    2 double a letter, 3 swap two adjacent letters. Deterministic given the draws."""
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    if len(letters) < 2:
        return s
    i = letters[min(int(pos_u * len(letters)), len(letters) - 1)]
    c = s[i]
    if kind == 0:
        near = _NEIGHBOURS.get(c.lower())
        if not near:
            return s[:i] + s[i] + s[i:]
        r = near[min(int(pick_u * len(near)), len(near) - 1)]
        return s[:i] + (r.upper() if c.isupper() else r) + s[i + 1:]
    if kind == 1:
        return s[:i] + s[i + 1:]
    if kind == 2:
        return s[:i] + c + s[i:]
    if i + 1 < len(s) and s[i + 1].isalpha():
        a = i
    elif i > 0 and s[i - 1].isalpha():
        a = i - 1
    else:
        return s[:i] + c + s[i:]
    return s[:a] + s[a + 1] + s[a] + s[a + 2:]


def apply_typos(arr: pa.Array, mask: BoolArray, rng: np.random.Generator) -> pa.Array:
    """Put one typo into each non-null value of ``arr`` where ``mask`` is set."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return arr
    values = arr.take(pa.array(idx)).to_pylist()
    kinds = rng.integers(0, 4, idx.size)
    us = rng.random((idx.size, 2))
    new = [None if v is None else typo(v, int(k), float(u[0]), float(u[1]))
           for v, k, u in zip(values, kinds, us, strict=True)]
    return replace_at(arr, idx, pa.array(new, pa.string()))


def replace_at(arr: pa.Array, idx: IntArray, values: pa.Array) -> pa.Array:
    """``arr`` with positions ``idx`` (ascending) replaced by ``values``."""
    if idx.size == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    order = np.argsort(idx, kind="stable")
    return pc.replace_with_mask(arr, pa.array(mask), values.take(pa.array(order)))


def digits(values: IntArray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal text of a fixed width."""
    return from_matrix(digit_matrix(values, width))


def from_matrix(mat: npt.NDArray[np.uint8]) -> pa.Array:
    """Rows of an (n, w) byte matrix as an Arrow string array (ASCII)."""
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    data = np.ascontiguousarray(mat).tobytes()
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def digit_matrix(values: IntArray, width: int) -> npt.NDArray[np.uint8]:
    """(n, width) ASCII digits of non-negative integers, zero-padded (4 digits per pass)."""
    mat = np.empty((values.size, width), dtype=np.uint8)
    v = values.astype(np.int64, copy=True)
    k = width
    while k > 0:
        step = min(4, k)
        chunk = _FOUR_DIGITS[v % 10_000].view(np.uint8).reshape(-1, 4)
        mat[:, k - step:k] = chunk[:, 4 - step:]
        v //= 10_000
        k -= step
    return mat


# "0000".."9999" as 4 ASCII bytes packed in one uint32 (byte order kept by view()).
_FOUR_DIGITS = np.frombuffer(b"".join(f"{i:04d}".encode() for i in range(10_000)),
                             dtype=np.uint32).copy()


def with_dashes(mat: npt.NDArray[np.uint8], groups: Sequence[int]) -> pa.Array:
    """Digit matrix written as groups joined by '-', e.g. (3, 2, 4) for an SSN."""
    parts = []
    start = 0
    dash = np.full((mat.shape[0], 1), ord("-"), dtype=np.uint8)
    for i, g in enumerate(groups):
        if i:
            parts.append(dash)
        parts.append(mat[:, start:start + g])
        start += g
    return from_matrix(np.hstack(parts))


def join(parts: Sequence[Any], sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays/scalars; nulls count as empty."""
    arrays = [p if isinstance(p, str) else pc.fill_null(p, "") for p in parts]
    out = pc.binary_join_element_wise(*arrays, sep)
    if sep == " ":  # a missing part leaves no stray spaces
        out = pc.utf8_trim_whitespace(pc.replace_substring(out, "  ", " "))
    return out


def set_null(arr: pa.Array, mask: BoolArray) -> pa.Array:
    """``arr`` with nulls where ``mask`` is set."""
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)



def strings(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), pa.string())


def take(vocab: pa.Array, idx: IntArray) -> pa.Array:
    """vocab[idx], null where idx < 0."""
    neg = idx < 0
    if neg.any():
        return vocab.take(pa.array(np.where(neg, 0, idx), mask=neg))
    return vocab.take(pa.array(idx))


def choice(rng: np.random.Generator, n: int, weights: Sequence[float]) -> IntArray:
    """n draws of category indices with the given relative weights."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)
