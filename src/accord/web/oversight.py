"""The oversight dashboard: the audit chain's state, audit events with filters, the
accounting of disclosures by agreement, and linkage quality with charts.

Each section is its own service call, decided and audited on its own: a privacy officer sees
the audit events and disclosures but is refused the chain check and quality figures, with the
gate's reasons in place of the section. No section shows person values.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from accord import services
from accord.services.results import DisclosureOut, QualityOut
from accord.web import svg
from accord.web.core import ORIGIN, WebUser, attempt, config, current_user, render, whole_number

router = APIRouter(include_in_schema=False)
User = Annotated[WebUser, Depends(current_user)]


def quality_charts(q: QualityOut) -> list[Markup]:
    charts: list[str] = []
    if q.records.by_source:
        charts.append(svg.bars("Current records by source",
                               [(k, float(v)) for k, v in q.records.by_source.items()]))
    if q.entities.size_distribution:
        sizes = q.entities.size_distribution
        charts.append(svg.bars("Persons by number of records",
                               [(f"{s.size} records", float(s.persons)) for s in sizes]))
    if q.links.by_status:
        charts.append(svg.bars("Links by status",
                               [(k.replace("_", " "), float(v)) for k, v in q.links.by_status.items()]))
    return [Markup(c) for c in charts]


DISCLOSURES_PAGE = 25


@router.get("/oversight", response_class=HTMLResponse)
def oversight(request: Request, user: User, by: str = "", action: str = "", person: str = "",
              agreement: str = "", limit: str = "50", before: str = "", disclosures_offset: str = "0",
              as_of: str = "") -> Response:
    db = config(request).db
    shown = whole_number(limit, 50, 1, 200)
    filters: dict[str, Any] = {"by": by.strip(), "action": action.strip(), "person": person.strip(),
                               "agreement": agreement.strip(), "limit": shown}
    older_than = whole_number(before, 0, 0, 2**62) or None         # events: a seq cursor, newest first
    d_start = whole_number(disclosures_offset, 0, 0, 10**9)
    pinned = whole_number(as_of, 0, 0, 2**62) or None
    chain, chain_problem = attempt(lambda: services.audit_verify(db, user=user.user_id, origin=ORIGIN))
    events, events_problem = attempt(lambda: services.audit_events(
        db, user=user.user_id, filter_user=filters["by"] or None, action=filters["action"] or None,
        person=filters["person"] or None, limit=shown + 1, before=older_than, origin=ORIGIN))
    summary, disclosures_problem = attempt(lambda: services.disclosure_summary(
        db, user=user.user_id, agreement=filters["agreement"] or None, origin=ORIGIN))
    disclosed: list[DisclosureOut] | None = None
    if summary is not None:
        pinned = pinned or summary.as_of
        disclosed, disclosures_problem = attempt(lambda: services.disclosures(
            db, user=user.user_id, agreement=filters["agreement"] or None, limit=DISCLOSURES_PAGE + 1,
            offset=d_start, as_of=pinned, origin=ORIGIN))
    quality, quality_problem = attempt(lambda: services.quality(db, user=user.user_id, origin=ORIGIN))
    by_agreement = summary.by_agreement if summary is not None else []
    disclosure_chart = (Markup(svg.bars("Disclosures by agreement",
                                        [(s.agreement, float(s.disclosures)) for s in by_agreement]))
                        if by_agreement else None)
    more_events = events is not None and len(events) > shown
    rows = (events or [])[:shown]
    more_disclosures = disclosed is not None and len(disclosed) > DISCLOSURES_PAGE
    return render(request, "oversight.html", user, filters=filters,
                  chain=chain.to_dict() if chain is not None else None, chain_problem=chain_problem,
                  events=rows if events is not None else None, events_problem=events_problem,
                  events_before=older_than, next_before=rows[-1].seq if more_events and rows else None,
                  disclosures=(disclosed or [])[:DISCLOSURES_PAGE], disclosure_summary=by_agreement,
                  disclosures_offset=d_start, disclosures_page=DISCLOSURES_PAGE, as_of=pinned,
                  more_disclosures=more_disclosures, disclosure_chart=disclosure_chart,
                  disclosures_problem=disclosures_problem, quality=quality, quality_problem=quality_problem,
                  quality_charts=quality_charts(quality) if quality else [])
