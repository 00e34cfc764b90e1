"""Comparison levels: cheap pre-tests never change a level."""

from __future__ import annotations

import random

import duckdb

from accord.resolve.comparisons import default_comparisons

COMPARISONS = default_comparisons()


def _edit(rng: random.Random, s: str) -> str:
    i = rng.randrange(len(s))
    kind = rng.randrange(4)
    if kind == 0:  # substitute
        return s[:i] + rng.choice("0123456789") + s[i + 1:]
    if kind == 1 and i < len(s) - 1:  # transpose
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if kind == 2:  # delete
        return s[:i] + s[i + 1:]
    return s[:i] + rng.choice("0123456789") + s[i:]  # insert


def test_one_edit_level_matches_plain_damerau_levenshtein() -> None:
    rng = random.Random(11)
    pairs = []
    for _ in range(3000):
        a = "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 8, 9, 9, 9])))
        b = _edit(rng, a) if rng.random() < 0.7 else "".join(rng.choice("0123456789") for _ in range(9))
        pairs.append((a, b))
    con = duckdb.connect()
    con.execute("CREATE TABLE f (ssn_l VARCHAR, ssn_r VARCHAR, ssn_last4_l VARCHAR, ssn_last4_r VARCHAR)")
    con.executemany("INSERT INTO f VALUES (?, ?, NULL, NULL)", [list(p) for p in pairs])
    ssn = next(c for c in COMPARISONS if c.name == "ssn")
    guarded = ssn.gamma_sql()
    plain = guarded.replace(guarded[guarded.index("(length(ssn_l) < 9"):guarded.index("damerau")], "")
    assert plain != guarded
    differ = con.execute(f"SELECT count(*) FROM f WHERE ({plain}) IS DISTINCT FROM ({guarded})").fetchone()
    assert differ == (0,)
    assert con.execute(f"SELECT count(*) FROM f WHERE ({guarded}) = 2").fetchone()[0] > 500
