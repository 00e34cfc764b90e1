"""26 U.S.C. 6103: tax return information leaves tax administration only on a per-person request
whose name, TIN and address all match one IRS record, and only the allowed fields."""

from __future__ import annotations

from typing import Any

import pytest

from accord import services
from accord.governance.gate import PolicyDenied
from accord.services.people_results import TaxReleaseOut
from accord.store import Store
from worlds import TODAY, World, resolved_world

ENF = "CMA-ENF-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("tax"), persons=600, seed=21)


@pytest.fixture(scope="module")
def filer(world: World) -> dict[str, Any]:
    """One IRS record of the world, read directly from the store (test-only)."""
    with Store(world.db) as store:
        cur = store.con.execute(
            "SELECT record_id, given_name, middle_name, family_name, tin, street, city, state, zip, dob, "
            "tax_year "
            "FROM records_current WHERE source = 'irs' AND street IS NOT NULL "
            "AND zip IS NOT NULL ORDER BY record_id LIMIT 1"
        )
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone() or (), strict=True))


def _request(world: World, filer: dict[str, Any], **change: Any) -> TaxReleaseOut:
    args: dict[str, Any] = {
        "user": "casey",
        "purpose": "removal_order_enforcement",
        "agreement": ENF,
        # every name part on the record (a middle initial too): 6103(i)(2) needs a full match
        "full_name": " ".join(filer[k] for k in ("given_name", "middle_name", "family_name")
                              if filer[k]).title(),
        "tin": filer["tin"],
        "address": f"{filer['street'].lower()}, {filer['city']}, {filer['state']} {filer['zip']}",
        "taxable_periods": "2023-2025",
        "statutory_authority": "26 U.S.C. 6103(i)(2)",
        "reason": "failure to depart after a final order (8 U.S.C. 1253)",
        "today": TODAY,
    }
    return services.tax_request(world.db, **(args | change))


def _disclosures(world: World) -> int:
    with Store(world.db) as store:
        return int(store.scalar("SELECT count(*) FROM disclosures WHERE nature LIKE 'tax%'"))


def test_all_three_matching_release_only_the_allowed_fields(world: World, filer: dict[str, Any]) -> None:
    before = _disclosures(world)
    out = _request(world, filer)
    assert out.released, out
    assert set(out.fields) <= {"street", "city", "state", "zip"}
    assert out.fields["zip"] == filer["zip"]
    assert "tin" not in out.fields and "dob" not in out.fields
    assert _disclosures(world) == before + 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda f: {"address": "1 Other Way, Elsewhere, ZZ 00001"}, id="address differs"),
        pytest.param(
            lambda f: {"address": f"{f['street']}, {f['city']}, {f['state']} 00000"}, id="zip differs"
        ),
        pytest.param(lambda f: {"full_name": "Someone Else"}, id="name differs"),
        pytest.param(
            lambda f: {"tin": "9" + f["tin"][1:] if f["tin"][0] != "9" else "8" + f["tin"][1:]},
            id="tin differs",
        ),
    ],
)
def test_name_and_tin_without_the_address_release_nothing(
    world: World, filer: dict[str, Any], change: Any
) -> None:
    before = _disclosures(world)
    out = _request(world, filer, **change(filer))
    assert not out.released and out.fields == {}
    assert "all three" in out.message
    assert _disclosures(world) == before
    with Store(world.db) as store:
        outcome = store.scalar("SELECT outcome FROM audit_events WHERE seq = ?", [out.audit_event])
    assert outcome == "nothing disclosed"


def test_requests_outside_the_authority_are_refused(world: World, filer: dict[str, Any]) -> None:
    with pytest.raises(PolicyDenied, match="must supply address"):
        _request(world, filer, address="")
    with pytest.raises(PolicyDenied, match="not among the actions"):
        _request(
            world, filer, user="ana", purpose="benefit_eligibility_verification", agreement="CMA-BEN-2026"
        )
    with pytest.raises(PolicyDenied, match="name the matching agreement"):
        _request(world, filer, agreement=None)


def test_an_unreadable_path_to_tax_data_does_not_exist_for_enforcement_reads(world: World) -> None:
    """The ordinary person view under enforcement has no IRS system at all (bulk 6103 is a floor)."""
    from accord.governance.gate import Gate
    from accord.governance.policy import Request

    with Store(world.db) as store:
        d = Gate(store, today=TODAY).read("casey", Request("person.view", "removal_order_enforcement", ENF),
                                          lambda d: _Rows([]), nature="test").decision
    assert d.allow and d.scope is not None and "irs-individual-returns" not in d.scope.systems


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return sorted({r[2] for r in self.rows if r[2]}), [(r[0], r[1]) for r in self.rows]


def _read_all(world: World, user: str, purpose: str, agreement: str | None) -> list[tuple[Any, ...]]:
    from accord.governance.gate import Gate
    from accord.governance.policy import Request
    from accord.governance.scope import require_issued, scoped_records_sql

    with Store(world.db) as store:
        gate = Gate(store, today=TODAY)

        def reader(d: Any) -> _Rows:
            require_issued(d.scope)
            sql = scoped_records_sql(gate.registry, d.scope)
            return _Rows(
                store.query(f"SELECT source, record_id, person_id, regimes, benefit_type FROM ({sql})")
            )

        return gate.read(user, Request("person.search", purpose, agreement), reader, nature="test").value.rows


@pytest.mark.parametrize(
    ("user", "purpose", "agreement"),
    [("casey", "removal_order_enforcement", ENF), ("ana", "identity_verification", "CMA-IDV-2026")],
)
def test_asylum_and_vawa_information_never_reaches_enforcement_or_identity_checks(
    world: World, user: str, purpose: str, agreement: str
) -> None:
    with Store(world.db) as store:
        protected = store.scalar(
            "SELECT count(*) FROM records_current WHERE benefit_type IN "
            "('asylum', 'vawa', 't_visa', 'u_visa')"
        )
    assert protected > 0, "the world should hold protected applications for this test to mean anything"
    rows = _read_all(world, user, purpose, agreement)
    assert rows, "the purpose reads some records"
    assert not [r for r in rows if {"asylum_208_6", "vawa_1367"} & set(r[3])]
    assert not [r for r in rows if r[4] in ("asylum", "vawa", "t_visa", "u_visa")]


def test_benefit_verification_may_use_protected_status_and_medicaid(world: World) -> None:
    rows = _read_all(world, "ana", "benefit_eligibility_verification", "CMA-BEN-2026")
    assert any("asylum_208_6" in r[3] for r in rows)  # 8 CFR 208.6 allows benefit verification
    assert any(r[0] == "medicaid" for r in rows)  # plan administration
    assert not any(r[0] in ("irs", "voter", "ice") for r in rows)
