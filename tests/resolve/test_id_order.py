"""New person ids depend on the records alone: not on how clustering numbered its clusters nor
on the order the engine handed them over (the same world gives the same ids on every engine)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.resolve.ids import assign_ids
from accord.sql.backend import computing
from accord.store import Store

# Clusters as lists of record ids (all of source "s").
CLUSTERS = st.lists(st.lists(st.integers(0, 500), min_size=1, max_size=5, unique=True),
                    min_size=1, max_size=25)


def _ids(folder: Path, clusters: list[list[int]], labels: list[int]) -> dict[str, str]:
    rows = [("s", f"r{r:03d}", labels[i]) for i, members in enumerate(clusters) for r in members]
    table = pa.table({"source": [r[0] for r in rows], "record_id": [r[1] for r in rows],
                      "label": pa.array([r[2] for r in rows], pa.int64())})
    with Store(folder / f"s{abs(hash(tuple(labels)))}.duckdb") as store, computing(store) as db, \
            db.registered("_c", table):
        db.create_table("new_clusters", "SELECT * FROM _c ORDER BY random()", temp=True)
        assign_ids(db, 1)
        return dict(store.query("SELECT record_id, entity_id FROM entity_members"))


@settings(max_examples=25, deadline=None)
@given(CLUSTERS, st.randoms(use_true_random=False))
def test_new_ids_follow_the_records_not_the_cluster_numbers(tmp_path_factory: object,
                                                          clusters: list[list[int]], rnd: object) -> None:
    owner: dict[int, int] = {}                 # each record in one cluster: its first
    for i, members in enumerate(clusters):
        for r in members:
            owner.setdefault(r, i)
    clusters = [c for i, members in enumerate(clusters) if (c := [r for r in members if owner[r] == i])]
    folder = tmp_path_factory.mktemp("ids")  # type: ignore[attr-defined]
    labels = list(range(len(clusters)))
    shuffled = labels[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _ids(folder, clusters, labels) == _ids(folder, clusters, [100 + x for x in shuffled])
