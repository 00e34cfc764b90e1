"""What a decision lets a reader see, and the SQL that applies it to stored records.

A ``Scope`` is produced only by the gate (``accord.governance.gate``) from an allow decision.
Readers of person data (person views, search, reports) take a Scope and read records only
through :func:`scoped_records_sql`, so masking and withholding live in one place.

Sensitivity marks: every record carries the regimes it falls under (its system's regime plus
content marks such as an asylum application in a benefits system) as ``regimes``; anything
derived from a record carries the union of its records' regimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from accord.governance.registry import Registry
from accord.resolve.views import members_sql, view_memberships
from accord.sources.fields import catalogue
from accord.sql_text import ident, lit, one_of, str_array
from accord.store import Store

Key = tuple[str, str]


@dataclass(frozen=True)
class Scope:
    """Systems and fields readable under one decision.

    systems: record system -> canonical fields that may be shown (others read as NULL).
    withheld_regimes: records under any of these regimes are left out entirely, without a
      trace a reader could see (statutory floors such as asylum and VAWA information).
    persons: when set, only these person ids may be read (subject access, one person).
    """

    systems: Mapping[str, frozenset[str]]
    withheld_regimes: frozenset[str] = frozenset()
    persons: frozenset[str] | None = None
    # The partition of records into persons this scope reads (accord.resolve.views): the one
    # resolution keeps for the purpose's withheld regimes ("" is the full one).
    view: str = ""
    # Set only by issue(); not an init field, so dataclasses.replace() of an issued scope
    # (e.g. to widen its systems) yields an unsealed scope that reads nothing.
    _sealed: object = field(default=None, init=False, repr=False, compare=False)

    def fields_for(self, system: str) -> frozenset[str]:
        return self.systems.get(system, frozenset())


def freeze(systems: dict[str, set[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({k: frozenset(v) for k, v in systems.items()})


def regimes_sql(registry: Registry, alias: str = "") -> str:
    """SQL array expression (both engines): the regimes a record row falls under, its
    system's first, then its content marks' in the registry's order, each once
    (unregistered systems get ``unregistered``, which no purpose may read)."""
    p = f"{alias}." if alias else ""

    def marked(system: str, fields: list[tuple[str, dict[str, str]]], have: list[str]) -> str:
        if not fields:
            return str_array(have)
        (fld, values), rest = fields[0], fields[1:]
        branches = " ".join(
            f"WHEN {lit(value)} THEN {marked(system, rest, have if regime in have else [*have, regime])}"
            for value, regime in values.items())
        return f"CASE {p}{ident(fld)} {branches} ELSE {marked(system, rest, have)} END"

    base = " ".join(f"WHEN {lit(name)} THEN {marked(name, list(s.content_marks.items()), [s.regime])}"
                    for name, s in registry.systems.items())
    return f"CASE {p}system {base} ELSE {str_array(['unregistered'])} END"


def under_regimes_sql(registry: Registry, regimes: frozenset[str] | set[str], alias: str = "") -> str:
    """SQL condition (both engines, never NULL): the record row falls under any of
    ``regimes`` (the same marks as :func:`regimes_sql`)."""
    p = f"{alias}." if alias else ""
    parts = []
    base = [name for name, s in registry.systems.items() if s.regime in regimes]
    if base:
        parts.append(one_of(f"{p}system", base))
    if "unregistered" in regimes:
        parts.append(f"NOT {one_of(f'{p}system', list(registry.systems))}")
    for name, s in registry.systems.items():
        for fld, values in s.content_marks.items():
            marked = [v for v, regime in values.items() if regime in regimes]
            if marked:
                parts.append(f"({p}system = {lit(name)} AND {one_of(p + ident(fld), marked)})")
    return f"coalesce({' OR '.join(parts)}, FALSE)" if parts else "FALSE"


def scoped_records_sql(registry: Registry, scope: Scope, table: str = "records_current") -> str:
    """The rows of ``table`` (records or records_current) a scope may see, fields outside
    the scope as NULL, with ``regimes`` and ``person_id`` (entity) columns. For a few named
    persons, :func:`person_records` gives the same rows without scanning the store. SQL both
    engines read."""
    cols = []
    for name in catalogue():
        systems = [s for s, fields in scope.systems.items() if name in fields]
        if systems:
            cols.append(f"CASE WHEN {one_of('r.system', systems)} "
                        f"THEN r.{ident(name)} END AS {ident(name)}")
        else:
            cols.append(f"CAST(NULL AS {catalogue()[name].sql_type}) AS {ident(name)}")
    where = [one_of("r.system", list(scope.systems))]
    if scope.withheld_regimes:
        where.append(f"NOT {under_regimes_sql(registry, scope.withheld_regimes, 'r')}")
    if scope.persons is not None:
        where.append(one_of("m.entity_id", scope.persons))
    return f"""SELECT r.source, r.record_id, r.version, r.system, r.batch_id, r.row_number, r.regimes,
       m.entity_id AS person_id, {', '.join(cols)}
FROM (SELECT *, {regimes_sql(registry)} AS regimes FROM {ident(table)}) r
LEFT JOIN ({members_sql(scope.view)}) m USING (source, record_id)
WHERE {' AND '.join(where)}"""


def unwithheld_sql(registry: Registry, scope: Scope) -> str:
    """(source, record_id, person_id) of every current record the scope does not withhold,
    shown or not, in the scope's partition: what linkage counts for the purpose (a store
    without the withheld records would hold exactly these). No values."""
    persons = "" if scope.persons is None else f" AND {one_of('m.entity_id', scope.persons)}"
    return f"""SELECT r.source, r.record_id, m.entity_id AS person_id
FROM records_current r
JOIN ({members_sql(scope.view)}) m USING (source, record_id)
WHERE NOT {under_regimes_sql(registry, scope.withheld_regimes, 'r')}{persons}"""


def record_regimes(registry: Registry, system: str, row: Mapping[str, Any]) -> list[str]:
    """The regimes one record falls under (the same marks as :func:`regimes_sql`)."""
    s = registry.systems.get(system)
    if s is None:
        return ["unregistered"]
    out = [s.regime]
    for fld, values in s.content_marks.items():
        regime = values.get(row.get(fld))   # type: ignore[arg-type]
        if regime is not None and regime not in out:
            out.append(regime)
    return out


def person_records(store: Store, registry: Registry, scope: Scope, persons: list[str],
                   table: str = "records_current") -> list[dict[str, Any]]:
    """The rows :func:`scoped_records_sql` gives for the named persons, read by person: their
    memberships first, then only their records, masked and withheld here rather than in SQL
    (a person lookup then costs a few small queries, not a scan of the store)."""
    require_issued(scope)
    if table not in ("records", "records_current"):
        raise ValueError(f"scoped reads are of records or records_current, not {table!r}")
    if not persons or not scope.systems:
        return []
    fields = list(catalogue())
    out = []
    for row in _member_rows(store, scope, persons, table):
        if row["system"] not in scope.systems:
            continue
        if scope.persons is not None and row["person_id"] not in scope.persons:
            continue
        regimes = record_regimes(registry, row["system"], row)
        if any(r in scope.withheld_regimes for r in regimes):
            continue
        shown = scope.fields_for(row["system"])
        rec = {k: row[k] for k in ("source", "record_id", "version", "system", "batch_id", "row_number")}
        rec["regimes"] = regimes
        rec["person_id"] = row["person_id"]
        rec.update({f: row[f] if f in shown else None for f in fields})
        out.append(rec)
    return out


def person_members(store: Store, registry: Registry, scope: Scope, persons: list[str]) -> dict[Key, str]:
    """Every current record of the persons that the scope does not withhold, shown or not
    (a record of a system without a routine use for the purpose still links, as it would in a
    store without the withheld records), with its person. No values: for link confidence and
    record counts that must not count withheld records."""
    require_issued(scope)
    if not persons:
        return {}
    out = {}
    for row in _member_rows(store, scope, persons, "records_current"):
        if scope.persons is not None and row["person_id"] not in scope.persons:
            continue
        if not any(r in scope.withheld_regimes for r in record_regimes(registry, row["system"], row)):
            out[(row["source"], row["record_id"])] = row["person_id"]
    return out


def _member_rows(store: Store, scope: Scope, persons: list[str], table: str) -> list[dict[str, Any]]:
    """Every stored row (all systems, every field) of the persons' records in the scope's
    partition; shared by the readers of one request (``store.memo``)."""
    key = ("person_records", table, scope.view, tuple(persons))
    memo = store.memo
    if memo is not None and key in memo:
        rows: list[dict[str, Any]] = memo[key]
        return rows
    fields = list(catalogue())
    # records_current: the version no later version of the record supersedes (the view's
    # rule, applied to the person's records only).
    current = ("WHERE NOT EXISTS (SELECT 1 FROM records n WHERE n.source = r.source "
               "AND n.record_id = r.record_id AND n.version > r.version)"
               if table == "records_current" else "")
    members = view_memberships(store, scope.view, list(persons))
    rows = []
    if members:
        keys = sorted(members)
        rows = store.query_dicts(f"""
            WITH m AS (SELECT unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS record_id,
                              unnest(?::VARCHAR[]) AS entity_id)
            SELECT r.source, r.record_id, r.version, r.system, r.batch_id, r.row_number,
                   m.entity_id AS person_id, {', '.join('r.' + ident(f) for f in fields)}
            FROM records r JOIN m ON m.source = r.source AND m.record_id = r.record_id
            {current}
            ORDER BY person_id, r.source, r.record_id, r.version""",
            [[k[0] for k in keys], [k[1] for k in keys], [members[k] for k in keys]])
    if memo is not None:
        memo[key] = rows
    return rows


_SEAL = object()


def issue(scope: Scope) -> Scope:
    """Seal a scope; called by the gate only (tests walk every service to keep it so)."""
    sealed = Scope(scope.systems, scope.withheld_regimes, scope.persons, scope.view)
    object.__setattr__(sealed, "_sealed", _SEAL)
    return sealed


def require_issued(scope: Scope) -> None:
    """Readers call this first: a scope built by hand, not by the gate, reads nothing."""
    if scope._sealed is not _SEAL:
        raise PermissionError("person data can only be read with a scope issued by the governance gate")
