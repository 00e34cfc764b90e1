"""True names: given, middle, family (and a second family name where customary), birth
family names changed on marriage, given names changed on naturalisation, Jr/Sr.

Children take the father's family name (and, for compound-surname origins, the mother's
first family name as their second); wives take the husband's family name at the origin's
documented propensity; Russian/Ukrainian women carry the feminine form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.synth import dates
from accord.synth.config import STATUS_INDEX, SynthConfig
from accord.synth.namebank import NameBank
from accord.synth.population import CHILD, FEMALE, MALE, People
from accord.synth.textops import IntArray
from accord.synth.timeline import Timeline

NA = dates.NA
SUFFIXES = ("", "Jr", "Sr", "III")


@dataclass
class Names:
    given: IntArray          # vocabulary indices (NameBank.vocab)
    middle: IntArray         # -1 if none
    fam1: IntArray           # current family name
    fam2: IntArray           # current second family name, -1 if none
    birth_fam1: IntArray
    birth_fam2: IntArray
    family_change: IntArray  # date the family name changed (marriage), NA if never
    prior_given: IntArray    # given name before naturalisation, -1 if unchanged
    given_change: IntArray   # date of that change, NA if none
    suffix: IntArray         # SUFFIXES index


def build_names(rng: np.random.Generator, p: People, t: Timeline, cfg: SynthConfig,
                bank: NameBank) -> Names:
    n = p.n
    given = np.empty(n, dtype=np.int64)
    middle = np.full(n, -1, dtype=np.int64)
    fam1 = np.empty(n, dtype=np.int64)
    fam2 = np.full(n, -1, dtype=np.int64)
    middle_rate = np.array([o.middle_rate for o in bank.origins])[p.origin]
    compound_origin = np.array([o.compound_surnames for o in bank.origins])[p.origin]
    has_middle = rng.random(n) < middle_rate
    has_second = compound_origin & (rng.random(n) < cfg.compound_surname_rate)
    for oi in range(len(bank.origins)):
        in_o = p.origin == oi
        fam1[in_o] = bank.family[oi].draw(rng, int(in_o.sum()))
        second = in_o & has_second
        fam2[second] = bank.family[oi].draw(rng, int(second.sum()))
        for sex in (MALE, FEMALE):
            grp = in_o & (p.sex == sex)
            given[grp] = bank.given[oi, sex].draw(rng, int(grp.sum()))
            mid = grp & has_middle
            middle[mid] = bank.middle[oi, sex].draw(rng, int(mid.sum()))
    fam2[fam2 == fam1] = -1
    # Twins get different given names.
    second_twin = np.flatnonzero((p.twin_of >= 0) & (p.twin_of < np.arange(n)))
    for _ in range(8):
        same = second_twin[given[second_twin] == given[p.twin_of[second_twin]]]
        if same.size == 0:
            break
        for i in same.tolist():
            given[i] = bank.given[int(p.origin[i]), int(p.sex[i])].draw(rng, 1)[0]

    # The household's father and mother (for couples of a man and a woman).
    head = p.head
    partner_of_head = p.partner[head]
    father = np.where((p.sex[head] == MALE) | (partner_of_head < 0), head, partner_of_head)
    mother = np.where(father == head, partner_of_head, head)
    mixed = (partner_of_head >= 0) & (p.sex[head] != p.sex[np.maximum(partner_of_head, 0)])
    child = p.role == CHILD
    fam1[child] = fam1[father[child]]
    lone = child & ~mixed
    fam2[lone] = fam2[head[lone]]
    both = child & mixed & compound_origin & (rng.random(n) < cfg.compound_surname_rate)
    fam2[child & mixed] = -1
    fam2[both] = fam1[mother[both]]

    birth_fam1, birth_fam2 = fam1.copy(), fam2.copy()
    family_change = np.full(n, NA, dtype=np.int64)
    wife = mixed & (np.arange(n) == mother) & (p.role != CHILD)
    propensity = np.array([o.married_name_change for o in bank.origins])[p.origin]
    takes = wife & (rng.random(n) < np.minimum(1.0, cfg.married_name_change_rate * propensity))
    husband = father[takes]
    fam1[takes] = birth_fam1[husband]
    fam2[takes] = -1
    earliest = np.maximum(p.dob[takes], p.dob[husband]) + int(18 * dates.YEAR)
    earliest = np.minimum(earliest, p.as_of - 30)
    family_change[takes] = earliest + (rng.random(int(takes.sum())) * (p.as_of - earliest)
                                       ).astype(np.int64)

    russian = (p.sex == FEMALE) & (p.origin == bank.origin_index["russian"])
    for arr in (fam1, birth_fam1):
        arr[russian] = bank.feminine[arr[russian]]
    # A wife of another origin keeps the husband's form only if he is Russian (rare case).

    suffix = np.zeros(n, dtype=np.int64)
    junior_origin = np.isin(p.origin, [bank.origin_index["anglo"], bank.origin_index["hispanic"]])
    junior = (child & (p.sex == MALE) & (p.sex[father] == MALE) & junior_origin
              & (rng.random(n) < 0.06) & (father != np.arange(n)))
    junior &= ~np.isin(np.arange(n), p.twin_of[p.twin_of >= 0])
    given[junior] = given[father[junior]]
    middle[junior] = middle[father[junior]]
    suffix[junior] = 1
    senior = np.zeros(n, dtype=bool)
    senior[father[junior]] = True
    suffix[senior & (rng.random(n) < 0.5)] = 2

    prior_given = np.full(n, -1, dtype=np.int64)
    given_change = np.full(n, NA, dtype=np.int64)
    natz = p.status == STATUS_INDEX["citizen_naturalized"]
    adult_then = (t.nat_date - p.dob) >= 18 * dates.YEAR
    renamed = natz & adult_then & (rng.random(n) < cfg.naturalization_name_change_rate)
    anglo = bank.origin_index["anglo"]
    for sex in (MALE, FEMALE):
        grp = renamed & (p.sex == sex)
        prior_given[grp] = given[grp]
        given[grp] = bank.given[anglo, sex].draw(rng, int(grp.sum()))
    given_change[renamed] = t.nat_date[renamed]
    return Names(given=given, middle=middle, fam1=fam1, fam2=fam2, birth_fam1=birth_fam1,
                 birth_fam2=birth_fam2, family_change=family_change, prior_given=prior_given,
                 given_change=given_change, suffix=suffix)
