"""Bulk Arrow in and out of the PostgreSQL store (``COPY`` as CSV on the store's own connection):
every type the stores use comes back as it went in, NULL and '' stay apart, parameters stay
values, a bulk load belongs to the open transaction, and the result is the embedded store's."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import StoreError
from accord.store import DuckDBStore, Store, pg_copy
from accord.store.postgres_store import PostgresStore

pytestmark = pytest.mark.postgres

TRICKY = ["plain", "", None, 'say "hi"', "a,b", "two\nlines", "cr\rlf\r\n", "back\\slash", "\\.",
          "a\n\\.\nb", "ünïcödé ✓ 𝄞", "NULL", " padded ", "'quoted'", "{braces}", "tab\there", "\\N"]

EVERY_TYPE = """CREATE TABLE every_type (
  n INTEGER, s TEXT, v VARCHAR, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f FLOAT8, b BOOLEAN, d DATE,
  tz TIMESTAMPTZ, ts TIMESTAMP, j JSON, tags TEXT[], nothing TEXT)"""

EXPECTED = pa.schema([
    ("n", pa.int32()), ("s", pa.string()), ("v", pa.string()), ("i2", pa.int16()), ("i4", pa.int32()),
    ("i8", pa.int64()), ("f", pa.float64()), ("b", pa.bool_()), ("d", pa.date32()),
    ("tz", pa.timestamp("us", tz="UTC")), ("ts", pa.timestamp("us")), ("j", pa.string()),
    ("tags", pa.list_(pa.string())), ("nothing", pa.string())])


def every_type(rows: int = len(TRICKY)) -> pa.Table:
    """One table with every column type the stores use, NULLs in each column."""
    at = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)

    def cycle(values: list[Any]) -> list[Any]:
        return [values[i % len(values)] for i in range(rows)]

    return pa.table({
        "n": pa.array(range(rows), pa.int32()),
        "s": cycle(TRICKY),
        "v": pa.array(cycle(list(reversed(TRICKY))), pa.string()).dictionary_encode(),
        "i2": pa.array(cycle([-32768, 32767, None, 0]), pa.int16()),
        "i4": pa.array(cycle([-2**31, 2**31 - 1, None, 7]), pa.int32()),
        "i8": pa.array(cycle([-2**63, 2**63 - 1, None, 0]), pa.int64()),
        "f": cycle([0.1, 1 / 3, None, -0.0, 1e-300, 1.7976931348623157e308, 5e-324]),
        "b": cycle([True, False, None]),
        "d": cycle([date(2024, 2, 29), None, date(1, 1, 1), date(9999, 12, 31), date(1970, 1, 1)]),
        "tz": pa.array(cycle([at, None, at + timedelta(microseconds=1), datetime(1900, 1, 1, tzinfo=UTC)]),
                       pa.timestamp("us", tz="UTC")),
        "ts": pa.array(cycle([at.replace(tzinfo=None), None, datetime(2000, 1, 1, 0, 0, 0, 1)]),
                       pa.timestamp("us")),
        "j": cycle(['{"a": [1, 2], "b": "c,\\"d\\"\\n"}', None, "[]", '"ü"', "null", "{ \"spaced\" : 1 }"]),
        "tags": pa.array(cycle([["a,b", None, 'c"d', "{e}", "f\\g", "NULL", "", " h "], [], None,
                                ["x"], [None], ["ü", "\\", '"', "}", "{"]]), pa.list_(pa.string())),
        "nothing": pa.nulls(rows),
    })


def comparable(table: pa.Table) -> list[dict[str, Any]]:
    """Rows with NaN as a marker (NaN equals nothing, itself included)."""
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            for row in table.to_pylist()]


@pytest.fixture
def copy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test fails if a bulk read or load leaves the COPY path for the row path."""
    def refuse(*args: object) -> None:
        raise AssertionError("the row path was taken")

    monkeypatch.setattr(PostgresStore, "_read_rows", refuse)
    monkeypatch.setattr(PostgresStore, "_load_rows", refuse)


def make(store: Store, ddl: str) -> None:
    with store.transaction():
        store.changed()
        store.write(ddl)


def test_every_type_comes_back_as_it_went_in(pg_url: str, copy_only: None) -> None:
    data = every_type()
    with Store(pg_url) as store:
        make(store, EVERY_TYPE)
        assert store.bulk_load("every_type", data) == data.num_rows
        back = store.read_arrow("SELECT * FROM every_type ORDER BY n")
        assert back.schema == EXPECTED
        assert back.equals(data.cast(EXPECTED))
        # NULL and '' stay apart, in text and in lists
        assert store.scalar("SELECT count(*) FROM every_type WHERE s IS NULL") == TRICKY.count(None)
        assert store.scalar("SELECT count(*) FROM every_type WHERE s = ''") == TRICKY.count("")
        assert store.query("SELECT tags FROM every_type WHERE n = 0") == [
            (["a,b", None, 'c"d', "{e}", "f\\g", "NULL", "", " h "],)]
        assert store.query("SELECT tags IS NULL, cardinality(tags) FROM every_type WHERE n IN (1, 2) "
                           "ORDER BY n") == [(False, 0), (True, None)]
        # the JSON text is PostgreSQL's json, and comes back as that text
        assert store.scalar("SELECT j->>'b' FROM every_type WHERE n = 0") == 'c,"d"\n'


def test_the_copy_path_gives_what_the_row_path_gives(pg_url: str) -> None:
    with Store(pg_url) as store:
        assert isinstance(store, PostgresStore)
        make(store, EVERY_TYPE)
        store.bulk_load("every_type", every_type())
        sql = "SELECT s, v, i8, f, b, d, tz, ts, j, tags FROM every_type ORDER BY n"
        fast, rows = store.read_arrow(sql), store._read_rows(sql, None)
        assert fast.column_names == rows.column_names
        assert comparable(fast) == comparable(rows)


def test_floats_keep_nan_infinities_and_every_digit(pg_url: str, copy_only: None) -> None:
    values = [float("nan"), float("inf"), float("-inf"), -0.0, 0.1 + 0.2, 2.0 ** -1074, None]
    with Store(pg_url) as store:
        make(store, "CREATE TABLE fl (i INTEGER, f FLOAT8, r REAL)")
        store.bulk_load("fl", pa.table({"i": pa.array(range(len(values)), pa.int32()), "f": values,
                                        "r": pa.array([1.5, 0.1, None, 3, 4, 5, 6], pa.float32())}))
        back = store.read_arrow("SELECT f, r FROM fl ORDER BY i")
        assert back.schema == pa.schema([("f", pa.float64()), ("r", pa.float32())])
        got = back.column("f").to_pylist()
        assert math.isnan(got[0]) and got[1:] == values[1:]
        assert math.copysign(1, got[3]) == -1
        assert back.column("r").to_pylist()[:2] == pa.array([1.5, 0.1], pa.float32()).to_pylist()


def test_timestamps_keep_microseconds_and_the_instant_of_any_time_zone(pg_url: str, copy_only: None) -> None:
    paris = datetime(2024, 7, 1, 12, 30, 0, 654321, tzinfo=timezone(timedelta(hours=2)))
    with Store(pg_url) as store:
        make(store, "CREATE TABLE t (i INTEGER, tz TIMESTAMPTZ, naive_into_tz TIMESTAMPTZ, ts TIMESTAMP)")
        store.bulk_load("t", pa.table({
            "i": pa.array([0, 1], pa.int32()),
            "tz": pa.array([paris, None], pa.timestamp("us", tz="Europe/Paris")),
            "naive_into_tz": pa.array([datetime(2024, 1, 1, 0, 0, 0, 1), None], pa.timestamp("us")),
            "ts": pa.array([datetime(2024, 1, 1, 0, 0, 0, 999999), None], pa.timestamp("us"))}))
        back = store.read_arrow("SELECT tz, naive_into_tz, ts FROM t ORDER BY i").to_pylist()
        assert back[0]["tz"] == paris and back[0]["tz"].utcoffset() == timedelta(0)
        assert back[0]["naive_into_tz"] == datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)   # read as UTC
        assert back[0]["ts"] == datetime(2024, 1, 1, 0, 0, 0, 999999)
        assert back[1] == {"tz": None, "naive_into_tz": None, "ts": None}


def test_other_arrow_layouts_load_as_their_values(pg_url: str, copy_only: None) -> None:
    with Store(pg_url) as store:
        make(store, "CREATE TABLE lay (i INTEGER, a TEXT, b TEXT, c TEXT, d BIGINT[], e BOOLEAN[], "
                    "f TEXT[], g TEXT[])")
        store.bulk_load("lay", pa.table({
            "i": pa.array([0, 1, 2], pa.int8()),
            "a": pa.array(["x", None, ""], pa.large_string()),
            "b": pa.array(["y", "", None], pa.string_view()),
            "c": pa.array(["z", "z", None]).dictionary_encode(),
            "d": pa.array([[1, None, -2**63], [], None], pa.large_list(pa.int64())),
            "e": pa.array([[True, None], [False], None], pa.list_(pa.bool_())),
            "f": pa.array([["p", "q"], [None, "r"], ["s", "t"]], pa.list_(pa.string(), 2)),
            "g": pa.array([["g"], [], None], pa.list_(pa.dictionary(pa.int32(), pa.string())))}))
        back = store.read_arrow("SELECT a, b, c, d, e, f, g FROM lay ORDER BY i")
        assert back.to_pylist() == [
            {"a": "x", "b": "y", "c": "z", "d": [1, None, -2**63], "e": [True, None], "f": ["p", "q"],
             "g": ["g"]},
            {"a": None, "b": "", "c": "z", "d": [], "e": [False], "f": [None, "r"], "g": []},
            {"a": "", "b": None, "c": None, "d": None, "e": None, "f": ["s", "t"], "g": None}]
        assert back.schema.field("d").type == pa.list_(pa.int64())


def test_a_single_text_column_keeps_null_and_empty_rows(pg_url: str, copy_only: None) -> None:
    values = [None, "", None, "x", "", None]
    with Store(pg_url) as store:
        make(store, "CREATE TABLE one (v TEXT)")
        store.bulk_load("one", pa.table({"v": pa.array(values, pa.string())}))
        assert store.read_arrow("SELECT v FROM one").column("v").to_pylist() == values


def test_text_with_a_nul_character_is_refused_by_its_column_and_nothing_is_loaded(pg_url: str) -> None:
    with Store(pg_url) as store:
        make(store, "CREATE TABLE t (a TEXT, b TEXT)")
        with pytest.raises(StoreError) as e:
            store.bulk_load("t", pa.table({"a": ["fine", "fine"], "b": ["fine", "nul\x00here"]}))
        assert "column b" in str(e.value) and "NUL" in str(e.value)
        assert store.scalar("SELECT count(*) FROM t") == 0


def test_zero_rows_come_back_with_their_names_and_types(pg_url: str, copy_only: None) -> None:
    with Store(pg_url) as store:
        make(store, EVERY_TYPE)
        empty = store.read_arrow("SELECT * FROM every_type WHERE n > ?", [0])
        assert empty.num_rows == 0 and empty.schema == EXPECTED
        store.bulk_load("every_type", every_type().slice(0, 0))
        assert store.scalar("SELECT count(*) FROM every_type") == 0


def test_parameters_come_back_as_plain_values(pg_url: str, copy_only: None) -> None:
    attack = "x'); DROP TABLE records; --"
    odd = ["it's", 'say "hi"', "back\\slash", "50% off", "?", "%s", "$1", "\n", "", "ü"]
    with Store(pg_url) as store:
        got = store.read_arrow("SELECT ? AS attack, ? AS n, ? AS d, ? AS gone, '5%' AS pct",
                               [attack, 7, date(2024, 1, 2), None])
        assert got.to_pylist() == [{"attack": attack, "n": 7, "d": date(2024, 1, 2), "gone": None,
                                    "pct": "5%"}]
        for value in odd:
            assert store.read_arrow("SELECT ? AS v", [value]).to_pylist() == [{"v": value}]
        listed = store.read_arrow("SELECT unnest(?::VARCHAR[]) AS v", [[attack, *odd]])
        assert listed.column("v").to_pylist() == [attack, *odd]
        store.bulk_load("records", pa.table({"source": ["s"], "record_id": ["r1"], "version": [1],
                                             "system": [attack], "batch_id": [1], "row_number": [1]}))
        found = store.read_arrow("SELECT record_id FROM records WHERE system = ?", [attack])
        assert found.to_pylist() == [{"record_id": "r1"}]
        assert store.scalar("SELECT count(*) FROM records") == 1        # the table is still there


def test_a_bulk_load_belongs_to_the_open_transaction(pg_url: str) -> None:
    data = every_type()
    with Store(pg_url) as store:
        make(store, EVERY_TYPE)
        version = store.data_version()
        with pytest.raises(RuntimeError, match="changed my mind"), store.transaction():
            store.bulk_load("every_type", data)
            seen = store.read_arrow("SELECT count(*) AS n FROM every_type")       # seen inside it
            assert seen.to_pylist() == [{"n": data.num_rows}]
            raise RuntimeError("changed my mind")
        assert store.scalar("SELECT count(*) FROM every_type") == 0
        assert store.data_version() == version
        with psycopg.connect(pg_url) as other:                                # and not by others
            with store.transaction():
                store.bulk_load("every_type", data)
                assert other.execute("SELECT count(*) FROM every_type").fetchone() == (0,)
            assert other.execute("SELECT count(*) FROM every_type").fetchone() == (data.num_rows,)


def test_results_copy_does_not_carry_are_read_row_by_row(pg_url: str) -> None:
    with Store(pg_url) as store:
        make(store, "CREATE TABLE odd (i INTEGER, amount NUMERIC(10, 2), blob BYTEA, at TIMESTAMPTZ)")
        # a column the CSV writer cannot express (binary) loads row by row
        store.bulk_load("odd", pa.table({"i": pa.array([1, 2], pa.int32()),
                                         "amount": [Decimal("1.50"), None], "blob": [b"\x00\xff", None]}))
        assert store.query("SELECT amount, blob FROM odd ORDER BY i") == [(Decimal("1.50"), b"\x00\xff"),
                                                                          (None, None)]
        # a type the COPY path does not map (numeric, bytea) is read row by row
        assert store.read_arrow("SELECT amount, blob FROM odd ORDER BY i").to_pylist() == [
            {"amount": Decimal("1.50"), "blob": b"\x00\xff"}, {"amount": None, "blob": None}]
        # a value the CSV reader refuses is read row by row, after the COPY is read to its end:
        # here psycopg refuses it too, and the transaction goes on
        with store.transaction():
            store.write("INSERT INTO odd (i, at) VALUES (3, 'infinity')")
            with pytest.raises(psycopg.DataError):
                store.read_arrow("SELECT at FROM odd WHERE i = 3")
            assert store.scalar("SELECT count(*) FROM odd") == 3


def test_reads_larger_than_a_block_come_back_whole_and_in_order(pg_url: str, copy_only: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = every_type(500)
    monkeypatch.setattr(pg_copy, "READ_BLOCK_BYTES", 700)        # many blocks, some with newlines
    monkeypatch.setattr(pg_copy, "LOAD_BATCH_ROWS", 37)          # many batches
    with Store(pg_url) as store:
        make(store, EVERY_TYPE)
        store.bulk_load("every_type", data)
        back = store.read_arrow("SELECT * FROM every_type ORDER BY n DESC")
        assert back.num_rows == 500
        assert back.equals(data.cast(EXPECTED).take(list(range(499, -1, -1))))


def test_megabytes_of_values_with_line_breaks_stay_on_the_copy_path(pg_url: str, copy_only: None) -> None:
    values = [f"line {i}\nnext, with a comma\r\nand \"quotes\"" if i % 3 else None for i in range(60_000)]
    with Store(pg_url) as store:
        make(store, "CREATE TABLE lines (i INTEGER, v TEXT)")
        store.bulk_load("lines", pa.table({"i": pa.array(range(len(values)), pa.int32()), "v": values}))
        back = store.read_arrow("SELECT v FROM lines ORDER BY i")
        assert back.column("v").to_pylist() == values


TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))


def test_any_text_round_trips_through_a_varchar_column(pg_url: str) -> None:
    with Store(pg_url) as store:
        assert isinstance(store, PostgresStore)
        make(store, "CREATE TABLE texts (i INTEGER, v VARCHAR)")

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(TEXT, max_size=20))
        def round_trip(values: list[str | None]) -> None:
            data = pa.table({"i": pa.array(range(len(values)), pa.int32()),
                             "v": pa.array(values, pa.string())})
            with store.transaction():
                store.write("DELETE FROM texts")
                store.bulk_load("texts", data)
            back = store.read_arrow("SELECT v FROM texts ORDER BY i")
            assert back.column("v").to_pylist() == values
            assert back.schema.field("v").type == pa.string()
            rows = store._read_rows("SELECT v FROM texts ORDER BY i", None)
            assert rows.column("v").to_pylist() == values

        round_trip()


def test_the_same_table_reads_back_equal_from_both_engines(pg_url: str, tmp_path) -> None:
    data = every_type()
    got = []
    for store in (DuckDBStore(tmp_path / "s.duckdb"), Store(pg_url)):
        with store:
            make(store, EVERY_TYPE)
            store.bulk_load("every_type", data)
            got.append(store.read_arrow("SELECT * FROM every_type ORDER BY n"))
            got.append(store.read_arrow("SELECT s, tags FROM every_type WHERE n < 0"))
    duck, duck_empty, pg, pg_empty = got
    assert pg.schema == duck.schema
    assert pg.equals(duck)
    assert pg_empty.schema == duck_empty.schema and pg_empty.num_rows == duck_empty.num_rows == 0
