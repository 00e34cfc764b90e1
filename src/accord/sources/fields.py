"""The canonical field catalogue (loaded from ``canonical_fields.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

FieldType = Literal["text", "date", "integer", "name", "identifier"]


@dataclass(frozen=True)
class CanonicalField:
    """One field an extract column can be mapped to."""

    name: str
    kind: Literal["identity", "fact"]
    type: FieldType
    values: tuple[str, ...] | None = None
    check: str | None = None
    layouts: tuple[str, ...] | None = None
    min: int | None = None
    max: int | None = None
    namespaced: bool = False   # a mapping names the namespace; stored as "namespace:value"
    since: int = 1             # the schema version that added it (records holds it after the first ones)

    @property
    def sql_type(self) -> str:
        return {"date": "DATE", "integer": "INTEGER"}.get(self.type, "VARCHAR")


@cache
def catalogue() -> dict[str, CanonicalField]:
    """All canonical fields by name, identity fields first, in declaration order."""
    text = resources.files("accord.sources").joinpath("canonical_fields.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    out: dict[str, CanonicalField] = {}
    for section, kind in (("identity", "identity"), ("facts", "fact")):
        for name, spec in raw[section].items():
            out[name] = CanonicalField(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                type=spec["type"],
                values=tuple(spec["values"]) if "values" in spec else None,
                check=spec.get("check"),
                layouts=tuple(spec["layouts"]) if "layouts" in spec else None,
                min=spec.get("min"),
                max=spec.get("max"),
                namespaced=bool(spec.get("namespaced", False)),
                since=int(spec.get("since", 1)),
            )
    return out


def field_names() -> list[str]:
    return list(catalogue())


# Name parts derived from full_name / given_names at ingest (see ingest.transform).
DERIVED_NAME_FIELDS = ("given_name", "middle_name", "family_name")
