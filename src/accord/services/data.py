"""Data operations: synthetic worlds, ingest, sources, quarantine, flags, resolution, evaluation.

Every operation that touches a store runs through the governance gate as a named user: the
gate checks the user's role and writes the audit event (refusals included).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from accord import files
from accord.errors import AccordError
from accord.ingest import IngestResult, ingest_file, summary
from accord.ingest.failures import DEFAULT_MAX_FAILURE_RATE, check_rate
from accord.services.context import governed
from accord.services.people_results import (
    EvaluationOut,
    ShowcaseOut,
    ShownRefusal,
    ShownVerification,
    VerificationQuery,
)
from accord.services.results import AuditVerificationOut, BatchOut, FlagOut, QuarantineOut, SourceOut
from accord.sources.mapping import load_mapping
from accord.store.target import StoreTarget, beside, is_url

DEMO_ENGINEER = "dana"  # the sample data engineer (accord.governance.samples.USERS)

StepProgress = Callable[[str, float], None]
RowProgress = Callable[[int], None]


def synth(persons: int, seed: int, out: Path, fmt: str = "csv",
          progress: StepProgress | None = None) -> Any:
    """Generate a synthetic world of agency extracts with mappings and ground truth."""
    from accord.synth import generate

    return generate(persons, seed, out, fmt=fmt, progress=progress)


def ingest(db: StoreTarget, mapping: Path, file: Path | None = None, *, user: str,
           progress: RowProgress | None = None, origin: str = "cli",
           accept_failure_rate: float | None = None) -> IngestResult:
    """Validate and store one extract; atomic and idempotent. Refused (nothing loaded) when its
    record system is not registered, or when one field fails on more than
    ``accept_failure_rate`` of the rows (default ``DEFAULT_MAX_FAILURE_RATE``)."""
    rate = check_rate(DEFAULT_MAX_FAILURE_RATE if accept_failure_rate is None else accept_failure_rate)
    m = load_mapping(mapping)  # a bad mapping is reported before any store is opened
    details: dict[str, Any] = {"mapping": str(mapping), "source": m.source,
                               "file": str(file) if file else None}
    if accept_failure_rate is not None:
        details["accept_failure_rate"] = rate
    with governed(db, origin=origin) as gate, gate.act(user, "ingest", details=details) as act:
        result = ingest_file(gate.store, mapping, file, user=user, progress=progress,
                             max_failure_rate=rate, systems=gate.registry.systems)
        act.outcome = (f"batch {result.batch}: {result.rows_read} rows read, {result.accepted} accepted, "
                       f"{result.unchanged} unchanged, {result.quarantined} quarantined, "
                       f"{result.flagged} flagged")
        act.details.update(batch=result.batch, file_sha256=result.file_sha256)
        return result


def sources(db: StoreTarget, *, user: str, origin: str = "cli") -> list[SourceOut]:
    """Per source: current records, stored versions and the last batch's quarantine count."""
    with governed(db, origin=origin) as gate, gate.act(user, "sources.read"):
        return [SourceOut.model_validate(s, from_attributes=True) for s in summary.sources(gate.store)]


def batches(db: StoreTarget, limit: int = 50, *, user: str, origin: str = "cli") -> list[BatchOut]:
    """Ingest batches, newest first, with their reconciliation counts."""
    with governed(db, origin=origin) as gate, gate.act(user, "sources.read", details={"batches": limit}):
        return [BatchOut.model_validate(b) for b in summary.batches(gate.store, limit)]


def quarantine_summary(db: StoreTarget, batch: int | None = None, source: str | None = None, *,
                       user: str, origin: str = "cli") -> list[QuarantineOut]:
    """Quarantined rows grouped by source, field and reason, with example row numbers (no
    raw values: they are person data)."""
    with governed(db, origin=origin) as gate, gate.act(
            user, "quarantine.read", details={"batch": batch, "source": source}):
        summary.require_named(gate.store, batch, source)
        return [QuarantineOut.model_validate(q) for q in summary.quarantine(gate.store, batch, source)]


def flags_summary(db: StoreTarget, batch: int | None = None, source: str | None = None,
                  field: str | None = None, *, user: str, origin: str = "cli") -> list[FlagOut]:
    """Flagged identity values grouped by source, field and reason, with example row numbers:
    the current records' (or those one batch stored). Same role as quarantine, and likewise
    no values as written: they are person data."""
    if field is not None:
        from accord.sources.fields import catalogue

        known = sorted(n for n, f in catalogue().items() if f.kind == "identity")
        if field not in known:
            raise AccordError(f"flags --field {field!r}: not an identity field (only identity values are "
                              f"flagged; one of {', '.join(known)})")
    with governed(db, origin=origin) as gate, gate.act(
            user, "quarantine.read", details={"flags": True, "batch": batch, "source": source,
                                              "field": field}):
        summary.require_named(gate.store, batch, source)
        return [FlagOut.model_validate(f) for f in summary.flags(gate.store, batch, source, field)]


@dataclass
class DemoResult:
    out: Path
    db: StoreTarget
    persons: int
    world: Any
    ingests: list[IngestResult] = field(default_factory=list)
    setup: Any = None
    showcase: ShowcaseOut | None = None
    resolution: Any = None
    quality: EvaluationOut | None = None
    arrival: Any = None     # services.records.ArrivalOut: a record arriving, resolved at once


def demo(out: Path, persons: int = 20_000, seed: int = 7,
         step: StepProgress | None = None, rows: RowProgress | None = None,
         db: StoreTarget | None = None) -> DemoResult:
    """Generate a world into ``out``, create a store there with the sample users and
    agreements, ingest every extract (as the sample data engineer), resolve it into persons
    and measure the linkage against the world's ground truth. ``db``: a PostgreSQL store to
    create instead (its database must hold no store yet); the embedded store's file in ``out``
    is replaced on every run."""
    from accord.services.admin import init

    out.mkdir(parents=True, exist_ok=True)
    world_dir = out / "world"
    if world_dir.exists():
        shutil.rmtree(world_dir)
    if db is not None and not is_url(db):
        raise AccordError(f"demo --db {db}: give a postgresql:// URL; the embedded demo store is "
                          f"always {out / 'accord.duckdb'} (set by --out)")
    if db is None:
        db = out / "accord.duckdb"
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
    world = synth(persons, seed, world_dir, progress=step)
    result = DemoResult(out=out, db=db, persons=persons, world=world)
    result.setup = init(db, samples=True, tokens=True)
    for ex in world.extracts:
        if step:
            step(f"ingest {ex.source}", 0.0)
        result.ingests.append(ingest(db, ex.mapping_path, user=DEMO_ENGINEER, progress=rows))
    result.resolution = resolve(db, user=DEMO_ENGINEER, step=step)
    result.quality = evaluate(db, world.truth_path, user=DEMO_ENGINEER)
    if step:
        step("governed reads", 0.9)
    enforcement = next(a for a in result.setup.agreements if a.startswith("CMA-ENF"))
    result.showcase = showcase(db, world.persons_path, enforcement)
    result.quality = evaluate(db, world.truth_path, user=DEMO_ENGINEER, persons=world.persons_path,
                              agreement=enforcement)   # the linkage figures again, and the harm figures
    if step:
        step("a record arrives", 0.95)
    from accord.services.records import demo_arrival

    result.arrival = demo_arrival(db, world, result.showcase.person,
                                  agreement=enforcement)
    return result


def showcase(db: StoreTarget, persons_csv: Path, enforcement: str) -> ShowcaseOut:
    """The governed reads the demo shows: a work list with exclusion counts, one entry's person
    view and status, a SAVE-like verification, a refused request and the audit check."""
    import csv

    from accord.governance.gate import PolicyDenied
    from accord.services.admin import audit_verify
    from accord.services.people import person, verify, worklist

    wl = worklist(db, user="casey", agreement=enforcement, limit=5,
                  justification="demo: final orders to verify")
    shown_person = None
    if wl.entries:
        shown_person = person(db, wl.entries[0].person_id, user="casey", purpose="removal_order_enforcement",
                              agreement=wl.agreement, justification="demo: verify a work-list entry")
    with persons_csv.open(encoding="utf-8", newline="") as f:
        lpr = next((r for r in csv.DictReader(f) if r["status"] == "lpr" and r["a_number"]), None)
    verification = None
    if lpr is not None:
        query = VerificationQuery(name=f"{lpr['given_name']} {lpr['family_name']}", dob=lpr["dob"],
                                  a_number=lpr["a_number"])
        verification = ShownVerification(query=query, answer=verify(
            db, user="bea", purpose="benefit_eligibility_verification",
            agreement=wl.agreement.replace("ENF", "BEN"), name=query.name, dob=query.dob,
            a_number=query.a_number, justification="demo: benefit application"))
    refused = None
    try:
        worklist(db, user="ana", agreement=enforcement)
    except PolicyDenied as e:
        refused = ShownRefusal(user="ana", request="enforcement work list", reasons=list(e.reasons))
    return ShowcaseOut(worklist=wl, person=shown_person, verification=verification, refused=refused,
                       audit=AuditVerificationOut.model_validate(audit_verify(db, user="olive").to_dict()))


def resolve(db: StoreTarget, *, user: str, settings: Path | None = None,
            model_out: Path | None = None, model_in: Path | None = None,
            charts_dir: Path | None = None, step: StepProgress | None = None,
            labels: Path | None = None, origin: str = "cli", engine: str = "duckdb",
            spark_master: str | None = None, spark_conf: list[str] | None = None,
            spark_partitions: int | None = None, spark_exchange: Path | None = None) -> Any:
    """Link and cluster every current record; stable person ids; model charts as SVG. With
    ``labels`` (a truth file covering some records), m comes from the labelled pairs, not EM.
    ``engine``: ``duckdb`` (the store's own engine) or ``spark`` (docs/spark.md: the master,
    settings, shuffle partitions and exchange folder over the settings file's ``spark``)."""
    from accord.resolve.comparisons import checked_settings
    from accord.resolve.explain import write_model_charts
    from accord.resolve.pipeline import resolve as run

    # Every file given is checked before the store is opened: a run that could not write its
    # model or charts would otherwise fail after it changed the store.
    for given, option, what in ((settings, "--settings", "settings file"),
                                (model_in, "--model", "model file"), (labels, "--labels", "labels file")):
        if given is not None:
            files.input_file(given, option, what)
    if model_in is not None:
        _saved_model(model_in)
    if model_out is not None:
        files.output_file(model_out, "--model-out")
    out = files.output_folder(charts_dir or beside(db, "-charts"),
                              "--charts" if charts_dir else "the charts folder (--charts)")
    chosen = checked_settings(settings)
    compute, details = _engine(engine, chosen, spark_master, spark_conf, spark_partitions,
                               spark_exchange)
    with governed(db, origin=origin) as gate, gate.act(user, "resolve", details=details) as act:
        summary = run(gate.store, chosen, user=user, model_path=model_out,
                      model_in=model_in, step=step, labels=labels, compute=compute)
        summary.charts = [str(p) for p in write_model_charts(gate.store, out, summary.weight_histogram)]
        act.outcome = (f"run {summary.run_id}: {summary.records} records, {summary.links} links, "
                       f"{summary.entities} persons")
        act.details.update(run=summary.run_id, merges=summary.merges, splits=summary.splits)
        return summary


def _engine(engine: str, settings: Any, master: str | None, conf: list[str] | None,
            partitions: int | None, exchange: Path | None) -> tuple[Any, dict[str, Any]]:
    """The computation a resolve run asks for (None: the store's own engine) and what the audit
    records of it. Spark options without ``--engine spark`` are refused, as is an engine Accord
    does not have or a Spark that is not installed."""
    if engine == "duckdb":
        given = [o for o, v in (("--spark-master", master), ("--spark-conf", conf),
                                ("--spark-partitions", partitions), ("--spark-exchange", exchange))
                 if v]
        if given:
            raise AccordError(f"{', '.join(given)}: only with --engine spark")
        return None, {"engine": "duckdb"}
    if engine != "spark":
        raise AccordError(f"--engine {engine!r}: duckdb (the store's own) or spark")
    from accord.spark.resolve import on_spark
    from accord.spark.session import SparkOptions, require

    require()
    if exchange is not None:
        files.output_folder(exchange, "--spark-exchange")
    options = SparkOptions.parse(master, conf, partitions, SparkOptions.of(settings.spark), exchange)
    return on_spark(options), {"engine": "spark", "spark_master": options.master}


def _saved_model(path: Path) -> None:
    """Refuse a ``--model`` file that is not a model ``accord resolve --model-out`` saved (before
    the run starts): not JSON, not an object, or without the model format and its comparisons."""
    import json

    from accord.resolve.model import MODEL_FORMAT

    saved_by = "not a model saved by `accord resolve --model-out`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise AccordError(f"--model {path}: {saved_by} (not JSON: {' '.join(str(e).split())})") from None
    if not isinstance(data, dict) or "format" not in data:
        raise AccordError(f"--model {path}: {saved_by} (no model format in it)")
    if data["format"] != MODEL_FORMAT:
        raise AccordError(f"--model {path}: model format {data['format']!r}, and this accord reads "
                          f"format {MODEL_FORMAT}: save the model again with `accord resolve --model-out`")
    comparisons = data.get("comparisons")
    if (not isinstance(comparisons, dict) or not all(isinstance(c, dict) and isinstance(c.get("levels"), list)
                                                     for c in comparisons.values())
            or not {"prior", "em_iterations", "pairs_trained", "created"} <= set(data)):
        raise AccordError(f"--model {path}: {saved_by} (its comparisons, prior or training details "
                          "are missing)")


def evaluate(db: StoreTarget, truth: Path, *, user: str, persons: Path | None = None,
             agreement: str | None = None, origin: str = "cli",
             today: date | None = None) -> EvaluationOut:
    """Linkage quality of the store's entities against a truth file; with ``persons`` (the
    world's persons.csv) and an enforcement ``agreement``, the work-list harm figures too."""
    from accord.eval.harm import harm
    from accord.eval.metrics import evaluate as run

    if persons is not None and not agreement:
        raise AccordError("harm figures need --agreement: the enforcement agreement whose work list "
                          "to measure")
    with (governed(db, origin=origin, today=today) as gate,
          gate.act(user, "evaluate", details={"truth": str(truth)}) as act):
        metrics = run(gate.store, truth)
        act.outcome = f"pair_precision {metrics['pair_precision']}, pair_recall {metrics['pair_recall']}"
    if persons is not None and agreement:
        with (governed(db, origin=origin, today=today) as gate,
              gate.act(user, "evaluate", agreement=agreement, details={"harm": str(persons)}) as act):
            figures = harm(gate.store, gate.registry, act.as_recipient(), truth, persons, gate.today)
            act.outcome = (f"wrongly listed {figures['wrongly_listed_persons']}, "
                           f"final orders found {figures['final_orders_found']}")
            metrics |= figures
    return EvaluationOut.model_validate(metrics)
