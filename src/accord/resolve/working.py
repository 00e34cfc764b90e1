"""Resolution's working set: the features it reads, the engine resources it runs with, and
the comparison runner shared by scoring and u sampling.

``resolve_features`` is a view over the standardise stage's ``features`` with shared
identifiers masked (an identifier seen with several dates of birth stops counting as
evidence): nothing is copied, and the engine reads the compressed ``features`` table, whose
pages it can drop and re-read under a memory limit. The identifiers masked are the table
``resolve_shared_identifiers`` (kind, value), rewritten each run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from accord.resolve.comparisons import gammas_sql, pair_frame_sql
from accord.resolve.model import gamma_columns, tf_sql
from accord.resolve.settings import Resources, Settings
from accord.sql.backend import DuckDBBackend
from accord.sql_text import ident, lit

IDENTIFIERS = ("ssn", "a_number", "passport", "itin")
FEATURES = "features"
VIEW = "resolve_features"
SHARED = "resolve_shared_identifiers"


def shared_identifiers_sql(people: int, features: str = FEATURES) -> str:
    """Identifier values used with ``people`` or more distinct dates of birth."""
    return " UNION ALL ".join(
        f"SELECT {lit(c)} AS kind, {ident(c)} AS value FROM {features} WHERE {ident(c)} IS NOT NULL "
        f"GROUP BY {ident(c)} HAVING count(DISTINCT dob) >= {int(people)}" for c in IDENTIFIERS)


def masked_view_sql(features: str = FEATURES, shared: str = SHARED) -> str:
    masked = ", ".join(
        f"CASE WHEN {ident(c)} IN (SELECT value FROM {shared} WHERE kind = {lit(c)}) "
        f"THEN NULL ELSE {ident(c)} END AS {ident(c)}" for c in IDENTIFIERS)
    return f"SELECT * REPLACE ({masked}) FROM {features}"


def replace_view(db: DuckDBBackend, name: str, sql: str) -> None:
    """CREATE OR REPLACE VIEW, also where an earlier version of the store kept a table of
    that name (CREATE OR REPLACE VIEW cannot replace a table)."""
    if db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
                 "AND database_name = current_database() AND schema_name = current_schema()",
                 [name]):
        db.run(f"DROP TABLE {ident(name)}")
    db.run(f"CREATE OR REPLACE VIEW {ident(name)} AS {sql}")


def prepare(db: DuckDBBackend, settings: Settings) -> tuple[int, int]:
    """Standardise, mask shared identifiers; returns (records, shared identifiers)."""
    from accord.standardise.features import build_features

    build_features(db.con, "records_current")
    k = settings.clustering.shared_identifier_people
    db.create_table(SHARED, shared_identifiers_sql(k))
    replace_view(db, VIEW, masked_view_sql())
    records = int(db.scalar(f"SELECT count(*) FROM {FEATURES}"))
    return records, int(db.scalar(f"SELECT count(*) FROM {SHARED}"))


@contextlib.contextmanager
def engine_resources(db: DuckDBBackend, resources: Resources) -> Iterator[None]:
    """Apply the memory limit and thread count for the run, then restore the connection's."""
    wanted = {"memory_limit": resources.memory_limit, "threads": resources.threads}
    saved: dict[str, str] = {}
    try:
        for name, value in wanted.items():
            if value is None:
                continue
            saved[name] = str(db.scalar(f"SELECT current_setting({lit(name)})"))
            db.run(f"SET {name} = {lit(str(value))}")
        yield
    finally:
        for name, value in saved.items():
            with contextlib.suppress(Exception):  # never mask the run's own error
                db.run(f"SET {name} = {lit(value)}")


def tf_tables(db: DuckDBBackend, features: str = VIEW) -> None:
    db.create_table("tf_given", tf_sql("given_std", features), temp=True)
    db.create_table("tf_family", tf_sql("family_std", features), temp=True)


def compare(db: DuckDBBackend, pairs: str, out: str, features: str = VIEW) -> None:
    """``out``: one narrow row per pair of ``pairs`` — rid_l, rid_r, rule, rules, a gamma per
    comparison (TINYINT) and the term frequencies of the left names (tf_given, tf_family;
    tables from ``tf_tables``). The frame with both sides' features is a view streamed into
    it, never held."""
    db.run(f"CREATE OR REPLACE TEMP VIEW {out}_frame AS {pair_frame_sql(pairs, features)}")
    db.create_table(out, f"""
        SELECT g.* EXCLUDE (given_std_l, family_std_l), tg.tf AS tf_given, tf.tf AS tf_family
        FROM ({gammas_sql(f"{out}_frame")}) g
        LEFT JOIN tf_given tg ON tg.value = g.given_std_l
        LEFT JOIN tf_family tf ON tf.value = g.family_std_l""", temp=True)
    db.run(f"DROP VIEW IF EXISTS {out}_frame")


def patterns(db: DuckDBBackend, table: str, by_rules: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct gamma vectors with their counts (and their ``rules`` masks when asked)."""
    cols = ", ".join(gamma_columns())
    extra = "rules, " if by_rules else ""
    t = db.arrow(f"SELECT {extra}{cols}, count(*) AS n FROM {table} GROUP BY ALL")
    pats = np.column_stack([t.column(c).to_numpy() for c in gamma_columns()]).astype(np.int64)
    masks = (t.column("rules").to_numpy().astype(np.int64) if by_rules
             else np.zeros(len(pats), dtype=np.int64))
    return pats, t.column("n").to_numpy().astype(np.int64), masks
