"""Statements of disagreement (552a(d)(3)): after a refusal to amend, the person's statement
is kept with the person (``dispute_statements``), attached by the gate to every later
disclosure of the person, and sent to every earlier recipient (552a(c)(4))."""

from __future__ import annotations

from datetime import UTC, date, datetime

from accord.casework.disputes import DisputeError, add_event, dispute_lookup, get_dispute, record_of
from accord.casework.notifications import Resolution, notify
from accord.governance.gate import Gate

_INSERT = "INSERT INTO dispute_statements (person_id, dispute_id, statement, filed_at) VALUES (?, ?, ?, ?)"


def file_statement(gate: Gate, user_id: str, dispute_id: str, statement: str, *,
                   today: date | None = None) -> Resolution:
    """The person's statement of disagreement after a refusal (552a(d)(3)): kept with the
    person, attached by the gate to every later disclosure, and sent to earlier recipients."""
    today = today or gate.today
    found = dispute_lookup(gate.store, dispute_id)
    with gate.act(user_id, "dispute.file", lookup=found,
                  details={"dispute": dispute_id, "step": "statement of disagreement"}) as act:
        d = found.value
        if d.state != "denied":
            raise DisputeError(f"dispute {dispute_id} is {d.state}: a statement of disagreement follows a "
                               "refusal to amend")
        if d.disagreement is not None:
            raise DisputeError(f"dispute {dispute_id} already has a statement of disagreement")
        if not statement or not statement.strip():
            raise DisputeError("the statement of disagreement is empty")
        system, _, _ = record_of(gate.store, d.source, d.record_id)
        with gate.store.transaction():
            gate.store.write(_INSERT, [d.person_id, dispute_id, statement.strip(), datetime.now(UTC)])
            add_event(gate.store, dispute_id, "statement", today, user_id, statement.strip())
            sent = notify(gate.store, gate.registry, d, "statement_of_disagreement", system, user_id)
        act.details["notifications"] = len(sent)
        act.outcome = f"statement of disagreement filed; {len(sent)} recipients notified"
    return Resolution(get_dispute(gate.store, dispute_id), sent)
