"""Adverse-action findings (5 U.S.C. 552a(p)): no action on a match result until it is
independently verified, the person was given notice and a chance to contest, and the notice
period has run out. Each requirement is tried on its own: nothing lets a step be skipped."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from casework_helpers import ENF, casework_fixture

from accord.casework.findings import (
    FindingError,
    contest_finding,
    decide_contest,
    finding_state,
    mark_actionable,
    open_finding,
    record_notice,
    verify_finding,
)
from accord.governance.agreements import get_agreement
from accord.governance.gate import PolicyDenied
from worlds import TODAY

SSA = "ssa-numident"
DAY = timedelta(days=1)
casework = pytest.fixture(scope="module")(casework_fixture)


def _open(cw: Any, person: str, user: str = "casey") -> str:
    s = open_finding(cw.gate, user, person, agreement=ENF, records=[cw.record_of(person, SSA)],
                     basis="Final order of removal in EOIR matched on name, date of birth and A-number.")
    return str(s.finding.finding_id)


def _verify(cw: Any, finding: str, user: str = "carl", day: date = TODAY) -> Any:
    return verify_finding(cw.at(day), user, finding, method="Second officer compared the source records",
                          evidence="EOIR docket and SSA Numident entries agree on every identifier.")


def _notice(cw: Any, finding: str, sent_on: date = TODAY) -> Any:
    return record_notice(cw.at(sent_on), "casey", finding, sent_on=sent_on, method="first-class mail")


def _person(cw: Any, i: int) -> str:
    return str(cw.persons_with(SSA)[20 + i])


def _refused(cw: Any, finding: str, day: date, match: str, user: str = "casey") -> None:
    with pytest.raises(FindingError, match=match):
        mark_actionable(cw.at(day), user, finding)
    event = cw.last_event()
    assert (event["action"], event["outcome"][:8]) == ("finding.decide", "failed: ")
    assert finding_state(cw.store, finding, day).state != "actionable"


def test_every_step_on_record_then_actionable_after_the_notice_period(casework: Any) -> None:
    finding = _open(casework, _person(casework, 0))
    s = finding_state(casework.store, finding, TODAY)
    assert s.state == "pending" and len(s.needs) == 2
    assert "independent verification" in s.needs[0] and "notice" in s.needs[1]
    _refused(casework, finding, TODAY + 365 * DAY, "independent verification")
    _verify(casework, finding)
    _notice(casework, finding, TODAY + 2 * DAY)
    agreement = get_agreement(casework.store, ENF)
    assert agreement is not None
    days = agreement.notice_days
    first = TODAY + (2 + days + 1) * DAY                         # the day after the period's last day
    assert finding_state(casework.store, finding, first).actionable_from == first
    _refused(casework, finding, first - DAY, f"no action before {first}")
    assert finding_state(casework.store, finding, first).state == "ready"
    done = mark_actionable(casework.at(first), "casey", finding)
    assert done.state == "actionable" and done.needs == [] and done.verified_by == ["carl"]
    assert casework.last_event()["outcome"].startswith(f"finding {finding} actionable")
    with pytest.raises(FindingError, match="already actionable"):
        mark_actionable(casework.at(first), "carl", finding)


def test_the_opener_cannot_verify_their_own_finding(casework: Any) -> None:
    finding = _open(casework, _person(casework, 1))
    with pytest.raises(FindingError, match="independent"):
        _verify(casework, finding, user="casey")
    assert finding_state(casework.store, finding, TODAY).verified_by == []
    with pytest.raises(FindingError, match="not independently verified"):
        _notice(casework, finding)
    _refused(casework, finding, TODAY + 400 * DAY, "independent verification")
    # Even a verification by the opener written past the workflow does not count.
    casework.store.con.execute("INSERT INTO finding_events VALUES (nextval('casework_seq'), ?, 'verified', "
                               "'casey', ?, now(), 'm', 'e', NULL)", [finding, TODAY])
    assert finding_state(casework.store, finding, TODAY).verified_by == []
    _refused(casework, finding, TODAY + 400 * DAY, "independent verification")


def test_no_notice_no_action(casework: Any) -> None:
    finding = _open(casework, _person(casework, 2))
    _verify(casework, finding, day=TODAY + DAY)
    _refused(casework, finding, TODAY + 90 * DAY, "notice of the findings")
    with pytest.raises(FindingError, match="must fall between"):
        record_notice(casework.gate, "casey", finding, sent_on=TODAY, method="mail")  # before verification
    with pytest.raises(FindingError, match="must fall between"):
        record_notice(casework.at(TODAY + DAY), "casey", finding, sent_on=TODAY + 5 * DAY, method="mail")
    with pytest.raises(FindingError, match="notice method"):
        record_notice(casework.at(TODAY + DAY), "casey", finding, sent_on=TODAY + DAY, method=" ")
    # who may send notice is the policy's: refused at the gate, audited as a refusal
    with pytest.raises(PolicyDenied, match="not with a recipient party"):
        record_notice(casework.at(TODAY + DAY), "bea", finding, sent_on=TODAY + DAY, method="mail")
    refusal = casework.last_event()
    assert (refusal["action"], refusal["outcome"]) == ("finding.notice", "refused")
    assert finding_state(casework.store, finding, TODAY + 90 * DAY).notice_on is None


def test_an_open_contest_blocks_action_and_a_rejected_one_lets_the_period_run(casework: Any) -> None:
    finding = _open(casework, _person(casework, 3))
    _verify(casework, finding)
    _notice(casework, finding)
    s = contest_finding(casework.at(TODAY + 5 * DAY), "pat", finding,
                        contest="I was granted relief in 2019; the order was vacated.")
    assert s.state == "contested" and len(s.open_contests) == 1
    contest = s.open_contests[0]
    after_period = TODAY + 40 * DAY
    _refused(casework, finding, after_period, "open contest")
    with pytest.raises(FindingError, match="no open contest"):
        decide_contest(casework.gate, "carl", finding, contest + 1000, upheld=False, reasons="x")
    with pytest.raises(PolicyDenied, match="not with a recipient party"):
        decide_contest(casework.gate, "bea", finding, contest, upheld=False, reasons="x")
    rejected = decide_contest(casework.at(TODAY + 10 * DAY), "carl", finding, contest, upheld=False,
                              reasons="The vacatur concerns a different A-number.")
    assert rejected.open_contests == [] and rejected.contests[0]["decision"] == "rejected"
    _refused(casework, finding, TODAY + 30 * DAY, "notice period")   # the period still runs from notice
    assert mark_actionable(casework.at(TODAY + 31 * DAY), "carl", finding).state == "actionable"


def test_an_upheld_contest_closes_the_finding(casework: Any) -> None:
    finding = _open(casework, _person(casework, 4))
    _verify(casework, finding)
    _notice(casework, finding)
    contest = contest_finding(casework.gate, "casey", finding, contest="Not me.").open_contests[0]
    closed = decide_contest(casework.gate, "carl", finding, contest, upheld=True,
                            reasons="Fingerprints show a different person.")
    assert closed.state == "closed" and closed.needs == []
    _refused(casework, finding, TODAY + 60 * DAY, "closed")
    with pytest.raises(FindingError, match="closed"):
        _verify(casework, finding)
    with pytest.raises(FindingError, match="closed"):
        contest_finding(casework.gate, "pat", finding, contest="again")


def test_an_expired_agreement_authorises_no_finding_and_no_action(casework: Any) -> None:
    finding = _open(casework, _person(casework, 5))
    _verify(casework, finding)
    _notice(casework, finding)
    agreement = get_agreement(casework.store, ENF)
    assert agreement is not None
    expired = agreement.ends_on + DAY
    assert finding_state(casework.store, finding, agreement.ends_on).state == "ready"
    _refused(casework, finding, expired, "expired")
    with pytest.raises(PolicyDenied, match="expired"):
        open_finding(casework.at(expired), "casey", _person(casework, 6), agreement=ENF,
                     records=[casework.record_of(_person(casework, 6), SSA)], basis="match")
    with pytest.raises(PolicyDenied, match="expired"):
        _verify(casework, finding, user="carl", day=expired)


def test_opening_needs_an_agreement_recipient_and_the_person_s_own_source_records(casework: Any) -> None:
    person, other = _person(casework, 7), _person(casework, 8)
    with pytest.raises(PolicyDenied, match="not with a recipient party"):
        _open(casework, person, user="bea")
    with pytest.raises(PolicyDenied, match=r"finding\.open"):
        _open(casework, person, user="pat")
    # one answer for another person's record, a record outside the agreement's sources, a
    # withheld record or none at all: which of them it was is not for the caller to learn
    with pytest.raises(FindingError, match=r"not among the records of person .* that this purpose may see"):
        open_finding(casework.gate, "casey", person, agreement=ENF, records=[casework.record_of(other, SSA)],
                     basis="match")
    voter = casework.persons_with("state-voter-roll")[0]
    with pytest.raises(FindingError, match=r"not among the records of person .* that this purpose may see"):
        open_finding(casework.gate, "casey", voter, agreement=ENF,
                     records=[casework.record_of(voter, "state-voter-roll")], basis="match")
    with pytest.raises(FindingError, match="name the records"):
        open_finding(casework.gate, "casey", person, agreement=ENF, records=[], basis="match")
    with pytest.raises(FindingError, match="basis"):
        open_finding(casework.gate, "casey", person, agreement=ENF, records=[casework.record_of(person, SSA)],
                     basis="  ")
    assert casework.rows("SELECT count(*) FROM findings WHERE person_id IN (?, ?)", [person, voter]) == [(0,)]
