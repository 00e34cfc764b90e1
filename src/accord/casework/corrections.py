"""Correcting a record as the person asked (552a(d)(2)(B)(i)), then telling every earlier
recipient and the record system's owner (552a(c)(4)).

A correction never edits a stored record. The current version is read through a scope the
gate issues for the person's own records (subject access), and ingest stores the copy with
only the disputed field changed as version + 1, through a batch named
``correction:<dispute id>`` (``accord.ingest.records``): ``record_provenance`` shows where the
corrected value came from.
"""

from __future__ import annotations

import json
from datetime import date

from accord.casework.disputes import (
    DISPUTE_PURPOSE,
    DisputeError,
    add_event,
    dispute_lookup,
    get_dispute,
    record_of,
    still_open,
)
from accord.casework.notifications import Resolution, notify
from accord.governance.gate import Gate
from accord.governance.scope import require_issued, scoped_records_sql
from accord.ingest.records import append_correction
from accord.sources.fields import catalogue
from accord.sql_text import ident

# What the scope of the correction's read is decided as: a read of the person's own records.
READ_ACTION = "subject.report"


def correct_dispute(gate: Gate, user_id: str, dispute_id: str, *, today: date | None = None) -> Resolution:
    """Correct the record as the person asked: a new version with provenance, and notices to
    every earlier recipient and to the record system's owner."""
    today = today or gate.today
    store = gate.store
    found = dispute_lookup(store, dispute_id)
    with gate.act(user_id, "dispute.handle", details={"dispute": dispute_id, "step": "correct"},
                  lookup=found) as act:
        d = found.value
        act.records = [(d.source, d.record_id)]
        still_open(d)
        # The record is read only through a scope the gate issues for the person's own records.
        scope = act.scope_for(READ_ACTION, DISPUTE_PURPOSE)
        require_issued(scope)
        system, _, _ = record_of(store, d.source, d.record_id)
        if set(catalogue()) - scope.fields_for(system):
            raise DisputeError(f"not every field of {system} records is readable; a copy would lose data")
        scoped = scoped_records_sql(gate.registry, scope, table="records_current")
        current = store.query(f"SELECT version, CAST({ident(d.field)} AS VARCHAR) FROM ({scoped}) s "
                              "WHERE source = ? AND record_id = ? AND person_id = ?",
                              [d.source, d.record_id, d.person_id])
        if len(current) != 1:
            raise DisputeError(f"record {d.source}/{d.record_id} is no longer a record of {d.person_id}")
        old_version, old_value = int(current[0][0]), current[0][1]
        if old_value == d.claimed_value:
            raise DisputeError(f"record {d.source}/{d.record_id} already holds the claimed {d.field}; "
                               "nothing to correct")
        payload = json.dumps({"dispute": dispute_id, "source": d.source, "record_id": d.record_id,
                              "from_version": old_version, "field": d.field, "value": d.claimed_value,
                              "corrected_by": user_id, "on": today.isoformat()}, sort_keys=True).encode()
        with store.transaction():
            stored = append_correction(
                store, current=scoped, source=d.source, record_id=d.record_id, person_id=d.person_id,
                field=d.field, value=d.claimed_value, system=system, name=f"correction:{dispute_id}",
                path=f"accord:disputes/{dispute_id}", payload=payload, user_id=user_id,
                from_version=old_version)
            add_event(store, dispute_id, "corrected", today, user_id, batch_id=stored.batch_id,
                      version=stored.version)
            sent = notify(store, gate.registry, d, "correction", system, user_id)
        act.details.update(batch=stored.batch_id, version=stored.version, notifications=len(sent))
        act.outcome = f"corrected {d.source}/{d.record_id} {d.field} (version {stored.version}); " \
                      f"{len(sent)} recipients notified"
    return Resolution(get_dispute(store, dispute_id), sent, stored.batch_id, stored.version)
