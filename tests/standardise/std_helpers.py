"""Run the standardise stage on a few hand-written records (in-memory DuckDB, no store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from accord.standardise import build_features
from accord.standardise.features import INPUT_COLUMNS

COLUMNS = {"source": "VARCHAR", "record_id": "VARCHAR", "system": "VARCHAR", **INPUT_COLUMNS}


def load(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], table: str = "recs") -> None:
    cols = ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
    for i, r in enumerate(rows):
        row = {"source": "s", "record_id": str(i), "system": "sys", **r}
        unknown = set(row) - set(COLUMNS)
        assert not unknown, unknown
        con.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))


def features(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feature rows (as dicts) for ``rows``, in input order (record ids 0, 1, ...)."""
    con = duckdb.connect()
    load(con, rows)
    build_features(con, "recs")
    cur = con.execute("SELECT * FROM features ORDER BY CAST(record_id AS INTEGER)")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(**fields: Any) -> dict[str, Any]:
    return features([fields])[0]


def date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


class Batch:
    """Features for many single-record cases built in one run: ``batch[i]`` is case i."""

    def __init__(self, cases: list[dict[str, Any]]) -> None:
        self.rows = features(cases)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]
