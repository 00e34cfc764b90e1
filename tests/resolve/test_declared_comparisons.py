"""Comparisons declared as data: a user adds, drops or changes one without code; a declaration
that cannot work is refused with what and where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from accord import services
from accord.errors import AccordError
from accord.resolve.comparisons import checked_settings, comparisons_of, default_comparisons
from accord.resolve.explain import explain_pair, latest_model
from accord.resolve.settings import Settings, default_settings
from accord.store import open_store
from worlds import ENGINEER, governed_store


def _settings(change: Any) -> dict[str, Any]:
    raw = default_settings().model_dump(mode="json", exclude_none=True)
    change(raw)
    return raw


def _write(tmp_path: Path, raw: dict[str, Any], name: str = "settings.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _add_birth_country(raw: dict[str, Any]) -> None:
    raw["comparisons"].append({"name": "birth_country", "present": ["country_of_birth"],
                               "levels": [{"label": "same", "exact": "country_of_birth"}]})


def _drop(name: str) -> Any:
    def change(raw: dict[str, Any]) -> None:
        raw["comparisons"] = [c for c in raw["comparisons"] if c["name"] != name]
    return change


def test_the_shipped_declaration_round_trips_through_a_settings_file(tmp_path: Path) -> None:
    path = _write(tmp_path, _settings(lambda raw: None))
    loaded = comparisons_of(checked_settings(path))
    assert loaded.gammas_sql("f") == default_comparisons().gammas_sql("f")
    assert loaded.pair_frame_sql("p", "f") == default_comparisons().pair_frame_sql("p", "f")


def test_levels_are_evaluated_as_declared() -> None:
    spec = {"name": "birth", "present": ["dob"], "levels": [
        {"label": "exact", "exact": "dob"},
        {"label": "swapped", "day_month_swapped": "dob"},
        {"label": "near", "any": [{"within_days": {"column": "dob", "days": 3}},
                                  {"years_apart": {"column": "dob", "years": 10}}]}]}
    settings = Settings.model_validate({"blocking": {"rules": [{"name": "d", "keys": ["dob"]}]},
                                        "comparisons": [spec]})
    c = comparisons_of(settings)[0]
    con = duckdb.connect()
    con.execute("CREATE TABLE f (dob_l DATE, dob_r DATE)")
    cases = [("1980-03-04", "1980-03-04", 3), ("1980-03-04", "1980-04-03", 2),
             ("1980-03-04", "1980-03-06", 1), ("1980-03-04", "1990-03-04", 1),
             ("1980-03-04", "1980-05-04", 0), (None, "1980-05-04", -1)]
    for left, right, gamma in cases:
        got = con.execute(
            f"SELECT {c.gamma_sql()} FROM (SELECT l AS dob_l, r AS dob_r, year(l) AS dob_y_l, "
            f"year(r) AS dob_y_r, month(l) AS dob_m_l, month(r) AS dob_m_r, day(l) AS dob_d_l, "
            f"day(r) AS dob_d_r FROM (SELECT CAST(? AS DATE) AS l, CAST(? AS DATE) AS r))",
            [left, right]).fetchone()
        assert got is not None and got[0] == gamma, (left, right, got)
    assert c.label(3) == "exact" and c.label(0) == "different" and c.label(-1) == "missing"


@pytest.mark.parametrize(("change", "says"), [
    (lambda raw: raw["comparisons"][0]["levels"][0].update(exact="no_such_column"),
     "comparison given_name: no feature column 'no_such_column'"),
    (lambda raw: raw["comparisons"][0]["levels"][1].update(jaro_winkler={
        "column": "given_std", "at_least": 0.9}), "exactly one of"),
    (lambda raw: raw["comparisons"].append(raw["comparisons"][0]), "given_name declared more than once"),
    (lambda raw: raw["comparisons"][1].update(term_frequency="family_key"),
     "term_frequency 'family_key' needs a first level of exact agreement on it"),
    (lambda raw: raw["comparisons"][3]["levels"][2].update(u_from_counts=True),
     "level 'one part off by one': u_from_counts"),
    (lambda raw: raw["comparisons"][0].update(colour="blue"), "comparisons.0.colour"),
    (lambda raw: raw["comparisons"][0].update(within="given_namespace"),
     "comparison given_name: no feature column 'given_namespace'"),
])
def test_a_declaration_that_cannot_work_is_refused_with_where(tmp_path: Path, change: Any,
                                                               says: str) -> None:
    path = _write(tmp_path, _settings(change))
    with pytest.raises(AccordError) as e:
        checked_settings(path)
    assert str(path) in str(e.value) and says in str(e.value)


def _resolved(tmp_path: Path, settings: Path | None) -> Path:
    world = services.synth(600, 3, tmp_path / "world")
    db = governed_store(tmp_path)
    for ex in world.extracts:
        services.ingest(db, ex.mapping_path, user=ENGINEER)
    services.resolve(db, user=ENGINEER, settings=settings)
    return db


def test_a_comparison_added_as_data_is_trained_scored_and_explained(tmp_path: Path) -> None:
    db = _resolved(tmp_path, _write(tmp_path, _settings(_add_birth_country)))
    with open_store(db, read_only=True) as store:
        model = latest_model(store)
        assert "birth_country" in model.comparisons.by_name
        saved = json.loads(store.query("SELECT model FROM resolution_runs")[0][0])
        levels = saved["comparisons"]["birth_country"]["levels"]
        assert [lv["label"] for lv in levels] == ["different", "same"]
        assert levels[1]["m"] != levels[0]["m"]  # trained, not left at its start
        pair = store.query("SELECT source_l, record_id_l, source_r, record_id_r FROM links "
                           "WHERE status = 'linked' LIMIT 1")[0]
        expl = explain_pair(store, (pair[0], pair[1]), (pair[2], pair[3]))
    assert "birth_country" in [c.comparison for c in expl.contributions]


def test_a_model_of_other_comparisons_is_refused(tmp_path: Path) -> None:
    db = _resolved(tmp_path, _write(tmp_path, _settings(_drop("sex")), "no_sex.yaml"))
    model_file = tmp_path / "model.json"
    with open_store(db, read_only=True) as store:
        assert "sex" not in latest_model(store).comparisons.by_name
        model_file.write_text(json.dumps(latest_model(store).to_json()), encoding="utf-8")
    with pytest.raises(AccordError) as e:
        services.resolve(db, user=ENGINEER, model_in=model_file)
    assert "other comparisons" in str(e.value) and "sex" in str(e.value)
