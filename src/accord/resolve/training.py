"""Training the Fellegi-Sunter model on the store: u from random pairs, m by EM.

u is what a level's share is among pairs of records of different people; random record pairs
are (almost all) such pairs. For levels that are plain agreement on columns most records carry
(the levels declared ``u_from_counts``: by default exact names and date of birth, day and
month swapped, same street address, same sex) that share has a closed form — the chance that
two random records carrying the columns agree, ``sum(n_v * (n_v - 1)) / (M * (M - 1))`` over
value counts — which is what sampling converges to, computed exactly from one GROUP BY. These
are the rare levels a sample estimates worst. The other levels are shared out as
``u_sample_pairs`` random pairs show.

Identifiers (SSN, A-number, passport, ITIN) are not given a closed form: their value counts
mostly count records of one person (a person's records share the identifier) — a match rate,
not u. Instead, after a first fit, the sampled pairs are weighted by their chance of being a
non-match and those identifiers' u estimated again (docs/resolve.md).

With ``base=True`` (as the pipeline trains) every figure comes from the statistics base alone
(``features.in_base``, accord.resolve.base): the random pairs are drawn by rank among the base
records (the k-th base record, in rid order), so a record outside the base, removed or added,
shifts no sampled pair; value counts count base records; EM and the prior see only the blocked
pairs of two base records, and ``records`` is the number of base records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from accord.errors import AccordError
from accord.resolve.comparisons import Comparisons, Level, comparisons_of
from accord.resolve.model import (
    M_FLOOR,
    FSModel,
    estimate_u,
    fit_prior,
    level_shares,
    monotone_m,
    non_match_u,
    train_em,
)
from accord.resolve.settings import Settings
from accord.resolve.working import FEATURES, IN_BASE, base_of, base_pairs_sql, compare, patterns
from accord.sql.backend import DuckDBBackend, SQLRunner
from accord.sql_text import ident, lit


def agreement_sql(column: str, features: str) -> str:
    """The chance that two random records carrying ``column`` agree on it."""
    c = ident(column)
    return (f"SELECT sum(n * (n - 1)) / greatest(sum(n) * (sum(n) - 1), 1) FROM "
            f"(SELECT CAST(count(*) AS DOUBLE) AS n FROM {features} WHERE {c} IS NOT NULL "
            f"GROUP BY {c})")


def dob_swapped_sql(features: str, column: str = "dob") -> str:
    """The chance that two random records with dates of birth have day and month swapped
    (same year, month of one = day of the other and back; not the same date)."""
    y, m, d = (ident(f"{column}_{x}") for x in ("y", "m", "d"))
    c = ident(column)
    return (f"WITH v AS (SELECT {y} AS y, {m} AS m, {d} AS d, CAST(count(*) AS DOUBLE) AS n "
            f"FROM {features} WHERE {c} IS NOT NULL GROUP BY ALL) "
            f"SELECT coalesce(sum(a.n * b.n), 0) / greatest((SELECT sum(n) * (sum(n) - 1) FROM v), 1) "
            f"FROM v a JOIN v b ON a.y = b.y AND a.m = b.d AND a.d = b.m AND a.m <> a.d")


def same_values_sql(features: str, columns: list[str], present: list[str]) -> str:
    """The chance that two random records on which a comparison can say something (one of
    ``present`` on both) agree on every one of ``columns`` (by default: records whose
    addresses can be compared, ZIP or city on both, sharing ZIP, house number and street)."""
    flags = ", ".join(f"{ident(c)} IS NOT NULL AS {ident(f'p{i}')}" for i, c in enumerate(present))
    same_flags = " AND ".join(f"a.{ident(f'p{i}')} = b.{ident(f'p{i}')}" for i in range(len(present)))
    both = " OR ".join(f"(a.{ident(f'p{i}')} AND b.{ident(f'p{i}')})" for i in range(len(present)))
    cols = ", ".join(ident(c) for c in columns)
    carried = " AND ".join(f"{ident(c)} IS NOT NULL" for c in columns)
    return f"""WITH t AS (SELECT {flags or 'TRUE AS p'}, CAST(count(*) AS DOUBLE) AS n
                      FROM {features} GROUP BY ALL),
    present AS (SELECT sum(a.n * (b.n - CASE WHEN {same_flags or 'TRUE'} THEN 1 ELSE 0 END)) AS p
                FROM t a, t b WHERE {both or 'TRUE'}),
    same AS (SELECT sum(n * (n - 1)) AS s FROM (SELECT CAST(count(*) AS DOUBLE) AS n FROM {features}
             WHERE {carried} GROUP BY {cols}))
    SELECT coalesce(same.s, 0) / greatest(present.p, 1) FROM present, same"""


def counted_sql(level: Level, present: tuple[str, ...]) -> Callable[[str], str]:
    """SQL for a ``u_from_counts`` level's u from value counts, over a features source: levels
    defined by agreement on columns most records carry, where sampling would converge to it."""
    spec = level.spec
    assert spec is not None
    if spec.day_month_swapped is not None:
        column = spec.day_month_swapped
        return lambda f: dob_swapped_sql(f, column)
    columns = [spec.exact] if spec.exact is not None else [c.exact for c in spec.all or []]
    cols = [c for c in columns if c is not None]
    if len(cols) == 1 and list(present) == cols:
        return lambda f: agreement_sql(cols[0], f)
    return lambda f: same_values_sql(f, cols, list(present))


def sample_pairs_sql(records: int, n_pairs: int, seed: int, ranks: str | None = None) -> str:
    """``n_pairs`` random record pairs (deterministic for a seed; self-pairs dropped).
    ``ranks``: a table of (k, rid), the k-th of ``records`` records to draw from (without it
    record k is rid k): the draw is of ranks, so it depends on the number of records drawn
    from and nothing else."""
    draw = draw_sql(records, n_pairs, seed)
    if ranks is None:
        return f"""
        SELECT least(a, b) AS rid_l, greatest(a, b) AS rid_r, -1 AS rule, CAST(0 AS BIGINT) AS rules
        FROM ({draw})
        WHERE a <> b"""
    return f"""
        SELECT least(l.rid, r.rid) AS rid_l, greatest(l.rid, r.rid) AS rid_r, -1 AS rule,
               CAST(0 AS BIGINT) AS rules
        FROM ({draw}) s JOIN {ranks} l ON l.k = s.a JOIN {ranks} r ON r.k = s.b
        WHERE s.a <> s.b"""


def draw_sql(records: int, n_pairs: int, seed: int) -> str:
    """The ranks (a, b) of ``n_pairs`` random record pairs among ``records`` (DuckDB SQL: its
    ``hash`` decides the draw, so another engine takes the draw from DuckDB)."""
    n = max(int(records), 1)
    return (f"SELECT CAST(hash(i, 'l', {int(seed)}) % {n} AS BIGINT) AS a, "
            f"CAST(hash(i, 'r', {int(seed)}) % {n} AS BIGINT) AS b FROM range({int(n_pairs)}) t(i)")


def rank_table(db: DuckDBBackend, features: str, name: str) -> int:
    """Temp table ``name`` (k, rid) of the base records of ``features``, k = 0, 1, ... in rid
    order (sorted in NumPy: the engine would sort every column it carries); returns their
    number."""
    import pyarrow as pa

    rid = np.sort(db.arrow(f"SELECT rid FROM {features} WHERE {IN_BASE}").column("rid").to_numpy())
    ranks = pa.table({"k": np.arange(len(rid), dtype=np.int64), "rid": rid.astype(np.int64)})
    with db.registered(f"{name}_arrow", ranks):
        db.create_table(name, f"SELECT * FROM {name}_arrow", temp=True)
    return len(rid)


def with_known(u: dict[str, list[float]], known: dict[str, dict[int, float]],
               floor: float = 1e-6) -> dict[str, list[float]]:
    """Set the known levels' u and share what is left among each comparison's other levels
    in their sampled proportions."""
    out = {k: list(v) for k, v in u.items()}
    for name, levels in known.items():
        old = out[name]
        fixed = {g: min(max(v, floor), 1 - floor) for g, v in levels.items()}
        free = [g for g in range(len(old)) if g not in fixed]
        total = sum(old[g] for g in free)
        left = max(1.0 - sum(fixed.values()), floor)
        new = list(old)
        for g in free:
            new[g] = max((old[g] / total if total > 0 else 1 / len(free)) * left, floor)
        for g, v in fixed.items():
            new[g] = v
        norm = sum(new)
        out[name] = [x / norm for x in new]
    return out


def sample_patterns(db: DuckDBBackend, settings: Settings, records: int,
                    features: str, base: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Gamma patterns (with counts) of ``u_sample_pairs`` random record pairs (``base``: of
    the ``records`` base records, drawn by rank)."""
    ms = settings.model
    ranks = None
    if base:
        ranks = "u_ranks"
        rank_table(db, features, ranks)
    db.create_table("u_pairs", sample_pairs_sql(records, ms.u_sample_pairs, ms.u_seed, ranks),
                    temp=True)
    comps = comparisons_of(settings)
    compare(db, "u_pairs", "u_gammas", features, comps=comps)
    pats, counts, _ = patterns(db, "u_gammas", comps=comps)
    for t in ("u_pairs", "u_gammas", "u_ranks"):
        db.run(f"DROP TABLE IF EXISTS {t}")
    return pats, counts


def known_levels(db: SQLRunner, features: str,
                 comps: Comparisons | None = None) -> dict[str, dict[int, float]]:
    """u of the levels declared ``u_from_counts``, by comparison and gamma."""
    out: dict[str, dict[int, float]] = {}
    for c in comps or comparisons_of(None):
        for i, level in enumerate(c.levels):
            if level.u_from_counts:
                sql = counted_sql(level, c.present)(features)
                out.setdefault(c.name, {})[c.top - i] = float(db.scalar(sql) or 0.0)
    return out


def estimate_u_in_store(db: DuckDBBackend, settings: Settings, records: int,
                        features: str) -> dict[str, list[float]]:
    comps = comparisons_of(settings)
    pats, counts = sample_patterns(db, settings, records, features)
    return with_known(estimate_u(pats, counts, comps), known_levels(db, features, comps))


def sessions(pats: np.ndarray, counts: np.ndarray, masks: np.ndarray,
             n_rules: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patterns per blocking rule: every pair a rule finds (bit set in its mask), not only
    the pairs credited to it — a pair found first by the SSN rule still teaches the name rules."""
    p, c, r = [], [], []
    for i in range(n_rules):
        sel = (masks >> i) & 1 == 1
        if sel.any():
            p.append(pats[sel])
            c.append(counts[sel])
            r.append(np.full(int(sel.sum()), i, dtype=np.int64))
    if not p:
        return (np.zeros((0, width), dtype=np.int64), np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64))
    return np.vstack(p), np.concatenate(c), np.concatenate(r)


def train(db: DuckDBBackend, settings: Settings, records: int, gammas: str,
          features: str, base: bool = False) -> FSModel:
    """The model from the store: ``records`` records (``base``: the base records, see the
    module), their blocked pairs ``gammas`` and ``features`` (what the comparisons read)."""
    comps = comparisons_of(settings)
    sampled = sample_patterns(db, settings, records, features, base)
    # Names, dates, addresses: masking does not touch them.
    known = known_levels(db, base_of(FEATURES) if base else FEATURES, comps)
    blocked = base_pairs_sql(gammas, features) if base else gammas
    return fit(settings, records, sampled, known, patterns(db, blocked, by_rules=True, comps=comps))


Patterns = tuple[np.ndarray, np.ndarray]


def fit(settings: Settings, records: int, sampled: Patterns, known: dict[str, dict[int, float]],
        blocked: tuple[np.ndarray, np.ndarray, np.ndarray]) -> FSModel:
    """The model from what training reads of the records, on whichever engine counted it: the
    gamma patterns of the random pairs (``sampled``: patterns, counts), the ``known`` levels'
    u, and the blocked pairs' patterns with their counts and rule masks (``blocked``, as
    :func:`accord.resolve.working.patterns` gives them, in its order)."""
    comps = comparisons_of(settings)
    u_pats, u_counts = sampled
    u = with_known(estimate_u(u_pats, u_counts, comps), known)
    rules = settings.blocking.rules
    pats, counts, rule_of = sessions(*blocked, len(rules), len(comps))
    # A rule with different right-hand keys (a swap rule) also decides name order.
    blocked_on = {i: comps.for_keys(r.keys) | comps.for_keys(r.right)
                  | (comps.swap_comparisons() if r.against else set())
                  for i, r in enumerate(rules)}
    def fit_m(u: dict[str, list[float]]) -> FSModel:
        return train_em(pats, counts, u, settings.model.em_max_iterations,
                        settings.model.em_tolerance, rules=rule_of, blocked_on=blocked_on,
                        total_pairs=records * (records - 1) // 2, comps=comps)

    model = fit_m(u)
    # Two records agreeing on an identifier issued to one person are almost always one
    # person: the random pairs that do are taken out of those identifiers' u, and m is fitted
    # again (a household shares an address and a family name, so those keep their u).
    personal = set(comps.names(identifier=True))
    return fit_m(with_known(non_match_u(u_pats, u_counts, model, personal), known))


MIN_LABELLED_MATCHES = 50


def train_with_labels(db: DuckDBBackend, settings: Settings, records: int, gammas: str,
                      features: str, labels: Path, base: bool = False) -> FSModel:
    """m from labelled pairs instead of EM: among the blocked pairs whose two records are both
    in ``labels`` (a truth file: source,record_id,person_id), the share of each level among
    the pairs of one person. u is estimated as for EM (random pairs), the prior fitted the
    same way, and levels kept in order of strength. Labels cover part of the data as a rule;
    the model then scores every pair. ``base``: as for :func:`train` (labelled pairs of two
    base records only)."""
    if not labels.is_file():
        raise AccordError(f"{labels}: no such labels file")
    comps = comparisons_of(settings)
    u_pats, u_counts = sample_patterns(db, settings, records, features, base)
    u = with_known(estimate_u(u_pats, u_counts, comps),
                   known_levels(db, base_of(FEATURES) if base else FEATURES, comps))
    blocked = base_pairs_sql(gammas, features) if base else gammas
    try:
        db.run(f"""CREATE OR REPLACE TEMP TABLE _labels AS
                   SELECT DISTINCT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
                          CAST(person_id AS VARCHAR) AS person_id
                   FROM read_csv({lit(str(labels))}, header = true, all_varchar = true)""")
    except Exception as e:  # a file without the three columns, or not CSV
        raise AccordError(f"{labels}: not a labels file with columns source,record_id,person_id "
                          f"({e})") from None
    db.run(f"""CREATE OR REPLACE TEMP TABLE _labelled_matches AS
               SELECT g.* FROM {blocked} g
               JOIN {features} fl ON fl.rid = g.rid_l JOIN {features} fr ON fr.rid = g.rid_r
               JOIN _labels a ON a.source = fl.source AND a.record_id = fl.record_id
               JOIN _labels b ON b.source = fr.source AND b.record_id = fr.record_id
               WHERE a.person_id = b.person_id""")
    pats, counts, _ = patterns(db, "_labelled_matches", comps=comps)
    db.run("DROP TABLE IF EXISTS _labelled_matches")
    db.run("DROP TABLE IF EXISTS _labels")
    if counts.sum() < MIN_LABELLED_MATCHES:
        raise AccordError(f"{labels}: only {int(counts.sum())} blocked pairs are labelled as one person; "
                          f"at least {MIN_LABELLED_MATCHES} are needed to estimate m from labels")
    m = {}
    for i, c in enumerate(comps):
        shares = level_shares(counts, pats[:, i], c, M_FLOOR)
        m[c.name] = monotone_m(shares, u[c.name]) if c.ordered else shares
    all_pats, all_counts, _ = patterns(db, blocked, comps=comps)
    prior = fit_prior(all_pats, all_counts, m, u, records * (records - 1) // 2, comps=comps)
    return FSModel(m=m, u=u, prior=prior, iterations=0, pairs_trained=int(counts.sum()),
                   trained_from="labels", comparisons=comps)
