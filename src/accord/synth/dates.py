"""Dates as int32 days since 1970-01-01; formatting through per-format vocabularies.

Every date in the world lies between ``FIRST_DAY`` and ``LAST_DAY``; a format is rendered
once for every day in that range and columns are built by ``take``, which is what makes
formatting millions of dates cheap. ``NA`` marks a missing date.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth.textops import BoolArray, IntArray

NA = -(2**31)
_EPOCH = date(1970, 1, 1)
FIRST_DAY = (date(1900, 1, 1) - _EPOCH).days
LAST_DAY = (date(2035, 12, 31) - _EPOCH).days
YEAR = 365.25

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(d: date) -> int:
    return (d - _EPOCH).days



@cache
def _vocab(fmt: str) -> pa.Array:
    days = pa.array(np.arange(FIRST_DAY, LAST_DAY + 1, dtype=np.int32), pa.int32())
    return pc.strftime(days.cast(pa.date32()).cast(pa.timestamp("s")), format=fmt)


def fmt(days: IntArray, fmt: str) -> pa.Array:
    """Dates as text in a strptime-compatible format; NA becomes null."""
    missing = days == NA
    clipped = np.clip(days, FIRST_DAY, LAST_DAY) - FIRST_DAY
    vocab = _vocab(fmt)
    if missing.any():
        return vocab.take(pa.array(np.where(missing, 0, clipped), mask=missing))
    return vocab.take(pa.array(clipped))


def ymd(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    d = np.where(days == NA, 0, days).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def from_ymd(y: IntArray, m: IntArray, d: IntArray) -> IntArray:
    months = (y - 1970) * 12 + (m - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + d - 1


def year_end(years: IntArray) -> IntArray:
    return from_ymd(years, np.full_like(years, 12), np.full_like(years, 31))



def swap_day_month(days: IntArray, mask: BoolArray) -> IntArray:
    """Day and month swapped where ``mask`` and both are <= 12 and differ (always valid)."""
    y, m, d = ymd(days)
    ok = mask & (d <= 12) & (d != m) & (days != NA)
    out = days.copy()
    out[ok] = from_ymd(y[ok], d[ok], m[ok])
    return out


def off_by_one(days: IntArray, mask: BoolArray, rng: np.random.Generator) -> IntArray:
    """One day either way, or one year either way (as 365 days), where ``mask``."""
    step = np.where(rng.random(days.size) < 0.5, 1, 365) * rng.choice([-1, 1], days.size)
    return np.where(mask & (days != NA), days + step, days)



def bad_date_text(days: IntArray, date_format: str, rng: np.random.Generator) -> list[str]:
    """Text that looks like the format but is not a date (Feb 30, month 13, placeholders)."""
    y, _, _ = ymd(days)
    out: list[str] = []
    kinds = rng.integers(0, 4, days.size)
    for year, kind in zip(y.tolist(), kinds.tolist(), strict=True):
        if kind == 0:
            out.append(_render(year, 2, 30, date_format))
        elif kind == 1:
            out.append(_render(year, 13, 1, date_format))
        elif kind == 2:
            out.append(_render(year, 4, 31, date_format))
        else:
            out.append("UNKNOWN" if "%b" in date_format or "-" in date_format else "00/00/0000")
    return out


def _render(y: int, m: int, d: int, date_format: str) -> str:
    month = _MONTHS[m - 1] if m <= 12 else "Xxx"
    return (date_format.replace("%Y", f"{y:04d}").replace("%m", f"{m:02d}")
            .replace("%d", f"{d:02d}").replace("%b", month))
