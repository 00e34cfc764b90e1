"""The resolve, evaluate and demo commands through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.store import Store

runner = CliRunner(env={"ACCORD_USER": "dana"})


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_synth_ingest_resolve_evaluate(tmp_path: Path) -> None:
    world, db = tmp_path / "w", tmp_path / "s.duckdb"
    _ok(["synth", "--persons", "400", "--seed", "5", "--out", str(world)])
    _ok(["init", "--db", str(db), "--samples"])
    for mapping in sorted(world.glob("*.mapping.yaml")):
        _ok(["ingest", "--db", str(db), str(mapping), "--json"])
    summary = json.loads(_ok(["resolve", "--db", str(db), "--json",
                              "--model-out", str(tmp_path / "model.json")]))
    assert summary["records"] > 800 and 300 < summary["entities"] < summary["records"]
    model = json.loads((tmp_path / "model.json").read_text())
    assert model["kind"] == "fellegi-sunter" and "ssn" in model["comparisons"]
    assert (tmp_path / "s-charts" / "model_weights.svg").is_file()
    metrics = json.loads(_ok(["evaluate", "--db", str(db), "--truth", str(world / "truth.csv"),
                              "--json"]))
    assert metrics["pair_precision"] >= 0.98 and metrics["pair_recall"] >= 0.8
    # A saved model is reused: same ids, nothing merged or split.
    again = json.loads(_ok(["resolve", "--db", str(db), "--json",
                            "--model", str(tmp_path / "model.json")]))
    assert again["kept_ids"] == again["entities"] == summary["entities"]


def test_evaluate_without_entities_says_what_to_do(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id,person_id\n")
    db = tmp_path / "s.duckdb"
    _ok(["init", "--db", str(db), "--samples"])
    result = runner.invoke(app, ["evaluate", "--db", str(db), "--truth", str(truth)])
    assert result.exit_code == 2
    assert "accord resolve" in result.output


def test_demo_runs_the_whole_path_and_ends_with_how_to_sign_in(tmp_path: Path) -> None:
    wide = CliRunner(env={"COLUMNS": "250"})
    result = wide.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--persons", "1200", "--seed", "4"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "pair_precision" in text or "precision" in text
    assert "web UI: http://127.0.0.1:8000/" in text and f"accord serve --db {tmp_path / 'demo'}" in text
    store = tmp_path / "demo" / "accord.duckdb"
    with Store(store, read_only=True) as s:
        users = [u for (u,) in s.query("SELECT user_id FROM users ORDER BY 1")]
    for user in users:
        assert user in text
    assert text.count("acc_") >= len(users)     # a token per sample user, shown once
