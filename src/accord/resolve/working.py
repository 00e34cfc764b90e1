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
import os
import re
from collections.abc import Callable, Iterator

import numpy as np

from accord.resolve.comparisons import gammas_sql, pair_frame_sql
from accord.resolve.model import gamma_columns, tf_sql
from accord.resolve.settings import BlockingRule, Resources, Settings
from accord.sql.backend import DuckDBBackend
from accord.sql_text import ident, lit

IDENTIFIERS = ("ssn", "a_number", "passport", "itin")
FEATURES = "features"
VIEW = "resolve_features"
SHARED = "resolve_shared_identifiers"


def blocking_source(rule: BlockingRule) -> str:
    """A rule on an identifier reads the masked view; any other reads ``features`` itself
    (the same values, without the masking joins)."""
    return VIEW if set(IDENTIFIERS) & (set(rule.keys) | set(rule.right)) else FEATURES


def shared_identifiers_sql(people: int, features: str = FEATURES) -> str:
    """Identifier values used with ``people`` or more distinct dates of birth."""
    return " UNION ALL ".join(
        f"SELECT {lit(c)} AS kind, {ident(c)} AS value FROM {features} WHERE {ident(c)} IS NOT NULL "
        f"GROUP BY {ident(c)} HAVING count(DISTINCT dob) >= {int(people)}" for c in IDENTIFIERS)


def masked_view_sql(features: str = FEATURES, shared: str = SHARED) -> str:
    """``features`` with shared identifiers NULL. Left joins (each value is listed once per
    kind), not ``IN (subquery)``: the engine can then spill the frame joins built on it."""
    masked = ", ".join(f"CASE WHEN {ident('m_' + c)}.value IS NULL THEN f.{ident(c)} END AS {ident(c)}"
                       for c in IDENTIFIERS)
    joins = " ".join(f"LEFT JOIN (SELECT value FROM {shared} WHERE kind = {lit(c)}) {ident('m_' + c)} "
                     f"ON {ident('m_' + c)}.value = f.{ident(c)}" for c in IDENTIFIERS)
    return f"SELECT f.* REPLACE ({masked}) FROM {features} f {joins}"


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


MIB = 1024 ** 2
_UNITS = {"B": 1, "KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12,
          "KIB": 2 ** 10, "MIB": 2 ** 20, "GIB": 2 ** 30, "TIB": 2 ** 40}


def parse_size(text: str) -> int:
    """Bytes in a size such as ``300MB``, ``1.5GiB`` or ``4096B``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*", text, flags=re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def machine_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget(resources: Resources, records: Callable[[], int]) -> int | None:
    """The memory limit for a run, in bytes (None: the connection's own); ``records`` counts
    the current records (asked only for ``auto``)."""
    if resources.memory_limit is None:
        return None
    if resources.memory_limit.strip().lower() != "auto":
        return parse_size(resources.memory_limit)
    budget = max(256 * MIB, records() * resources.memory_per_record)
    total = machine_memory()
    return min(budget, total // 2) if total else budget


@contextlib.contextmanager
def engine_resources(db: DuckDBBackend, budget: int | None, threads: int | None) -> Iterator[None]:
    """Apply the memory limit (bytes) and thread count for the run, then restore the
    connection's own."""
    wanted = {"memory_limit": f"{budget // MIB}MiB" if budget else None,
              "threads": str(threads) if threads else None}
    saved: dict[str, str] = {}
    try:
        for name, value in wanted.items():
            if value is None:
                continue
            saved[name] = str(db.scalar(f"SELECT current_setting({lit(name)})"))
            db.run(f"SET {name} = {lit(value)}")
        yield
    finally:
        for name, value in saved.items():
            with contextlib.suppress(Exception):  # never mask the run's own error
                # The engine's default exactly when it was the default (the setting reads
                # back rounded, "18.8 GiB"), else the value it read back.
                db.run(f"RESET {name}")
                if str(db.scalar(f"SELECT current_setting({lit(name)})")) != value:
                    db.run(f"SET {name} = {lit(value)}")


def tf_tables(db: DuckDBBackend, features: str = VIEW) -> None:
    db.create_table("tf_given", tf_sql("given_std", features), temp=True)
    db.create_table("tf_family", tf_sql("family_std", features), temp=True)


def compare(db: DuckDBBackend, pairs: str, out: str, features: str = VIEW) -> None:
    """``out``: one narrow row per pair of ``pairs`` (``gammas_sql``: rid_l, rid_r, rule,
    rules, the left names for term frequencies, a TINYINT gamma per comparison). The frame
    with both sides' features is a view streamed into it, never held; under a memory limit
    the engine partitions its two join tables to disk (an external hash join)."""
    db.run(f"CREATE OR REPLACE TEMP VIEW {out}_frame AS {pair_frame_sql(pairs, features)}")
    db.create_table(out, gammas_sql(f"{out}_frame"), temp=True)
    db.run(f"DROP VIEW IF EXISTS {out}_frame")


def patterns(db: DuckDBBackend, table: str, by_rules: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct gamma vectors with their counts (and their ``rules`` masks when asked)."""
    cols = ", ".join(gamma_columns())
    extra = "rules, " if by_rules else ""
    # Ordered, so that training sums in the same order on every run (same model, same ids).
    t = db.arrow(f"SELECT {extra}{cols}, count(*) AS n FROM {table} GROUP BY ALL ORDER BY ALL")
    pats = np.column_stack([t.column(c).to_numpy() for c in gamma_columns()]).astype(np.int64)
    masks = (t.column("rules").to_numpy().astype(np.int64) if by_rules
             else np.zeros(len(pats), dtype=np.int64))
    return pats, t.column("n").to_numpy().astype(np.int64), masks
