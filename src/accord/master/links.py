"""A person's memberships and the scored links touching them, read once per person.

The person view (links between its visible records) and the status (each record's strongest
link in the latest run) both need the links around one person; this reads the memberships and
every link touching them in two small queries and keeps them until the store's data changes
(``Store.reuse``), instead of each reader scanning the links its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.resolve.views import links_sql, view_memberships
from accord.store import Store

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


def latest_run(store: Store) -> int | None:
    """The latest resolution run (None before the first)."""
    run = store.reuse(("latest_run",), lambda: store.scalar("SELECT max(run_id) FROM resolution_runs"))
    return None if run is None else int(run)


def _read(store: Store, persons: list[str], view: str) -> PersonLinks:
    members: dict[str, list[Key]] = {}
    for key, entity in sorted(view_memberships(store, view, persons).items(), key=lambda kv: (kv[1], kv[0])):
        members.setdefault(entity, []).append(key)
    keys = [k for ks in members.values() for k in ks]
    links: list[Link] = []
    if keys:
        sources, ids = [s for s, _ in keys], [r for _, r in keys]
        rows = store.query(f"""
                SELECT run_id, source_l, record_id_l, source_r, record_id_r, match_weight, match_probability,
                       status
                FROM ({links_sql(view)})
                WHERE (source_l, record_id_l) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))
                   OR (source_r, record_id_r) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))
                ORDER BY run_id, source_l, record_id_l, source_r, record_id_r""",
                           [sources, ids, sources, ids])
        for run, sl, rl, sr, rr, weight, probability, status in rows:
            links.append(Link(int(run), (sl, rl), (sr, rr), float(weight), float(probability), status))
    return PersonLinks({p: tuple(ks) for p, ks in members.items()}, tuple(links))
