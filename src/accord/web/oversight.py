"""The oversight dashboard: the audit chain's state, audit events with filters, the
accounting of disclosures by agreement, and linkage quality with charts.

Each section is its own service call, decided and audited on its own: a privacy officer sees
the audit events and disclosures but is refused the chain check and quality figures, with the
gate's reasons in place of the section. No section shows person values.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from accord import services
from accord.web import svg
from accord.web.core import ORIGIN, WebUser, attempt, config, current_user, render, whole_number

router = APIRouter(include_in_schema=False)
User = Annotated[WebUser, Depends(current_user)]


def by_agreement(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Disclosures per agreement: rows, distinct persons, (b)(7) rows, rows with a statement."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get("agreement") or "(no agreement)", []).append(r)
    out = []
    for agreement, items in sorted(groups.items()):
        purposes = Counter(i["purpose"] for i in items)
        out.append({"agreement": agreement, "disclosures": len(items),
                    "persons": len({i["person_id"] for i in items}),
                    "law_enforcement": sum(1 for i in items if i.get("law_enforcement")),
                    "with_statement": sum(1 for i in items if i.get("statement_attached")),
                    "purposes": ", ".join(p for p, _ in purposes.most_common())})
    return out


def quality_charts(q: dict[str, Any]) -> list[Markup]:
    charts: list[str] = []
    by_source = (q.get("records") or {}).get("by_source") or {}
    if by_source:
        charts.append(svg.bars("Current records by source", [(k, float(v)) for k, v in by_source.items()]))
    sizes = (q.get("entities") or {}).get("size_distribution") or []
    if sizes:
        charts.append(svg.bars("Persons by number of records",
                               [(f"{s['size']} records", float(s["persons"])) for s in sizes]))
    links = (q.get("links") or {}).get("by_status") or {}
    if links:
        charts.append(svg.bars("Links by status",
                               [(k.replace("_", " "), float(v)) for k, v in links.items()]))
    return [Markup(c) for c in charts]


@router.get("/oversight", response_class=HTMLResponse)
def oversight(request: Request, user: User, by: str = "", action: str = "", person: str = "",
              agreement: str = "", limit: str = "50") -> Response:
    db = config(request).db
    shown = whole_number(limit, 50, 1, 200)
    filters: dict[str, Any] = {"by": by.strip(), "action": action.strip(), "person": person.strip(),
                               "agreement": agreement.strip(), "limit": shown}
    chain, chain_problem = attempt(lambda: services.audit_verify(db, user=user.user_id, origin=ORIGIN))
    events, events_problem = attempt(lambda: services.audit_events(
        db, user=user.user_id, filter_user=filters["by"] or None, action=filters["action"] or None,
        person=filters["person"] or None, limit=shown, origin=ORIGIN))
    disclosed, disclosures_problem = attempt(lambda: services.disclosures(
        db, user=user.user_id, agreement=filters["agreement"] or None, limit=1000, origin=ORIGIN))
    quality, quality_problem = attempt(lambda: services.quality(db, user=user.user_id, origin=ORIGIN))
    summary = by_agreement(disclosed or [])
    disclosure_chart = (Markup(svg.bars("Disclosures by agreement",
                                        [(s["agreement"], float(s["disclosures"])) for s in summary]))
                        if summary else None)
    return render(request, "oversight.html", user, filters=filters,
                  chain=chain.to_dict() if chain is not None else None, chain_problem=chain_problem,
                  events=events, events_problem=events_problem, disclosures=(disclosed or [])[:20],
                  disclosure_summary=summary, disclosure_chart=disclosure_chart,
                  disclosures_problem=disclosures_problem, quality=quality, quality_problem=quality_problem,
                  quality_charts=quality_charts(quality) if quality else [])
