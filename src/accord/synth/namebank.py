"""Name pools loaded from ``synth/data``: samplers per origin group, and variant tables.

All names live in one vocabulary (a list of unique strings); people and records hold
vocabulary indices. Variants are stored as CSR tables (``offsets``/``targets`` over the
vocabulary) so a variant can be picked for millions of records with array operations:
- ``nicknames[origin]``: William -> Bill, Will, ...; José -> Pepe (origin-specific)
- ``spellings[origin]``: transliteration/spelling variants (Mohammed -> Muhammad, ...)
- ``forms``: rule-based forms of particles and joined names, for any origin
  (De La Cruz -> Delacruz, Cruz; Al-Sayed -> Al Sayed, Alsayed, El-Sayed, Sayed;
  Min-jun -> Minjun, Min Jun; O'Brien -> OBrien).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from accord.synth.textops import FloatArray, IntArray, fold_ascii, fold_latin1

SEXES = ("M", "F")
_PARTICLES = ("de la ", "de las ", "de los ", "del ", "de ", "dela ", "delos ", "san ",
              "santa ", "van der ", "van den ", "van ", "von ", "ben ", "bin ", "el ", "la ")
_DASH_PARTICLES = ("al-", "el-", "abu-")


def read_data(name: str) -> str:
    return resources.files("accord.synth").joinpath("data").joinpath(name).read_text("utf-8")


def load_yaml(name: str) -> Any:
    return yaml.safe_load(read_data(name))


@dataclass(frozen=True)
class Origin:
    name: str
    native_weight: float
    immigrant_weight: float
    family_zipf: float
    given_zipf: float
    middle_rate: float
    married_name_change: float
    family_first: bool
    compound_surnames: bool
    countries: dict[str, float]


@dataclass(frozen=True)
class Sampler:
    """Draws vocabulary indices with Zipf weights (list order = rank)."""

    idx: IntArray
    cum: FloatArray

    def draw(self, rng: np.random.Generator, n: int) -> IntArray:
        pos = np.searchsorted(self.cum, rng.random(n), side="right")
        return self.idx[np.minimum(pos, self.idx.size - 1)]


@dataclass(frozen=True)
class Csr:
    offsets: IntArray
    targets: IntArray

    def counts(self, idx: IntArray) -> IntArray:
        safe = np.where(idx < 0, 0, idx)
        return np.where(idx < 0, 0, self.offsets[safe + 1] - self.offsets[safe])

    def pick(self, idx: IntArray, mask: Any, rng: np.random.Generator) -> IntArray:
        """A random variant of idx where ``mask`` and one exists; idx elsewhere."""
        n = self.counts(idx)
        use = mask & (n > 0)
        out = idx.copy()
        rows = np.flatnonzero(use)
        if rows.size:
            k = (rng.random(rows.size) * n[rows]).astype(np.int64)
            out[rows] = self.targets[self.offsets[idx[rows]] + k]
        return out


class NameBank:
    """The vocabulary, samplers and variant tables for every origin group."""

    def __init__(self) -> None:
        raw_origins = load_yaml("origins.yaml")
        self.origins: list[Origin] = [
            Origin(name=k, countries={str(c): float(w) for c, w in v.pop("countries").items()},
                   **v) for k, v in raw_origins["origins"].items()]
        self.origin_index = {o.name: i for i, o in enumerate(self.origins)}
        self.status_origin_weights: dict[str, dict[str, float]] = raw_origins[
            "status_origin_weights"]
        self.tps_countries: list[str] = list(raw_origins["tps_countries"])
        given = load_yaml("given_names.yaml")
        family = load_yaml("family_names.yaml")
        middle = load_yaml("middle_names.yaml")
        nick_rows = list(csv.DictReader(io.StringIO(read_data("nicknames.csv"))))
        groups = _variant_groups(read_data("name_variants.txt"))

        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        for o in self.origins:
            for sex in SEXES:
                self._add(given[o.name][sex])
            self._add(family[o.name])
            self._add(_feminine(f) for f in family[o.name])
        for lists in middle.values():
            for sex in SEXES:
                self._add(lists.get(sex, []))
        for row in nick_rows:
            self._add([row["name"], *row["nicknames"].split("|")])
        for _, names in groups:
            self._add(names)
        base = list(self.vocab)
        self._add(f for v in base for f in _forms(v))

        self.given: dict[tuple[int, int], Sampler] = {}
        self.middle: dict[tuple[int, int], Sampler] = {}
        self.family: dict[int, Sampler] = {}
        for oi, o in enumerate(self.origins):
            self.family[oi] = self._sampler(family[o.name], o.family_zipf)
            for si, sex in enumerate(SEXES):
                self.given[oi, si] = self._sampler(given[o.name][sex], o.given_zipf)
                spec = middle.get(o.name)
                if spec and "from_given" in spec:
                    self.middle[oi, si] = self._sampler(given[o.name][spec["from_given"]],
                                                        o.given_zipf)
                elif spec:
                    self.middle[oi, si] = self._sampler(spec[sex], 1.3)
                else:
                    self.middle[oi, si] = self.given[oi, si]

        self.feminine = np.arange(len(self.vocab), dtype=np.int64)
        for f in family["russian"]:
            self.feminine[self.index[f]] = self.index[_feminine(f)]
        self.nicknames = {oi: self._csr(_nick_pairs(nick_rows, o.name))
                          for oi, o in enumerate(self.origins)}
        self.spellings = {oi: self._csr(_group_pairs(groups, o.name))
                          for oi, o in enumerate(self.origins)}
        self.forms = self._csr((v, f) for v in base for f in _forms(v))
        self._rendered: dict[tuple[str, str, str], pa.Array] = {}

    def _add(self, names: Iterable[str]) -> None:
        for n in names:
            n = str(n)
            if n not in self.index:
                self.index[n] = len(self.vocab)
                self.vocab.append(n)

    def _sampler(self, names: list[str], zipf: float) -> Sampler:
        unique = list(dict.fromkeys(str(n) for n in names))
        w = 1.0 / np.arange(1, len(unique) + 1, dtype=np.float64) ** zipf
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        return Sampler(np.array([self.index[n] for n in unique], dtype=np.int64), cum)

    def _csr(self, pairs: Iterable[tuple[str, str]]) -> Csr:
        edges = sorted({(self.index[a], self.index[b]) for a, b in pairs if a != b})
        src = np.array([a for a, _ in edges], dtype=np.int64)
        tgt = np.array([b for _, b in edges], dtype=np.int64)
        counts = np.bincount(src, minlength=len(self.vocab)) if src.size else np.zeros(
            len(self.vocab), dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Csr(offsets, tgt)

    def rendered(self, fold: str, case: str, punct: str) -> pa.Array:
        """The vocabulary as a record system writes names: fold ('ascii', 'latin1', 'none'),
        case ('upper', 'asis'), punct ('keep', 'mrz': apostrophes and periods dropped,
        hyphens as spaces)."""
        key = (fold, case, punct)
        if key not in self._rendered:
            fn = _renderer(fold, case, punct)
            self._rendered[key] = pa.array([fn(v) for v in self.vocab], pa.string())
        return self._rendered[key]


def _renderer(fold: str, case: str, punct: str) -> Callable[[str], str]:
    def render(s: str) -> str:
        if fold == "ascii":
            s = fold_ascii(s)
        elif fold == "latin1":
            s = fold_latin1(s)
        if punct == "mrz":
            s = s.replace("'", "").replace(".", "").replace("-", " ")
        return s.upper() if case == "upper" else s

    return render


def _feminine(name: str) -> str:
    """Russian feminine surname: Ivanov -> Ivanova, Tchaikovsky -> Tchaikovskaya."""
    low = name.lower()
    if low.endswith(("ov", "ev", "in", "yn")):
        return name + "a"
    if low.endswith("sky"):
        return name[:-1] + "aya"
    if low.endswith("oy"):
        return name[:-2] + "aya"
    return name


def _forms(name: str) -> list[str]:
    """Rule-based written forms of particles and joined names."""
    low = name.lower()
    out: list[str] = []
    for p in _DASH_PARTICLES:
        if low.startswith(p) and len(name) > len(p):
            rest = name[len(p):]
            head = name[:len(p) - 1]
            out += [f"{head} {rest}", head + rest.lower(), rest]
            if p in ("al-", "el-"):
                out.append(("El-" if p == "al-" else "Al-") + rest)
            return out
    for p in _PARTICLES:
        if low.startswith(p) and len(name) > len(p) and " " in name:
            words = name.split(" ")
            rest = words[-1]
            out += ["".join(w.capitalize() if i == 0 else w.lower()
                            for i, w in enumerate(words)), "".join(words)]
            if len(rest) > 2 and p not in ("van ", "von ", "van der ", "van den ", "san ",
                                           "santa ", "la "):
                out.append(rest)
            return out
    if name.startswith(("O'", "N'", "D'")):
        return [name[0] + name[2:], name[0] + " " + name[2:], name[0] + name[2:].lower()]
    if name.startswith("St. "):
        return ["St " + name[4:], "Saint " + name[4:]]
    for prefix in ("Mac", "Mc"):
        if name.startswith(prefix) and len(name) > len(prefix) + 1 and name[len(prefix)].isupper():
            return [prefix + " " + name[len(prefix):], prefix + name[len(prefix):].lower()]
    if "-" in name:
        a, _, b = name.partition("-")
        return [a + b.lower(), f"{a} {b.capitalize()}", f"{a}-{b.capitalize()}"]
    if " " in name:
        a, _, b = name.partition(" ")
        return [a + b.lower(), f"{a}-{b}"]
    return out


def _variant_groups(text: str) -> list[tuple[list[str], list[str]]]:
    """(origins, names) per group line of name_variants.txt."""
    out: list[tuple[list[str], list[str]]] = []
    origins: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            origins = [o.strip() for o in line.strip("[]").split(",")]
            continue
        out.append((origins, [n.strip() for n in line.split("|") if n.strip()]))
    return out


def _group_pairs(groups: list[tuple[list[str], list[str]]], origin: str
                 ) -> Iterable[tuple[str, str]]:
    for origins, names in groups:
        if origin in origins:
            for a in names:
                for b in names:
                    yield a, b


def _nick_pairs(rows: list[dict[str, str]], origin: str) -> Iterable[tuple[str, str]]:
    for row in rows:
        allowed = [o for o in row["origins"].split("|") if o]
        if not allowed or origin in allowed:
            for nick in row["nicknames"].split("|"):
                yield row["name"], nick


@cache
def name_bank() -> NameBank:
    return NameBank()
