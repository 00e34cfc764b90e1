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


@pytest.mark.parametrize("table", ["records_current", "records"])
def test_later_versions_of_a_record_read_the_same_both_ways(store: Store, tmp_path: Any, table: str) -> None:
    """Corrections add versions: by person and store-wide, ``records_current`` holds only the
    newest version of each record and ``records`` every version."""
    import shutil

    copy = tmp_path / "versions.duckdb"
    shutil.copy(store.path, copy)
    with Store(copy) as s:
        picked = [p for (p,) in s.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 6")]
        keys = s.query("SELECT source, record_id FROM entity_members WHERE list_contains(?, entity_id) "
                       "ORDER BY 1, 2", [picked])
        for n, (source, record_id) in enumerate(keys[::2]):
            for version in range(2, 2 + n % 3 + 1):     # one, two or three later versions
                s.con.execute(
                    "INSERT INTO records SELECT * REPLACE (? AS version, ? AS given_name) FROM records "
                    "WHERE source = ? AND record_id = ? AND version = 1",
                    [version, f"CORRECTED {version}", source, record_id])
        scope = _scope("subject_access")
        cur = s.con.execute(f"SELECT * FROM ({scoped_records_sql(registry(), scope, table)}) x "
                            "WHERE list_contains(?, x.person_id)", [picked])
        names = [d[0] for d in cur.description]
        expected = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        got = person_records(s, registry(), scope, picked, table)
    assert _canon(got) == _canon(expected)
    versions = {(r["source"], r["record_id"]): 0 for r in got}
    for r in got:
        versions[(r["source"], r["record_id"])] += 1
    if table == "records_current":
        assert set(versions.values()) == {1}
        assert any(str(r["given_name"]).startswith("CORRECTED") for r in got)
    else:
        assert max(versions.values()) == 4
