"""What other modules read of casework's tables, in one place: the statements of disagreement
(``dispute_statements``) the gate attaches to disclosures and the subject-access report lists.

``accord.casework.statements`` writes ``dispute_statements``; it works through the gate, so the
gate cannot import it. The reads are here, in a module that imports nothing of the gate.
"""

from __future__ import annotations

from datetime import datetime

from accord.store import Store


def statements_by_person(store: Store, persons: list[str]) -> dict[str, list[str]]:
    """Person id -> the texts of the person's statements of disagreement, oldest first, for
    those of ``persons`` that have any."""
    if not persons:
        return {}
    rows = store.query(
        "SELECT person_id, statement FROM dispute_statements WHERE "
        f"{store.dialect.in_list('person_id')} ORDER BY filed_at", [persons])
    out: dict[str, list[str]] = {}
    for pid, text in rows:
        out.setdefault(pid, []).append(text)
    return out


def statements_of(store: Store, person_id: str) -> list[tuple[str, str, datetime]]:
    """The person's statements of disagreement, oldest first: (dispute id, statement, filed at)."""
    return [(d, s, at) for d, s, at in store.query(
        "SELECT dispute_id, statement, filed_at FROM dispute_statements WHERE person_id = ? "
        "ORDER BY filed_at", [person_id])]
