"""One Spark session (local mode) shared by every test under tests/spark, marked ``spark``: a
session takes seconds to start. PySpark comes with the ``spark`` extra that ``make test`` installs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.spark.session import SparkOptions, spark_session


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/spark/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    with spark_session(SparkOptions(master="local[2]", partitions=4)) as session:
        yield session
