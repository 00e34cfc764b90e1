"""The people of the world: households, roles, ages, sex, origin group and status.

Households are built first (sizes, couple or not, US-born or immigrant head); people take
their origin group from the household and their ages from their role. The status of
foreign-born adults is drawn from ``SynthConfig.foreign_born_status_mix``; whether a child
of an immigrant household was born abroad is decided in ``timeline`` (born before the
parent arrived). Names are never used to decide status, and status is never derived from
the origin group: origin mixes are conditioned on status only through the documented
``status_origin_weights`` (e.g. TPS is designated for particular countries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.synth import dates
from accord.synth.config import STATUS_INDEX, SynthConfig
from accord.synth.namebank import NameBank
from accord.synth.places import Addresses, make_addresses
from accord.synth.textops import BoolArray, IntArray, choice

HEAD, SPOUSE, CHILD, ROOMMATE = 0, 1, 2, 3
MALE, FEMALE = 0, 1
CIT = STATUS_INDEX["citizen_birth"]


@dataclass
class People:
    """One row per person (index = person number, person_id = P + number)."""

    n: int
    as_of: int
    hh: IntArray            # household number
    head: IntArray          # index of the household head
    partner: IntArray       # index of the spouse/partner, -1 if none
    role: IntArray          # HEAD, SPOUSE, CHILD, ROOMMATE
    sex: IntArray           # MALE, FEMALE
    dob: IntArray           # days since 1970-01-01
    origin: IntArray        # index into NameBank.origins
    status: IntArray        # index into STATUSES
    foreign: BoolArray      # born abroad
    twin_of: IntArray       # the other twin, -1 if none
    immigrant_household: BoolArray
    addresses: Addresses
    addr: IntArray          # current address id
    prev_addr: IntArray     # address before the last move, -1 if none
    move_date: IntArray     # date of the last move, dates.NA if none

    def age(self, on: int | IntArray | None = None) -> np.ndarray:
        when = self.as_of if on is None else on
        return (np.asarray(when) - self.dob) / dates.YEAR

    def address_on(self, when: IntArray, rows: IntArray) -> IntArray:
        """Address id of people ``rows`` on dates ``when``."""
        moved = (self.prev_addr[rows] >= 0) & (when < self.move_date[rows])
        return np.where(moved, self.prev_addr[rows], self.addr[rows])


def build_people(rng: np.random.Generator, n: int, cfg: SynthConfig, bank: NameBank) -> People:
    as_of = dates.day(cfg.as_of)
    sizes = _household_sizes(rng, n, cfg)
    h = sizes.size
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    hh = np.repeat(np.arange(h, dtype=np.int64), sizes)
    pos = np.arange(n, dtype=np.int64) - starts[hh]
    size = sizes[hh]

    couple_h = (sizes >= 2) & (rng.random(h) < cfg.couple_rate)
    immigrant_h = rng.random(h) < cfg.immigrant_household_rate
    mix = cfg.foreign_born_status_mix
    mix_codes = np.array([STATUS_INDEX[s] for s in mix], dtype=np.int64)
    head_status_h = np.where(immigrant_h, mix_codes[choice(rng, h, list(mix.values()))], CIT)
    origin_h = _origins(rng, bank, head_status_h)
    head_age_h = 18 + 72 * rng.beta(1.6, 2.2, h)
    head_age_h = np.where(head_status_h == STATUS_INDEX["daca"], rng.uniform(20, 44, h),
                          head_age_h)
    head_age_h = np.where(head_status_h == STATUS_INDEX["visa"],
                          20 + 30 * rng.beta(1.5, 3.0, h), head_age_h)

    couple = couple_h[hh]
    role = np.full(n, CHILD, dtype=np.int64)
    role[pos == 0] = HEAD
    role[(pos == 1) & couple] = SPOUSE
    lone_pair = (pos == 1) & ~couple & (size == 2)
    role[lone_pair & (rng.random(n) < 0.5)] = ROOMMATE

    head = starts[hh]
    partner = np.full(n, -1, dtype=np.int64)
    partner[role == HEAD] = np.where(couple_h, starts + 1, -1)
    partner[role == SPOUSE] = starts[hh[role == SPOUSE]]

    head_age = head_age_h[hh]
    age = np.empty(n)
    age[role == HEAD] = head_age_h
    sp = role == SPOUSE
    age[sp] = np.clip(head_age[sp] + rng.normal(0, 4, sp.sum()), 18, 100)
    ch = role == CHILD
    max_child = np.clip(np.minimum(30, head_age[ch] - 18), 0.5, None)
    age[ch] = rng.random(ch.sum()) * max_child
    rm = role == ROOMMATE
    age[rm] = rng.uniform(18, 65, rm.sum())
    dob = as_of - np.round(age * dates.YEAR).astype(np.int64) - rng.integers(0, 2, n)

    sex = (rng.random(n) < 0.5).astype(np.int64)
    head_male = rng.random(n) < 0.97
    sex[(role == HEAD) & couple] = np.where(head_male[(role == HEAD) & couple], MALE, FEMALE)
    opposite = rng.random(n) < 0.97
    sex[sp] = np.where(opposite[sp], 1 - sex[head[sp]], sex[head[sp]])

    twin_of = _twins(rng, n, cfg, role, hh, starts, sizes, couple_h)
    has_twin = twin_of >= 0
    dob[has_twin & (twin_of < np.arange(n))] = dob[twin_of[has_twin & (twin_of < np.arange(n))]]

    origin = origin_h[hh].copy()
    status = np.where(role == HEAD, head_status_h[hh], CIT).astype(np.int64)
    immigrant = immigrant_h[hh]
    # Spouses in immigrant households usually share the head's status; roommates have their own.
    shared = rng.random(n) < 0.7
    drawn = mix_codes[choice(rng, n, list(mix.values()))]
    status[sp & immigrant] = np.where(shared[sp & immigrant], status[head[sp & immigrant]],
                                      drawn[sp & immigrant])
    status[rm & immigrant] = drawn[rm & immigrant]
    # A spouse born abroad in a US-born household: naturalised or a permanent resident.
    fsp = sp & ~immigrant & (rng.random(n) < cfg.foreign_spouse_rate)
    status[fsp] = np.where(rng.random(fsp.sum()) < 0.6, STATUS_INDEX["citizen_naturalized"],
                           STATUS_INDEX["lpr"])
    own_origin = rm | fsp
    origin[own_origin] = _origins(rng, bank, status[own_origin])
    # DACA requires arrival as a child before mid-2007; others become no_status.
    daca = status == STATUS_INDEX["daca"]
    status[daca & ((age < 19) | (age > 45))] = STATUS_INDEX["no_status"]
    foreign = status != CIT

    movers_h = rng.random(h) < cfg.move_rate
    n_movers = int(movers_h.sum())
    addresses = make_addresses(rng, h + n_movers, cfg.state, cfg.focal_state_share)
    addr = hh.copy()
    prev_h = np.full(h, -1, dtype=np.int64)
    prev_h[movers_h] = h + np.arange(n_movers, dtype=np.int64)
    move_h = as_of - rng.integers(30, int(5 * dates.YEAR), h)
    prev_addr = prev_h[hh]
    move_date = np.where(prev_addr >= 0, move_h[hh], dates.NA)
    return People(n=n, as_of=as_of, hh=hh, head=head, partner=partner, role=role, sex=sex,
                  dob=dob, origin=origin, status=status, foreign=foreign, twin_of=twin_of,
                  immigrant_household=immigrant, addresses=addresses, addr=addr,
                  prev_addr=prev_addr, move_date=move_date)


def _household_sizes(rng: np.random.Generator, n: int, cfg: SynthConfig) -> IntArray:
    keys = np.array(sorted(cfg.household_sizes), dtype=np.int64)
    probs = [cfg.household_sizes[int(k)] for k in keys]
    mean = float(np.dot(keys, probs) / sum(probs))
    draws = keys[choice(rng, int(n / mean * 1.3) + 16, probs)]
    cum = np.cumsum(draws)
    while cum[-1] < n:  # pragma: no cover - only for extreme size mixes
        draws = np.concatenate([draws, draws])
        cum = np.cumsum(draws)
    h = int(np.searchsorted(cum, n)) + 1
    sizes = draws[:h].copy()
    sizes[-1] -= int(cum[h - 1]) - n
    return sizes


def _origins(rng: np.random.Generator, bank: NameBank, status: IntArray) -> IntArray:
    """Origin group of a household head (or a person with their own origin) by status."""
    names = [o.name for o in bank.origins]
    native = [o.native_weight for o in bank.origins]
    immigrant = [o.immigrant_weight for o in bank.origins]
    out = np.where(status == CIT, choice(rng, status.size, native),
                   choice(rng, status.size, immigrant))
    for s, weights in bank.status_origin_weights.items():
        mask = status == STATUS_INDEX[s]
        if mask.any():
            w = [weights.get(name, 0.0) for name in names]
            out[mask] = choice(rng, int(mask.sum()), w)
    return out.astype(np.int64)


def _twins(rng: np.random.Generator, n: int, cfg: SynthConfig, role: IntArray, hh: IntArray,
           starts: IntArray, sizes: IntArray, couple_h: BoolArray) -> IntArray:
    """Pairs the first two children of some households as twins (same birth date)."""
    first = starts + np.where(couple_h, 2, 1)
    has_two = (first + 1 < starts + sizes)
    ok = has_two.copy()
    ok[has_two] = (role[first[has_two]] == CHILD) & (role[first[has_two] + 1] == CHILD)
    twins = ok & (rng.random(sizes.size) < cfg.twin_rate)
    twin_of = np.full(n, -1, dtype=np.int64)
    a = first[twins]
    twin_of[a] = a + 1
    twin_of[a + 1] = a
    return twin_of
