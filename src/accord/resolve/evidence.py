"""Evidence kinds the clustering guard keeps apart, as data (``evidence.yaml``): citizenship
or lawful-status evidence, and removal-order evidence. A link resting on names and dates of
birth alone may not bring records of both kinds into one person (``accord.resolve.cluster``).

Each kind is a list of conditions over a record's canonical facts (any condition; every field
of one). A field's values are a list, ``present`` (any value), or ``{rules: LIST}``: a list of
the status rules' data (``accord/status/rules.yaml``, e.g. ``citizen_admission_classes``), so
that what the status rules count as citizenship evidence and what the guard counts are one
list. :func:`evidence_sql` turns them into a bit mask per record (``CITIZENSHIP`` |
``REMOVAL``), read from the record's own facts only, so a view's clustering sees the evidence
of the records it sees and nothing else.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from accord.errors import AccordError
from accord.sources.fields import catalogue
from accord.sql_text import ident, lit

CITIZENSHIP, REMOVAL = 1, 2
KINDS = {"citizenship": CITIZENSHIP, "removal": REMOVAL}
PRESENT = "present"
Condition = dict[str, tuple[str, ...] | None]   # field -> values that count (None: any value)


def parse(raw: Any, where: str = "evidence.yaml") -> dict[str, list[Condition]]:
    """Validate the kinds: each a list of conditions, each a mapping of canonical fact fields
    to a list of their controlled values, or ``present``."""
    if not isinstance(raw, dict) or set(raw) != set(KINDS):
        raise AccordError(f"{where}: needs exactly the kinds {sorted(KINDS)}")
    fields = catalogue()
    out: dict[str, list[Condition]] = {}
    for kind, conditions in raw.items():
        if not isinstance(conditions, list) or not conditions:
            raise AccordError(f"{where}: {kind} must be a non-empty list of conditions")
        out[kind] = []
        for i, cond in enumerate(conditions):
            at = f"{where}: {kind}[{i}]"
            if not isinstance(cond, dict) or not cond:
                raise AccordError(f"{at}: a condition maps fields to values or '{PRESENT}'")
            parsed: Condition = {}
            for name, values in cond.items():
                spec = fields.get(name)
                if spec is None or spec.kind != "fact":
                    raise AccordError(f"{at}: {name!r} is no canonical fact field")
                if values == PRESENT:
                    parsed[name] = None
                    continue
                if isinstance(values, dict):
                    values = _rules_list(values, f"{at}: {name}")
                if not isinstance(values, list) or not values:
                    raise AccordError(f"{at}: {name} needs a list of values or '{PRESENT}'")
                bad = [v for v in values if spec.values is not None and v not in spec.values]
                if bad:
                    raise AccordError(f"{at}: {name} has no value {bad[0]!r} "
                                      f"(allowed: {list(spec.values or ())})")
                parsed[name] = tuple(str(v) for v in values)
            out[kind].append(parsed)
    return out


def _rules_list(ref: dict[str, Any], at: str) -> list[str]:
    """The values of ``{rules: NAME}``: the status rules' list NAME."""
    from accord.status.rules import default_rules

    rules = default_rules()
    name = ref.get("rules")
    value = getattr(rules, name, None) if isinstance(name, str) and set(ref) == {"rules"} else None
    if not isinstance(value, tuple) or not value:
        lists = sorted(k for k, v in rules.model_dump().items()
                       if isinstance(v, list | tuple) and v and all(isinstance(x, str) for x in v))
        raise AccordError(f"{at}: {{rules: ...}} must name a list of the status rules "
                          f"(one of {lists})")
    return [str(v) for v in value]


@cache
def kinds() -> dict[str, list[Condition]]:
    """The package's evidence kinds (``evidence.yaml``)."""
    text = resources.files("accord.resolve").joinpath("evidence.yaml").read_text("utf-8")
    return parse(yaml.safe_load(text))


def _condition_sql(cond: Condition, alias: str) -> str:
    parts = []
    for name, values in cond.items():
        col = f"{alias}.{ident(name)}"
        parts.append(f"{col} IS NOT NULL" if values is None else
                     f"{col} IN ({', '.join(lit(v) for v in values)})")
    return "(" + " AND ".join(parts) + ")"


def evidence_sql(alias: str = "r", spec: dict[str, list[Condition]] | None = None) -> str:
    """SQL over a current record (``alias``): its evidence kinds as bits (0 for none)."""
    spec = spec or kinds()
    terms = [f"CASE WHEN {' OR '.join(_condition_sql(c, alias) for c in spec[k])} "
             f"THEN {bit} ELSE 0 END" for k, bit in KINDS.items()]
    return "(" + " + ".join(terms) + ")"
