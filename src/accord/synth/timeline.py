"""Life histories: arrival, status grants, naturalisation, court cases, enforcement
encounters, departure and death, consistent with each person's true status.

Every date is drawn inside the interval its predecessors leave (entry <= permanent
residence <= naturalisation <= as_of, notice to appear <= decision, ...), so histories are
ordered by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from accord.synth import dates
from accord.synth.config import STATUS_INDEX as S
from accord.synth.config import STATUSES, SynthConfig
from accord.synth.population import CHILD, SPOUSE, People
from accord.synth.textops import BoolArray, IntArray, choice

NA = dates.NA
YEAR = dates.YEAR
CASE_STATUSES = ("in_proceedings", "final_order", "relief_granted", "terminated",
                 "appeal_pending", "voluntary_departure")
C = {c: i for i, c in enumerate(CASE_STATUSES)}
ADMISSION_CLASSES = ("IR1", "CR1", "IR2", "F21", "F41", "EB2", "EB3", "DV1", "B2", "F1",
                     "H1B", "L1", "J1", "TN", "K1", "H2A", "B1")
A = {c: i for i, c in enumerate(ADMISSION_CLASSES)}
# Years between arrival and as_of, by status (low, high); limited by age.
_YEARS_IN_US = {
    "citizen_naturalized": (6, 45), "lpr": (0.3, 30), "visa": (0.1, 8),
    "asylum_pending": (0.2, 6), "asylum_granted": (1.5, 20), "tps": (2, 27), "daca": (8, 25),
    "vawa_t_u_pending": (0.5, 12), "in_proceedings": (0.1, 10), "final_order": (0.5, 20),
    "departed": (1, 25), "no_status": (0.3, 30),
}
_DACA_LAST_ENTRY = dates.day(date(2007, 6, 15))
_DACA_START = dates.day(date(2012, 8, 15))


@dataclass
class Timeline:
    entry: IntArray            # first arrival in the US (NA for the US-born)
    inspected: BoolArray       # arrival recorded by CBP
    admission: IntArray        # ADMISSION_CLASSES index of the first arrival, -1 if none
    immigrant_visa: BoolArray  # arrived as a permanent resident
    lpr_date: IntArray
    nat_date: IntArray
    filed_date: IntArray       # the application behind the status (asylum, TPS, DACA, VAWA)
    status_date: IntArray      # when the current status began
    exit_date: IntArray        # departure of the departed
    removed: BoolArray         # departed by removal under a final order (ICE records it)
    charged: BoolArray         # removal case started by enforcement (an encounter)
    charging: BoolArray        # encounter1 is the encounter at which that case was started
    court: BoolArray
    court_status: IntArray     # CASE_STATUSES index, -1 if no case
    nta_date: IntArray
    decision_date: IntArray
    encounter1: IntArray
    encounter2: IntArray
    death_date: IntArray
    travels: BoolArray         # has border crossings beyond the first arrival

    def present(self, people: People, when: IntArray, rows: IntArray) -> BoolArray:
        """Alive and in the US on ``when`` (born, arrived, not departed, not dead)."""
        arrived = np.where(people.foreign[rows], self.entry[rows] <= when, people.dob[rows] <= when)
        left = (self.exit_date[rows] != NA) & (self.exit_date[rows] < when)
        dead = (self.death_date[rows] != NA) & (self.death_date[rows] < when)
        return np.asarray(arrived & ~left & ~dead, dtype=bool)


def build_timeline(rng: np.random.Generator, p: People, cfg: SynthConfig) -> Timeline:
    n, as_of = p.n, p.as_of
    age = p.age()
    u = rng.random((12, n))
    lo = np.array([_YEARS_IN_US.get(s, (0, 0))[0] for s in STATUSES])[p.status]
    hi = np.array([_YEARS_IN_US.get(s, (0, 0))[1] for s in STATUSES])[p.status]
    top = np.maximum(np.minimum(hi, age - 0.1), lo)
    years = np.where(age < lo + 0.2, age * u[0] * 0.9, lo + u[0] * (top - lo))
    entry = as_of - np.round(years * YEAR).astype(np.int64)

    # DACA: arrived before 16 and before 15 June 2007.
    daca = p.status == S["daca"]
    first, last = p.dob + 120, np.minimum(p.dob + int(15.9 * YEAR), _DACA_LAST_ENTRY)
    feasible = last > first
    p.status[daca & ~feasible] = S["no_status"]
    daca &= feasible
    entry[daca] = first[daca] + (u[1][daca] * (last - first)[daca]).astype(np.int64)

    # Spouses sharing the head's status arrived with or shortly after the head.
    with_head = (p.role == SPOUSE) & p.immigrant_household & (p.status == p.status[p.head])
    entry[with_head] = entry[p.head[with_head]] + (u[2][with_head] * 2 * YEAR).astype(np.int64)
    # Children born before the head arrived were born abroad and share the status.
    head_entry = entry[p.head]
    abroad = (p.role == CHILD) & p.immigrant_household & (p.dob < head_entry - 30)
    derived = p.status[p.head]
    p.status[abroad] = np.where(derived[abroad] == S["daca"], S["no_status"], derived[abroad])
    entry[abroad] = head_entry[abroad] + (u[3][abroad] * YEAR).astype(np.int64)
    p.foreign[:] = p.status != S["citizen_birth"]
    f = p.foreign
    entry = np.where(f, np.clip(entry, p.dob + 1, as_of - 30), NA)

    status = p.status
    inspected = f & (rng.random(n) < _per_status(cfg.inspected_entry_rate, status))
    settled = np.isin(status, [S["lpr"], S["citizen_naturalized"]])
    iv = settled & inspected & (u[4] < 0.45)
    admission = _admission(rng, status, iv, inspected)
    span = np.maximum(as_of - entry, 30)

    lpr = np.full(n, NA, dtype=np.int64)
    lpr[settled] = np.where(iv[settled], entry[settled], entry[settled] + (
        u[5][settled] * span[settled] * np.where(status[settled] == S["lpr"], 0.9, 0.5)
    ).astype(np.int64))
    nat = np.full(n, NA, dtype=np.int64)
    natz = status == S["citizen_naturalized"]
    rem = as_of - lpr[natz]
    nat[natz] = lpr[natz] + np.minimum(5 * YEAR, rem * 0.8).astype(np.int64) + (
        u[6][natz] * np.maximum(0, rem - 5 * YEAR) * 0.95).astype(np.int64)

    filed = np.full(n, NA, dtype=np.int64)
    asy = np.isin(status, [S["asylum_pending"], S["asylum_granted"]])
    filed[asy] = entry[asy] + (u[7][asy] * np.minimum(YEAR, span[asy] * 0.5)).astype(np.int64)
    tps = status == S["tps"]
    filed[tps] = entry[tps] + (u[7][tps] * span[tps] * 0.5).astype(np.int64)
    filed[daca] = np.maximum(_DACA_START, p.dob[daca] + int(15 * YEAR)) + (
        u[7][daca] * 3 * YEAR).astype(np.int64)
    filed[daca] = np.minimum(filed[daca], as_of - 60)
    vawa = status == S["vawa_t_u_pending"]
    filed[vawa] = entry[vawa] + (u[7][vawa] * span[vawa]).astype(np.int64)

    granted = status == S["asylum_granted"]
    grant = np.where(granted, filed + (u[8] * (as_of - filed)).astype(np.int64), NA)

    court_status = np.full(n, -1, dtype=np.int64)
    nta = np.full(n, NA, dtype=np.int64)
    decision = np.full(n, NA, dtype=np.int64)
    exit_date = np.full(n, NA, dtype=np.int64)

    inp = status == S["in_proceedings"]
    nta[inp] = entry[inp] + (u[9][inp] * span[inp]).astype(np.int64)
    appeal = inp & (u[10] < 0.2)
    court_status[inp] = np.where(appeal[inp], C["appeal_pending"], C["in_proceedings"])
    decision[appeal] = nta[appeal] + (u[11][appeal] * (as_of - nta[appeal])).astype(np.int64)

    fo = status == S["final_order"]
    nta[fo] = entry[fo] + (u[9][fo] * span[fo] * 0.8).astype(np.int64)
    decision[fo] = nta[fo] + (u[11][fo] * (as_of - nta[fo])).astype(np.int64)
    court_status[fo] = C["final_order"]

    defensive = granted & (u[10] < cfg.asylum_defensive_rate)
    nta[defensive] = filed[defensive]
    decision[defensive] = grant[defensive]
    court_status[defensive] = C["relief_granted"]

    dep = status == S["departed"]
    exit_date[dep] = entry[dep] + ((0.1 + 0.9 * u[8][dep]) * span[dep]).astype(np.int64)
    how = rng.random(n)
    removed = dep & (how < 0.3)
    vd = dep & (how >= 0.3) & (how < 0.4)
    cased = removed | vd
    nta[cased] = entry[cased] + (u[9][cased] * (exit_date[cased] - entry[cased]) * 0.7
                                 ).astype(np.int64)
    decision[cased] = nta[cased] + (u[11][cased] * (exit_date[cased] - nta[cased])
                                    ).astype(np.int64)
    court_status[removed] = C["final_order"]
    court_status[vd] = C["voluntary_departure"]

    other = rng.random(n)
    cancel = (status == S["lpr"]) & (other < 0.01) & ~iv
    nta[cancel] = entry[cancel] + ((lpr[cancel] - entry[cancel]) * 0.5).astype(np.int64)
    decision[cancel] = lpr[cancel]
    court_status[cancel] = C["relief_granted"]
    closed = tps & (other < 0.1)
    nta[closed] = entry[closed] + ((filed[closed] - entry[closed]) * 0.5).astype(np.int64)
    decision[closed] = filed[closed]
    court_status[closed] = C["terminated"]
    vawa_case = vawa & (other < 0.15)
    nta[vawa_case] = entry[vawa_case] + (u[9][vawa_case] * span[vawa_case]).astype(np.int64)
    court_status[vawa_case] = C["in_proceedings"]
    court = court_status >= 0

    status_date = np.select(
        [settled & ~natz, natz, granted, asy | tps | daca | vawa, inp | fo, dep],
        [lpr, nat, grant, filed, np.where(fo, decision, nta), exit_date],
        default=np.where(f, entry, p.dob))

    # Removal cases that enforcement started: the notice to appear was issued at an
    # encounter (ICE or Border Patrol). The other cases came from USCIS (an asylum referral,
    # a denied application) or were reopened.
    charged = inp | fo | cased
    enc1, enc2, charging = _encounters(rng, p, cfg, entry, span, nta, exit_date, removed, court,
                                       charged)
    death = _deaths(rng, p, cfg, np.maximum.reduce([entry, lpr, nat, filed, grant, nta,
                                                    decision, exit_date, enc1, enc2, p.dob]))
    travel_rate = np.select([status == S["citizen_birth"],
                             np.isin(status, [S["citizen_naturalized"], S["lpr"], S["visa"]])],
                            [cfg.citizen_travel_rate, 0.5], default=0.03)
    travels = (rng.random(n) < travel_rate) & ~dep & (inspected | ~f | settled)
    return Timeline(entry=entry, inspected=inspected, admission=admission, immigrant_visa=iv,
                    lpr_date=lpr, nat_date=nat, filed_date=filed, status_date=status_date,
                    exit_date=exit_date, removed=removed, charged=charged,
                    charging=charging, court=court,
                    court_status=court_status, nta_date=nta,
                    decision_date=decision, encounter1=enc1, encounter2=enc2,
                    death_date=death, travels=travels)


def _per_status(table: dict[str, float], status: IntArray) -> np.ndarray:
    return np.array([table.get(s, 0.0) for s in STATUSES])[status]


def _admission(rng: np.random.Generator, status: IntArray, iv: BoolArray,
               inspected: BoolArray) -> IntArray:
    n = status.size
    out = np.full(n, -1, dtype=np.int64)

    def pick(mask: BoolArray, weights: dict[str, float]) -> None:
        codes = np.array([A[c] for c in weights], dtype=np.int64)
        out[mask] = codes[choice(rng, int(mask.sum()), list(weights.values()))]

    pick(iv, {"IR1": 30, "CR1": 15, "IR2": 10, "F21": 12, "F41": 8, "EB2": 10, "EB3": 8,
              "DV1": 7})
    rest = inspected & ~iv
    pick(rest & (status == S["visa"]),
         {"F1": 35, "H1B": 30, "L1": 10, "J1": 10, "B2": 8, "TN": 5, "H2A": 2})
    pick(rest & np.isin(status, [S["lpr"], S["citizen_naturalized"]]),
         {"B2": 40, "F1": 20, "H1B": 25, "K1": 15})
    pick(rest & np.isin(status, [S["departed"]]), {"F1": 30, "H1B": 25, "B2": 30, "J1": 10,
                                                   "B1": 5})
    pick(rest & np.isin(status, [S["asylum_pending"], S["asylum_granted"], S["tps"], S["daca"],
                                 S["vawa_t_u_pending"], S["in_proceedings"], S["final_order"],
                                 S["no_status"]]),
         {"B2": 75, "F1": 8, "J1": 5, "H2A": 7, "B1": 5})
    return out


def _encounters(rng: np.random.Generator, p: People, cfg: SynthConfig, entry: IntArray,
                span: IntArray, nta: IntArray, exit_date: IntArray, removed: BoolArray,
                court: BoolArray, charged: BoolArray) -> tuple[IntArray, IntArray, BoolArray]:
    """First and second enforcement encounter (NA if none), and whether the first is the
    one at which a removal case was started. Encounters happen while the person is in the
    US: from arrival (or age 16) to the exit or ``as_of``. Two kinds happen at any age: the
    encounter at which enforcement started a removal case (``charged``, at
    ``charging_encounter_rate``: up to 60 days before the notice to appear) and the arrest
    that ended in a removal (the last encounter, up to 20 days before the exit)."""
    n, as_of = p.n, p.as_of
    # Draws for the charging and removal encounters come from a child stream, so the
    # timeline's own stream (deaths, travels) does not shift with them.
    own = rng.spawn(1)[0]
    met = rng.random(n) < _per_status(cfg.encounter_rate, p.status)
    u = rng.random((3, n))
    charging = charged & (own.random(n) < cfg.charging_encounter_rate)
    present_for = np.where(exit_date != NA, exit_date - entry, span)
    arrived = np.where(p.foreign, entry, p.dob)
    first = np.where(p.foreign, entry + (u[0] * present_for).astype(np.int64),
                     as_of - (u[0] * 5 * YEAR).astype(np.int64))
    first = np.where(court, np.maximum(nta - (u[1] * 60).astype(np.int64), arrived), first)
    first = np.where(p.status == S["asylum_pending"], entry + (u[1] * 3).astype(np.int64), first)
    first = np.where(charging, first, np.maximum(first, p.dob + int(16 * YEAR)))
    # The last day in the US: an encounter pushed past it (by the age floor) did not happen.
    end = np.where(exit_date != NA, exit_date, as_of - 1)
    enc1 = np.where((met | charging) & (first <= end), first, NA)
    again = (enc1 != NA) & (u[2] < 0.2)
    second = enc1 + ((end - enc1) * rng.random(n)).astype(np.int64)
    enc2 = np.where(again & (second > enc1), second, NA)
    # A removal: the arrest that ended in it is the last encounter (the first, when the
    # case was started at that arrest; the only one, when nothing came before).
    arrest = np.maximum(exit_date - (own.random(n) * 20).astype(np.int64), arrived)
    enc1 = np.where(removed & (enc1 == NA), arrest, enc1)
    enc2 = np.where(removed, np.where(arrest > enc1, arrest, NA), enc2)
    return enc1, enc2, charging


def _deaths(rng: np.random.Generator, p: People, cfg: SynthConfig, latest: IntArray) -> IntArray:
    """Deaths within the last ``death_window_years`` (Gompertz hazard by age), after every
    other event of the person's history. The departed are not followed abroad."""
    window = cfg.death_window_years
    age = p.age()
    hazard = 0.000022 * np.exp(0.095 * np.clip(age, 0, 110))
    dies = rng.random(p.n) < 1 - np.exp(-hazard * window)
    start = np.maximum(p.as_of - int(window * YEAR), latest + 1)
    dies &= (start < p.as_of - 1) & (p.status != S["departed"])
    when = start + (rng.random(p.n) * (p.as_of - 1 - start)).astype(np.int64)
    return np.where(dies, when, NA)
