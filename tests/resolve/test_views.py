"""Per-view partitions: the readers, the partition of constructed edges, and person ids that
stay put from run to run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from floor_worlds import A1, B1, G1, G3, W1, build, entity

from accord.governance.registry import registry
from accord.governance.visibility import views
from accord.ingest import ingest_file
from accord.resolve.cluster import cluster
from accord.resolve.explain import entity_path
from accord.resolve.pipeline import resolve
from accord.resolve.views import links_sql, members_sql, partitions, view_memberships
from accord.store import Store

REG = registry()
VIEWS = views(REG)


# --- readers --------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "v.duckdb")
    s.con.execute("""INSERT INTO entity_members (source, record_id, entity_id, run_id) VALUES
        ('s', '1', 'P1', 1), ('s', '2', 'P1', 1), ('s', '3', 'P1', 1), ('s', '4', 'P2', 1)""")
    s.con.execute("""INSERT INTO view_members (view, source, record_id, entity_id) VALUES
        ('v1', 's', '3', 'P9'), ('v1', 's', '4', 'P1')""")
    s.con.execute("""INSERT INTO links (run_id, source_l, record_id_l, source_r, record_id_r,
        match_weight, match_probability, status) VALUES
        (1, 's', '1', 's', '2', 20, 1, 'linked'), (1, 's', '2', 's', '3', 15, 1, 'linked'),
        (1, 's', '1', 's', '4', 12, 1, 'rejected_by_guard')""")
    s.con.execute("""INSERT INTO view_links (view, source_l, record_id_l, source_r, record_id_r,
        status) VALUES ('v1', 's', '1', 's', '4', 'linked'), ('v1', 's', '2', 's', '3',
        'rejected_by_guard')""")
    yield s
    s.close()


def test_members_of_a_view_take_its_ids_where_it_has_them(store: Store) -> None:
    full = dict(((s, r), e) for s, r, e in store.query(members_sql("")))
    v1 = dict(((s, r), e) for s, r, e in store.query(members_sql("v1")))
    assert full == {("s", "1"): "P1", ("s", "2"): "P1", ("s", "3"): "P1", ("s", "4"): "P2"}
    assert v1 == {("s", "1"): "P1", ("s", "2"): "P1", ("s", "3"): "P9", ("s", "4"): "P1"}
    assert dict(((s, r), e) for s, r, e in store.query(members_sql("other"))) == full
    assert view_memberships(store, "v1", ["P1"]) == {("s", "1"): "P1", ("s", "2"): "P1",
                                                     ("s", "4"): "P1"}
    assert view_memberships(store, "v1", ["P9", "P2"]) == {("s", "3"): "P9"}
    assert view_memberships(store, "", ["P2"]) == {("s", "4"): "P2"}
    assert view_memberships(store, "v1", []) == {}


def test_links_of_a_view_take_its_statuses_where_it_has_them(store: Store) -> None:
    def statuses(view: str) -> dict[str, str]:
        return {f"{il}-{ir}": st for _, _, il, _, ir, _, _, st in store.query(links_sql(view))}

    assert statuses("") == {"1-2": "linked", "2-3": "linked", "1-4": "rejected_by_guard"}
    assert statuses("v1") == {"1-2": "linked", "2-3": "rejected_by_guard", "1-4": "linked"}
    cols = [d[0] for d in store.con.execute(links_sql("v1")).description]
    assert cols == ["run_id", "source_l", "record_id_l", "source_r", "record_id_r", "match_weight",
                    "match_probability", "status"]


# --- partitions of constructed edges ----------------------------------------------------------

def _groups(labels: np.ndarray, nodes: list[int]) -> set[frozenset[int]]:
    out: dict[int, set[int]] = {}
    for n in nodes:
        out.setdefault(int(labels[n]), set()).add(n)
    return {frozenset(g) for g in out.values()}


def test_partitions_cluster_again_only_where_a_withheld_record_sits() -> None:
    # 0-1-2: record 1 (withheld) is the only bridge. 3-4-5: 4 (withheld) carries SSN 7, 5 SSN 8;
    # 3-4 is the stronger link, so the full run rejects 3-5. 6-7: no withheld record.
    rid_l, rid_r = np.array([0, 1, 3, 3, 6]), np.array([1, 2, 4, 5, 7])
    weight = np.array([20.0, 20.0, 30.0, 15.0, 25.0])
    ssn = np.array([-1, -1, -1, -1, 7, 8, -1, -1])
    none, year = np.full(8, -1), np.full(8, 1970)
    full = cluster(8, rid_l, rid_r, weight, ssn, none, year, 1)
    assert _groups(full.labels, list(range(8))) == {frozenset({0, 1, 2}), frozenset({3, 4}),
                                                   frozenset({5}), frozenset({6, 7})}
    mask = np.zeros(8, dtype=bool)
    mask[[1, 4]] = True
    (part,) = partitions(8, rid_l, rid_r, weight, ssn, none, year, 1, full, {"v": mask})
    labels = np.full(8, -1)
    labels[part.rids] = part.labels
    # 0 and 2 apart, 3 and 5 together; 6-7 (untouched) and nothing withheld among the rows.
    assert _groups(labels, [int(r) for r in part.rids]) == {frozenset({0}), frozenset({2}),
                                                           frozenset({3, 5})}
    assert list(zip(part.flipped_l, part.flipped_r, part.flipped_status, strict=True)) == [
        (3, 5, "linked")]
    # A view that withholds nothing of a linked component clusters nothing again.
    quiet = np.zeros(8, dtype=bool)
    assert partitions(8, rid_l, rid_r, weight, ssn, none, year, 1, full, {"q": quiet}) == []


# --- ids from run to run ----------------------------------------------------------------------

def _view_rows(store: Store) -> list[tuple[str, ...]]:
    return [tuple(r) for r in store.query("SELECT * FROM view_members ORDER BY ALL")]


def test_view_ids_stay_put_from_run_to_run(tmp_path: Path) -> None:
    world = build(tmp_path, 300, 5, REG)
    asylum = sorted(v for v, w in VIEWS.items() if "asylum_208_6" in w)
    assert asylum
    with Store(world.full) as store:
        before = {v: set(store.query(members_sql(v))) for v in VIEWS}
        rows = _view_rows(store)
        full_ids = {e for (e,) in store.query("SELECT DISTINCT entity_id FROM entity_members")}
        # Without W1, A1 and B1 are two persons, both overlapping the full run's one by a
        # record: the first record's (B1: probe_cbp before probe_ssa) keeps its id, and A1
        # gets an id that is no person of the full run.
        alone = {v: entity(store, v, A1) for v in asylum}
        assert all(re.fullmatch(r"P\d{9}", e) and e not in full_ids for e in alone.values())
        assert {entity(store, v, B1) for v in asylum} == {entity(store, "", B1)}
        summary = resolve(store, registry=REG)
        assert summary.kept_ids == summary.entities
        assert _view_rows(store) == rows
        assert {v: set(store.query(members_sql(v))) for v in VIEWS} == before
        # A new record elsewhere changes no view id.
        extra = tmp_path / "extra.csv"
        extra.write_text("id,given,family,dob\nX1,Ottoline,Brackenbury,1950-05-05\n")
        mapping = tmp_path / "extra.yaml"
        mapping.write_text("source: probe_extra\nsystem: ssa-numident\nformat: csv\nfile: extra.csv\n"
                           "record_id: id\nfields:\n  given_name: given\n  family_name: family\n"
                           "  dob: {column: dob, format: '%Y-%m-%d'}\n")
        ingest_file(store, mapping)
        resolve(store, registry=REG)
        assert _view_rows(store) == rows
        assert {v: entity(store, v, A1) for v in asylum} == alone
        # Paths in a view go through the records it sees only.
        assert [(s.a, s.b) for s in entity_path(store, A1, B1)] in ([(A1, W1), (W1, B1)],
                                                                    [(B1, W1), (W1, A1)])
        for v in asylum:
            assert entity_path(store, A1, B1, view=v) == []
            assert [(s.a, s.b) for s in entity_path(store, G1, G3, view=v)] == [(G1, G3)]
