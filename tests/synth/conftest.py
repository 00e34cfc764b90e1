"""Shared small synthetic worlds (generated once per test session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.synth import generate
from accord.synth.config import SynthConfig
from accord.synth.world import World, build_world

from .synth_helpers import WrittenWorld, read_csv_rows, read_extract

PERSONS = 4000
SEED = 11


def _written(out: Path, fmt: str) -> WrittenWorld:
    result = generate(PERSONS, SEED, out, fmt=fmt)
    extracts = {w.source: read_extract(w.mapping_path) for w in result.extracts}
    return WrittenWorld(result, extracts, read_csv_rows(result.persons_path),
                        read_csv_rows(result.truth_path), read_csv_rows(result.bad_rows_path))


@pytest.fixture(scope="session")
def csv_world(tmp_path_factory: pytest.TempPathFactory) -> WrittenWorld:
    return _written(tmp_path_factory.mktemp("world_csv"), "csv")


@pytest.fixture(scope="session")
def parquet_world(tmp_path_factory: pytest.TempPathFactory) -> WrittenWorld:
    return _written(tmp_path_factory.mktemp("world_parquet"), "parquet")


@pytest.fixture(scope="session")
def big_world() -> World:
    """A larger in-memory world for checking rates (nothing written)."""
    return build_world(30_000, 5, SynthConfig())


@pytest.fixture(params=["csv", "parquet"])
def any_world(request: pytest.FixtureRequest, csv_world: WrittenWorld,
              parquet_world: WrittenWorld) -> Iterator[WrittenWorld]:
    yield csv_world if request.param == "csv" else parquet_world
