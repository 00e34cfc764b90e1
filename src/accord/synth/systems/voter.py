"""A state voter roll: one row per registration.

Who: adult citizens living in the configured state who registered, deceased voters not yet
removed, and a small documented rate of erroneous registrations of noncitizens. Quirks:
tab-delimited Latin-1 text (Spanish accents kept, other letters folded); names in title
case with suffixes; only the last four digits of the SSN; one full-address column; the
address may be the one at registration if the voter moved since.
"""

from __future__ import annotations

import numpy as np

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX as S
from accord.synth.corrupt import BadKind, blanks, dob_errors
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

STYLE = NameStyle(fold="latin1", case="asis", punct="keep", middle=(0.7, 0.2),
                  compound=(0.45, 0.3, 0.2, 0.02, 0.03), nickname=1.5, variant=0.8,
                  forms=1.0, typo=1.0, swap=0.5, stale=1.0)
ADDRESS = AddressStyle(upper=False, abbreviate=True, unit_prefix="Apt")
DATE = "%m-%d-%Y"
SSN4_GIVEN = 0.75
ADDRESS_UPDATED = 0.5


def build(world: World) -> Extract:
    rng = world.rng("voter")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    as_of = p.as_of
    n_all = p.n
    city_state = np.array(places().city_state)
    adult = p.age() >= 18
    citizen = (p.status == S["citizen_birth"]) | (p.status == S["citizen_naturalized"])
    living_here = t.present(p, np.full(n_all, as_of), np.arange(n_all))
    dead = t.death_date != dates.NA
    in_state = city_state[p.addresses.city[p.addr]] == cfg.state
    u = rng.random((3, n_all))
    registered = citizen & adult & in_state & (u[0] < cfg.voter_registration_rate)
    registered &= living_here | (dead & (u[1] < cfg.dead_voter_retention_rate))
    noncitizen = ~citizen & adult & living_here & in_state & (p.status != S["departed"])
    registered |= noncitizen & (u[2] < cfg.erroneous_registration_rate)
    (rows,) = shuffled(rng, np.flatnonzero(registered))
    n = rows.size

    eligible = np.maximum(p.dob[rows] + int(18 * dates.YEAR), as_of - int(30 * dates.YEAR))
    eligible = np.where(t.nat_date[rows] != dates.NA, np.maximum(eligible, t.nat_date[rows]),
                        eligible)
    eligible = np.where(p.foreign[rows] & (t.nat_date[rows] == dates.NA),
                        np.maximum(eligible, t.entry[rows]), eligible)
    # Voters who moved here from another state registered after the move.
    prev = p.prev_addr[rows]
    from_away = (prev >= 0) & (city_state[p.addresses.city[np.maximum(prev, 0)]] != cfg.state)
    eligible = np.where(from_away, np.maximum(eligible, p.move_date[rows]), eligible)
    last = np.where(dead[rows], t.death_date[rows] - 1, as_of - 1)
    reg = eligible + (rng.random(n) * np.maximum(last - eligible, 0)).astype(np.int64)
    name = world.renderer.render(rows, reg, STYLE, rng)
    addr = p.address_on(np.where(rng.random(n) < ADDRESS_UPDATED, as_of, reg), rows)
    street = render_street(p.addresses, addr, ADDRESS, rng.random(n) < cfg.address_typo_rate,
                           rng)
    full = join([street, ", ", render_city(p.addresses, addr, upper=False), ", ",
                 render_state(p.addresses, addr), " ", render_zip(p.addresses, addr)])
    own = ids.work_ssn()[rows]
    ssn4 = np.where((own >= 0) & ~blanks(n, 1 - SSN4_GIVEN, rng), own, -1)
    columns = {
        "VOTER_ID": digits(identifiers.spread_ids(rng, n, 10), 10),
        "LAST_NAME": name.family,
        "FIRST_NAME": name.given,
        "MIDDLE_NAME": name.middle,
        "NAME_SUFFIX": name.suffix,
        "BIRTH_DATE": dates.fmt(dob_errors(p.dob[rows], cfg, rng), DATE),
        "SSN4": identifiers.last4_text(ssn4),
        "RES_ADDRESS": full,
        "REG_DATE": dates.fmt(reg, DATE),
        "STATUS": take(strings(["A", "I"]), (rng.random(n) < 0.12).astype(np.int64)),
    }
    return Extract(
        source="voter", system="state-voter-roll",
        description=f"{cfg.state} voter registration roll",
        columns=columns, record_id="VOTER_ID",
        fields={
            "family_name": "LAST_NAME",
            "given_name": "FIRST_NAME",
            "middle_name": "MIDDLE_NAME",
            "name_suffix": "NAME_SUFFIX",
            "dob": date_field("BIRTH_DATE", DATE),
            "ssn_last4": "SSN4",
            "full_address": "RES_ADDRESS",
            "event_date": date_field("REG_DATE", DATE),
        },
        person=rows, delimiter="\t", encoding="latin-1", optional=["BIRTH_DATE", "MIDDLE_NAME"],
        bad_kinds=[BadKind("BIRTH_DATE", "date", date_format=DATE),
                   BadKind("SSN4", "last4")])
