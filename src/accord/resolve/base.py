"""Which records resolution counts and which each view withholds, by the governance rule
(``accord.governance.visibility``: one rule for the gate, the partitions and the tests).

- The **statistics base**: records under no regime with a statutory floor
  (``floor_regimes``). Term frequencies, the model's training, block sizes and the shared
  identifiers are counted over it alone (``features.in_base``), so no record that some
  purpose may not see moves a weight between records that purpose may see.
- A **view**'s withheld records: those under any of the view's withheld regimes
  (``visibility.views``); the view's partition is the clustering without them
  (``accord.resolve.views``).
"""

from __future__ import annotations

import numpy as np

from accord.errors import AccordError
from accord.governance.registry import Registry, registry
from accord.governance.scope import regimes_sql, under_regimes_sql
from accord.governance.visibility import floor_regimes, views
from accord.resolve.working import FEATURES, IN_BASE, MARKS
from accord.sql.backend import DuckDBBackend
from accord.sql_text import lit, str_list


def _bits(reg: Registry) -> dict[str, int]:
    return {r: 1 << i for i, r in enumerate(sorted(floor_regimes(reg)))}


def feature_columns(reg: Registry | None = None) -> dict[str, tuple[str, str]]:
    """The columns resolution adds to ``features`` (SQL over a ``records_current`` row, type):
    ``in_base``, the record is under no floor regime; ``floor_marks``, the floor regimes it is
    under as bits (in ``sorted(floor_regimes)`` order)."""
    reg = reg or registry()
    bits = _bits(reg)
    regimes = regimes_sql(reg)
    when = " ".join(f"WHEN {lit(r)} THEN {b}" for r, b in bits.items())
    return {
        IN_BASE: (f"NOT list_has_any({regimes}, {str_list(list(bits))})", "BOOLEAN"),
        # The regimes are distinct: their bits add up to their union.
        MARKS: (f"coalesce(list_sum(list_transform({regimes}, lambda x: CASE x {when} ELSE 0 END)), 0)",
                "INTEGER"),
    }


def withheld_sql(view: str, reg: Registry | None = None, alias: str = "r") -> str:
    """SQL over a ``records_current`` row (``alias``): does ``view`` withhold the record?
    (FALSE for ``""`` and for a view the registry does not keep.) SQL both engines read."""
    reg = reg or registry()
    withheld = views(reg).get(view)
    if not withheld:
        return "FALSE"
    return under_regimes_sql(reg, withheld, alias)


def view_masks(reg: Registry | None = None) -> dict[str, int]:
    """View key -> the bits of ``features.floor_marks`` it withholds (a view withholds floor
    regimes only; a registry whose view withholds another regime is refused)."""
    reg = reg or registry()
    bits = _bits(reg)
    out = {}
    for view, withheld in views(reg).items():
        if not withheld <= bits.keys():
            raise AccordError(f"view {view} withholds {sorted(withheld - bits.keys())}, which are "
                              f"no floor regimes: the registry is inconsistent")
        out[view] = sum(bits[r] for r in withheld)
    return out


def withheld_by_view(db: DuckDBBackend, records: int, reg: Registry | None = None,
                     features: str = FEATURES) -> dict[str, np.ndarray]:
    """View key -> boolean mask by rid (``records`` long) of the records the view withholds,
    from ``features.floor_marks`` (a view withholds floor regimes only)."""
    masks = view_masks(reg)
    out = {v: np.zeros(records, dtype=bool) for v in masks}
    if not masks:
        return out
    t = db.arrow(f"SELECT rid, {MARKS} AS marks FROM {features} WHERE {MARKS} <> 0")
    rid, marks = t.column("rid").to_numpy(), t.column("marks").to_numpy()
    for view, mask in masks.items():
        out[view][rid] = (marks & mask) != 0
    return out
