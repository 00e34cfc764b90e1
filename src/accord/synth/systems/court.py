"""EOIR immigration court cases: one row per case.

Quirks: no SSN at all; A-number with dashes (012-345-678); the name in one column as
"FAMILY, GIVEN MIDDLE" (upper-case ASCII, two family names often both present); nationality
as an upper-case country name; the birth date is often missing; case status as court
text codes mapped through ``values``; the case id (IDNCASE) is the record id.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from accord.synth import dates, identifiers
from accord.synth.corrupt import BadKind, blanks, dob_errors
from accord.synth.places import places
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import digits, set_null, strings, take
from accord.synth.timeline import CASE_STATUSES
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="upper", punct="keep", middle=(0.5, 0.1),
                  compound=(0.7, 0.05, 0.15, 0.03, 0.07), nickname=0.2, variant=1.2,
                  forms=1.0, typo=1.2, swap=2.0, stale=1.0)
CODES = {"in_proceedings": "PENDING", "final_order": "REMOVAL ORDERED",
         "relief_granted": "RELIEF GRANTED", "terminated": "TERMINATED",
         "appeal_pending": "APPEAL PENDING", "voluntary_departure": "VOLUNTARY DEPARTURE"}
DATE = "%Y-%m-%d"
_COURTS = ["HOU", "HLG", "DAL", "SNA", "ELP", "LOS", "NYC", "MIA", "CHI", "ATL", "SFR", "ARL"]
DOB_MISSING = 0.3


def build(world: World) -> Extract:
    rng = world.rng("court")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    (person,) = shuffled(rng, np.flatnonzero(t.court))
    n = person.size
    name = world.renderer.render(person, t.nta_date[person], STYLE, rng)
    a_num = identifiers.corrupt(ids.a_number[person], cfg.ssn_transposition_rate, 0.0, rng,
                                valid=np.ones(n, dtype=bool))
    dob = dob_errors(p.dob[person], cfg, rng, mult=1.5)
    codes = [CODES[c] for c in CASE_STATUSES]
    country = [c.upper() for c in places().country_names]
    decided = t.decision_date[person]
    columns = {
        "IDNCASE": digits(identifiers.spread_ids(rng, n, 8), 8),
        "ALIEN_NBR": identifiers.a_number_text(a_num, "dashed"),
        "ALIEN_NAME": name.family_given(),
        "NAT": take(strings(country), ids.country[person]),
        "BIRTHDATE": set_null(dates.fmt(dob, DATE), blanks(n, DOB_MISSING, rng)),
        "GENDER": take(strings(["M", "F"]), p.sex[person]),
        "CASE_TYPE": pa.array(["RMV"] * n, pa.string()),
        "CASE_STATUS": take(strings(codes), t.court_status[person]),
        "NTA_DATE": dates.fmt(t.nta_date[person], DATE),
        "DECISION_DATE": dates.fmt(decided, DATE),
        "HEARING_LOC": take(strings(_COURTS), rng.integers(0, len(_COURTS), n)),
    }
    return Extract(
        source="court", system="eoir-case",
        description="EOIR immigration court removal cases (no SSNs in this system)",
        columns=columns, record_id="IDNCASE",
        fields={
            "a_number": "ALIEN_NBR",
            "full_name": {"column": "ALIEN_NAME", "layout": "family, given"},
            "citizenship_country": "NAT",
            "dob": date_field("BIRTHDATE", DATE),
            "sex": "GENDER",
            "case_status": {"column": "CASE_STATUS",
                            "values": {v: k for k, v in CODES.items()}},
            "event_date": date_field("NTA_DATE", DATE),
            "case_decision_date": date_field("DECISION_DATE", DATE),
        },
        person=person, optional=["NAT", "GENDER"],
        bad_kinds=[BadKind("CASE_STATUS", "code", code="ADMIN CLOSED"),
                   BadKind("BIRTHDATE", "date", date_format=DATE),
                   BadKind("ALIEN_NBR", "a_number")])
