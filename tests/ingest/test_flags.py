"""Identity values that fail their rule are flagged on a stored record; fact values still
quarantine the row (docs/ingest.md, "Identity values flag, fact values quarantine")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from accord.ingest import IngestResult
from accord.resolve.comparisons import default_comparisons, gammas_sql, pair_frame_sql
from accord.standardise.features import build_features
from conftest import Query, WriteExtract

Ingest = Callable[..., IngestResult]

MAPPING: dict[str, Any] = {
    "source": "naturalisation", "system": "test-system", "format": "csv", "record_id": "id",
    "fields": {"given_name": "given", "family_name": "family",
               "dob": {"column": "born", "format": "%d/%m/%Y"}, "ssn": "ssn", "zip": "zip",
               "naturalization_date": {"column": "naturalised", "format": "%Y-%m-%d"}},
}
HEADER = "id,given,family,born,ssn,zip,naturalised\n"
ROWS = [
    "1,Ana,Silva,31/09/1956,501-27-4489,02134,2001-05-01",    # impossible date of birth
    "2,Ben,Okafor,30/09/1956,000-12-3456,02134,2001-05-01",   # SSN area 000
    "3,Cara,Diaz,01/02/1970,501-27-4480,2134,2001-05-01",      # ZIP lost its leading zero
    "4,Dan,Roe,01/02/1970,501-27-4481,02134,2001-13-01",       # a bad fact: quarantined
    "5,Eve,Poe,01/02/1970,501-27-4482,02134,2001-05-01",       # clean
    ",Fay,Lee,01/02/1970,501-27-4483,02134,2001-05-01",        # no record id: quarantined
]


def _write(write_extract: WriteExtract, rows: list[str]) -> Path:
    return write_extract(MAPPING, HEADER + "\n".join(rows) + "\n")


def _reconciles(r: IngestResult) -> None:
    assert r.rows_read == r.accepted + r.unchanged + r.quarantined
    assert r.accepted == r.new_records + r.new_versions
    assert 0 <= r.flagged <= r.accepted + r.unchanged


def _flags(query: Query, record_id: str) -> list[dict[str, Any]]:
    rows = query("SELECT flags FROM records_current WHERE record_id = ?", [record_id])
    assert len(rows) == 1, rows
    return json.loads(rows[0][0]) if rows[0][0] is not None else []


def test_bad_identity_values_are_stored_and_flagged_bad_facts_quarantine(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    r = ingest(_write(write_extract, ROWS))
    _reconciles(r)
    assert (r.rows_read, r.accepted, r.unchanged, r.quarantined, r.flagged) == (6, 4, 0, 2, 3)
    stored = query("SELECT record_id, CAST(dob AS VARCHAR), ssn, zip FROM records_current ORDER BY 1")
    assert stored == [("1", None, "501274489", "02134"), ("2", "1956-09-30", None, "02134"),
                      ("3", "1970-02-01", "501274480", None), ("5", "1970-02-01", "501274482", "02134")]
    assert query("SELECT dob, ssn FROM records_current WHERE record_id = '1'") == [(None, "501274489")]
    assert _flags(query, "1") == [{"field": "dob", "value": "31/09/1956",
                                   "reason": "date does not match format %d/%m/%Y",
                                   "year": 1956, "month": 9, "day": 31}]
    assert _flags(query, "2") == [{"field": "ssn", "value": "000-12-3456", "reason":
                                   "SSN area number (first 3 digits) 000, 666 and 900-999 is never issued"}]
    assert _flags(query, "3") == [{"field": "zip", "value": "2134",
                                   "reason": "ZIP has 4 digits (leading zero lost?)"}]
    assert _flags(query, "5") == []
    assert query("SELECT ssn FROM records_current WHERE record_id = '2'") == [(None,)]
    assert query("SELECT zip FROM records_current WHERE record_id = '3'") == [(None,)]
    quarantined = query("SELECT row_number, record_id, field, raw_value FROM quarantine ORDER BY row_number")
    assert quarantined == [(4, "4", "naturalization_date", "2001-13-01"), (6, None, "record_id", None)]
    assert query("SELECT flagged FROM ingest_batches WHERE batch_id = ?", [r.batch]) == [(3,)]


def test_a_row_with_a_bad_fact_and_a_bad_identity_value_is_quarantined_with_both(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    r = ingest(_write(write_extract, ["7,Gil,Ray,31/09/1956,000-11-2222,02134,2001-13-01"]))
    assert (r.accepted, r.quarantined, r.flagged) == (0, 1, 0)
    field, reason, errors = query("SELECT field, reason, errors FROM quarantine")[0]
    # The fact that sends the row to quarantine is named; every error of the row is kept.
    assert (field, reason) == ("naturalization_date", "date does not match format %Y-%m-%d")
    assert [e["field"] for e in json.loads(errors)] == ["dob", "ssn", "naturalization_date"]
    assert query("SELECT count(*) FROM records") == [(0,)]


def test_the_same_file_again_accepts_nothing_and_a_corrected_value_is_a_new_version(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    first = ingest(_write(write_extract, ROWS))
    again = ingest(_write(write_extract, ROWS))
    _reconciles(again)
    assert (again.accepted, again.unchanged, again.quarantined, again.flagged) == (0, 4, 2, 3)
    fixed = [ROWS[0].replace("31/09/1956", "30/09/1956"), *ROWS[1:]]
    third = ingest(_write(write_extract, fixed))
    _reconciles(third)
    assert (third.accepted, third.new_versions, third.unchanged, third.flagged) == (1, 1, 3, 2)
    assert query("SELECT version, CAST(dob AS VARCHAR), flags FROM records_current "
                 "WHERE record_id = '1'") == [(2, "1956-09-30", None)]
    assert query("SELECT count(*) FROM records WHERE record_id = '1'") == [(2,)]
    # A value that becomes wrong is a change too: the flag is part of the record's content.
    broken = [ROWS[0], ROWS[1].replace("02134", "2134"), *ROWS[2:]]
    fourth = ingest(_write(write_extract, broken))
    assert (fourth.new_versions, fourth.flagged) == (2, 3)
    assert [f["field"] for f in _flags(query, "2")] == ["ssn", "zip"]
    assert first.batch < fourth.batch


@pytest.mark.parametrize(("fmt", "written", "parts"), [
    ("%d/%m/%Y", "31/09/1956", (1956, 9, 31)),
    ("%Y-%m-%d", "1956-09-31", (1956, 9, 31)),
    ("%Y-%m-%d", "1956/02/30", (1956, 2, 30)),       # another separator, read leniently
    ("%b %d %Y", "Feb 30 1956", (1956, 2, 30)),
    ("%Y-%m-%d", "1956-13-01", None),                # no month: no parts at all
    ("%Y-%m-%d", "0956-09-31", None),                # a year before 1880
    ("%Y-%m-%d", "1956-09-45", (1956, 9, None)),     # no day
    ("%Y-%m-%d", "sometime in 1956", None),
])
def test_a_flagged_date_of_birth_keeps_the_parts_it_can_be_read_for(
        write_extract: WriteExtract, ingest: Ingest, query: Query, fmt: str, written: str,
        parts: tuple[int, int, int | None] | None) -> None:
    mapping = {**MAPPING, "fields": {"family_name": "family", "dob": {"column": "born", "format": fmt}}}
    r = ingest(write_extract(mapping, f"id,family,born\n1,Silva,{written}\n"))
    assert (r.accepted, r.flagged) == (1, 1)
    (flag,) = _flags(query, "1")
    assert flag["value"] == written
    assert (None if flag["year"] is None else (flag["year"], flag["month"], flag["day"])) == parts


def _features(store_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(store_path))
    build_features(con)
    return con


def test_a_flagged_dob_gives_year_and_month_to_features_and_the_same_year_and_month_level(
        write_extract: WriteExtract, ingest: Ingest, store_path: Path) -> None:
    ingest(_write(write_extract, ROWS))
    con = _features(store_path)
    try:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT record_id, dob, dob_y, dob_m, dob_d, ssn, ssn_last4 FROM features").fetchall()}
        assert rows["1"][:4] == (None, 1956, 9, 31)     # the parts, never the date
        # An SSN that failed its rule is never a feature, nor are its last four digits.
        assert rows["2"][4:] == (None, None)
        assert rows["1"][4] == "501274489"
        con.execute("CREATE TEMP TABLE pairs AS SELECT l.rid AS rid_l, r.rid AS rid_r, 'test' AS rule, "
                    "['test'] AS rules FROM features l, features r WHERE l.record_id = '1' AND "
                    "r.record_id IN ('2', '5')")
        con.execute(f"CREATE TEMP VIEW pair_frame AS {pair_frame_sql()}")
        dob = default_comparisons().by_name["dob"]
        got = {r: dob.label(g) for r, g in con.execute(
            f"SELECT r.record_id, gamma_dob FROM ({gammas_sql()}) g JOIN features r ON r.rid = g.rid_r"
        ).fetchall()}
        # 1956-09-31 (flagged) and 1956-09-30: not exact, not off by one, but year and month agree.
        assert got == {"2": "same year and month", "5": "different"}
    finally:
        con.close()


def test_dob_levels_with_a_missing_date_but_present_parts() -> None:
    dob = default_comparisons().by_name["dob"]
    con = duckdb.connect()
    cols = "dob_l, dob_r, dob_y_l, dob_y_r, dob_m_l, dob_m_r, dob_d_l, dob_d_r"

    def label(*values: object) -> str:
        row = ", ".join(("CAST(NULL AS DATE)" if i < 2 else "CAST(NULL AS INTEGER)") if v is None
                        else (f"DATE '{v}'" if isinstance(v, str) else str(v)) for i, v in enumerate(values))
        g = con.execute(f"SELECT {dob.gamma_sql()} FROM (SELECT {row}) AS t({cols})").fetchall()[0][0]
        return dob.label(int(g))

    # Both flagged with equal parts: never exact, never off by one.
    assert label(None, None, 1956, 1956, 9, 9, 31, 31) == "same year and month"
    assert label(None, None, 1956, 1955, 9, 9, 31, 31) == "within a year"
    assert label(None, "1956-10-01", 1956, 1956, 9, 10, 31, 1) == "within a year"
    assert label(None, "1958-10-01", 1956, 1958, 9, 10, 31, 1) == "different"
    assert label(None, "1956-09-30", None, 1956, None, 9, None, 30) == "missing"
    assert label("1956-09-30", "1956-10-01", 1956, 1956, 9, 10, 30, 1) == "one part off by one"
    assert label("1956-09-03", "1956-03-09", 1956, 1956, 9, 3, 3, 9) == "day and month swapped"


def test_a_correction_of_a_flagged_field_drops_its_flag_and_keeps_the_others(
        write_extract: WriteExtract, ingest: Ingest, query: Query, store_path: Path) -> None:
    from accord.ingest.records import append_correction
    from accord.store import Store

    ingest(_write(write_extract, ["1,Ana,Silva,31/09/1956,000-12-3456,2134,2001-05-01"]))
    assert [f["field"] for f in _flags(query, "1")] == ["dob", "ssn", "zip"]
    current = "SELECT *, 'P1' AS person_id FROM records_current"
    with Store(store_path) as store:
        fixed = append_correction(store, current=current, source="naturalisation", record_id="1",
                                  person_id="P1", field="dob", value="1956-09-30", system="test-system",
                                  name="correction:D1", path="disputes/D1", payload=b"dob 1956-09-30",
                                  user_id="priya", from_version=1)
    assert fixed.version == 2
    assert query("SELECT CAST(dob AS VARCHAR) FROM records_current WHERE record_id = '1'") == [
        ("1956-09-30",)]
    assert [(f["field"], f["value"]) for f in _flags(query, "1")] == [
        ("ssn", "000-12-3456"), ("zip", "2134")]
    assert query("SELECT accepted, flagged FROM ingest_batches WHERE batch_id = ?", [fixed.batch_id]) == [
        (1, 1)]
