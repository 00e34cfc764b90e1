"""A state Medicaid enrolment file: one row per enrolled person (current enrolment).

Who: residents of the configured state, by status and age (children and the elderly more
often; people without a qualifying status only in emergency Medicaid). Quirks: the record
id is the household's case number plus a two-digit line number; SSN with dashes, often
missing, sometimes someone else's; program codes; the state's citizenship verification
code mapped through ``values``.
"""

from __future__ import annotations

import numpy as np

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX as S
from accord.synth.config import STATUSES
from accord.synth.corrupt import BadKind, blanks, dob_errors, ssn_errors
from accord.synth.places import (
    AddressStyle,
    places,
    render_city,
    render_state,
    render_street,
    render_zip,
)
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import digits, join, strings, take
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="upper", punct="keep", middle=(0.0, 0.6),
                  compound=(0.45, 0.25, 0.25, 0.02, 0.03), nickname=1.0, variant=1.0,
                  forms=1.0, typo=1.0, swap=1.0, stale=1.0)
ADDRESS = AddressStyle(upper=True, abbreviate=True, unit_prefix="#")
DATE = "%m/%d/%Y"
SSN_GIVEN = 0.85
QUALIFIED = ("citizen_birth", "citizen_naturalized", "lpr", "asylum_granted")
CITIZENSHIP = {"C": "us_citizen", "Q": "noncitizen_authorized", "N": "unknown",
               "P": "unknown"}


def build(world: World) -> Extract:
    rng = world.rng("medicaid")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    as_of = p.as_of
    state = np.array(places().city_state)[p.addresses.city[p.addr]] == cfg.state
    age = p.age()
    rate = np.array([cfg.medicaid_rate.get(s, 0.0) for s in STATUSES])[p.status]
    rate = rate * np.where(age < 19, 1.8, np.where(age >= 65, 1.3, 1.0))
    recent_lpr = (p.status == S["lpr"]) & (t.lpr_date > as_of - int(5 * dates.YEAR))
    rate = np.where(recent_lpr & (age >= 19), rate * 0.3, rate)
    here = t.present(p, np.full(p.n, as_of), np.arange(p.n))
    enrolled = state & here & (rng.random(p.n) < np.minimum(rate, 0.95))
    rows = np.flatnonzero(enrolled)
    # Line numbers within the household's case (rows are in household order here).
    hh = p.hh[rows]
    starts = np.flatnonzero(np.concatenate([[True], hh[1:] != hh[:-1]]))
    line = np.arange(rows.size) - np.repeat(starts, np.diff(np.concatenate([starts,
                                                                            [rows.size]])))
    case_of_hh = identifiers.spread_ids(rng, int(p.hh.max()) + 1, 9)
    rows, line = shuffled(rng, rows, line + 1)
    n = rows.size

    since = np.maximum.reduce([as_of - (rng.random(n) * 4 * dates.YEAR).astype(np.int64),
                               p.dob[rows], np.where(p.foreign[rows], t.entry[rows], 0)])
    since = np.minimum(since, as_of - 1)
    name = world.renderer.render(rows, since, STYLE, rng)
    qualified = np.isin(p.status[rows], [S[s] for s in QUALIFIED])
    a = age[rows]
    program = np.where(~qualified, "EMERGENCY", np.where(
        a < 19, np.where(rng.random(n) < 0.4, "CHIP", "MAGI_CHILD"),
        np.where(a >= 65, "ABD", "MAGI_ADULT")))
    citizen = np.isin(p.status[rows], [S["citizen_birth"], S["citizen_naturalized"]])
    code = np.where(citizen, "C", np.where(qualified, "Q", "N"))
    code = np.where(rng.random(n) < 0.02, "P", code)
    work = ids.work_ssn()[rows]
    ssn = np.where((work >= 0) & ~blanks(n, 1 - SSN_GIVEN, rng), ssn_errors(work, cfg, rng), -1)
    addr = p.addr[rows]
    columns = {
        "CASE_NO": join(["C", digits(case_of_hh[p.hh[rows]], 9)]),
        "LINE_NO": digits(line, 2),
        "RCP_LAST": name.family,
        "RCP_FIRST": name.given,
        "RCP_MI": name.middle,
        "BIRTH_DT": dates.fmt(dob_errors(p.dob[rows], cfg, rng), DATE),
        "SEX": take(strings(["M", "F"]), p.sex[rows]),
        "SSN": identifiers.ssn_text(ssn, dashed=True),
        "ADDR1": render_street(p.addresses, addr, ADDRESS,
                               rng.random(n) < cfg.address_typo_rate, rng),
        "CITY": render_city(p.addresses, addr, upper=True),
        "ST": render_state(p.addresses, addr),
        "ZIP": render_zip(p.addresses, addr),
        "PROGRAM": strings(program.tolist()),
        "CITZ_VRF": strings(code.tolist()),
        "ELIG_START": dates.fmt(since, DATE),
    }
    return Extract(
        source="medicaid", system="state-medicaid-mmis",
        description=f"{cfg.state} Medicaid enrolment (one row per enrolled person)",
        columns=columns, record_id=["CASE_NO", "LINE_NO"],
        fields={
            "family_name": "RCP_LAST",
            "given_name": "RCP_FIRST",
            "middle_name": "RCP_MI",
            "dob": date_field("BIRTH_DT", DATE),
            "sex": "SEX",
            "ssn": "SSN",
            "street": "ADDR1",
            "city": "CITY",
            "state": "ST",
            "zip": "ZIP",
            "program": "PROGRAM",
            "citizenship_code": {"column": "CITZ_VRF", "values": dict(CITIZENSHIP)},
            "event_date": date_field("ELIG_START", DATE),
        },
        person=rows, optional=["BIRTH_DT", "SEX", "ZIP"],
        bad_kinds=[BadKind("BIRTH_DT", "date", date_format=DATE),
                   BadKind("SSN", "ssn", dashed=True), BadKind("ZIP", "zip"),
                   BadKind("CITZ_VRF", "code", code="X")])
