"""What a purpose may see: the one rule the gate, resolution's per-purpose partitions and the
indistinguishability tests all use.

A record is **withheld** from a purpose when it falls under a regime whose statutory floor
refuses that purpose (asylum and VAWA/T/U information for enforcement, tax return
information outside tax administration, Medicaid outside the plan, voter rolls for
enforcement) or when its system is not registered. A withheld record is as good as absent
for that purpose: every answer the purpose receives is the answer the store would give with
the record removed before resolution (docs/governance.md, "Indistinguishability").

A record is **shown** to a purpose when it is not withheld and its system has a routine use
for the purpose (the fields shown are the routine use's and the agreement's). A record that
is neither withheld nor shown (a system without a routine use for the purpose) is not
disclosed, but it is no secret that such systems exist: it still takes part in linkage, as
it would in a store without the withheld records.

Resolution's statistics (term frequencies, the model's training sample, block sizes) are
computed only over records under **no** floor regime, so that no withheld record changes the
weight of a link between records a purpose may see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from accord.governance.registry import Registry

UNREGISTERED = "unregistered"


def withheld_regimes(registry: Registry, purpose: str) -> frozenset[str]:
    """The regimes whose records are withheld from ``purpose``: its floors refuse them, or
    open them only to a per-person request (tax return information outside tax
    administration), which has its own scope and never joins records into persons."""
    request_only = {name for name, r in registry.regimes.items() if purpose in r.floors.request_only}
    return frozenset(registry.withheld_regimes(purpose)) | request_only | {UNREGISTERED}


def floor_regimes(registry: Registry) -> frozenset[str]:
    """Regimes withheld from at least one purpose: records under any of them stay out of
    resolution's statistics."""
    out: set[str] = set()
    for purpose in registry.purposes:
        out |= withheld_regimes(registry, purpose)
    return frozenset(out)


def is_withheld(regimes: Iterable[str], withheld: frozenset[str]) -> bool:
    return any(r in withheld for r in regimes)


def view_key(withheld: frozenset[str]) -> str:
    """The name of the partition of records a purpose with these withheld regimes sees: one
    per distinct withheld set (``""`` when nothing but unregistered systems is withheld)."""
    named = sorted(withheld - {UNREGISTERED})
    if not named:
        return ""
    return "v" + hashlib.sha256(",".join(named).encode()).hexdigest()[:12]


def purpose_view(registry: Registry, purpose: str) -> str:
    return view_key(withheld_regimes(registry, purpose))


def views(registry: Registry) -> dict[str, frozenset[str]]:
    """Every partition resolution keeps besides the full one: view key -> withheld regimes,
    one per distinct withheld set of the purposes that read person data."""
    out: dict[str, frozenset[str]] = {}
    for name, purpose in registry.purposes.items():
        if not purpose.person_data:
            continue
        withheld = withheld_regimes(registry, name)
        key = view_key(withheld)
        if key:
            out[key] = withheld
    return dict(sorted(out.items()))
