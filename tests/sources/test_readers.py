"""Readers: CSV (declared delimiter, encoding, header), Parquet and JSON Lines become text
columns with data row numbers; unparseable rows are kept aside; unreadable files are errors."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accord.errors import MappingError, SourceFileError
from accord.sources import readers
from accord.sources.mapping import load_mapping_file
from accord.sources.readers import ROW, Extract, open_extract
from conftest import WriteExtract


def _mapping(fmt: str = "csv", record_id: str | list[str] = "id", csv: dict[str, Any] | None = None,
             **fields: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"source": "foreign", "system": "test-system", "format": fmt,
                         "record_id": record_id, "fields": fields or {"city": "city"}}
    if csv is not None:
        m["csv"] = csv
    return m


def _open(mapping_path: Path) -> Extract:
    mf = load_mapping_file(mapping_path)
    return open_extract(mf, mf.data_path())


def _rows(ex: Extract) -> list[dict[str, Any]]:
    return [r for b in ex.batches for r in b.to_pylist()]


def _unreadable(mapping_path: Path) -> SourceFileError:
    with pytest.raises(SourceFileError) as info:
        _rows(_open(mapping_path))
    return info.value


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_with_declared_delimiter_keeps_text_and_leading_zeros(
        write_extract: WriteExtract, delimiter: str) -> None:
    header = ["Fall Nr", "Nom de Famille", "ÉTAT civil", "zip"]
    lines = [header, ["007", "Muñoz", "NA", "02134"], ["0010", "", "NULL", "00501"]]
    text = "\n".join(delimiter.join(cells) for cells in lines) + "\n"
    p = write_extract(_mapping(record_id="Fall Nr", csv={"delimiter": delimiter},
                               family_name="Nom de Famille", city="ÉTAT civil", zip="zip"), text)
    ex = _open(p)
    assert ex.columns == header
    rows = _rows(ex)
    assert [r["Fall Nr"] for r in rows] == ["007", "0010"]
    assert [r["zip"] for r in rows] == ["02134", "00501"]
    # An empty cell is missing; "NA" and "NULL" are text like any other.
    assert [r["Nom de Famille"] for r in rows] == ["Muñoz", None]
    assert [r["ÉTAT civil"] for r in rows] == ["NA", "NULL"]
    assert [r[ROW] for r in rows] == [1, 2]
    assert ex.bad_rows == []


def test_csv_without_header_uses_declared_columns(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping(record_id=["Agency", "Seq"],
                               csv={"delimiter": "|", "header": False,
                                    "columns": ["Agency", "Seq", "Name Given"]},
                               given_name="Name Given"),
                      "01|0001|Ana\n01|0002|Bo\n")
    rows = _rows(_open(p))
    assert [(r["Agency"], r["Seq"], r["Name Given"], r[ROW]) for r in rows] == [
        ("01", "0001", "Ana", 1), ("01", "0002", "Bo", 2)]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_csv_in_a_declared_single_byte_encoding(write_extract: WriteExtract, encoding: str) -> None:
    name = "Zoë Ñúñez" if encoding == "latin-1" else "“Zoë” Œuvre – Ñ"
    p = write_extract(_mapping(csv={"encoding": encoding}, full_name={"column": "nom",
                                                                       "layout": "given family"}),
                      f"id,nom\n1,{name}\n", encoding=encoding)
    assert [r["nom"] for r in _rows(_open(p))] == [name]


def test_csv_with_byte_order_mark_and_utf16(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping(), "\ufeffid,city\n1,Köln\n", name="bom.csv")
    assert _open(p).columns == ["id", "city"]
    # Excel's "Unicode text": UTF-16 with a BOM, tab-delimited (NUL bytes are ordinary here).
    p = write_extract(_mapping(csv={"delimiter": "\t", "encoding": "utf-16"}),
                      "id\tcity\n1\tKöln\n", name="unicode.txt", encoding="utf-16")
    assert [(r["id"], r["city"]) for r in _rows(_open(p))] == [("1", "Köln")]


def test_csv_quotes_and_values_with_newlines(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping(csv={"quote": "'"}),
                      "id,city\n1,'Washington, DC'\n2,'two\nlines'\n3,plain\n")
    rows = _rows(_open(p))
    assert [(r["city"], r[ROW]) for r in rows] == [
        ("Washington, DC", 1), ("two\nlines", 2), ("plain", 3)]


def test_unparseable_csv_rows_are_kept_with_their_data_row_numbers(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping(), 'id,city\n1,a\n2,b,EXTRA\n\n3,"multi\nline"\n4\n5,e\n')
    ex = _open(p)
    rows = _rows(ex)
    assert [(r["id"], r[ROW]) for r in rows] == [("1", 1), ("3", 3), ("5", 5)]
    assert [(b.row_number, b.text) for b in ex.bad_rows] == [(2, "2,b,EXTRA"), (4, "4")]
    assert "expected 2 fields, found 3" in ex.bad_rows[0].reason


@pytest.mark.parametrize(
    ("text", "row"),
    [
        pytest.param('id,city\n1,a\n2,"Springfield\n3,c\n4,d\n', 2, id="in the last column"),
        pytest.param('id,city,zip\n1,a,b\n2,"Springfield,x\n3,c,d\n', 2, id="in a middle column"),
    ],
)
def test_a_quote_never_closed_does_not_swallow_the_rest_of_the_file(
        write_extract: WriteExtract, text: str, row: int) -> None:
    # The reader would take rows 3 and 4 as part of row 2's value; nothing may vanish unseen.
    e = _unreadable(write_extract(_mapping(), text))
    assert f"data row {row}" in e.message and "never closed" in e.message


def test_line_endings_and_a_quoted_multiline_last_value(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping(), 'id,city\r\n1,a\r\n2,"b\r\nc"\r\n', name="crlf.csv")
    assert [(r["id"], r["city"]) for r in _rows(_open(p))] == [("1", "a"), ("2", "b\r\nc")]
    p = write_extract(_mapping(), "id,city\r1,a\r2,b\r", name="cr.csv")
    assert [(r["id"], r["city"]) for r in _rows(_open(p))] == [("1", "a"), ("2", "b")]


def test_csv_header_repeating_a_name_is_an_error(write_extract: WriteExtract) -> None:
    e = _unreadable(write_extract(_mapping(), "id,city,city\n1,a,b\n"))
    assert e.line == 1 and "['city']" in e.message


def test_missing_column_names_the_mapping_key_line_and_the_file_columns(
        write_extract: WriteExtract) -> None:
    p = write_extract("source: foreign\nsystem: s\nformat: csv\nfile: extract.csv\n"
                      "record_id: id\nfields:\n  city: Town\n  dob:\n    column: Birth Date\n",
                      "id,Town,birth date\n1,x,2000-01-01\n")
    with pytest.raises(MappingError) as info:
        _open(p)
    e = info.value
    assert (e.path, e.line, e.key) == (str(p), 8, "fields.dob")
    assert "'Birth Date'" in e.message and "extract.csv" in e.message
    assert "['id', 'Town', 'birth date']" in e.message


def test_missing_record_id_column_names_record_id(write_extract: WriteExtract) -> None:
    with pytest.raises(MappingError) as info:
        _open(write_extract(_mapping(record_id=["id", "seq"]), "id,city\n1,a\n"))
    assert info.value.key == "record_id" and "'seq'" in info.value.message


def _parquet_bytes(tmp_path: Path) -> bytes:
    pq.write_table(pa.table({"id": ["1"], "city": ["a"]}), tmp_path / "t.parquet")
    return (tmp_path / "t.parquet").read_bytes()


@pytest.mark.parametrize(
    ("fmt", "csv", "data", "reason"),
    [
        pytest.param("csv", None, b"", "empty", id="empty csv"),
        pytest.param("csv", None, b"\n  \n", "empty", id="blank csv"),
        pytest.param("csv", None, bytes(range(256)) * 4, "NUL", id="binary as csv"),
        pytest.param("csv", None, "parquet", "NUL", id="parquet declared as csv"),
        pytest.param("csv", None, gzip.compress(b"id,city\n1,a\n" * 100, mtime=0), "NUL",
                     id="gzip declared as csv"),
        pytest.param("csv", None, "id,city\n1,Zürich\n".encode("latin-1"), "utf-8",
                     id="latin-1 declared as utf-8"),
        pytest.param("csv", {"encoding": "cp1252"}, b"id,city\n1,a\x81b\n", "cp1252",
                     id="byte undefined in cp1252"),
        pytest.param("csv", {"encoding": "utf-8"}, "id,city\n1,caf\u00e9".encode()[:-1], "utf-8",
                     id="ends inside a character"),
        pytest.param("parquet", None, b"id,city\n1,a\n", "Parquet", id="csv declared as parquet"),
        pytest.param("parquet", None, b"", "Parquet", id="empty parquet"),
        pytest.param("jsonl", None, b"id,city\n1,a\n", "JSON", id="csv declared as jsonl"),
        pytest.param("jsonl", None, b"", "JSON", id="empty jsonl"),
        pytest.param("jsonl", None, '{"id": "1", "city": "Zürich"}\n'.encode("latin-1"), "UTF-8",
                     id="latin-1 jsonl"),
    ],
)
def test_files_that_cannot_be_read_as_declared_say_why_and_where(
        write_extract: WriteExtract, tmp_path: Path, fmt: str, csv: dict[str, str] | None,
        data: bytes | str, reason: str) -> None:
    raw = _parquet_bytes(tmp_path) if data == "parquet" else data
    assert isinstance(raw, bytes)
    p = write_extract(_mapping(fmt, csv=csv), raw, name=f"extract.{fmt}")
    e = _unreadable(p)
    assert e.path == str(tmp_path / f"extract.{fmt}")
    assert reason in e.message
    assert str(e).startswith(e.path) and "nothing was loaded" in str(e)


def test_invalid_bytes_are_reported_on_their_line(write_extract: WriteExtract) -> None:
    e = _unreadable(write_extract(_mapping(), b"id,city\n1,a\n2,b\n3,Z\xfcrich\n"))
    assert e.line == 4 and "encoding" in e.message


def test_a_missing_file_or_a_directory_is_an_error(write_extract: WriteExtract, tmp_path: Path) -> None:
    p = write_extract(_mapping(), None, name="absent.csv")
    mf = load_mapping_file(p)
    for target in (tmp_path / "absent.csv", tmp_path):
        with pytest.raises(SourceFileError) as info:
            open_extract(mf, target)
        assert info.value.path == str(target) and "no such file" in info.value.message


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_file_without_read_permission_is_an_error(
        write_extract: WriteExtract, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    p = write_extract(_mapping(fmt), b"id,city\n1,a\n", name=f"locked.{fmt}")

    def denied(file: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(file))

    # (Tests may run as root, for whom chmod 000 changes nothing: deny the open instead.)
    monkeypatch.setattr(readers, "open", denied, raising=False)
    e = _unreadable(p)
    assert e.path.endswith(f"locked.{fmt}") and "Permission denied" in e.message


def test_parquet_typed_columns_arrive_as_text(write_extract: WriteExtract) -> None:
    table = pa.table({
        "ID": pa.array([7, 12], pa.int64()),
        "Birth Date": pa.array([dt.date(1980, 1, 2), None], pa.date32()),
        "Entered": pa.array([dt.datetime(1999, 12, 31, 23, 59), dt.datetime(2001, 1, 1)],
                            pa.timestamp("us")),
        "Year": pa.array([2020, None], pa.int32()),
        "Score": pa.array([1.5, 2.0]),
        "Flag": pa.array([True, False]),
        "Aliases": pa.array([["A", "B"], []], pa.list_(pa.string())),
        "Office": pa.array(["NY", "NY"]).dictionary_encode(),
    })
    p = write_extract(_mapping("parquet", record_id="ID", dob="Birth Date", entry_date="Entered",
                               tax_year="Year", other_id={"column": "Aliases", "namespace": "alias"},
                               city="Office"),
                      table, name="typed.parquet")
    ex = _open(p)
    assert ex.native_dates == {"Birth Date", "Entered"}
    rows = _rows(ex)
    assert [r["ID"] for r in rows] == ["7", "12"]
    assert [r["Birth Date"] for r in rows] == ["1980-01-02", None]
    assert [r["Entered"] for r in rows] == ["1999-12-31", "2001-01-01"]
    assert [r["Year"] for r in rows] == ["2020", None]
    assert [r["Flag"] for r in rows] == ["true", "false"]
    assert [json.loads(r["Aliases"]) for r in rows] == [["A", "B"], []]
    assert [r["Office"] for r in rows] == ["NY", "NY"]
    assert [r[ROW] for r in rows] == [1, 2]
    assert all(isinstance(v, str) or v is None for r in rows for k, v in r.items() if k != ROW)


def test_parquet_string_identifiers_keep_leading_zeros(write_extract: WriteExtract) -> None:
    table = pa.table({"id": ["001", "002"], "ssn": ["012-34-5678", None]})
    p = write_extract(_mapping("parquet", ssn="ssn"), table, name="s.parquet")
    assert [(r["id"], r["ssn"]) for r in _rows(_open(p))] == [("001", "012-34-5678"), ("002", None)]


def test_jsonl_missing_keys_nested_values_and_bad_lines(write_extract: WriteExtract) -> None:
    lines = [
        '{"Case No": "007", "Name": {"given": "Ana"}, "Tags": ["x", 1], "Year": 2020}',
        '',
        '{"Case No": "008", "Active": true, "Score": 1.5}',
        'this is not json',
        '[1, 2, 3]',
        '{"Case No": "009", "Name": "Bo", "Year": null, "Extra": "é"}',
        '{"Case No": 10',
    ]
    p = write_extract(_mapping("jsonl", record_id="Case No", full_name={"column": "Name",
                                                                        "layout": "given family"}),
                      "\n".join(lines) + "\n", name="cases.jsonl")
    ex = _open(p)
    assert ex.columns[:3] == ["Case No", "Name", "Tags"]
    assert {"Active", "Score", "Extra"} <= set(ex.columns)
    rows = _rows(ex)
    assert [(r["Case No"], r[ROW]) for r in rows] == [("007", 1), ("008", 3), ("009", 6)]
    assert json.loads(rows[0]["Name"]) == {"given": "Ana"}
    assert json.loads(rows[0]["Tags"]) == ["x", 1]
    assert [r["Year"] for r in rows] == ["2020", None, None]
    assert (rows[1]["Name"], rows[1]["Active"], rows[1]["Score"]) == (None, "true", "1.5")
    assert rows[2]["Extra"] == "é"
    assert [(b.row_number, b.text.strip()) for b in ex.bad_rows] == [
        (4, "this is not json"), (5, "[1, 2, 3]"), (7, '{"Case No": 10')]
    assert "not a JSON object" in ex.bad_rows[1].reason


def test_jsonl_with_byte_order_mark_and_crlf(write_extract: WriteExtract) -> None:
    p = write_extract(_mapping("jsonl"), '\ufeff{"id": "1", "city": "a"}\r\n{"id": "2", "city": "b"}\r\n',
                      name="bom.jsonl")
    ex = _open(p)
    assert [(r["id"], r["city"], r[ROW]) for r in _rows(ex)] == [("1", "a", 1), ("2", "b", 2)]
    assert ex.bad_rows == []


def test_jsonl_mapped_key_first_seen_late_and_batches_with_new_keys(
        write_extract: WriteExtract, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys may be left out where there is no value: a mapped key can first appear after the
    # lines probed for column names, and later batches can carry keys the first did not.
    monkeypatch.setattr(readers, "_JSONL_PROBE_LINES", 2)
    monkeypatch.setattr(readers, "BATCH_ROWS", 2)
    lines = [{"id": "1"}, {"id": "2"}, {"id": "3", "other": 1}, {"id": "4", "death": "2001-02-03"},
             {"id": "5", "other": 2, "late": "x"}]
    p = write_extract(_mapping("jsonl", city="other", death_date="death"),
                      "".join(json.dumps(x) + "\n" for x in lines), name="late.jsonl")
    ex = _open(p)
    assert {"id", "other", "death"} <= set(ex.columns)
    rows = _rows(ex)
    assert [(r["id"], r["other"], r["death"]) for r in rows] == [
        ("1", None, None), ("2", None, None), ("3", "1", None), ("4", None, "2001-02-03"),
        ("5", "2", None)]
