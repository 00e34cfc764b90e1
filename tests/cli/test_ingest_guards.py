"""Ingest guardrails on the command line: `accord ingest` refuses a batch in which one field
fails on too many rows (--accept-failure-rate) and an unregistered record system;
`accord mapping check` dry-runs a mapping; `accord sources show` and `accord sources retire`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from accord import services
from accord.cli import app
from conftest import Query, WriteExtract

MAPPING: dict[str, Any] = {
    "source": "court", "system": "eoir-case", "format": "csv", "record_id": "id",
    "fields": {"full_name": {"column": "name", "layout": "given family"},
               "dob": {"column": "born", "format": "%Y-%m-%d"},
               "case_status": {"column": "status", "values": {"P": "in_proceedings", "C": "terminated"}}}}
SECRET = "Zebediah"       # a name in the rows: never shown by any of these commands


def _court(iso: int, day_first: int, status: str = "P") -> str:
    """``iso`` rows with ISO dates of birth, then ``day_first`` written 31/01/1970-style."""
    rows = ["id,name,born,status,office"]
    for n in range(1, iso + day_first + 1):
        born = (f"19{50 + n % 40}-0{1 + n % 9}-{10 + n % 19}" if n <= iso
                else f"{13 + n % 15}/0{1 + n % 9}/1970")
        rows.append(f"{n},{SECRET} {n},{born},{status},A")
    return "\n".join(rows) + "\n"


def _run(*args: str | Path, user: str | None = "dana") -> Result:
    who = ["--user", user] if user else []
    return CliRunner().invoke(app, [*map(str, args), *who], env={"COLUMNS": "250"})


def _said(result: Result) -> str:
    return " ".join(result.stderr.split())


def _counts(query: Query) -> tuple[int, ...]:
    return tuple(int(query(f"SELECT count(*) FROM {t}")[0][0])
                 for t in ("sources", "ingest_batches", "records", "quarantine"))


def _events(query: Query, action: str) -> list[tuple[str, str, str]]:
    return [(u, d, o) for u, d, o in query("SELECT user_id, decision, outcome FROM audit_events "
                                            "WHERE action = ? ORDER BY seq", [action])]


@pytest.fixture
def governed(store_path: Path) -> Path:
    services.init(store_path, samples=True)
    return store_path


def test_a_wrong_date_format_refuses_the_file_and_loads_nothing(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    # The case: 21 of 27 dates of birth in another format used to load 6 rows, exit 0.
    path = write_extract(MAPPING, _court(6, 21), name="court.csv")
    result = _run("ingest", path, "--db", governed)
    assert result.exit_code == 2
    said = _said(result)
    assert "court.csv: refused: 21 of 27 rows fail dob (78%, flagged: date does not match format " \
           "%Y-%m-%d)" in said
    assert "accord mapping check" in said and "--accept-failure-rate 0.78" in said
    assert "nothing was loaded" in said and SECRET not in result.output
    assert _counts(query) == (0, 0, 0, 0)
    (event,) = _events(query, "ingest")
    assert event[:2] == ("dana", "allow") and event[2].startswith("failed: FailureRateError")
    # Accepting that rate loads the file: every row stored, 21 dates of birth flagged.
    loaded = _run("ingest", path, "--db", governed, "--accept-failure-rate", "0.8", "--json")
    assert loaded.exit_code == 0, loaded.output
    out = json.loads(loaded.stdout)
    assert (out["rows_read"], out["accepted"], out["flagged"]) == (27, 27, 21)
    details = json.loads(query("SELECT details FROM audit_events WHERE action = 'ingest' ORDER BY seq DESC "
                               "LIMIT 1")[0][0])
    assert details["accept_failure_rate"] == 0.8


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "many"])
def test_an_accepted_rate_outside_zero_to_one_is_refused_before_anything(
        write_extract: WriteExtract, governed: Path, query: Query, rate: str) -> None:
    result = _run("ingest", write_extract(MAPPING, _court(3, 0)), "--db", governed,
                  "--accept-failure-rate", rate)
    assert result.exit_code == 2 and "--accept-failure-rate" in result.output
    assert _counts(query) == (0, 0, 0, 0)


def test_one_refused_extract_among_several_loads_nothing_and_the_others_load(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    bad = write_extract(MAPPING, _court(1, 2), name="bad.csv")
    good = write_extract({**MAPPING, "source": "court_b"}, _court(3, 0), name="good.csv")
    result = _run("ingest", bad, good, "--db", governed, "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out[0]["error"] is not None and "2 of 3 rows fail dob" in out[0]["error"]
    assert (out[1]["source"], out[1]["accepted"], out[1]["error"]) == ("court_b", 3, None)
    assert query("SELECT source FROM sources") == [("court_b",)]


def test_an_unregistered_system_is_refused_with_did_you_mean(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    path = write_extract({**MAPPING, "system": "eoir-cases"}, _court(3, 0))
    result = _run("ingest", path, "--db", governed)
    assert result.exit_code == 2
    said = _said(result)
    assert f"{path}:2 [system]: unknown record system 'eoir-cases'; did you mean 'eoir-case'?" in said
    assert _counts(query) == (0, 0, 0, 0)
    check = _run("mapping", "check", path, "--json", user=None)
    assert check.exit_code == 1
    assert "did you mean 'eoir-case'?" in json.loads(check.stdout)["system_problem"]


def test_mapping_check_reports_failure_rates_and_suggests_a_date_format(
        write_extract: WriteExtract, tmp_path: Path) -> None:
    path = write_extract(MAPPING, _court(6, 21), name="court.csv")
    result = _run("mapping", "check", path, "--json", user=None)
    assert result.exit_code == 1, result.output
    c = json.loads(result.stdout)
    assert (c["rows"], c["whole_file"], c["refused"], c["ok"]) == (27, True, ["dob"], False)
    assert c["columns"] == ["id", "name", "born", "status", "office"] and c["unused_columns"] == ["office"]
    fields = {f["field"]: f for f in c["fields"]}
    assert (fields["dob"]["values"], fields["dob"]["failed"], fields["dob"]["outcome"]) == (27, 21, "flag")
    assert round(fields["dob"]["rate"], 2) == 0.78
    assert fields["dob"]["suggested_formats"] == ["%d/%m/%Y"] and fields["dob"]["suggestion_reads"] == 21
    assert (fields["record_id"]["failed"], fields["case_status"]["failed"]) == (0, 0)
    assert SECRET not in result.output
    text = _run("mapping", "check", path, user=None)
    assert text.exit_code == 1
    assert 'dob: format "%d/%m/%Y" reads 21 of its 27 values' in text.stdout
    verdict = "ingest would refuse this file: more than 20% of its rows fail dob"
    assert verdict in " ".join(text.stdout.split())
    # With the format fixed (both formats listed), the check passes; nothing needed a store.
    fixed = {**MAPPING, "fields": {**MAPPING["fields"], "dob": {"column": "born",
                                                                   "format": ["%Y-%m-%d", "%d/%m/%Y"]}}}
    (tmp_path / "fixed.yaml").write_text(yaml.safe_dump(fixed), encoding="utf-8")
    ok = _run("mapping", "check", tmp_path / "fixed.yaml", tmp_path / "court.csv", user=None)
    assert ok.exit_code == 0, ok.output
    assert "ingest would take this file" in ok.stdout


def test_mapping_check_samples_the_first_rows_and_takes_the_accepted_rate(
        write_extract: WriteExtract) -> None:
    path = write_extract(MAPPING, _court(8, 2))
    first = json.loads(_run("mapping", "check", path, "--sample", "8", "--json", user=None).stdout)
    assert (first["rows"], first["whole_file"], first["ok"]) == (8, False, True)
    assert _run("mapping", "check", path, user=None).exit_code == 0               # 2 of 10: 20%
    assert _run("mapping", "check", path, "--accept-failure-rate", "0.1", user=None).exit_code == 1


def test_mapping_check_counts_quarantining_and_unparseable_rows(write_extract: WriteExtract) -> None:
    data = _court(3, 0, status="X") + "9,too,few\n"
    c = json.loads(_run("mapping", "check", write_extract(MAPPING, data), "--json", user=None).stdout)
    fields = {f["field"]: f for f in c["fields"]}
    assert (fields["case_status"]["failed"], fields["case_status"]["outcome"]) == (3, "quarantine")
    assert (fields["(row)"]["failed"], fields["(row)"]["outcome"]) == (1, "unparseable")
    assert c["rows"] == 4 and c["refused"] == ["case_status", "(row)"]


@pytest.mark.parametrize(
    ("fmt", "said"),
    [("%Q-%m", "[fields.dob.format]: unknown date directive '%Q' in '%Q-%m'"),
     ("YYYY-MM-DD", "[fields.dob.format]: format 'YYYY-MM-DD' has no year directive")])
def test_a_bad_date_directive_is_a_clear_error_naming_file_line_and_key(
        write_extract: WriteExtract, governed: Path, fmt: str, said: str) -> None:
    mapping = {**MAPPING, "fields": {**MAPPING["fields"], "dob": {"column": "born", "format": fmt}}}
    path = write_extract(mapping, _court(2, 0))
    for args in (["mapping", "check", path], ["ingest", path, "--db", governed]):
        result = _run(*args, user=None if args[0] == "mapping" else "dana")
        assert result.exit_code == 2, result.output
        assert f"error: {path}:" in _said(result) and said in _said(result)
        assert "Traceback" not in result.output


def test_sources_show_gives_the_stored_mapping_and_each_batch_mapping_hash(
        write_extract: WriteExtract, governed: Path, tmp_path: Path) -> None:
    first = write_extract(MAPPING, _court(3, 0), name="court.csv")
    assert _run("ingest", first, "--db", governed).exit_code == 0
    changed = {**MAPPING, "description": "court docket, second extract"}
    (tmp_path / "court2.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    assert _run("ingest", tmp_path / "court2.yaml", tmp_path / "court.csv", "--db", governed).exit_code == 0
    result = _run("sources", "show", "court", "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert (d["source"], d["system"], d["records"], d["versions"]) == ("court", "eoir-case", 3, 3)
    assert "second extract" in d["mapping_yaml"]
    hashes = [b["mapping_sha256"] for b in d["batches"]]
    assert len(hashes) == 2 and hashes[0] != hashes[1] and hashes[1] == d["mapping_sha256"]
    assert [b["file_name"] for b in d["batches"]] == ["court.csv", "court.csv"]
    text = _run("sources", "show", "court", "--db", governed)
    assert text.exit_code == 0 and "second extract" in text.stdout and "(current)" in text.stdout
    assert _run("sources", "--db", governed).exit_code == 0          # the list still works
    missing = _run("sources", "show", "courts", "--db", governed)
    assert missing.exit_code == 2
    assert "no source 'courts' in the store; did you mean 'court'?" in _said(missing)
    early = _run("sources", "--db", governed, "show", "court")
    assert early.exit_code == 2 and "--db before `show` would be ignored" in _said(early)


def test_a_source_holding_records_cannot_be_retired(
        write_extract: WriteExtract, governed: Path, query: Query) -> None:
    assert _run("ingest", write_extract(MAPPING, _court(3, 0)), "--db", governed).exit_code == 0
    result = _run("sources", "retire", "court", "--db", governed)
    assert result.exit_code == 2
    assert "source 'court' holds 3 records (3 versions) and cannot be retired" in _said(result)
    assert query("SELECT source FROM sources") == [("court",)]
    (event,) = _events(query, "sources.retire")
    assert event[:2] == ("dana", "allow") and event[2].startswith("failed: RetireRefused")


def test_a_source_registered_by_mistake_with_no_records_is_retired_and_its_name_freed(
        write_extract: WriteExtract, governed: Path, query: Query, tmp_path: Path) -> None:
    # A registered but wrong system; every row quarantined (a status code the map lacks).
    wrong = {**MAPPING, "system": "ssa-numident"}
    path = write_extract(wrong, _court(3, 0, status="X"), name="court.csv")
    loaded = _run("ingest", path, "--db", governed, "--accept-failure-rate", "1", "--json")
    assert loaded.exit_code == 0, loaded.output
    assert (json.loads(loaded.stdout)["quarantined"], _counts(query)) == (3, (1, 1, 0, 3))
    (tmp_path / "right.yaml").write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    locked = _run("ingest", tmp_path / "right.yaml", tmp_path / "court.csv", "--db", governed)
    assert locked.exit_code == 2 and "accord sources retire court" in _said(locked)
    refused = _run("sources", "retire", "court", "--db", governed, user="ana")
    assert refused.exit_code == 2 and query("SELECT count(*) FROM sources") == [(1,)]
    result = _run("sources", "retire", "court", "--db", governed, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"source": "court", "system": "ssa-numident", "batches": 1}
    assert _counts(query) == (0, 1, 0, 3)              # the batch and its quarantine stay
    assert [e[:2] for e in _events(query, "sources.retire")] == [("ana", "deny"), ("dana", "allow")]
    assert _events(query, "sources.retire")[1][2] == "source court (ssa-numident) retired; 1 batches kept"
    again = _run("ingest", tmp_path / "right.yaml", tmp_path / "court.csv", "--db", governed,
                 "--accept-failure-rate", "1")
    assert again.exit_code == 0, again.output
    assert query("SELECT system FROM sources WHERE source = 'court'") == [("eoir-case",)]
    admin = _run("sources", "retire", "court", "--db", governed, user="admin")   # an administrator may too
    assert admin.exit_code == 0, admin.output
    assert query("SELECT count(*) FROM sources") == [(0,)]
