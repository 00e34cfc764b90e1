"""Optional filters for the casework loaders: ``WHERE a = ? AND b = ?`` from the values given.

A loader declares once, in code, what it may filter on: column names (compared with ``=``)
and named conditions written as SQL with ``?`` placeholders. :meth:`Filters.where` turns the
values a caller passes into a ``WHERE`` clause and its parameters, leaving out every filter
whose value is ``None``. Only declared names are accepted: a column name never comes from
input, and a name the loader did not declare is a programming error (``ValueError``).
Values are always bound as parameters, never written into the SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


class Filters:
    """What one loader may filter on.

    ``columns`` are compared with ``=``; ``conditions`` maps a name to SQL with ``?``
    placeholders, each bound to the filter's value (a condition without placeholders is a
    flag: pass ``True`` to apply it)."""

    def __init__(self, *columns: str, conditions: Mapping[str, str] | None = None) -> None:
        for name in columns:
            if not _COLUMN.fullmatch(name):
                raise ValueError(f"not a column name: {name!r}")
        self._sql: dict[str, str] = {name: f"{name} = ?" for name in columns}
        for name, sql in (conditions or {}).items():
            if name in self._sql:
                raise ValueError(f"filter {name!r} is declared twice")
            self._sql[name] = f"({sql})"

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._sql)

    def where(self, **values: Any) -> tuple[str, list[Any]]:
        """``("WHERE ... AND ...", params)`` for the values that are not ``None`` (``("", [])``
        when none is given)."""
        unknown = sorted(set(values) - set(self._sql))
        if unknown:
            raise ValueError(f"no filter {', '.join(map(repr, unknown))} is declared "
                             f"(declared: {', '.join(sorted(self._sql))})")
        parts: list[str] = []
        params: list[Any] = []
        for name, value in values.items():
            if value is None:
                continue
            sql = self._sql[name]
            slots = sql.count("?")
            if slots == 0 and value is not True:
                raise ValueError(f"filter {name!r} is a flag: pass True to apply it")
            parts.append(sql)
            params += [value] * slots
        return ("WHERE " + " AND ".join(parts) if parts else ""), params
