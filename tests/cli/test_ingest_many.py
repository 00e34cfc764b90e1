"""`accord ingest` with several mappings or a folder of them, in one process: each file its own
batch with its own reconciliation, a bad one reported and skipped while the others load (exit
1); `--resolve` links what was loaded; `--init` creates the store, and nothing else does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from accord import services
from accord.cli import app
from conftest import Query, WriteExtract

TIPS: dict[str, Any] = {
    "source": "tips", "system": "ice-enforcement", "format": "csv", "record_id": "id",
    "fields": {"full_name": {"column": "name", "layout": "given family"},
               "dob": {"column": "dob", "format": "%Y-%m-%d"}}}
TIPS_DATA = "id,name,dob\n1,Ana Ruiz,1990-01-02\n,Bo Li,1985-11-01\n"  # the second: no record id
OTHER: dict[str, Any] = {**TIPS, "source": "more_tips"}
OTHER_DATA = "id,name,dob\n7,Cy Oz,1970-05-06\n8,Di Wu,1980-07-08\n9,Ed Ng,1999-09-09\n"
BAD_MAPPING = ("source: broken\nsystem: ice-enforcement\nformat: csv\nrecord_id: id\nfields:\n"
               "  birthday: dob\n")


def _ingest(*args: str | Path, user: str = "dana") -> Result:
    """``accord ingest`` as ``user``; TIPS_DATA fails a record id on purpose, so any failure rate
    is accepted (the rule's own tests: tests/cli/test_ingest_guards.py)."""
    return CliRunner().invoke(app, ["ingest", *map(str, args), "--user", user, "--accept-failure-rate", "1"],
                              env={"COLUMNS": "250"})


def _said(result: Result) -> str:
    return " ".join(result.stderr.split())


@pytest.fixture
def governed(store_path: Path) -> Path:
    services.init(store_path, samples=True)
    return store_path


def test_several_mappings_each_load_as_their_own_batch(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    other = write_extract(OTHER, OTHER_DATA, name="other.csv")
    result = _ingest(tips, other, "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [(r["mapping"], r["source"], r["rows_read"], r["accepted"], r["quarantined"], r["error"])
            for r in out] == [(str(tips), "tips", 2, 1, 1, None), (str(other), "more_tips", 3, 3, 0, None)]
    assert query("SELECT batch_id, rows_read, accepted, quarantined FROM ingest_batches "
                 "ORDER BY batch_id") == [(out[0]["batch"], 2, 1, 1), (out[1]["batch"], 3, 3, 0)]
    text = _ingest(tips, other, "--db", governed)
    assert text.exit_code == 0, text.output
    lines = [line for line in text.stdout.splitlines() if "rows read =" in line]
    assert len(lines) == 2 and "tips" in lines[0] and "more_tips" in lines[1]
    assert "2 extracts: 2 ingested, 0 failed" in text.stdout


def test_a_folder_ingests_every_mapping_in_it_sorted_by_name(
        write_extract: WriteExtract, governed: Path, tmp_path: Path, query: Query) -> None:
    write_extract(OTHER, OTHER_DATA, name="b_other.csv")
    write_extract(TIPS, TIPS_DATA, name="a_tips.csv")
    (tmp_path / "notes.txt").write_text("not a mapping\n", encoding="utf-8")
    result = _ingest(tmp_path, "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    assert [Path(r["mapping"]).name for r in json.loads(result.stdout)] == ["a_tips.yaml", "b_other.yaml"]
    assert query("SELECT source FROM ingest_batches ORDER BY batch_id") == [("tips",), ("more_tips",)]


def test_a_folder_of_one_mapping_still_prints_a_list(write_extract: WriteExtract, governed: Path,
                                                     tmp_path: Path) -> None:
    write_extract(TIPS, TIPS_DATA, name="tips.csv")
    result = _ingest(tmp_path, "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    assert [r["source"] for r in json.loads(result.stdout)] == ["tips"]


def test_each_mapping_may_be_followed_by_its_own_data_file(
        write_extract: WriteExtract, governed: Path, tmp_path: Path) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    other = write_extract(OTHER, OTHER_DATA, name="other.csv")
    newer = tmp_path / "tips-newer.txt"
    newer.write_text("id,name,dob\n1,Ana Ruiz,1990-01-02\n3,Flo Ek,1960-02-03\n", encoding="utf-8")
    result = _ingest(tips, newer, other, "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [(Path(r["file"]).name, r["rows_read"]) for r in out] == [("tips-newer.txt", 2), ("other.csv", 3)]


@pytest.mark.parametrize("problem", ["mapping", "data file"])
def test_one_bad_extract_among_good_ones_loads_nothing_and_the_others_load(
        write_extract: WriteExtract, governed: Path, query: Query, problem: str) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    if problem == "mapping":
        bad = write_extract(BAD_MAPPING, "id,dob\n1,2000-01-01\n", name="broken.csv")
        fragments = [f"{bad}:6", "unknown canonical field 'birthday'", "nothing was loaded"]
    else:
        bad = write_extract({**TIPS, "source": "broken"}, b"", name="broken.csv")
        fragments = [str(bad), "broken.csv", "empty", "nothing was loaded"]
    other = write_extract(OTHER, OTHER_DATA, name="other.csv")
    result = _ingest(tips, bad, other, "--db", governed)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in _said(result), (fragment, result.stderr)
    assert f"3 extracts: 2 ingested, 1 failed: {bad}" in result.stdout
    assert query("SELECT source, accepted FROM ingest_batches ORDER BY batch_id") == [
        ("tips", 1), ("more_tips", 3)]
    assert query("SELECT count(*) FROM records WHERE source = 'broken'") == [(0,)]

    again = _ingest(tips, bad, other, "--db", governed, "--json")
    assert again.exit_code == 1
    out = json.loads(again.stdout)
    assert [r["error"] is None for r in out] == [True, False, True]
    assert out[1]["mapping"] == str(bad) and fragments[1] in out[1]["error"]


def test_a_problem_that_is_not_the_files_stops_at_the_first_and_is_audited_once(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    other = write_extract(OTHER, OTHER_DATA, name="other.csv")
    result = _ingest(tips, other, "--db", governed, user="ana")
    assert result.exit_code == 2, result.output
    assert "refused: ingest" in _said(result) and "stopped at" not in _said(result)
    assert "nothing was ingested" in _said(result)
    assert query("SELECT user_id, decision FROM audit_events WHERE action = 'ingest'") == [("ana", "deny")]
    assert query("SELECT count(*) FROM ingest_batches") == [(0,)]


@pytest.mark.parametrize(("order", "follows"), [(["tips", "data", "data"], "the data file"),
                                                (["folder", "data"], "a folder")])
def test_a_data_file_without_its_mapping_is_refused_before_anything_loads(
        write_extract: WriteExtract, governed: Path, tmp_path: Path, query: Query, order: list[str],
        follows: str) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    data = tmp_path / "tips.csv"
    paths = {"tips": tips, "data": data, "folder": tmp_path}
    result = _ingest(*[paths[p] for p in order], "--db", governed)
    assert result.exit_code == 2, result.output
    assert (f"{data}: a data file (not a .yaml mapping) must follow its mapping, but it follows "
            f"{follows}") in _said(result)
    assert query("SELECT count(*) FROM ingest_batches") == [(0,)]


def test_an_empty_folder_is_refused(governed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _ingest(empty, "--db", governed)
    assert result.exit_code == 2
    assert f"{empty}: no mapping" in _said(result)


def test_without_init_a_missing_store_is_refused_and_not_created(
        write_extract: WriteExtract, tmp_path: Path) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    for args in ([tips], [tips, tips]):
        result = _ingest(*args, "--db", tmp_path / "typo.duckdb")
        assert result.exit_code == 3, result.output   # the store is missing (docs/cli.md)
        assert "no such store" in _said(result) and "add --init" in _said(result)
    assert not (tmp_path / "typo.duckdb").exists()


def test_init_creates_the_store_with_the_user_as_its_data_engineer(
        write_extract: WriteExtract, store_path: Path, query: Query) -> None:
    tips = write_extract(TIPS, TIPS_DATA, name="tips.csv")
    result = _ingest(tips, "--db", store_path, "--init", user="erin")
    assert result.exit_code == 0, result.output
    assert "created; administrator: admin; data engineer: erin" in result.stdout
    assert query("SELECT user_id, roles FROM users ORDER BY user_id") == [("admin", ["admin"]),
                                                                       ("erin", ["data_engineer"])]
    assert query("SELECT user_id, accepted FROM ingest_batches") == [("erin", 1)]

    again = _ingest(tips, "--db", store_path, "--init", user="erin")
    assert again.exit_code == 3     # a store is already there (docs/cli.md)
    assert "a store already exists here" in _said(again) and "leave out --init" in _said(again)
    assert query("SELECT count(*) FROM ingest_batches") == [(1,)]


def test_init_refuses_the_administrator_as_the_one_who_ingests(
        write_extract: WriteExtract, store_path: Path) -> None:
    result = _ingest(write_extract(TIPS, TIPS_DATA, name="tips.csv"), "--db", store_path, "--init",
                     user="admin")
    assert result.exit_code == 2
    assert "give the data engineer's user id with --user" in _said(result)
    assert not store_path.exists()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ingest-many-world") / "world"
    services.synth(300, 9, folder)
    return folder


def test_files_to_persons_in_one_command(world: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = _ingest(world, "--db", db, "--init", "--resolve", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out["ingest"]) == len(list(world.glob("*.mapping.yaml"))) >= 8
    assert all(r["error"] is None for r in out["ingest"])
    loaded = sum(r["accepted"] for r in out["ingest"])
    assert out["resolve"]["records"] == loaded
    assert 0 < out["resolve"]["entities"] < loaded
    assert "model" not in out["resolve"]
    assert services.sources(db, user="dana")   # the store is an ordinary one

    again = _ingest(world, "--db", db, "--resolve")
    assert again.exit_code == 0, again.output
    assert "no extract had new rows, so resolve did not run" in _said(again)
    assert "run " not in again.stdout


def test_resolve_text_output_is_the_resolve_commands(write_extract: WriteExtract, world: Path,
                                                      tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    mappings = sorted(world.glob("*.mapping.yaml"))
    result = _ingest(*mappings, "--db", db, "--init", "--resolve")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"{len(mappings)} extracts: {len(mappings)} ingested, 0 failed" in text
    assert "run 1:" in text and "persons (" in text and "charts:" in text
