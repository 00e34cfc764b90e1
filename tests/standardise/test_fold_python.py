"""The Python fold gives exactly what the SQL fold gives, on names from many scripts and
with the punctuation, digits and ligatures the SQL handles."""

from __future__ import annotations

import duckdb
from faker import Faker

from accord.standardise.names import fold, fold_sql

EDGE = [
    "O'Brien",
    "Nguyễn",
    "Øyvind",
    "Straße",
    "ÆSIR",
    "Smith 3rd",
    "smith-jones",
    "  ",
    "",
    "D'Angelo  Jr.",
    "Łukasz",
    "Đặng",
    "Ǆuro",
    "İlkay",
    "ı",
    "José María",
    "Ходжа",
    "Ωmega",
    "Müller–Lüdenscheidt",
    "X Æ A-12",
    "Mc Donald",
    "O’Neil",
    "ʻOkina",
    "5th",
    "Henry VIII 2nd",
    "김민준",
    "ﬁona",
    "Ａｂｃ",
]


def _names() -> list[str]:
    out = list(EDGE)
    for loc in ("es_MX", "vi_VN", "ru_RU", "pl_PL", "tr_TR", "de_DE", "fr_FR", "el_GR", "ko_KR", "ar_AA"):
        f = Faker(loc)
        f.seed_instance(7)
        out += [f.name() for _ in range(150)]
    return out


def test_python_and_sql_folds_agree() -> None:
    names = _names()
    con = duckdb.connect()
    got = dict(
        con.execute(f"SELECT v, {fold_sql('v')} FROM (SELECT unnest(?::VARCHAR[]) AS v)", [names]).fetchall()
    )
    mismatches = {n: (fold(n), got[n]) for n in names if fold(n) != got[n]}
    assert mismatches == {}
