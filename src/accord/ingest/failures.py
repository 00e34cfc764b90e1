"""The failure-rate rule: a batch in which one field fails its rule on more than a set share of
the rows read is refused, and loads nothing.

A wrong date format or a shifted column fails nearly every row of one field; loading the few
rows that pass (and quarantining or flagging the rest) hides the mistake behind a
reconciliation that adds up. So ingest counts, per field, the rows whose value fails its rule —
fact fields (which quarantine the row) and identity fields (which flag it: ``records.flags``)
alike — plus rows without a record id (``record_id``) and rows that cannot be parsed at all
(``(row)``), and refuses the batch when any of them exceeds ``max_rate`` of the rows read with
at least one bad row. The default (``DEFAULT_MAX_FAILURE_RATE``, 20%) can be raised per batch
(``accord ingest --accept-failure-rate``); 1 accepts any rate.

Only counts and reasons are reported, never values: they are person data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import AccordError, SourceFileError
from accord.sources.fields import catalogue

DEFAULT_MAX_FAILURE_RATE = 0.2
RECORD_ID = "record_id"
UNPARSEABLE = "(row)"


@dataclass(frozen=True)
class FieldFailures:
    """The rows of a batch one field failed on: how many, the most common reason, and what
    ingest does with such a row (``quarantine``, ``flag``, or ``unparseable``: quarantined as
    raw text)."""

    field: str
    failed: int
    reason: str
    outcome: str


class FailureRateError(SourceFileError):
    """A batch refused by the failure-rate rule; nothing was loaded."""

    def __init__(self, path: str, over: Sequence[FieldFailures], rows: int, max_rate: float) -> None:
        self.over, self.rows, self.max_rate = list(over), rows, max_rate
        super().__init__(path, refusal(self.over, rows, max_rate))


def check_rate(max_rate: float) -> float:
    """``max_rate`` if it is a share of rows (0 to 1), else a clear error."""
    if not 0 <= max_rate <= 1 or math.isnan(max_rate):
        raise AccordError(f"--accept-failure-rate {max_rate}: give a share of rows from 0 to 1 "
                          f"(0.2 is 20%, the default; 1 accepts any rate)")
    return max_rate


def outcome_of(field: str) -> str:
    """What ingest does with a row whose ``field`` fails its rule."""
    if field == UNPARSEABLE:
        return "unparseable"
    f = catalogue().get(field)
    return "flag" if f is not None and f.kind == "identity" else "quarantine"


def staged_failures_sql(stage: str = "_stage") -> str:
    """Per field, the staged rows whose value failed its rule and the most common reason (the
    staging query's ``errors`` lists every failing field of a row, identity fields too)."""
    return (f"SELECT e.field, count(*) AS failed, mode(e.reason) AS reason "
            f"FROM (SELECT unnest(errors) AS e FROM {stage}) GROUP BY e.field")


def failures(staged: Iterable[tuple[Any, Any, Any]], unparseable: Sequence[Any]) -> list[FieldFailures]:
    """The batch's failures: ``staged`` rows of :func:`staged_failures_sql` and the
    ``unparseable`` rows (``BadRow``), most failed first."""
    out = [FieldFailures(str(f), int(n), str(r), outcome_of(str(f))) for f, n, r in staged]
    if unparseable:
        reason = Counter(str(b.reason) for b in unparseable).most_common(1)[0][0]
        out.append(FieldFailures(UNPARSEABLE, len(unparseable), reason, "unparseable"))
    return sorted(out, key=lambda f: (-f.failed, f.field))


def over_limit(found: Iterable[FieldFailures], rows: int, max_rate: float) -> list[FieldFailures]:
    """The fields that fail on more than ``max_rate`` of ``rows`` (at least one bad row)."""
    return [f for f in found if f.failed > 0 and rows > 0 and f.failed > max_rate * rows]


def share(n: int, rows: int) -> str:
    """``n`` of ``rows`` as a percentage for people (never 0% or 100% unless exactly)."""
    if rows <= 0:
        return "0%"
    p = 100 * n / rows
    if 0 < p < 1:
        return "<1%"
    if 99 < p < 100:
        return ">99%"
    return f"{round(p)}%"


def needed_rate(failed: int, rows: int) -> float:
    """The smallest two-decimal rate that accepts ``failed`` of ``rows``."""
    return min(1.0, math.ceil(100 * failed / rows) / 100) if rows else 1.0


def describe(f: FieldFailures, rows: int) -> str:
    what = "rows cannot be parsed" if f.field == UNPARSEABLE else f"rows fail {f.field}"
    then = {"flag": "flagged", "quarantine": "quarantined", "unparseable": "quarantined"}[f.outcome]
    return f"{f.failed:,} of {rows:,} {what} ({share(f.failed, rows)}, {then}: {f.reason})"


def refusal(over: Sequence[FieldFailures], rows: int, max_rate: float) -> str:
    worst = max(f.failed for f in over)
    return (f"refused: {'; '.join(describe(f, rows) for f in over)}; a batch may fail one field on at "
            f"most {max_rate * 100:g}% of its rows, or the mapping (a date format, a "
            f"column) or the file is not as declared. Check it with `accord mapping check MAPPING "
            f"FILE`; to load it as it is, give --accept-failure-rate {needed_rate(worst, rows):g}")
