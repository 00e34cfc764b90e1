"""Ingest and resolution declare what they write: the data version (which nothing guesses from
SQL text) moves once per ingest and once per transaction of a resolution run, and reads
(explanations, evaluation, quality counts) leave it where it is, also on a store opened
read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.eval.metrics import evaluate
from accord.ingest import ingest_file
from accord.resolve import entities, quality
from accord.resolve.explain import explain_pair
from accord.resolve.pipeline import resolve
from accord.sql.backend import compute_connection
from accord.store import Store
from accord.synth import generate


def test_stages_declare_their_writes_and_reads_declare_none(tmp_path: Path) -> None:
    world = generate(300, 5, tmp_path / "world")
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        version = store.data_version()
        for ex in world.extracts:
            ingest_file(store, ex.mapping_path)
            assert store.data_version() == version + 1
            version += 1
        resolve(store)           # its working tables, then its results: two transactions
        assert store.data_version() == version + 2
    with Store(db, read_only=True) as store:
        version = store.data_version()
        pair = entities.person_links(store, [next(iter(_largest(store)))]).links[0]
        explain_pair(store, pair.left, pair.right)
        evaluate(store, world.truth_path)
        quality.report(store)
        assert store.data_version() == version


def _largest(store: Store) -> list[str]:
    t = entities.partition(store)
    sizes: dict[str, int] = {}
    for e in t.column("entity_id").to_pylist():
        sizes[e] = sizes.get(e, 0) + 1
    return sorted(sizes, key=lambda e: (-sizes[e], e))[:1]


def test_compute_needs_the_embedded_store() -> None:
    with pytest.raises(TypeError, match="embedded DuckDB store"):
        compute_connection(object())  # type: ignore[arg-type]
