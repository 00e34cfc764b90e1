"""The decision itself: default deny, least privilege, purposes, agreements and floors."""

from __future__ import annotations

from datetime import date

import pytest

from accord.governance.agreements import Agreement, parse_agreement
from accord.governance.policy import Decision, Request, decide
from accord.governance.registry import registry
from accord.governance.samples import write_agreements
from accord.governance.users import Actor

TODAY = date(2026, 11, 23)
ERO = "DHS ICE Enforcement and Removal Operations"
CASEY = Actor("casey", "Casey", ("caseworker",), ERO, True)
ANA = Actor("ana", "Ana", ("analyst",), "State Benefits Agency", True)
PAT = Actor("pat", "Pat", ("privacy_officer",), "Privacy Office", True)
OLIVE = Actor("olive", "Olive", ("oversight",), "OIG", True)
DANA = Actor("dana", "Dana", ("data_engineer",), "Data Office", True)


@pytest.fixture(scope="module")
def agreements(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Agreement]:
    out = {}
    for p in write_agreements(tmp_path_factory.mktemp("agr"), TODAY):
        a = parse_agreement(p.read_text(), registry(), str(p))
        out[a.purpose] = a
    return out


def _d(
    actor: Actor | None,
    purpose: str | None,
    agreement: Agreement | None,
    action: str = "person.view",
    persons: tuple[str, ...] = (),
    agreement_name: str | None = None,
) -> Decision:
    name = agreement_name or (agreement.id if agreement else None)
    return decide(
        registry(), actor, purpose, agreement, Request(action, purpose, name, persons=persons), TODAY
    )


def _refused(d: Decision, fragment: str) -> None:
    assert not d.allow and d.scope is None
    assert any(fragment in r for r in d.reasons), d.reasons


def test_default_deny_for_unknown_and_inactive_users(agreements: dict[str, Agreement]) -> None:
    a = agreements["removal_order_enforcement"]
    _refused(_d(None, a.purpose, a), "unknown user")
    _refused(_d(Actor("x", "X", ("caseworker",), ERO, False), a.purpose, a), "deactivated")


def test_least_privilege_by_role(agreements: dict[str, Agreement]) -> None:
    a = agreements["removal_order_enforcement"]
    _refused(_d(DANA, a.purpose, a), "not among the actions")  # engineers see no person data
    _refused(_d(ANA, a.purpose, a), "do not work under")  # analysts do no enforcement
    _refused(_d(OLIVE, "oversight", None), "not among the actions")  # oversight reads no persons
    _refused(_d(CASEY, a.purpose, a, action="users.manage"), "not among the actions")
    assert _d(DANA, None, None, action="ingest").allow


def test_person_data_needs_a_declared_purpose_and_its_agreement(agreements: dict[str, Agreement]) -> None:
    a = agreements["removal_order_enforcement"]
    _refused(_d(CASEY, None, None), "declare a purpose")
    _refused(_d(CASEY, "curiosity", None), "unknown purpose")
    _refused(_d(CASEY, a.purpose, None), "name the matching agreement")
    _refused(_d(CASEY, a.purpose, None, agreement_name="CMA-NOPE"), "no matching agreement")
    _refused(_d(CASEY, "benefit_eligibility_verification", a), "is for removal_order_enforcement")
    other_org = Actor("c2", "C2", ("caseworker",), "Some Contractor", True)
    _refused(_d(other_org, a.purpose, a), "not with a recipient party")
    assert _d(CASEY, a.purpose, a).allow


def test_enforcement_never_sees_asylum_vawa_medicaid_voter_or_bulk_tax(
    agreements: dict[str, Agreement],
) -> None:
    d = _d(CASEY, "removal_order_enforcement", agreements["removal_order_enforcement"])
    assert d.allow and d.scope is not None and d.law_enforcement
    assert {"asylum_208_6", "vawa_1367", "medicaid_1396a", "state_voter"} <= d.scope.withheld_regimes
    assert not {"irs-individual-returns", "state-medicaid-mmis", "state-voter-roll"} & set(d.scope.systems)
    # identity-only routine use: SSA gives enforcement no facts
    assert "citizenship_code" not in d.scope.fields_for("ssa-numident")
    assert "dob" in d.scope.fields_for("ssa-numident")


def test_medicaid_only_for_plan_administration(agreements: dict[str, Agreement]) -> None:
    ben = _d(ANA, "benefit_eligibility_verification", agreements["benefit_eligibility_verification"])
    idv = _d(ANA, "identity_verification", agreements["identity_verification"])
    assert ben.scope is not None and "state-medicaid-mmis" in ben.scope.systems
    assert idv.scope is not None and "state-medicaid-mmis" not in idv.scope.systems
    assert "medicaid_1396a" in idv.scope.withheld_regimes


def test_fields_are_narrowed_by_the_agreement(agreements: dict[str, Agreement]) -> None:
    a = agreements["identity_verification"]
    d = _d(ANA, a.purpose, a)
    assert d.scope is not None
    for system, fields in d.scope.systems.items():
        assert fields <= set(a.data_elements), system
        assert "passport_number" in d.fields_masked[system]


def test_subject_access_covers_exactly_one_person() -> None:
    _refused(_d(PAT, "subject_access", None, action="subject.report"), "exactly one person")
    _refused(_d(PAT, "subject_access", None, action="subject.report", persons=("E1", "E2")), "exactly one")
    d = _d(PAT, "subject_access", None, action="subject.report", persons=("E1",))
    assert d.allow and d.scope is not None and d.scope.persons == frozenset({"E1"})
    assert d.scope.withheld_regimes == frozenset({"unregistered"})


def test_a_subject_access_search_finds_the_person_from_identifying_fields_only() -> None:
    from accord.governance.policy import IDENTIFYING_FIELDS

    d = _d(PAT, "subject_access", None, action="subject.search")
    assert d.allow and d.scope is not None and d.scope.persons is None   # it names no one yet
    assert d.scope.withheld_regimes == frozenset({"unregistered"})
    assert set(d.scope.systems) == set(registry().systems)
    for system, fields in d.scope.systems.items():
        assert fields <= IDENTIFYING_FIELDS, system
        assert {"benefit_type", "street", "case_status"} <= set(d.fields_masked[system])
    _refused(_d(PAT, "subject_access", None, action="subject.search", persons=("E1",)), "names none")
    _refused(_d(CASEY, "removal_order_enforcement", None, action="subject.search"), "not among the actions")
    # The report still covers exactly one person: the search is the one exception.
    _refused(_d(PAT, "subject_access", None, action="subject.report"), "exactly one person")


def test_tax_information_leaves_tax_administration_only_on_a_complete_request(
    agreements: dict[str, Agreement],
) -> None:
    a = agreements["removal_order_enforcement"]
    full = {
        "full_name": "A B",
        "tin": "123456789",
        "address": "1 Main St, Town, CA 90001",
        "taxable_periods": "2024",
        "statutory_authority": "6103(i)(2)",
        "reason": "final order",
    }
    for missing in ("address", "tin", "full_name", "reason", "taxable_periods", "statutory_authority"):
        req = {k: v for k, v in full.items() if k != missing}
        d = decide(
            registry(),
            CASEY,
            a.purpose,
            a,
            Request("tax.request", a.purpose, a.id, person_request=req),
            TODAY,
        )
        _refused(d, missing)
    d = decide(
        registry(), CASEY, a.purpose, a, Request("tax.request", a.purpose, a.id, person_request=full), TODAY
    )
    assert d.allow and d.scope is not None and set(d.scope.systems) == {"irs-individual-returns"}
    assert d.fields_allowed == {"irs-individual-returns": ["city", "state", "street", "zip"]}
    assert d.match_required == ("full_name", "tin", "address")
    ben = agreements["benefit_eligibility_verification"]
    _refused(
        decide(
            registry(),
            ANA,
            ben.purpose,
            ben,
            Request("tax.request", ben.purpose, ben.id, person_request=full),
            TODAY,
        ),
        "not among",
    )
