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


class ArrivalOut(Result):
    """The demo's arriving record: a new benefit application of a person on the work list,
    added through the service ``POST /api/records`` runs, and that person's view after it."""
    source: str
    record_id: str
    person_id: str
    added: RecordsAddedOut
    change: str | None          # what the update says happened to the person
    records_before: int         # the person's records in the caseworker's view, before and after
    records_after: int
    history: list[str]          # the person view's history after it (event: reason), where the
    #                             purpose's view shows history (one withholding nothing)


def demo_arrival(db: StoreTarget, world: Any, shown: Any, *, agreement: str) -> ArrivalOut | None:
    """A record of a person the demo's work list shows arrives from the benefits system: the
    synthetic world's ground truth says who the person is (never a governed read's values),
    the data engineer sends the row, and the caseworker's view of the person (under
    ``agreement``, the work list's) shows the event. None when the world holds no such
    person's identity or the source is absent."""
    import csv

    from accord.services.people import person
    from accord.sources.mapping import load_mapping

    if shown is None or shown.found_person is None:
        return None
    found = shown.found_person
    keys = {(g.source, r.provenance.record_id) for g in found.sources for r in g.records}
    with world.truth_path.open(encoding="utf-8", newline="") as f:
        truth = next((r["person_id"] for r in csv.DictReader(f)
                      if (r["source"], r["record_id"]) in keys), None)
    with world.persons_path.open(encoding="utf-8", newline="") as f:
        who = next((r for r in csv.DictReader(f) if r["person_id"] == truth), None)
    ex = next((e for e in world.extracts if e.source == "uscis"), None)
    if who is None or ex is None or not (who.get("ssn") or who.get("a_number")):
        return None
    spec = load_mapping(ex.mapping_path)
    row: dict[str, Any] = dict.fromkeys(spec.columns_used())
    for i, column in enumerate(spec.record_id_columns):
        row[column] = "DEMO0000001" if i == 0 else "1"
    from datetime import date

    values = {"given_name": who["given_name"], "family_name": who["family_name"],
              "ssn": who.get("ssn") or None, "a_number": who.get("a_number") or None}
    dob = spec.fields.get("dob")
    if dob is not None:
        formats = dob.formats
        values["dob"] = (date.fromisoformat(who["dob"]).strftime(formats[0]) if formats
                         else who["dob"])
    for field, value in values.items():
        spec_field = spec.fields.get(field)
        if spec_field is not None and not spec_field.values:
            row[spec_field.column] = value
    added = add_records(db, spec.source, [row], user="dana", origin="demo")
    change = next((p.change for p in added.resolution.persons if p.person_id == found.person_id),
                  None)
    view = person(db, found.person_id, user="casey", purpose="removal_order_enforcement",
                  agreement=agreement, justification="demo: the person after a record arrived")
    after = view.found_person
    history = [f"{h.event} (run {h.run_id}): {h.reason}" for h in (after.history if after else [])]
    def count(p: Any) -> int:
        return sum(len(g.records) for g in p.sources) if p is not None else 0

    return ArrivalOut(source=spec.source, record_id=str(row[spec.record_id_columns[0]]),
                      person_id=found.person_id, added=added, change=change,
                      records_before=count(found), records_after=count(after), history=history)
