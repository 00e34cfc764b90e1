"""Resolution end to end on a small synthetic world: quality, guards, stable ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.eval.metrics import evaluate
from accord.ingest import ingest_file
from accord.resolve.pipeline import resolve
from accord.resolve.settings import default_settings
from accord.store import Store
from accord.synth import generate


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("world")
    w = generate(3000, 11, root / "world")
    db = root / "s.duckdb"
    with Store(db) as store:
        for ex in w.extracts:
            ingest_file(store, ex.mapping_path)
        resolve(store)
    return db, w.truth_path


def test_quality_on_a_world_it_was_not_tuned_on(world: tuple[Path, Path]) -> None:
    db, truth = world
    with Store(db) as store:
        m = evaluate(store, truth)
    assert m["pair_precision"] >= 0.99, m
    assert m["pair_recall"] >= 0.80, m
    assert m["records"] > 5000


def test_no_entity_holds_two_ssns_or_two_a_numbers(world: tuple[Path, Path]) -> None:
    db, _ = world
    with Store(db) as store:
        for col in ("ssn", "a_number"):
            bad = store.scalar(f"""
                SELECT count(*) FROM (
                  SELECT m.entity_id FROM entity_members m
                  JOIN resolve_features f USING (source, record_id)
                  WHERE f.{col} IS NOT NULL GROUP BY m.entity_id
                  HAVING count(DISTINCT f.{col}) > 1)""")
            assert bad == 0, col


def test_rerun_keeps_every_person_id(world: tuple[Path, Path]) -> None:
    db, _ = world
    with Store(db) as store:
        before = dict(store.query("SELECT source || ':' || record_id, entity_id FROM entity_members"))
        events_before = store.scalar("SELECT count(*) FROM entity_events")
        summary = resolve(store)
        after = dict(store.query("SELECT source || ':' || record_id, entity_id FROM entity_members"))
        assert after == before
        assert store.scalar("SELECT count(*) FROM entity_events") == events_before
        assert summary.kept_ids == summary.entities


def test_link_status_follows_the_thresholds(world: tuple[Path, Path]) -> None:
    db, _ = world
    with Store(db) as store:
        rows = dict(store.query("""
            SELECT status, [min(match_probability), max(match_probability)] FROM links
            GROUP BY status"""))
    c = default_settings().clustering
    assert rows["linked"][0] >= c.link_probability
    assert c.review_probability <= rows["review"][0]
    # Above the link threshold, only pairs whose given names differ outright, or whose SSNs
    # or A-numbers disagree, with no identifier agreeing, are held for review.
    from accord.resolve.explain import explain_pair

    with Store(db) as store:
        held = store.query("""SELECT source_l, record_id_l, source_r, record_id_r FROM links
                              WHERE status = 'review' AND match_probability >= ? LIMIT 20""",
                           [c.link_probability])
        for sl, il, sr, ir in held:
            levels = {x.comparison: x.level for x in explain_pair(store, (sl, il), (sr, ir)).contributions}
            assert "different" in (levels["given_name"], levels["ssn"], levels["a_number"]), levels
            assert all(levels[k] != "exact" for k in ("ssn", "a_number", "passport", "itin")), levels


def test_pair_explanation_adds_up_and_entity_path_joins_the_records(
        world: tuple[Path, Path], tmp_path: Path) -> None:
    from accord.resolve.explain import entity_path, explain_pair, write_model_charts

    db, _ = world
    with Store(db) as store:
        row = store.query("""
            SELECT source_l, record_id_l, source_r, record_id_r, match_weight FROM links
            WHERE status = 'linked' ORDER BY match_weight DESC LIMIT 1""")[0]
        a, b, weight = (row[0], row[1]), (row[2], row[3]), row[4]
        expl = explain_pair(store, a, b)
        assert expl.match_weight == pytest.approx(weight, abs=1e-6)
        assert {c.comparison for c in expl.contributions} >= {"given_name", "dob"}
        assert "<svg" in expl.waterfall_svg()
        path = entity_path(store, a, b)
        assert [(s.a, s.b) for s in path] == [(a, b)]
        # Two records of different entities have no path.
        other = store.query("""
            SELECT source, record_id FROM entity_members WHERE entity_id <> (
              SELECT entity_id FROM entity_members WHERE source = ? AND record_id = ?) LIMIT 1""",
            list(a))[0]
        assert entity_path(store, a, (other[0], other[1])) == []
        files = write_model_charts(store, tmp_path)
        assert [f.name for f in files] == ["model_weights.svg"]
        assert "given_name: exact" in files[0].read_text()
