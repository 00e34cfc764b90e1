"""Resolution's working set: the features it reads, the engine resources it runs with, and
the comparison runner shared by scoring and u sampling.

``resolve_features`` is a view over the standardise stage's ``features`` with shared
identifiers masked (an identifier seen with several dates of birth stops counting as
evidence): nothing is copied, and the engine reads the compressed ``features`` table, whose
pages it can drop and re-read under a memory limit. The identifiers masked are the table
``resolve_shared_identifiers`` (kind, value), rewritten each run.

Every statistic resolution computes from the store (the identifiers it masks, term
frequencies, the model's training, block sizes) counts only the records of its **statistics
base** (``features.in_base``: records under no regime with a statutory floor,
``accord.governance.visibility.floor_regimes``), so that removing any record a purpose may not
see changes no weight between the records it may (docs/resolve.md).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from accord.ingest.reads import CURRENT_RECORDS
from accord.resolve.comparisons import Comparisons, comparisons_of
from accord.resolve.model import tf_sql
from accord.resolve.settings import BlockingRule, Resources, Settings
from accord.sql.backend import DuckDBBackend, SQLRunner
from accord.sql.resources import MIB, auto_budget, engine_resources, machine_memory, parse_size
from accord.sql_text import ident, lit
from accord.standardise.features import Extra
from accord.store import Store
from accord.store.dialect import key_params

IDENTIFIERS = ("ssn", "a_number", "passport", "itin", "other_id")
FEATURES = "features"
VIEW = "resolve_features"
SHARED = "resolve_shared_identifiers"
COMPARE = "resolve_compare"
AUTO_FLOOR = 128 * MIB  # the smallest automatic memory limit
# Columns resolution adds to ``features`` (accord.resolve.base): is the record in the
# statistics base; the floor regimes it falls under, as bits (0 in the base).
IN_BASE = "in_base"
MARKS = "floor_marks"
__all__ = ["MIB", "engine_resources", "machine_memory", "memory_budget", "parse_size"]


def base_of(source: str) -> str:
    """The rows of ``source`` (features, or a table or view over them) in the statistics
    base, as a subquery that the SQL builders taking a ``features`` source accept."""
    return f"(SELECT * FROM {source} WHERE {IN_BASE})"


def base_pairs_sql(pairs: str, features: str = FEATURES) -> str:
    """The pairs of ``pairs`` (rid_l, rid_r, ...) whose two records are both in the base, as a
    subquery: anti joins with the records outside it (the smaller side)."""
    outside = f"(SELECT rid FROM {features} WHERE NOT {IN_BASE})"
    return (f"(SELECT p.* FROM {pairs} p ANTI JOIN {outside} ol ON ol.rid = p.rid_l "
            f"ANTI JOIN {outside} orr ON orr.rid = p.rid_r)")


def blocking_source(rule: BlockingRule) -> str:
    """A rule on an identifier reads the masked view; any other reads ``features`` itself
    (the same values, without the masking joins)."""
    return VIEW if set(IDENTIFIERS) & (set(rule.keys) | set(rule.right)) else FEATURES


def compare_blocking_source(db: DuckDBBackend, comps: Comparisons | None = None
                            ) -> Callable[[BlockingRule], str]:
    """Where each rule reads its keys once ``resolve_compare`` exists: that table (masked, and
    narrow, with equality-only text as 64-bit hashes: smaller join and group tables) when
    every key pair the rule joins is held the same way there — both as they are, or both
    hashed within one group, where equal hashes are equal values; else ``blocking_source``.
    The pairs are the same either way."""
    comps = comps or comparisons_of(None)
    columns = comps.pair_columns
    hashed = {c for c, t in db.rows(f"SELECT column_name, column_type FROM (DESCRIBE {COMPARE})")
              if t == "UBIGINT" and c in columns}
    group = {c: i for i, g in enumerate(equality_groups(comps)) if g <= hashed for c in g}

    def same_form(a: str, b: str) -> bool:
        if a not in columns or b not in columns:
            return False
        return (a not in hashed and b not in hashed) or (a in group and group.get(b) == group[a])

    def source(rule: BlockingRule) -> str:
        pairs = zip(rule.keys, rule.right, strict=True)
        return COMPARE if all(same_form(a, b) for a, b in pairs) else blocking_source(rule)

    return source


def shared_identifiers_sql(people: int, features: str = FEATURES) -> str:
    """Identifier values used with ``people`` or more distinct dates of birth."""
    return " UNION ALL ".join(
        f"SELECT {lit(c)} AS kind, {ident(c)} AS value FROM {features} WHERE {ident(c)} IS NOT NULL "
        f"GROUP BY {ident(c)} HAVING count(DISTINCT dob) >= {int(people)}" for c in IDENTIFIERS)


def masked_view_sql(features: str = FEATURES, shared: str = SHARED,
                    columns: Sequence[str] | None = None) -> str:
    """``features`` with shared identifiers NULL. Left joins (each value is listed once per
    kind), not ``IN (subquery)``: the engine can then spill the frame joins built on it.
    ``columns``: the columns of ``features``, listed (for an engine without ``* REPLACE``)."""
    masked = {c: f"CASE WHEN {ident('m_' + c)}.value IS NULL THEN f.{ident(c)} END AS {ident(c)}"
              for c in IDENTIFIERS}
    joins = " ".join(f"LEFT JOIN (SELECT value FROM {shared} WHERE kind = {lit(c)}) {ident('m_' + c)} "
                     f"ON {ident('m_' + c)}.value = f.{ident(c)}" for c in IDENTIFIERS)
    if columns is None:
        select = f"f.* REPLACE ({', '.join(masked.values())})"
    else:
        select = ", ".join(masked.get(c, f"f.{ident(c)}") for c in columns)
    return f"SELECT {select} FROM {features} f {joins}"


def replace_view(db: DuckDBBackend, name: str, sql: str) -> None:
    """CREATE OR REPLACE VIEW, also where an earlier version of the store kept a table of
    that name (CREATE OR REPLACE VIEW cannot replace a table)."""
    if db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
                 "AND database_name = current_database() AND schema_name = current_schema()",
                 [name]):
        db.run(f"DROP TABLE {ident(name)}")
    db.run(f"CREATE OR REPLACE VIEW {ident(name)} AS {sql}")


class Prepared(NamedTuple):
    records: int  # current records (rids 0..records-1)
    shared: int   # identifier values masked
    base: int     # records in the statistics base


def prepare(db: DuckDBBackend, settings: Settings, extra: Extra | None = None) -> Prepared:
    """Standardise, with the columns ``in_base`` and ``floor_marks`` (``extra``: their SQL,
    by default from the package's registry, ``accord.resolve.base.feature_columns``); mask
    the identifiers shared by several people in the base."""
    from accord.standardise.features import build_features

    if extra is None:
        from accord.resolve.base import feature_columns

        extra = feature_columns()
    records = build_features(db.con, CURRENT_RECORDS, counts=False, extra=extra)["records"]
    k = settings.clustering.shared_identifier_people
    db.create_table(SHARED, shared_identifiers_sql(k, base_of(FEATURES)))
    replace_view(db, VIEW, masked_view_sql())
    build_compare_table(db, comps=comparisons_of(settings))
    base = int(db.scalar(f"SELECT count(*) FROM {FEATURES} WHERE {IN_BASE}"))
    return Prepared(int(records), int(db.scalar(f"SELECT count(*) FROM {SHARED}")), base)


def _base(name: str, columns: tuple[str, ...]) -> str | None:
    """The pair column a frame column (``c_l`` / ``c_r``) or a features column names."""
    for side in ("_l", "_r"):
        if name.endswith(side) and name[:-2] in columns:
            return name[:-2]
    return name if name in columns else None


_EQUALITIES = {"COMPARE_EQUAL", "COMPARE_NOTEQUAL", "COMPARE_DISTINCT_FROM",
               "COMPARE_NOT_DISTINCT_FROM"}
_NULL_TESTS = {"OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL"}
Path_ = list[tuple[dict[str, Any], str]]


def _columns(node: Any, path: Path_) -> Iterator[tuple[dict[str, Any], Path_]]:
    """Every column reference of a parsed statement, with the (node, key) path to it."""
    if isinstance(node, list):
        for item in node:
            yield from _columns(item, path)
    elif isinstance(node, dict):
        if node.get("class") == "COLUMN_REF":
            yield node, path
            return
        for key, child in node.items():
            if isinstance(child, dict | list):
                yield from _columns(child, [*path, (node, key)])


def _column_name(node: dict[str, Any]) -> str:
    return str(node["column_names"][-1])


def equality_groups(comps: Comparisons | None = None) -> tuple[frozenset[str], ...]:
    """``equality_of`` the pair frame and the comparisons (cached per SQL text)."""
    comps = comps or comparisons_of(None)
    return _equality_groups(comps.pair_frame_sql("p", "f"), comps.gammas_sql("frame"),
                            comps.pair_columns)


@cache
def _equality_groups(frame_sql: str, comparisons_sql: str,
                     columns: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    return equality_of(frame_sql, comparisons_sql, columns)


def equality_of(frame_sql: str, comparisons_sql: str,
                columns: tuple[str, ...] | None = None) -> tuple[frozenset[str], ...]:
    """Pair columns that the comparison SQL (``pair_frame_sql`` and ``gammas_sql``) only tests
    for equality (=, <>, IS NULL) against each other, grouped by the columns compared with
    each other (given and family keys meet when names are swapped). A column used in any
    other way (a length, a similarity, a date difference, a bare output) is in no group.

    Read from the SQL itself (the engine's parse of it), so a comparison level added later
    that uses a column differently takes that column out of the groups."""
    import duckdb

    columns = columns or comparisons_of(None).pair_columns
    parent = {c: c for c in columns}
    other: set[str] = set()
    compared: set[str] = set()  # tested for equality with another column

    def find(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    con = duckdb.connect()
    try:
        trees = [json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
                 for sql in (frame_sql, comparisons_sql)]
    finally:
        con.close()
    if any(t.get("error") for t in trees):
        return ()
    for frame, tree in zip((True, False), trees, strict=True):
        for col, path in _columns(tree["statements"], []):
            base = _base(_column_name(col), columns)
            if base is None:
                continue
            up = next((n for n, _ in reversed(path) if "class" in n), {})
            if up.get("type") in _EQUALITIES:
                against = up["right"] if up.get("left") is col else up["left"]
                if against.get("class") == "COLUMN_REF" and _base(_column_name(against), columns):
                    union(base, str(_base(_column_name(against), columns)))
                    compared.add(base)
                else:
                    other.add(base)
            elif up.get("type") in _NULL_TESTS:
                continue
            elif frame and _passed_on(col, path, columns) is not None:
                # The frame passes a column on as c_l / c_r (a swap may pass the other name).
                union(base, str(_passed_on(col, path, columns)))
            else:
                other.add(base)
    tainted = {find(c) for c in other}
    groups: dict[str, set[str]] = {}
    for c in columns:
        groups.setdefault(find(c), set()).add(c)
    return tuple(frozenset(g) for root, g in groups.items()
                 if root not in tainted and g & compared)


def _passed_on(col: dict[str, Any], path: Path_, columns: tuple[str, ...]) -> str | None:
    """The pair column an output of the frame carries ``col`` into: ``col AS c_l``, or a
    value (not the condition) of ``CASE ... END AS c_r``; None otherwise."""
    if path and path[-1][1] == "select_list":
        return _base(str(col.get("alias", "")), columns)
    if path and path[-1][1] == "else_expr":
        at = len(path) - 1
    elif len(path) >= 2 and path[-1][1] == "then_expr" and path[-2][1] == "case_checks":
        at = len(path) - 2
    else:
        return None
    case = path[at][0]
    if case.get("class") == "CASE" and at >= 1 and path[at - 1][1] == "select_list":
        return _base(str(case.get("alias", "")), columns)
    return None


def collision_free_sql(groups: Iterable[frozenset[str]], features: str = FEATURES,
                       hash_fn: str = "hash") -> str:
    """Indexes of the groups in which two different values share a 64-bit hash (in practice
    none: the check makes hashed equality exactly text equality). Each group's distinct
    values first (one hash table on the values), then a count per hash: half the work of
    comparing every row's value with the smallest and largest of its hash."""
    parts = [f"SELECT {i} AS g, {ident(c)} AS v FROM {features}"
             for i, group in enumerate(groups) for c in sorted(group)]
    return (f"SELECT DISTINCT g FROM (SELECT DISTINCT g, v FROM ({' UNION ALL '.join(parts)}) "
            f"WHERE v IS NOT NULL) GROUP BY g, {hash_fn}(v) HAVING count(*) > 1")


def compare_table_sql(hashed: Iterable[str], source: str = VIEW, extra: Iterable[str] = (),
                      comps: Comparisons | None = None) -> str:
    """The pair columns of ``source`` with ``hashed`` text columns as 64-bit hashes (and the
    ``extra`` columns as they are: ``in_base``, which block sizes count)."""
    h = set(hashed)
    cols = [f"CASE WHEN {ident(c)} IS NOT NULL THEN hash({ident(c)}) END AS {ident(c)}" if c in h
            else ident(c) for c in (comps or comparisons_of(None)).pair_columns]
    return f"SELECT rid, {', '.join([*cols, *(ident(c) for c in extra)])} FROM {source}"


def build_compare_table(db: DuckDBBackend, source: str = VIEW,
                        comps: Comparisons | None = None) -> set[str]:
    """Temp table ``resolve_compare``: what the comparisons read, once, with the masking
    applied, and with every text column they only test for equality (``equality_groups``)
    held as a 64-bit hash instead of text: the two join tables of a comparison run are a
    third smaller, and equal hashes are equal values (checked per run: a group whose values
    collide stays text). Returns the hashed columns."""
    types = dict(db.rows(f"SELECT column_name, data_type FROM information_schema.columns "
                         f"WHERE table_name = {lit(FEATURES)} AND table_schema = current_schema()"))
    comps = comps or comparisons_of(None)
    groups = [g for g in equality_groups(comps) if all(types.get(c) == "VARCHAR" for c in g)]
    if groups:
        collide = {int(r[0]) for r in db.rows(collision_free_sql(groups))}
        groups = [g for i, g in enumerate(groups) if i not in collide]
    hashed = {c for g in groups for c in g}
    extra = [IN_BASE] if IN_BASE in types else []
    db.create_table(COMPARE, compare_table_sql(hashed, source, extra, comps), temp=True)
    return hashed


def memory_budget(resources: Resources, records: Callable[[], int]) -> int | None:
    """The memory limit for a run, in bytes (None: the connection's own); ``records`` counts
    the current records (asked only for ``auto``)."""
    if resources.memory_limit is None:
        return None
    if resources.memory_limit.strip().lower() != "auto":
        return parse_size(resources.memory_limit)
    return auto_budget(records() * resources.memory_per_record, floor=AUTO_FLOOR)


def tf_tables(db: SQLRunner, features: str = VIEW, counted: str | None = None,
              comps: Comparisons | None = None) -> dict[str, str]:
    """Term frequencies of each term-frequency column ``c`` of the comparisons (``tf_c``:
    value, tf), and ``tf_rid``: each record's (rid, tf_c, ...), which scoring joins by the
    pair's left record instead of carrying the values through every compared pair.
    ``counted``: the records the frequencies are counted over (by default ``features``; the
    pipeline counts the base, ``base_of(features)``); a value no counted record holds has no
    frequency (scoring then uses ``tf_min_u``). Returns, by column, its ``tf_rid`` column
    (as ``t.tf_c``: the SQL :func:`accord.resolve.model.match_weight_sql` takes)."""
    counted = counted or features
    columns = (comps or comparisons_of(None)).tf_columns
    for c in columns:
        db.create_table(f"tf_{c}", tf_sql(c, counted), temp=True)
    picked = "".join(f", {ident(f'x_{c}')}.tf AS {ident(f'tf_{c}')}" for c in columns)
    joins = " ".join(f"LEFT JOIN {ident(f'tf_{c}')} {ident(f'x_{c}')} "
                     f"ON {ident(f'x_{c}')}.value = f.{ident(c)}" for c in columns)
    db.create_table("tf_rid", f"SELECT f.rid{picked} FROM {features} f {joins}", temp=True)
    return {c: f"t.{ident(f'tf_{c}')}" for c in columns}


COMPARE_CHUNK_PAIRS = 250_000  # pairs per comparison statement, at least (see ``compare``)
MAX_COMPARE_CHUNKS = 8


def compare(db: DuckDBBackend, pairs: str, out: str, features: str = COMPARE,
            chunk_pairs: int | None = None, comps: Comparisons | None = None) -> int:
    """``out``: one narrow row per pair of ``pairs`` (``gammas_sql``: rid_l, rid_r, rule,
    rules and a TINYINT gamma per comparison; the names it also yields for term frequencies
    are left out: scoring looks them up by ``rid_l`` in ``tf_rid``). Returns the number of
    statements it took.

    The pairs are compared in a few statements, each on the pairs of one range of ``rid_l``
    (at most ``MAX_COMPARE_CHUNKS``; ``chunk_pairs`` pairs each, by default at least
    ``COMPARE_CHUNK_PAIRS`` and at least as many as there are records, so that rebuilding
    the right-hand join table per statement never costs more than probing it): each
    statement holds the join table of its own pairs rather than of all of them. The frame
    with both sides' features is a view streamed into ``out``, never held; under a memory
    limit the engine partitions its join tables to disk (an external hash join)."""
    comps = comps or comparisons_of(None)
    total = int(db.scalar(f"SELECT count(*) FROM {pairs}"))
    if chunk_pairs is None:
        chunk_pairs = max(COMPARE_CHUNK_PAIRS, int(db.scalar(f"SELECT count(*) FROM {features}")))
    chunks = max(1, min(MAX_COMPARE_CHUNKS, total // max(chunk_pairs, 1)))
    cuts: list[int] = []
    if chunks > 1:  # rid_l quantiles: the lower rids carry more pairs (rid_l < rid_r)
        marks = ", ".join(str(i / chunks) for i in range(1, chunks))
        cuts = sorted(set(db.scalar(f"SELECT quantile_disc(rid_l, [{marks}]) FROM {pairs}")))
    bounds: list[int | None] = [None, *cuts, None]
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        where = " AND ".join([*([f"rid_l >= {int(lo)}"] if lo is not None else []),
                              *([f"rid_l < {int(hi)}"] if hi is not None else [])]) or "TRUE"
        db.run(f"CREATE OR REPLACE TEMP VIEW {out}_pairs AS SELECT * FROM {pairs} WHERE {where}")
        db.run(f"CREATE OR REPLACE TEMP VIEW {out}_frame AS "
               f"{comps.pair_frame_sql(f'{out}_pairs', features)}")
        names = [f"{c}_l" for c in comps.tf_columns]
        kept = f"* EXCLUDE ({', '.join(names)})" if names else "*"
        sql = f"SELECT {kept} FROM ({comps.gammas_sql(f'{out}_frame')})"
        if i == 0:
            db.create_table(out, sql, temp=True)
        else:
            db.run(f"INSERT INTO {out} {sql}")
    db.run(f"DROP VIEW IF EXISTS {out}_frame")
    db.run(f"DROP VIEW IF EXISTS {out}_pairs")
    return len(bounds) - 1


def patterns(db: SQLRunner, table: str, by_rules: bool = False,
             comps: Comparisons | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct gamma vectors with their counts (and their ``rules`` masks when asked)."""
    gamma_columns = (comps or comparisons_of(None)).gamma_columns
    cols = ", ".join(gamma_columns())
    extra = "rules, " if by_rules else ""
    # Ordered, so that training sums in the same order on every run (same model, same ids).
    t = db.arrow(f"SELECT {extra}{cols}, count(*) AS n FROM {table} GROUP BY ALL ORDER BY ALL")
    pats = np.column_stack([t.column(c).to_numpy() for c in gamma_columns()]).astype(np.int64)
    masks = (t.column("rules").to_numpy().astype(np.int64) if by_rules
             else np.zeros(len(pats), dtype=np.int64))
    return pats, t.column("n").to_numpy().astype(np.int64), masks


def load_masked(db: DuckDBBackend, files: str) -> None:
    """The masked identifiers from Parquet ``files`` (a glob: kind, value) another engine
    counted (``accord.spark``), and the masked view over ``features``."""
    db.create_table(SHARED, f"SELECT kind, value FROM read_parquet({lit(files)})")
    replace_view(db, VIEW, masked_view_sql())


# --- the masked identifiers of a store an incremental update changes ---------------------

def drop_masked(store: Store, keys: Sequence[tuple[str, str]]) -> None:
    """Remove the records ``keys`` from the store's masked features (a store that keeps them
    as a table)."""
    store.write(f"DELETE FROM {VIEW} WHERE {store.dialect.in_keys()}", key_params(keys))


def add_shared(store: Store, kind: str, values: Sequence[str]) -> None:
    """Mask identifier values of one ``kind`` from now on: they became shared."""
    store.write_many(f"INSERT INTO {SHARED} (kind, value) VALUES (?, ?)", [(kind, v) for v in values])


def mask_values(store: Store, column: str, values: Sequence[str]) -> None:
    """Mask ``values`` of an identifier ``column`` in the store's masked features (a store that
    keeps them as a table)."""
    store.write(f"UPDATE {VIEW} SET {ident(column)} = NULL WHERE "
                f"{store.dialect.in_set(ident(column))}", [values])


def copy_shared(db: DuckDBBackend, rows: Sequence[tuple[Any, ...]]) -> None:
    """A private DuckDB's masked identifiers (``rows``: kind, value) and its masked view over
    its ``features``."""
    table = pa.table({"kind": pa.array([str(r[0]) for r in rows], pa.string()),
                      "value": pa.array([str(r[1]) for r in rows], pa.string())})
    with db.registered("_shared_arrow", table):
        db.run(f"CREATE OR REPLACE TABLE {SHARED} AS SELECT * FROM _shared_arrow")
    db.run(f"CREATE OR REPLACE VIEW {VIEW} AS {masked_view_sql()}")


def publish_masked(store: Store, db: DuckDBBackend) -> None:
    """The queued records' rows (local ``_d``) of the private DuckDB's masked view, into the
    store's masked features (a store that keeps them as a table), with their stored rids."""
    masked = db.arrow(f"SELECT * EXCLUDE (grid) REPLACE (grid AS rid) FROM {VIEW} "
                      "WHERE rid IN (SELECT rid FROM _d)")
    if masked.num_rows:
        store.bulk_load(VIEW, masked)
