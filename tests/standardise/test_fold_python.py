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


def test_python_and_sql_family_tokens_agree() -> None:
    from accord.standardise.names import family_forms_sql, family_tokens, transliterate
    from accord.standardise.reference import particles

    folded = {f for n in _names() if (f := fold(n))}
    odd = {f for f in folded if any(not ("A" <= c <= "Z" or c == " ") for c in f)}
    latin = transliterate(odd) if odd else {}
    families = sorted({latin.get(f, f) for f in folded})
    pa = particles()
    # every particle alone, first, in the middle, last, doubled, attached to another
    for p in (*pa.drop, *pa.attach):
        families += [p, f"{p} SMITH", f"ANA {p} SMITH", f"SMITH {p}", f"{p} {p} SMITH", f"{p} {p}",
                     f"O {p} SMITH", f"{p} O SMITH", f"DE LA {p} CRUZ"]
    families += ["DE LA CRUZ", "O BRIEN", "MC DONALD", "MAC DONALD", "FITZ GERALD", "D ANGELO",
                 "VAN DER BERG",
                 "O D ANGELO", "A  B", " X", "Y ", "DE", "DE DE", "MC", "MC MC MC"]
    sql = family_forms_sql("(SELECT unnest(?::VARCHAR[]) AS family)")
    got = {f: tuple(t) for f, t in duckdb.connect().execute(
        f"SELECT family, family_tokens FROM ({sql})", [families]).fetchall()}
    mismatches = {f: (family_tokens(f), got[f]) for f in families if family_tokens(f) != got[f]}
    assert mismatches == {}
