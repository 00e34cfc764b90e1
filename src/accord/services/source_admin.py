"""Source operations: a mapping's dry run, a source's registration and batches, retiring a
source registered by mistake.

The dry run opens no store (it reads the extract only, and shows no values). Showing and
retiring a source are actions through the governance gate (``sources.read``,
``sources.retire``), audited as every action is, refusals included.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from accord.ingest import registration
from accord.ingest.dryrun import DEFAULT_SAMPLE_ROWS, check_mapping
from accord.ingest.failures import DEFAULT_MAX_FAILURE_RATE, check_rate
from accord.services.context import governed
from accord.services.results import MappingCheckOut, RetiredSourceOut, SourceDetailOut
from accord.store.target import StoreTarget


def mapping_check(mapping: Path, file: Path | None = None, *, sample: int = DEFAULT_SAMPLE_ROWS,
                  accept_failure_rate: float | None = None) -> MappingCheckOut:
    """What ingest would make of the first ``sample`` rows of an extract: per field the rows
    with a value and the rows that fail, a date format that reads a failing date field, the
    file's columns, whether the system is registered, and whether the failure-rate rule
    (``accept_failure_rate``, default 0.2) would refuse the file."""
    from accord.governance.registry import registry

    rate = check_rate(DEFAULT_MAX_FAILURE_RATE if accept_failure_rate is None else accept_failure_rate)
    if sample < 1:
        from accord.errors import AccordError

        raise AccordError(f"--sample {sample}: give the number of rows to read, at least 1")
    c = check_mapping(mapping, file, sample_rows=sample, max_failure_rate=rate,
                      systems=registry().systems)
    fields = [{**asdict(f), "rate": f.failed / c.rows if c.rows else 0.0} for f in c.fields]
    return MappingCheckOut.model_validate({**asdict(c), "fields": fields, "ok": c.ok})


def source_show(db: StoreTarget, source: str, *, user: str, origin: str = "cli") -> SourceDetailOut:
    """A source's registration (system, format), the mapping stored with its last batch, the
    records it holds, and every batch with the hash of the mapping it was read with."""
    with governed(db, origin=origin) as gate, gate.act(user, "sources.read", details={"source": source}):
        return SourceDetailOut.model_validate(asdict(registration.source_detail(gate.store, source)))


def source_retire(db: StoreTarget, source: str, *, user: str, origin: str = "cli") -> RetiredSourceOut:
    """Retire a source that holds no records (registered by mistake: a wrong system, say), so
    that its name can be registered again; refused, with the reason, when it holds records. Its
    batches and quarantined rows stay."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "sources.retire", details={"source": source}) as act:
        retired = registration.retire(gate.store, source)
        act.outcome = f"source {retired.source} ({retired.system}) retired; {retired.batches} batches kept"
        act.details.update(system=retired.system, batches=retired.batches)
        return RetiredSourceOut.model_validate(asdict(retired))
