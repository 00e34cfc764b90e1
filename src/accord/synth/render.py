"""How a record system writes a person's name on one record.

A ``NameStyle`` describes a system's habits (case, diacritics, punctuation, middle names,
how it writes two family names, how often its clerks use nicknames or make typos). The
per-record errors of the config (nicknames, spelling variants, particle forms, typos,
given/family swaps, stale family names after marriage) are applied here, each drawn
independently per record so the same person looks different across systems and years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth import dates
from accord.synth.config import SynthConfig
from accord.synth.namebank import NameBank
from accord.synth.naming import SUFFIXES, Names
from accord.synth.population import People
from accord.synth.textops import BoolArray, IntArray, apply_typos, join, strings, take

# How two family names are written: both "A B", hyphenated "A-B", first only, second only,
# swapped "B A".
COMPOUND_FORMS = ("both", "hyphen", "first", "second", "swapped")


@dataclass(frozen=True)
class NameStyle:
    fold: str = "ascii"          # 'ascii', 'latin1', 'none'
    case: str = "upper"          # 'upper', 'asis'
    punct: str = "keep"          # 'keep', 'mrz'
    middle: tuple[float, float] = (0.0, 1.0)  # P(full), P(initial); else omitted
    middle_in_given: float = 0.0  # middle written into the given-name field
    compound: tuple[float, float, float, float, float] = (0.5, 0.2, 0.25, 0.02, 0.03)
    nickname: float = 1.0        # multipliers on the config's per-record rates
    variant: float = 1.0
    forms: float = 1.0
    typo: float = 1.0
    swap: float = 1.0
    stale: float = 1.0


@dataclass
class RenderedName:
    given: pa.Array
    middle: pa.Array
    family: pa.Array
    suffix: pa.Array

    def family_given(self) -> pa.Array:
        """'FAMILY, GIVEN MIDDLE'."""
        first = join([self.given, self.middle], sep=" ")
        return join([self.family, first], sep=", ")

    def given_family(self, with_middle: bool = False) -> pa.Array:
        parts = [self.given, self.middle, self.family] if with_middle else [self.given,
                                                                           self.family]
        return join(parts, sep=" ")


class NameRenderer:
    def __init__(self, p: People, names: Names, cfg: SynthConfig, bank: NameBank) -> None:
        self.p, self.names, self.cfg, self.bank = p, names, cfg, bank
        self.family_first = np.array([o.family_first for o in bank.origins])

    def render(self, rows: IntArray, when: IntArray, style: NameStyle,
               rng: np.random.Generator) -> RenderedName:
        """Names of people ``rows`` as written on records dated ``when``: a name change
        after ``when`` is not known yet, one before it is (except at the stale-name rate)."""
        cfg, nm, bank = self.cfg, self.names, self.bank
        n = rows.size
        origin = self.p.origin[rows]
        u = rng.random((10, n))

        given = nm.given[rows].copy()
        old_given = (nm.prior_given[rows] >= 0) & (when < nm.given_change[rows])
        given[old_given] = nm.prior_given[rows][old_given]
        given = self._variant(given, origin, u[0] < cfg.nickname_rate * style.nickname,
                              "nicknames", rng)
        given = self._variant(given, origin, u[1] < cfg.variant_rate * style.variant,
                              "spellings", rng)
        given = bank.forms.pick(given, u[2] < cfg.particle_variant_rate * style.forms * 0.3, rng)

        changed = nm.family_change[rows] != dates.NA
        stale = changed & ((when < nm.family_change[rows])
                           | (u[3] < cfg.stale_name_rate * style.stale))
        f1 = np.where(stale, nm.birth_fam1[rows], nm.fam1[rows])
        f2 = np.where(stale, nm.birth_fam2[rows], nm.fam2[rows])
        f1 = self._variant(f1, origin, u[4] < cfg.variant_rate * style.variant, "spellings", rng)
        f1 = bank.forms.pick(f1, u[5] < cfg.particle_variant_rate * style.forms, rng)

        vocab = bank.rendered(style.fold, style.case, style.punct)
        given_s = take(vocab, given)
        family_s = self._family(vocab, f1, f2, style, rng)
        middle_s = self._middle(vocab, nm.middle[rows], style, u[6])
        merge = u[7] < style.middle_in_given
        if merge.any():
            merged = join([given_s, middle_s], sep=" ")
            given_s = pc.if_else(pa.array(merge), merged, given_s)
            middle_s = pc.if_else(pa.array(merge), pa.scalar(None, pa.string()), middle_s)

        given_s = apply_typos(given_s, u[8] < cfg.typo_rate * style.typo, rng)
        family_s = apply_typos(family_s, u[9] < cfg.typo_rate * style.typo, rng)
        swap_rate = cfg.name_swap_rate * style.swap * np.where(self.family_first[origin], 4, 1)
        swap = pa.array(rng.random(n) < swap_rate)
        given_s, family_s = pc.if_else(swap, family_s, given_s), pc.if_else(swap, given_s,
                                                                               family_s)
        sfx = [s.upper() if style.case == "upper" else s for s in SUFFIXES]
        suffix = take(strings(sfx), np.where(nm.suffix[rows] > 0, nm.suffix[rows], -1))
        return RenderedName(given_s, middle_s, family_s, suffix)

    def _variant(self, idx: IntArray, origin: IntArray, mask: BoolArray, table: str,
                 rng: np.random.Generator) -> IntArray:
        tables = getattr(self.bank, table)
        out = idx.copy()
        for oi, csr in tables.items():
            sel = mask & (origin == oi)
            if sel.any():
                rows = np.flatnonzero(sel)
                out[rows] = csr.pick(idx[rows], np.ones(rows.size, dtype=bool), rng)
        return out

    def _family(self, vocab: pa.Array, f1: IntArray, f2: IntArray, style: NameStyle,
                rng: np.random.Generator) -> pa.Array:
        first = take(vocab, f1)
        two = f2 >= 0
        if not two.any():
            return first
        second = pc.fill_null(take(vocab, f2), "")
        form = np.searchsorted(np.cumsum(style.compound) / sum(style.compound),
                               rng.random(f1.size), side="right")
        hyphen = style.punct != "mrz"
        both = join([first, second], sep=" ")
        hyph = join([first, second], sep="-") if hyphen else both
        swapped = join([second, first], sep=" ")
        out = pc.case_when(
            pc.make_struct(pa.array(two & (form == 0)), pa.array(two & (form == 1)),
                           pa.array(two & (form == 3)), pa.array(two & (form == 4))),
            both, hyph, second, swapped, first)
        return out

    @staticmethod
    def _middle(vocab: pa.Array, middle: IntArray, style: NameStyle, u: np.ndarray) -> pa.Array:
        full_p, initial_p = style.middle
        keep = (middle >= 0) & (u < full_p + initial_p)
        names = take(vocab, np.where(keep, middle, -1))
        initial = keep & (u >= full_p)
        if initial.any():
            names = pc.if_else(pa.array(initial), pc.utf8_slice_codeunits(names, 0, 1), names)
        return names
