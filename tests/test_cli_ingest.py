"""`accord ingest` on the command line: --json output, exit code 2 and readable errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from accord import services
from accord.cli import app
from conftest import Query, WriteExtract

MAPPING: dict[str, Any] = {
    "source": "tips", "system": "ice-enforcement", "format": "csv", "record_id": "Tip #",
    "csv": {"delimiter": "|"},
    "fields": {"full_name": {"column": "Reported Name", "layout": "given family"},
               "dob": {"column": "DOB", "format": "%Y%m%d"}, "phone": "Phone"}}
DATA = ("Tip #|Reported Name|DOB|Phone\n0001|Ana Ruiz|19900102|617-555-1234\n"
        "0002|Bo Li|19851301|\n0003|Cy Oz||555-12\n|Di Wu|20000101|\n")


@pytest.fixture(autouse=True)
def _governed(store_path: Path) -> None:
    """Ingest needs a store with a data engineer (accord init --samples creates one)."""
    services.init(store_path, samples=True)


def _ingest(*args: str | Path) -> Result:
    """``accord ingest`` as dana; the small extracts here fail fields on purpose, so any failure
    rate is accepted (the rule's own tests: tests/cli/test_ingest_guards.py)."""
    return CliRunner().invoke(app, ["ingest", *map(str, args), "--user", "dana",
                                    "--accept-failure-rate", "1"])


def test_json_prints_one_object_with_the_reconciliation(
        write_extract: WriteExtract, store_path: Path, query: Query) -> None:
    p = write_extract(MAPPING, DATA)
    result = _ingest(p, "--db", store_path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    assert {"rows_read", "accepted", "quarantined", "flagged", "batch", "unchanged"} <= out.keys()
    # A bad date of birth and a bad phone number are flagged on stored records; only the row
    # without its record id is quarantined.
    assert (out["rows_read"], out["accepted"], out["unchanged"], out["quarantined"], out["flagged"]) == (
        4, 3, 0, 1, 2)
    assert out["rows_read"] == out["accepted"] + out["unchanged"] + out["quarantined"]
    assert query("SELECT batch_id, rows_read, accepted, quarantined, flagged FROM ingest_batches") == [
        (out["batch"], 4, 3, 1, 2)]
    again = json.loads(_ingest(p, "--db", store_path, "--json").stdout)
    assert (again["accepted"], again["unchanged"], again["quarantined"], again["flagged"]) == (0, 3, 1, 2)
    assert again["batch"] > out["batch"]


def test_data_file_argument_overrides_the_mapping_file(
        write_extract: WriteExtract, store_path: Path, tmp_path: Path) -> None:
    p = write_extract(MAPPING, DATA)
    other = tmp_path / "other.txt"
    other.write_text("Tip #|Reported Name|DOB|Phone\n0009|Di Wu|20000101|\n", encoding="utf-8")
    result = _ingest(p, other, "--db", store_path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["rows_read"], out["accepted"]) == (1, 1)
    assert out["file"].endswith("other.txt")


def test_text_output_summarises_and_points_to_quarantine(
        write_extract: WriteExtract, store_path: Path) -> None:
    result = _ingest(write_extract(MAPPING, DATA), "--db", store_path)
    assert result.exit_code == 0, result.output
    assert "4 rows read = 3 accepted" in result.stdout
    assert "1 quarantined" in result.stdout
    assert "accord quarantine" in result.stdout
    assert "2 flagged" in result.stdout
    assert "accord flags" in result.stdout


def _fails(result: Result, *fragments: str, code: int = 2) -> None:
    """One error: a line on stderr, or under --json one error object on stdout (docs/cli.md)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if result.stdout:
        assert result.stderr == ""
        message = json.loads(result.stdout)["error"]["message"]
    else:
        assert result.stderr.startswith("error: ")
        message = " ".join(result.stderr.split())  # the console may wrap long lines
    for fragment in fragments:
        assert fragment in message, (fragment, result.stderr)


def test_bad_mapping_exits_2_naming_file_line_and_problem(
        write_extract: WriteExtract, store_path: Path) -> None:
    p = write_extract("source: tips\nsystem: ice-enforcement\nformat: csv\nrecord_id: id\n"
                      "fields:\n  phone: Phone\n  birthday: DOB\n", "id,Phone,DOB\n1,,\n")
    _fails(_ingest(p, "--db", store_path, "--json"), f"{p}:7", "unknown canonical field 'birthday'")


def test_bad_mapping_message_keeps_the_key(write_extract: WriteExtract, store_path: Path) -> None:
    p = write_extract("source: tips\nsystem: ice-enforcement\nformat: csv\nrecord_id: id\n"
                      "fields:\n  phone: Phone\n  birthday: DOB\n", "id,Phone,DOB\n1,,\n")
    _fails(_ingest(p, "--db", store_path), "[fields.birthday]")


def test_missing_column_exits_2_naming_the_column(write_extract: WriteExtract, store_path: Path) -> None:
    p = write_extract({**MAPPING, "fields": {"phone": "Telephone"}}, DATA)
    _fails(_ingest(p, "--db", store_path), str(p), "'Telephone'", "Reported Name")


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        pytest.param(b"", ["empty"], id="empty"),
        pytest.param("Tip #|Reported Name\n1|Zoë\n".encode("latin-1"), ["not valid utf-8", "encoding"],
                     id="wrong encoding"),
        pytest.param(b"PAR1\x00\x00\x15\x04" * 10, ["NUL"], id="binary"),
    ],
)
def test_unreadable_file_exits_2_saying_why_and_nothing_is_loaded(
        write_extract: WriteExtract, store_path: Path, query: Query, data: bytes,
        fragments: list[str]) -> None:
    p = write_extract(MAPPING, data)
    _fails(_ingest(p, "--db", store_path, "--json"), "extract.csv", "nothing was loaded", *fragments)
    assert query("SELECT outcome LIKE 'failed: %nothing was loaded%' FROM audit_events "
                 "WHERE action = 'ingest'") == [(True,)]
    assert query("SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM ingest_batches)") == [(0, 0)]


def test_missing_mapping_or_bad_store_exits_2(write_extract: WriteExtract, tmp_path: Path) -> None:
    _fails(_ingest(tmp_path / "nope.yaml", "--db", tmp_path / "s.duckdb"), "nope.yaml", "cannot read")
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("just some notes\n", encoding="utf-8")
    _fails(_ingest(write_extract(MAPPING, DATA), "--db", not_a_store), "notes.duckdb", code=3)


def test_ingest_by_a_user_without_the_role_is_refused_and_audited(
        write_extract: WriteExtract, store_path: Path, query: Query) -> None:
    p = write_extract(MAPPING, DATA)
    result = CliRunner().invoke(app, ["ingest", str(p), "--db", str(store_path), "--user", "ana"])
    _fails(result, "refused: ingest", "not among the actions")
    assert query("SELECT count(*) FROM records") == [(0,)]
    assert query("SELECT user_id, decision FROM audit_events WHERE action = 'ingest'") == [("ana", "deny")]


def test_ingest_without_a_user_or_store_says_what_to_do(write_extract: WriteExtract, tmp_path: Path) -> None:
    p = write_extract(MAPPING, DATA)
    result = CliRunner().invoke(app, ["ingest", str(p), "--db", str(tmp_path / "s.duckdb")],
                                env={"ACCORD_USER": ""})
    _fails(result, "--user or ACCORD_USER")
    _fails(_ingest(p, "--db", tmp_path / "new.duckdb"), "no such store", "accord init", code=3)
    assert not (tmp_path / "new.duckdb").exists()


def test_flags_and_batches_show_the_flagged_values_without_them(
        write_extract: WriteExtract, store_path: Path) -> None:
    assert _ingest(write_extract(MAPPING, DATA), "--db", store_path).exit_code == 0
    runner = CliRunner()
    got = runner.invoke(app, ["flags", "--db", str(store_path), "--user", "dana", "--json"])
    assert got.exit_code == 0, got.output
    groups = json.loads(got.stdout)["items"]
    assert sorted((g["field"], g["rows"], g["example_rows"]) for g in groups) == [
        ("dob", 1, [2]), ("phone", 1, [3])]
    assert "19851301" not in got.stdout and "555-12" not in got.stdout   # never the values
    one = json.loads(runner.invoke(app, ["flags", "--db", str(store_path), "--user", "dana", "--json",
                                         "--field", "phone"]).stdout)["items"]
    assert [g["field"] for g in one] == ["phone"]
    wrong = runner.invoke(app, ["flags", "--db", str(store_path), "--user", "dana", "--field", "tax_year"])
    assert wrong.exit_code == 2 and "not an identity field" in wrong.output
    batches = json.loads(runner.invoke(app, ["batches", "--db", str(store_path), "--user", "dana",
                                             "--json"]).stdout)
    assert [(b["accepted"], b["quarantined"], b["flagged"]) for b in batches["items"]] == [(3, 1, 2)]
    assert (batches["limit"], batches["offset"], batches["next_offset"]) == (50, 0, None)
    text = runner.invoke(app, ["batches", "--db", str(store_path), "--user", "dana"],
                         env={"COLUMNS": "200"})
    assert "flagged" in text.stdout
