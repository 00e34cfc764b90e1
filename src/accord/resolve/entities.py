"""What readers ask of resolution's persons: memberships, the links around persons, the latest
run, a person's merge and split history, and the whole partition for evaluation.

Resolution writes ``entity_members`` and ``entity_events`` (``accord.resolve.ids``), ``links``
and ``resolution_runs`` (``accord.resolve.pipeline``) and the per-view partitions
(``accord.resolve.views``, which also builds the SQL of a view's members and links). Modules
outside ``accord.resolve`` read them through the functions here, never with SQL of their own.

The person view (links between its visible records) and the status (each record's strongest
link in the latest run) both need the links around one person; :func:`person_links` reads the
memberships and every link touching them in two small queries and keeps them until the
store's data changes (``Store.reuse``), instead of each reader scanning the links its own way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accord.resolve.views import links_sql, members_sql, view_memberships
from accord.store import Store
from accord.store.dialect import key_params

if TYPE_CHECKING:
    import pyarrow as pa

Key = tuple[str, str]


@dataclass(frozen=True)
class Link:
    run_id: int
    left: Key
    right: Key
    match_weight: float
    match_probability: float
    status: str     # linked | review | rejected_by_guard


@dataclass(frozen=True)
class PersonLinks:
    members: dict[str, tuple[Key, ...]]     # person id -> its records (source, record_id)
    links: tuple[Link, ...]                  # every link with a member on either side, all runs

    def member_keys(self) -> set[Key]:
        return {k for keys in self.members.values() for k in keys}


@dataclass(frozen=True)
class EntityEvent:
    run_id: int
    event_at: datetime
    event: str                  # merge | split | retired
    entity_id: str
    related_ids: list[str]
    reason: str


def members(store: Store, persons: list[str], view: str = "") -> dict[Key, str]:
    """Record -> person id in a partition (``view``: accord.resolve.views; "" the full one),
    for the records of ``persons`` (withheld records included, with their full-run id)."""
    return view_memberships(store, view, persons)


def person_links(store: Store, persons: list[str], view: str = "") -> PersonLinks:
    """The memberships of ``persons`` in a partition (``view``: accord.resolve.views; "" the
    full one) and every link touching one of their records, with the partition's statuses.
    Withheld records are still among them: readers keep only what their scope shows."""
    return store.reuse(("person_links", view, tuple(persons)), lambda: _read(store, persons, view))


def memberships(store: Store, persons: list[str], view: str = "") -> dict[Key, str]:
    """Whose each record of ``persons`` is in a partition. For one person, from
    :func:`person_links` (read once and shared); for many (a work list), the memberships alone."""
    if len(persons) == 1:
        return {key: pid for pid, keys in person_links(store, persons, view).members.items()
                for key in keys}
    return view_memberships(store, view, persons)


def person_of(store: Store, source: str, record_id: str) -> str | None:
    """The person a record is in, in the full partition (None if it is in none)."""
    rows = store.query("SELECT entity_id FROM entity_members WHERE source = ? AND record_id = ? LIMIT 1",
                       [source, record_id])
    return rows[0][0] if rows else None


RECORD_REF = "record:"   # related_ids of a created / added / left event name its records


def record_refs(keys: Iterable[tuple[str, str]]) -> list[str]:
    """The records an incremental event is about, as ``related_ids`` entries
    (``record:<source>/<id>``): the person view shows such an event only to a scope that sees
    every one of them (``accord.master.view``)."""
    return [f"{RECORD_REF}{s}/{r}" for s, r in sorted(keys)]


def persons_of_records(store: Store, keys: Sequence[Key]) -> set[str]:
    """The persons the records ``keys`` are in, in the full partition."""
    return {str(e) for (e,) in store.query(
        f"SELECT DISTINCT entity_id FROM entity_members WHERE {store.dialect.in_keys()}",
        key_params(keys))}


def records_of_persons(store: Store, persons: Sequence[str]) -> set[Key]:
    """The records of ``persons``, in the full partition."""
    return {(s, r) for s, r in store.query(
        f"SELECT source, record_id FROM entity_members WHERE {store.dialect.in_set('entity_id')}",
        [sorted(persons)])}


def rejected_neighbours(store: Store, keys: Sequence[Key]) -> set[str]:
    """The persons, in the full partition, of the records a link of any run that a guard
    rejected joins to one of the records ``keys``."""
    d, params = store.dialect, key_params(keys)
    return {str(e) for (e,) in store.query(f"""
        SELECT m.entity_id FROM links l JOIN entity_members m
          ON m.source = l.source_r AND m.record_id = l.record_id_r
        WHERE l.status = 'rejected_by_guard' AND {d.in_keys('source_l', 'record_id_l')}
        UNION
        SELECT m.entity_id FROM links l JOIN entity_members m
          ON m.source = l.source_l AND m.record_id = l.record_id_l
        WHERE l.status = 'rejected_by_guard' AND {d.in_keys('source_r', 'record_id_r')}""",
        [*params, *params])}


def person_records_sql() -> str:
    """A query of (source, record_id) of one person's records in the full partition, the
    person's id its one parameter: for a reader's ``(source, record_id) IN (...)``."""
    return "SELECT source, record_id FROM entity_members WHERE entity_id = ?"


def latest_run_sql() -> str:
    """A query of the latest resolution run's id (one value; NULL before the first run): for
    a reader's ``run_id = (...)``."""
    return "SELECT max(run_id) FROM resolution_runs"


def latest_run(store: Store) -> int | None:
    """The latest resolution run (None before the first)."""
    run = store.reuse(("latest_run",), lambda: store.scalar(latest_run_sql()))
    return None if run is None else int(run)


def links_among(store: Store, keys: list[Key], view: str = "") -> list[tuple[Any, ...]]:
    """Links of every run with both records among ``keys``, with their statuses in ``view``:
    (source_l, record_id_l, source_r, record_id_r, status, match_weight, match_probability),
    strongest first."""
    joined = [f"{s}\x1f{r}" for s, r in keys]
    in_list = store.dialect.in_list
    return store.query(f"""
        SELECT source_l, record_id_l, source_r, record_id_r, status, match_weight, match_probability
        FROM ({links_sql(view)}) l
        WHERE {in_list("source_l || chr(31) || record_id_l")}
          AND {in_list("source_r || chr(31) || record_id_r")}
        ORDER BY match_weight DESC, source_l, record_id_l, source_r, record_id_r""", [joined, joined])


def history(store: Store, person_id: str) -> list[EntityEvent]:
    """Merges and splits naming ``person_id`` (as the entity or among the related ids), oldest
    first, in the full partition."""
    rows = store.query(f"""
        SELECT run_id, event_at, event, entity_id, related_ids, reason FROM entity_events
        WHERE event IN ('merge', 'split') AND (entity_id = ? OR {store.dialect.array_has('related_ids')})
        ORDER BY event_at, run_id, event, entity_id""", [person_id, person_id])
    return [EntityEvent(int(run), at, event, entity, list(related), reason)
            for run, at, event, entity, related, reason in rows]


def entity_count(store: Store) -> int:
    """Records placed in a person by the latest run (0 before the first run)."""
    return int(store.scalar("SELECT count(*) FROM entity_members"))


def partition(store: Store, view: str = "") -> pa.Table:
    """Every record's person id in a partition: (source, record_id, entity_id), in bulk."""
    return store.read_arrow(f"SELECT source, record_id, entity_id FROM ({members_sql(view)}) m")


def _read(store: Store, persons: list[str], view: str) -> PersonLinks:
    by_person: dict[str, list[Key]] = {}
    for key, entity in sorted(view_memberships(store, view, persons).items(), key=lambda kv: (kv[1], kv[0])):
        by_person.setdefault(entity, []).append(key)
    keys = [k for ks in by_person.values() for k in ks]
    links: list[Link] = []
    if keys:
        sources, ids = [s for s, _ in keys], [r for _, r in keys]
        # The links whose left record is one of the keys, then those whose right record is and
        # whose left is not (the columns are NOT NULL): each link once, as with an OR, but each
        # half can be found through an index of its side (an OR of the two reads every link).
        cols = "run_id, source_l, record_id_l, source_r, record_id_r, match_weight, match_probability, status"
        keys_sql = "(SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))"
        rows = store.query(f"""
                SELECT {cols} FROM ({links_sql(view)}) l
                WHERE (source_l, record_id_l) IN {keys_sql}
                UNION ALL
                SELECT {cols} FROM ({links_sql(view)}) l
                WHERE (source_r, record_id_r) IN {keys_sql} AND (source_l, record_id_l) NOT IN {keys_sql}
                ORDER BY run_id, source_l, record_id_l, source_r, record_id_r""",
                           [sources, ids, sources, ids, sources, ids])
        for run, sl, rl, sr, rr, weight, probability, status in rows:
            links.append(Link(int(run), (sl, rl), (sr, rr), float(weight), float(probability), status))
    return PersonLinks({p: tuple(ks) for p, ks in by_person.items()}, tuple(links))
