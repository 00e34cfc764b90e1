"""The registry loads, and refuses any edit that would widen a purpose past a statutory floor."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accord.governance.registry import RegistryError, build_registry, raw_registry, registry


def _with(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(raw_registry())
    change(raw)
    return raw


def test_packaged_registry_loads_and_is_versioned() -> None:
    reg = registry()
    assert len(reg.version) == 64
    assert set(reg.systems) >= {"irs-individual-returns", "uscis-benefits", "state-medicaid-mmis"}
    assert build_registry(raw_registry()).version == reg.version


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(
            lambda r: r["systems"]["state-medicaid-mmis"]["routine_uses"].update(
                removal_order_enforcement="full"
            ),
            "statutory floor",
            id="medicaid for enforcement",
        ),
        pytest.param(
            lambda r: r["systems"]["state-medicaid-mmis"]["routine_uses"].update(
                identity_verification="identity"
            ),
            "statutory floor",
            id="medicaid outside plan administration",
        ),
        pytest.param(
            lambda r: r["systems"]["irs-individual-returns"]["routine_uses"].update(
                removal_order_enforcement="full"
            ),
            "statutory floor",
            id="tax data in bulk for enforcement",
        ),
        pytest.param(
            lambda r: r["systems"]["state-voter-roll"]["routine_uses"].update(
                removal_order_enforcement="identity"
            ),
            "statutory floor",
            id="voter roll for enforcement",
        ),
        pytest.param(
            lambda r: r["systems"].update(
                {
                    "asylum-system": {
                        "title": "t",
                        "owner": "o",
                        "regime": "asylum_208_6",
                        "sorn": "s",
                        "routine_uses": {"removal_order_enforcement": "full"},
                    }
                }
            ),
            "statutory floor",
            id="asylum for enforcement",
        ),
        pytest.param(
            lambda r: r["systems"].update(
                {
                    "vawa-system": {
                        "title": "t",
                        "owner": "o",
                        "regime": "vawa_1367",
                        "sorn": "s",
                        "routine_uses": {"identity_verification": "identity"},
                    }
                }
            ),
            "statutory floor",
            id="vawa for identity",
        ),
        pytest.param(
            lambda r: r["purposes"]["removal_order_enforcement"]["person_requests"].update(
                {
                    "asylum_208_6": {
                        "authority": "x",
                        "must_match": ["a_number"],
                        "must_state": ["reason"],
                        "release": ["street"],
                    }
                }
            ),
            "cannot open",
            id="per-person route to asylum data",
        ),
        pytest.param(
            lambda r: r["roles"]["analyst"]["purposes"].append("surveillance"),
            "unknown purpose",
            id="unknown purpose",
        ),
        pytest.param(
            lambda r: r["systems"]["uscis-benefits"]["content_marks"]["benefit_type"].update(
                asylum="no_such_regime"
            ),
            "unknown regime",
            id="unknown content mark",
        ),
    ],
)
def test_widening_past_a_floor_or_inconsistency_is_refused(change: Any, fragment: str) -> None:
    with pytest.raises(RegistryError, match=fragment):
        build_registry(_with(change))


def test_protected_content_is_withheld_from_enforcement_but_not_from_the_person() -> None:
    reg = registry()
    withheld = reg.withheld_regimes("removal_order_enforcement")
    assert {"asylum_208_6", "vawa_1367", "medicaid_1396a"} <= withheld
    assert reg.withheld_regimes("subject_access") == set()
    assert reg.access("irs-individual-returns", "removal_order_enforcement") is None
    assert reg.access("state-medicaid-mmis", "improper_payment_detection") == "full"
    assert reg.access("state-medicaid-mmis", "tax_administration") is None
