"""Batch resolution on Spark gives what the embedded engine gives on the same store: the same
features, model, links (weights to 1e-6), persons and ids, views and events; and Spark's options
are checked before anything runs."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app
from accord.errors import AccordError
from accord.store import open_store
from worlds import ENGINEER, TODAY

# Each table a run writes, with the order that makes its rows comparable.
TABLES = {
    "features": "rid",
    "links": "source_l, record_id_l, source_r, record_id_r",
    "entity_members": "source, record_id",
    "view_members": "view, source, record_id",
    "view_links": "view, source_l, record_id_l, source_r, record_id_r",
    "entity_events": "entity_id, event, related_ids",
    "resolve_shared_identifiers": "kind, value",
}
CIRCUMSTANTIAL = {"event_at", "run_id"}


def rows(db: Path, table: str) -> list[dict[str, Any]]:
    with open_store(db, read_only=True) as store:
        data = store.read_arrow(f"SELECT * FROM {table} ORDER BY {TABLES[table]}").to_pylist()
    return [{k: v for k, v in r.items() if k not in CIRCUMSTANTIAL} for r in data]


def differences(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """Rows that differ (floating-point values to 1e-6)."""
    out = [(len(a), len(b))] if len(a) != len(b) else []
    for x, y in zip(a, b, strict=False):
        if x.keys() != y.keys() or any(
                not (math.isclose(v, y[k], rel_tol=1e-6, abs_tol=1e-6)
                     if isinstance(v, float) and isinstance(y[k], float) else v == y[k])
                for k, v in x.items()):
            out.append((x, y))
    return out


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Iterator[tuple[Path, Path, Path]]:
    """One world ingested once, resolved on DuckDB and, from a copy of the same store, on Spark
    (training its own model)."""
    folder = tmp_path_factory.mktemp("spark-engines")
    world = services.synth(900, 17, folder / "world")
    duck, on_spark = folder / "duck.duckdb", folder / "spark.duckdb"
    services.init(duck, samples=True, today=TODAY)
    for ex in world.extracts:
        services.ingest(duck, ex.mapping_path, user=ENGINEER)
    shutil.copy(duck, on_spark)
    services.resolve(duck, user=ENGINEER, model_out=folder / "duck-model.json")
    services.resolve(on_spark, user=ENGINEER, engine="spark", model_out=folder / "spark-model.json")
    yield duck, on_spark, folder


@pytest.mark.parametrize("table", list(TABLES))
def test_spark_writes_what_duckdb_writes(engines: tuple[Path, Path, Path], table: str) -> None:
    duck, on_spark, _ = engines
    a, b = rows(duck, table), rows(on_spark, table)
    if table in ("features", "links", "entity_members", "view_members"):
        assert a, f"{table} is empty: the comparison would prove nothing"
    assert differences(a, b) == [], f"{table} differs between the engines"


def test_the_world_exercises_the_guards_and_the_views(engines: tuple[Path, Path, Path]) -> None:
    """Without rejected links and view rows the comparison above would not test the clustering
    on the executors."""
    _, on_spark, _ = engines
    with open_store(on_spark, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM links WHERE status = 'rejected_by_guard'") > 0
        assert store.scalar("SELECT count(*) FROM view_members") > 0


def test_spark_trains_the_model_duckdb_trains(engines: tuple[Path, Path, Path]) -> None:
    _, _, folder = engines
    a = json.loads((folder / "duck-model.json").read_text())
    b = json.loads((folder / "spark-model.json").read_text())
    assert a["prior"] == pytest.approx(b["prior"], abs=1e-9)
    for name, levels in a["comparisons"].items():
        for la, lb in zip(levels["levels"], b["comparisons"][name]["levels"], strict=True):
            assert (la["m"], la["u"]) == pytest.approx((lb["m"], lb["u"]), abs=1e-9), name


def test_a_spark_run_with_a_saved_model_keeps_every_person(engines: tuple[Path, Path, Path]) -> None:
    """A second run (the model given, no training) on an unchanged store changes no person."""
    duck, on_spark, folder = engines
    before = rows(on_spark, "entity_members")
    summary = services.resolve(on_spark, user=ENGINEER, engine="spark",
                               model_in=folder / "duck-model.json")
    assert (summary.merges, summary.splits) == (0, 0)
    assert rows(on_spark, "entity_members") == before
    assert differences(rows(duck, "links"), rows(on_spark, "links")) == []
    with open_store(on_spark, read_only=True) as store:
        engines_run = [r[0] for r in store.query(
            "SELECT details FROM audit_events WHERE action = 'resolve' ORDER BY seq")]
    assert [json.loads(d)["engine"] for d in engines_run] == ["spark", "spark"]


@pytest.mark.parametrize(("args", "message"), [
    (["--spark-master", "local[1]"], "only with --engine spark"),
    (["--engine", "flink"], "duckdb (the store's own) or spark"),
    (["--engine", "spark", "--spark-conf", "spark.executor.memory"], "KEY=VALUE"),
])
def test_spark_options_are_checked_before_the_store_changes(engines: tuple[Path, Path, Path],
                                                            args: list[str], message: str) -> None:
    _, on_spark, _ = engines
    before = rows(on_spark, "entity_members")
    result = CliRunner().invoke(app, ["resolve", "--db", str(on_spark), "--user", ENGINEER, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert rows(on_spark, "entity_members") == before


def test_labels_are_refused_on_spark_with_the_way_round(engines: tuple[Path, Path, Path],
                                                        tmp_path: Path) -> None:
    _, on_spark, _ = engines
    labels = tmp_path / "truth.csv"
    labels.write_text("source,record_id,person_id\n")
    with pytest.raises(AccordError, match="--model-out MODEL"):
        services.resolve(on_spark, user=ENGINEER, engine="spark", labels=labels)
