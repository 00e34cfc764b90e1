"""A service's plain result as readable text: one ``key: value`` line per field, nested
mappings and lists of mappings as indented blocks, lists of plain values joined by commas, and
"—" for nothing (None, an empty list or mapping). Never Python's ``repr`` of a list or a dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NONE = "—"
INDENT = "  "


def scalar(value: Any) -> str:
    """One plain value as text: "—" for None or empty text, yes/no for booleans."""
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plain(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple)


def lines(value: Any, depth: int = 0) -> list[str]:
    """``value`` (a mapping, a list or a plain value) as indented lines."""
    pad = INDENT * depth
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, item in value.items():
            out += _field(str(key), item, depth)
        return out or [pad + NONE]
    if isinstance(value, list | tuple):
        if not value:
            return [pad + NONE]
        if all(_plain(v) for v in value):
            return [pad + ", ".join(scalar(v) for v in value)]
        out = []
        for item in value:
            out += _item(item, depth)
        return out
    return [pad + scalar(value)]


def _field(key: str, value: Any, depth: int) -> list[str]:
    pad = INDENT * depth
    if _plain(value):
        return [f"{pad}{key}: {scalar(value)}"]
    if not value:
        return [f"{pad}{key}: {NONE}"]
    if isinstance(value, list | tuple) and all(_plain(v) for v in value):
        return [f"{pad}{key}: {', '.join(scalar(v) for v in value)}"]
    return [f"{pad}{key}:", *lines(value, depth + 1)]


def _item(item: Any, depth: int) -> list[str]:
    """One element of a list of mappings: its first line marked with "- ", the rest aligned."""
    body = lines(item, depth + 1)
    pad = INDENT * (depth + 1)
    first = body[0][len(pad):] if body[0].startswith(pad) else body[0].lstrip()
    return [f"{INDENT * depth}- {first}", *body[1:]]


def text(value: Any) -> str:
    return "\n".join(lines(value))
