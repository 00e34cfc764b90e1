"""persons.csv: the true state of every person (status, true name, identifiers, history and
the known record-system failures that affect them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.synth import dates, identifiers
from accord.synth.config import STATUSES
from accord.synth.ids import SSA_CODES
from accord.synth.naming import SUFFIXES
from accord.synth.places import AddressStyle, places, render_city, render_state, render_street, render_zip
from accord.synth.population import CHILD, HEAD, ROOMMATE, SPOUSE
from accord.synth.textops import IntArray, digits, join, strings, take
from accord.synth.timeline import CASE_STATUSES
from accord.synth.world import World
from accord.synth.writer import TableStream, person_ids

ISO = "%Y-%m-%d"
ROLES = {HEAD: "head", SPOUSE: "spouse", CHILD: "child", ROOMMATE: "other"}
TRUE_ADDRESS = AddressStyle(upper=False, abbreviate=False, unit_prefix="Apt")


CHUNK = 250_000


def write_persons(world: World, path: Path) -> None:
    """persons.csv, written in chunks of ``CHUNK`` people."""
    stream: TableStream | None = None
    try:
        for start in range(0, world.people.n, CHUNK):
            idx = np.arange(start, min(start + CHUNK, world.people.n), dtype=np.int64)
            table = pa.table(persons_columns(world, idx))
            if stream is None:
                stream = TableStream(path, table.schema)
            stream.write(table)
    finally:
        if stream is not None:
            stream.close()


def persons_columns(world: World, idx: IntArray) -> dict[str, pa.Array]:
    """persons.csv columns for the people ``idx``."""
    p, t, ids, nm, bank = world.people, world.timeline, world.ids, world.names, world.bank
    n = p.n
    vocab = bank.rendered("none", "asis", "keep")
    role_names = [ROLES[r] for r in range(4)]
    changed = nm.family_change[idx] != dates.NA
    rows = pa.array(idx)

    def optional_id(values: IntArray) -> pa.Array:
        return pc.if_else(pa.array(values >= 0), person_ids(np.maximum(values, 0), n),
                          pa.scalar(None, pa.string()))

    def flag(values: np.ndarray) -> pa.Array:
        return take(strings(["false", "true"]), values.astype(np.int64))

    def day(values: IntArray) -> pa.Array:
        return dates.fmt(values[idx], ISO)

    addr = p.addr[idx]
    return {
        "person_id": person_ids(idx, n),
        "status": take(strings(list(STATUSES)), p.status[idx]),
        "given_name": take(vocab, nm.given[idx]),
        "middle_name": take(vocab, nm.middle[idx]),
        "family_name": take(vocab, nm.fam1[idx]),
        "second_family_name": take(vocab, nm.fam2[idx]),
        "birth_family_name": take(vocab, np.where(changed, nm.birth_fam1[idx], -1)),
        "family_name_changed": day(nm.family_change),
        "prior_given_name": take(vocab, nm.prior_given[idx]),
        "name_suffix": take(strings(list(SUFFIXES)),
                            np.where(nm.suffix[idx] > 0, nm.suffix[idx], -1)),
        "sex": take(strings(["M", "F"]), p.sex[idx]),
        "dob": day(p.dob),
        "origin_group": take(strings([o.name for o in bank.origins]), p.origin[idx]),
        "country_of_birth": take(strings(places().country_codes), ids.country[idx]),
        "household_id": join(["H", digits(p.hh[idx], 7)]),
        "household_role": take(strings(role_names), p.role[idx]),
        "twin_of": optional_id(p.twin_of[idx]),
        "street": render_street(p.addresses, addr, TRUE_ADDRESS),
        "city": render_city(p.addresses, addr, upper=False),
        "state": render_state(p.addresses, addr),
        "zip": render_zip(p.addresses, addr),
        "moved_on": day(p.move_date),
        "entry_date": day(t.entry),
        "entered_with_inspection": flag(t.inspected[idx]),
        "lpr_date": day(t.lpr_date),
        "naturalization_date": day(t.nat_date),
        "status_date": day(t.status_date),
        "exit_date": day(t.exit_date),
        "court_case_status": take(strings(list(CASE_STATUSES)), t.court_status[idx]),
        "deceased": flag(t.death_date[idx] != dates.NA),
        "death_date": day(t.death_date),
        "ssn": identifiers.ssn_text(ids.ssn[idx], dashed=False),
        "ssn_issued": day(ids.ssn_date),
        "itin": identifiers.ssn_text(ids.itin[idx], dashed=False),
        "uses_ssn_of": optional_id(ids.borrowed_from[idx]),
        "a_number": identifiers.a_number_text(ids.a_number[idx], "plain"),
        "passport_number": ids.passport.take(rows),
        "us_passport_number": ids.us_passport.take(rows),
        "ssa_citizenship_code": take(strings(list(SSA_CODES)), ids.ssa_code[idx]),
        "ssa_citizenship_stale": flag(ids.ssa_stale[idx]),
        "ssa_death_date": day(ids.ssa_death),
        "ssa_erroneous_death": flag(ids.erroneous_death[idx]),
    }
