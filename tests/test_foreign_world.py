"""Resolution on a world Accord did not generate (bench/foreign_world.py: other name
distributions, error model and layouts): precision first there too."""

from __future__ import annotations

import sys
from pathlib import Path

from accord import services

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from foreign_world import write_world


def test_a_foreign_world_resolves_with_precision_first(tmp_path: Path) -> None:
    world = write_world(3000, 5, tmp_path / "world")
    db = tmp_path / "f.duckdb"
    services.init(db, samples=True)
    for mapping in world.mappings:
        services.ingest(db, mapping, user="dana")
    services.resolve(db, user="dana")
    q = services.evaluate(db, world.truth, user="dana")
    assert q.records >= 0.99 * world.records      # every layout loads (a few bad dates go to quarantine)
    assert q.pair_precision >= 0.999, q
    assert q.pair_recall >= 0.85, q
