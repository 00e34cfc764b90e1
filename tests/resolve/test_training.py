"""u from value counts and random pairs; EM sessions per blocking rule."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import numpy as np
import pytest

from accord.resolve.comparisons import default_comparisons
from accord.resolve.model import FSModel, non_match_u
from accord.resolve.training import agreement_sql, dob_swapped_sql, sessions, with_known

COMPARISONS = default_comparisons()


def _brute(values: list[object], agree: object) -> float:
    """Share of ordered pairs of distinct records (both present) for which agree(a, b)."""
    present = [v for v in values if v is not None]
    pairs = [(a, b) for i, a in enumerate(present) for j, b in enumerate(present) if i != j]
    return sum(1 for a, b in pairs if agree(a, b)) / len(pairs)  # type: ignore[operator]


def test_agreement_from_value_counts_is_the_share_of_agreeing_random_pairs() -> None:
    rng = random.Random(5)
    values = [rng.choice(["ANA", "LI", "JOHN", "MARIA", None]) for _ in range(60)]
    con = duckdb.connect()
    con.execute("CREATE TABLE f (given_std VARCHAR)")
    con.executemany("INSERT INTO f VALUES (?)", [[v] for v in values])
    got = con.execute(agreement_sql("given_std", "f")).fetchone()[0]
    assert got == pytest.approx(_brute(values, lambda a, b: a == b))


def test_day_and_month_swapped_from_value_counts() -> None:
    rng = random.Random(7)
    dobs = [date(1980 + rng.randrange(2), rng.randrange(1, 4), rng.randrange(1, 4)) for _ in range(50)]
    con = duckdb.connect()
    con.execute("CREATE TABLE f (dob DATE, dob_y SMALLINT, dob_m TINYINT, dob_d TINYINT)")
    con.executemany("INSERT INTO f VALUES (?, ?, ?, ?)", [[d, d.year, d.month, d.day] for d in dobs])
    got = con.execute(dob_swapped_sql("f")).fetchone()[0]

    def swapped(a: date, b: date) -> bool:
        return a != b and a.year == b.year and a.month == b.day and a.day == b.month

    assert got == pytest.approx(_brute(list(dobs), swapped))
    assert got > 0


def test_known_levels_replace_sampled_ones_and_the_rest_keeps_its_proportions() -> None:
    u = {"dob": [0.90, 0.06, 0.02, 0.01, 0.01], "sex": [0.5, 0.5]}
    out = with_known(u, {"dob": {4: 0.001, 3: 0.0001}})
    assert out["dob"][4] == pytest.approx(0.001) and out["dob"][3] == pytest.approx(0.0001)
    assert sum(out["dob"]) == pytest.approx(1.0)
    assert out["dob"][0] / out["dob"][1] == pytest.approx(0.90 / 0.06)
    assert out["sex"] == u["sex"]


def test_sessions_hold_every_pair_a_rule_finds() -> None:
    pats = np.array([[1, 0], [0, 1], [1, 1]])
    counts = np.array([5, 7, 9])
    masks = np.array([0b01, 0b10, 0b11])  # the third pattern is found by both rules
    p, c, r = sessions(pats, counts, masks, 2, 2)
    assert sorted(zip(r.tolist(), c.tolist(), strict=True)) == [(0, 5), (0, 9), (1, 7), (1, 9)]
    assert p.shape == (4, 2)


def test_sampled_pairs_that_are_one_person_leave_an_identifiers_u() -> None:
    width = len(COMPARISONS)
    # Random pairs: almost all disagree on everything; a few agree on everything (one person).
    base = np.zeros(width, dtype=np.int64)
    same = np.array([len(c.levels) - 1 for c in COMPARISONS], dtype=np.int64)
    pats = np.vstack([base, same])
    counts = np.array([1_000_000, 40])
    m = {c.name: [0.01] * (len(c.levels) - 1) + [1 - 0.01 * (len(c.levels) - 1)] for c in COMPARISONS}
    u = {c.name: [1 - 40e-6 * (len(c.levels) - 1)] + [40e-6] * (len(c.levels) - 1)
         for c in COMPARISONS}
    model = FSModel(m=m, u=u, prior=4e-5)
    again = non_match_u(pats, counts, model, {"ssn"})
    assert again["ssn"][-1] == pytest.approx(1e-6, rel=0.01)  # only the floor is left
    assert again["address"] == u["address"]  # other comparisons keep theirs


def test_each_rules_session_counts_the_pairs_with_its_bit() -> None:
    rng = np.random.default_rng(1)
    masks = rng.integers(0, 8, size=60)
    pats = rng.integers(0, 3, size=(60, 3))
    counts = rng.integers(1, 10, size=60)
    _, c, r = sessions(pats, counts, masks, 3, 2)
    for i in range(3):
        assert c[r == i].sum() == counts[(masks >> i) & 1 == 1].sum()


def test_same_street_address_from_value_counts() -> None:
    from accord.resolve.training import same_values_sql

    rng = random.Random(3)
    rows = []
    for _ in range(40):
        zip5 = rng.choice(["20001", "20002", None])
        city = rng.choice(["DC", None])
        number = rng.choice(["1", "2", None])
        rows.append((zip5, number, rng.choice(["MAIN ST", "OAK AVE"]), city))
    con = duckdb.connect()
    con.execute("CREATE TABLE f (zip5 VARCHAR, street_number VARCHAR, street_name VARCHAR, "
                "city_std VARCHAR)")
    con.executemany("INSERT INTO f VALUES (?, ?, ?, ?)", [list(r) for r in rows])
    got = con.execute(same_values_sql("f", ["zip5", "street_number", "street_name"],
                                      ["zip5", "city_std"])).fetchone()[0]
    # Among ordered pairs whose address comparison is not missing (ZIP on both, or city on both).
    present = [(a, b) for i, a in enumerate(rows) for j, b in enumerate(rows)
               if i != j and ((a[0] and b[0]) or (a[3] and b[3]))]
    same = [1 for a, b in present if a[0] and a[1] and a[0] == b[0] and a[1] == b[1] and a[2] == b[2]]
    assert got == pytest.approx(len(same) / len(present))
