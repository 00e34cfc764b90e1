"""Ingest of foreign extracts: validation, quarantine, provenance, reconciliation, versions."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from accord.errors import AccordError, MappingError, SourceFileError
from accord.ingest import IngestResult, ingest_file
from accord.ingest.failures import DEFAULT_MAX_FAILURE_RATE
from accord.store import Store
from conftest import Query, WriteExtract

Ingest = Callable[..., IngestResult]


def _mapping(fmt: str = "csv", record_id: str | list[str] = "id", csv: dict[str, Any] | None = None,
             source: str = "foreign", **fields: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"source": source, "system": "test-system", "format": fmt,
                         "record_id": record_id, "fields": fields}
    if csv is not None:
        m["csv"] = csv
    return m


def _reconciles(r: IngestResult) -> None:
    assert r.rows_read == r.accepted + r.unchanged + r.quarantined
    assert r.accepted == r.new_records + r.new_versions


def _quarantine(query: Query, batch: int | None = None) -> list[tuple[Any, ...]]:
    where = "" if batch is None else f"WHERE batch_id = {int(batch)}"
    return query(f"SELECT source, row_number, record_id, field, raw_value, reason FROM quarantine "
                 f"{where} ORDER BY row_number")


COURT_YAML = """\
source: county_court
system: court-docket
format: csv
file: docket.csv
csv: {delimiter: ";", encoding: cp1252}
record_id: [Büro, Akte Nr]
fields:
  full_name: {column: "Nom (Famille, Prénom)", layout: "family, given"}
  dob: {column: Geb. Datum, format: ["%d.%m.%Y", "%Y%m%d", "%b %d %Y"]}
  sex: {column: Sex, values: {Y: M, N: F, "": U}}
  a_number: A-Nr
  case_status: {column: Status, values: {yes: final_order, no: in_proceedings, off: terminated}}
  zip: PLZ
"""

COURT_CSV = """\
Büro;Akte Nr;Nom (Famille, Prénom);Geb. Datum;Sex;A-Nr;Status;PLZ
01;0007;Müller, José María;02.03.1980;Y;A012345678;yes;02134
01;0008;Nguyễn Smith, Ana;19811104;n;A-1234567;No;
02;0007;  O’Brien ,  Seán   Óg ;Feb 01 1975;;12345678;off;00501
02;0009;Doe, Jane;31.02.1980;N;A012345678;yes;02134
02;;Roe, Rick;01.01.1970;Y;A012345678;yes;02134
03;0001;Poe, Ed;01.01.1970;Q;A12345;maybe;2134
"""


def test_foreign_semicolon_cp1252_extract_end_to_end(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    text = COURT_CSV.replace("Nguyễn", "Nguyen")  # cp1252 has no ễ
    p = write_extract(COURT_YAML, text, name="docket.csv", encoding="cp1252")
    r = ingest(p)
    _reconciles(r)
    # The impossible date of birth (31.02.1980) is an identity value: flagged, the row stored.
    assert (r.rows_read, r.accepted, r.new_records, r.unchanged, r.quarantined, r.flagged) == (
        6, 4, 4, 0, 2, 1)
    stored = query("SELECT record_id, given_name, middle_name, family_name, CAST(dob AS VARCHAR), sex, "
                   "a_number, case_status, zip FROM records ORDER BY row_number")
    assert stored == [
        ("01|0007", "José", "María", "Müller", "1980-03-02", "M", "012345678", "final_order", "02134"),
        ("01|0008", "Ana", None, "Nguyen Smith", "1981-11-04", "F", "001234567", "in_proceedings", None),
        ("02|0007", "Seán", "Óg", "O’Brien", "1975-02-01", "U", "012345678", "terminated", "00501"),
        ("02|0009", "Jane", None, "Doe", None, "F", "012345678", "final_order", "02134"),
    ]
    (flags,) = query("SELECT flags FROM records WHERE record_id = '02|0009'")[0]
    (flag,) = json.loads(flags)
    assert (flag["field"], flag["value"], flag["year"], flag["month"], flag["day"]) == (
        "dob", "31.02.1980", 1980, 2, 31)
    assert "does not match format" in flag["reason"] and "%d.%m.%Y" in flag["reason"]
    q = _quarantine(query)
    # Row 6's first error is an identity value (sex); the fact that quarantines it is named.
    assert [row[:5] for row in q] == [
        ("county_court", 5, None, "record_id", None),
        ("county_court", 6, "03|0001", "case_status", "maybe"),
    ]
    assert "missing record id" in q[0][5] and "Akte Nr" in q[0][5]
    assert "values map" in q[1][5]
    # Every error of a row is kept, with the whole source row.
    errors, raw_row = query("SELECT errors, raw_row FROM quarantine WHERE row_number = 6")[0]
    fields = [e["field"] for e in json.loads(errors)]
    assert fields == ["sex", "a_number", "case_status", "zip"]
    assert json.loads(raw_row)["Nom (Famille, Prénom)"] == "Poe, Ed"
    assert json.loads(raw_row)["Akte Nr"] == "0001"


@pytest.mark.parametrize(
    ("delimiter", "encoding", "header"),
    [("\t", "latin-1", False), ("|", "cp1252", True), (",", "utf-8", False), (";", "utf-16", True)],
)
def test_delimiters_encodings_and_headerless_files(
        write_extract: WriteExtract, ingest: Ingest, query: Query,
        delimiter: str, encoding: str, header: bool) -> None:
    columns = ["N° dossier", "Prénom", "NOM", "Né le"]
    rows = [["00042", "Zoé", "Lefèvre", "05/11/1970"], ["00043", "Øyvind", "Åberg", "1971-12-01"]]
    text = "\n".join(delimiter.join(r) for r in ([columns] if header else []) + rows) + "\n"
    csv: dict[str, Any] = {"delimiter": delimiter, "encoding": encoding}
    if not header:
        csv |= {"header": False, "columns": columns}
    p = write_extract(_mapping(record_id="N° dossier", csv=csv, given_name="Prénom", family_name="NOM",
                               dob={"column": "Né le", "format": ["%d/%m/%Y", "%Y-%m-%d"]}),
                      text, encoding=encoding)
    r = ingest(p)
    assert (r.rows_read, r.accepted, r.quarantined) == (2, 2, 0)
    assert query("SELECT record_id, given_name, family_name, CAST(dob AS VARCHAR) FROM records "
                 "ORDER BY record_id") == [("00042", "Zoé", "Lefèvre", "1970-11-05"),
                                           ("00043", "Øyvind", "Åberg", "1971-12-01")]


@pytest.mark.parametrize(
    ("layout", "name", "parts"),
    [
        ("family, given", "García Márquez, Gabriel José", ("Gabriel", "José", "García Márquez")),
        ("family, given", "Smith,John", ("John", None, "Smith")),
        ("family, given", "Madonna", (None, None, "Madonna")),
        ("given family", "Ana Lucía  Pérez", ("Ana", "Lucía", "Pérez")),
        ("given family", "Cher", (None, None, "Cher")),
        ("given middle family", "John Ronald Reuel Tolkien", ("John", "Ronald Reuel", "Tolkien")),
        ("given middle family", "Mary Shelley", ("Mary", None, "Shelley")),
    ],
)
def test_full_name_layouts(write_extract: WriteExtract, ingest: Ingest, query: Query,
                           layout: str, name: str, parts: tuple[str | None, ...]) -> None:
    p = write_extract(_mapping(full_name={"column": "Full Name", "layout": layout}),
                      f'id,Full Name\n1,"{name}"\n')
    assert ingest(p).accepted == 1
    assert query("SELECT given_name, middle_name, family_name FROM records") == [parts]


def test_given_names_split_into_given_and_middle(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(given_names="Vornamen", family_name="Nachname"),
                      "id,Vornamen,Nachname\n1,Anna Maria Luise,Weber\n2,Jo,Kim\n3,,Lee\n")
    assert ingest(p).accepted == 3
    assert query("SELECT given_name, middle_name, family_name FROM records ORDER BY record_id") == [
        ("Anna", "Maria Luise", "Weber"), ("Jo", None, "Kim"), (None, None, "Lee")]


def test_dates_formats_and_plausibility(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(dob={"column": "born", "format": ["%m/%d/%Y", "%Y-%m-%d"]},
                               event_date={"column": "hearing", "format": "%Y-%m-%d"}),
                      "id,born,hearing\n"
                      "1,12/31/1999,2099-05-01\n"    # future hearing dates are fine
                      "2,1999-12-31,\n"
                      "3,31/12/1999,\n"              # not one of the formats
                      "4,01/01/2999,\n"              # born in the future
                      "5,1850-06-01,\n"              # implausibly early
                      "6,,2101-01-01\n")             # beyond the latest event date
    r = ingest(p)
    _reconciles(r)
    # A bad date of birth (an identity value) is flagged on the stored record; a bad event date
    # (a fact) quarantines the row.
    assert query("SELECT record_id, CAST(dob AS VARCHAR), CAST(event_date AS VARCHAR) FROM records "
                 "ORDER BY record_id") == [("1", "1999-12-31", "2099-05-01"), ("2", "1999-12-31", None),
                                           ("3", None, None), ("4", None, None), ("5", None, None)]
    reasons = {int(n): json.loads(f)[0] for n, f in query(
        "SELECT record_id, flags FROM records WHERE flags IS NOT NULL")}
    assert (reasons[3]["field"], reasons[3]["value"]) == ("dob", "31/12/1999")
    assert "does not match" in reasons[3]["reason"]
    assert (reasons[4]["value"], reasons[4]["reason"]) == ("01/01/2999", "date is in the future")
    assert reasons[5]["value"] == "1850-06-01" and "before" in reasons[5]["reason"]
    # No readable parts: 31 is no month, 2999 and 1850 are no plausible years.
    assert all(reasons[n]["year"] is None for n in (3, 4, 5))
    assert [(row[1], row[3], row[4]) for row in _quarantine(query)] == [(6, "event_date", "2101-01-01")]
    assert r.flagged == 3


def test_controlled_values_and_values_maps(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(
        "source: benefits\nsystem: uscis-claims\nformat: csv\nfile: b.csv\nrecord_id: Receipt\n"
        "fields:\n  sex: Gender\n"
        "  benefit_status: {column: Decision, values: {A: approved, D: denied, '': pending}}\n"
        "  benefit_type: {column: Form, values: {I-485: lpr, N-400: naturalization, 'on': other}}\n"
        "  tax_year: FY\n",
        "Receipt,Gender,Decision,Form,FY\n"
        "R1,f,a,i-485,2020\n"
        "R2,x,,N-400,2021.0\n"
        "R3,Female,D,I-485,2021\n"     # not one of M, F, X, U
        "R4,M,Z,I-485,2021\n"          # code not in the values map
        "R5,M,A,ON,2021.5\n"           # not a whole number (never rounded to 2022)
        "R6,M,A,on,1899\n",            # outside 1900-2100
        name="b.csv")
    r = ingest(p)
    _reconciles(r)
    assert query("SELECT record_id, sex, benefit_status, benefit_type, tax_year FROM records "
                 "ORDER BY record_id") == [("R1", "F", "approved", "lpr", 2020),
                                           ("R2", "X", "pending", "naturalization", 2021),
                                           ("R3", None, "denied", "lpr", 2021)]
    # sex is an identity field: flagged; the controlled facts quarantine their rows.
    (flag,) = json.loads(query("SELECT flags FROM records WHERE record_id = 'R3'")[0][0])
    assert (flag["field"], flag["value"]) == ("sex", "Female") and "not one of M, F, X, U" in flag["reason"]
    q = {row[2]: (row[3], row[4], row[5]) for row in _quarantine(query)}
    assert set(q) == {"R4", "R5", "R6"}
    assert q["R4"][:2] == ("benefit_status", "Z") and "values map" in q["R4"][2]
    assert q["R5"] == ("tax_year", "2021.5", "not a whole number")
    assert q["R6"][:2] == ("tax_year", "1899") and "1900" in q["R6"][2]


def test_identifiers_are_validated_and_keep_leading_zeros(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(record_id="File No", ssn="SSN", itin="ITIN", a_number="Alien No",
                               zip="Zip"),
                      "File No,SSN,ITIN,Alien No,Zip\n"
                      "000123,001-01-0001,,A0012345,01002\n"
                      "000124,,912-70-1234,012345678,\n"
                      "000125,666-12-3456,,,\n"
                      "000126,,912-45-6789,,\n"
                      "000127,,,A12345,\n"
                      "000128,,,,1002\n")
    r = ingest(p)
    _reconciles(r)
    # Every bad identifier is flagged on a stored record, its column empty; nothing is quarantined.
    assert query("SELECT record_id, ssn, itin, a_number, zip FROM records ORDER BY record_id") == [
        ("000123", "001010001", None, "000012345", "01002"),
        ("000124", None, "912701234", "012345678", None),
        ("000125", None, None, None, None), ("000126", None, None, None, None),
        ("000127", None, None, None, None), ("000128", None, None, None, None)]
    flagged = [(n, [(f["field"], f["value"]) for f in json.loads(text)]) for n, text in query(
        "SELECT record_id, flags FROM records WHERE flags IS NOT NULL ORDER BY record_id")]
    assert flagged == [("000125", [("ssn", "666-12-3456")]), ("000126", [("itin", "912-45-6789")]),
                       ("000127", [("a_number", "A12345")]), ("000128", [("zip", "1002")])]
    assert (r.quarantined, r.flagged) == (0, 4)
    assert _quarantine(query) == []


def test_empty_and_blank_cells_are_missing_not_errors(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(dob={"column": "dob", "format": "%Y-%m-%d"}, ssn="ssn", sex="sex"),
                      'id,dob,ssn,sex\n1,,,\n2,"  ","   ",""\n')
    r = ingest(p)
    assert (r.accepted, r.quarantined) == (2, 0)
    assert query("SELECT dob, ssn, sex FROM records") == [(None, None, None)] * 2


def test_no_row_disappears(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    lines = ["id,dob,city"] + [f"{i:03d},{'1990-01-01' if i % 3 else 'bad'},c{i}" for i in range(1, 31)]
    lines[5] = "005,1990-01-01,too,many"
    lines[12] = "012,1990-01-01,c12"
    lines[13] = "012,1990-01-01,c12"   # identical repeat of row 12's record
    lines[20] = "020,1990-01-01,c20"
    lines[21] = "020,1990-01-01,other"  # same id, different content
    p = write_extract(_mapping(dob={"column": "dob", "format": "%Y-%m-%d"}, city="city"),
                      "\n".join(lines) + "\n")
    r = ingest(p)
    _reconciles(r)
    assert r.rows_read == 30
    stored = {n for (n,) in query("SELECT row_number FROM records")}
    quarantined = {n for (n,) in query("SELECT row_number FROM quarantine")}
    assert stored.isdisjoint(quarantined)
    # Only the repeat of an identical row is neither stored nor quarantined (it is unchanged).
    assert set(range(1, 31)) - stored - quarantined == {13}
    assert r.unchanged == 1
    conflict = query("SELECT row_number, field, reason FROM quarantine WHERE record_id = '020'")
    assert [(n, f) for n, f, _ in conflict] == [(20, "record_id"), (21, "record_id")]
    assert "20, 21" in conflict[0][2]
    assert query("SELECT field, raw_value FROM quarantine WHERE row_number = 5") == [
        ("(row)", "005,1990-01-01,too,many")]


def test_provenance_and_batch_reconciliation(
        write_extract: WriteExtract, ingest: Ingest, query: Query, tmp_path: Path) -> None:
    p = write_extract(_mapping(city="city", dob={"column": "dob", "format": "%Y-%m-%d"}),
                      "id,city,dob\n1,a,2000-01-01\n2,b,nope\n3,c,\n", name="extract.csv")
    r = ingest(p)
    sha = hashlib.sha256((tmp_path / "extract.csv").read_bytes()).hexdigest()
    assert r.file_sha256 == sha
    prov = query("SELECT source, record_id, version, system, file_name, file_sha256, row_number, "
                 "batch_id, ingested_at IS NOT NULL FROM record_provenance ORDER BY record_id")
    assert prov == [("foreign", "1", 1, "test-system", "extract.csv", sha, 1, r.batch, True),
                    ("foreign", "2", 1, "test-system", "extract.csv", sha, 2, r.batch, True),
                    ("foreign", "3", 1, "test-system", "extract.csv", sha, 3, r.batch, True)]
    batch = query("SELECT batch_id, source, file_name, file_sha256, file_bytes, rows_read, accepted, "
                  "new_records, new_versions, unchanged, quarantined, flagged, "
                  "finished_at >= started_at FROM ingest_batches")
    assert batch == [(r.batch, "foreign", "extract.csv", sha, (tmp_path / "extract.csv").stat().st_size,
                      3, 3, 3, 0, 0, 0, 1, True)]
    assert query("SELECT source, system, first_batch, last_batch FROM sources") == [
        ("foreign", "test-system", r.batch, r.batch)]


def test_same_file_again_accepts_nothing(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(full_name={"column": "n", "layout": "given family"},
                               dob={"column": "d", "format": "%d/%m/%Y"}, ssn="s", tax_year="y"),
                      "id,n,d,s,y\n1,Ana Ruiz,01/02/1990,123-45-6789,2020\n2,Bo Li,,,\n"
                      "3,Cy Oz,99/99/1990,,\n4,Di Wu,01/02/1990,,1899\n")
    first, second = ingest(p), ingest(p)
    _reconciles(second)
    # Row 3's date of birth is flagged (stored, unchanged the second time); row 4's tax year quarantines it.
    assert (first.accepted, first.quarantined, first.flagged) == (3, 1, 1)
    assert (second.rows_read, second.accepted, second.unchanged, second.quarantined, second.flagged) == (
        4, 0, 3, 1, 1)
    assert second.batch > first.batch
    assert query("SELECT count(*), max(version) FROM records") == [(3, 1)]
    assert query("SELECT count(*) FROM ingest_batches") == [(2,)]


def test_changed_record_becomes_a_new_version(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    m = _mapping(city="city", zip="zip")
    first = ingest(write_extract(m, "id,city,zip\n007,Boston,02134\n008,Salem,01970\n", name="v1.csv"))
    second = ingest(write_extract(m, "id,city,zip\n007,Boston,02135\n008,Salem,01970\n009,Lynn,\n",
                                  name="v2.csv"))
    _reconciles(second)
    assert (second.new_records, second.new_versions, second.unchanged) == (1, 1, 1)
    assert query("SELECT record_id, version, zip, batch_id FROM records ORDER BY record_id, version") == [
        ("007", 1, "02134", first.batch), ("007", 2, "02135", second.batch),
        ("008", 1, "01970", first.batch), ("009", 1, None, second.batch)]
    assert query("SELECT record_id, version, zip FROM records_current ORDER BY record_id") == [
        ("007", 2, "02135"), ("008", 1, "01970"), ("009", 1, None)]
    # Back to the first content: a third version, not a duplicate of version 1.
    third = ingest(write_extract(m, "id,city,zip\n007,Boston,02134\n", name="v3.csv"))
    assert (third.new_versions, third.new_records) == (1, 0)
    assert query("SELECT max(version) FROM records WHERE record_id = '007'") == [(3,)]
    # Only the newest of three versions is current; records with one version stay current.
    assert query("SELECT record_id, version, zip FROM records_current ORDER BY record_id") == [
        ("007", 3, "02134"), ("008", 1, "01970"), ("009", 1, None)]


def test_mapping_a_new_field_versions_records(write_extract: WriteExtract, ingest: Ingest) -> None:
    data = "id,city,state\n1,Boston,MA\n"
    ingest(write_extract(_mapping(city="city"), data, name="a.csv"))
    r = ingest(write_extract(_mapping(city="city", state="state"), data, name="b.csv"))
    assert (r.new_versions, r.unchanged) == (1, 0)


def test_composite_ids_with_the_separator_inside_stay_distinct(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    p = write_extract(_mapping(record_id=["office", "case"], city="city"),
                      "office,case,city\na|b,c,one\na,b|c,two\na\\,|c,three\n")
    r = ingest(p)
    assert (r.accepted, r.quarantined) == (3, 0)
    assert len({rid for (rid,) in query("SELECT record_id FROM records")}) == 3


def test_sources_are_separate_and_cannot_change_system(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    data = "id,city\n1,a\n"
    ingest(write_extract(_mapping(source="one", city="city"), data, name="one.csv"))
    r = ingest(write_extract(_mapping(source="two", city="city"), data, name="two.csv"))
    assert r.new_records == 1
    moved = _mapping(source="one", city="city") | {"system": "another-system"}
    with pytest.raises(MappingError) as info:
        ingest(write_extract(moved, data, name="moved.csv"))
    assert info.value.key == "system" and "test-system" in info.value.message
    assert query("SELECT source, count(*) FROM records GROUP BY source ORDER BY source") == [
        ("one", 1), ("two", 1)]


def test_parquet_with_typed_columns(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    table = pa.table({
        "Person ID": pa.array(["0001", "0002", "0003"]),
        "DOB": pa.array([dt.date(1970, 5, 6), None, dt.date(1870, 1, 1)], pa.date32()),
        "Arrived": pa.array([dt.datetime(2001, 2, 3, 4, 5), None, None], pa.timestamp("ms")),
        "Tax Year": pa.array([2019, 2020, None], pa.int64()),
        "SSN": pa.array(["012-34-5678", None, None]),
        "Sex": pa.array(["F", "m", None]),
    })
    # A format on a native date column does not apply: the column is a date already.
    p = write_extract(_mapping("parquet", record_id="Person ID",
                               dob={"column": "DOB", "format": "%d/%m/%Y"}, entry_date="Arrived",
                               tax_year="Tax Year", ssn="SSN", sex="Sex"),
                      table, name="people.parquet")
    r = ingest(p)
    _reconciles(r)
    assert query("SELECT record_id, CAST(dob AS VARCHAR), CAST(entry_date AS VARCHAR), tax_year, ssn, "
                 "sex FROM records ORDER BY record_id") == [
        ("0001", "1970-05-06", "2001-02-03", 2019, "012345678", "F"),
        ("0002", None, None, 2020, None, "M"), ("0003", None, None, None, None, None)]
    (flag,) = json.loads(query("SELECT flags FROM records WHERE record_id = '0003'")[0][0])
    assert (flag["field"], flag["value"], flag["year"]) == ("dob", "1870-01-01", None)
    assert _quarantine(query) == []
    assert ingest(p).accepted == 0


def test_jsonl_extract(write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    lines = [
        json.dumps({"id": "A-01", "name": {"first": "Ana"}, "aNum": "A012345678"}),
        json.dumps({"id": "A-02", "dob": "1990-01-01", "aNum": ["A012345678"]}),
        "{broken",
        json.dumps({"id": "A-03", "Sex": "f", "year": 2020}),
        json.dumps({"dob": "1990-01-01"}),
    ]
    p = write_extract(_mapping("jsonl", dob={"column": "dob", "format": "%Y-%m-%d"}, a_number="aNum",
                               sex="Sex", other_id={"column": "name", "namespace": "alias"},
                               tax_year="year"),
                      "\n".join(lines) + "\n", name="x.jsonl")
    r = ingest(p)
    _reconciles(r)
    assert (r.rows_read, r.accepted, r.quarantined, r.flagged) == (5, 3, 2, 1)
    # A nested value is kept as JSON text; where an identifier is expected it fails validation
    # (flagged: the record is stored without it).
    assert query("SELECT record_id, other_id, a_number, sex, tax_year FROM records ORDER BY record_id") == [
        ("A-01", 'alias:{"first": "Ana"}', "012345678", None, None), ("A-02", None, None, None, None),
        ("A-03", None, None, "F", 2020)]
    (flag,) = json.loads(query("SELECT flags FROM records WHERE record_id = 'A-02'")[0][0])
    assert (flag["field"], flag["value"]) == ("a_number", '["A012345678"]')
    assert [(row[1], row[2], row[3]) for row in _quarantine(query)] == [
        (3, None, "(row)"), (5, None, "record_id")]
    assert query("SELECT raw_value FROM quarantine WHERE row_number = 3") == [("{broken\n",)]


@pytest.mark.parametrize(
    ("fmt", "csv", "data"),
    [
        pytest.param("csv", None, b"", id="empty"),
        pytest.param("csv", None, b'id,city\n1,a\n2,"b\n3,c\n', id="quote never closed"),
        pytest.param("csv", None, b"\x00\x01\x02binary\xff" * 50, id="binary"),
        pytest.param("csv", None, "id,city\n1,Zürich\n".encode("latin-1"), id="wrong encoding"),
        pytest.param("csv", {"delimiter": ";", "header": False, "columns": ["id", "city"]},
                     b"1,a\n2,b\n", id="wrong delimiter, no header"),
        pytest.param("csv", None, b"id,city\n" + b"1,a,x,y\n" * 20 + b"2,b\n", id="mostly ragged"),
        pytest.param("parquet", None, b"id,city\n1,a\n", id="csv declared as parquet"),
        pytest.param("jsonl", None, b"id,city\n1,a\n", id="csv declared as jsonl"),
    ],
)
def test_a_file_that_cannot_be_read_loads_nothing(
        write_extract: WriteExtract, ingest: Ingest, query: Query, fmt: str,
        csv: dict[str, Any] | None, data: bytes | str) -> None:
    payload = (pa.table({"id": pa.array([], pa.string()), "city": pa.array([], pa.string())})
               if data == "no rows" else data)
    ingest(write_extract(_mapping(city="city"), "id,city\n1,before\n", name="good.csv"))
    before = query("SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM quarantine), "
                   "(SELECT count(*) FROM ingest_batches), (SELECT last_batch FROM sources)")
    with pytest.raises(SourceFileError) as info:
        ingest(write_extract(_mapping(fmt, csv=csv, city="city"), payload, name=f"bad.{fmt}"),
               max_failure_rate=DEFAULT_MAX_FAILURE_RATE)
    assert f"bad.{fmt}" in str(info.value) and "nothing was loaded" in str(info.value)
    assert query("SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM quarantine), "
                 "(SELECT count(*) FROM ingest_batches), (SELECT last_batch FROM sources)") == before


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_extract_with_no_rows_is_a_batch_of_zero(
        write_extract: WriteExtract, ingest: Ingest, query: Query, fmt: str) -> None:
    payload: Any = (pa.table({"id": pa.array([], pa.string()), "city": pa.array([], pa.string())})
                    if fmt == "parquet" else b"id,city\n")
    result = ingest(write_extract(_mapping(fmt, city="city"), payload, name=f"empty.{fmt}"))
    assert (result.rows_read, result.accepted, result.quarantined) == (0, 0, 0)
    assert query("SELECT count(*), sum(rows_read) FROM ingest_batches") == [(1, 0)]


def test_errors_are_accord_errors(write_extract: WriteExtract, ingest: Ingest, tmp_path: Path) -> None:
    p = write_extract(_mapping(city="Stadt"), "id,city\n1,a\n")
    with pytest.raises(AccordError, match="Stadt"):
        ingest(p)
    with pytest.raises(SourceFileError, match="no such file"):
        ingest(p, tmp_path / "missing.csv")


def test_a_rejected_mapping_does_not_keep_the_store_alive(
        write_extract: WriteExtract, store_path: Path) -> None:
    # A long-running front end must not accumulate stores (and connections) per bad mapping,
    # even when it keeps the error (as CliRunner does) in a frame the traceback reaches.
    p = write_extract("source: a\nsystem: s\nformat: csv\nrecord_id: id\nfile: x.csv\n"
                      "fields:\n  birthday: b\n", "id,b\n1,2\n", name="x.csv")

    def front_end(store: Store) -> str:
        try:
            ingest_file(store, p)
        except MappingError:
            exc_info = sys.exc_info()
            return f"{exc_info[1]}"
        return "accepted"

    store = Store(store_path)
    ref = weakref.ref(store)
    assert "[fields.birthday]" in front_end(store)
    store.close()
    del store
    gc.collect()
    assert ref() is None
