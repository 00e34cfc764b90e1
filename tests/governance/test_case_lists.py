"""Listing findings and disputes: the state a list filters on is the state each case has on its
own (derived from its events), overdue means not acknowledged within 10 working days, and pages
neither repeat nor skip a case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from casework_helpers import ENF, casework_fixture

from accord.casework.disputes import (
    STATES as DISPUTE_STATES,
)
from accord.casework.disputes import (
    DisputeError,
    get_dispute,
    list_disputes,
)
from accord.casework.filing import file_dispute
from accord.casework.findings import (
    STATES as FINDING_STATES,
)
from accord.casework.findings import (
    FindingError,
    contest_finding,
    finding_state,
    list_findings,
    open_finding,
    verify_finding,
)
from accord.casework.handling import acknowledge_dispute, deny_dispute
from worlds import TODAY

SSA = "ssa-numident"
casework = pytest.fixture(scope="module")(casework_fixture)


def _dispute(cw: Any, person: str, day: Any) -> str:
    source, record_id = cw.record_of(person, SSA)
    d = file_dispute(cw.at(day), "pat", person, source=source, record_id=record_id, field="family_name",
                     claimed_value="Amended", statement="my family name is spelt wrong", today=day)
    return d.dispute_id


@pytest.fixture(scope="module")
def disputes(casework: Any) -> dict[str, str]:
    people = casework.persons_with(SSA)
    old = TODAY - timedelta(days=60)
    ids = {
        "filed_old": _dispute(casework, people[1], old),          # never acknowledged: overdue
        "acknowledged_old": _dispute(casework, people[2], old),
        "denied_old": _dispute(casework, people[3], old),
        "filed_new": _dispute(casework, people[4], TODAY),        # not yet due
        "denied_late": _dispute(casework, people[5], old),        # resolved, but late
    }
    acknowledge_dispute(casework.at(old + timedelta(days=3)), "priya", ids["acknowledged_old"])
    deny_dispute(casework.at(old + timedelta(days=2)), "priya", ids["denied_old"], reasons="source is right")
    deny_dispute(casework.gate, "priya", ids["denied_late"], reasons="source is right")
    return ids


def _all(cw: Any, **filters: Any) -> list[str]:
    out, offset = [], 0
    while True:
        page, more = list_disputes(cw.store, TODAY, limit=2, offset=offset, **filters)
        out += [d.dispute_id for d in page]
        if not more:
            return out
        offset += 2


def test_a_dispute_state_filter_agrees_with_each_disputes_own_state(casework: Any,
                                                                    disputes: dict[str, str]) -> None:
    every = _all(casework)
    assert set(disputes.values()) <= set(every) and len(every) == len(set(every))   # no page repeats
    states = {d: get_dispute(casework.store, d).state for d in every}
    assert {states[disputes[k]] for k in ("filed_old", "acknowledged_old", "denied_old")} == {
        "filed", "acknowledged", "denied"}
    for state in DISPUTE_STATES:
        expected = [d for d in every if states[d] == state or (state == "open" and states[d] in
                                                               ("filed", "acknowledged"))]
        assert _all(casework, state=state) == expected, state


def test_overdue_means_not_acknowledged_by_the_deadline(casework: Any, disputes: dict[str, str]) -> None:
    overdue = _all(casework, overdue=True)
    assert disputes["filed_old"] in overdue
    for key in ("acknowledged_old", "denied_old", "filed_new", "denied_late"):
        assert disputes[key] not in overdue, key
    for d in overdue:
        assert get_dispute(casework.store, d).overdue(TODAY)
    person = get_dispute(casework.store, disputes["filed_old"]).person_id
    assert _all(casework, person_id=person, overdue=True) == [disputes["filed_old"]]
    assert _all(casework, person_id=person, state="denied") == []
    with pytest.raises(DisputeError, match="unknown dispute state"):
        list_disputes(casework.store, TODAY, state="lost")


def test_a_finding_state_filter_agrees_with_each_findings_state(casework: Any) -> None:
    people = casework.persons_with(SSA)[30:34]
    ids = [open_finding(casework.gate, "casey", p, agreement=ENF, records=[casework.record_of(p, SSA)],
                        basis="final order of removal on record").finding.finding_id for p in people]
    verify_finding(casework.gate, "carl", ids[1], method="docket", evidence="the docket agrees")
    contest_finding(casework.gate, "casey", ids[2], contest="the person says the order was reopened")
    every: list[str] = []
    offset = 0
    while True:
        page, more = list_findings(casework.store, ENF, TODAY, limit=3, offset=offset)
        every += [s.finding.finding_id for s in page]
        if not more:
            break
        offset += 3
    assert set(ids) <= set(every) and len(every) == len(set(every))
    states = {f: finding_state(casework.store, f, TODAY).state for f in every}
    assert states[ids[2]] == "contested" and states[ids[0]] == "pending"
    for state in FINDING_STATES:
        page, more = list_findings(casework.store, ENF, TODAY, state=state, limit=100)
        assert [s.finding.finding_id for s in page] == [f for f in every if states[f] == state], state
    mine, _ = list_findings(casework.store, ENF, TODAY, person_id=people[3])
    assert [s.finding.finding_id for s in mine] == [ids[3]]
    assert list_findings(casework.store, "CMA-NONE", TODAY) == ([], False)
    with pytest.raises(FindingError, match="unknown finding state"):
        list_findings(casework.store, ENF, TODAY, state="done")
