"""Person search: fuzzy, ranked, bounded, and only over what a scope shows.

``search_persons`` compares a standardised query (``query.build_query``) with every record
visible in the scope, as resolution compares records (``resolve.comparisons``): names by
exact, variant/nickname, Jaro-Winkler and Double Metaphone levels (in either order), dates of
birth exact / day and month swapped / one part off / within a year, identifiers exact or one
digit off or transposed. Each level is worth points; a person scores the best name (given and
family from one record), the best date of birth and the best of each identifier over its
visible records, and ``score`` is the points over the most the query could earn (0..1).

A person is a hit with score >= ``MIN_SCORE`` and either an identifier agreeing (exactly or
one digit off) or a name agreeing together with a date of birth within a year: a name alone
finds no one. Records come only from ``scoped_records_sql``: a field the scope does not show
for a system reads as NULL there and cannot match; name keys and phonetic codes are taken
from the standardise stage's ``features`` only for records whose name the scope shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from accord.governance.registry import Registry
from accord.governance.scope import Scope, require_issued, scoped_records_sql
from accord.ingest.reads import CURRENT_RECORDS
from accord.master.compare import json_value
from accord.master.query import NamePart, Query, SearchQueryError, build_query
from accord.sql import local
from accord.sql_text import lit
from accord.standardise.features import features_built, name_features_sql
from accord.standardise.identifiers import (
    A_NUMBER_PLACEHOLDERS,
    DOB_PLACEHOLDERS,
    ITIN_PLACEHOLDERS,
    SSN_PLACEHOLDERS,
)
from accord.standardise.names import in_list
from accord.store import Store

MAX_LIMIT = 100
MIN_SCORE = 0.5
NAME_MAX, DOB_MAX, ID_MAX = 9.0, 6.0, 12.0
SWAP_COST = 1.0

Level = tuple[str, float, str]  # label, points, SQL condition (strongest first)


@dataclass(frozen=True)
class Matched:
    field: str
    level: str
    points: float


@dataclass(frozen=True)
class RecordRef:
    source: str
    record_id: str


@dataclass(frozen=True)
class PersonSummary:
    name: str | None  # the most common visible given and family name
    dob: str | None  # the most common visible date of birth
    sources: list[str]
    records: list[RecordRef]  # every visible record of the person


@dataclass(frozen=True)
class SearchHit:
    person_id: str
    score: float
    matched_on: list[Matched]
    summary: PersonSummary
    regimes: list[str]  # union of the person's visible records' regimes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def touched_records(self) -> list[tuple[str, str]]:
        return [(r.source, r.record_id) for r in self.summary.records]


class SearchHits(list[SearchHit]):
    """The hits, best first; ``touched`` tells the gate what they disclosed."""

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return ([h.person_id for h in self],
                [rec for h in self for rec in h.touched_records()])

    def to_dict(self) -> list[dict[str, Any]]:
        return [h.to_dict() for h in self]


def search_persons(store: Store, registry: Registry, scope: Scope, name: str | None = None,
                   dob: date | str | None = None, ssn: str | None = None, a_number: str | None = None,
                   tin: str | None = None, limit: int = 20) -> SearchHits:
    """Persons matching a name and date of birth, or an identifier, best first (at most
    ``limit``, 1..100). Raises :class:`SearchQueryError` for an empty or too-broad query."""
    require_issued(scope)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise SearchQueryError(f"limit must be a whole number from 1 to {MAX_LIMIT} (got {limit!r})")
    q = build_query(store, name, dob, ssn, a_number, tin)
    if not features_built(store):
        return SearchHits()  # nothing resolved yet: there are no persons to find
    rows = _rank(store, registry, scope, q, limit)
    if not rows:
        return SearchHits()
    details = _summaries(store, registry, scope, [r["person_id"] for r in rows])
    hits = SearchHits()
    for r in rows:
        summary, regimes = details[r["person_id"]]
        hits.append(SearchHit(r["person_id"], round(float(r["score"]), 4), _matched(q, r), summary, regimes))
    return hits


def _name_levels(a: str, b: str, jw: str, initials: bool, pts: tuple[float, ...]) -> list[Level]:
    levels = [
        ("exact", f"{a}_std = {b}_std"),
        ("variant or nickname", f"{a}_key = {b}_key OR list_has_any({a}_keys, {b}_keys) "
                                f"OR len(list_intersect({a}_tokens, {b}_tokens)) > 0"),
        ("similar (JW >= 0.92)", f"{jw} >= 0.92"),
        ("sounds alike", f"{jw} >= 0.80 OR {a}_dm1 = {b}_dm1 OR {a}_dm1 = {b}_dm2 OR {a}_dm2 = {b}_dm1"),
    ]
    if initials:
        levels.append(("initial", f"(length({a}_std) = 1 AND starts_with({b}_std, {a}_std)) OR "
                                  f"(length({b}_std) = 1 AND starts_with({a}_std, {b}_std))"))
    levels.append(("different", "TRUE"))
    return [(label, p, sql) for (label, sql), p in zip(levels, pts, strict=True)]


_GIVEN_PTS = (4.0, 3.5, 3.0, 2.0, 1.5, -2.0)
_FAMILY_PTS = (5.0, 4.5, 4.0, 3.0, -1.5)  # a changed family name is common
_DOB: list[Level] = [
    ("exact", 6.0, "dob = q_dob"),
    ("day and month swapped", 4.0, "year(dob) = year(q_dob) AND month(dob) = day(q_dob) AND "
                                   "day(dob) = month(q_dob)"),
    ("one part off by one", 3.5, "abs(date_diff('day', dob, q_dob)) <= 1 OR (month(dob) = month(q_dob) AND "
                                 "day(dob) = day(q_dob) AND abs(year(dob) - year(q_dob)) = 1) OR "
                                 "(year(dob) = year(q_dob) AND month(dob) = month(q_dob))"),
    ("within a year", 2.0, "abs(date_diff('day', dob, q_dob)) <= 366"),
    ("different", -4.0, "TRUE"),
]


def _id_levels(a: str, b: str) -> list[Level]:
    return [("exact", ID_MAX, f"{a} = {b}"),
            ("one digit or transposition", 7.0, f"damerau_levenshtein({a}, {b}) = 1"),
            ("different", -6.0, "TRUE")]


def _jw(a: str, b: str) -> str:
    """Jaro-Winkler of two names, or of one and a token of the other (GACRIA / GARCIA SEPULVEDA)."""
    return (f"greatest(jaro_winkler_similarity({a}_std, {b}_std), "
            f"list_max(list_transform({b}_tokens, lambda t: jaro_winkler_similarity({a}_std, t))), "
            f"list_max(list_transform({a}_tokens, lambda t: jaro_winkler_similarity(t, {b}_std))))")


def _case(levels: list[Level], null_sql: str, what: int) -> str:
    whens = " ".join(f"WHEN {sql} THEN {lit(label) if what == 0 else p}" for label, p, sql in levels)
    return f"CASE WHEN {null_sql} THEN NULL {whens} END"


# Record columns an identifier query is compared with (component -> record column).
_ID_COLUMNS = {"ssn": ("ssn", "tin"), "a_number": ("a_number",), "tin": ("tin", "ssn", "itin")}


def _components(q: Query) -> dict[str, tuple[list[Level], str]]:
    """Sub-component name -> (levels, null condition), for what the query supplies."""
    out: dict[str, tuple[list[Level], str]] = {}
    if q.given is not None:
        for a, b, jw, pts, initials in (("qg", "g", "jw_gg", _GIVEN_PTS, True),
                                        ("qf", "f", "jw_ff", _FAMILY_PTS, False),
                                        ("qg", "f", "jw_gf", _GIVEN_PTS, True),
                                        ("qf", "g", "jw_fg", _FAMILY_PTS, False)):
            out[f"n_{a}_{b}"] = (_name_levels(a, b, jw, initials, pts), f"{b}_std IS NULL")
    if q.dob is not None:
        out["dob"] = (_DOB, "dob IS NULL")
    for kind in q.identifiers:
        for col in _ID_COLUMNS[kind]:
            out[f"{kind}@{col}"] = (_id_levels(f"q_{kind}", f"id_{col}"), f"id_{col} IS NULL")
    return out


# What the ranking reads of each visible record (from the store, in SQL both engines read):
# person, record, the name features of a record whose name the scope shows, date of birth and
# identifiers as stored. Everything computed from them runs in an in-process DuckDB
# (accord.sql.local), so a search ranks alike on every store.
_STORED = ("person_id", "source", "record_id", "dob", "ssn", "tin", "itin", "a_number")
_ID_STORED = ("person_id", "dob", "ssn", "tin", "itin", "a_number")


def _stored_sql(registry: Registry, scope: Scope, columns: tuple[str, ...], names: bool) -> str:
    """The visible records with a person (``s``), the named columns as stored and, with
    ``names``, the name features of a record whose name the scope shows. SQL both engines read."""
    cols = [f"s.{c}" for c in columns]
    join = ""
    if names:
        for part, src, prefix in (("given", "given_name", "g"), ("family", "family_name", "f")):
            for col in ("std", "key", "keys", "tokens", "dm1", "dm2"):
                cols.append(f"CASE WHEN s.{src} IS NOT NULL THEN f.{part}_{col} END AS {prefix}_{col}")
        join = f"LEFT JOIN ({name_features_sql()}) f ON f.source = s.source AND f.record_id = s.record_id"
    return f"""SELECT {', '.join(cols)}
FROM ({scoped_records_sql(registry, scope, CURRENT_RECORDS)}) s
{join}
WHERE s.person_id IS NOT NULL"""


def _derived_sql(table: str, names: bool) -> str:
    """Over the stored columns (``table``, in the in-process DuckDB): dates of birth and
    identifiers cleaned as resolution compares them (placeholders as missing)."""
    def digits(col: str, placeholders: tuple[str, ...], pad: bool = False) -> str:
        d = f"NULLIF(regexp_replace(s.{col}, '[^0-9]', '', 'g'), '')"
        d = f"lpad({d}, 9, '0')" if pad else d
        return f"CASE WHEN {d} NOT IN ({in_list(placeholders)}) THEN {d} END"

    name_cols = [f"CAST(s.{p}_{c} AS {'VARCHAR[]' if c in ('keys', 'tokens') else 'VARCHAR'}) AS {p}_{c}"
                 for p in ("g", "f") for c in ("std", "key", "keys", "tokens", "dm1", "dm2")]
    tin = "regexp_replace(s.tin, '[^0-9]', '', 'g')"
    ident = ["s.source", "s.record_id", *name_cols] if names else []
    return f"""SELECT s.person_id, {''.join(c + ', ' for c in ident)}
  CASE WHEN CAST(s.dob AS VARCHAR) NOT IN ({in_list(DOB_PLACEHOLDERS)}) THEN s.dob END AS dob,
  {digits('ssn', SSN_PLACEHOLDERS)} AS id_ssn,
  CASE WHEN NOT starts_with({tin}, '9') THEN {digits('tin', SSN_PLACEHOLDERS)} END AS id_tin_ssn,
  {digits('tin', SSN_PLACEHOLDERS + ITIN_PLACEHOLDERS)} AS id_tin,
  {digits('itin', ITIN_PLACEHOLDERS)} AS id_itin,
  {digits('a_number', A_NUMBER_PLACEHOLDERS, pad=True)} AS id_a_number
FROM (SELECT * REPLACE (CAST(dob AS DATE) AS dob, CAST(ssn AS VARCHAR) AS ssn, CAST(tin AS VARCHAR) AS tin,
                         CAST(itin AS VARCHAR) AS itin, CAST(a_number AS VARCHAR) AS a_number)
      FROM {table}) s"""


def _params(q: Query) -> tuple[str, list[Any]]:
    cols: list[tuple[str, str, Any]] = []
    for prefix, part in (("qg", q.given), ("qf", q.family)):
        p: NamePart | None = part
        cols += [(f"{prefix}_std", "VARCHAR", p.std if p else None),
                 (f"{prefix}_key", "VARCHAR", p.key if p else None),
                 (f"{prefix}_keys", "VARCHAR[]", list(p.keys) if p else None),
                 (f"{prefix}_tokens", "VARCHAR[]", list(p.tokens) if p else None),
                 (f"{prefix}_dm1", "VARCHAR", p.dm1 if p else None),
                 (f"{prefix}_dm2", "VARCHAR", p.dm2 if p else None)]
    cols += [("q_dob", "DATE", q.dob), ("q_ssn", "VARCHAR", q.ssn), ("q_a_number", "VARCHAR", q.a_number),
             ("q_tin", "VARCHAR", q.tin)]
    return ", ".join(f"?::{t} AS {c}" for c, t, _ in cols), [v for _, _, v in cols]


def _col(name: str) -> str:
    return '"' + name.replace("@", "_at_") + '"'


def _rank(store: Store, registry: Registry, scope: Scope, q: Query, limit: int) -> list[dict[str, Any]]:
    comps = _components(q)
    select, params = _params(q)
    per_record = [f"{_case(lv, null, 1)} AS {_col(c + '_pts')}, {_case(lv, null, 0)} AS {_col(c + '_lbl')}"
                  for c, (lv, null) in comps.items()]
    aggs: list[str] = []
    totals: list[str] = []
    max_points = 0.0
    anchors = ["FALSE"]
    # Candidates: persons with a record that can anchor a hit (see the module docstring); the
    # costlier name comparisons run only over their records.
    near = ["FALSE"]
    names: list[str] = []
    if q.given is not None:
        # Given and family as written, or swapped (only when both names are on both sides).
        written = "coalesce(n_qg_g_pts, 0) + coalesce(n_qf_f_pts, 0)"
        swapped = (f"CASE WHEN g_std IS NOT NULL AND f_std IS NOT NULL "
                   f"THEN n_qg_f_pts + n_qf_g_pts - {SWAP_COST} END")
        names.append(f"CASE WHEN g_std IS NULL AND f_std IS NULL THEN NULL "
                     f"ELSE greatest({written}, {swapped}) END AS name_pts")
        names.append(
            f"CASE WHEN {swapped} > {written} THEN {{'given': n_qg_f_lbl, 'given_pts': n_qg_f_pts, "
            "'family': n_qf_g_lbl, 'family_pts': n_qf_g_pts, 'swapped': TRUE} "
            "ELSE {'given': n_qg_g_lbl, 'given_pts': n_qg_g_pts, 'family': n_qf_f_lbl, "
            "'family_pts': n_qf_f_pts, 'swapped': FALSE} END AS name_lbl")
        aggs.append("max(name_pts) AS name_pts, arg_max(name_lbl, name_pts) AS name_lbl")
        totals.append("coalesce(name_pts, 0)")
        max_points += NAME_MAX
        if q.dob is not None:
            anchors.append('(coalesce(name_pts, 0) > 0 AND coalesce("dob_pts", -99) >= 2)')
            near.append("abs(date_diff('day', r.dob, q.q_dob)) <= 366")
    id_best = []
    for c in comps:
        if c.startswith("n_"):
            continue
        aggs.append(f"max({_col(c + '_pts')}) AS {_col(c + '_pts')}, "
                    f"arg_max({_col(c + '_lbl')}, {_col(c + '_pts')}) AS {_col(c + '_lbl')}")
    if q.dob is not None:
        totals.append('coalesce("dob_pts", 0)')
        max_points += DOB_MAX
    for kind in q.identifiers:
        best = f"greatest({', '.join(_col(f'{kind}@{col}_pts') for col in _ID_COLUMNS[kind])})"
        totals.append(f"coalesce({best}, 0)")
        id_best.append(best)
        near += [f"damerau_levenshtein(q.q_{kind}, r.id_{col}) <= 1" for col in _ID_COLUMNS[kind]]
        max_points += ID_MAX
    if id_best:
        anchors.append(f"coalesce(greatest({', '.join(id_best)}), -99) >= 7")
    # Candidates first, from what anchors a hit (the dates of birth and identifiers of every
    # visible record, or only those born within the year around the query's when it gives no
    # identifier); then the records of the candidates with their names, ranked.
    stored = _stored_sql(registry, scope, _ID_STORED, names=False)
    window: list[Any] = []
    if not q.identifiers and q.dob is not None:
        stored += " AND s.dob BETWEEN ? AND ?"
        window = [q.dob - timedelta(days=366), q.dob + timedelta(days=366)]
    ids = store.read_arrow(stored, window)
    if ids.num_rows == 0:
        return []
    cand = [r[0] for r in local.rows(f"""
        WITH q AS (SELECT {select}), r AS ({_derived_sql('_ids', names=False)})
        SELECT DISTINCT r.person_id FROM r CROSS JOIN q WHERE {' OR '.join(near)}
        ORDER BY r.person_id""", params, tables={"_ids": ids})]
    if not cand:
        return []
    records = store.read_arrow(
        _stored_sql(registry, scope, _STORED, names=True) + f" AND {store.dialect.in_list('s.person_id')}",
        [cand])
    sql = f"""WITH q AS (SELECT {select}),
r AS ({_derived_sql('_records', names=True)}),
j AS (SELECT r.*, q.*, {_jw('qg', 'g')} AS jw_gg, {_jw('qf', 'f')} AS jw_ff, {_jw('qg', 'f')} AS jw_gf,
        {_jw('qf', 'g')} AS jw_fg FROM r CROSS JOIN q),
c1 AS (SELECT *, {', '.join(per_record)} FROM j),
c AS (SELECT *{''.join(', ' + n for n in names)} FROM c1),
p AS (SELECT person_id, {', '.join(aggs)} FROM c GROUP BY person_id),
s AS (SELECT *, greatest(0.0, least(1.0, ({' + '.join(totals)}) / {max_points})) AS score FROM p)
SELECT * FROM s WHERE score >= {MIN_SCORE} AND ({' OR '.join(anchors)})
ORDER BY score DESC, person_id LIMIT {int(limit)}"""
    ranked: list[dict[str, Any]] = local.arrow(sql, params, tables={"_records": records}).to_pylist()
    return ranked


def _matched(q: Query, row: dict[str, Any]) -> list[Matched]:
    out: list[Matched] = []
    if q.given is not None:
        label = row["name_lbl"] or {}
        for part in ("given", "family"):
            points = float(label.get(f"{part}_pts") or 0.0)
            out.append(Matched(f"{part}_name", label.get(part) or "missing", points))
        if label.get("swapped"):
            out.append(Matched("name_order", "given and family swapped", -SWAP_COST))
    if q.dob is not None:
        out.append(Matched("dob", row["dob_lbl"] or "missing", float(row["dob_pts"] or 0.0)))
    for kind in q.identifiers:
        best: Matched | None = None
        for col in _ID_COLUMNS[kind]:
            pts, lbl = row[f"{kind}_at_{col}_pts"], row[f"{kind}_at_{col}_lbl"]
            if pts is not None and (best is None or pts > best.points):
                best = Matched(kind, f"{lbl} ({col})" if col != kind else lbl, float(pts))
        out.append(best or Matched(kind, "missing", 0.0))
    return out


def _summaries(store: Store, registry: Registry, scope: Scope,
               persons: list[str]) -> dict[str, tuple[PersonSummary, list[str]]]:
    rows = store.query(f"""
        SELECT person_id, source, record_id, given_name, family_name, dob, regimes
        FROM ({scoped_records_sql(registry, scope, CURRENT_RECORDS)}) s
        WHERE {store.dialect.in_list('person_id')} ORDER BY person_id, source, record_id""", [persons])
    by: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        by.setdefault(r[0], []).append(r)
    out = {}
    for pid, recs in by.items():
        names = Counter(f"{g} {f}" for _, _, _, g, f, _, _ in recs if g and f)
        dobs = Counter(str(json_value(d)) for *_, d, _ in recs if d is not None)
        summary = PersonSummary(names.most_common(1)[0][0] if names else None,
                                dobs.most_common(1)[0][0] if dobs else None,
                                sorted({r[1] for r in recs}), [RecordRef(r[1], r[2]) for r in recs])
        out[pid] = (summary, sorted({g for r in recs for g in r[6]}))
    return out


__all__ = ["MAX_LIMIT", "Matched", "PersonSummary", "RecordRef", "SearchHit", "SearchHits",
           "SearchQueryError", "search_persons"]
