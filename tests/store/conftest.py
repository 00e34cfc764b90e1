from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgcluster import Cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A new, empty database of the private cluster."""
    return pg_cluster.new_database()
