"""The mapping contract: YAML validated, errors name the file, the key, its line and what
was expected; codes and column names are text exactly as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import MappingError
from accord.sources.mapping import load_mapping, load_mapping_file, parse_mapping

HEAD = "source: court\nsystem: eoir-case\nformat: csv\nrecord_id: id\n"


def _error(text: str) -> MappingError:
    with pytest.raises(MappingError) as info:
        parse_mapping(text, "maps/court.yaml")
    return info.value


def test_a_full_mapping_for_a_foreign_extract_parses() -> None:
    m = parse_mapping(
        "source: county_jail\n"
        "system: jail-booking\n"
        "format: csv\n"
        "csv: {delimiter: ';', encoding: cp1252, header: false,\n"
        "      columns: [Büro Nr, Case ID, 'Nom Complet', Geb. Datum, Statut]}\n"
        "record_id: [Büro Nr, Case ID]\n"
        "fields:\n"
        "  full_name: {column: Nom Complet, layout: 'family, given'}\n"
        "  dob: {column: Geb. Datum, format: ['%d.%m.%Y', '%Y%m%d']}\n"
        "  case_status: {column: Statut, values: {P: in_proceedings, F: final_order, '': terminated}}\n")
    assert m.source == "county_jail"
    assert m.csv.delimiter == ";" and m.csv.encoding == "cp1252" and m.csv.header is False
    assert m.csv.columns == ["Büro Nr", "Case ID", "Nom Complet", "Geb. Datum", "Statut"]
    assert m.record_id_columns == ["Büro Nr", "Case ID"]
    assert m.fields["dob"].formats == ["%d.%m.%Y", "%Y%m%d"]
    assert m.fields["full_name"].layout == "family, given"
    assert m.fields["case_status"].values == {"P": "in_proceedings", "F": "final_order", "": "terminated"}
    assert m.columns_used() == ["Büro Nr", "Case ID", "Nom Complet", "Geb. Datum", "Statut"]


@pytest.mark.parametrize(
    ("text", "line", "key", "expected"),
    [
        pytest.param(HEAD + "fields: {}\nbogus: 1\n", 6, "bogus",
                     ["unknown key 'bogus'", "'record_id'", "'fields'"], id="unknown top-level key"),
        pytest.param(HEAD + "fields:\n  dob: d\n  city:\n    column: c\n    colour: red\n", 9,
                     "fields.city.colour", ["unknown key 'colour'", "'column'", "'values'"],
                     id="unknown field key"),
        pytest.param("source: court\nsystem: s\nformat: csv\ncsv:\n  delimiter: ';'\n  delim: x\n"
                     "record_id: id\nfields: {}\n", 6, "csv.delim",
                     ["unknown key 'delim'", "'delimiter'", "'encoding'"], id="unknown csv key"),
        pytest.param(HEAD + "fields:\n  city: c\n  birthdate: b\n", 7, "fields.birthdate",
                     ["unknown canonical field 'birthdate'"], id="unknown canonical field"),
        pytest.param(HEAD + "fields:\n  sex:\n    column: s\n    values: {m: male, f: F}\n", 8,
                     "fields.sex.values", ["['male']", "controlled set", "'M'", "'F'"],
                     id="value outside the controlled set"),
        pytest.param(HEAD + "fields:\n  benefit_status:\n    column: s\n    values:\n"
                     "      A: approved\n      R: rejected\n", 8, "fields.benefit_status.values",
                     ["['rejected']", "pending", "approved", "denied", "revoked"],
                     id="value outside a fact's controlled set"),
        pytest.param(HEAD + "fields:\n  full_name: {column: n, layout: 'family given'}\n", 6,
                     "fields.full_name.layout", ["'family given'", "'family, given'"],
                     id="unknown layout"),
        pytest.param(HEAD + "fields:\n  full_name: n\n", 6, "fields.full_name",
                     ["needs a layout", "'given family'"], id="full_name without layout"),
        pytest.param(HEAD + "fields:\n  city: {column: c, format: '%Y'}\n", 6,
                     "fields.city.format", ["format applies to dates"], id="format on a text field"),
        pytest.param(HEAD + "fields:\n  city: {column: c, layout: 'given family'}\n", 6,
                     "fields.city.layout", ["layout applies to full_name"], id="layout on city"),
        pytest.param("source: court\nsystem: s\nformat: xlsx\nrecord_id: id\nfields: {}\n", 3,
                     "format", ["'xlsx'", "'csv'", "'parquet'", "'jsonl'"], id="unknown format"),
        pytest.param(HEAD + "fields:\n  dob: {format: '%Y'}\n", 6, "fields.dob",
                     ["missing required key 'column'"], id="field without column"),
        pytest.param("source: court\nsystem: s\nformat: csv\ncsv: {delimiter: ';;'}\n"
                     "record_id: id\nfields: {}\n", 4, "csv.delimiter", ["single character"],
                     id="two-character delimiter"),
        pytest.param("source: court\nsystem: s\nformat: csv\ncsv: {encoding: latin-9x}\n"
                     "record_id: id\nfields: {}\n", 4, "csv.encoding", ["unknown encoding"],
                     id="unknown encoding"),
        pytest.param("source: court\nsystem: s\nformat: csv\ncsv:\n  header: false\n"
                     "record_id: id\nfields: {}\n", 4, "csv", ["columns"],
                     id="no header and no columns"),
        pytest.param("source: court\nsystem: s\nformat: csv\ncsv:\n  columns: [id, c]\n"
                     "record_id: id\nfields: {}\n", 4, "csv", ["header: false"],
                     id="columns with a header row"),
        pytest.param("source: Court Records\nsystem: s\nformat: csv\nrecord_id: id\nfields: {}\n", 1,
                     "source", ["lower-case"], id="source name"),
        pytest.param(HEAD.replace("record_id: id", "record_id: []") + "fields: {}\n", 4, "record_id",
                     ["at least one column"], id="empty composite record id"),
        pytest.param(HEAD + "fields:\n  dob: d\n  city: c\n  dob: e\n", 8, "fields.dob",
                     ["given twice"], id="duplicate key"),
        pytest.param(HEAD + "fields:\n  dob: d\n  other_id: soc_sec_id\n", 7, "fields.other_id",
                     ["other_id needs a namespace", "{column: soc_sec_id, namespace: NAME}"],
                     id="other_id without a namespace"),
        pytest.param(HEAD + "fields:\n  other_id: {column: x}\n", 6, "fields.other_id",
                     ["needs a namespace"], id="other_id with a column and no namespace"),
        pytest.param(HEAD + "fields:\n  other_id: {column: x, namespace: State-DL}\n", 6,
                     "fields.other_id.namespace", ["'State-DL'", "lower-case letters"],
                     id="namespace spelling"),
        pytest.param(HEAD + "fields:\n  ssn: {column: x, namespace: us_ssn}\n", 6, "fields.ssn.namespace",
                     ["namespace applies to other_id, not ssn"], id="namespace on another field"),
    ],
)
def test_mapping_errors_name_file_key_line_and_expectation(
        text: str, line: int, key: str, expected: list[str]) -> None:
    e = _error(text)
    assert (e.path, e.line, e.key) == ("maps/court.yaml", line, key)
    assert str(e).startswith(f"maps/court.yaml:{line} [{key}]: ")
    for fragment in expected:
        assert fragment in e.message


def test_missing_required_key_is_named() -> None:
    e = _error("source: court\nsystem: s\nformat: csv\nfields: {}\n")
    assert "maps/court.yaml" in str(e)
    assert "missing required key 'record_id'" in e.message


@pytest.mark.parametrize("text", ["source: court\n  system: [s\n", "- a\n- b\n", "", "just text\n"])
def test_text_that_is_not_a_yaml_mapping_is_an_error(text: str) -> None:
    e = _error(text)
    assert e.path == "maps/court.yaml"
    assert e.line is not None
    assert "YAML" in e.message or "expected a mapping" in e.message


def test_codes_yaml_would_turn_into_booleans_or_numbers_stay_text() -> None:
    m = parse_mapping(HEAD + "fields:\n"
                      "  sex: {column: s, values: {Y: M, N: F, yes: X, no: U, 'on': M, off: F}}\n"
                      "  benefit_status: {column: b, values: {01: pending, 1: approved, 010: denied,"
                      " true: revoked, ~: pending, 0x1A: denied, 1.0: approved}}\n"
                      "  program: {column: p, values: {A: on, B: off, C: }}\n")
    assert m.fields["sex"].values == {"Y": "M", "N": "F", "yes": "X", "no": "U", "on": "M", "off": "F"}
    assert m.fields["benefit_status"].values == {
        "01": "pending", "1": "approved", "010": "denied", "true": "revoked", "": "pending",
        "0x1A": "denied", "1.0": "approved"}
    # Targets too; an empty target maps the code to a missing value.
    assert m.fields["program"].values == {"A": "on", "B": "off", "C": ""}


def test_column_names_that_look_like_numbers_stay_text() -> None:
    m = parse_mapping("source: court\nsystem: s\nformat: csv\n"
                      "csv: {header: false, columns: [007, 2024, yes]}\n"
                      "record_id: [007, 2024]\nfields:\n  city: yes\n  dob: {column: 2024}\n")
    assert m.csv.columns == ["007", "2024", "yes"]
    assert m.record_id_columns == ["007", "2024"]
    assert m.fields["city"].column == "yes"
    assert m.fields["dob"].column == "2024"


def test_load_mapping_names_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(info.value)
    assert "cannot read" in info.value.message
    latin = tmp_path / "latin.yaml"
    latin.write_bytes((HEAD + "fields:\n  city: Straße\n").encode("latin-1"))
    with pytest.raises(MappingError) as info:
        load_mapping(latin)
    assert info.value.path == str(latin) and "UTF-8" in info.value.message


def test_data_file_is_relative_to_the_mapping_and_required(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with_file = tmp_path / "sub" / "a.yaml"
    with_file.write_text(HEAD + "file: data/a.csv\nfields: {}\n", encoding="utf-8")
    mf = load_mapping_file(with_file)
    assert mf.data_path() == tmp_path / "sub" / "data" / "a.csv"
    assert mf.data_path(tmp_path / "other.csv") == tmp_path / "other.csv"
    without = tmp_path / "b.yaml"
    without.write_text(HEAD + "fields: {}\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping_file(without).data_path()
    assert info.value.key == "file" and info.value.path == str(without)


def test_mapping_file_errors_point_at_the_line_of_a_key(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(HEAD + "fields:\n  city: c\n  dob:\n    column: d\n", encoding="utf-8")
    mf = load_mapping_file(p)
    e = mf.error(("fields", "dob"), "column 'd' is not in x.csv")
    assert (e.path, e.line, e.key) == (str(p), 7, "fields.dob")
    assert len(mf.sha256) == 64


def test_other_id_with_a_namespace_keeps_both_as_text() -> None:
    m = parse_mapping(HEAD + "fields:\n  other_id: {column: 007, namespace: febrl_soc_sec}\n")
    assert (m.fields["other_id"].column, m.fields["other_id"].namespace) == ("007", "febrl_soc_sec")
