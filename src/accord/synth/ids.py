"""Who holds which identifier, and what SSA knows: SSNs (with enumeration date and the
citizenship code recorded then), ITINs, borrowed SSNs, A-numbers, passports, country of
birth, SSA death records (true and erroneous)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX as S
from accord.synth.config import STATUSES, SynthConfig
from accord.synth.namebank import NameBank
from accord.synth.places import places
from accord.synth.population import CHILD, SPOUSE, People
from accord.synth.textops import BoolArray, IntArray, choice
from accord.synth.timeline import ADMISSION_CLASSES, Timeline

NA = dates.NA
YEAR = dates.YEAR
SSA_CODES = ("A", "B", "C", "D")   # US citizen / work authorised / not work authorised / other
_A_NUMBER_STATUSES = ("citizen_naturalized", "lpr", "asylum_pending", "asylum_granted", "tps",
                      "daca", "vawa_t_u_pending", "in_proceedings", "final_order")


@dataclass
class Ids:
    country: IntArray          # country of birth (index into places().country_codes)
    ssn: IntArray              # own SSN, -1 if none
    ssn_date: IntArray         # enumeration date
    ssa_code: IntArray         # SSA_CODES index as SSA holds it now
    ssa_stale: BoolArray       # naturalised but SSA still holds a noncitizen code
    ssa_death: IntArray        # death date in SSA (true or erroneous), NA if none
    erroneous_death: BoolArray  # SSA death record for a living person
    itin: IntArray             # -1 if none
    itin_until: IntArray       # ITIN used for returns before this date
    borrowed_from: IntArray    # person whose SSN this person uses, -1 if none
    a_number: IntArray         # -1 if none
    passport: pa.Array         # foreign passport (null for the US-born)
    us_passport: pa.Array      # US passport (citizens who travel), else null

    def work_ssn(self) -> IntArray:
        """The SSN a person gives employers and agencies: own, else borrowed, else -1."""
        borrowed = np.where(self.borrowed_from >= 0, self.ssn[np.maximum(self.borrowed_from, 0)],
                            -1)
        return np.where(self.ssn >= 0, self.ssn, borrowed)


def build_ids(rng: np.random.Generator, p: People, t: Timeline, cfg: SynthConfig,
              bank: NameBank) -> Ids:
    n, as_of = p.n, p.as_of
    status, f = p.status, p.foreign
    age = p.age()
    rate = np.array([cfg.ssn_rate.get(s, 0.0) for s in STATUSES])[status]
    has_ssn = rng.random(n) < rate
    ssn = np.full(n, -1, dtype=np.int64)
    ssn[has_ssn] = identifiers.ssns(rng, int(has_ssn.sum()))

    u = rng.random((4, n))
    born_late = p.dob >= dates.day(date(1987, 1, 1))
    native_date = np.where(born_late, p.dob + (u[0] * 120).astype(np.int64),
                           p.dob + ((14 + 8 * u[0]) * YEAR).astype(np.int64))
    span = np.maximum(as_of - t.entry, 30)
    foreign_date = t.entry + (u[1] * np.minimum(3 * YEAR, span)).astype(np.int64)
    ead = np.isin(status, [S["asylum_pending"], S["asylum_granted"], S["tps"], S["daca"],
                           S["vawa_t_u_pending"]])
    foreign_date = np.where(ead, t.filed_date + 180 + (u[2] * YEAR).astype(np.int64),
                            foreign_date)
    ssn_date = np.where(f, foreign_date, native_date)
    ceiling = np.full(n, as_of - 1, dtype=np.int64)
    ceiling = np.where(t.exit_date != NA, np.minimum(ceiling, t.exit_date - 1), ceiling)
    ceiling = np.where(t.death_date != NA, np.minimum(ceiling, t.death_date - 1), ceiling)
    floor = np.where(f, t.entry, p.dob)
    # A date past the ceiling (departure, death, as_of) is redrawn inside the window.
    redraw = floor + (u[3] * np.maximum(ceiling - floor, 0)).astype(np.int64)
    ssn_date = np.where(ssn_date > ceiling, redraw, np.maximum(ssn_date, floor))
    ssn_date = np.where(has_ssn, ssn_date, NA)

    nonwork = np.isin(t.admission, [ADMISSION_CLASSES.index(c) for c in ("F1", "J1", "B2")])
    code = np.where(~f, 0, np.where((status == S["visa"]) & nonwork, 2, 1))
    natz = status == S["citizen_naturalized"]
    before = natz & has_ssn & (ssn_date < t.nat_date)
    stale = before & (rng.random(n) < cfg.stale_ssa_citizenship_rate)
    code = np.where(natz & ~stale, 0, code)
    code = np.where(has_ssn, code, -1)

    dead = t.death_date != NA
    reported = dead & has_ssn & (rng.random(n) < cfg.death_reporting_rate)
    wrong = has_ssn & ~dead & (rng.random(n) < cfg.erroneous_death_rate)
    start = np.maximum(as_of - int(cfg.death_window_years * YEAR), ssn_date + 1)
    wrong &= start < as_of - 30
    wrong_date = start + (rng.random(n) * (as_of - 30 - start)).astype(np.int64)
    ssa_death = np.select([reported, wrong], [t.death_date, wrong_date], default=NA)

    adult = age >= 18
    itin_only = f & ~has_ssn & adult & (rng.random(n) < cfg.itin_rate)
    itin_first = (f & has_ssn & (ssn_date >= t.entry + 2 * YEAR)
                  & (rng.random(n) < cfg.itin_before_ssn_rate))
    has_itin = itin_only | itin_first
    itin = np.full(n, -1, dtype=np.int64)
    itin[has_itin] = identifiers.itins(rng, int(has_itin.sum()))
    itin_until = np.where(itin_first, ssn_date, np.where(itin_only, as_of + 1, NA))

    borrower = f & ~has_ssn & adult & (rng.random(n) < cfg.borrowed_ssn_rate)
    holders = np.flatnonzero(has_ssn)
    borrowed_from = np.full(n, -1, dtype=np.int64)
    if holders.size:
        borrowed_from[borrower] = holders[rng.integers(0, holders.size, int(borrower.sum()))]

    a_statuses = np.isin(status, [S[s] for s in _A_NUMBER_STATUSES])
    has_a = f & (a_statuses | t.court | (t.encounter1 != NA))
    a_number = np.full(n, -1, dtype=np.int64)
    a_number[has_a] = identifiers.a_numbers(rng, int(has_a.sum()))

    country = _countries(rng, p, bank)
    letters = (country * 7 + 1) % 3
    passport = identifiers.passports(rng, n, letters)
    passport = pc.if_else(pa.array(f), passport, pa.scalar(None, pa.string()))
    us = t.travels & np.isin(status, [S["citizen_birth"], S["citizen_naturalized"]])
    us_passport = identifiers.passports(rng, n, np.zeros(n, dtype=np.int64))
    us_passport = pc.if_else(pa.array(us), us_passport, pa.scalar(None, pa.string()))
    return Ids(country=country, ssn=ssn, ssn_date=ssn_date, ssa_code=code, ssa_stale=stale,
               ssa_death=ssa_death, erroneous_death=wrong, itin=itin, itin_until=itin_until,
               borrowed_from=borrowed_from, a_number=a_number, passport=passport,
               us_passport=us_passport)


def _countries(rng: np.random.Generator, p: People, bank: NameBank) -> IntArray:
    """Country of birth: the US for the US-born; otherwise from the origin group's countries
    (TPS holders: a designated country). Children born abroad share the head's country;
    spouses sharing the head's status usually do."""
    pl = places()
    usa = pl.country("USA")
    out = np.full(p.n, usa, dtype=np.int64)
    tps = p.status == S["tps"]
    for oi, o in enumerate(bank.origins):
        codes = list(o.countries)
        weights = list(o.countries.values())
        idx = np.array([pl.country(c) for c in codes], dtype=np.int64)
        mask = p.foreign & (p.origin == oi)
        out[mask & ~tps] = idx[choice(rng, int((mask & ~tps).sum()), weights)]
        tw = [w if c in bank.tps_countries else 0.0 for c, w in zip(codes, weights, strict=True)]
        if sum(tw) > 0:
            out[mask & tps] = idx[choice(rng, int((mask & tps).sum()), tw)]
        else:
            out[mask & tps] = idx[choice(rng, int((mask & tps).sum()), weights)]
    follow = p.foreign & p.foreign[p.head] & ((p.role == CHILD) | (
        (p.role == SPOUSE) & (rng.random(p.n) < 0.8))) & (p.origin == p.origin[p.head])
    out[follow] = out[p.head[follow]]
    return out
