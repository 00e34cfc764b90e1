"""Matching agreements: term limits, one renewal, sources and elements the purpose may use,
statutory floors, and an agreement outside its term authorises nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.governance.agreements import AgreementError, parse_agreement
from accord.governance.policy import Request, decide
from accord.governance.registry import registry
from accord.governance.samples import write_agreements
from accord.governance.users import Actor

TODAY = date(2026, 11, 23)
CASEY = Actor("casey", "Casey", ("caseworker",), "DHS ICE Enforcement and Removal Operations", True)


@pytest.fixture
def enforcement(tmp_path: Path) -> dict[str, Any]:
    path = next(p for p in write_agreements(tmp_path, TODAY) if p.name.startswith("enforcement"))
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _parse(data: dict[str, Any]) -> Any:
    return parse_agreement(yaml.safe_dump(data), registry(), "a.yaml")


def test_sample_agreement_is_valid_for_exactly_eighteen_months(enforcement: dict[str, Any]) -> None:
    a = _parse(enforcement)
    assert (a.start, a.end) == (date(2026, 11, 1), date(2028, 4, 30))
    assert a.in_force(TODAY) and not a.in_force(date(2028, 5, 1))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param({"end": "2028-05-02"}, "exceeds 18 months", id="term over 18 months"),
        pytest.param({"end": "2026-10-01"}, "before start", id="ends before it starts"),
        pytest.param(
            {"renewal": {"start": "2028-05-01", "end": "2029-05-02", "approved_by": "DIB"}},
            "exceeds 12 months",
            id="renewal over 12 months",
        ),
        pytest.param(
            {
                "renewal": [
                    {"start": "2028-05-01", "end": "2029-04-30", "approved_by": "DIB"},
                    {"start": "2029-05-01", "end": "2030-04-30", "approved_by": "DIB"},
                ]
            },
            "renewed once only",
            id="second renewal",
        ),
        pytest.param(
            {"renewal": {"start": "2028-07-01", "end": "2029-04-30", "approved_by": "DIB"}},
            "renewal.start",
            id="renewal after a lapse",
        ),
        pytest.param(
            {"sources": ["eoir-case", "state-medicaid-mmis"]},
            "statutory floor",
            id="medicaid for enforcement",
        ),
        pytest.param(
            {"sources": ["eoir-case", "state-voter-roll"]}, "statutory floor", id="voter roll for enforcement"
        ),
        pytest.param(
            {"sources": ["eoir-case", "no-such-system"]}, "unknown record system", id="unknown source"
        ),
        pytest.param({"data_elements": ["given_name", "religion"]}, "unknown field", id="unknown element"),
        pytest.param({"purpose": "surveillance"}, "unknown purpose", id="unknown purpose"),
        pytest.param({"purpose": "oversight"}, "no person data", id="oversight needs no agreement"),
        pytest.param({"no_redisclosure": False}, "redisclosure", id="redisclosure allowed"),
        pytest.param(
            {"parties": [{"name": "EOIR", "role": "source"}, {"name": "SSA", "role": "source"}]},
            "recipient",
            id="no recipient",
        ),
        pytest.param({"verification": None}, "verification", id="no verification procedure"),
        pytest.param({"surprise": 1}, "surprise", id="unknown key"),
    ],
)
def test_agreement_breaking_a_rule_is_refused(
    enforcement: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(AgreementError, match=fragment):
        _parse({**enforcement, **change})


def test_one_renewal_of_twelve_months_is_accepted_and_extends_the_term(enforcement: dict[str, Any]) -> None:
    a = _parse({**enforcement, "renewal": {"start": "2028-05-01", "end": "2029-04-30", "approved_by": "DIB"}})
    assert a.ends_on == date(2029, 4, 30) and a.in_force(date(2029, 1, 1))


def test_identity_purpose_cannot_name_facts_from_identity_only_sources(tmp_path: Path) -> None:
    path = next(p for p in write_agreements(tmp_path, TODAY) if p.name.startswith("identity"))
    data = yaml.safe_load(path.read_text())
    with pytest.raises(AgreementError, match="case_status is not available"):
        _parse({**data, "data_elements": [*data["data_elements"], "case_status"]})


@pytest.mark.parametrize("today", [date(2026, 10, 31), date(2028, 5, 1), date(2030, 1, 1)])
def test_an_agreement_outside_its_term_authorises_nothing(enforcement: dict[str, Any], today: date) -> None:
    a = _parse(enforcement)
    d = decide(
        registry(),
        CASEY,
        "removal_order_enforcement",
        a,
        Request("person.view", "removal_order_enforcement", a.id),
        today,
    )
    assert not d.allow and d.scope is None
    assert any("authorises nothing" in r for r in d.reasons)
    inside = decide(
        registry(),
        CASEY,
        "removal_order_enforcement",
        a,
        Request("person.view", "removal_order_enforcement", a.id),
        TODAY,
    )
    assert inside.allow and inside.scope is not None
