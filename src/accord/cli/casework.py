"""Casework commands: subject access, disputes, annotations, adverse-action findings."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli import readable
from accord.cli.common import (
    DEFAULT_DB,
    DbOption,
    Deferred,
    JsonOption,
    UserOption,
    app,
    as_json_out,
    command_group,
    fail,
    out,
    table,
    who,
)
from accord.cli.listing import (
    FormatOption,
    JsonAlwaysOption,
    OutOption,
    export_instead,
)
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord import services
    from accord.services.casework_results import AnnotationPageOut, CaseResult, DisputePageOut, FindingPageOut
else:
    services = Deferred("accord.services")   # imported when a command runs

dispute_app = command_group("Disputes and corrections (552a(d)).")
annotation_app = command_group("Status-changing annotations: evidence, reason code, two approvers.")
finding_app = command_group("Adverse-action workflow (552a(p)): verify, notice, contest, actionable.")
app.add_typer(dispute_app, name="dispute")
app.add_typer(annotation_app, name="annotation")
app.add_typer(finding_app, name="finding")


LimitOption = Annotated[int, typer.Option("--limit", help="Page size (1-100).")]
OffsetOption = Annotated[int, typer.Option("--offset", help="Items to skip.")]


def _more(page: DisputePageOut | AnnotationPageOut | FindingPageOut) -> None:
    if page.next_offset is not None:
        out.print(f"more: --offset {page.next_offset}", highlight=False)
    out.print(f"audit event {page.audit_event}", highlight=False)


def _show(result: CaseResult, as_json: bool) -> None:
    if as_json:
        as_json_out(result.plain())
        return
    out.print(readable.text(result.plain()), highlight=False, markup=False)


@app.command("subject-search")
def subject_search(
    name: Annotated[str | None, typer.Option("--name", help="Full name, as the request gives it.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    ssn: Annotated[str | None, typer.Option("--ssn", help="SSN.")] = None,
    a_number: Annotated[str | None, typer.Option("--a-number", help="A-number.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many candidates (1-20).")] = 10,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the person a subject-access request names (name and date of birth, or an SSN or
    A-number), under subject_access: person ids, scores and what agreed, no record values."""
    try:
        result = services.subject_search(db, user=who(user), name=name, dob=dob, ssn=ssn, a_number=a_number,
                                         limit=limit)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain())
        return
    if not result.candidates:
        out.print("no person matches these details (try another identifier from the letter)", highlight=False)
    else:
        table(["person", "score", "matched on"],
              [[c.person_id, f"{c.score:.2f}", "; ".join(f"{m.field}: {m.level}" for m in c.matched_on)]
               for c in result.candidates])
        out.print("next: accord subject-report --person ID --format html --out FILE", highlight=False)
    out.print(f"audit event {result.audit_event}", highlight=False)


REPORT_FORMATS = ("text", "html", "json")


def _report_path(path: Path) -> Path:
    """Where a report goes, checked before anything is read: a new file in a folder that exists."""
    if path.exists():
        raise AccordError(f"--out {path}: the file exists; name a new file (a report is never written over "
                          "another)")
    if not path.parent.is_dir():
        raise AccordError(f"--out {path}: the folder {path.parent} does not exist")
    return path


@app.command("subject-report")
def subject_report(
    person: Annotated[str, typer.Option("--person", help="Person id (see `accord subject-search`).")],
    include_law_enforcement: Annotated[bool, typer.Option(
        "--include-law-enforcement", help="Also list (b)(7) law-enforcement disclosures.")] = False,
    report_format: Annotated[str, typer.Option(
        "--format", help="text | html (prints well: the browser's Print or Save as PDF) | json.")] = "text",
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="Write the report to this new file (readable by its owner only) instead of "
                      "printing it.")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything held about a person, by source with provenance, and every disclosure: as text,
    a printable HTML document, or JSON."""
    from accord.cli import subject_print

    chosen = "json" if as_json else report_format
    try:
        if chosen not in REPORT_FORMATS:
            raise AccordError(f"--format {report_format!r}: choose one of {', '.join(REPORT_FORMATS)}")
        target = _report_path(out_path) if out_path is not None else None
        report = services.subject_report(db, person, user=who(user),
                                         include_law_enforcement=include_law_enforcement)
    except AccordError as e:
        fail(e)
    plain = report.plain()   # the printers take the report as JSON data
    if chosen == "json":
        text = json.dumps(plain, indent=2, ensure_ascii=False) + "\n"
    else:
        text = subject_print.as_html(plain) if chosen == "html" else subject_print.as_text(plain)
    if target is None:
        if chosen == "json":
            as_json_out(plain)
        else:
            out.print(text, highlight=False, markup=False, soft_wrap=True, end="")
        return
    try:
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                       encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        fail(AccordError(f"--out {target}: cannot write the report: {e.strerror or e} (audit event "
                         f"{report.audit_seq} records the read)"))
    out.print(f"subject-access report for {person} ({chosen}) written to {target} "
              f"(audit event {report.audit_seq})", highlight=False)


@dispute_app.command("file")
def dispute_file(
    person: Annotated[str, typer.Option("--person", help="Person id.")],
    source: Annotated[str, typer.Option("--source", help="Source of the disputed record.")],
    record_id: Annotated[str, typer.Option("--record", help="Record id.")],
    field: Annotated[str, typer.Option("--field", help="Disputed field.")],
    statement: Annotated[str, typer.Option("--statement", help="The person's statement.")],
    claimed: Annotated[str | None, typer.Option("--claimed", help="The value the person says is right.")]
    = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """File a dispute against a record's field on the person's behalf."""
    try:
        _show(services.file_dispute(db, person, user=who(user), source=source, record_id=record_id,
                                    field=field, claimed_value=claimed, statement=statement), as_json)
    except AccordError as e:
        fail(e)


@dispute_app.command("handle")
def dispute_handle(
    dispute_id: Annotated[str, typer.Argument(help="Dispute id.")],
    action: Annotated[str, typer.Option("--action", help="acknowledge | correct | deny | statement")],
    reasons: Annotated[str | None, typer.Option("--reasons", help="Reasons for a denial.")] = None,
    statement: Annotated[str | None, typer.Option("--statement", help="Statement of disagreement.")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Acknowledge, correct (a new record version; earlier recipients notified), deny, or file a statement."""
    try:
        _show(services.handle_dispute(db, dispute_id, user=who(user), action=action, reasons=reasons,
                                      statement=statement), as_json)
    except AccordError as e:
        fail(e)


@dispute_app.command("list")
def dispute_list(
    person: Annotated[str | None, typer.Option("--person", help="One person's disputes.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="filed | acknowledged | corrected | denied | "
                                              "open (not yet corrected or denied)")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those not acknowledged within 10 "
                                          "working days.")] = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List disputes, oldest first (privacy officer)."""
    try:
        result = services.list_disputes(db, user=who(user), person=person, state=state, overdue=overdue,
                                        limit=limit, offset=offset)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain())
        return
    table(["dispute", "person", "record", "field", "filed", "acknowledge by", "state", "overdue"],
          [[d.dispute_id, d.person_id, f"{d.source}/{d.record_id}", d.field, d.filed_on, d.acknowledge_by,
            d.state, "OVERDUE" if d.overdue else ""] for d in result.items])
    _more(result)


@dispute_app.command("show")
def dispute_show(
    dispute_id: Annotated[str, typer.Argument(help="Dispute id.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonAlwaysOption = True,
) -> None:
    """One dispute with its events (JSON)."""
    del as_json
    try:
        as_json_out(services.show_dispute(db, dispute_id, user=who(user)).plain())
    except AccordError as e:
        fail(e)


@annotation_app.command("request")
def annotation_request(
    source: Annotated[str, typer.Option("--source", help="Source of the record.")],
    record_id: Annotated[str, typer.Option("--record", help="Record id.")],
    kind: Annotated[str, typer.Option("--kind", help="e.g. death_record_erroneous.")],
    reason_code: Annotated[str, typer.Option("--reason-code", help="Reason code.")],
    evidence: Annotated[str, typer.Option("--evidence", help="The evidence (required).")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Request an annotation; it takes effect only after two other users approve it."""
    try:
        _show(services.request_annotation(db, user=who(user), source=source, record_id=record_id, kind=kind,
                                          reason_code=reason_code, evidence=evidence), as_json)
    except AccordError as e:
        fail(e)


@annotation_app.command("list")
def annotation_list(
    state: Annotated[str, typer.Option("--state", help="pending (waiting for an approver) | effective | "
                                       "rejected | all")] = "pending",
    person: Annotated[str | None, typer.Option("--person", help="One person's annotations.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """The annotations waiting for an approver, oldest first (or those in another state)."""
    try:
        result = services.list_annotations(db, user=who(user), state=None if state == "all" else state,
                                           person=person, limit=limit, offset=offset)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain())
        return
    table(["annotation", "person", "record", "kind", "reason code", "requested by", "requested", "state",
           "approved by"],
          [[a.annotation_id, a.person_id or readable.NONE, f"{a.source}/{a.record_id}", a.kind, a.reason_code,
            a.requested_by, a.requested_at[:10], a.state,
            ", ".join(x.user for x in a.approvals) or readable.NONE] for a in result.items],
          title=f"annotations ({state})")
    _more(result)


@annotation_app.command("show")
def annotation_show(
    annotation_id: Annotated[str, typer.Argument(help="Annotation id.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """One annotation: record, kind, reason code, evidence, approvals, rejections and what it still needs."""
    try:
        _show(services.show_annotation(db, annotation_id, user=who(user)), as_json)
    except AccordError as e:
        fail(e)


@annotation_app.command("approve")
def annotation_approve(
    annotation_id: Annotated[str, typer.Argument(help="Annotation id.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve an annotation (not the requester; two different approvers make it effective)."""
    try:
        _show(services.approve_annotation(db, annotation_id, user=who(user)), as_json)
    except AccordError as e:
        fail(e)


@annotation_app.command("reject")
def annotation_reject(
    annotation_id: Annotated[str, typer.Argument(help="Annotation id.")],
    reasons: Annotated[str, typer.Option("--reasons", help="Why it is rejected (required).")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject an annotation (not the requester); one rejection stops it for good."""
    try:
        _show(services.reject_annotation(db, annotation_id, user=who(user), reasons=reasons), as_json)
    except AccordError as e:
        fail(e)


@finding_app.command("list")
def finding_list(
    agreement: Annotated[str, typer.Option("--agreement", help="The agreement the findings were opened "
                                           "under (it names the purpose).")],
    state: Annotated[str | None, typer.Option("--state", help="pending | ready | actionable | suspended | "
                                              "contested | closed")] = None,
    person: Annotated[str | None, typer.Option("--person", help="One person's findings.")] = None,
    justification: Annotated[str | None, typer.Option("--justification", help="Why (audited).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", show_default=False,
                                              help="Page size (1-100; default 50).")] = None,
    offset: Annotated[int | None, typer.Option("--offset", show_default=False,
                                               help="Items to skip (default 0).")] = None,
    export: OutOption = None,
    fmt: FormatOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the findings of an agreement, oldest first, with where each stands (caseworker);
    --out exports all of them (every person accounted as disclosed)."""
    if export_instead(export, fmt, as_json, "findings", lambda to: services.export_findings(
            db, to, user=who(user), agreement=agreement, fmt=fmt, state=state, person=person,
            justification=justification), limit=limit, offset=offset):
        return
    try:
        result = services.list_findings(db, user=who(user), agreement=agreement, state=state, person=person,
                                        limit=50 if limit is None else limit, offset=offset or 0,
                                        justification=justification)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain())
        return
    table(["finding", "person", "opened", "by", "state", "verified by", "notice", "action from"],
          [[f.finding_id, f.person_id, f.opened_on, f.opened_by, f.state, ", ".join(f.verified_by),
            f.notice_on or "", f.actionable_from or ""] for f in result.items])
    _more(result)


@finding_app.command("open")
def finding_open(
    person: Annotated[str, typer.Option("--person", help="Person id.")],
    agreement: Annotated[str, typer.Option("--agreement", help="Matching agreement.")],
    record: Annotated[list[str], typer.Option("--record", help="source:record_id (repeatable).")],
    basis: Annotated[str, typer.Option("--basis", help="What the match found.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a finding on a match result (a work-list entry); nothing is actionable yet."""
    try:
        records = [tuple(r.split(":", 1)) for r in record]
        if any(len(r) != 2 for r in records):
            raise AccordError("--record must be source:record_id")
        _show(services.open_finding(db, person, user=who(user), agreement=agreement,
                                    records=[(r[0], r[1]) for r in records], basis=basis), as_json)
    except AccordError as e:
        fail(e)


@finding_app.command("step")
def finding_step(
    finding_id: Annotated[str, typer.Argument(help="Finding id.")],
    step: Annotated[str, typer.Option("--step", help="verify | notice | contest | decide-contest | "
                                      "actionable | state")],
    method: Annotated[str | None, typer.Option("--method", help="How verified / how notice was sent.")]
    = None,
    evidence: Annotated[str | None, typer.Option("--evidence", help="Verification evidence.")] = None,
    sent_on: Annotated[str | None, typer.Option("--sent-on", help="Notice date, YYYY-MM-DD.")] = None,
    contest: Annotated[str | None, typer.Option("--contest", help="The person's contest.")] = None,
    contest_id: Annotated[int | None, typer.Option("--contest-id", help="Contest to decide.")] = None,
    upheld: Annotated[bool, typer.Option("--upheld", help="The contest succeeds.")] = False,
    reasons: Annotated[str | None, typer.Option("--reasons", help="Reasons for the decision.")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """One step of the adverse-action workflow; refuses any step out of order."""
    try:
        _show(services.finding_step(db, finding_id, user=who(user), step=step, method=method,
                                    evidence=evidence, contest=contest,
                                    sent_on=date.fromisoformat(sent_on) if sent_on else None,
                                    contest_id=contest_id, upheld=upheld, reasons=reasons), as_json)
    except ValueError as e:
        fail(AccordError(f"--sent-on: {e}"))
    except AccordError as e:
        fail(e)
