"""Records as they arrive: rows given to the API, and the resolution queue drained.

``add_records`` ingests rows of one source (as an extract of it would be) and resolves them at
once through the incremental path (``accord.resolve.incremental``), as one governed ``ingest``
action; ``resolve_queued`` drains the queue (``accord resolve --redo``, and ``accord ingest
--resolve`` on a store already resolved once) as a governed ``resolve`` action. Both return
the persons that changed, with their new versions, so an open view or a copy downstream can
refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accord.services.context import governed
from accord.services.results import Result
from accord.store.target import StoreTarget

Progress = Callable[[int, int], None]


class PersonChangeOut(Result):
    person_id: str
    version: int      # the run id of the update that last changed the person
    change: str       # created | added | left | merge | split | retired


class UpdateOut(Result):
    """What incremental resolution did (one update, or several summed)."""
    run_ids: list[int]
    base_run: int | None
    records: int
    neighbourhood: int
    pairs: int
    persons: list[PersonChangeOut]
    deferred: int
    waiting: int
    seconds: float


class RecordsAddedOut(Result):
    batch: int
    source: str
    rows_read: int
    accepted: int
    new_records: int
    new_versions: int
    unchanged: int
    quarantined: int
    flagged: int
    resolution: UpdateOut


def _summed(updates: Sequence[Any], base_run: int | None, waiting: int) -> UpdateOut:
    persons: dict[str, PersonChangeOut] = {}
    for u in updates:
        for p in u.persons:
            persons[f"{p.person_id}\x1f{p.change}"] = PersonChangeOut(
                person_id=p.person_id, version=p.version, change=p.change)
    return UpdateOut(run_ids=[u.run_id for u in updates if u.run_id is not None],
                     base_run=base_run, records=sum(u.records for u in updates),
                     neighbourhood=sum(u.neighbourhood for u in updates),
                     pairs=sum(u.pairs for u in updates),
                     persons=sorted(persons.values(), key=lambda p: (p.person_id, p.change)),
                     deferred=sum(u.deferred for u in updates), waiting=waiting,
                     seconds=round(sum(u.seconds for u in updates), 3))


def add_records(db: StoreTarget, source: str, rows: Sequence[Mapping[str, Any]], *, user: str,
                origin: str = "api") -> RecordsAddedOut:
    """Ingest ``rows`` of ``source`` through its stored mapping and resolve them now."""
    from accord.ingest.rows import ingest_rows
    from accord.resolve import incremental
    from accord.resolve.queue import batch_keys

    with governed(db, origin=origin) as gate, incremental.one_writer(gate.store), gate.act(
            user, "ingest", details={"source": source, "rows": len(rows), "via": "records"}) as act:
        store = gate.store
        with store.transaction():
            result = ingest_rows(store, source, rows, user=user)
            mine = batch_keys(store, result.batch)
        update = incremental.update(store, user=user, keys=mine, limit=None)
        out = _summed([update] if update.run_id is not None else [], update.base_run,
                      update.waiting)
        act.outcome = (f"batch {result.batch}: {result.rows_read} rows, {result.accepted} accepted, "
                       f"{result.quarantined} quarantined; {len(out.persons)} person change(s)")
        act.details.update(batch=result.batch, run=update.run_id,
                           persons=[p.person_id for p in out.persons][:100])
        return RecordsAddedOut(batch=result.batch, source=result.source, rows_read=result.rows_read,
                               accepted=result.accepted, new_records=result.new_records,
                               new_versions=result.new_versions, unchanged=result.unchanged,
                               quarantined=result.quarantined, flagged=result.flagged,
                               resolution=out)


def resolve_queued(db: StoreTarget, *, user: str, batch: int | None = None,
                   progress: Progress | None = None, origin: str = "cli") -> UpdateOut:
    """Resolve every queued record version through the incremental path, ``batch`` records
    per transaction."""
    from accord.resolve import incremental
    from accord.resolve.queue import waiting as waiting_by_reason

    with governed(db, origin=origin) as gate, gate.act(user, "resolve",
                                                       details={"incremental": True}) as act:
        updates = incremental.drain(gate.store, user=user, batch=batch or incremental.BATCH,
                                    step=progress)
        base = incremental.base_model(gate.store)[0]
        waiting = sum(waiting_by_reason(gate.store).values())
        out = _summed(updates, base, waiting)
        act.outcome = (f"{out.records} queued record(s) resolved in {len(out.run_ids)} update(s); "
                       f"{len(out.persons)} person change(s); {out.deferred} deferred")
        act.details.update(runs=out.run_ids[:100], persons=len(out.persons))
        return out


def resolved_once(db: StoreTarget, *, user: str, origin: str = "cli") -> bool:
    """Whether the store has a batch run (so queued records can resolve incrementally)."""
    with governed(db, origin=origin) as gate, gate.act(user, "sources.read"):
        from accord.resolve.entities import latest_run

        return latest_run(gate.store) is not None
