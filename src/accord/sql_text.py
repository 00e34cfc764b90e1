"""Quoting helpers for SQL text built by pure functions."""

from __future__ import annotations


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def str_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"
