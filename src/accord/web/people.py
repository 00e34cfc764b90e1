"""Person search and the person page: records by source on a timeline, attributes with
provenance and conflicts, links, status with its evidence chain, and the match explanation
as waterfall charts. Each is a governed read under the declared purpose and agreement.

Search is a POST so that names and dates of birth never appear in URLs, browser history or
server logs; the results page is not cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from accord import services
from accord.web import svg
from accord.web.core import ORIGIN, Problem, WebUser, attempt, config, current_user, posted_user, render

router = APIRouter(include_in_schema=False)
User = Annotated[WebUser, Depends(current_user)]
PostUser = Annotated[WebUser, Depends(posted_user)]
IDENTIFIERS = (("a_number", "A-number"), ("ssn", "SSN"), ("tin", "TIN (SSN or ITIN)"))


def _needs_purpose(user: WebUser) -> Problem | None:
    if user.context.purpose:
        return None
    return Problem("Declare a purpose", "Choose the purpose (and the agreement it needs) in the purpose bar "
                   "above; every person-data read is made, decided and audited under it.", status=400)


@router.get("/search", response_class=HTMLResponse)
def search_form(request: Request, user: User) -> Response:
    return render(request, "search.html", user, query={}, hits=None)


@router.post("/search", response_class=HTMLResponse)
def search(request: Request, user: PostUser, name: Annotated[str, Form()] = "",
           dob: Annotated[str, Form()] = "", id_kind: Annotated[str, Form()] = "a_number",
           id_value: Annotated[str, Form()] = "") -> Response:
    query = {"name": name.strip(), "dob": dob.strip(), "id_kind": id_kind, "id_value": id_value.strip()}
    problem = _needs_purpose(user)
    if problem is None and not (query["id_value"] or (query["name"] and query["dob"])):
        problem = Problem("Not searched", "Give a name and a date of birth, or an identifier.", status=400)
    ids = {k: (query["id_value"] or None) if id_kind == k else None for k, _ in IDENTIFIERS}
    if problem is None and query["id_value"] and id_kind not in ids:
        problem = Problem("Not searched", f"unknown identifier kind {id_kind!r}", status=400)
    hits = None
    if problem is None:
        ctx = user.context
        found, problem = attempt(lambda: services.search(
            config(request).db, user=user.user_id, purpose=ctx.purpose or "", agreement=ctx.agreement,
            name=query["name"] or None, dob=query["dob"] or None, ssn=ids["ssn"], a_number=ids["a_number"],
            tin=ids["tin"], justification=ctx.justification, origin=ORIGIN))
        hits = found
    return render(request, "search.html", user, status=problem.status if problem else 200, query=query,
                  hits=hits, problem=problem)


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person(request: Request, person_id: str, user: User) -> Response:
    problem = _needs_purpose(user)
    if problem is not None:
        return render(request, "person.html", user, status=problem.status, person_id=person_id,
                      problem=problem)
    db, ctx = config(request).db, user.context
    found, problem = attempt(lambda: services.person(
        db, person_id, user=user.user_id, purpose=ctx.purpose or "", agreement=ctx.agreement,
        justification=ctx.justification, origin=ORIGIN))
    if problem is not None or found is None:
        return render(request, "person.html", user, status=problem.status if problem else 500,
                      person_id=person_id, problem=problem)
    view = found.found_person
    if view is None:
        message = getattr(found.person, "message", None)
        return render(request, "person.html", user, status=404, person_id=person_id,
                      problem=Problem("Not found", message or "not found in this purpose's view", status=404))
    explained, explain_problem = attempt(lambda: services.explain(
        db, person_id, user=user.user_id, purpose=ctx.purpose or "", agreement=ctx.agreement,
        justification=ctx.justification, origin=ORIGIN))
    charts = []
    for link in explained.links if explained is not None else []:
        charts.append({"link": link, "svg": Markup(svg.link_waterfall(link))})
    timeline = svg.timeline(f"Records of {person_id} by source and date", view.sources)
    records = {(r.provenance.source, r.provenance.record_id): r for g in view.sources for r in g.records}
    return render(request, "person.html", user, person_id=person_id, view=view,
                  status_view=found.status, statements=found.statements_of_disagreement,
                  audit_event=found.audit_event, records=records,
                  timeline=Markup(timeline) if timeline else None, charts=charts,
                  explained=explained, explain_problem=explain_problem)
