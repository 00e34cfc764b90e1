"""The one place SQL is executed for the resolution pipeline (DuckDB backend).

Engine errors are re-raised with the statement that failed, so a failure can be reproduced.
"""

from __future__ import annotations

from typing import Any

import duckdb

from accord.errors import AccordError


class SQLExecutionError(AccordError):
    def __init__(self, message: str, sql: str) -> None:
        self.sql = sql
        super().__init__(f"{message}\n-- while running:\n{sql}")


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, sql: str, params: list[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def create_table(self, name: str, sql: str, params: list[Any] | None = None, *,
                     temp: bool = False) -> None:
        """``temp``: a working table of this connection (memory first, spilled to the
        temp directory when large); otherwise a table of the store."""
        kind = "TEMP TABLE" if temp else "TABLE"
        self.run(f"CREATE OR REPLACE {kind} {name} AS {sql}", params)

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any:
        try:
            return self.con.sql(sql, params=params or None).to_arrow_table()
        except duckdb.Error as e:
            raise SQLExecutionError(str(e), sql) from None
