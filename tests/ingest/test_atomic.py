"""Atomic ingest: a kill or an error mid-ingest leaves the store exactly as it was; a governed
ingest stores its batch and its audit event together or not at all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from accord.errors import SourceFileError
from accord.governance import audit
from accord.governance.users import add_user
from accord.ingest import IngestResult, ingest_file, pipeline
from accord.store import Store
from conftest import WriteExtract

TABLES = ("accord_meta", "sources", "ingest_batches", "records", "quarantine")
AUDIT_TABLES = ("audit_events", "audit_head")
# A registered system (ingest refuses any other); one of three rows fails on purpose, so the
# failure-rate rule is relaxed for these files (its own tests: test_failure_rate.py).
MAPPING = {"source": "shelter", "system": "ssa-numident", "format": "csv", "record_id": "Case",
           "fields": {"full_name": {"column": "Name", "layout": "given family"},
                      "dob": {"column": "Born", "format": "%d/%m/%Y"}, "a_number": "A#"}}
V1 = "Case,Name,Born,A#\n1,Ana Ruiz,01/02/1990,A012345678\n2,Bo Li,03/04/1985,\n,Cy Oz,bad,\n"
V2 = ("Case,Name,Born,A#\n1,Ana Ruiz,01/02/1990,A012345679\n2,Bo Li,03/04/1985,\n"
      "4,Di Wu,05/06/2001,\n,Ed Fox,,A1\n")


def snapshot(db: Path | Store, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every ingest table (or of ``tables``), as text (so no row can hide behind a
    type)."""
    if isinstance(db, Store):
        return {t: db.query(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {t} ORDER BY ALL")
                for t in tables}
    with Store(db, read_only=True) as store:
        return snapshot(store, tables)


@pytest.fixture
def loaded(write_extract: WriteExtract, store_path: Path) -> tuple[Path, Path]:
    """A store holding one batch of the shelter extract; the mapping path of a changed file."""
    with Store(store_path) as store:
        first = ingest_file(store, write_extract(MAPPING, V1, name="v1.csv"), max_failure_rate=1)
    assert (first.accepted, first.quarantined) == (2, 1)
    return store_path, write_extract(MAPPING, V2, name="v2.csv")


def _accord() -> str:
    script = Path(sys.executable).with_name("accord")
    found = str(script) if script.exists() else shutil.which("accord")
    assert found, "the accord console script is not installed"
    return found


def _killed_at(point: str, db: Path, mapping: Path, pause: Path) -> None:
    """Run ``accord ingest`` (as dana) until it reaches the pause point ``point``, then kill -9 it."""
    env = {**os.environ, "ACCORD_PAUSE_AT": point, "ACCORD_PAUSE_FILE": str(pause), "ACCORD_USER": "dana"}
    proc = subprocess.Popen([_accord(), "ingest", str(mapping), "--db", str(db), "--json",
                             "--accept-failure-rate", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a bound on waiting, not a timing assertion
        while not pause.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"ingest ended (exit {proc.returncode}) before pausing: {out!r} {err!r}")
            assert time.monotonic() < deadline, f"ingest never reached {point}"
            time.sleep(0.02)
        assert pause.read_text(encoding="utf-8") == str(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def _ingest_events(db: Path) -> list[dict[str, Any]]:
    with Store(db, read_only=True) as store:
        return [json.loads(d) for (d,) in store.query(
            "SELECT details FROM audit_events WHERE action = 'ingest' ORDER BY seq")]


def _chain_intact(db: Path) -> bool:
    with Store(db, read_only=True) as store:
        return audit.verify(store).ok


# Before the ingest's statements commit; right after its transaction block ends (where an
# ingest of its own commits: under the gate the action's transaction is still open); right
# after the action (batch and audit event together) committed.
KILL_POINTS = ["ingest.before_commit", "ingest.after_commit", "action.after_commit"]


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_ingest_stores_its_batch_and_its_audit_event_together_or_not_at_all(
        loaded: tuple[Path, Path], tmp_path: Path, point: str) -> None:
    db, changed = loaded
    with Store(db) as store:
        add_user(store, "dana", "Dana Engineer", ["data_engineer"], None, created_by="test")
    before = snapshot(db, TABLES + AUDIT_TABLES)
    assert _ingest_events(db) == [] and _chain_intact(db)
    _killed_at(point, db, changed, tmp_path / "paused")
    after = snapshot(db, TABLES + AUDIT_TABLES)
    assert _chain_intact(db)
    events = _ingest_events(db)
    new_batches = sorted(set(after["ingest_batches"]) - set(before["ingest_batches"]))
    # Every stored batch has its ingest event, and every ingest event its batch.
    assert [str(e["batch"]) for e in events] == [b[0] for b in new_batches]
    if point == "action.after_commit":
        assert len(new_batches) == 1 and len(after["records"]) == len(before["records"]) + 2
        return
    assert after == before
    # The store is usable and the same file now loads completely.
    with Store(db) as store:
        r = ingest_file(store, changed, max_failure_rate=1)
    assert (r.rows_read, r.new_records, r.new_versions, r.unchanged, r.quarantined) == (4, 1, 1, 1, 1)
    again = snapshot(db)
    assert len(again["ingest_batches"]) == 2
    assert len(again["records"]) == len(before["records"]) + 2


def _raise(exc: BaseException) -> Callable[..., Any]:
    def boom(*args: object, **kwargs: object) -> Any:
        raise exc
    return boom


@pytest.mark.parametrize(
    "where",
    ["before_commit", "mid_store", "progress_interrupt", "reader_fails"],
)
def test_an_error_mid_ingest_rolls_everything_back(
        loaded: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    db, changed = loaded
    before = snapshot(db)
    progress: Callable[[int], None] | None = None
    expected: type[BaseException] = RuntimeError
    if where == "before_commit":  # every table written, nothing committed
        monkeypatch.setattr(pipeline, "checkpoint", _raise(RuntimeError("crash")))
    elif where == "mid_store":  # quarantine rows written, records not yet
        monkeypatch.setattr(pipeline, "content_hash_sql", _raise(RuntimeError("crash")))
    elif where == "progress_interrupt":  # Ctrl-C after the rows were staged
        progress, expected = _raise(KeyboardInterrupt()), KeyboardInterrupt
    else:  # the file turns unreadable while it is being read
        real = pipeline._chunks

        def chunks(batches: Any) -> Iterator[pa.Table]:
            yield next(iter(real(batches)))
            raise SourceFileError("v2.csv", "read error")

        monkeypatch.setattr(pipeline, "_chunks", chunks)
        expected = SourceFileError
    with Store(db) as store:
        with pytest.raises(expected):
            ingest_file(store, changed, progress=progress, max_failure_rate=1)
        assert snapshot(store) == before
        monkeypatch.undo()
        # Same connection, right after the failure: no transaction or stage is left behind.
        r: IngestResult = ingest_file(store, changed, max_failure_rate=1)
        assert (r.new_records, r.new_versions, r.quarantined) == (1, 1, 1)
    after = snapshot(db)
    assert len(after["ingest_batches"]) == len(before["ingest_batches"]) + 1
    with Store(db) as store:
        assert store.scalar("SELECT count(*) FROM records WHERE batch_id = ?", [r.batch]) == 2
        # Only the successful batch left anything behind.
        assert store.scalar("SELECT count(DISTINCT batch_id) FROM quarantine") == 2
        assert store.scalar("SELECT count(*) FROM quarantine WHERE batch_id NOT IN "
                            "(SELECT batch_id FROM ingest_batches)") == 0
