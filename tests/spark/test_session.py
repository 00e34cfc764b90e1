"""The Spark session: options from the command line, settings, and a scratch folder that goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.spark.session import SparkOptions, settings_for


def test_conf_items_parse_over_the_settings_file() -> None:
    base = SparkOptions(master="spark://a:7077", conf={"spark.executor.memory": "4g", "x": "1"})
    got = SparkOptions.parse(None, ["spark.executor.memory=8g", "spark.y = 2"], None, base)
    assert got.master == "spark://a:7077"
    assert got.conf == {"spark.executor.memory": "8g", "x": "1", "spark.y": "2"}
    assert SparkOptions.parse("local[3]", None, 7, base).master == "local[3]"


@pytest.mark.parametrize("bad", ["spark.executor.memory", "=8g"])
def test_a_setting_without_key_and_value_is_refused(bad: str) -> None:
    with pytest.raises(AccordError, match="KEY=VALUE"):
        SparkOptions.parse(None, [bad])


def test_scratch_files_go_to_the_private_folder(tmp_path: Path) -> None:
    conf = settings_for(SparkOptions(master="local[3]"), tmp_path)
    assert conf["spark.local.dir"] == str(tmp_path)
    assert conf["spark.sql.shuffle.partitions"] == "6"
    # The user's own settings win over Accord's defaults.
    conf = settings_for(SparkOptions(master="local[3]", conf={"spark.local.dir": "/big"}), tmp_path)
    assert conf["spark.local.dir"] == "/big"


def test_the_shared_session_runs_sql(spark: object) -> None:
    rows = spark.sql("SELECT jaro_winkler_similarity('MARTHA', 'MARHTA') AS s").collect()  # type: ignore[attr-defined]
    assert abs(rows[0]["s"] - 0.9611) < 1e-3
