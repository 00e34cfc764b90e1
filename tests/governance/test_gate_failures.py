"""What the gate records when things fail.

* An allowed read that fails at any step after the decision (the reader, the accounting of
  disclosures, an interruption) is recorded (outcome failed, nothing disclosed) and raised.
* A failure is recorded by its kind, never by the exception's text, which may echo what the
  caller supplied (an SSN): Accord's own errors by the description of their kind, anything else
  by an incident id that the exception carries to the server's log.
* An action's work and its audit event are stored together or not at all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.errors import AccordError, SourceFileError
from accord.governance import audit
from accord.governance import gate as gate_module
from accord.governance.gate import Gate
from accord.governance.policy import Decision, Request
from accord.ingest import ingest_file
from accord.store import Store
from conftest import WriteExtract
from worlds import TODAY, governed_store

ROE, ENF = "removal_order_enforcement", "CMA-ENF-2026"
PERSON = "P000000001"
SSN = "123-45-6789"


class Read:
    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [PERSON], [("court", "C1")]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return governed_store(tmp_path_factory.mktemp("gate-failures"))


@pytest.fixture
def gate(db: Path) -> Iterator[Gate]:
    with Store(db) as store:
        yield Gate(store, today=TODAY)


def _read(gate: Gate, reader: Any) -> Any:
    return gate.read("casey", Request("person.view", ROE, ENF, "case 12", (PERSON,)), reader,
                     nature="test read")


def _events_after(gate: Gate, seq: int) -> list[dict[str, Any]]:
    cur = gate.store.con.execute("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq", [seq])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _head(gate: Gate) -> int:
    return int(gate.store.scalar("SELECT seq FROM audit_head"))


def _failed_read(gate: Gate, before: int) -> dict[str, Any]:
    """The one event recorded since ``before``: an allowed read that failed, nothing disclosed."""
    events = _events_after(gate, before)
    assert len(events) == 1, events
    e = events[0]
    assert (e["action"], e["decision"], e["records"]) == ("person.view", "allow", "[]")
    assert e["outcome"].startswith("failed: ")
    assert gate.store.scalar("SELECT count(*) FROM disclosures WHERE audit_seq > ?", [before]) == 0
    assert audit.verify(gate.store).ok
    return e


def test_a_read_works_and_is_recorded_when_nothing_fails(gate: Gate) -> None:
    before = _head(gate)
    g = _read(gate, lambda d: Read())
    assert g.audit_seq == before + 1
    assert gate.store.scalar("SELECT count(*) FROM disclosures WHERE audit_seq = ?", [g.audit_seq]) == 1


def test_a_read_whose_accounting_fails_is_recorded_and_raised(
        gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("the memberships could not be read")

    monkeypatch.setattr(gate_module, "memberships", broken)      # the accounting of disclosures
    before = _head(gate)
    with pytest.raises(RuntimeError, match="memberships"):
        _read(gate, lambda d: Read())
    assert _failed_read(gate, before)["outcome"].startswith("failed: RuntimeError")


class Touched(Read):
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        raise self.exc


@pytest.mark.parametrize("kind", [KeyboardInterrupt, asyncio.CancelledError, SystemExit])
@pytest.mark.parametrize("where", ["reader", "after the reader"])
def test_an_interruption_after_the_decision_is_recorded_and_raised(
        gate: Gate, kind: type[BaseException], where: str) -> None:
    def reader(d: Decision) -> Read:
        if where == "reader":
            raise kind()
        return Touched(kind())          # data was read; what it disclosed is being worked out

    before = _head(gate)
    with pytest.raises(kind):
        _read(gate, reader)
    assert _failed_read(gate, before)["outcome"].startswith(f"failed: {kind.__name__}")


def _no_ssn_anywhere(gate: Gate, before: int) -> None:
    for table, key in (("audit_events", "seq"), ("disclosures", "audit_seq")):
        rows = gate.store.query(f"SELECT * FROM {table} WHERE {key} > ?", [before])
        text = json.dumps(rows, default=str)
        assert SSN not in text and SSN.replace("-", "") not in text, table


def test_a_readers_error_text_never_reaches_the_audit_log(gate: Gate) -> None:
    def reader(d: Decision) -> Read:
        raise ValueError(f"no record has SSN {SSN}")

    before = _head(gate)
    with pytest.raises(ValueError, match=SSN) as raised:      # the caller still gets it all
        _read(gate, reader)
    outcome = _failed_read(gate, before)["outcome"]
    _no_ssn_anywhere(gate, before)
    assert outcome.startswith("failed: ValueError (incident ")
    incident = outcome.removeprefix("failed: ValueError (incident ").removesuffix(")")
    assert len(incident) >= 8
    assert f"audit incident {incident}" in raised.value.__notes__     # what the server logs with it


class CaseError(AccordError):
    """A case that cannot be handled as asked; the message says why."""


@pytest.mark.parametrize(("error", "described"), [
    (CaseError(f"no person has SSN {SSN}"), "A case that cannot be handled as asked; the message says why."),
    (SourceFileError(f"/data/{SSN}.csv", f"row 3: {SSN}"),
     "A data file that cannot be read as its mapping declares; nothing was loaded."),
    (AccordError(f"SSN {SSN} is not valid"), None),
])
def test_an_accord_error_is_recorded_by_the_description_of_its_kind(
        gate: Gate, error: AccordError, described: str | None) -> None:
    before = _head(gate)
    with pytest.raises(AccordError, match=SSN), gate.act("dana", "sources.read"):
        raise error
    events = _events_after(gate, before)
    kind = type(error).__name__
    assert [e["outcome"] for e in events] == [f"failed: {kind}" + (f": {described}" if described else "")]
    _no_ssn_anywhere(gate, before)


def test_an_actions_error_text_never_reaches_the_audit_log(gate: Gate) -> None:
    before = _head(gate)
    with pytest.raises(ValueError, match=SSN), gate.act("dana", "sources.read") as act:
        act.details["looked_for"] = "a record"
        raise ValueError(f"SSN {SSN} is malformed")
    [event] = _events_after(gate, before)
    assert (event["action"], event["decision"]) == ("sources.read", "allow")
    assert event["outcome"].startswith("failed: ValueError (incident ")
    _no_ssn_anywhere(gate, before)


# --- an action and its event: together or not at all -----------------------------------------

MAPPING = {"source": "shelter", "system": "ssa-numident", "format": "csv", "record_id": "Case",
           "fields": {"full_name": {"column": "Name", "layout": "given family"},
                      "dob": {"column": "Born", "format": "%d/%m/%Y"}}}
DATA = "Case,Name,Born\n1,Ana Ruiz,01/02/1990\n2,Bo Li,03/04/1985\n"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Gate]:
    db = governed_store(tmp_path)
    with Store(db) as store:
        yield Gate(store, today=TODAY)


def _state(gate: Gate) -> tuple[int, int, list[str]]:
    """(batches, records, outcomes of the ingest events)."""
    return (int(gate.store.scalar("SELECT count(*) FROM ingest_batches")),
            int(gate.store.scalar("SELECT count(*) FROM records")),
            [o for (o,) in gate.store.query("SELECT outcome FROM audit_events WHERE action = 'ingest' "
                                            "ORDER BY seq")])


def test_an_action_that_fails_after_its_work_leaves_neither_work_nor_success(
        fresh: Gate, write_extract: WriteExtract) -> None:
    mapping = write_extract(MAPPING, DATA)
    with pytest.raises(RuntimeError, match="after the batch"), fresh.act("dana", "ingest") as act:
        result = ingest_file(fresh.store, mapping)
        act.outcome = f"batch {result.batch}"
        raise RuntimeError("something after the batch was stored")
    batches, records, outcomes = _state(fresh)
    assert (batches, records) == (0, 0)                        # the batch went with the failure
    assert [o.split(" (incident")[0] for o in outcomes] == ["failed: RuntimeError"]
    assert audit.verify(fresh.store).ok


def test_when_the_event_cannot_be_written_the_work_is_not_kept_either(
        fresh: Gate, write_extract: WriteExtract, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = write_extract(MAPPING, DATA)
    real, calls = audit.append, []

    def append_fails_once(store: Store, event: audit.Event) -> int:
        calls.append(event.outcome)
        if len(calls) == 1:
            raise OSError("audit log unavailable")
        return real(store, event)

    monkeypatch.setattr(audit, "append", append_fails_once)
    with pytest.raises(OSError, match="unavailable"), fresh.act("dana", "ingest") as act:
        act.outcome = f"batch {ingest_file(fresh.store, mapping).batch}"
    monkeypatch.undo()
    batches, records, outcomes = _state(fresh)
    assert calls[0].startswith("batch ") and (batches, records) == (0, 0)
    assert [o.split(" (incident")[0] for o in outcomes] == ["failed: OSError"]
    assert audit.verify(fresh.store).ok


def test_a_governed_ingest_stores_its_batch_with_its_event(tmp_path: Path,
                                                            write_extract: WriteExtract) -> None:
    db = governed_store(tmp_path)
    result = services.ingest(db, write_extract(MAPPING, DATA), user="dana")
    with Store(db) as store:
        gate = Gate(store, today=TODAY)
        batches, records, outcomes = _state(gate)
        details = json.loads(store.scalar("SELECT details FROM audit_events WHERE action = 'ingest'"))
        assert audit.verify(store).ok
    assert (batches, records) == (1, 2) and details["batch"] == result.batch
    assert outcomes == [
        f"batch {result.batch}: 2 rows read, 2 accepted, 0 unchanged, 0 quarantined, 0 flagged"]
