from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.eval.metrics import evaluate
from accord.store import Store


def _store(tmp_path: Path, members: list[tuple[str, str]]) -> Store:
    store = Store(tmp_path / "s.duckdb")
    store.con.executemany("INSERT INTO entity_members VALUES ('s', ?, ?, 1)",
                          [list(m) for m in members])
    return store


def test_pairwise_and_bcubed_scores(tmp_path: Path) -> None:
    # Truth: persons X = {1,2,3}, Y = {4}. Predicted: E1 = {1,2}, E2 = {3,4}.
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id,person_id\ns,1,X\ns,2,X\ns,3,X\ns,4,Y\ns,5,Z\n")
    with _store(tmp_path, [("1", "E1"), ("2", "E1"), ("3", "E2"), ("4", "E2")]) as store:
        m = evaluate(store, truth)
    # Predicted pairs: (1,2) (3,4); true pairs: (1,2) (1,3) (2,3); TP = 1.
    assert m["pair_precision"] == 0.5
    assert m["pair_recall"] == pytest.approx(1 / 3, abs=1e-6)
    assert m["pair_f1"] == pytest.approx(0.4, abs=1e-6)
    # B-cubed precision: records 1,2 -> 1; 3,4 -> 1/2 each: mean 0.75.
    assert m["bcubed_precision"] == 0.75
    # B-cubed recall: 1,2 -> 2/3; 3 -> 1/3; 4 -> 1: mean 2/3.
    assert m["bcubed_recall"] == pytest.approx(2 / 3, abs=1e-6)
    assert (m["records"], m["entities"], m["true_persons"]) == (4, 2, 2)
    assert m["entities_mixing_persons"] == 1 and m["persons_split"] == 1
    assert m["truth_records_not_in_store"] == 1


def test_a_bad_truth_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "truth.csv"
    bad.write_text("a,b\n1,2\n")
    with _store(tmp_path, [("1", "E1")]) as store, pytest.raises(AccordError, match="truth"):
        evaluate(store, bad)
