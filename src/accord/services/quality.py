"""Linkage quality without a truth file: counts an oversight body, a privacy officer or a data
engineer can watch between evaluations (``accord evaluate`` needs ground truth; this does not).

Aggregate counts only, behind ``quality.read``; the counting itself is the resolve stage's
(``accord.resolve.quality``): services hold no SQL.
"""

from __future__ import annotations

from datetime import date

from accord.resolve.quality import report
from accord.services.context import governed
from accord.services.results import QualityOut
from accord.store.target import StoreTarget


def quality(db: StoreTarget, *, user: str, origin: str = "cli", today: date | None = None) -> QualityOut:
    """Records, persons and their size distribution, links by status (with the review queue),
    identifiers switched off as shared, the latest run's settings and model, and quarantined
    rows by reason. No person values, ids or identifiers."""
    with governed(db, origin=origin, today=today) as gate, gate.act(user, "quality.read") as act:
        out = report(gate.store)
        links = out["links"]["by_status"]
        act.outcome = (f"{out['records']['current']} records, {out['entities']['persons']} persons, "
                       f"{links.get('review', 0)} links in review")
        return QualityOut.model_validate({"as_of": gate.today.isoformat()} | out)
