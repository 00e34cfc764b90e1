"""IRS individual returns: one row per return, several tax years per filer.

Quirks: the TIN is an SSN or an ITIN without dashes (people who got an SSN after filing
with an ITIN switch TIN between years; some people without an SSN file under someone
else's); names upper case in separate columns with a middle initial; the address is the
filer's address in that year (movers change address between years); TAX_PRD is a number
(an integer column in Parquet); the return's DLN is the record id.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from accord.synth import dates, identifiers
from accord.synth.config import STATUSES
from accord.synth.corrupt import BadKind, ssn_errors
from accord.synth.identifiers import ssn_text
from accord.synth.places import (
    AddressStyle,
    render_city,
    render_state,
    render_street,
    render_zip,
)
from accord.synth.population import SPOUSE
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, shuffled
from accord.synth.textops import IntArray, digits, strings, take
from accord.synth.world import World

STYLE = NameStyle(fold="ascii", case="upper", punct="keep", middle=(0.0, 0.7),
                  compound=(0.3, 0.35, 0.3, 0.02, 0.03), nickname=0.5, variant=0.5,
                  forms=1.0, typo=1.0, swap=1.0, stale=1.0)
ADDRESS = AddressStyle(upper=True, abbreviate=True, unit_prefix="APT")


def filings(world: World) -> tuple[IntArray, IntArray, IntArray]:
    """(person, tax year, TIN) of every return filed."""
    rng = world.rng("irs.filings")
    p, t, ids, cfg = world.people, world.timeline, world.ids, world.cfg
    rate = np.array([cfg.filing_rate.get(s, 0.0) for s in STATUSES])[p.status]
    rate = np.where(p.role == SPOUSE, rate * 0.3, rate)  # most couples file jointly
    files = rng.random(p.n) < rate
    work = ids.work_ssn()
    persons, years, tins = [], [], []
    everyone = np.arange(p.n, dtype=np.int64)
    for year in cfg.tax_years:
        end = int(dates.year_end(np.array([year]))[0])
        start = end - 364
        who = everyone[files & (rng.random(p.n) < 0.92)]
        alive_then = t.present(p, np.full(who.size, end), who) | t.present(
            p, np.full(who.size, start), who)
        who = who[alive_then & (p.age(end)[who] >= 18)]
        own = (ids.ssn[who] >= 0) & (ids.ssn_date[who] <= end)
        use_itin = (ids.itin[who] >= 0) & (end < ids.itin_until[who])
        tin = np.where(use_itin, ids.itin[who], np.where(own, ids.ssn[who], -1))
        tin = np.where(tin < 0, np.where(ids.borrowed_from[who] >= 0, work[who], -1), tin)
        tin = np.where((tin < 0) & (ids.itin[who] >= 0), ids.itin[who], tin)
        keep = tin >= 0
        persons.append(who[keep])
        years.append(np.full(int(keep.sum()), year, dtype=np.int64))
        tins.append(tin[keep])
    return np.concatenate(persons), np.concatenate(years), np.concatenate(tins)


def build(world: World) -> Extract:
    rng = world.rng("irs")
    p = world.people
    person, year, tin = filings(world)
    person, year, tin = shuffled(rng, person, year, tin)
    n = person.size
    end = dates.year_end(year)
    name = world.renderer.render(person, end, STYLE, rng)
    addr = p.address_on(end, person)
    typo = rng.random(n) < world.cfg.address_typo_rate
    # 1 single, 2 married filing jointly, 3 married filing separately, 4 head of household.
    partnered = p.partner[person] >= 0
    family_size = np.bincount(p.hh)[p.hh[person]]
    heads_family = (p.head[person] == person) & (family_size > 1)
    status_code = np.where(partnered, np.where(p.role[person] == SPOUSE, 3, 2),
                           np.where(heads_family, 4, 1))
    columns = {
        "DLN": digits(identifiers.spread_ids(rng, n, 14), 14),
        "TIN": ssn_text(ssn_errors(tin, world.cfg, rng), dashed=False),
        "TAX_PRD": pa.array(year.astype(np.int32)),
        "FIRST_NM": name.given,
        "MI": name.middle,
        "LAST_NM": name.family,
        "ADDR_LN1": render_street(p.addresses, addr, ADDRESS, typo, rng),
        "CITY_NM": render_city(p.addresses, addr, upper=True),
        "ST_CD": render_state(p.addresses, addr),
        "ZIP_CD": render_zip(p.addresses, addr),
        "FILING_STATUS": take(strings(["1", "2", "3", "4"]), status_code - 1),
    }
    return Extract(
        source="irs", system="irs-individual-returns",
        description="IRS individual income tax returns (Form 1040), one row per return",
        columns=columns, record_id="DLN",
        fields={
            "tin": "TIN",
            "tax_year": "TAX_PRD",
            "given_name": "FIRST_NM",
            "middle_name": "MI",
            "family_name": "LAST_NM",
            "street": "ADDR_LN1",
            "city": "CITY_NM",
            "state": "ST_CD",
            "zip": "ZIP_CD",
        },
        person=person, optional=["MI", "ZIP_CD"],
        bad_kinds=[BadKind("TIN", "ssn"), BadKind("ZIP_CD", "zip"),
                   BadKind("TAX_PRD", "tax_year")])
