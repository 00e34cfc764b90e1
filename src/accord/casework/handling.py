"""Handling a dispute: acknowledgement within 10 working days, or a refusal to amend with
reasons and appeal rights (552a(d)(2)); the list of disputes overdue for acknowledgement.

Each step is an action on a dispute named by its id (``dispute.handle``): the gate refuses a
user who may not handle disputes before the dispute is looked up. A correction, the other way
to resolve a dispute, is ``accord.casework.corrections``.
"""

from __future__ import annotations

from datetime import date

from accord.casework.disputes import (
    Dispute,
    DisputeError,
    add_event,
    dispute_lookup,
    due_before,
    get_dispute,
    still_open,
)
from accord.casework.reasons import default_appeal_rights
from accord.governance.gate import Gate


def acknowledge_dispute(gate: Gate, user_id: str, dispute_id: str, *, note: str | None = None,
                        today: date | None = None) -> Dispute:
    today = today or gate.today
    found = dispute_lookup(gate.store, dispute_id)
    with gate.act(user_id, "dispute.handle", details={"dispute": dispute_id, "step": "acknowledge"},
                  lookup=found) as act:
        d = found.value
        if d.acknowledged_on is not None:
            raise DisputeError(f"dispute {dispute_id} was already acknowledged on {d.acknowledged_on}")
        with gate.store.transaction():
            add_event(gate.store, dispute_id, "acknowledged", today, user_id, note)
        late = today > d.acknowledge_by
        act.outcome = f"acknowledged {'late' if late else 'in time'} (due {d.acknowledge_by})"
    return get_dispute(gate.store, dispute_id)


def deny_dispute(gate: Gate, user_id: str, dispute_id: str, *, reasons: str,
                 appeal_rights: str | None = None, today: date | None = None) -> Dispute:
    """Refuse the amendment, with the reasons and the person's appeal rights (552a(d)(2)(B)(ii))."""
    today = today or gate.today
    found = dispute_lookup(gate.store, dispute_id)
    with gate.act(user_id, "dispute.handle", details={"dispute": dispute_id, "step": "deny"},
                  lookup=found) as act:
        still_open(found.value)
        if not reasons or not reasons.strip():
            raise DisputeError("a refusal to amend must give the person its reasons")
        rights = (appeal_rights or "").strip() or default_appeal_rights()
        with gate.store.transaction():
            add_event(gate.store, dispute_id, "denied", today, user_id, reasons.strip(), rights)
        act.outcome = "amendment refused with reasons and appeal rights"
    return get_dispute(gate.store, dispute_id)


def overdue_disputes(gate: Gate, user_id: str, *, today: date | None = None) -> list[Dispute]:
    """Disputes not acknowledged within 10 working days of filing, oldest first."""
    today = today or gate.today
    with gate.act(user_id, "dispute.read", details={"list": "overdue", "as_of": today.isoformat()}) as act:
        late = [d for d in due_before(gate.store, today) if d.overdue(today)]
        act.persons = sorted({d.person_id for d in late})
        act.outcome = f"{len(late)} disputes overdue for acknowledgement"
    return late
