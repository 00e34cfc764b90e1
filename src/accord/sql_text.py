"""Quoting helpers for SQL text built by pure functions."""

from __future__ import annotations


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def str_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def one_of(column: str, values: list[str] | tuple[str, ...] | frozenset[str] | set[str]) -> str:
    """A condition (SQL both engines read) true when ``column`` is one of ``values`` (FALSE for
    none; NULL for a NULL ``column``, as ``IN`` gives)."""
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join(lit(v) for v in sorted(values))})"


def str_array(values: list[str] | tuple[str, ...]) -> str:
    """An array literal of strings that both engines read (``ARRAY['a', 'b']``)."""
    return "ARRAY[" + ", ".join(lit(v) for v in values) + "]"
