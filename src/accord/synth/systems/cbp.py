"""CBP arrivals and departures: one row per admission (arrival, with the departure that
ended that stay when there was one).

Who: noncitizens admitted at a port (the first arrival), travellers returning (permanent
residents, visa holders, citizens), and those who left. Quirks: names as on the travel
document (machine-readable zone: upper-case ASCII, no apostrophes, hyphens as spaces,
middle names inside the given-name field); dates as YYYYMMDD; the issuing country as an
ISO-3 code; naturalised citizens switch from a foreign to a US passport; the record id is
the port code plus a sequence number within the port.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth import dates
from accord.synth.config import STATUS_INDEX as S
from accord.synth.corrupt import BadKind, dob_errors
from accord.synth.places import places
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import IntArray, strings, take
from accord.synth.timeline import ADMISSION_CLASSES
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="upper", punct="mrz", middle=(0.95, 0.0),
                  middle_in_given=1.0, compound=(0.85, 0.0, 0.12, 0.01, 0.02), nickname=0.0,
                  variant=1.0, forms=0.5, typo=0.3, swap=0.5, stale=0.5)
DATE = "%Y%m%d"
PORTS = ["2304", "2404", "2506", "2402", "2302", "0901", "4701", "2704", "5201", "1001",
         "3401", "2608", "2305", "2408"]
MAX_TRIPS = 4
YEAR = dates.YEAR


def admissions(world: World) -> tuple[IntArray, IntArray, IntArray]:
    """(person, arrival date, departure date or NA) of every admission."""
    rng = world.rng("cbp.trips")
    p, t = world.people, world.timeline
    n, as_of = p.n, p.as_of
    end = np.where(t.exit_date != dates.NA, t.exit_date, as_of - 1)
    end = np.where(t.death_date != dates.NA, np.minimum(end, t.death_date - 1), end)
    start = np.where(p.foreign, t.entry + 30, p.dob + int(18 * YEAR))
    start = np.maximum(start, as_of - int(10 * YEAR))
    trips = np.where(t.travels & (end - start > 120), 1 + rng.binomial(MAX_TRIPS - 1, 0.35, n), 0)
    # Departure dates of each trip, sorted; padding sorts last.
    u = np.sort(np.where(np.arange(MAX_TRIPS)[None, :] < trips[:, None],
                         rng.random((n, MAX_TRIPS)), 2.0), axis=1)
    span = np.maximum(end - start - 60, 0)[:, None]
    leave = start[:, None] + (np.minimum(u, 1.0) * span).astype(np.int64)
    back = leave + rng.integers(3, 45, (n, MAX_TRIPS))
    valid = np.arange(MAX_TRIPS)[None, :] < trips[:, None]
    for j in range(1, MAX_TRIPS):  # a trip starts after the return from the previous one
        leave[:, j] = np.maximum(leave[:, j], back[:, j - 1] + 7)
        back[:, j] = np.maximum(back[:, j], leave[:, j] + 3)
        valid[:, j] &= back[:, j] < end - 1

    first = p.foreign & t.inspected
    # Arrival rows: first arrival (column 0) and one per trip (columns 1..MAX_TRIPS).
    arrive = np.concatenate([t.entry[:, None], back], axis=1)
    has = np.concatenate([first[:, None], valid], axis=1)
    # The departure ending each stay is the next trip's departure, else the final exit.
    final_exit = np.where(t.exit_date != dates.NA, t.exit_date, dates.NA)
    nxt = np.concatenate([leave, np.full((n, 1), dates.NA)], axis=1)
    depart = np.where(np.concatenate([valid, np.zeros((n, 1), dtype=bool)], axis=1), nxt,
                      final_exit[:, None])
    who = np.repeat(np.arange(n, dtype=np.int64)[:, None], MAX_TRIPS + 1, axis=1)
    return who[has], arrive[has], depart[has]


def build(world: World) -> Extract:
    rng = world.rng("cbp")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    person, arrive, depart = admissions(world)
    person, arrive, depart = shuffled(rng, person, arrive, depart)
    n = person.size
    name = world.renderer.render(person, arrive, STYLE, rng)
    citizen = (p.status[person] == S["citizen_birth"]) | (
        (p.status[person] == S["citizen_naturalized"]) & (arrive >= t.nat_date[person]))
    resident = ~citizen & (t.lpr_date[person] != dates.NA) & (arrive > t.lpr_date[person])
    first = arrive == t.entry[person]
    classes = [*ADMISSION_CLASSES, "USC", "LPR"]
    cls = np.where(citizen, len(ADMISSION_CLASSES),
                   np.where(resident, len(ADMISSION_CLASSES) + 1,
                            np.where(first | (t.admission[person] >= 0), t.admission[person],
                                     classes.index("B2"))))
    cls = np.where(cls < 0, classes.index("B2"), cls)
    iso = places().country_codes
    usa = iso.index("USA")
    doc_country = np.where(citizen, usa, ids.country[person])
    passport = pc.if_else(pa.array(citizen), ids.us_passport.take(pa.array(person)),
                                  ids.passport.take(pa.array(person)))
    port = rng.integers(0, len(PORTS), n)
    seq = _sequence_within(port)
    columns = {
        "PORT_CD": take(strings(PORTS), port),
        "SEQ_NBR": pc.cast(pa.array(seq + 100_000), pa.string()),
        "TRVL_DOC_NBR": passport,
        "DOC_CNTRY": take(strings(iso), doc_country),
        "LST_NM": name.family,
        "FST_NM": name.given,
        "BIRTH_DT": dates.fmt(dob_errors(p.dob[person], cfg, rng, mult=0.3), DATE),
        "GNDR_CD": take(strings(["M", "F"]), p.sex[person]),
        "ARRVL_DT": dates.fmt(arrive, DATE),
        "DPRTR_DT": dates.fmt(depart, DATE),
        "CLASS_OF_ADMSN": take(strings(classes), cls),
    }
    return Extract(
        source="cbp", system="cbp-arrival-departure",
        description="CBP arrival/departure records (one row per admission)",
        columns=columns, record_id=["PORT_CD", "SEQ_NBR"],
        fields={
            "passport_number": "TRVL_DOC_NBR",
            "citizenship_country": "DOC_CNTRY",
            "family_name": "LST_NM",
            "given_names": "FST_NM",
            "dob": date_field("BIRTH_DT", DATE),
            "sex": "GNDR_CD",
            "entry_date": date_field("ARRVL_DT", DATE),
            "exit_date": date_field("DPRTR_DT", DATE),
            "admission_class": "CLASS_OF_ADMSN",
        },
        person=person, optional=["BIRTH_DT", "GNDR_CD"],
        bad_kinds=[BadKind("BIRTH_DT", "date", date_format=DATE),
                   BadKind("ARRVL_DT", "date", date_format=DATE),
                   BadKind("TRVL_DOC_NBR", "passport")])


def _sequence_within(group: IntArray) -> IntArray:
    """1, 2, 3, ... numbering rows within each group, in row order."""
    order = np.argsort(group, kind="stable")
    sorted_g = group[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_g[1:] != sorted_g[:-1]]))
    counts = np.diff(np.concatenate([starts, [group.size]]))
    rank = np.arange(group.size) - np.repeat(starts, counts)
    out = np.empty(group.size, dtype=np.int64)
    out[order] = rank + 1
    return out
