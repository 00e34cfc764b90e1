"""Working days for the casework time limits: weekends and federal holidays do not count.

The agency acknowledges a request to amend within 10 working days (5 U.S.C. 552a(d)(2)(A)).
Holidays are the legal public holidays of 5 U.S.C. 6103 on their observed days.
"""

from __future__ import annotations

from datetime import date, timedelta


def federal_holidays(year: int) -> frozenset[date]:
    """Legal public holidays (5 U.S.C. 6103) as observed in ``year`` (Saturday -> Friday,
    Sunday -> Monday)."""
    def nth(month: int, weekday: int, n: int) -> date:
        if n > 0:
            first = date(year, month, 1)
            return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)

    def observed(d: date) -> date:
        return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d

    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2021:
        fixed.append(date(year, 6, 19))
    days = {observed(d) for d in fixed}
    if date(year + 1, 1, 1).weekday() == 5:  # next New Year's Day observed on 31 December
        days.add(date(year, 12, 31))
    days |= {nth(1, 0, 3), nth(2, 0, 3), nth(5, 0, -1), nth(9, 0, 1), nth(10, 0, 2), nth(11, 3, 4)}
    return frozenset(d for d in days if d.year == year)


def working_days_after(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (weekends and federal holidays skipped)."""
    d, count = start, 0
    while count < n:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in federal_holidays(d.year):
            count += 1
    return d
