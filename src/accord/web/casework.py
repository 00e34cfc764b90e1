"""Casework pages: the work list of an agreement, adverse-action findings (552a(p)) worked one
step at a time, and the privacy officer's subject-access report with disputes (552a(d)).

Every step is a service call through the gate; the service refuses a step out of order or
by the wrong person, and the page shows why. Successful POSTs redirect (303) to the page
that shows the new state, so a reload never repeats a step.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from accord import services
from accord.services.casework_results import SubjectRecordOut, SubjectReportOut
from accord.sources.fields import catalogue
from accord.web.core import (
    ORIGIN,
    RECENT_COOKIE,
    Problem,
    WebUser,
    agreements_for,
    attempt,
    config,
    current_user,
    posted_user,
    render,
    see_other,
    set_cookie,
    whole_number,
)

router = APIRouter(include_in_schema=False)
User = Annotated[WebUser, Depends(current_user)]
PostUser = Annotated[WebUser, Depends(posted_user)]
PAGE = 25
STEPS = ("verify", "notice", "contest", "decide-contest", "actionable")
DISPUTE_ACTIONS = ("acknowledge", "correct", "deny", "statement")


FINDING_ID = re.compile(r"F-\d{1,12}")
MAX_RECENT = 20


def _recent(request: Request, user: WebUser) -> list[str]:
    """The findings this session opened or worked in, newest first. They are kept in a cookie
    of the session (any worker process answers the next page alike); one left by another
    session of this browser is ignored."""
    session, _, ids = request.cookies.get(RECENT_COOKIE, "").partition(".")
    if session != user.session:
        return []
    return [f for f in ids.split(",") if FINDING_ID.fullmatch(f)][:MAX_RECENT]


def _remember(request: Request, response: Response, user: WebUser, finding_id: str) -> Response:
    if FINDING_ID.fullmatch(finding_id):
        recent = [finding_id, *(f for f in _recent(request, user) if f != finding_id)][:MAX_RECENT]
        set_cookie(response, request, RECENT_COOKIE, f"{user.session}.{','.join(recent)}")
    return response


FINDING_STATES = ("pending", "ready", "actionable", "suspended", "contested", "closed")
DISPUTE_STATES = ("open", "filed", "acknowledged", "corrected", "denied")


@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request, user: User, agreement: str = "", offset: str = "0", state: str = "",
             findings_offset: str = "0") -> Response:
    choices = [a for a in agreements_for(request, user) if a["purpose"] in dict(user.purposes)]
    chosen = agreement.strip() or user.context.agreement or ""
    start = whole_number(offset, 0, 0, 10**8)
    recent = _recent(request, user)
    if not chosen:   # nothing is read until the user names the agreement
        return render(request, "worklist.html", user, chosen="", choices=choices, wl=None, recent=recent,
                      findings=None, finding_states=FINDING_STATES, state="")
    db, ctx = config(request).db, user.context
    wl, problem = attempt(lambda: services.worklist(
        db, user=user.user_id, agreement=chosen, limit=PAGE, offset=start,
        justification=ctx.justification, origin=ORIGIN))
    # The findings opened under the agreement: a second read, decided and accounted on its own
    # (not tried when the gate refused the work list: it would refuse them for the same reasons).
    shown_state = state if state in FINDING_STATES else ""
    f_start = whole_number(findings_offset, 0, 0, 10**8)
    found, findings_problem = None, None
    if problem is None or problem.status != 403:
        found, findings_problem = attempt(lambda: services.list_findings(
            db, user=user.user_id, agreement=chosen, state=shown_state or None, limit=PAGE, offset=f_start,
            justification=ctx.justification, origin=ORIGIN))
    status = problem.status if problem else findings_problem.status if findings_problem else 200
    return render(request, "worklist.html", user, status=status, chosen=chosen, choices=choices, wl=wl,
                  problem=problem, offset=start, page=PAGE, recent=recent, findings=found,
                  findings_problem=findings_problem, finding_states=FINDING_STATES, state=shown_state,
                  findings_offset=f_start)


@router.post("/findings", response_class=HTMLResponse)
def open_finding(request: Request, user: PostUser, person_id: Annotated[str, Form()] = "",
                 agreement: Annotated[str, Form()] = "", basis: Annotated[str, Form()] = "",
                 record: Annotated[list[str] | None, Form()] = None) -> Response:
    records = [tuple(r.split(":", 1)) for r in record or [] if ":" in r]
    state, problem = attempt(lambda: services.open_finding(
        config(request).db, person_id, user=user.user_id, agreement=agreement,
        records=[(s, r) for s, r in records], basis=basis, origin=ORIGIN))
    if problem is not None or state is None:
        return render(request, "finding.html", user, status=problem.status if problem else 500, state=None,
                      finding_id=None, problem=problem, today=config(request).clock().date())
    return _remember(request, see_other(f"/findings/{quote(state.finding_id)}?done=open"), user,
                     state.finding_id)


@router.get("/findings", response_class=HTMLResponse)
def find_finding(request: Request, user: User, id: str = "") -> Response:
    del user
    return see_other(f"/findings/{quote(id.strip())}" if id.strip() else "/worklist")


def _finding_page(request: Request, user: WebUser, finding_id: str, *, problem: Problem | None = None,
                  done: str = "") -> Response:
    state, read_problem = attempt(lambda: services.finding_step(
        config(request).db, finding_id, user=user.user_id, step="state", origin=ORIGIN))
    shown = problem or read_problem
    page = render(request, "finding.html", user, status=shown.status if shown else 200, state=state,
                  finding_id=finding_id, problem=shown, done=done, today=config(request).clock().date())
    return page if state is None else _remember(request, page, user, finding_id)


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding(request: Request, finding_id: str, user: User, done: str = "") -> Response:
    return _finding_page(request, user, finding_id, done=done if done in (*STEPS, "open") else "")


@router.post("/findings/{finding_id}/step", response_class=HTMLResponse)
def finding_step(request: Request, finding_id: str, user: PostUser, step: Annotated[str, Form()] = "",
                 method: Annotated[str, Form()] = "", evidence: Annotated[str, Form()] = "",
                 sent_on: Annotated[str, Form()] = "", contest: Annotated[str, Form()] = "",
                 contest_id: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                 reasons: Annotated[str, Form()] = "") -> Response:
    if step not in STEPS:
        return _finding_page(request, user, finding_id,
                             problem=Problem("Not done", f"unknown step {step!r} ({', '.join(STEPS)})"))
    try:
        sent = date.fromisoformat(sent_on) if sent_on else None
        contest_no = int(contest_id) if contest_id else None
    except ValueError as e:
        return _finding_page(request, user, finding_id, problem=Problem("Not done", f"invalid input: {e}"))
    if step == "decide-contest" and outcome not in ("upheld", "rejected"):
        return _finding_page(request, user, finding_id,
                             problem=Problem("Not done", "say whether the contest is upheld or rejected"))
    _, problem = attempt(lambda: services.finding_step(
        config(request).db, finding_id, user=user.user_id, step=step, method=method or None,
        evidence=evidence or None, sent_on=sent, contest=contest or None, contest_id=contest_no,
        upheld=outcome == "upheld", reasons=reasons or None, origin=ORIGIN))
    if problem is not None:
        return _finding_page(request, user, finding_id, problem=problem)
    return see_other(f"/findings/{quote(finding_id)}?done={step}")


@router.get("/subjects", response_class=HTMLResponse)
def subjects(request: Request, user: User, person: str = "") -> Response:
    if person.strip():
        return see_other(f"/subjects/{quote(person.strip())}")
    return render(request, "subject.html", user, report=None, person_id="")


SUBJECT_DETAILS = ("name", "dob", "ssn", "a_number")


@router.post("/subjects/search", response_class=HTMLResponse)
def subject_search(request: Request, user: PostUser, name: Annotated[str, Form()] = "",
                   dob: Annotated[str, Form()] = "", ssn: Annotated[str, Form()] = "",
                   a_number: Annotated[str, Form()] = "") -> Response:
    """Find the person a subject-access request names (a POST: the details a letter gives never
    appear in URLs, browser history or server logs)."""
    asked = {k: v.strip()[:200] for k, v in zip(SUBJECT_DETAILS, (name, dob, ssn, a_number), strict=True)}
    found, problem = attempt(lambda: services.subject_search(
        config(request).db, user=user.user_id, name=asked["name"] or None, dob=asked["dob"] or None,
        ssn=asked["ssn"] or None, a_number=asked["a_number"] or None, origin=ORIGIN))
    return render(request, "subject.html", user, status=problem.status if problem else 200, report=None,
                  person_id="", asked=asked, found=found, problem=problem)


def _fields(report: SubjectReportOut | None) -> list[str]:
    held = {f for versions in (report.records if report else {}).values() for r in versions for f in r.fields}
    return [f for f in catalogue() if f in held]


def _current_records(report: SubjectReportOut | None) -> list[SubjectRecordOut]:
    """The newest version of each record in the report (the one a dispute is filed against)."""
    newest: dict[tuple[str, str], SubjectRecordOut] = {}
    for versions in (report.records if report else {}).values():
        for r in versions:
            key = (r.source, r.record_id)
            if key not in newest or r.version > newest[key].version:
                newest[key] = r
    return list(newest.values())


def _subject_page(request: Request, user: WebUser, person_id: str, *, problem: Problem | None = None,
                  done: str = "") -> Response:
    report, read_problem = attempt(lambda: services.subject_report(
        config(request).db, person_id, user=user.user_id, origin=ORIGIN))
    shown = problem or read_problem
    return render(request, "subject.html", user, status=shown.status if shown else 200, report=report,
                  person_id=person_id, problem=shown, fields=_fields(report),
                  record_choices=_current_records(report),
                  done=done if done in (*DISPUTE_ACTIONS, "filed") else "")


@router.get("/subjects/{person_id}", response_class=HTMLResponse)
def subject(request: Request, person_id: str, user: User, done: str = "") -> Response:
    return _subject_page(request, user, person_id, done=done)


@router.get("/disputes", response_class=HTMLResponse)
def disputes(request: Request, user: User, state: str = "open", overdue: str = "", person: str = "",
             offset: str = "0") -> Response:
    """Disputes to work, oldest first: open ones by default, or overdue for acknowledgement."""
    chosen = state if state in DISPUTE_STATES else ""
    who, late = person.strip()[:64], overdue == "1"
    start = whole_number(offset, 0, 0, 10**8)
    found, problem = attempt(lambda: services.list_disputes(
        config(request).db, user=user.user_id, state=chosen or None, overdue=late, person=who or None,
        limit=PAGE, offset=start, origin=ORIGIN))
    shown = {"state": chosen, "overdue": late, "person": who}
    return render(request, "disputes.html", user, status=problem.status if problem else 200, found=found,
                  problem=problem, filters=shown, states=DISPUTE_STATES, offset=start, page=PAGE)


@router.post("/disputes", response_class=HTMLResponse)
def file_dispute(request: Request, user: PostUser, person_id: Annotated[str, Form()] = "",
                 record: Annotated[str, Form()] = "", field: Annotated[str, Form()] = "",
                 claimed_value: Annotated[str, Form()] = "",
                 statement: Annotated[str, Form()] = "") -> Response:
    source, _, record_id = record.partition(":")
    _, problem = attempt(lambda: services.file_dispute(
        config(request).db, person_id, user=user.user_id, source=source, record_id=record_id, field=field,
        claimed_value=claimed_value or None, statement=statement, origin=ORIGIN))
    if problem is not None:
        return _subject_page(request, user, person_id, problem=problem)
    return see_other(f"/subjects/{quote(person_id)}?done=filed")


@router.post("/disputes/{dispute_id}", response_class=HTMLResponse)
def handle_dispute(request: Request, dispute_id: str, user: PostUser, person_id: Annotated[str, Form()] = "",
                   action: Annotated[str, Form()] = "", reasons: Annotated[str, Form()] = "",
                   statement: Annotated[str, Form()] = "") -> Response:
    _, problem = attempt(lambda: services.handle_dispute(
        config(request).db, dispute_id, user=user.user_id, action=action, reasons=reasons or None,
        statement=statement or None, origin=ORIGIN))
    if problem is not None:
        return _subject_page(request, user, person_id, problem=problem)
    return see_other(f"/subjects/{quote(person_id)}?done={quote(action)}")
