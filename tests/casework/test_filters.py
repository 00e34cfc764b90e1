"""The casework loaders' optional filters: declared in code, values always bound."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from accord.casework.filters import Filters

SRC = Path(__file__).resolve().parents[2] / "src" / "accord" / "casework"
F = Filters("person_id", "state", conditions={"ids": "list_contains(?, dispute_id)",
                                              "mine": "owner = ? OR helper = ?",
                                              "open": "state IN ('filed', 'acknowledged')"})


def test_only_the_values_given_become_conditions() -> None:
    assert F.where() == ("", [])
    assert F.where(person_id=None, state=None) == ("", [])
    assert F.where(person_id="P1") == ("WHERE person_id = ?", ["P1"])
    assert F.where(person_id="P1", state="filed") == ("WHERE person_id = ? AND state = ?", ["P1", "filed"])
    assert F.where(ids=["D-1"], mine="u") == (
        "WHERE (list_contains(?, dispute_id)) AND (owner = ? OR helper = ?)", [["D-1"], "u", "u"])
    assert F.where(open=True) == ("WHERE (state IN ('filed', 'acknowledged'))", [])


def test_a_name_that_is_not_declared_is_refused() -> None:
    with pytest.raises(ValueError, match="no filter 'person_id OR 1=1' is declared"):
        F.where(**{"person_id OR 1=1": "x"})
    with pytest.raises(ValueError, match="no filter 'dispute_id' is declared"):
        F.where(dispute_id="D-1")


def test_a_declared_column_must_be_a_plain_name_and_a_flag_takes_true() -> None:
    with pytest.raises(ValueError, match="not a column name"):
        Filters("person_id; DROP TABLE disputes")
    with pytest.raises(ValueError, match="not a column name"):
        Filters("Person Id")
    with pytest.raises(ValueError, match="declared twice"):
        Filters("state", conditions={"state": "state = ?"})
    with pytest.raises(ValueError, match="a flag"):
        F.where(open="yes")


def test_values_are_bound_never_written_into_the_sql() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (person_id VARCHAR, state VARCHAR)")
    con.execute("INSERT INTO t VALUES ('P1', 'filed'), ('P2', 'denied')")
    where, params = Filters("person_id").where(person_id="P1' OR '1'='1")
    assert "P1" not in where
    assert con.execute(f"SELECT count(*) FROM t {where}", params).fetchone() == (0,)
    where, params = Filters("person_id").where(person_id="P1")
    assert con.execute(f"SELECT count(*) FROM t {where}", params).fetchone() == (1,)


def test_the_casework_loaders_build_no_where_clause_of_their_own() -> None:
    """Every optional filter goes through Filters: no loader writes `WHERE {...}` itself, nor
    the `(? IS NULL OR col = ?)` form."""
    for path in sorted(SRC.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"WHERE \{", text), f"{path.name} builds a WHERE clause from text"
        assert not re.search(r"\? IS NULL OR", text), f"{path.name} writes an optional filter by hand"


def test_casework_inserts_name_their_columns() -> None:
    for path in sorted(SRC.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"INSERT INTO (\w+)\s*(\S)", text):
            assert m.group(2) == "(", f"{path.name}: INSERT INTO {m.group(1)} without its column names"
