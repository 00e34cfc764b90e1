"""Gathering a person's facts for the status rules, under a scope the gate issued.

Link confidence of a record: the highest probability among the scored links that tie it to
the rest of its entity in the latest resolution run (1.0 for a person with one record).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import yaml

from accord.governance.registry import Registry
from accord.governance.scope import (
    Scope,
    person_members,
    person_records,
    require_issued,
    scoped_records_sql,
    unwithheld_sql,
)
from accord.ingest.reads import source_mappings
from accord.resolve.entities import memberships, person_links
from accord.resolve.views import links_sql
from accord.status import Annotation, Fact
from accord.store import Store


def _confidence_sql(registry: Registry, scope: Scope) -> str:
    """Per record not withheld by the scope: its strongest 'linked' link to another such
    record in the scope's partition, and its person's count of such records."""
    return f"""
WITH u AS ({unwithheld_sql(registry, scope)}),
     l AS (SELECT l.source_l, l.record_id_l, l.source_r, l.record_id_r, l.match_probability
           FROM ({links_sql(scope.view)}) l
           JOIN u a ON a.source = l.source_l AND a.record_id = l.record_id_l
           JOIN u b ON b.source = l.source_r AND b.record_id = l.record_id_r
           WHERE l.status = 'linked'),
     c AS (SELECT source, record_id, max(match_probability) AS confidence FROM (
             SELECT source_l AS source, record_id_l AS record_id, match_probability FROM l
             UNION ALL SELECT source_r, record_id_r, match_probability FROM l) e
           GROUP BY source, record_id),
     n AS (SELECT person_id, count(*) AS records FROM u GROUP BY person_id)
SELECT u.source, u.record_id, coalesce(c.confidence, CASE WHEN n.records = 1 THEN 1.0 ELSE 0.0 END)
       AS link_confidence
FROM u JOIN n USING (person_id) LEFT JOIN c USING (source, record_id)"""


def fact_rows(store: Store, registry: Registry, scope: Scope, persons: list[str] | None = None,
              where: str | None = None) -> list[dict[str, Any]]:
    """Scoped record rows of the given persons (or of persons having a row matching ``where``),
    each with ``link_confidence`` (counting no withheld record and no link to one)."""
    require_issued(scope)
    if persons is not None and where is None:
        return _person_rows(store, registry, scope, persons)
    sql = scoped_records_sql(registry, scope)
    filters = ["r.person_id IS NOT NULL"]
    params: list[Any] = []
    if persons is not None:
        filters.append(store.dialect.in_list("r.person_id"))
        params.append(persons)
    if where is not None:
        filters.append(f"r.person_id IN (SELECT person_id FROM ({sql}) w WHERE {where})")
    return store.query_dicts(
        f"""SELECT r.*, coalesce(c.link_confidence, 0.0) AS link_confidence
            FROM ({sql}) r
            LEFT JOIN ({_confidence_sql(registry, scope)}) c USING (source, record_id)
            WHERE {' AND '.join(filters)} ORDER BY r.person_id, r.source, r.record_id""", params)


def _person_rows(store: Store, registry: Registry, scope: Scope, persons: list[str]) -> list[dict[str, Any]]:
    """fact_rows for named persons: only their records and links are read."""
    rows = person_records(store, registry, scope, persons)
    if not rows:
        return []
    confidence, sizes = _link_confidence(store, registry, scope, persons)
    for r in rows:
        c = confidence.get((r["source"], r["record_id"]))
        r["link_confidence"] = c if c is not None else (1.0 if sizes.get(r["person_id"]) == 1 else 0.0)
    return rows


def _link_confidence(store: Store, registry: Registry, scope: Scope,
                     persons: list[str]) -> tuple[dict[tuple[str, str], float], dict[str, int]]:
    """For every record of the persons that the scope does not withhold: its strongest link
    in the latest run to another such record; and each person's count of such records."""
    members = person_members(store, registry, scope, persons)
    around = person_links(store, persons, scope.view)
    confidence: dict[tuple[str, str], float] = {}
    for link in around.links:
        if link.status != "linked":
            continue
        if link.left not in members or link.right not in members:
            continue
        for key in (link.left, link.right):
            if link.match_probability > confidence.get(key, -1.0):
                confidence[key] = link.match_probability
    sizes: dict[str, int] = {}
    for pid in members.values():
        sizes[pid] = sizes.get(pid, 0) + 1
    return confidence, sizes


def facts_by_person(rows: list[dict[str, Any]]) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = defaultdict(list)
    for row in rows:
        out[row["person_id"]].append(Fact.from_row(
            row, link_confidence=min(1.0, max(0.0, float(row["link_confidence"]))),
            regimes=tuple(row["regimes"] or ())))
    return dict(out)


def annotations_for(store: Store, persons: list[str], view: str = "") -> dict[str, list[Annotation]]:
    """Effective two-person-approved annotations on the persons' records (in the partition
    ``view``)."""
    from accord.casework.annotations import effective_annotations

    members = memberships(store, persons, view)
    in_force = store.reuse(("effective_annotations",), lambda: tuple(
        ((a.source, a.record_id), a.kind) for a in effective_annotations(store)))
    out: dict[str, list[Annotation]] = defaultdict(list)
    for record, kind in in_force:
        if record in members:
            out[members[record]].append(Annotation(record, kind))
    return dict(out)


def removal_sources(store: Store) -> frozenset[str]:
    """Sources whose encounter records carry the departure date when the encounter ended in
    a removal: their current mapping maps both ``encounter_date`` and ``exit_date`` (an ICE
    extract with the removals' departed dates). For status rule 9 (``removals_recorded_by``):
    a blank departure date on such a record means the encounter did not end in a removal."""
    return store.reuse(("removal_sources",), lambda: frozenset(
        source for source, text in source_mappings(store)
        if {"encounter_date", "exit_date"} <= _mapped_fields(text or "")))


@functools.lru_cache(maxsize=512)
def _mapped_fields(mapping_yaml: str) -> frozenset[str]:
    """The canonical fields a mapping maps (parsed once per distinct mapping text)."""
    try:
        spec = yaml.safe_load(mapping_yaml)
    except yaml.YAMLError:
        return frozenset()
    fields = spec.get("fields") if isinstance(spec, dict) else None
    return frozenset(fields) if isinstance(fields, dict) else frozenset()
