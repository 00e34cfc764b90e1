"""Nickname and transliteration keys: same key only for names that are unambiguously the same."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from std_helpers import features

from accord.standardise.reference import csv_rows
from accord.standardise.variants import lookup, variant_entries


def key(name: str, part: str = "given") -> str:
    e = lookup(name, part)
    return e.key if e else name


def keys(name: str, part: str = "given") -> set[str]:
    e = lookup(name, part)
    return set(e.keys) if e else {name}


def may_match(a: str, b: str, part: str = "given") -> bool:
    return bool(keys(a, part) & keys(b, part))


@pytest.mark.parametrize("a,b", [
    ("BILL", "WILLIAM"), ("BILLY", "WILLIAM"), ("WM", "WILLIAM"), ("BOB", "ROBERT"), ("BOBBY", "ROB"),
    ("PEPE", "JOSE"), ("PACO", "FRANCISCO"), ("CHUY", "JESUS"), ("MISHA", "MIKHAIL"),
    ("STEVE", "STEVEN"), ("STEVE", "STEPHEN"), ("PEG", "MARGARET"), ("LIZ", "ELIZABETH"),
    ("KATHERINE", "CATHERINE"), ("JHON", "JOHN"),
])
def test_nicknames_and_spellings_share_the_key(a: str, b: str) -> None:
    assert key(a) == key(b)


@pytest.mark.parametrize("a,b", [
    ("BILL", "BOB"), ("ALBERT", "ALFRED"), ("ALAN", "ALBERT"), ("ALEXANDER", "ALEXANDRA"),
    ("JOHN", "JONATHAN"), ("CATHERINE", "KATHLEEN"), ("MARY", "MARIA"), ("JOSE", "JOSEPH"),
])
def test_different_names_never_share_the_key(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_nickname_of_several_names_keeps_its_own_key_and_may_match_each() -> None:
    assert key("AL") == "AL"
    assert may_match("AL", "ALBERT") and may_match("AL", "ALFRED")
    assert not may_match("ALBERT", "ALFRED")  # not transitive


def test_nickname_that_is_also_a_given_name_keeps_its_key() -> None:
    # JACK, MAX, LIAM are legal given names in their own right.
    for nick, full in (("JACK", "JOHN"), ("MAX", "MAXWELL"), ("LIAM", "WILLIAM")):
        assert key(nick) == nick and may_match(nick, full)


@pytest.mark.parametrize("group", [
    ["MOHAMMED", "MUHAMMAD", "MOHAMED", "MOHAMMAD", "MUHAMMED", "MAXAMED"],
    ["HUSSEIN", "HUSSAIN", "HOSSEIN", "HUSAYN", "HUSEYIN"],
    ["YOUSSEF", "YUSUF", "YOUSEF"],
    ["ABDULRAHMAN", "ABDELRAHMAN", "ABDURRAHMAN", "ABDIRAHMAN"],
    ["FATIMA", "FATMA", "FATEMEH", "FADUMO"],
    ["SERGEI", "SERGEY"], ["ALEKSEI", "ALEXEY", "ALEKSEY"],
    ["IULIIA", "YULIYA", "YULIA"],
    ["DMITRII", "DMITRY", "DMITRIY", "DMITRI"],
    ["SRINIVAS", "SHRINIVAS", "SREENIVAS"],
])
def test_transliteration_spellings_share_the_key(group: list[str]) -> None:
    assert len({key(n) for n in group}) == 1


@pytest.mark.parametrize("group", [
    ["GONZALEZ", "GONZALES"], ["IVANOV", "IVANOFF"], ["SOLOVYOV", "SOLOVIEV", "SOLOVEV"],
    ["CHAUDHARY", "CHOUDHURY", "CHOWDHURY"], ["PARK", "PAK", "BAK"], ["MULLER", "MUELLER"],
    ["SOUZA", "SOUSA"], ["HOSSEINI", "HUSSAINI"],
])
def test_family_spellings_share_the_key(group: list[str]) -> None:
    assert len({key(n, "family") for n in group}) == 1


def test_romanisation_equivalents_only_may_match_and_are_not_transitive() -> None:
    # ZHANG (pinyin) is CHANG in Wade-Giles; CHANG is also Korean JANG. Each pair may match...
    assert may_match("ZHANG", "CHANG", "family") and may_match("CHANG", "JANG", "family")
    assert key("ZHANG", "family") != key("CHANG", "family")
    # ...but ZHANG and JANG never meet through CHANG.
    assert not may_match("ZHANG", "JANG", "family")
    assert may_match("CHEN", "CHAN", "family") and not may_match("CHEN", "WANG", "family")


def test_family_variants_do_not_use_given_name_nicknames() -> None:
    assert lookup("BILL", "family") is None


def test_data_tables_are_folded_and_large_enough() -> None:
    nick = csv_rows("nicknames.csv")
    groups = csv_rows("name_variants.csv")
    assert len(nick) >= 900
    assert len({(r["name"], r["nickname"]) for r in nick}) == len(nick)
    spelling = {r["group"] for r in groups if r["kind"] == "spelling"}
    assert len(spelling) >= 500 and len({r["group"] for r in groups if r["kind"] == "equivalent"}) >= 200
    origins = Counter(r["origin"] for r in groups)
    for origin in ("arabic", "chinese", "korean", "south_asian", "russian", "hispanic", "persian"):
        assert origins[origin] >= 20, origin
    folded = re.compile(r"[A-Z]+( [A-Z]+)*")
    for r in nick:
        assert folded.fullmatch(r["name"]) and folded.fullmatch(r["nickname"]), r
    for r in groups:
        assert folded.fullmatch(r["name"]), r
        assert r["kind"] in ("spelling", "equivalent") and r["part"] in ("given", "family", "any"), r


def test_every_entry_key_is_in_its_keys() -> None:
    for e in variant_entries():
        assert e.key in e.keys, e


def test_features_carry_key_and_keys() -> None:
    a, b, c = features([{"given_name": "Bill", "family_name": "Zhang"},
                        {"given_name": "William", "family_name": "Chang"},
                        {"given_name": "Bob", "family_name": "Jang"}])
    assert a["given_key"] == b["given_key"] == "WILLIAM" != c["given_key"]
    assert a["family_key"] != b["family_key"]
    assert set(a["family_keys"]) & set(b["family_keys"])
    assert not set(a["family_keys"]) & set(c["family_keys"])
