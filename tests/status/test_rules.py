"""One test (or a few) per status rule; docs/status.md maps each rule to its tests."""

from __future__ import annotations

from status_helpers import AS_OF, benefit, court, d, fact, order, run

from accord.status import FAVOURABLE_ONLY, GENERIC_REASON, Fact, default_rules, determine

# --- citizenship outranks enforcement facts --------------------------------------------------


def test_citizenship_evidence_outranks_a_final_order_and_encounters() -> None:
    det, elig = run(fact("ssa-numident", citizenship_code="us_citizen", event_date="1990-04-02"),
                    order("2022-05-01"), fact("ice-enforcement", encounter_date="2022-01-05"))
    assert det.status == "us_citizen"
    assert [e.rule for e in det.evidence] == ["citizenship"]
    assert (elig.eligible, elig.exclusion) == (False, "citizenship_evidence")


def test_every_kind_of_citizenship_evidence_counts() -> None:
    for evidence in (fact("uscis-benefits", naturalization_date="2015-02-02"),
                     benefit("naturalization", "approved", "2015-02-02"),
                     fact("cbp-arrival-departure", admission_class="USC", entry_date="2019-07-01"),
                     fact("state-medicaid-mmis", citizenship_code="us_citizen",
                          event_date="2021-01-01")):
        det, elig = run(evidence, order("2022-05-01"))
        assert det.status == "us_citizen", evidence
        assert elig.exclusion == "citizenship_evidence"


# --- permanent residence ---------------------------------------------------------------------


def test_lpr_evidence_outranks_a_later_final_order() -> None:
    det, elig = run(benefit("lpr", "approved", "2012-03-03"), order("2022-05-01"))
    assert det.status == "lpr" and elig.exclusion == "lpr"
    det, elig = run(fact("cbp-arrival-departure", admission_class="IR1", entry_date="2010-01-01"),
                    order("2022-05-01"))
    assert det.status == "lpr" and elig.exclusion == "lpr"


def test_a_denied_lpr_application_is_not_lpr_evidence() -> None:
    det, elig = run(benefit("lpr", "denied", "2018-03-03"), order("2022-05-01"))
    assert det.status == "final_order" and elig.eligible


# --- SSA codes are snapshots ------------------------------------------------------------------


def test_naturalisation_after_enumeration_wins_and_the_ssa_code_is_stale() -> None:
    ssa = fact("ssa-numident", citizenship_code="noncitizen_authorized", event_date="2005-06-01")
    det, _ = run(ssa, fact("uscis-benefits", naturalization_date="2016-09-09"))
    assert det.status == "us_citizen"
    assert det.needs_review_reasons == [] and det.review_codes == []
    stale = [e for e in det.set_aside if e.rule == "ssa_snapshot"]
    assert len(stale) == 1 and stale[0].note.startswith("stale: naturalised 2016-09-09")


def test_a_noncitizen_ssa_code_alone_decides_nothing() -> None:
    det, elig = run(fact("ssa-numident", citizenship_code="noncitizen_unauthorized",
                         event_date="2005-06-01"))
    assert det.status == "unknown" and det.confidence == 0.0
    assert elig.exclusion == "no_final_order"


# --- protected applications --------------------------------------------------------------------


def test_a_pending_protected_application_protects_from_removal() -> None:
    for kind in ("asylum", "tps", "vawa", "t_visa", "u_visa", "daca"):
        det, elig = run(benefit(kind, "pending", "2023-01-01"), order("2022-05-01"))
        assert det.status == "protected_pending", kind
        assert (elig.eligible, elig.exclusion) == (False, "protected"), kind


def test_an_approved_protected_application_protects_from_removal() -> None:
    det, elig = run(benefit("tps", "approved", "2019-01-01"), order("2022-05-01"))
    assert det.status == "relief_granted" and elig.exclusion == "protected"


def test_the_protected_exclusion_never_names_the_application() -> None:
    kinds = ("asylum", "tps", "vawa", "t_visa", "u_visa", "daca")
    for kind in kinds:
        _, elig = run(benefit(kind, "pending"), order())
        shown = f"{elig.exclusion} {elig.reason}".lower()
        assert not any(k.replace("_", " ") in shown or k in shown for k in (*kinds, "visa"))
    assert "protect" not in GENERIC_REASON


def test_evidence_carries_the_regimes_of_its_record() -> None:
    det, _ = run(benefit("asylum", "pending"), order())
    assert det.evidence[0].regimes == ("privacy_act", "asylum_208_6")


def test_denied_or_revoked_applications_do_not_protect_and_the_latest_decides() -> None:
    det, elig = run(benefit("asylum", "denied", "2019-01-01"), order("2022-05-01"))
    assert det.status == "final_order" and elig.eligible
    det, elig = run(benefit("tps", "approved", "2016-01-01"), benefit("tps", "revoked", "2020-01-01"),
                    order("2022-05-01"))
    assert det.status == "final_order" and elig.eligible


# --- court posture -------------------------------------------------------------------------------


def test_the_latest_court_record_decides() -> None:
    det, elig = run(order("2020-01-01"), court("relief_granted", "2023-04-04"))
    assert det.status == "relief_granted" and elig.exclusion == "relief_granted"
    det, elig = run(court("relief_granted", "2015-04-04"), order("2022-01-01"))
    assert det.status == "final_order" and det.status_date == d("2022-01-01") and elig.eligible
    det, elig = run(order("2020-01-01"), court("appeal_pending", "2020-01-01", nta="2020-02-01"))
    assert det.status == "appeal_pending" and elig.exclusion == "pending_appeal"


def test_in_proceedings_reports_the_next_hearing_date() -> None:
    det, elig = run(court("in_proceedings", "2026-11-05", nta="2025-02-01"))
    assert det.status == "in_proceedings" and det.next_date == d("2026-11-05")
    assert elig.exclusion == "in_proceedings"
    # An order dated after as_of is not in force yet: still in proceedings.
    det, _ = run(order("2027-01-15", nta="2025-02-01"))
    assert det.status == "in_proceedings" and det.next_date == d("2027-01-15")


def test_a_terminated_case_leaves_the_other_evidence_to_decide() -> None:
    det, elig = run(court("terminated", "2019-01-01"))
    assert det.status == "unknown" and elig.exclusion == "no_final_order"


# --- conflicts -----------------------------------------------------------------------------------


def test_court_outcomes_that_cannot_both_hold_need_review() -> None:
    det, elig = run(order("2022-02-02"), court("relief_granted", "2022-02-02"))
    assert det.status == "needs_review" and det.review_codes == ["conflicting_evidence"]
    assert "same date disagree" in det.needs_review_reasons[0]
    assert (elig.eligible, elig.exclusion) == (False, "conflicting_evidence")
    det, elig = run(order("2022-02-02"), court("relief_granted", None))
    assert det.status == "needs_review" and elig.exclusion == "conflicting_evidence"
    assert "no decision date" in det.needs_review_reasons[0]


def test_a_final_order_without_a_date_needs_review() -> None:
    det, elig = run(order(None))
    assert det.status == "needs_review" and elig.exclusion == "needs_review"


# --- link confidence -------------------------------------------------------------------------------


def test_a_conclusion_resting_on_a_weak_link_needs_review() -> None:
    weak = order("2022-05-01", link=0.95)
    det, elig = run(weak, fact("irs-individual-returns", tax_year=2023))
    assert det.status == "needs_review" and det.review_codes == ["low_link_confidence"]
    assert f"{weak.source}:{weak.record_id}" in det.needs_review_reasons[0]
    assert "0.950" in det.needs_review_reasons[0]
    assert (elig.eligible, elig.exclusion) == (False, "low_link_confidence")


def test_the_link_threshold_is_configurable() -> None:
    det, elig = run(order("2022-05-01", link=0.95), link_threshold=0.9)
    assert det.status == "final_order" and elig.eligible and det.confidence == 0.95


def test_a_weak_record_that_would_remove_protection_still_needs_review() -> None:
    det, elig = run(order("2022-05-01"), fact("ssa-numident", citizenship_code="us_citizen",
                                              link=0.9))
    assert det.status == "needs_review" and elig.exclusion == "low_link_confidence"


def test_a_weak_record_that_changes_nothing_is_set_aside() -> None:
    det, elig = run(order("2022-05-01"), fact("irs-individual-returns", tax_year=2023, link=0.6))
    assert det.status == "final_order" and elig.eligible and det.confidence == 1.0
    assert [e.rule for e in det.set_aside] == ["link_confidence"]


# --- death -----------------------------------------------------------------------------------------


def _death(on: str = "2022-03-01") -> Fact:
    return fact("ssa-numident", "dead", death_date=on, event_date="1990-01-01")


def test_a_death_contradicted_by_later_activity_is_flagged_and_ends_nothing() -> None:
    for later in (fact("irs-individual-returns", tax_year=2024),
                  fact("cbp-arrival-departure", entry_date="2023-01-01", admission_class="B2"),
                  fact("ice-enforcement", encounter_date="2023-01-01"),
                  court("in_proceedings", "2023-05-05", nta="2021-01-01"),
                  benefit("other", "approved", "2023-01-01")):
        det, elig = run(_death(), order("2021-05-01"), later)
        assert det.death.state == "conflicting", later
        assert det.death.contradicted_by and det.death.reasons
        assert det.status != "needs_review"
    det, elig = run(_death(), order("2021-05-01"), fact("irs-individual-returns", tax_year=2024))
    assert det.status == "final_order" and elig.eligible


def test_what_does_not_contradict_a_death() -> None:
    det, elig = run(_death("2022-03-01"), order("2021-05-01"),
                    fact("irs-individual-returns", tax_year=2022),  # the final return
                    fact("state-voter-roll", event_date="2024-01-01"))
    assert det.death.state == "recorded" and det.death.date == d("2022-03-01")
    assert (elig.eligible, elig.exclusion) == (False, "death_recorded")
    # Cases are terminated and applications denied because of a death.
    det, _ = run(_death("2022-03-01"), court("terminated", "2022-06-01", nta="2021-01-01"),
                 benefit("asylum", "denied", "2022-09-01", filed="2021-01-01"))
    assert det.death.state == "recorded"


def test_death_records_that_disagree_are_conflicting() -> None:
    det, _ = run(_death("2022-03-01"), fact("ssa-numident", death_date="2023-03-01"))
    assert det.death.state == "conflicting" and "disagree" in det.death.reasons[0]


def test_an_erroneous_death_annotation_makes_the_death_ignored() -> None:
    det, elig = run(_death(), order("2021-05-01"),
                    annotations=[{"record": ("ssa", "dead"), "kind": "death_record_erroneous"}])
    assert det.death.state == "ignored" and elig.eligible
    assert [e.rule for e in det.set_aside] == ["annotation"]


# --- voter roll ------------------------------------------------------------------------------------


def test_voter_roll_records_are_never_used_alone() -> None:
    det, elig = run(fact("state-voter-roll", event_date="2020-01-01"))
    assert det.status == "unknown" and det.evidence == []
    assert [e.rule for e in det.set_aside] == ["never_alone"]
    assert elig.exclusion == "no_final_order"


# --- departure and order execution -----------------------------------------------------------------


def test_an_exit_with_nothing_after_it_is_a_departure() -> None:
    det, elig = run(order("2021-05-01"), fact("cbp-arrival-departure", entry_date="2015-01-01",
                                              exit_date="2021-08-01", admission_class="B2"))
    assert det.status == "departed" and det.status_date == d("2021-08-01")
    assert elig.exclusion == "departed"
    det, _ = run(court("voluntary_departure", "2020-02-02"))
    assert det.status == "departed"


def test_presence_after_an_exit_undoes_the_departure() -> None:
    trip = fact("cbp-arrival-departure", entry_date="2015-01-01", exit_date="2021-08-01",
                admission_class="B2")
    for later in (fact("irs-individual-returns", tax_year=2022),
                  fact("cbp-arrival-departure", entry_date="2021-09-01", admission_class="B2"),
                  fact("state-medicaid-mmis", event_date="2022-01-01")):
        det, elig = run(order("2021-05-01"), trip, later)
        assert det.status == "final_order" and elig.eligible, later


def test_an_encounter_after_the_order_may_mean_it_was_executed() -> None:
    met = fact("ice-enforcement", encounter_date="2023-01-05")
    det, elig = run(order("2021-05-01"), met)
    assert det.status == "final_order" and "encounter_after_order" in det.findings
    assert elig.exclusion == "possibly_removed"
    # Seen in the US after the encounter: released, the order is enforceable.
    det, elig = run(order("2021-05-01"), met, fact("irs-individual-returns", tax_year=2024))
    assert elig.eligible
    # The rule can be switched off in the rule data.
    off = default_rules().model_copy(update={"encounter_after_order_excludes": False})
    det, elig = run(order("2021-05-01"), met, rules=off)
    assert elig.eligible
    # An encounter before the order is no sign of execution.
    det, elig = run(order("2021-05-01"), fact("ice-enforcement", encounter_date="2020-01-05"))
    assert elig.eligible and "encounter_after_order" not in det.findings


def test_a_recorded_removal_is_a_departure_and_an_encounter_without_one_is_not() -> None:
    # A source that records removals: the encounter that ended in one has the departure date.
    removal = fact("ice-enforcement", encounter_date="2023-01-05", exit_date="2023-01-20")
    for recorded_by in ((), ("ice",)):
        det, elig = run(order("2021-05-01"), removal, removals_recorded_by=recorded_by)
        assert det.status == "departed" and det.status_date == d("2023-01-20")
        assert elig.exclusion == "departed"
        assert [(e.rule, e.field) for e in det.evidence] == [("departure", "exit_date")]
    # A removal recorded before the order was made (an order in absentia after the person
    # left) is a departure too; presence after the removal undoes it.
    det, _ = run(order("2023-03-01"), removal, removals_recorded_by=("ice",))
    assert det.status == "departed"
    det, elig = run(order("2021-05-01"), removal,
                    fact("cbp-arrival-departure", entry_date="2024-02-01", admission_class="B2"),
                    removals_recorded_by=("ice",))
    assert det.status == "final_order" and elig.eligible
    # An encounter after the order from such a source, without a departure date, did not end
    # in a removal: the order is still to be enforced (also for the adverse basis).
    met = fact("ice-enforcement", encounter_date="2023-01-05")
    det, elig = run(order("2021-05-01"), met, removals_recorded_by=("ice",),
                    favourable_only=FAVOURABLE_ONLY["removal_order_enforcement"])
    assert det.status == "final_order" and "encounter_after_order" not in det.findings
    assert elig.eligible
    # From a source that does not record removals it still may have been one.
    _, elig = run(order("2021-05-01"), met, removals_recorded_by=("other",))
    assert elig.exclusion == "possibly_removed"


# --- admission, unknown, as_of ---------------------------------------------------------------------


def test_a_recent_nonimmigrant_admission_is_valid_and_an_old_one_ran_out() -> None:
    det, elig = run(fact("cbp-arrival-departure", entry_date="2026-03-01", admission_class="B2"))
    assert det.status == "valid_admission" and elig.exclusion == "no_final_order"
    det, _ = run(fact("cbp-arrival-departure", entry_date="2019-03-01", admission_class="B2"))
    assert det.status == "unknown"
    assert "ran out" in det.set_aside[0].note


def test_no_facts_is_unknown() -> None:
    det = determine([], AS_OF)
    assert (det.status, det.confidence, det.evidence) == ("unknown", 0.0, [])
    assert det.death.state == "none"


def test_records_after_as_of_are_set_aside() -> None:
    det, _ = run(fact("uscis-benefits", naturalization_date="2027-01-01"))
    assert det.status == "unknown" and [e.rule for e in det.set_aside] == ["as_of"]


def test_a_record_annotated_as_not_this_person_is_left_out() -> None:
    ssa = fact("ssa-numident", "x1", citizenship_code="us_citizen")
    det, elig = run(ssa, order(), annotations=[{"record": ("ssa", "x1"),
                                                 "kind": "record_not_this_person"}])
    assert det.status == "final_order" and elig.eligible


# --- favourable-only regimes -------------------------------------------------------------------

ENFORCEMENT = FAVOURABLE_ONLY["removal_order_enforcement"]


def test_records_a_purpose_may_not_use_never_put_a_person_on_a_list() -> None:
    trip = fact("cbp-arrival-departure", entry_date="2015-01-01", exit_date="2021-08-01",
                admission_class="B2")
    tax = fact("irs-individual-returns", tax_year=2023, regimes=("irc_6103",))
    det, elig = run(order("2021-05-01"), trip, tax, favourable_only=ENFORCEMENT)
    assert det.status == "final_order"  # the person's status uses every record
    assert det.adverse_basis is not None and det.adverse_basis.status == "departed"
    assert (elig.eligible, elig.exclusion) == (False, "departed")
    # The same evidence from a record the purpose may use makes the order enforceable.
    entry = fact("cbp-arrival-departure", entry_date="2023-02-01", admission_class="B2")
    _, elig = run(order("2021-05-01"), trip, entry, favourable_only=ENFORCEMENT)
    assert elig.eligible


def test_records_a_purpose_may_not_use_still_protect() -> None:
    det, elig = run(benefit("asylum", "pending", "2023-01-01"), order("2022-05-01"),
                    favourable_only=ENFORCEMENT)
    assert det.status == "protected_pending" and elig.exclusion == "protected"
    medicaid = fact("state-medicaid-mmis", citizenship_code="us_citizen",
                    regimes=("medicaid_1396a",))
    _, elig = run(medicaid, order("2022-05-01"), favourable_only=ENFORCEMENT)
    assert elig.exclusion == "citizenship_evidence"


def test_favourable_only_regimes_are_those_the_registry_closes_to_the_purpose() -> None:
    from accord.governance.registry import registry

    purpose = "removal_order_enforcement"
    closed = {name for name, r in registry().regimes.items()
              if r.refuses(purpose) or purpose in r.floors.request_only}
    assert closed == set(ENFORCEMENT)
