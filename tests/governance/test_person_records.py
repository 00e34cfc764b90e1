"""Reading by person gives exactly the rows the store-wide scoped SQL gives for those persons:
same records, same masking, same withholding, same regimes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from accord.governance.registry import registry
from accord.governance.scope import Scope, freeze, issue, person_records, scoped_records_sql
from accord.sources.fields import catalogue
from accord.store import Store
from worlds import resolved_world

PURPOSES = [
    "removal_order_enforcement",
    "benefit_eligibility_verification",
    "subject_access",
    "tax_administration",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    built = resolved_world(tmp_path_factory.mktemp("keyed"), persons=800, seed=21)
    with Store(built.db, read_only=True) as s:
        yield s


def _scope(purpose: str, persons: frozenset[str] | None = None) -> Scope:
    reg = registry()
    identity = {n for n, f in catalogue().items() if f.kind == "identity"}
    systems: dict[str, set[str]] = {}
    for system in reg.systems:
        access = reg.access(system, purpose)
        if access is not None:
            systems[system] = set(catalogue()) if access == "full" else set(identity)
    return issue(Scope(freeze(systems), frozenset(reg.withheld_regimes(purpose)), persons))


def _canon(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps(r | {"regimes": sorted(r["regimes"])}, default=str, sort_keys=True) for r in rows
    )


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("table", ["records_current", "records"])
def test_person_reads_equal_the_store_wide_scoped_rows(store: Store, purpose: str, table: str) -> None:
    ids = [p for (p,) in store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1")]
    picked = [*random.Random(purpose + table).sample(ids, 25), "NO-SUCH-PERSON"]
    scope = _scope(purpose)
    cur = store.con.execute(
        f"SELECT * FROM ({scoped_records_sql(registry(), scope, table)}) s "
        "WHERE list_contains(?, s.person_id)",
        [picked],
    )
    names = [d[0] for d in cur.description]
    expected = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    got = person_records(store, registry(), scope, picked, table)
    assert _canon(got) == _canon(expected)
    assert list(got[0]) == names if got else expected == []


def test_a_person_limited_scope_reads_only_its_persons(store: Store) -> None:
    ids = [p for (p,) in store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 3")]
    scope = _scope("subject_access", frozenset(ids[:1]))
    got = person_records(store, registry(), scope, ids)
    assert got and {r["person_id"] for r in got} == {ids[0]}


def test_a_hand_made_scope_reads_nothing_by_person(store: Store) -> None:
    everything = Scope(freeze({s: set(catalogue()) for s in registry().systems}))
    with pytest.raises(PermissionError):
        person_records(store, registry(), everything, ["P1"])


def test_withheld_records_are_left_out(store: Store) -> None:
    marked = store.query("""SELECT m.entity_id FROM records_current r
                            JOIN entity_members m USING (source, record_id)
                            WHERE r.system = 'uscis-benefits' AND r.benefit_type = 'asylum' LIMIT 1""")
    if not marked:
        pytest.fail("the world should hold an asylum application")
    pid = marked[0][0]
    enforcement = person_records(store, registry(), _scope("removal_order_enforcement"), [pid])
    assert all("asylum_208_6" not in r["regimes"] for r in enforcement)
    own = person_records(store, registry(), _scope("subject_access"), [pid])
    assert any("asylum_208_6" in r["regimes"] for r in own)
