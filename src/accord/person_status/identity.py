"""Whether a person's identity is settled, and the records that may be theirs.

Checks a work list makes before anyone is listed, and the person view makes before it calls
anyone eligible (so that the two never disagree): a record sharing an A-number with another
person id, no date of birth, or dates of birth more than a year apart (records an agreeing
identifier joined, one of them with a mistaken date) leave the identity unsettled; records of
other person ids
joined by a link held for review, or by a strong link a clustering guard rejected, are
possible matches, handed to the status rules as weakly linked facts (status rule 12).
"""

from __future__ import annotations

from accord.governance.registry import Registry
from accord.governance.scope import Scope, require_issued, scoped_records_sql, unwithheld_sql
from accord.resolve.views import links_sql
from accord.status import Fact, default_rules
from accord.store import Store


def unsettled_identities(store: Store, registry: Registry, scope: Scope, persons: list[str]) -> set[str]:
    """Persons whose identity is not settled: one of their records shares an A-number
    (digits) with a record of another person id, no record gives a date of birth (name,
    date of birth and an identifier cannot be verified together, and nothing could link
    their other records, an exit or a grant, to them), or their dates of birth lie more than
    ``DOB_SPREAD_YEARS`` apart (an identifier joined them; which date is right is for a
    person to decide)."""
    require_issued(scope)
    if not persons:
        return set()
    sql = scoped_records_sql(registry, scope)
    shared = store.query(f"""
        WITH s AS (SELECT person_id,
                          nullif(regexp_replace(coalesce(a_number, ''), '[^0-9]', '', 'g'), '') AS a
                   FROM ({sql}) r WHERE person_id IS NOT NULL),
             mine AS (SELECT * FROM s WHERE {store.dialect.in_list('person_id')})
        SELECT DISTINCT mine.person_id FROM mine JOIN s ON s.a = mine.a AND s.person_id <> mine.person_id""",
                         [persons])
    # No date of birth, or dates of birth too far apart: one pass over the person's records.
    dates = store.query(f"""
        SELECT person_id FROM ({sql}) r WHERE {store.dialect.in_list('person_id')}
        GROUP BY person_id
        HAVING count(dob) = 0
            OR max(extract(year FROM dob)) - min(extract(year FROM dob)) > {DOB_SPREAD_YEARS}""",
                        [persons])
    return {r[0] for r in shared} | {r[0] for r in dates}


# Dates of birth of one person further apart than this (in years) leave the identity unsettled
# (resolution's clustering.max_dob_year_gap by default; only an agreeing identifier joins them).
DOB_SPREAD_YEARS = 1


# A link a clustering guard rejected joins records whose identifiers disagree: they are not
# linked, and count as the weakest possible match.
_REJECTED_CONFIDENCE = 0.0


def possible_matches(store: Store, registry: Registry, scope: Scope,
                     persons: list[str]) -> dict[str, list[Fact]]:
    """Per person, every record (under the scope) of each other person id joined to one of
    the person's records by a link held for review or rejected by a clustering guard in the
    latest resolution run, as a fact with the link's probability as its link confidence (0
    for a guard-rejected link): records that may be the person's, which the status rules
    treat as weakly linked (rule 12)."""
    require_issued(scope)
    if not persons:
        return {}
    sql = scoped_records_sql(registry, scope)
    names, rows = store.query_columns(f"""
        WITH u AS ({unwithheld_sql(registry, scope)}),
             l AS (SELECT source_l AS s1, record_id_l AS r1, source_r AS s2, record_id_r AS r2,
                          CASE WHEN status = 'review' THEN match_probability
                               ELSE {_REJECTED_CONFIDENCE} END AS p
                   FROM ({links_sql(scope.view)}) k
                   WHERE status IN ('review', 'rejected_by_guard')),
             ends AS (SELECT s1 AS src, r1 AS rid, s2 AS osrc, r2 AS orid, p FROM l
                      UNION ALL SELECT s2, r2, s1, r1, p FROM l),
             near AS (SELECT mine.person_id AS for_person, o.person_id AS other, max(ends.p) AS p
                      FROM u mine
                      JOIN ends ON ends.src = mine.source AND ends.rid = mine.record_id
                      JOIN u o ON o.source = ends.osrc AND o.record_id = ends.orid
                      WHERE {store.dialect.in_list('mine.person_id')} AND o.person_id <> mine.person_id
                      GROUP BY mine.person_id, o.person_id)
        SELECT near.for_person, near.p AS possible_confidence, r.*
        FROM near JOIN ({sql}) r ON r.person_id = near.other
        ORDER BY near.for_person, r.source, r.record_id""", [persons])
    # Never as strong as a link, whatever the resolution's review band.
    weakest_link = default_rules().link_threshold - 1e-9
    out: dict[str, list[Fact]] = {}
    for values in rows:
        row = dict(zip(names, values, strict=True))
        out.setdefault(row["for_person"], []).append(Fact.from_row(
            row, link_confidence=min(weakest_link, max(0.0, float(row["possible_confidence"]))),
            regimes=tuple(row["regimes"] or ())))
    return out
