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


def _levels(name: str, rows: list[tuple[object, ...]], columns: list[str]) -> list[str]:
    comparison = next(c for c in COMPARISONS if c.name == name)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE f ({', '.join(c + ' VARCHAR' for c in columns)})")
    con.executemany(f"INSERT INTO f VALUES ({', '.join('?' for _ in columns)})", [list(r) for r in rows])
    gammas = con.execute(f"SELECT {comparison.gamma_sql()} FROM f").fetchall()
    return [comparison.label(int(g)) for (g,) in gammas]


def test_other_id_is_compared_within_its_namespace_only() -> None:
    def side(v: str | None) -> tuple[str | None, str | None]:
        return v, (v.split(":")[0] if v else None)

    values = [
        ("febrl_soc_sec:1804974", "febrl_soc_sec:1804974"),   # the same value
        ("febrl_soc_sec:1804974", "febrl_soc_sec:1809474"),   # two digits transposed
        ("febrl_soc_sec:1804974", "febrl_soc_sec:1804975"),   # one digit
        ("febrl_soc_sec:1804974", "febrl_soc_sec:180497"),    # one digit lost
        ("febrl_soc_sec:1804974", "febrl_soc_sec:6089216"),   # another person's
        ("state_dl_ca:1804974", "febrl_soc_sec:1804974"),     # the same digits in another scheme
        ("state_dl_ca:D1804974", "state_dl_cb:D1804974"),     # namespaces one letter apart
        ("febrl_soc_sec:1804974", None),
        (None, None),
    ]
    rows = [(*side(a), *side(b)) for a, b in values]
    assert _levels("other_id", rows, ["other_id_l", "other_id_ns_l", "other_id_r", "other_id_ns_r"]) == [
        "exact", "one character or transposition", "one character or transposition",
        "one character or transposition", "different", "missing", "missing", "missing", "missing"]


def test_the_address_uses_the_postcode_and_the_region_where_there_is_no_zip() -> None:
    cols = ["postcode_l", "postcode_r", "street_number_l", "street_number_r", "street_name_l",
            "street_name_r",
            "city_std_l", "city_std_r", "region_l", "region_r"]
    rows = [
        ("2119", "2119", "7", "7", "WALLABY PL", "WALLABY PL", "CLEVELAND", "CLEVELAND", "NSW", "NSW"),
        ("2119", "2119", "7", "9", "WALLABY PL", "WALLABY PL", "CLEVELAND", "CLEVELAND", "NSW", "NSW"),
        ("2119", "3165", "7", "7", "WALLABY PL", "WALLABY PL", "CLEVELAND", "CLEVELAND", "NSW", "NSW"),
        ("2119", "3165", "7", "7", "WALLABY PL", "WALLABY PL", "CLEVELAND", "CLEVELAND", "NSW", "VIC"),
        (None, None, "7", "7", "WALLABY PL", "WALLABY PL", "CLEVELAND", "CLEVELAND", "NSW", "NSW"),
        (None, "2119", None, None, None, None, None, "CLEVELAND", None, "NSW"),
    ]
    assert _levels("address", rows, cols) == [
        "same street address", "same ZIP", "same city", "different", "same city", "missing"]
