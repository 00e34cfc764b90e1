"""The order of the status rules where two of them conclude: permanent residence outranks a
protected application (docs/status.md, rule 11). A lawful permanent resident is not a person
whose protection from removal rests on an application: the status is the settled one, ``lpr``,
whatever application (pending or approved) is also on record — and the application is still
found, so nothing about it is lost."""

from __future__ import annotations

import pytest
from status_helpers import benefit, fact, order, run

LPR_EVIDENCE = {
    "approved adjustment": lambda: benefit("lpr", "approved", "2015-03-03"),
    "immigrant-visa admission": lambda: fact("cbp-arrival-departure", admission_class="IR1",
                                             entry_date="2012-01-01"),
}


@pytest.mark.parametrize("protection", ["pending", "approved"])
@pytest.mark.parametrize("evidence", sorted(LPR_EVIDENCE))
@pytest.mark.parametrize("kind", ["asylum", "tps", "vawa", "daca"])
def test_permanent_residence_outranks_a_protected_application(evidence: str, protection: str,
                                                              kind: str) -> None:
    lpr = LPR_EVIDENCE[evidence]()
    # The application is the later record: a rule order by date would pick it.
    application = benefit(kind, protection, "2021-06-01")
    for facts in ((lpr, application), (application, lpr), (lpr, application, order("2022-05-01"))):
        det, elig = run(*facts)
        assert det.status == "lpr", (facts, det.status)
        assert {e.rule for e in det.evidence} == {"lpr"}
        assert [(e.source, e.record_id) for e in det.evidence] == [(lpr.source, lpr.record_id)]
        assert {"lpr", "protected"} <= det.findings        # both found, one decides
        assert (elig.eligible, elig.exclusion) == (False, "lpr")


def test_without_the_permanent_residence_the_application_decides() -> None:
    # The control: the same application alone gives the protected statuses.
    assert run(benefit("asylum", "pending", "2021-06-01"))[0].status == "protected_pending"
    assert run(benefit("tps", "approved", "2021-06-01"))[0].status == "relief_granted"
