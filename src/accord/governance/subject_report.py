"""The subject-access report: everything held about one person, and everyone it went to.

5 U.S.C. 552a(d)(1) (access) and (c)(3) (the accounting of disclosures, on request). The
report is one governed read (``subject.report`` under ``subject_access``, which covers exactly
one person's own records) and holds:

* every version of every record linked to the person, by source, with its provenance (file,
  SHA-256, ingested at, batch, row; corrections show as ``correction:<dispute id>``);
* every disclosure of the person from the accounting (date, nature, purpose, agreement,
  recipient and address), except disclosures for law-enforcement activity ((b)(7)) unless
  ``include_law_enforcement``. (c)(3) lets the agency withhold their accounting; giving their
  *number* would tell the person that an investigation exists, so neither the rows nor a count
  are given: a fixed sentence says such disclosures are never listed, on every report, whether
  or not there are any. Notifications sent to law-enforcement recipients and findings under a
  law-enforcement purpose that the person has not yet been given notice of are withheld the same way;
* disputes, statements of disagreement, notifications to earlier recipients, annotations
  (in force or not) and adverse-action findings about the person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from accord.casework.annotations import annotations_of
from accord.casework.disputes import disputes_of
from accord.casework.findings import finding_state, findings_of
from accord.casework.notifications import notifications_of
from accord.casework.reads import statements_of
from accord.errors import NotFound
from accord.governance.gate import Gate
from accord.governance.policy import Decision, Request
from accord.governance.scope import require_issued, scoped_records_sql
from accord.ingest.reads import provenance_sql
from accord.sources.fields import catalogue

LAW_ENFORCEMENT_NOTE = (
    "Disclosures made for civil or criminal law-enforcement activity (5 U.S.C. 552a(b)(7)) are not "
    "listed in this accounting, as 5 U.S.C. 552a(c)(3) allows. This sentence appears on every report "
    "and does not mean that any such disclosure was made.")


class SubjectNotFound(NotFound):
    """No person is known under the id asked about: no record, disclosure or casework is held
    under it."""

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        super().__init__(f"no person {person_id!r}: no record, disclosure or casework is held under this id "
                         "(find the person's id with `accord subject-search`)")


_PROVENANCE = ("file_name", "file_sha256", "ingested_at", "batch_id", "row_number")


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, tuples as lists, recursively."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class SubjectReport:
    person_id: str
    generated_on: date
    records: dict[str, list[dict[str, Any]]]      # source -> every version, oldest first
    disclosures: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    statements: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    law_enforcement_listed: bool
    notes: list[str] = field(default_factory=list)
    audit_seq: int | None = None

    @property
    def empty(self) -> bool:
        """Nothing at all is held under the person id: it names no one."""
        return not any((self.records, self.disclosures, self.disputes, self.statements, self.notifications,
                        self.annotations, self.findings))

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        records = sorted({(r["source"], r["record_id"]) for versions in self.records.values()
                          for r in versions})
        return ([self.person_id] if records else []), records

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain({k: v for k, v in self.__dict__.items()})
        out["counts"] = {"records": len(self.touched()[1]),
                         "versions": sum(len(v) for v in self.records.values()),
                         "disclosures_listed": len(self.disclosures)}
        return out


def subject_report(gate: Gate, user_id: str, person_id: str, *,
                   include_law_enforcement: bool = False) -> SubjectReport:
    """Everything held about ``person_id`` and its accounting of disclosures (a governed read).
    Raises :class:`SubjectNotFound` when nothing at all is held under the id (the read is
    audited as having disclosed nothing): an empty report would read as "we hold nothing about
    you" for an id that may simply be mistyped."""
    store, registry = gate.store, gate.registry
    today = gate.today

    def reader(decision: Decision) -> SubjectReport:
        assert decision.scope is not None  # an allowed subject.report decision always has a scope
        require_issued(decision.scope)
        scoped = scoped_records_sql(registry, decision.scope, table="records")
        found = store.read_arrow(
            f"SELECT s.*, p.file_name, p.file_sha256, p.ingested_at FROM ({scoped}) s "
            f"JOIN ({provenance_sql()}) p USING (source, record_id, version) WHERE s.person_id = ? "
            "ORDER BY s.source, s.record_id, s.version", [person_id])
        records: dict[str, list[dict[str, Any]]] = {}
        for row in found.to_pylist():
            system = registry.systems.get(row["system"])
            records.setdefault(row["source"], []).append({
                "source": row["source"], "record_id": row["record_id"], "version": row["version"],
                "system": row["system"], "system_title": system.title if system else None,
                "owner": system.owner if system else None, "sorn": system.sorn if system else None,
                "regimes": list(row["regimes"] or []),
                "fields": {n: row[n] for n in catalogue() if row.get(n) is not None},
                "provenance": {k: row[k] for k in _PROVENANCE}})

        every = store.read_arrow(
            "SELECT audit_seq, disclosed_at, nature, purpose, agreement, recipient, recipient_address, "
            "records, law_enforcement, statement_attached FROM disclosures WHERE person_id = ? "
            "ORDER BY audit_seq", [person_id]).to_pylist()
        withheld = {d["audit_seq"] for d in every if d["law_enforcement"] and not include_law_enforcement}
        disclosures = []
        for d in every:
            if d["audit_seq"] in withheld:
                continue
            purpose = registry.purposes.get(d["purpose"])
            disclosures.append(d | {"records": json.loads(d["records"]),
                                    "purpose_title": purpose.title if purpose else None,
                                    "authority": purpose.authority if purpose else None})

        # Without their ids: consecutive ids with a gap would betray a withheld notification.
        notifications = [{k: v for k, v in n.to_dict().items() if k != "notification_id"}
                         for n in notifications_of(store, person_id=person_id)
                         if n.disclosure_seq not in withheld]
        findings = []
        for f in findings_of(store, person_id):
            purpose = registry.purposes.get(f.purpose)
            told = bool(f.of("notice_sent"))
            if purpose is not None and purpose.law_enforcement and not include_law_enforcement and not told:
                continue
            findings.append(finding_state(store, f.finding_id, today).to_dict())
        statements = [{"dispute_id": d, "statement": s, "filed_at": at}
                      for d, s, at in statements_of(store, person_id)]
        return SubjectReport(
            person_id, today, records, disclosures, [d.to_dict() for d in disputes_of(store, person_id)],
            statements, notifications, [a.to_dict() for a in annotations_of(store, person_id=person_id)],
            findings, include_law_enforcement, [] if include_law_enforcement else [LAW_ENFORCEMENT_NOTE])

    g = gate.read(user_id, Request(action="subject.report", purpose="subject_access", persons=(person_id,)),
                  reader, nature="subject access report")
    if g.value.empty:
        raise SubjectNotFound(person_id)
    g.value.audit_seq = g.audit_seq
    return g.value
