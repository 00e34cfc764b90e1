"""ICE enforcement encounters (EID, with Border Patrol's): one row per encounter (some
people have two).

Two encounters always carry the A-number: the one at which a removal case was started
(the notice to appear is filed under the A-number the processing recorded) and the one
that ended in a removal, which also carries the date the person departed (a removal is
carried out under the person's A-file and final order). Quirks: the subject's name in one
column as "Given Family" (mixed case, ASCII), so two family names split badly; the
A-number only sometimes on other encounters, written with an 'A' prefix and without the
leading zero; dates of birth as MM/DD/YYYY, encounter and departure dates as DD-Mon-YYYY.
A few US citizens appear (wrongly encountered), some with a wrong country recorded.
"""

from __future__ import annotations

import numpy as np

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX as S
from accord.synth.corrupt import BadKind, blanks, dob_errors
from accord.synth.places import places
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import digits, join, set_null, strings, take
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="asis", punct="keep", middle=(0.1, 0.0),
                  compound=(0.6, 0.1, 0.2, 0.03, 0.07), nickname=1.5, variant=1.5,
                  forms=1.2, typo=1.5, swap=2.0, stale=1.0)
DOB = "%m/%d/%Y"
WHEN = "%d-%b-%Y"
A_NUMBER_SHOWN = 0.6
_TYPES = ["CAP LOCAL", "287(g)", "CBP TRANSFER", "AT LARGE", "JAIL CHECK"]
_AORS = ["HOU", "DAL", "SNA", "ELP", "LOS", "NYC", "MIA", "CHI", "ATL", "PHO"]


def build(world: World) -> Extract:
    rng = world.rng("ice")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    first = np.flatnonzero(t.encounter1 != dates.NA)
    second = np.flatnonzero(t.encounter2 != dates.NA)
    person = np.concatenate([first, second])
    when = np.concatenate([t.encounter1[first], t.encounter2[second]])
    person, when = shuffled(rng, person, when)
    n = person.size
    name = world.renderer.render(person, when, STYLE, rng)
    # The removal: the person's last encounter, when they were removed.
    last = np.maximum(t.encounter1, t.encounter2)[person]
    removal = t.removed[person] & (when == last)
    departed = np.where(removal, t.exit_date[person], dates.NA)
    charging = t.charging[person] & (when == t.encounter1[person])
    shown = (ids.a_number[person] >= 0) & ((rng.random(n) < A_NUMBER_SHOWN) | removal | charging)
    a_num = np.where(shown, ids.a_number[person], -1)
    citizen = np.isin(p.status[person], [S["citizen_birth"], S["citizen_naturalized"]])
    # Wrongly encountered citizens: half recorded with a foreign country.
    wrong = citizen & (rng.random(n) < 0.5)
    foreign_guess = rng.integers(1, len(places().country_names), n)
    country = np.where(wrong, foreign_guess, ids.country[person])
    event = join(["EID", digits(identifiers.spread_ids(rng, n, 10), 10)])
    columns = {
        "EVENT_ID": event,
        "SUBJECT_NAME": name.given_family(),
        "DOB": set_null(dates.fmt(dob_errors(p.dob[person], cfg, rng, mult=2.0), DOB),
                        blanks(n, 0.05, rng)),
        "A_NUMBER": identifiers.a_number_text(a_num, "short"),
        "COUNTRY": take(strings(places().country_names), country),
        "SEX": take(strings(["M", "F"]), p.sex[person]),
        "ENCOUNTER_DATE": dates.fmt(when, WHEN),
        "DEPARTED_DATE": dates.fmt(departed, WHEN),
        "ENCOUNTER_TYPE": take(strings(_TYPES), rng.integers(0, len(_TYPES), n)),
        "AOR": take(strings(_AORS), rng.integers(0, len(_AORS), n)),
    }
    return Extract(
        source="ice", system="ice-enforcement",
        description="ICE enforcement encounters (one row per encounter)",
        columns=columns, record_id="EVENT_ID",
        fields={
            "full_name": {"column": "SUBJECT_NAME", "layout": "given family"},
            "dob": date_field("DOB", DOB),
            "a_number": "A_NUMBER",
            "citizenship_country": "COUNTRY",
            "sex": "SEX",
            "encounter_date": date_field("ENCOUNTER_DATE", WHEN),
            "exit_date": date_field("DEPARTED_DATE", WHEN),
        },
        person=person, optional=["COUNTRY", "SEX"],
        bad_kinds=[BadKind("ENCOUNTER_DATE", "date", date_format=WHEN),
                   BadKind("A_NUMBER", "a_number"), BadKind("DOB", "date", date_format=DOB)])
