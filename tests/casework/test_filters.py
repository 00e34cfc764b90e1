"""The casework loaders' optional filters (declared in code, values always bound), and the
loader that reads cases with their events."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from accord.casework.filters import Filters, Loader

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


class _Store:
    """What a loader asks of a store (``query``), over an in-memory DuckDB; counts its queries."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.queries: list[str] = []

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.queries.append(sql)
        return self.con.execute(sql, params or []).fetchall()


def test_a_loader_hands_each_event_to_its_case_in_one_query() -> None:
    db = _Store()
    db.con.execute("CREATE TABLE cases (id VARCHAR, person_id VARCHAR, filed INTEGER)")
    db.con.execute("INSERT INTO cases VALUES ('C1', 'P1', 2), ('C2', 'P1', 1), ('C3', 'P2', 3)")
    db.con.execute("CREATE TABLE events (seq INTEGER, id VARCHAR, what VARCHAR)")
    db.con.execute("INSERT INTO events VALUES (1, 'C1', 'a'), (2, 'C2', 'b'), (3, 'C1', 'c'), (4, 'C3', 'd')")
    loader: Loader[dict[str, Any]] = Loader(
        Filters("id", "person_id"), "SELECT id, person_id FROM cases {where} ORDER BY filed",
        lambda r: {"id": r[0], "events": []}, lambda c: c["id"],
        "SELECT seq, id, what FROM events WHERE id = ANY(?) ORDER BY seq", 1,
        lambda c, e: c["events"].append(e[2]))
    found = loader.load(db, person_id="P1")                      # type: ignore[arg-type]
    assert [(c["id"], c["events"]) for c in found] == [("C2", ["b"]), ("C1", ["a", "c"])]
    assert len(db.queries) == 2                                  # the cases, then all their events
    db.queries.clear()
    assert loader.load(db, person_id="P9") == [] and len(db.queries) == 1   # type: ignore[arg-type]
    assert loader.one(db, LookupError("no case C1"), id="C1")["events"] == ["a", "c"]  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="no case C9"):
        loader.one(db, LookupError("no case C9"), id="C9")        # type: ignore[arg-type]
