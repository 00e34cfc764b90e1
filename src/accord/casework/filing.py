"""Filing a dispute: a request to amend one field of one of a person's records (552a(d)(2)).

A privacy officer files it on the person's behalf, with the value the person says is correct
(checked the way ingest checks a value) and their statement. It is due for acknowledgement 10
working days after filing (552a(d)(2)(A)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from accord.casework.disputes import DISPUTE_PURPOSE, Dispute, DisputeError, get_dispute, next_seq, record_of
from accord.casework.workdays import working_days_after
from accord.governance.gate import Gate
from accord.ingest.checks import CHECKS
from accord.sources.fields import catalogue
from accord.sql import local
from accord.store import Store

ACKNOWLEDGE_WORKING_DAYS = 10  # 552a(d)(2)(A)
# Raw forms split into name parts at ingest: correct the parts instead.
NOT_CORRECTABLE = frozenset({"full_name", "given_names", "full_address"})

_INSERT = ("INSERT INTO disputes (dispute_id, person_id, source, record_id, field, claimed_value, statement, "
           "filed_by, filed_on, filed_at, acknowledge_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def normalise_value(store: Store, name: str, value: str | None) -> str | None:
    """A claimed value as the field stores it, or a DisputeError saying why it cannot be."""
    f = catalogue().get(name)
    if f is None:
        raise DisputeError(f"unknown field {name!r} (fields: {', '.join(catalogue())})")
    if name in NOT_CORRECTABLE:
        raise DisputeError(f"{name} is split into parts at ingest; dispute the parts "
                           "(given_name, middle_name, family_name; street, city, state, zip)")
    if value is None or not value.strip():
        return None
    text = value.strip()
    if f.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise DisputeError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None
    if f.type == "integer":
        try:
            number = int(text)
        except ValueError:
            raise DisputeError(f"{name}: {text!r} is not a whole number") from None
        if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
            raise DisputeError(f"{name}: {number} is outside {f.min}-{f.max}")
        return str(number)
    if f.values is not None:
        canon = {v.lower(): v for v in f.values}
        if text.lower() not in canon:
            raise DisputeError(f"{name}: {text!r} is not one of {', '.join(f.values)}")
        return canon[text.lower()]
    if f.check is not None:
        pre, reason, normal = CHECKS[f.check]("raw", "p")
        # ingest's check (DuckDB SQL) of one value: computed in-process
        row = local.rows(f"SELECT {reason}, {normal} FROM (SELECT raw, {pre} AS p FROM "
                         "(SELECT CAST(? AS VARCHAR) AS raw))", [text])[0]
        if row[0] is not None:
            raise DisputeError(f"{name}: {text!r}: {row[0]}")
        return str(row[1])
    return text


def file_dispute(gate: Gate, user_id: str, person_id: str, *, source: str, record_id: str, field: str,
                 claimed_value: str | None, statement: str, today: date | None = None) -> Dispute:
    """File a request to amend one field of one of the person's records (on their behalf)."""
    today = today or gate.today
    store = gate.store
    with gate.act(user_id, "dispute.file", purpose=DISPUTE_PURPOSE, persons=(person_id,),
                  details={"source": source, "record_id": record_id, "field": field}) as act:
        act.records = [(source, record_id)]
        value = normalise_value(store, field, claimed_value)
        if not statement or not statement.strip():
            raise DisputeError("a dispute needs the person's statement of what is wrong and why")
        _, linked, _ = record_of(store, source, record_id)
        if linked != person_id:
            raise DisputeError(f"record {source}/{record_id} is not a record of person {person_id}")
        due = working_days_after(today, ACKNOWLEDGE_WORKING_DAYS)
        with store.transaction():
            dispute_id = f"D-{next_seq(store):06d}"
            store.write(_INSERT, [dispute_id, person_id, source, record_id, field, value,
                                        statement.strip(), user_id, today, datetime.now(UTC), due])
        act.details["dispute"] = dispute_id
        act.outcome = f"dispute {dispute_id} filed; acknowledge by {due}"
    return get_dispute(store, dispute_id)
