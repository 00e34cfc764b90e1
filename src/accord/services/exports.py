"""Audited exports: a list its reader's role may already read, written to a file (CSV or JSON
Lines) instead of printed — never a way around the gate.

Each export is one governed operation of the same kind as the listing it exports: the work
list and the findings are person-data reads (``Gate.read``: purpose, agreement, policy, and the
accounting of disclosures names every person exported), the accounting of disclosures and the
audit log are oversight actions (``Gate.act``). Its audit event records that an export was
made, the file, its format and its row count (``details["export"]``; a read's nature says
"export" in the accounting too). An export writes the whole selection, not a page. The target
is checked before anything is read, and the file is written only after the event has
committed: a caller gets no file the log does not record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from accord.governance import audit as audit_log
from accord.governance.agreements import get_agreement
from accord.governance.gate import Activity
from accord.governance.ledger import disclosure_page
from accord.governance.policy import Request
from accord.services import export_files
from accord.services.casework import read_findings
from accord.services.context import governed
from accord.services.people_results import WorklistEntryOut
from accord.services.results import AuditEventOut, DisclosureOut, ExportOut
from accord.store.target import StoreTarget

BATCH = 1000       # rows read at a time from the audit log and the accounting of disclosures
EVERYTHING = 1 << 40     # no page: the whole selection (still a number the SQL LIMIT takes)

WORKLIST_COLUMNS = ["person_id", "name", "dob", "a_number", "status", "order_date", "link_confidence",
                    "verification", "records", "evidence"]
FINDING_COLUMNS = ["finding_id", "person_id", "agreement", "purpose", "opened_on", "opened_by", "basis",
                   "records", "state", "verified_by", "notice_on", "actionable_from", "needs",
                   "contests"]
DISCLOSURE_COLUMNS = list(DisclosureOut.model_fields)
AUDIT_COLUMNS = list(AuditEventOut.model_fields)


def _seq(act: Activity) -> int:
    assert act.audit_seq is not None     # the action's event committed with it
    return act.audit_seq


def _recorded(to: export_files.Target, rows: int) -> dict[str, Any]:
    return {"export": to.describe() | {"rows": rows}}


def export_worklist(db: StoreTarget, out: Path, *, user: str, agreement: str, fmt: str | None = None,
                    justification: str | None = None, origin: str = "cli", today: date | None = None,
                    progress: Callable[[str, float], None] | None = None) -> ExportOut:
    """The agreement's whole work list to a file: one governed read, every person on it
    accounted as disclosed (nature "work list export")."""
    from accord.worklists.worklist import build

    to = export_files.target(out, fmt)
    with governed(db, origin=origin, today=today) as gate:
        a = get_agreement(gate.store, agreement)
        purpose = a.purpose if a else ""
        g = gate.read(user, Request("worklist.read", purpose, agreement, justification),
                      lambda d: build(gate.store, gate.registry, d, gate.today, EVERYTHING, 0, progress),
                      nature=f"work list export ({to.format})",
                      details=lambda wl: _recorded(to, len(wl.entries)))
        entries = [WorklistEntryOut.model_validate(e).plain() for e in g.value.to_dict()["entries"]]
    export_files.write(to, WORKLIST_COLUMNS, entries)
    return ExportOut(file=str(to.path), format=to.format, rows=len(entries), audit_event=g.audit_seq)


def export_findings(db: StoreTarget, out: Path, *, user: str, agreement: str, fmt: str | None = None,
                    state: str | None = None, person: str | None = None, justification: str | None = None,
                    origin: str = "cli", today: date | None = None) -> ExportOut:
    """Every finding of an agreement (in one state, of one person) to a file: one governed read
    under the agreement, each person accounted as disclosed (nature "adverse-action findings export")."""
    to = export_files.target(out, fmt)
    with governed(db, origin=origin, today=today) as gate:
        g, _ = read_findings(gate, user, agreement=agreement, purpose=None, state=state, person=person,
                             limit=EVERYTHING, offset=0, justification=justification,
                             nature=f"adverse-action findings export ({to.format})",
                             details=lambda cases: _recorded(to, len(cases.items)))
    export_files.write(to, FINDING_COLUMNS, [f.plain() for f in g.value.items])
    return ExportOut(file=str(to.path), format=to.format, rows=len(g.value.items), audit_event=g.audit_seq)


def export_disclosures(db: StoreTarget, out: Path, *, user: str, fmt: str | None = None,
                       person: str | None = None, agreement: str | None = None, as_of: int | None = None,
                       origin: str = "cli") -> ExportOut:
    """The accounting of disclosures (of one person, under one agreement, up to an audit seq)
    to a file, newest first: one ``disclosures.read`` action recording the export."""
    to = export_files.target(out, fmt)
    with governed(db, origin=origin) as gate, gate.act(
            user, "disclosures.read", details={"person": person, "agreement": agreement,
                                               "as_of": as_of}) as act:
        rows: list[dict[str, Any]] = []
        while True:
            page = disclosure_page(gate.store, person=person, agreement=agreement, as_of=as_of,
                                   limit=BATCH, offset=len(rows))
            rows += [DisclosureOut.model_validate(r).plain() for r in page]
            if len(page) < BATCH:
                break
        act.details |= _recorded(to, len(rows))
        act.outcome = f"exported {len(rows)} disclosures ({to.format})"
    export_files.write(to, DISCLOSURE_COLUMNS, rows)
    return ExportOut(file=str(to.path), format=to.format, rows=len(rows), audit_event=_seq(act))


def export_audit_events(db: StoreTarget, out: Path, *, user: str, fmt: str | None = None,
                        filter_user: str | None = None, action: str | None = None, person: str | None = None,
                        before: int | None = None, origin: str = "cli") -> ExportOut:
    """Audit events (filtered; older than ``before``) to a file, newest first: one
    ``audit.read`` action recording the export (its own event is not in the file)."""
    to = export_files.target(out, fmt)
    with governed(db, origin=origin) as gate, gate.act(
            user, "audit.read", details={"user": filter_user, "action": action, "person": person,
                                         "before": before}) as act:
        rows: list[dict[str, Any]] = []
        cursor = before
        while True:
            page = audit_log.events(gate.store, user=filter_user, action=action, person=person,
                                    before=cursor, limit=BATCH)
            rows += [AuditEventOut.model_validate(e).plain() for e in page]
            if len(page) < BATCH:
                break
            cursor = int(page[-1]["seq"])
        act.details |= _recorded(to, len(rows))
        act.outcome = f"exported {len(rows)} audit events ({to.format})"
    export_files.write(to, AUDIT_COLUMNS, rows)
    return ExportOut(file=str(to.path), format=to.format, rows=len(rows), audit_event=_seq(act))
