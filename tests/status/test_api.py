"""The status API: input validation, the output contract, the eligibility codes."""

from __future__ import annotations

from datetime import date

import pytest
from status_helpers import AS_OF, benefit, fact, order, run

from accord.status import (
    EXCLUSIONS,
    STATUSES,
    Annotation,
    DeathInfo,
    Determination,
    Fact,
    PurposeError,
    StatusInputError,
    default_rules,
    determine,
    eligibility,
)


def test_facts_are_checked_against_the_controlled_values() -> None:
    with pytest.raises(StatusInputError, match="case_status 'REMOVAL ORDERED'"):
        Fact("court", "eoir-case", "1", case_status="REMOVAL ORDERED")
    with pytest.raises(StatusInputError, match=r"link_confidence 1\.5"):
        Fact("court", "eoir-case", "1", link_confidence=1.5)
    with pytest.raises(StatusInputError, match="death_date must be a date"):
        Fact("ssa", "ssa-numident", "1", death_date="2020-01-01")  # type: ignore[arg-type]


def test_a_fact_from_a_store_row_keeps_fact_fields_only() -> None:
    row = {"source": "court", "system": "eoir-case", "record_id": "7", "full_name": "X, Y",
           "dob": date(1980, 1, 1), "case_status": "final_order", "event_date": None,
           "case_decision_date": date(2021, 1, 1), "program": "", "batch_id": 3}
    f = Fact.from_row(row, link_confidence=0.995, regimes=["privacy_act"])
    assert f.values() == {"case_status": "final_order", "case_decision_date": date(2021, 1, 1)}
    assert (f.key, f.link_confidence, f.regimes) == (("court", "7"), 0.995, ("privacy_act",))


def test_annotations_as_dicts_or_objects_and_unknown_kinds_are_noted() -> None:
    ssa = fact("ssa-numident", "s", death_date="2021-01-01")
    det = determine([ssa], AS_OF, [Annotation(("ssa", "s"), "death_record_erroneous")])
    assert det.death.state == "ignored"
    det = determine([ssa], AS_OF, [{"record": ("ssa", "s"), "kind": "spelling_fixed"}])
    assert det.death.state == "recorded"
    assert "not one the status rules use" in det.set_aside[0].note
    with pytest.raises(StatusInputError, match="needs record"):
        determine([ssa], AS_OF, [{"kind": "death_record_erroneous"}])


def test_a_determination_has_the_contract_fields() -> None:
    det, _ = run(order("2021-05-01"), fact("irs-individual-returns", tax_year=2023))
    assert det.status in STATUSES and det.status == "final_order"
    assert det.status_date == date(2021, 5, 1) and det.as_of == AS_OF
    assert det.confidence == 1.0 and det.needs_review_reasons == []
    (ev,) = det.evidence
    assert (ev.rule, ev.source, ev.field, ev.value, ev.date) == (
        "court", "court", "case_status", "final_order", date(2021, 5, 1))
    assert det.death.to_dict()["state"] == "none"


def test_confidence_is_the_weakest_link_of_the_evidence() -> None:
    det, _ = run(fact("ssa-numident", citizenship_code="us_citizen", link=0.995),
                 fact("uscis-benefits", naturalization_date="2012-01-01", link=0.999))
    assert det.status == "us_citizen" and det.confidence == 0.995


def test_eligibility_only_for_removal_order_enforcement() -> None:
    det, _ = run(order())
    with pytest.raises(PurposeError, match="benefit_eligibility_verification"):
        eligibility(det, "benefit_eligibility_verification")


def test_exclusion_codes_are_the_documented_ones() -> None:
    required = {"citizenship_evidence", "lpr", "protected", "pending_appeal",
                "conflicting_evidence", "low_link_confidence", "needs_review"}
    assert required <= set(EXCLUSIONS)
    seen = set()
    for facts in ([order()], [benefit("asylum", "pending"), order()], []):
        seen.add(run(*facts)[1].exclusion)
    assert seen <= {*EXCLUSIONS, None}


def test_the_packaged_rule_data_loads() -> None:
    rules = default_rules()
    assert rules.link_threshold == 0.99
    assert "state-voter-roll" in rules.never_alone_systems
    assert "F1" not in rules.lpr_admission_classes and "F21" in rules.lpr_admission_classes


def test_eligibility_checks_findings_whatever_the_status_says() -> None:
    for finding in ("citizenship_evidence", "lpr", "protected"):
        det = Determination("final_order", 1.0, [], [], DeathInfo(), AS_OF,
                            status_date=date(2021, 1, 1), findings=frozenset({finding}))
        assert eligibility(det, "removal_order_enforcement").exclusion == finding
    undated = Determination("final_order", 1.0, [], [], DeathInfo(), AS_OF)
    assert eligibility(undated, "removal_order_enforcement").exclusion == "no_final_order"
