"""Columns a caller adds to ``features`` (resolution's statistics base): computed from the
source row, kept after the declared columns, and nothing else changes."""

from __future__ import annotations

import duckdb
from std_helpers import load

from accord.standardise import FEATURE_COLUMNS, build_features

ROWS = [
    {"source": "tax", "record_id": "1", "system": "irs", "given_name": "Ana", "family_name": "Ruiz"},
    {"source": "ssa", "record_id": "2", "system": "ssa", "given_name": "Li", "family_name": "Wang"},
    {"source": "ssa", "record_id": "1", "system": "ssa", "given_name": "Bo", "family_name": "Wu"},
]


def test_extra_columns_follow_the_declared_ones_with_their_values() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    build_features(con, "recs")
    plain = con.execute("SELECT * FROM features ORDER BY rid").fetchall()
    build_features(con, "recs", extra={"in_base": ("system <> 'irs'", "BOOLEAN"),
                                       "marks": ("CASE WHEN system = 'irs' THEN 4 ELSE 0 END", "BIGINT")})
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE features").fetchall()]
    assert described == [*((n, t) for n, t, _ in FEATURE_COLUMNS), ("in_base", "BOOLEAN"),
                         ("marks", "BIGINT")]
    rows = con.execute("SELECT * FROM features ORDER BY rid").fetchall()
    assert [r[:-2] for r in rows] == plain
    assert [(r[1], r[2], r[-2], r[-1]) for r in rows] == [
        ("ssa", "1", True, 0), ("ssa", "2", True, 0), ("tax", "1", False, 4)]
