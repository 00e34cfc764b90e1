"""What makes a person lookup cheap on PostgreSQL changes no answer: the indexes the store
adds for the lookups' WHERE clauses, the links of a person read in two halves (each through
an index of its side) instead of with an OR, and the memberships read once per governed read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from accord.resolve.entities import links_sql, person_links
from accord.resolve.views import view_memberships
from accord.store import Store
from accord.store.postgres_store import POSTGRES_INDEXES
from accord.store.transfer import copy_store
from worlds import resolved_world

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Any) -> tuple[Path, str]:
    world = resolved_world(tmp_path_factory.mktemp("pg-lookups"), persons=200, seed=5)
    url = pg_cluster.new_database()
    with Store(world.db, read_only=True) as src, Store(url) as dst:
        copy_store(src, dst)
    return world.db, url


def _indexes(url: str) -> set[str]:
    with psycopg.connect(url) as con:
        return {r[0] for r in con.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def test_a_store_has_the_lookup_indexes_and_gets_a_missing_one_back(stores: tuple[Path, str]) -> None:
    _, url = stores
    assert set(POSTGRES_INDEXES) <= _indexes(url)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP INDEX links_left")
    assert "links_left" not in _indexes(url)
    Store(url).close()                              # opened for writing: made again
    assert set(POSTGRES_INDEXES) <= _indexes(url)


def _views(store: Store) -> list[str]:
    return ["", *sorted(r[0] for r in store.query("SELECT DISTINCT view FROM view_members"))]


def _links_with_or(store: Store, keys: list[tuple[str, str]], view: str) -> list[tuple[Any, ...]]:
    """The links touching ``keys`` as they were read before (one OR of both sides)."""
    sources, ids = [s for s, _ in keys], [r for _, r in keys]
    return [tuple(r) for r in store.query(f"""
        SELECT run_id, source_l, record_id_l, source_r, record_id_r, match_weight, match_probability, status
        FROM ({links_sql(view)}) l
        WHERE (source_l, record_id_l) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))
           OR (source_r, record_id_r) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))
        ORDER BY run_id, source_l, record_id_l, source_r, record_id_r""", [sources, ids, sources, ids])]


def test_a_persons_links_are_what_an_or_of_both_sides_gives_on_both_engines(stores: tuple[Path, str]) -> None:
    for target in stores:
        with Store(target, read_only=True) as store:
            persons = [r[0] for r in store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1")]
            seen = 0
            for view in _views(store):
                for person in persons[::3]:
                    found = person_links(store, [person], view)
                    keys = [k for ks in found.members.values() for k in ks]
                    expected = _links_with_or(store, keys, view) if keys else []
                    got = [(k.run_id, *k.left, *k.right, k.match_weight, k.match_probability, k.status)
                           for k in found.links]
                    assert got == [(int(r[0]), r[1], r[2], r[3], r[4], float(r[5]), float(r[6]), r[7])
                                   for r in expected], (target, view, person)
                    seen += len(got)
            assert seen, "the world should have links"


def test_memberships_kept_for_one_governed_read_are_what_a_fresh_read_gives(stores: tuple[Path, str]) -> None:
    for target in stores:
        with Store(target, read_only=True) as store:
            persons = [r[0] for r in store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1")]
            for view in _views(store):
                fresh = view_memberships(store, view, persons[:5])
                store.memo = {}
                try:
                    first = view_memberships(store, view, persons[:5])
                    first.clear()                 # a caller changing its copy changes nothing kept
                    again = view_memberships(store, view, persons[:5])
                finally:
                    store.memo = None
                assert again == fresh and fresh
