"""The casework loaders: optional filters, and the cases they select loaded with their events.

``WHERE a = ? AND b = ?`` from the values given:

A loader declares once, in code, what it may filter on: column names (compared with ``=``)
and named conditions written as SQL with ``?`` placeholders. :meth:`Filters.where` turns the
values a caller passes into a ``WHERE`` clause and its parameters, leaving out every filter
whose value is ``None``. Only declared names are accepted: a column name never comes from
input, and a name the loader did not declare is a programming error (``ValueError``).
Values are always bound as parameters, never written into the SQL.

A :class:`Loader` is how one casework module loads its cases: the cases its filters select,
then their events in one query, each event handed to its case. The SQL is the owning
module's; the loader only runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from accord.store import Store

_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")

C = TypeVar("C")


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


@dataclass(frozen=True)
class Loader(Generic[C]):
    """How one module loads its cases (disputes, findings, annotations) with their events.

    ``cases_sql`` selects the cases, ``{where}`` standing for the filters' clause; ``make``
    makes a case of a row and ``key`` is its id. ``events_sql`` selects the events of the
    cases whose ids it is given (``... WHERE <id> = ANY(?) ORDER BY seq``); column
    ``event_case`` of an event row is its case's id, and ``add_event`` adds the row to it."""

    filters: Filters
    cases_sql: str
    make: Callable[[tuple[Any, ...]], C]
    key: Callable[[C], str]
    events_sql: str
    event_case: int
    add_event: Callable[[C, tuple[Any, ...]], None]

    def load(self, store: Store, **values: Any) -> list[C]:
        """The cases the filter values select, in the order of ``cases_sql``, with their events."""
        where, params = self.filters.where(**values)
        out = [self.make(row) for row in store.query(self.cases_sql.format(where=where), params)]
        if out:
            by_id = {self.key(c): c for c in out}
            for event in store.query(self.events_sql, [list(by_id)]):
                self.add_event(by_id[event[self.event_case]], event)
        return out

    def one(self, store: Store, missing: Exception, **values: Any) -> C:
        """The first case the filter values select; ``missing`` is raised when there is none."""
        found = self.load(store, **values)
        if not found:
            raise missing
        return found[0]
