"""Harm figures for work lists against ground truth: who would be wrongly listed, citizens
listed, and true final orders missed. Only counts leave this module."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.resolve.entities import partition
from accord.store import Store
from accord.worklists.worklist import eligible_persons

CITIZEN_STATUSES = {"citizen_birth", "citizen", "naturalized", "us_citizen"}


def _truth(truth: Path) -> dict[tuple[str, str], str]:
    try:
        with truth.open(encoding="utf-8", newline="") as f:
            return {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
    except (OSError, KeyError) as e:
        raise AccordError(f"{truth}: cannot read truth (source,record_id,person_id): {e}") from None


def _persons(persons: Path) -> dict[str, str]:
    try:
        with persons.open(encoding="utf-8", newline="") as f:
            return {r["person_id"]: r["status"] for r in csv.DictReader(f)}
    except (OSError, KeyError) as e:
        raise AccordError(f"{persons}: cannot read persons (person_id,status,...): {e}") from None


def harm(store: Store, registry: Registry, decision: Decision, truth: Path, persons: Path,
         as_of: date) -> dict[str, Any]:
    """Work-list harm figures at default settings, by true person."""
    record_person = _truth(truth)
    status = _persons(persons)
    eligible, excluded, candidates = eligible_persons(store, registry, decision, as_of)
    # Persons as the purpose sees them: the work list's entities are of its view's partition
    # (without the records it may not see, where that splits a person).
    t = partition(store, decision.scope.view if decision.scope is not None else "")
    members = list(zip(*(t.column(c).to_pylist() for c in ("source", "record_id", "entity_id")), strict=True))
    entity_true: dict[str, Counter[str]] = {}
    for s, r, e in members:
        tp = record_person.get((s, r))
        if tp is not None:
            entity_true.setdefault(e, Counter())[tp] += 1
    listed_true = {entity_true[e].most_common(1)[0][0] for e in eligible if e in entity_true}
    wrongly = {p for p in listed_true if status.get(p) != "final_order"}
    court_people = {record_person[(s, r)] for s, r, _ in members if s == "court" and (s, r) in record_person}
    final_with_court = {p for p, st in status.items() if st == "final_order" and p in court_people}
    found = final_with_court & listed_true
    return {
        "worklist_agreement": decision.agreement.id if decision.agreement else None,
        "worklist_listed": len(eligible),
        "worklist_candidates": candidates,
        "worklist_excluded": dict(sorted(excluded.items())),
        "wrongly_listed_persons": len(wrongly),
        "wrongly_listed_by_true_status": dict(sorted(Counter(status.get(p, "?") for p in wrongly).items())),
        "citizens_listed": sum(1 for p in wrongly if status.get(p) in CITIZEN_STATUSES),
        "final_orders_with_court_record": len(final_with_court),
        "final_orders_found": len(found),
        "final_orders_missed": len(final_with_court - found),
        "final_order_recall": round(len(found) / len(final_with_court), 4) if final_with_court else None,
    }
