"""The written world honours the mapping contract and the ground-truth files."""

from __future__ import annotations

import filecmp
import json
from collections import Counter
from pathlib import Path

import pytest

from accord.sources.fields import catalogue
from accord.synth import generate

from .synth_helpers import WrittenWorld, read_extract

SOURCES = {"irs", "ssa", "uscis", "court", "cbp", "ice", "medicaid", "voter"}


def test_every_system_is_written_with_a_mapping(any_world: WrittenWorld) -> None:
    assert set(any_world.extracts) == SOURCES
    for w in any_world.result.extracts:
        assert w.data_path.is_file() and w.mapping_path.is_file()
        assert w.data_path.suffix == "." + any_world.result.format
        assert w.rows > 0, f"{w.source} is empty"
        m = any_world.extracts[w.source].mapping
        assert m.source == w.source and m.format == any_world.result.format
        assert m.file == w.data_path.name  # relative to the mapping


def test_every_mapped_column_exists(any_world: WrittenWorld) -> None:
    for source, ex in any_world.extracts.items():
        columns = set(ex.table.column_names)
        missing = [c for c in ex.mapping.columns_used() if c not in columns]
        assert not missing, f"{source}: mapped columns {missing} not in {ex.data_path.name}"
        assert ex.table.num_rows == any_world.result.rows[source]


def test_mapped_fields_are_canonical_and_layouts_set(csv_world: WrittenWorld) -> None:
    cat = catalogue()
    for ex in csv_world.extracts.values():
        for name, spec in ex.mapping.fields.items():
            assert name in cat
            if cat[name].type == "date":
                assert spec.format, f"{ex.mapping.source}.{name} needs a date format"


def test_record_ids_are_unique(any_world: WrittenWorld) -> None:
    for source, ex in any_world.extracts.items():
        ids = ex.record_ids()
        dupes = [k for k, n in Counter(ids).items() if n > 1]
        assert not dupes, f"{source}: duplicate record ids {dupes[:5]}"
        assert all(ids), f"{source}: empty record id"


def test_truth_covers_every_row_exactly(any_world: WrittenWorld) -> None:
    by_source: dict[str, list[str]] = {}
    for t in any_world.truth:
        by_source.setdefault(t["source"], []).append(t["record_id"])
    for source, ex in any_world.extracts.items():
        assert sorted(by_source[source]) == sorted(ex.record_ids()), source
    persons = {p["person_id"] for p in any_world.persons}
    assert {t["person_id"] for t in any_world.truth} <= persons


def test_composite_record_ids_join_columns_with_a_bar(csv_world: WrittenWorld) -> None:
    composite = {s: ex for s, ex in csv_world.extracts.items()
                 if len(ex.mapping.record_id_columns) > 1}
    assert composite, "at least one extract has a composite record id"
    for source, ex in composite.items():
        truth_ids = {t["record_id"] for t in csv_world.truth if t["source"] == source}
        assert all(i.count("|") == len(ex.mapping.record_id_columns) - 1 for i in truth_ids)


def test_persons_file_has_one_row_per_person(csv_world: WrittenWorld) -> None:
    ids = [p["person_id"] for p in csv_world.persons]
    assert len(ids) == csv_world.result.persons == len(set(ids))
    assert ids[0] == "P0000000" and ids[-1] == f"P{csv_world.result.persons - 1:07d}"
    for column in ("status", "given_name", "family_name", "dob", "origin_group",
                   "ssa_citizenship_stale", "ssa_erroneous_death"):
        assert column in csv_world.persons[0]


def test_bad_rows_are_in_truth(csv_world: WrittenWorld) -> None:
    truth = {(t["source"], t["record_id"]) for t in csv_world.truth}
    assert csv_world.bad_rows, "the default rate gives some structurally bad rows"
    for b in csv_world.bad_rows:
        assert (b["source"], b["record_id"]) in truth
        ex = csv_world.extracts[b["source"]]
        row = ex.record_ids().index(b["record_id"])
        assert ex.column(b["column"])[row] == b["value"]


def test_csv_and_parquet_worlds_hold_the_same_people(csv_world: WrittenWorld,
                                                      parquet_world: WrittenWorld) -> None:
    assert csv_world.persons == parquet_world.persons
    assert csv_world.truth == parquet_world.truth
    for source, ex in csv_world.extracts.items():
        other = parquet_world.extracts[source]
        for name in ex.table.column_names:
            assert ex.column(name) == other.column(name), f"{source}.{name}"


def test_manifest(csv_world: WrittenWorld) -> None:
    manifest = json.loads(csv_world.result.manifest_path.read_text())
    assert manifest["persons"] == csv_world.result.persons
    assert {e["source"] for e in manifest["extracts"]} == SOURCES
    assert manifest["config"]["bad_row_rate"] == pytest.approx(0.002)


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    a = generate(800, 3, tmp_path / "a")
    b = generate(800, 3, tmp_path / "b")
    c = generate(800, 4, tmp_path / "c")
    names = sorted(p.name for p in a.out.iterdir())
    assert names == sorted(p.name for p in b.out.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a.out, b.out, names, shallow=False)
    assert not mismatch and not errors and len(match) == len(names)
    assert not filecmp.cmp(a.truth_path, c.truth_path, shallow=False)


def test_parquet_is_deterministic_and_identifiers_are_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    a = generate(500, 9, tmp_path / "a", fmt="parquet")
    b = generate(500, 9, tmp_path / "b", fmt="parquet")
    for w in a.extracts:
        assert w.data_path.read_bytes() == (b.out / w.data_path.name).read_bytes()
        schema = pq.read_schema(w.data_path)
        m = read_extract(w.mapping_path).mapping
        for name, spec in m.fields.items():
            if catalogue()[name].type == "identifier":
                assert schema.field(spec.column).type == pa.string(), f"{w.source}.{name}"


def test_progress_is_reported_in_order(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    generate(300, 1, tmp_path / "w", progress=lambda label, f: seen.append((label, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"people and life histories", "irs extract", "voter extract", "persons.csv",
            "done"} <= {label for label, _ in seen}
