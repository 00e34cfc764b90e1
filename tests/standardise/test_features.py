"""The stage as a whole: schema, one row per record, stable rids, re-runs, the real store."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from std_helpers import load

from accord.ingest import IngestResult
from accord.sql.backend import computing
from accord.standardise import FEATURE_COLUMNS, build_features
from accord.store import Store
from conftest import WriteExtract

ROOT = Path(__file__).resolve().parents[2]

ROWS: list[dict[str, Any]] = [
    {"source": "tax", "record_id": "9", "given_name": "Bill", "family_name": "O'Brien"},
    {"source": "court", "record_id": "10", "full_name": "GARCIA LOPEZ, JOSE"},
    {"source": "tax", "record_id": "10", "given_name": "Ana", "family_name": "de la Cruz"},
    {"source": "court", "record_id": "2", "given_name": "Nguyễn", "family_name": "Văn"},
    {"source": "voter", "record_id": "a", "given_name": "FNU", "family_name": "LNU"},
]


def _table(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT * FROM features ORDER BY rid").fetchall()


def test_schema_is_as_declared() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    build_features(con, "recs")
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE features").fetchall()]
    assert described == [(name, sql_type) for name, sql_type, _ in FEATURE_COLUMNS]


def test_one_row_per_record_with_dense_rids_in_source_record_id_order() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    counts = build_features(con, "recs")
    rows = con.execute("SELECT rid, source, record_id FROM features ORDER BY rid").fetchall()
    assert counts["records"] == len(rows) == len(ROWS)
    assert [r[0] for r in rows] == list(range(len(ROWS)))
    assert [(s, r) for _, s, r in rows] == sorted((r["source"], r["record_id"]) for r in ROWS)


def test_rids_and_content_do_not_depend_on_input_order_and_reruns_change_nothing() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    build_features(con, "recs")
    first = _table(con)
    build_features(con, "recs")
    assert _table(con) == first
    shuffled = ROWS[:]
    random.Random(7).shuffle(shuffled)
    other = duckdb.connect()
    load(other, shuffled)
    build_features(other, "recs")
    assert _table(other) == first


def test_work_tables_are_dropped_even_when_the_stage_fails() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    build_features(con, "recs")
    with pytest.raises(duckdb.Error):
        build_features(con, "no_such_table")
    left = con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_\\_std\\_%' "
                       "ESCAPE '\\'").fetchall()
    assert left == []
    assert con.execute("SELECT count(*) FROM features").fetchall() == [(len(ROWS),)]


def test_a_source_table_with_only_some_canonical_columns() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE thin AS SELECT * FROM (VALUES ('s', '1', 'sys', 'Ana', 'Cruz')) "
                "t(source, record_id, system, given_name, family_name)")
    build_features(con, "thin")
    assert con.execute("SELECT given_std, family_std, ssn, street_name FROM features").fetchall() == \
        [("ANA", "CRUZ", None, None)]


def test_counts_report_what_was_done() -> None:
    con = duckdb.connect()
    load(con, [*ROWS, {"source": "x", "record_id": "1", "ssn": "123-45-6789", "given_name": "Сергей"}])
    counts = build_features(con, "recs")
    assert counts["records"] == len(ROWS) + 1
    assert counts["ssn_removed"] == 1
    assert counts["transliterated"] == 1
    assert counts["given_placeholder"] == counts["family_placeholder"] == 1
    assert counts["variant_entries"] > 4000 and counts["phonetic_tokens"] > 0


def test_without_counts_the_same_table_and_only_the_record_count() -> None:
    con = duckdb.connect()
    load(con, ROWS)
    full = build_features(con, "recs")
    table = _table(con)
    brief = build_features(con, "recs", counts=False)
    assert set(brief) == {"records", "milliseconds"} and brief["records"] == full["records"] == len(ROWS)
    assert _table(con) == table


def test_builds_from_the_store_records_current(write_extract: WriteExtract, store_path: Path,
                                              ingest: Callable[..., IngestResult]) -> None:
    mapping = {"source": "court", "system": "eoir-case", "format": "csv", "record_id": "id",
               "fields": {"full_name": {"column": "name", "layout": "family, given"},
                          "dob": {"column": "dob", "format": "%Y-%m-%d"}, "a_number": "anum",
                          "street": "street", "zip": "zip"}}
    header = "id,name,dob,anum,street,zip\n"
    ingest(write_extract(mapping, header +
                         "1,\"de la Cruz, María Guadalupe\",1975-03-04,A012345679,1 Main Street,02134\n"
                         "2,\"O'Brien Jr, William\",1980-01-01,,PO Box 7,10001\n"))
    # A second version of record 1: features still hold one row per record, the newest.
    ingest(write_extract(mapping, header +
                         "1,\"de la Cruz, Maria\",1975-03-04,A012345679,1 Main Street Apt 2,02134\n"
                         "2,\"O'Brien Jr, William\",1980-01-01,,PO Box 7,10001\n", name="v2.csv"))
    with Store(store_path) as store, computing(store) as db:      # a declared write, as resolve makes it
        counts = build_features(db.con)
        rows = store.query("SELECT rid, record_id, given_std, middle_std, family_std, family_concat, "
                           "name_suffix_std, given_key, a_number, street_name, zip5 "
                           "FROM features ORDER BY rid")
    assert counts["records"] == 2
    assert rows == [
        (0, "1", "MARIA", None, "CRUZ", "DELACRUZ", None, "MARIA", "012345679", "MAIN ST", "02134"),
        (1, "2", "WILLIAM", None, "OBRIEN", "OBRIEN", "JR", "WILLIAM", None, "PO BOX", "10001"),
    ]


def test_every_feature_column_is_documented() -> None:
    doc = (ROOT / "docs" / "standardise.md").read_text(encoding="utf-8")
    missing = [name for name, _, _ in FEATURE_COLUMNS if f"`{name}`" not in doc]
    assert missing == []
