"""m from labelled pairs: a truth file covering part of the records trains the model instead
of EM, and the result links as well; bad label files are refused before anything changes."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord import services
from accord.errors import AccordError
from accord.store import Store
from worlds import ENGINEER, World, resolved_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield resolved_world(tmp_path_factory.mktemp("labels"), persons=1500, seed=13)


def _half_of_truth(world: World, path: Path) -> Path:
    with world.world.truth_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    persons = sorted({r["person_id"] for r in rows})[::2]  # every other person
    keep = set(persons)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["source", "record_id", "person_id"])
        w.writeheader()
        w.writerows(
            {k: r[k] for k in ("source", "record_id", "person_id")} for r in rows if r["person_id"] in keep
        )
    return path


def test_labels_train_m_and_link_as_well_as_em(world: World, tmp_path: Path) -> None:
    em = services.evaluate(world.db, world.world.truth_path, user=ENGINEER)
    model_out = tmp_path / "model.json"
    services.resolve(
        world.db, user=ENGINEER, labels=_half_of_truth(world, tmp_path / "l.csv"), model_out=model_out
    )
    labelled = services.evaluate(world.db, world.world.truth_path, user=ENGINEER)
    assert labelled.pair_precision >= 0.999
    assert labelled.pair_f1 >= em.pair_f1 - 0.01
    model = json.loads(model_out.read_text())
    assert model["trained_from"] == "labels" and model["em_iterations"] == 0
    ssn = model["comparisons"]["ssn"]["levels"]
    assert ssn[-1]["m"] > 0.5  # most labelled matches with SSNs agree on them


def test_a_missing_or_malformed_labels_file_changes_nothing(world: World, tmp_path: Path) -> None:
    with Store(world.db, read_only=True) as store:
        runs = store.scalar("SELECT count(*) FROM resolution_runs")
    with pytest.raises(AccordError, match="no such labels file"):
        services.resolve(world.db, user=ENGINEER, labels=tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(AccordError, match="labels file"):
        services.resolve(world.db, user=ENGINEER, labels=bad)
    few = tmp_path / "few.csv"
    few.write_text("source,record_id,person_id\nx,1,P\n")
    with pytest.raises(AccordError, match="at least 50"):
        services.resolve(world.db, user=ENGINEER, labels=few)
    with Store(world.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM resolution_runs") == runs
