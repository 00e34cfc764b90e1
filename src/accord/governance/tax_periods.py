"""The taxable periods a per-person request for tax return information states (26 U.S.C.
6103(i)(2)), read alike by the policy decision (``accord.governance.policy``) and the release
(``accord.governance.tax_request``)."""

from __future__ import annotations

import re
from typing import Any

FIRST_YEAR, LAST_YEAR = 1900, 2100      # canonical_fields.yaml: tax_year
_SEPARATORS = re.compile(r"\s*(?:[,;&/]|\band\b)\s*", re.I)
_PERIOD = re.compile(r"(?:TY\s*)?(\d{4})(?:\s*(?:-|–|—|\bto\b|\bthrough\b|\bthru\b)\s*(?:TY\s*)?(\d{4}))?",
                     re.I)
_LEAD = re.compile(r"^\s*(?:tax\s+years?|taxable\s+(?:years?|periods?)|years?)\s*:?\s*", re.I)


def stated_periods(text: Any) -> frozenset[int]:
    """The tax years a request's taxable periods name: years (2024), ranges (2021-2023, 2021
    to 2023) and lists of them (2021, 2023; 2019 and 2020). Empty when any part is not one of
    these, a range runs backwards or a year is outside 1900-2100: a request must state its
    periods plainly, and one that does not is refused rather than guessed at."""
    body = _LEAD.sub("", str(text or ""), count=1).strip()
    if not body:
        return frozenset()
    years: set[int] = set()
    for piece in _SEPARATORS.split(body):
        m = _PERIOD.fullmatch(piece.strip())
        if m is None:
            return frozenset()
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        if not FIRST_YEAR <= first <= last <= LAST_YEAR:
            return frozenset()
        years.update(range(first, last + 1))
    return frozenset(years)


def periods_text(years: frozenset[int]) -> str:
    """2021, 2023-2025: runs of consecutive years as ranges."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
