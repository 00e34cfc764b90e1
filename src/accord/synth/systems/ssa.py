"""SSA Numident: one row per SSN holder (living, dead, or wrongly recorded as dead).

Quirks: pipe-delimited; SSN without dashes as the record id; upper-case ASCII names as at
enumeration (name changes reach SSA only at ``ssa_name_update_rate``); DOB as MMDDYYYY;
the citizenship code is a snapshot from enumeration, so naturalised citizens often still
carry a noncitizen code; death dates include erroneous deaths of living people.
"""

from __future__ import annotations

import numpy as np

from accord.synth import dates
from accord.synth.corrupt import BadKind, dob_errors
from accord.synth.identifiers import ssn_text
from accord.synth.ids import SSA_CODES
from accord.synth.places import places
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import strings, take
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="upper", punct="keep", middle=(0.6, 0.2),
                  compound=(0.5, 0.25, 0.2, 0.02, 0.03), nickname=0.0, variant=0.3,
                  forms=0.6, typo=0.5, swap=0.5, stale=0.0)
DOB = "%m%d%Y"


def build(world: World) -> Extract:
    rng = world.rng("ssa")
    p, ids = world.people, world.ids
    (rows,) = shuffled(rng, np.flatnonzero(ids.ssn >= 0))
    n = rows.size
    told = rng.random(n) < world.cfg.ssa_name_update_rate
    # SSA knows the name as at enumeration, or the current one if the change was reported.
    when = np.where(told, p.as_of, ids.ssn_date[rows])
    name = world.renderer.render(rows, when, STYLE, rng)
    country = [c.upper() for c in places().country_names]
    code = ids.ssa_code[rows]
    columns = {
        "SSN": ssn_text(ids.ssn[rows], dashed=False),
        "NH_LAST": name.family,
        "NH_FIRST": name.given,
        "NH_MIDDLE": name.middle,
        "NH_SFX": name.suffix,
        "DOB": dates.fmt(dob_errors(p.dob[rows], world.cfg, rng, mult=0.5), DOB),
        "SEX": take(strings(["M", "F"]), p.sex[rows]),
        "CIT_CD": take(strings(list(SSA_CODES)), code),
        "POB_CNTRY": take(strings(country), ids.country[rows]),
        "ENUM_DT": dates.fmt(ids.ssn_date[rows], DOB),
        "DOD": dates.fmt(ids.ssa_death[rows], DOB),
    }
    return Extract(
        source="ssa", system="ssa-numident",
        description="SSA Numident: SSN holders, enumeration snapshot of citizenship, deaths",
        columns=columns, record_id="SSN",
        fields={
            "ssn": "SSN",
            "family_name": "NH_LAST",
            "given_name": "NH_FIRST",
            "middle_name": "NH_MIDDLE",
            "name_suffix": "NH_SFX",
            "dob": date_field("DOB", DOB),
            "sex": "SEX",
            "citizenship_code": {"column": "CIT_CD", "values": {
                "A": "us_citizen", "B": "noncitizen_authorized", "C": "noncitizen_authorized",
                "D": "unknown", "": "unknown"}},
            "country_of_birth": "POB_CNTRY",
            "event_date": date_field("ENUM_DT", DOB),
            "death_date": date_field("DOD", DOB),
        },
        person=rows, delimiter="|", optional=["NH_MIDDLE", "POB_CNTRY"],
        bad_kinds=[BadKind("DOB", "date", date_format=DOB), BadKind("CIT_CD", "code", code="Z"),
                   BadKind("DOD", "date", date_format=DOB)])
