"""Status-changing annotations on records (two-person rule).

A privacy officer requests an annotation on one record (a death report that is erroneous, a
record that belongs to someone else, a victim of identity theft), with a reason code from
``registry/reason_codes.yaml`` and the evidence (required). It is in force only once two
approvers have approved it, each different from the requester and from each other; one
rejection stops it. The record itself is never edited: readers that determine status take
:func:`effective_annotations` as input (``accord.person_status.facts.annotations_for``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from accord.casework.disputes import DisputeError, record_of
from accord.casework.filters import Filters, Loader
from accord.casework.reasons import annotation_kinds
from accord.errors import AccordError, NotFound
from accord.governance.gate import Case, Gate, Lookup
from accord.resolve.entities import person_records_sql
from accord.store import Store

APPROVALS_NEEDED = 2


class AnnotationError(AccordError):
    """An annotation operation that cannot be done as asked; the message says why."""


class NoSuchAnnotation(AnnotationError, NotFound):
    """An annotation named by an id that does not exist."""


@dataclass
class Annotation:
    annotation_id: str
    source: str
    record_id: str
    person_id: str | None
    kind: str
    reason_code: str
    evidence: str
    note: str | None
    requested_by: str
    requested_at: datetime
    approvals: list[tuple[str, datetime]] = field(default_factory=list)
    rejections: list[tuple[str, datetime, str | None]] = field(default_factory=list)

    @property
    def record(self) -> tuple[str, str]:
        return (self.source, self.record_id)

    @property
    def effective(self) -> bool:
        approvers = {u for u, _ in self.approvals} - {self.requested_by}
        return not self.rejections and len(approvers) >= APPROVALS_NEEDED

    @property
    def state(self) -> str:
        if self.rejections:
            return "rejected"
        if self.effective:
            return "effective"
        return f"pending ({len(self.approvals)} of {APPROVALS_NEEDED} approvals)"

    def to_dict(self) -> dict[str, Any]:
        return {"annotation_id": self.annotation_id, "source": self.source, "record_id": self.record_id,
                "person_id": self.person_id, "kind": self.kind, "reason_code": self.reason_code,
                "evidence": self.evidence, "note": self.note, "requested_by": self.requested_by,
                "requested_at": self.requested_at.isoformat(), "state": self.state,
                "effective": self.effective,
                "approvals": [{"user": u, "at": at.isoformat()} for u, at in self.approvals],
                "rejections": [{"user": u, "at": at.isoformat(), "reason": why}
                               for u, at, why in self.rejections]}


_COLS = ("annotation_id", "source", "record_id", "person_id", "kind", "reason_code", "evidence", "note",
         "requested_by", "requested_at")
_INSERT = f"INSERT INTO annotations ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
_EVENT_INSERT = ("INSERT INTO annotation_events (seq, annotation_id, event, user_id, recorded_at, note) "
                 "VALUES (nextval('casework_seq'), ?, ?, ?, ?, ?)")
def _add_event(a: Annotation, e: tuple[Any, ...]) -> None:
    _, event, user, at, note = e
    if event == "approved":
        a.approvals.append((user, at))
    else:
        a.rejections.append((user, at, note))


_LOADER: Loader[Annotation] = Loader(
    Filters("annotation_id", conditions={
        # a person's: linked to them when requested, or a record of theirs now
        "person_id": f"person_id = ? OR (source, record_id) IN ({person_records_sql()})",
        "record_keys": "source || chr(31) || record_id = ANY(?)",
        "annotation_ids": "annotation_id = ANY(?)"}),
    f"SELECT {', '.join(_COLS)} FROM annotations {{where}} ORDER BY requested_at, annotation_id",
    lambda r: Annotation(*r), lambda a: a.annotation_id,
    "SELECT annotation_id, event, user_id, recorded_at, note FROM annotation_events "
    "WHERE annotation_id = ANY(?) ORDER BY seq",
    0, _add_event)
_load = _LOADER.load


STATES = ("pending", "effective", "rejected")
# Where each annotation stands, from its events (as Annotation.state says it): rejected once
# anyone rejected it, effective with two approvers other than the requester, else pending.
_STATE_SQL = f"""
SELECT a.annotation_id, a.person_id, a.source, a.record_id, a.requested_at,
       CASE WHEN coalesce(e.rejected, 0) > 0 THEN 'rejected'
            WHEN coalesce(e.approvers, 0) >= {APPROVALS_NEEDED} THEN 'effective' ELSE 'pending' END AS state
FROM annotations a
LEFT JOIN (SELECT v.annotation_id, count(*) FILTER (WHERE v.event = 'rejected') AS rejected,
                  count(DISTINCT v.user_id)
                    FILTER (WHERE v.event = 'approved' AND v.user_id <> n.requested_by) AS approvers
           FROM annotation_events v JOIN annotations n ON n.annotation_id = v.annotation_id
           GROUP BY v.annotation_id) e ON e.annotation_id = a.annotation_id"""
_STATE_FILTERS = Filters("state", conditions={
    "person_id": f"person_id = ? OR (source, record_id) IN ({person_records_sql()})"})


def list_annotations(store: Store, *, state: str | None = None, person_id: str | None = None,
                     limit: int = 50, offset: int = 0) -> tuple[list[Annotation], bool]:
    """Annotations, oldest first: those in one state (``pending``: waiting for an approver), or
    one person's. A page of them and whether more follow."""
    if state is not None and state not in STATES:
        raise AnnotationError(f"unknown annotation state {state!r} ({', '.join(STATES)})")
    where, params = _STATE_FILTERS.where(state=state, person_id=person_id)
    ids = [r[0] for r in store.query(f"SELECT annotation_id FROM ({_STATE_SQL}) s {where} "
                                     "ORDER BY requested_at, annotation_id LIMIT ? OFFSET ?",
                                     [*params, limit + 1, offset])]
    found = _load(store, annotation_ids=ids[:limit]) if ids else []
    return found, len(ids) > limit


def get_annotation(store: Store, annotation_id: str) -> Annotation:
    return _LOADER.one(store, NoSuchAnnotation(f"no annotation {annotation_id!r}"),
                       annotation_id=annotation_id)


def annotations_of(store: Store, *, person_id: str | None = None,
                   records: list[tuple[str, str]] | None = None) -> list[Annotation]:
    """Annotations (in force or not) on a person's records or on the given records."""
    keys = None if records is None else [f"{s}\x1f{r}" for s, r in records]
    return _load(store, person_id=person_id, record_keys=keys)


def effective_annotations(store: Store, records: list[tuple[str, str]] | None = None) -> list[Annotation]:
    """The annotations in force (two distinct approvers, neither the requester, no rejection),
    on every record or on the given ``(source, record_id)`` records."""
    return [a for a in annotations_of(store, records=records) if a.effective]


def request_annotation(gate: Gate, user_id: str, *, source: str, record_id: str, kind: str, reason_code: str,
                       evidence: str, note: str | None = None) -> Annotation:
    """Request an annotation on one record; it takes effect only with two other approvers."""
    store = gate.store
    person: str | None = None
    missing: str | None = None
    try:
        _, person, _ = record_of(store, source, record_id)
    except DisputeError as e:
        missing = str(e)
    with gate.act(user_id, "annotation.request", persons=(person,) if person else (),
                  details={"source": source, "record_id": record_id, "kind": kind,
                           "reason_code": reason_code}) as act:
        act.records = [(source, record_id)]
        if missing:
            raise AnnotationError(missing)
        kinds = annotation_kinds()
        if kind not in kinds:
            raise AnnotationError(f"unknown annotation kind {kind!r} (known: {', '.join(kinds)})")
        reasons = kinds[kind]["reasons"]
        if reason_code not in reasons:
            raise AnnotationError(f"{kind}: unknown reason code {reason_code!r} "
                                  f"(known: {', '.join(reasons)})")
        if not evidence or not evidence.strip():
            raise AnnotationError(f"{kind}: give the evidence the annotation rests on")
        with store.transaction():
            annotation_id = f"N-{int(store.scalar('SELECT nextval(?)', ['casework_seq'])):06d}"
            store.write(_INSERT, [annotation_id, source, record_id, person, kind, reason_code,
                                        evidence.strip(), note, user_id, datetime.now(UTC)])
        act.details["annotation"] = annotation_id
        act.outcome = f"annotation {annotation_id} requested ({kind}); needs {APPROVALS_NEEDED} approvals"
    return get_annotation(store, annotation_id)


def annotation_lookup(store: Store, annotation_id: str, **about: Any) -> Lookup[Annotation]:
    """An annotation named by its id, for the gate to look up once the user may attempt the
    action (``gate.act`` with ``lookup=``): about the person its record was linked to."""
    def find() -> Case[Annotation]:
        a = get_annotation(store, annotation_id)
        return Case(a, persons=(a.person_id,) if a.person_id else ())

    return Lookup(find, annotation=annotation_id, **about)


def _decide(gate: Gate, user_id: str, annotation_id: str, event: str, note: str | None) -> Annotation:
    store = gate.store
    found = annotation_lookup(store, annotation_id, **({"reject": True} if event == "rejected" else {}))
    with gate.act(user_id, "annotation.approve", details={"annotation": annotation_id, "decision": event},
                  lookup=found) as act:
        a = found.value
        act.records = [a.record]
        if a.rejections:
            raise AnnotationError(f"annotation {annotation_id} was rejected by {a.rejections[0][0]}")
        if a.effective:
            raise AnnotationError(f"annotation {annotation_id} is already in force")
        if user_id == a.requested_by:
            raise AnnotationError(f"{user_id} requested annotation {annotation_id} and cannot also decide it "
                                  "(two-person rule)")
        if user_id in {u for u, _ in a.approvals}:
            raise AnnotationError(f"{user_id} already approved annotation {annotation_id}; a second approver "
                                  "must be someone else")
        if event == "rejected" and not (note and note.strip()):
            raise AnnotationError("a rejection needs its reason")
        with store.transaction():
            store.write(_EVENT_INSERT, [annotation_id, event, user_id, datetime.now(UTC), note])
        a = get_annotation(store, annotation_id)
        act.outcome = f"annotation {annotation_id} {event}: {a.state}"
    return a


def approve_annotation(gate: Gate, user_id: str, annotation_id: str, *,
                       note: str | None = None) -> Annotation:
    return _decide(gate, user_id, annotation_id, "approved", note)


def reject_annotation(gate: Gate, user_id: str, annotation_id: str, *, reason: str) -> Annotation:
    return _decide(gate, user_id, annotation_id, "rejected", reason)
