"""The person view: every record of one person visible in a scope, with provenance.

``person_view`` reads records only through ``person_records`` (masking, withholding and
sensitivity marks live there) and shows, for one person id:

* the visible records grouped by source, each with its provenance (file, batch, row, when it
  was ingested) and every canonical field (None when empty or outside the scope);
* each attribute with the records holding each of its values, differing values of a
  single-valued field side by side as a conflict (never resolved; see ``compare``);
* the links between visible records of the person, and its merge/split history, naming only
  person ids that have records visible in the scope;
* ``regimes`` (and their ``marks``): the union of the visible records' regimes.

A withheld record leaves no trace: it is not counted, no link or history entry names it, its
regimes are not in the union. A person with no visible record reads exactly like an unknown
id: :class:`PersonNotFound`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from accord.governance.registry import Registry
from accord.governance.scope import Scope, person_records, require_issued
from accord.ingest.reads import batch_files
from accord.master.compare import FOLDED_FIELDS, SINGLE_VALUED, in_conflict, json_value, normalise
from accord.resolve.entities import RECORD_REF, history, person_links
from accord.sources.fields import catalogue
from accord.standardise import names
from accord.store import Store

NOT_FOUND = "not found in this scope"

# The record's own date, first found (for "which record said this, as of when").
RECORD_DATE_FIELDS = ("event_date", "benefit_date", "case_decision_date", "encounter_date", "entry_date",
                      "exit_date", "naturalization_date", "death_date", "tax_year")


@dataclass(frozen=True)
class Provenance:
    source: str
    record_id: str
    version: int
    system: str
    file_name: str | None
    file_sha256: str | None
    ingested_at: str | None
    batch_id: int
    row_number: int


@dataclass(frozen=True)
class RecordView:
    provenance: Provenance
    regimes: list[str]
    date: str | None  # the record's own date (RECORD_DATE_FIELDS), if the scope shows one
    date_field: str | None
    fields: dict[str, Any]  # every canonical field; None when empty or outside the scope
    masked: list[str]  # fields the scope does not show for this record's system


@dataclass(frozen=True)
class SourceGroup:
    source: str
    system: str
    records: list[RecordView]


@dataclass(frozen=True)
class AttributeSource:
    source: str
    record_id: str
    version: int
    value: Any  # as the record holds it
    date: str | None
    date_field: str | None


@dataclass(frozen=True)
class AttributeValue:
    value: Any  # the most common written form
    normalised: str | None  # comparison form; None: a placeholder or nothing left to compare
    sources: list[AttributeSource]


@dataclass(frozen=True)
class Attribute:
    field: str
    kind: str  # identity | fact
    single_valued: bool
    conflict: bool
    values: list[AttributeValue]


@dataclass(frozen=True)
class LinkView:
    source_l: str
    record_id_l: str
    source_r: str
    record_id_r: str
    match_probability: float
    match_weight: float
    status: str  # linked | review | rejected_by_guard


@dataclass(frozen=True)
class HistoryEvent:
    run_id: int
    event_at: str
    event: str  # merge | split
    entity_id: str
    related_ids: list[str]  # only ids with records visible in the scope
    reason: str


@dataclass(frozen=True)
class PersonView:
    person_id: str
    regimes: list[str]
    marks: list[str]
    sources: list[SourceGroup]
    attributes: list[Attribute]
    links: list[LinkView]
    history: list[HistoryEvent]
    found: bool = field(default=True, init=False)

    @property
    def conflicts(self) -> list[Attribute]:
        return [a for a in self.attributes if a.conflict]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.field == name), None)

    def records(self) -> list[RecordView]:
        return [r for g in self.sources for r in g.records]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = as_plain(self)
        out["conflicts"] = [a.field for a in self.conflicts]
        return out

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [self.person_id], [(r.provenance.source, r.provenance.record_id) for r in self.records()]


@dataclass(frozen=True)
class PersonNotFound:
    """No record of this id is visible in the scope (whether or not the id exists)."""

    person_id: str
    message: str = NOT_FOUND
    found: bool = field(default=False, init=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [], []


_IMMUTABLE = (str, int, float, bool, type(None), date, datetime, Decimal)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def as_plain(value: Any) -> Any:
    """``dataclasses.asdict`` for a view, without its cost (a person view holds a thousand
    values, and ``asdict`` deep-copies every one): dataclasses become dicts, lists, tuples and
    dicts are copied through, immutable values are shared, anything else is deep-copied as
    ``asdict`` does. Gives what ``asdict`` gives (tested)."""
    if isinstance(value, _IMMUTABLE):
        return value
    names = _FIELD_NAMES.get(type(value))
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {n: as_plain(getattr(value, n)) for n in names}
    if type(value) is list:
        return [as_plain(v) for v in value]
    if type(value) is tuple:
        return tuple(as_plain(v) for v in value)
    if type(value) is dict:
        return {as_plain(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list | dict) or (isinstance(value, tuple) and not hasattr(value, "_fields")):
        return asdict_like(value)
    return copy.deepcopy(value)


def asdict_like(value: Any) -> Any:
    """A subclass of list, tuple or dict, converted as ``asdict`` converts it."""
    if isinstance(value, dict):
        return type(value)((as_plain(k), as_plain(v)) for k, v in value.items())
    return type(value)(as_plain(v) for v in value)


def person_view(store: Store, registry: Registry, scope: Scope,
                person_id: str) -> PersonView | PersonNotFound:
    """Everything the scope shows about one person; :class:`PersonNotFound` otherwise."""
    require_issued(scope)
    rows = _records(store, registry, scope, person_id)
    if not rows:
        return PersonNotFound(person_id)
    fields = list(catalogue())
    records: list[RecordView] = []
    for row in rows:
        values = {f: json_value(row[f]) for f in fields}
        date_field = next((f for f in RECORD_DATE_FIELDS if values[f] is not None), None)
        prov = Provenance(row["source"], row["record_id"], int(row["version"]), row["system"],
                          row["file_name"], row["file_sha256"], json_value(row["ingested_at"]),
                          int(row["batch_id"]), int(row["row_number"]))
        shown = scope.fields_for(row["system"])
        records.append(RecordView(prov, sorted(row["regimes"]),
                                  None if date_field is None else str(values[date_field]), date_field,
                                  values, [f for f in fields if f not in shown]))
    groups: dict[str, list[RecordView]] = {}
    for rec in records:
        groups.setdefault(rec.provenance.source, []).append(rec)
    regimes = sorted({r for rec in records for r in rec.regimes})
    keys = {(r.provenance.source, r.provenance.record_id) for r in records}
    return PersonView(
        person_id=person_id,
        regimes=regimes,
        marks=sorted({m for r in regimes if r in registry.regimes for m in registry.regimes[r].marks}),
        sources=[SourceGroup(s, g[0].provenance.system, g) for s, g in sorted(groups.items())],
        attributes=_attributes(store, records, rows),
        links=_links(store, scope.view, person_id, keys),
        history=_history(store, registry, scope, person_id),
    )


def _records(store: Store, registry: Registry, scope: Scope, person_id: str) -> list[dict[str, Any]]:
    rows = person_records(store, registry, scope, [person_id])
    if not rows:
        return []
    batches = store.reuse(("ingest_batches",), lambda: batch_files(store))
    folded = {v: names.fold(v) for v in {r[f] for r in rows for f in FOLDED_FIELDS if isinstance(r[f], str)}}
    # Letters outside A-Z left by SQL folding (Cyrillic, Greek) are romanised as features do.
    odd = {f for f in folded.values() if f and re.search("[^A-Z ]", f)}
    latin = names.transliterate(odd) if odd else {}
    for r in rows:
        r["file_name"], r["file_sha256"], r["ingested_at"] = batches.get(r["batch_id"], (None, None, None))
        for f in FOLDED_FIELDS:
            fold = folded.get(r[f]) if isinstance(r[f], str) else None
            r[f"__fold_{f}"] = latin.get(fold, fold) if fold is not None else None
    rows.sort(key=lambda r: (r["source"], r["record_id"]))
    return rows


def _family_tokens(family_names: list[str]) -> dict[str, tuple[str, ...]]:
    """Folded family name -> its tokens without particles (the standardise stage's rules, in
    Python: the few names of one person need no query)."""
    return {f: names.family_tokens(f) for f in family_names}


def _attributes(store: Store, records: list[RecordView], rows: list[dict[str, Any]]) -> list[Attribute]:
    cat = catalogue()
    families = sorted({r["__fold_family_name"] for r in rows if r["__fold_family_name"]})
    family_tokens = _family_tokens(families)
    out: list[Attribute] = []
    for name, spec in cat.items():
        groups: dict[tuple[bool, str], list[AttributeSource]] = {}
        normal: dict[tuple[bool, str], str | None] = {}
        for rec, row in zip(records, rows, strict=True):
            value = rec.fields[name]
            if value is None:
                continue
            norm = normalise(name, row[name], row.get(f"__fold_{name}"))
            key = (norm is not None, norm if norm is not None else str(value))
            normal[key] = norm
            p = rec.provenance
            groups.setdefault(key, []).append(
                AttributeSource(p.source, p.record_id, p.version, value, rec.date, rec.date_field))
        if not groups:
            continue
        values = []
        for key, sources in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            forms: dict[Any, int] = {}
            for s in sources:
                forms[s.value] = forms.get(s.value, 0) + 1
            common = max(forms.items(), key=lambda kv: kv[1])[0]
            values.append(AttributeValue(common, normal[key], sources))
        compared = [v.normalised for v in values if v.normalised is not None]
        out.append(Attribute(name, spec.kind, name in SINGLE_VALUED,
                             in_conflict(name, compared, family_tokens), values))
    return out


def _links(store: Store, view: str, person_id: str, keys: set[tuple[str, str]]) -> list[LinkView]:
    """The links (every run) between two of the person's visible records, strongest first,
    with their statuses in the scope's partition."""
    between = [link for link in person_links(store, [person_id], view).links
               if link.left in keys and link.right in keys]
    between.sort(key=lambda k: (-k.match_probability, *k.left, *k.right))
    return [LinkView(*k.left, *k.right, k.match_probability, k.match_weight, k.status) for k in between]


def _history(store: Store, registry: Registry, scope: Scope, person_id: str) -> list[HistoryEvent]:
    """Merges and splits naming this person; other ids only when they have visible records
    (an id whose records are all withheld or out of scope, or that was retired, is not named,
    and an event left naming nothing else is dropped). Record counts are not shown: they count
    records the scope may not see.

    Under a partition other than the full one (a purpose with withheld records) there is no
    history: the runs' merges and splits are of the full partition, and whether one of them
    involved a withheld record is not for the purpose to learn."""
    if scope.view:
        return []
    rows = history(store, person_id)
    if not rows:
        return []
    named = sorted({i for r in rows for i in [r.entity_id, *r.related_ids]
                    if not i.startswith(RECORD_REF)} - {person_id})
    visible = {person_id} | {r["person_id"] for r in person_records(store, registry, scope, named)}
    mine = {f"{RECORD_REF}{r['source']}/{r['record_id']}"
            for r in person_records(store, registry, scope, [person_id])}
    out = []
    for r in rows:
        refs = [i for i in r.related_ids if i.startswith(RECORD_REF)]
        if refs:
            # Records that arrived, formed or left the person (incremental resolution): shown
            # only when the scope sees every one of them, and naming none.
            if r.entity_id == person_id and set(refs) <= mine:
                out.append(HistoryEvent(r.run_id, str(json_value(r.event_at)), r.event,
                                        r.entity_id, [], r.reason))
            continue
        shown = [i for i in r.related_ids if i in visible]
        if r.entity_id not in visible or not shown:
            continue
        out.append(HistoryEvent(r.run_id, str(json_value(r.event_at)), r.event, r.entity_id, shown, r.reason))
    return out
