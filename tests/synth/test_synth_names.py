"""Name data: pools per origin with realistic skew, variants, forms, folding, typos."""

from __future__ import annotations

import numpy as np
import pytest

from accord.synth.namebank import NameBank, name_bank
from accord.synth.textops import fold_ascii, fold_latin1, typo


@pytest.fixture(scope="module")
def bank() -> NameBank:
    return name_bank()


def _variants(bank: NameBank, table: str, origin: str, name: str) -> set[str]:
    csr = getattr(bank, table)
    if table != "forms":
        csr = csr[bank.origin_index[origin]]
    i = bank.index[name]
    return {bank.vocab[j] for j in csr.targets[csr.offsets[i]:csr.offsets[i + 1]]}


def test_every_origin_has_large_pools(bank: NameBank) -> None:
    assert len(bank.origins) >= 10
    for oi, o in enumerate(bank.origins):
        given = bank.given[oi, 0].idx.size + bank.given[oi, 1].idx.size
        family = bank.family[oi].idx.size
        assert given >= 150, o.name
        # Vietnamese and Korean family names are few in reality (Nguyen, Kim, ...).
        assert family >= (60 if o.name in ("vietnamese", "korean") else 130), o.name


@pytest.mark.parametrize(("origin", "name"), [("hispanic", "García"), ("vietnamese", "Nguyễn"),
                                              ("anglo", "Smith"), ("chinese", "Wang"),
                                              ("korean", "Kim")])
def test_common_family_names_are_very_common(bank: NameBank, origin: str, name: str) -> None:
    oi = bank.origin_index[origin]
    draws = bank.family[oi].draw(np.random.default_rng(0), 50_000)
    counts = np.bincount(draws, minlength=len(bank.vocab))
    assert counts.argmax() == bank.index[name]
    assert counts.max() / draws.size > 0.05
    # ...and the tail is long: many names appear.
    assert (counts > 0).sum() >= min(60, bank.family[oi].idx.size)


def test_variants_nicknames_and_forms(bank: NameBank) -> None:
    assert {"Muhammad", "Mohamed"} <= _variants(bank, "spellings", "arabic", "Mohammed")
    assert "Chang" in _variants(bank, "spellings", "chinese", "Zhang")
    assert "Chaikovskiy" in _variants(bank, "spellings", "russian", "Tchaikovsky")
    assert "Yi" in _variants(bank, "spellings", "korean", "Lee")
    assert "Yi" not in _variants(bank, "spellings", "anglo", "Lee")  # variants are by origin
    assert {"Bill", "Will"} <= _variants(bank, "nicknames", "anglo", "William")
    assert "Pepe" in _variants(bank, "nicknames", "hispanic", "José")
    assert {"Delacruz", "Cruz"} <= _variants(bank, "forms", "", "De La Cruz")
    assert {"Al Sayed", "Alsayed", "El-Sayed", "Sayed"} <= _variants(bank, "forms", "",
                                                                     "Al-Sayed")
    assert "Minjun" in _variants(bank, "forms", "", "Min-jun")
    assert "OBrien" in _variants(bank, "forms", "", "O'Brien")
    assert bank.vocab[bank.feminine[bank.index["Ivanov"]]] == "Ivanova"
    assert bank.vocab[bank.feminine[bank.index["Tchaikovsky"]]] == "Tchaikovskaya"
    assert bank.vocab[bank.feminine[bank.index["Shevchenko"]]] == "Shevchenko"


def test_rendering_folds_cases_and_punctuation(bank: NameBank) -> None:
    ascii_upper = bank.rendered("ascii", "upper", "keep")
    mrz = bank.rendered("ascii", "upper", "mrz")
    latin = bank.rendered("latin1", "asis", "keep")
    assert ascii_upper[bank.index["Nguyễn"]].as_py() == "NGUYEN"
    assert ascii_upper[bank.index["Đặng"]].as_py() == "DANG"
    assert mrz[bank.index["O'Brien"]].as_py() == "OBRIEN"
    assert mrz[bank.index["Al-Sayed"]].as_py() == "AL SAYED"
    assert latin[bank.index["Peña"]].as_py() == "Peña"
    assert latin[bank.index["Nguyễn"]].as_py() == "Nguyen"
    assert fold_ascii("Muñoz") == "Munoz" and fold_latin1("Trần") == "Tran"


def test_typos_are_single_keyboard_edits() -> None:
    assert typo("MARIA", 0, 0.0, 0.0) == "NARIA"  # M -> a neighbouring key
    assert typo("MARIA", 1, 0.99, 0.0) == "MARI"
    assert typo("MARIA", 2, 0.2, 0.0) == "MAARIA"
    assert typo("MARIA", 3, 0.0, 0.0) == "AMRIA"
    assert typo("A", 1, 0.5, 0.5) == "A"
    rng = np.random.default_rng(0)
    for word in ("GARCIA", "Nguyen", "O'BRIEN"):
        for _ in range(50):
            k, u1, u2 = int(rng.integers(0, 4)), float(rng.random()), float(rng.random())
            out = typo(word, k, u1, u2)
            assert out != word or k == 3
            assert abs(len(out) - len(word)) <= 1
