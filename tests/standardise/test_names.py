"""Name folding, particles, compounds, suffixes, titles, placeholders, full-name fallback."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from std_helpers import Batch, features, one

from accord.sql_text import lit
from accord.standardise.names import fold_sql, transliterate

FOLDS = [
    ("Nguyễn", "NGUYEN"),
    ("José", "JOSE"),
    ("Øyvind", "OYVIND"),
    ("Straße", "STRASSE"),
    ("STRASSE", "STRASSE"),
    ("Łukasz", "LUKASZ"),
    ("Đặng", "DANG"),
    ("Ærøskøbing", "AEROSKOBING"),
    ("Müller", "MULLER"),
    ("Çelik", "CELIK"),
    ("İsmail", "ISMAIL"),
    ("ışık", "ISIK"),
    ("Məmmədov", "MAMMADOV"),
    ("O'Brien", "OBRIEN"),
    ("O’Brien", "OBRIEN"),
    ("D'Angelo", "DANGELO"),
    ("Smith-Jones", "SMITH JONES"),
    ("  mary   ann ", "MARY ANN"),
    ("J.R.", "J R"),
    ("St. John", "ST JOHN"),
    ("Smith3", "SMITH"),
    ("Smith 3rd", "SMITH III"),
    ("---", None),
    ("", None),
]


def test_fold() -> None:
    con = duckdb.connect()
    got = con.execute("SELECT " + ", ".join(fold_sql(lit(raw)) for raw, _ in FOLDS)).fetchall()[0]
    assert dict(zip([r for r, _ in FOLDS], got, strict=True)) == dict(FOLDS)


def test_transliterate_cyrillic_and_greek_and_keep_other_scripts() -> None:
    out = transliterate(["СЕРГЕЙ", "ЮЛИЯ", "ΓΕΩΡΓΙΟΣ", "محمد"])
    assert out == {"СЕРГЕЙ": "SERGEI", "ЮЛИЯ": "IULIIA", "ΓΕΩΡΓΙΟΣ": "GEORGIOS", "محمد": "محمد"}


def test_cyrillic_record_gets_the_passport_spelling_and_its_variant_key() -> None:
    f = one(given_name="Юлия", family_name="Иванова")
    assert (f["given_std"], f["family_std"]) == ("IULIIA", "IVANOVA")
    assert f["given_key"] == one(given_name="Yuliya")["given_key"]


FAMILIES = [
    ("de la Cruz", "CRUZ", "DE LA CRUZ", ["CRUZ"]),
    ("García López", "GARCIA LOPEZ", "GARCIA LOPEZ", ["GARCIA", "LOPEZ"]),
    ("García-López", "GARCIA LOPEZ", "GARCIA LOPEZ", ["GARCIA", "LOPEZ"]),
    ("van der Berg", "BERG", "VAN DER BERG", ["BERG"]),
    ("Al-Rashid", "RASHID", "AL RASHID", ["RASHID"]),
    ("El Sayed", "SAYED", "EL SAYED", ["SAYED"]),
    ("da Silva e Souza", "SILVA SOUZA", "DA SILVA E SOUZA", ["SILVA", "SOUZA"]),
    ("Dela Cruz", "CRUZ", "DELA CRUZ", ["CRUZ"]),
    ("O Brien", "OBRIEN", "OBRIEN", ["OBRIEN"]),
    ("Mc Donald", "MCDONALD", "MCDONALD", ["MCDONALD"]),
    ("O'Brien", "OBRIEN", "OBRIEN", ["OBRIEN"]),
    ("De", "DE", "DE", ["DE"]),  # a particle that is the whole name stays
    ("Le", "LE", "LE", ["LE"]),
]


@pytest.fixture(scope="module")
def families() -> Batch:
    return Batch([{"given_name": "Ana", "family_name": f} for f, *_ in FAMILIES])


@pytest.mark.parametrize("i", range(len(FAMILIES)), ids=[f for f, *_ in FAMILIES])
def test_family_particles_and_compounds(families: Batch, i: int) -> None:
    _, std, full, tokens = FAMILIES[i]
    f = families[i]
    assert (f["family_std"], f["family_tokens"]) == (std, tokens)
    assert f["family_concat"] == full.replace(" ", "")  # the particles kept


def test_compound_family_key_is_per_token_and_keys_hold_every_token() -> None:
    f = one(given_name="Ana", family_name="Gonzales Rodrigues")
    assert f["family_key"] == "GONZALEZ RODRIGUEZ"
    assert {"GONZALEZ", "RODRIGUEZ"} <= set(f["family_keys"])


PARTS: list[tuple[dict[str, Any], str | None, str | None, str | None, str | None]] = [
    ({"given_name": "John", "family_name": "Smith Jr."}, "JOHN", None, "SMITH", "JR"),
    ({"given_name": "John", "family_name": "Smith III"}, "JOHN", None, "SMITH", "III"),
    ({"given_name": "John", "family_name": "Smith", "name_suffix": "Junior"}, "JOHN", None, "SMITH", "JR"),
    ({"given_name": "John", "family_name": "Smith", "name_suffix": "3rd"}, "JOHN", None, "SMITH", "III"),
    ({"given_name": "John", "family_name": "Smith 2nd"}, "JOHN", None, "SMITH", "II"),
    ({"given_name": "John", "family_name": "Smith", "name_suffix": "V"}, "JOHN", None, "SMITH", "V"),
    ({"given_name": "John", "family_name": "Smith", "name_suffix": "Esq"}, "JOHN", None, "SMITH", None),
    ({"given_name": "John", "family_name": "Smith PhD"}, "JOHN", None, "SMITH", None),
    # "JOHN SMITH JR" split as given / middle / family at ingest
    ({"given_name": "John", "middle_name": "Smith", "family_name": "Jr"}, "JOHN", None, "SMITH", "JR"),
    ({"given_name": "John", "middle_name": "Paul Smith", "family_name": "II"}, "JOHN", "PAUL", "SMITH", "II"),
    ({"given_name": "John Jr", "family_name": "Smith"}, "JOHN", None, "SMITH", "JR"),
    # V and I are initials when they are not in the suffix field
    ({"given_name": "John", "middle_name": "V", "family_name": "Smith"}, "JOHN", "V", "SMITH", None),
    ({"given_name": "Dr. John", "family_name": "Smith"}, "JOHN", None, "SMITH", None),
    ({"given_name": "Mrs", "middle_name": "Mary Ann", "family_name": "Smith"}, "MARY", "ANN", "SMITH", None),
    ({"given_name": "FNU", "family_name": "Smith"}, None, None, "SMITH", None),
    ({"given_name": "John", "middle_name": "NMN", "family_name": "Smith"}, "JOHN", None, "SMITH", None),
    ({"given_name": "Baby Girl", "family_name": "Unknown"}, None, None, None, None),
]


@pytest.fixture(scope="module")
def parts() -> Batch:
    return Batch([fields for fields, *_ in PARTS])


@pytest.mark.parametrize("i", range(len(PARTS)))
def test_suffixes_titles_and_placeholders(parts: Batch, i: int) -> None:
    fields, *expected = PARTS[i]
    f = parts[i]
    assert [f["given_std"], f["middle_std"], f["family_std"], f["name_suffix_std"]] == expected, fields


def test_placeholders_are_flagged_not_silently_dropped() -> None:
    f = one(given_name="FNU", middle_name="NMN", family_name="LNU")
    assert {"given_placeholder", "middle_placeholder", "family_placeholder"} <= set(f["flags"])
    assert f["given_key"] is None and f["family_key"] is None


def test_two_placeholder_records_do_not_agree_on_a_name() -> None:
    a, b = features([{"given_name": "FNU", "family_name": "Garcia"},
                     {"given_name": "Fnu", "family_name": "Garcia"}])
    assert a["given_std"] is None and b["given_std"] is None


SOURCES: list[tuple[dict[str, Any], str, str | None, str]] = [
    ({"given_names": "Mary Ann Louise", "family_name": "Smith"}, "MARY", "ANN LOUISE", "SMITH"),
    ({"full_name": "Smith, Mary Ann"}, "MARY", "ANN", "SMITH"),
    ({"full_name": "DE LA CRUZ, MARIA GUADALUPE"}, "MARIA", "GUADALUPE", "CRUZ"),
    ({"full_name": "Mary Ann Smith"}, "MARY", "ANN", "SMITH"),
    ({"full_name": "Mary Smith"}, "MARY", None, "SMITH"),
    # explicit parts win over full_name
    ({"given_name": "Maria", "family_name": "Lopez", "full_name": "Smith, Mary"}, "MARIA", None, "LOPEZ"),
]


def test_given_names_and_full_name_feed_the_parts_when_parts_are_missing() -> None:
    got = features([fields for fields, *_ in SOURCES])
    for (fields, *expected), f in zip(SOURCES, got, strict=True):
        assert [f["given_std"], f["middle_std"], f["family_std"]] == expected, fields


def test_given_tokens_and_phonetic_of_first_token() -> None:
    f = one(given_name="Jean-Paul", middle_name="andré", family_name="Schmidt")
    assert f["given_std"] == "JEAN PAUL"
    assert f["given_tokens"] == ["JEAN", "PAUL"]
    assert f["middle_std"] == "ANDRE"
    assert (f["given_dm1"], f["given_dm2"]) == ("JN", "AN")
    assert (f["family_dm1"], f["family_dm2"]) == ("XMT", "SMT")


def test_an_initial_gets_no_phonetic_code() -> None:
    f = one(given_name="J.", family_name="Smith")
    assert f["given_std"] == "J" and f["given_dm1"] is None and f["given_key"] == "J"


def test_multi_word_variant_is_looked_up_without_spaces() -> None:
    a, b, c = features([{"given_name": "Abdul Rahman"}, {"given_name": "Abdirahman"},
                        {"given_name": "Abdel-Rahman"}])
    assert a["given_key"] == b["given_key"] == c["given_key"] == "ABDULRAHMAN"
