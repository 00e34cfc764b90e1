"""The configured rates are roughly honoured (in-memory worlds, nothing written)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import numpy as np
import pyarrow.compute as pc
import pytest

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX, SynthConfig
from accord.synth.population import HEAD
from accord.synth.render import NameRenderer, NameStyle
from accord.synth.systems import irs, medicaid, ssa, voter
from accord.synth.world import World, build_world

BOOSTED = dataclasses.replace(
    SynthConfig(), dob_swap_rate=0.1, dob_off_by_one_rate=0.1, missing_rate=0.2,
    bad_row_rate=0.02, erroneous_death_rate=0.02, ssn_transposition_rate=0.05,
    ssn_digit_error_rate=0.05, immigrant_household_rate=0.3)


@pytest.fixture(scope="module")
def boosted() -> World:
    return build_world(20_000, 8, BOOSTED)


def _near(observed: float, expected: float, rel: float = 0.2, absolute: float = 0.0) -> bool:
    return abs(observed - expected) <= max(rel * expected, absolute)


def test_immigrant_households_and_status_mix(big_world: World) -> None:
    p, cfg = big_world.people, big_world.cfg
    heads = p.role == HEAD
    assert _near(p.immigrant_household[heads].mean(), cfg.immigrant_household_rate)
    imm_heads = heads & p.immigrant_household
    for status, share in cfg.foreign_born_status_mix.items():
        if status == "daca":  # heads too old for DACA become no_status
            continue
        observed = (p.status[imm_heads] == STATUS_INDEX[status]).mean()
        assert _near(observed, share, rel=0.35, absolute=0.012), status
    assert 0.08 < p.foreign.mean() < 0.2


def test_identifier_holding_rates(big_world: World) -> None:
    p, ids, cfg = big_world.people, big_world.ids, big_world.cfg
    for status in ("citizen_birth", "lpr", "visa"):
        mask = p.status == STATUS_INDEX[status]
        assert _near((ids.ssn[mask] >= 0).mean(), cfg.ssn_rate[status], rel=0.1), status
    assert (ids.ssn[p.status == STATUS_INDEX["no_status"]] < 0).all()
    no_ssn_adults = p.foreign & (ids.ssn < 0) & (p.age() >= 18)
    itin_only = ids.itin_until[no_ssn_adults] > p.as_of
    assert _near(itin_only.mean(), cfg.itin_rate, rel=0.15)
    assert _near((ids.borrowed_from[no_ssn_adults] >= 0).mean(), cfg.borrowed_ssn_rate,
                 rel=0.4)


def test_stale_citizenship_codes_and_erroneous_deaths(big_world: World, boosted: World) -> None:
    p, t, ids, cfg = big_world.people, big_world.timeline, big_world.ids, big_world.cfg
    natz = (p.status == STATUS_INDEX["citizen_naturalized"]) & (ids.ssn >= 0)
    before = natz & (ids.ssn_date < t.nat_date)
    assert before.sum() > 300
    assert _near(ids.ssa_stale[before].mean(), cfg.stale_ssa_citizenship_rate, rel=0.1)
    assert not ids.ssa_stale[~before].any()
    assert (ids.ssa_code[ids.ssa_stale] != 0).all()
    b = boosted
    living_holders = (b.ids.ssn >= 0) & (b.timeline.death_date == dates.NA)
    assert _near(b.ids.erroneous_death[living_holders].mean(), 0.02, rel=0.3)
    assert (b.ids.ssa_death[b.ids.erroneous_death] != dates.NA).all()


def test_dob_errors_and_blanks(boosted: World) -> None:
    ex = medicaid.build(boosted)
    shown = np.array([dates.day(_parse(v)) if v else dates.NA
                      for v in ex.columns["BIRTH_DT"].to_pylist()])
    true = boosted.people.dob[ex.person]
    y, m, d = dates.ymd(true)
    swappable = (d <= 12) & (d != m)
    swapped = shown == dates.from_ymd(y, d, m)
    assert _near(swapped[swappable].mean(), BOOSTED.dob_swap_rate, rel=0.3)
    off = np.isin(shown - true, [-1, 1, -365, 365])
    assert _near(off.mean(), BOOSTED.dob_off_by_one_rate, rel=0.3)
    ex.blank_optional(BOOSTED.missing_rate, np.random.default_rng(0))
    blank = np.array([v is None for v in ex.columns["BIRTH_DT"].to_pylist()])
    assert _near(blank.mean(), BOOSTED.missing_rate, rel=0.2)


def test_ssn_keying_errors(boosted: World) -> None:
    ex = medicaid.build(boosted)
    shown = ex.columns["SSN"].to_pylist()
    true = boosted.ids.work_ssn()[ex.person]
    pairs = [(int(s.replace("-", "")), int(t)) for s, t in zip(shown, true, strict=True)
             if s is not None]
    wrong = np.mean([s != t for s, t in pairs])
    expected = BOOSTED.ssn_transposition_rate + BOOSTED.ssn_digit_error_rate
    assert 0.5 * expected < wrong <= expected * 1.2
    assert identifiers.valid_ssn(np.array([s for s, _ in pairs])).all()


def test_bad_row_rate(boosted: World) -> None:
    ex = irs.build(boosted)
    ex.add_bad_rows(BOOSTED.bad_row_rate, np.random.default_rng(1))
    assert _near(len(ex.bad_rows) / ex.rows, BOOSTED.bad_row_rate, rel=0.25)
    assert {b.kind for b in ex.bad_rows} == {"ssn", "zip", "tax_year"}
    tins = ex.columns["TIN"].to_pylist()
    for b in ex.bad_rows:
        value = ex.columns[b.column][b.row].as_py()
        assert str(value) == b.value
        if b.kind == "ssn":
            assert tins[b.row].startswith("000")


def _render_diff(world: World, typo_rate: float = 0.0, nickname_rate: float = 0.0) -> float:
    """Share of given names that change when the given rates are switched on."""
    rows = np.arange(world.people.n, dtype=np.int64)
    when = np.full(rows.size, world.people.as_of)
    style = NameStyle(nickname=1.0, variant=0.0, forms=0.0, typo=1.0, swap=0.0)
    off = dataclasses.replace(world.cfg, typo_rate=0.0, nickname_rate=0.0, stale_name_rate=0.0)
    on = dataclasses.replace(off, typo_rate=typo_rate, nickname_rate=nickname_rate)
    base = NameRenderer(world.people, world.names, off, world.bank).render(
        rows, when, style, np.random.default_rng(3)).given
    changed = NameRenderer(world.people, world.names, on, world.bank).render(
        rows, when, style, np.random.default_rng(3)).given
    return float(np.mean(np.array(pc.not_equal(base, changed).to_pylist(), dtype=bool)))


def test_typo_and_nickname_rates(big_world: World) -> None:
    assert _near(_render_diff(big_world, typo_rate=0.1), 0.1, rel=0.2)
    bank = big_world.bank
    has_nick = np.array([bank.nicknames[int(o)].counts(np.array([g]))[0] > 0
                         for o, g in zip(big_world.people.origin, big_world.names.given,
                                         strict=True)])
    expected = 0.3 * has_nick.mean()
    assert _near(_render_diff(big_world, nickname_rate=0.3), expected, rel=0.25)


def test_voter_roll_rates(big_world: World) -> None:
    ex = voter.build(big_world)
    p = big_world.people
    status = p.status[ex.person]
    citizen = np.isin(status, [STATUS_INDEX["citizen_birth"], STATUS_INDEX["citizen_naturalized"]])
    assert citizen.mean() > 0.99
    ssn = ssa.build(big_world)
    assert ssn.rows == int((big_world.ids.ssn >= 0).sum())


def _parse(text: str) -> date:
    return datetime.strptime(text, medicaid.DATE).date()
