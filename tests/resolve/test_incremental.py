"""Incremental resolution: records streamed in random order end with the batch's persons;
two writers of one person end with one entity; a kill -9 mid-update loses and doubles nothing;
corrections and re-ingests go through the same path; ids stay stable with events."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from accord.ingest import ingest_file
from accord.ingest.rows import RowsError, ingest_rows
from accord.resolve import incremental
from accord.resolve import queue as rq
from accord.resolve.pipeline import resolve
from accord.store import Store
from accord.synth import generate
from worlds import governed_store

Key = tuple[str, str]
ENGINEER = "dana"   # the sample data engineer


def partition(store: Store) -> dict[Key, str]:
    return {(s, r): e for s, r, e in
            store.query("SELECT source, record_id, entity_id FROM entity_members")}


def view_partitions(store: Store) -> dict[str, dict[Key, str]]:
    """Each view's partition of the records it does not withhold (the full one under "")."""
    from accord.governance.registry import registry
    from accord.governance.visibility import views
    from accord.resolve.base import withheld_sql
    from accord.resolve.views import members_sql

    out: dict[str, dict[Key, str]] = {}
    for view in ["", *views(registry())]:
        withheld = {(s, r) for s, r in store.query(
            f"SELECT source, record_id FROM records_current r WHERE {withheld_sql(view)}")}
        out[view] = {(s, r): e for s, r, e in store.query(members_sql(view))
                     if (s, r) not in withheld}
    return out


def pairs(part: dict[Key, str]) -> set[tuple[Key, Key]]:
    by: dict[str, list[Key]] = defaultdict(list)
    for k, e in part.items():
        by[e].append(k)
    return {p for m in by.values() for p in itertools.combinations(sorted(m), 2)}


def pair_f1(a: dict[Key, str], b: dict[Key, str]) -> float:
    pa, pb = pairs(a), pairs(b)
    if not pa and not pb:
        return 1.0
    tp = len(pa & pb)
    return 2 * tp / (len(pa) + len(pb))


def rows_of(ex: Any) -> list[dict[str, Any]]:
    """The extract's rows as its mapping reads them (any format, delimiter or encoding)."""
    from accord.sources.mapping import load_mapping_file
    from accord.sources.readers import open_extract

    mf = load_mapping_file(ex.mapping_path)
    columns = mf.spec.columns_used()
    out: list[dict[str, Any]] = []
    for batch in open_extract(mf, ex.data_path).batches:
        out += [{c: r.get(c) for c in columns} for r in batch.to_pylist()]
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Path]:
    """A world of 700 persons: the batch's persons over all of it (store ``full``), and the
    model that batch trained (``model.json``)."""
    root = tmp_path_factory.mktemp("inc")
    w = generate(700, 23, root / "world")
    full = root / "full.duckdb"
    with Store(full) as store:
        for ex in w.extracts:
            ingest_file(store, ex.mapping_path)
        resolve(store, model_path=root / "model.json")
    return full, w, root / "model.json"


def seeded(root: Path, w: Any, model: Path, name: str, first: int = 1,
           governed: bool = False) -> Path:
    """A store holding the world's first ``first`` extracts, resolved in a batch with the
    full world's model (``governed``: with the sample users and agreements)."""
    db = governed_store(root, name) if governed else root / name
    with Store(db) as store:
        for ex in w.extracts[:first]:
            ingest_file(store, ex.mapping_path)
        resolve(store, model_in=model)
    return db


def test_streamed_records_end_with_the_batch_persons(world: tuple[Path, Any, Path],
                                                     tmp_path: Path) -> None:
    full, w, model = world
    db = seeded(tmp_path, w, model, "stream.duckdb")
    rows = [(ex, r) for ex in w.extracts[1:] for r in rows_of(ex)]
    random.Random(5).shuffle(rows)
    with Store(db) as store:
        pending: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        updates = 0

        def flush(ex: Any) -> None:
            nonlocal updates
            ingest_file(store, ex.mapping_path, chunk(tmp_path, ex, pending.pop(ex), updates))
            summary = incremental.update(store, limit=None)
            updates += 1
            assert summary.records > 0 and summary.waiting == 0

        for ex, row in rows:
            pending[ex].append(row)
            if len(pending[ex]) >= 400:
                flush(ex)
        for ex in list(pending):
            flush(ex)
        streamed = partition(store)
        streamed_views = view_partitions(store)
        assert not rq.waiting(store)
        current = store.scalar("SELECT count(*) FROM records_current")
        events = dict(store.query("SELECT event, count(*) FROM entity_events WHERE run_id > "
                                  "(SELECT max(run_id) FROM resolution_runs) GROUP BY event"))
    assert updates >= 5
    assert len(streamed) == current                       # every record has its person
    with Store(full) as store:
        batch = partition(store)
        batch_views = view_partitions(store)
    assert set(streamed) == set(batch)
    f1 = pair_f1(streamed, batch)
    assert f1 >= 0.999, f1
    # Each purpose's partition (its withheld records left out): the same as the batch's.
    assert streamed_views.keys() == batch_views.keys() and len(batch_views) > 1
    for view, part in batch_views.items():
        assert pair_f1(streamed_views[view], part) >= 0.999, view
    assert events.get("created", 0) > 0 and events.get("added", 0) > 0, events


def chunk(folder: Path, ex: Any, rows: list[dict[str, Any]], n: int) -> Path:
    """These rows of the extract as a file of its own format."""
    from accord.ingest.rows import write_rows
    from accord.sources.mapping import load_mapping

    spec = load_mapping(ex.mapping_path)
    path = folder / f"chunk-{n}-{ex.data_path.name}"
    write_rows(path, spec, spec.columns_used(), rows)
    return path


def store_source(mapping: Path) -> str:
    from accord.sources.mapping import load_mapping

    return load_mapping(mapping).source


def test_an_update_keeps_ids_and_says_what_changed(world: tuple[Path, Any, Path],
                                                   tmp_path: Path) -> None:
    _, w, model = world
    db = seeded(tmp_path, w, model, "ids.duckdb", first=len(w.extracts) - 1)
    last = w.extracts[-1]
    with Store(db) as store:
        before = partition(store)
        result = ingest_file(store, last.mapping_path)
        assert rq.waiting(store) == {"new_version": result.accepted}
        summary = incremental.update(store, limit=None)
        after = partition(store)
        versions = dict(store.query("SELECT entity_id, max(run_id) FROM entity_members GROUP BY 1"))
    assert summary.records == result.accepted
    # Every old record keeps its person unless a merge put it with another.
    moved = {k for k in before if before[k] != after[k]}
    merged = {p.person_id for p in summary.persons if p.change == "merge"}
    assert all(after[k] in merged for k in moved)
    changed = {p.person_id for p in summary.persons if p.change != "retired"}
    assert changed, "the new extract changed no person"
    for p in summary.persons:
        if p.change != "retired":
            assert versions[p.person_id] == summary.run_id          # its new version
    untouched = set(before.values()) - changed - {p.person_id for p in summary.persons}
    assert untouched and all(versions[e] < summary.run_id for e in untouched)
    # A second update has nothing to do; running the queue again changes nothing.
    with Store(db) as store:
        again = incremental.update(store)
        assert again.run_id is None and partition(store) == after


def test_a_correction_is_resolved_through_the_same_path(world: tuple[Path, Any, Path],
                                                        tmp_path: Path) -> None:
    _, w, model = world
    db = seeded(tmp_path, w, model, "fix.duckdb", first=len(w.extracts))
    ex = w.extracts[0]
    row = rows_of(ex)[0]
    source = store_source(ex.mapping_path)
    with Store(db) as store:
        rid = store.scalar("SELECT record_id FROM records_current WHERE source = ? LIMIT 1", [source])
        # The same record id again with a changed given name: a new version, queued.
        from accord.sources.mapping import load_mapping

        spec = load_mapping(ex.mapping_path)
        id_col = spec.record_id_columns[0]
        mine = next(r for r in rows_of(ex) if r[id_col] == rid) if rid else row
        given_col = spec.fields["given_name"].column
        changed = {**mine, given_col: "Zebulonia"}
        result = ingest_rows(store, source, [changed], user="test")
        assert result.new_versions == 1
        summary = incremental.update(store)
        assert summary.records == 1
        feature = store.scalar("SELECT given_std FROM features WHERE source = ? AND record_id = ?",
                               [source, mine[id_col]])
        assert feature == "ZEBULONIA"
        assert store.scalar("SELECT count(*) FROM entity_members WHERE source = ? AND record_id = ?",
                            [source, mine[id_col]]) == 1


def test_rows_that_do_not_fit_the_mapping_load_nothing(world: tuple[Path, Any, Path],
                                                       tmp_path: Path) -> None:
    _, w, model = world
    db = seeded(tmp_path, w, model, "bad.duckdb")
    source = store_source(w.extracts[0].mapping_path)
    with Store(db) as store:
        batches = store.scalar("SELECT count(*) FROM ingest_batches")
        with pytest.raises(RowsError, match="not in the mapping"):
            ingest_rows(store, source, [{"no_such_column": "x"}], user="test")
        with pytest.raises(RowsError, match="no source"):
            ingest_rows(store, "nope", [{"a": "b"}], user="test")
        assert store.scalar("SELECT count(*) FROM ingest_batches") == batches
        assert not rq.waiting(store)


def test_two_writers_of_one_person_end_with_one_entity(world: tuple[Path, Any, Path],
                                                       tmp_path: Path) -> None:
    """Two threads each add one record of the same new person (two benefit receipts) at the
    same moment through the service the API calls; the writer lock orders them and the second
    finds the first's person."""
    _, w, model = world
    db = seeded(tmp_path, w, model, "two.duckdb", first=len(w.extracts), governed=True)
    ex = next(e for e in w.extracts if load(e.mapping_path).source == "uscis")
    spec = load(ex.mapping_path)
    base = rows_of(ex)[0]

    def row(receipt: str) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(base)
        out[spec.record_id_columns[0]] = receipt
        for field, value in (("given_name", "Quintavius"), ("family_name", "Oyelaran-Smythe"),
                             ("dob", _date_as(spec, "1971-03-14")), ("ssn", "219099999"),
                             ("a_number", "A098765432")):
            if field in spec.fields:
                out[spec.fields[field].column] = value
        return out

    rows = {"first": row("NEW0000000001"), "second": row("NEW0000000002")}
    from accord import services

    errors: list[BaseException] = []
    results: list[Any] = []
    start = threading.Barrier(2)

    def add(source: str) -> None:
        try:
            start.wait()
            results.append(services.add_records(db, spec.source, [rows[source]], user=ENGINEER))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(s,)) for s in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(r.accepted for r in results) == [1, 1]
    with Store(db) as store:
        batches = [r.batch for r in results]
        ids = store.query("SELECT DISTINCT m.entity_id FROM entity_members m JOIN records_current c "
                          "USING (source, record_id) WHERE c.batch_id IN (?, ?)", batches)
        members = store.scalar("SELECT count(*) FROM entity_members m JOIN records_current c "
                               "USING (source, record_id) WHERE c.batch_id IN (?, ?)", batches)
    assert members == 2 and len(ids) == 1, ids


def load(mapping: Path) -> Any:
    from accord.sources.mapping import load_mapping

    return load_mapping(mapping)


def load_by_source(w: Any, source: str) -> Any:
    return next(load(ex.mapping_path) for ex in w.extracts if load(ex.mapping_path).source == source)


def _date_as(spec: Any, iso: str) -> str:
    from datetime import date

    fmt = spec.fields["dob"].formats
    return date.fromisoformat(iso).strftime(fmt[0]) if fmt else iso


def _accord() -> str:
    script = Path(sys.executable).with_name("accord")
    found = str(script) if script.exists() else shutil.which("accord")
    assert found, "the accord console script is not installed"
    return found


@pytest.mark.parametrize("point", ["resolve.update.before_commit", "resolve.update.after_commit"])
def test_a_kill_mid_update_loses_and_doubles_nothing(world: tuple[Path, Any, Path],
                                                     tmp_path: Path, point: str) -> None:
    full, w, model = world
    db = seeded(tmp_path, w, model, "kill.duckdb", first=len(w.extracts) - 1)
    with Store(db) as store:
        result = ingest_file(store, w.extracts[-1].mapping_path)
        members_before = store.scalar("SELECT count(*) FROM entity_members")
    pause = tmp_path / "paused"
    env = {**os.environ, "ACCORD_PAUSE_AT": point, "ACCORD_PAUSE_FILE": str(pause)}
    # Not a governed CLI call: the update itself, in a process of its own.
    code = ("import sys; from accord.store import Store; from accord.resolve import incremental; "
            "s = Store(sys.argv[1]); incremental.update(s, limit=None)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180  # a bound on waiting, not a timing assertion
        while not pause.exists():
            if proc.poll() is not None:
                _out, err = proc.communicate()
                pytest.fail(f"the update ended (exit {proc.returncode}) before pausing: {err!r}")
            assert time.monotonic() < deadline, f"the update never reached {point}"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    with Store(db) as store:
        waiting = sum(rq.waiting(store).values())
        members = store.scalar("SELECT count(*) FROM entity_members")
        doubled = store.scalar("SELECT count(*) FROM (SELECT source, record_id FROM entity_members "
                               "GROUP BY 1, 2 HAVING count(*) > 1)")
        assert doubled == 0
        if point.endswith("before_commit"):
            assert waiting == result.accepted and members == members_before
        else:
            assert waiting == 0 and members == store.scalar("SELECT count(*) FROM records_current")
        incremental.drain(store)
        assert not rq.waiting(store)
        after = partition(store)
        assert len(after) == store.scalar("SELECT count(*) FROM records_current")
    with Store(full) as store:
        assert pair_f1(after, partition(store)) >= 0.999


def test_blocks_over_the_limit_are_skipped_as_the_batch_skips_them(
        world: tuple[Path, Any, Path], tmp_path: Path) -> None:
    """With a block limit small enough that many blocks outgrow it as records arrive, the
    update skips the blocks the batch skips: the same persons."""
    from accord.resolve.settings import default_settings

    _, w, model = world
    base = default_settings()
    settings = base.model_copy(update={"blocking": base.blocking.model_copy(
        update={"max_block_size": 4})})
    db, whole = tmp_path / "small.duckdb", tmp_path / "whole.duckdb"
    with Store(db) as store:
        for ex in w.extracts[:-2]:
            ingest_file(store, ex.mapping_path)
        resolve(store, settings, model_in=model)
        for ex in w.extracts[-2:]:
            ingest_file(store, ex.mapping_path)
        incremental.drain(store)
        while rq.waiting(store):            # records queued again for re-evaluation
            incremental.drain(store)
        streamed = partition(store)
    with Store(whole) as store:
        for ex in w.extracts:
            ingest_file(store, ex.mapping_path)
        report = resolve(store, settings, model_in=model)
        batch = partition(store)
    assert report.blocking_messages, "no block outgrew the limit: the test would prove nothing"
    assert pair_f1(streamed, batch) >= 0.999


def test_a_dispute_correction_finds_its_person_at_once(world: tuple[Path, Any, Path],
                                                       tmp_path: Path) -> None:
    """A privacy officer corrects a disputed given name: the new version is standardised and
    resolved through the incremental path in the same call, not left for the next run."""
    from accord import services
    from worlds import TODAY

    _, w, model = world
    db = seeded(tmp_path, w, model, "dispute.duckdb", first=len(w.extracts), governed=True)
    with Store(db) as store:
        source, rid, pid = store.query(
            "SELECT m.source, m.record_id, m.entity_id FROM entity_members m "
            "JOIN records_current r USING (source, record_id) WHERE r.given_name IS NOT NULL "
            "AND m.source = 'ssa' ORDER BY 1, 2 LIMIT 1")[0]
    filed = services.file_dispute(db, pid, user="pat", source=source, record_id=rid,
                                  field="given_name", claimed_value="Zebulonia",
                                  statement="my name is spelled otherwise", today=TODAY)
    services.handle_dispute(db, filed.dispute_id, user="priya", action="correct", today=TODAY)
    with Store(db) as store:
        assert not rq.waiting(store)
        assert store.scalar("SELECT given_std FROM features WHERE source = ? AND record_id = ?",
                            [source, rid]) == "ZEBULONIA"
        assert store.scalar("SELECT count(*) FROM entity_members WHERE source = ? AND "
                            "record_id = ?", [source, rid]) == 1
        assert store.scalar("SELECT count(*) FROM resolution_updates") == 1
