"""Why a person's records are linked, as the purpose may see it.

For one person: each link between two of its visible records with the per-comparison
contributions to its match weight (the waterfall's data), and, for two named records, the
path of links that joins them. Comparisons on fields the purpose may not see on either record
are not named: their weights are summed into one "withheld" contribution, so the total stays
true without telling what was compared. A path never steps through a record the purpose
cannot see; when the only path does, the answer says so and names nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accord.errors import AccordError
from accord.governance.registry import Registry
from accord.governance.scope import Scope, person_records, require_issued
from accord.master.view import NOT_FOUND
from accord.resolve.entities import links_among
from accord.resolve.explain import RecordKey, explain_pair
from accord.store import Store

# The canonical fields each comparison reads; a comparison is shown only when the purpose
# may see at least one of its fields on both records.
COMPARED_FIELDS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_name", "given_names", "full_name"),
    "family_name": ("family_name", "full_name"),
    "name_order": ("given_name", "given_names", "family_name", "full_name"),
    "dob": ("dob",),
    "ssn": ("ssn", "ssn_last4"),
    "a_number": ("a_number",),
    "passport": ("passport_number",),
    "itin": ("itin", "tin"),
    "address": ("street", "city", "state", "zip", "full_address", "street_number", "postcode", "region"),
    "sex": ("sex",),
    "other_id": ("other_id",),
}
WITHHELD = "withheld"
MAX_LINKS = 50


@dataclass(frozen=True)
class Step:
    comparison: str
    level: str
    log2_bayes_factor: float


@dataclass(frozen=True)
class LinkExplanation:
    a: RecordKey
    b: RecordKey
    status: str
    match_weight: float
    match_probability: float
    prior_weight: float
    contributions: list[Step]


@dataclass
class Explanation:
    person_id: str
    found: bool = True
    message: str | None = None
    links: list[LinkExplanation] = field(default_factory=list)
    more_links: int = 0
    path: list[LinkExplanation] | None = None
    path_note: str | None = None
    _records: list[RecordKey] = field(default_factory=list, repr=False)

    def touched(self) -> tuple[list[str], list[RecordKey]]:
        return ([self.person_id], list(self._records)) if self.found else ([], [])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("_records")
        return d


def parse_record(text: str) -> RecordKey:
    source, sep, record_id = text.partition(":")
    if not sep or not source or not record_id:
        raise AccordError(f"record {text!r}: give it as SOURCE:RECORD_ID")
    return source, record_id


def explain_person(store: Store, registry: Registry, scope: Scope, person_id: str,
                   a: RecordKey | None = None, b: RecordKey | None = None,
                   limit: int = 20) -> Explanation:
    """The links holding ``person_id`` together (strongest first, at most ``limit``) and,
    when ``a`` and ``b`` are given, the strongest path of links between them."""
    require_issued(scope)
    if not 1 <= limit <= MAX_LINKS:
        raise AccordError(f"limit must be from 1 to {MAX_LINKS} (got {limit})")
    rows = [(r["source"], r["record_id"], r["system"])
            for r in person_records(store, registry, scope, [person_id])]
    if not rows:
        return Explanation(person_id, found=False, message=NOT_FOUND)
    system_of: dict[RecordKey, str] = {(s, r): sy for s, r, sy in rows}
    for key in (a, b):
        if key is not None and key not in system_of:
            raise AccordError(f"record {key[0]}:{key[1]} is not among this person's records "
                              "visible to the purpose")
    links = links_among(store, list(system_of), scope.view)
    out = Explanation(person_id, _records=sorted(system_of))
    out.more_links = max(0, len(links) - limit)
    for sl, il, sr, ir, status, _w, _p in links[:limit]:
        out.links.append(_explain_link(store, scope, system_of, (sl, il), (sr, ir), status))
    if a is not None and b is not None:
        out.path, out.path_note = _path(store, scope, system_of, links, a, b)
    return out


def _explain_link(store: Store, scope: Scope, system_of: dict[RecordKey, str], a: RecordKey, b: RecordKey,
                  status: str) -> LinkExplanation:
    pair = explain_pair(store, a, b)
    seen_a, seen_b = scope.fields_for(system_of[a]), scope.fields_for(system_of[b])
    shown: list[Step] = []
    hidden = 0.0
    hidden_any = False
    for c in pair.contributions:
        fields = COMPARED_FIELDS.get(c.comparison, ())
        if any(f in seen_a and f in seen_b for f in fields):
            shown.append(Step(c.comparison, c.level, round(c.log2_bayes_factor, 4)))
        else:
            hidden += c.log2_bayes_factor
            hidden_any = True
    if hidden_any:
        shown.append(Step(WITHHELD, "comparisons on fields this purpose may not see", round(hidden, 4)))
    return LinkExplanation(a, b, status, round(pair.match_weight, 4), round(pair.match_probability, 6),
                           round(pair.prior_weight, 4), shown)


def _path(store: Store, scope: Scope, system_of: dict[RecordKey, str], links: list[tuple[Any, ...]],
          a: RecordKey, b: RecordKey) -> tuple[list[LinkExplanation], str | None]:
    """The maximum-bottleneck path over linked pairs of visible records."""
    if a == b:
        return [], "the same record"
    graph: dict[RecordKey, list[tuple[RecordKey, float]]] = {}
    for sl, il, sr, ir, status, w, _p in links:
        if status != "linked":
            continue
        graph.setdefault((sl, il), []).append(((sr, ir), float(w)))
        graph.setdefault((sr, ir), []).append(((sl, il), float(w)))
    best: dict[RecordKey, float] = {a: float("inf")}
    prev: dict[RecordKey, RecordKey] = {}
    frontier = [a]
    while frontier:   # widest-path relaxation; entities are small
        node = max(frontier, key=lambda n: best[n])
        frontier.remove(node)
        for nxt, w in graph.get(node, []):
            cap = min(best[node], w)
            if cap > best.get(nxt, float("-inf")):
                best[nxt], prev[nxt] = cap, node
                if nxt not in frontier:
                    frontier.append(nxt)
    if b not in prev:
        return [], ("the two records are not joined by links between records this purpose may see "
                    "(they are joined through records it is not shown, or by a link held for review)")
    steps: list[LinkExplanation] = []
    node = b
    while node != a:
        p = prev[node]
        steps.append(_explain_link(store, scope, system_of, p, node, "linked"))
        node = p
    return list(reversed(steps)), None
