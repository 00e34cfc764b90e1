"""Data commands: synthetic worlds, ingest, batches, quarantine, flags, resolution, evaluation, demo
(sources: ``accord.cli.sources``; mappings: ``accord.cli.mappings``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli.common import (
    DEFAULT_DB,
    DbOption,
    Deferred,
    JsonOption,
    UserOption,
    app,
    as_json_out,
    describe,
    err,
    fail,
    out,
    progress_bars,
    report,
    rows_callback,
    step_callback,
    table,
    who,
)
from accord.cli.extracts import (
    INIT_ADMIN,
    create_store,
    extracts,
    ingest_each,
    ingest_json,
    missing_store_hint,
)
from accord.cli.listing import whole, window
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord import services
    from accord.ingest import IngestResult
else:
    services = Deferred("accord.services")   # imported when a command runs


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the world into.")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="Number of people.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    as_json: JsonOption = False,
) -> None:
    """Generate synthetic agency extracts with mappings, truth.csv and persons.csv."""
    if fmt not in ("csv", "parquet"):
        fail(AccordError(f"--format must be csv or parquet, not {fmt!r}"))
    try:
        with progress_bars(not as_json) as p:
            world = services.synth(persons, seed, out_dir, fmt, progress=step_callback(p))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(_world_json(world))
        return
    from rich.table import Table

    t = Table(title=f"{persons:,} persons, seed {seed} -> {out_dir}")
    t.add_column("source")
    t.add_column("file")
    t.add_column("rows", justify="right")
    for ex in world.extracts:
        t.add_row(ex.source, Path(ex.data_path).name, f"{ex.rows:,}")
    out.print(t)
    out.print(f"truth: {world.truth_path}   persons: {world.persons_path}   "
              f"({world.seconds:.1f} s)")


def _world_json(world: Any) -> dict[str, Any]:
    """A synthetic world as ``accord synth --json`` prints it."""
    return {"out": str(world.out), "persons": world.persons, "seed": world.seed, "format": world.format,
            "extracts": [{"source": ex.source, "system": ex.system, "file": str(ex.data_path),
                          "mapping": str(ex.mapping_path), "rows": ex.rows, "bad_rows": ex.bad_rows}
                         for ex in world.extracts],
            "truth": str(world.truth_path), "persons_file": str(world.persons_path),
            "seconds": round(world.seconds, 3)}


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", show_default=False,
        help="What to ingest, read left to right: a path ending in .yaml or .yml is a mapping, and "
             "so is the first path; a folder stands for every mapping (*.yaml, *.yml) in it, sorted "
             "by name; any other path is the data file of the mapping just before it, read instead "
             "of that mapping's file:.")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    init: Annotated[bool, typer.Option(
        "--init", help="Create the store first (it must not exist yet; without --init a missing "
                       "store is refused, so a mistyped --db never makes one): administrator "
                       f"'{INIT_ADMIN}', and the --user registered as its data engineer.")] = False,
    then_resolve: Annotated[bool, typer.Option(
        "--resolve", help="Then resolve the new record versions: incrementally (each finds its "
                          "person with the latest run's model, `accord resolve --redo`) once the "
                          "store has been resolved, else as `accord resolve` does with the "
                          "built-in settings; only if any extract had new rows.")] = False,
    accept_failure_rate: Annotated[float | None, typer.Option(
        "--accept-failure-rate", metavar="SHARE", min=0.0, max=1.0, show_default=False,
        help="The share of rows (0 to 1) one field may fail on before an extract is refused and "
             "loads nothing; default 0.2 (20%). Fields that flag count as well as fields that "
             "quarantine, and so do rows without a record id or that cannot be parsed; 1 accepts "
             "any rate.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate and store extracts: bad fact values to quarantine, bad identity values flagged,
    each file atomic and idempotent.

    Several mappings (or a folder) are ingested one by one, each its own batch with its own
    reconciliation: one that fails loads nothing and is reported with its file and the problem,
    the others still load, and the exit code is 1 (--json prints a list).
    """
    acting = who(user)
    try:
        given = extracts(paths)
        if init:
            create_store(db, acting, quiet=as_json)
    except AccordError as e:
        fail(e)
    done, stopped = ingest_each(db, given, acting, init=init, shown=None if as_json else _show_ingest,
                                accept_failure_rate=accept_failure_rate)
    failed = [ex for ex, r in done if isinstance(r, AccordError)]
    accepted = sum(r.accepted for _, r in done if not isinstance(r, AccordError))
    resolution, resolve_error = None, None
    if then_resolve and stopped is None and accepted:
        try:
            with progress_bars(not as_json) as p:
                if services.resolved_once(db, user=acting):
                    resolution = services.resolve_queued(db, user=acting,
                                                         progress=_queue_progress(p))
                else:
                    resolution = services.resolve(db, user=acting, step=step_callback(p))
        except AccordError as e:
            resolve_error = e
    if as_json:
        if given.several:
            results: Any = [ingest_json(ex, r) for ex, r in done]
        else:
            only = done[0][1]
            assert not isinstance(only, AccordError)    # a single extract's failure has exited
            results = only.to_dict()
        as_json_out({"ingest": results, "resolve": _resolution_json(resolution)} if then_resolve
                    else results)
    else:
        if given.several and stopped is None:
            out.print(f"{len(given.items)} extracts: {len(done) - len(failed)} ingested, {len(failed)} "
                      f"failed{': ' + ', '.join(str(ex.mapping) for ex in failed) if failed else ''}",
                      highlight=False)
        if resolution is not None:
            _show_resolution(resolution)
        elif then_resolve and stopped is None and resolve_error is None:
            err.print("[yellow]note:[/yellow] no extract had new rows, so resolve did not run",
                      highlight=False)
    if stopped is not None:
        left = len(given.items) - len(done) + 1
        said = ("nothing was ingested" if len(done) == 1 else
                f"stopped at {done[-1][0].mapping}: it and the extracts after it, {left} in all, were "
                "not ingested")
        stop = AccordError(f"{missing_store_hint(stopped, db, init)} ({said})")
        stop.kind = stopped.kind      # a missing or busy store is still one (its exit code)
        report(stop)      # a line on stderr: under --json, stdout already holds the one JSON result
    if resolve_error is not None:
        report(resolve_error)
    if failed:
        raise typer.Exit(1)


def _show_ingest(result: IngestResult, db: str) -> None:
    out.print(
        f"batch {result.batch} [bold]{result.source}[/bold] ({result.system}): "
        f"{result.rows_read:,} rows read = {result.accepted:,} accepted "
        f"({result.new_records:,} new, {result.new_versions:,} new versions) + "
        f"{result.unchanged:,} unchanged + {result.quarantined:,} quarantined; "
        f"{result.flagged:,} flagged [{result.seconds:.2f} s]", highlight=False)
    if result.quarantined:
        out.print(f"see: accord quarantine --db {describe(db)} --batch {result.batch}", highlight=False)
    if result.flagged:
        out.print(f"see: accord flags --db {describe(db)} --source {result.source}", highlight=False)


@app.command()
def batches(db: DbOption = DEFAULT_DB,
            limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
            offset: Annotated[int, typer.Option(help="Skip this many of the newest.")] = 0,
            user: UserOption = None, as_json: JsonOption = False) -> None:
    """List ingest batches with their reconciliation (read = accepted + unchanged + quarantined;
    flagged rows are among accepted and unchanged)."""
    if limit < 1 or offset < 0:
        fail(AccordError(f"--limit must be at least 1 and --offset not negative (got {limit}, {offset})"))
    try:
        rows = services.batches(db, offset + limit + 1, user=who(user))
    except AccordError as e:
        fail(e)
    page = window(rows[offset:], limit, offset)
    if as_json:
        as_json_out(page)
        return
    keys = ["batch", "source", "file_name", "user_id", "rows_read", "accepted", "unchanged",
            "quarantined", "flagged"]
    table(keys, [[getattr(r, k) for k in keys] for r in page["items"]])
    if page["next_offset"] is not None:
        out.print(f"more: --offset {page['next_offset']}", highlight=False)


@app.command()
def quarantine(
    db: DbOption = DEFAULT_DB,
    batch: Annotated[int | None, typer.Option(help="One batch (default: each source's last).")]
    = None,
    source: Annotated[str | None, typer.Option(help="One source.")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise quarantined rows by field and reason, with example row numbers."""
    try:
        rows = services.quarantine_summary(db, batch, source, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["batch", "source", "field", "reason", "rows", "example rows"],
           [list(r.plain().values()) for r in rows])


@app.command()
def flags(
    db: DbOption = DEFAULT_DB,
    batch: Annotated[int | None, typer.Option(help="The record versions one batch stored (default: "
                                              "the current records).")] = None,
    source: Annotated[str | None, typer.Option(help="One source.")] = None,
    field: Annotated[str | None, typer.Option(help="One identity field (dob, ssn, zip, ...).")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise flagged identity values (stored, column left empty) by field and reason, with
    example row numbers."""
    try:
        rows = services.flags_summary(db, batch, source, field, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(whole(rows))
        return
    table(["batch", "source", "field", "reason", "rows", "example rows"],
           [list(r.plain().values()) for r in rows])


@app.command()
def resolve(
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    settings: Annotated[Path | None, typer.Option(help="Settings YAML (default: built in).")]
    = None,
    model_out: Annotated[Path | None, typer.Option("--model-out",
                                                   help="Save the trained model (JSON).")] = None,
    model_in: Annotated[Path | None, typer.Option("--model", help="Use a saved model instead "
                                                  "of training.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Directory for the model charts "
                                                "(default: <db>-charts beside the store).")]
    = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="Truth file (source,record_id,person_id) "
                                                "for some records: m from its pairs instead of EM.")]
    = None,
    redo: Annotated[bool, typer.Option("--redo", help="Resolve only the queued record versions "
                                       "(new since the last run, corrections, deferred "
                                       "re-evaluations), incrementally, with the latest run's "
                                       "model; the other options do not apply.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="Where the run computes: duckdb (the "
                                        "store's own) or spark (docs/spark.md).")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", help="Spark master URL (default: the settings' spark.master, "
        "local[*]); a cluster's URL works the same.")] = None,
    spark_conf: Annotated[list[str] | None, typer.Option(
        "--spark-conf", help="A Spark setting KEY=VALUE (repeatable), over the settings' "
        "spark.conf.")] = None,
    spark_partitions: Annotated[int | None, typer.Option(
        "--spark-partitions", min=1, help="Partitions per shuffle (default: two per local "
        "core, or the cluster's).")] = None,
    spark_exchange: Annotated[Path | None, typer.Option(
        "--spark-exchange", help="Folder the store and Spark trade files in, removed after the "
        "run (default: a private temporary folder; on a cluster, one every executor reaches).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Link and cluster all current records into persons with stable ids (--redo: only the
    queued ones, incrementally)."""
    if redo:
        try:
            with progress_bars(not as_json) as p:
                update = services.resolve_queued(db, user=who(user), progress=_queue_progress(p))
        except AccordError as e:
            fail(e)
        if as_json:
            out.print_json(json.dumps(update.plain()))
        else:
            _show_resolution(update)
        return
    try:
        with progress_bars(not as_json) as p:
            summary = services.resolve(db, user=who(user), settings=settings, model_out=model_out,
                                       model_in=model_in, charts_dir=charts, labels=labels,
                                       step=step_callback(p), engine=engine,
                                       spark_master=spark_master, spark_conf=spark_conf,
                                       spark_partitions=spark_partitions,
                                       spark_exchange=spark_exchange)
    except AccordError as e:
        fail(e)
    if as_json:
        out.print_json(json.dumps(_resolution_json(summary)))
        return
    _show_resolution(summary)


def _queue_progress(p: Any) -> Any:
    """Progress of draining the queue: records resolved of those queued."""
    task = p.add_task("resolve queued records", total=None, detail="")

    def step(done: int, total: int) -> None:
        p.update(task, completed=done, total=total)

    return step


def _resolution_json(summary: Any) -> dict[str, Any] | None:
    """A resolve run as ``accord resolve --json`` prints it (without the model)."""
    if summary is None:
        return None
    if hasattr(summary, "plain"):            # an incremental update (services.UpdateOut)
        plain: dict[str, Any] = summary.plain()
        return plain
    d: dict[str, Any] = summary.to_dict()
    d.pop("model")
    return d


def _show_resolution(summary: Any) -> None:
    if hasattr(summary, "run_ids"):          # an incremental update (services.UpdateOut)
        changed = sorted({p.person_id for p in summary.persons})
        out.print(f"{summary.records:,} queued record(s) resolved in {len(summary.run_ids)} "
                  f"update(s): {summary.neighbourhood:,} records clustered again, "
                  f"{summary.pairs:,} pairs compared, {len(changed):,} person(s) changed, "
                  f"{summary.deferred:,} record(s) queued again, {summary.waiting:,} waiting "
                  f"[{summary.seconds:.1f} s]", highlight=False)
        for p in summary.persons[:20]:
            out.print(f"  {p.person_id}  {p.change}  (version {p.version})", highlight=False)
        if len(summary.persons) > 20:
            out.print(f"  ... {len(summary.persons) - 20:,} more (--json lists them all)",
                      highlight=False)
        return
    for msg in summary.blocking_messages:
        err.print(f"[yellow]note:[/yellow] {msg}", highlight=False)
    out.print(
        f"run {summary.run_id}: {summary.records:,} records, {summary.pairs:,} pairs compared, "
        f"{summary.links:,} links, {summary.review:,} for review, {summary.rejected_links:,} "
        f"rejected by guards -> {summary.entities:,} persons ({summary.kept_ids:,} ids kept, "
        f"{summary.merges:,} merges, {summary.splits:,} splits) [{summary.seconds:.1f} s]",
        highlight=False)
    out.print(f"charts: {', '.join(summary.charts)}", highlight=False)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="truth.csv: source,record_id,person_id")],
    persons: Annotated[Path | None, typer.Option("--persons", help="persons.csv of a synthetic world: "
                                                 "adds the work-list harm figures.")] = None,
    agreement: Annotated[str | None, typer.Option("--agreement", help="Enforcement agreement whose work "
                                                  "list the harm figures measure.")] = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Linkage quality against ground truth: pairwise and B-cubed precision and recall."""
    try:
        metrics = services.evaluate(db, truth, user=who(user), persons=persons, agreement=agreement)
    except AccordError as e:
        fail(e)
    figures = metrics.plain()
    if as_json:
        out.print_json(json.dumps(figures))
        return
    table(["metric", "value"], [[k, v] for k, v in figures.items()])


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the demo world and store go.")]
    = Path("accord-demo"),
    persons: Annotated[int, typer.Option("--persons", min=100)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    db: Annotated[str | None, typer.Option(
        "--db", show_default=False,
        help="A postgresql:// URL of an empty database to build the demo store in, instead of "
             "the embedded store in --out.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The whole path on a synthetic world: generate, ingest, summarise."""
    try:
        with progress_bars(not as_json) as p:
            result = services.demo(out_dir, persons, seed, db=db, step=step_callback(p),
                                   rows=rows_callback(p, "rows"))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(_demo_json(result))
        return
    out.rule(f"Accord demo: {persons:,} synthetic persons, seed {seed}")
    table(["source", "system", "rows read", "accepted", "quarantined", "seconds"],
           [[r.source, r.system, r.rows_read, r.accepted, r.quarantined, f"{r.seconds:.2f}"]
            for r in result.ingests], title=f"ingested into {describe(result.db)}")
    total = sum(r.rows_read for r in result.ingests)
    quarantined = sum(r.quarantined for r in result.ingests)
    out.print(f"{total:,} rows read, {total - quarantined:,} stored, {quarantined:,} quarantined "
              f"with reasons (accord quarantine --db {describe(result.db)})", highlight=False)
    r = result.resolution
    out.print(f"resolved: {r.records:,} records -> {r.entities:,} persons; {r.links:,} links, "
              f"{r.review:,} for review, {r.rejected_links:,} rejected by guards "
              f"[{r.seconds:.1f} s]; model charts: {', '.join(r.charts)}", highlight=False)
    q = result.quality.plain() if result.quality is not None else {}
    table(["measure", "value"],
           [[k, q[k]] for k in ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision",
                                "bcubed_recall", "records", "entities", "true_persons",
                                "entities_mixing_persons", "worklist_listed", "wrongly_listed_persons",
                                "citizens_listed", "final_orders_with_court_record", "final_orders_found",
                                "final_orders_missed") if k in q],
           title=f"linkage quality against {result.world.truth_path}")
    _show_governed_reads(result)


def _demo_json(result: services.DemoResult) -> dict[str, Any]:
    """The demo as ``accord demo --json`` prints it: the world, each ingest, the resolution, the
    quality figures, the governed reads and the sample users with their tokens (shown once)."""
    setup = result.setup
    return {"out": str(result.out), "db": describe(result.db), "world": _world_json(result.world),
            "ingests": [r.to_dict() for r in result.ingests],
            "resolution": _resolution_json(result.resolution),
            "quality": result.quality.plain() if result.quality is not None else None,
            "governed_reads": result.showcase.plain() if result.showcase is not None else None,
            "users": ({u: {"roles": setup.roles.get(u, []), "token": setup.tokens.get(u)}
                       for u in setup.users} if setup is not None else {})}


@app.command()
def quality(db: DbOption = DEFAULT_DB, user: UserOption = None, as_json: JsonOption = False) -> None:
    """Linkage quality without a truth file: records, persons and their sizes, links by status
    (the review queue), identifiers switched off as shared, the latest run, quarantined rows.
    Counts only (oversight, privacy officer, data engineer)."""
    try:
        q = services.quality(db, user=who(user))
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(q)
        return
    figures = q.plain()
    out.rule(f"linkage quality as of {q.as_of}")
    sizes = figures["entities"].pop("size_distribution")
    for part in ("records", "entities", "links", "shared_identifiers"):
        table(["measure", "value"], list(_flat(figures[part])), title=part.replace("_", " "))
    table(["records per person", "persons"], [[b["size"], b["persons"]] for b in sizes])
    quarantined = figures["quarantine"]
    table(["source", "field", "reason", "rows"],
          [[r["source"], r["field"], r["reason"], r["rows"]] for r in quarantined["by_reason"]],
          title=f"quarantine: {quarantined['rows']:,} rows")
    run = figures["latest_run"]
    if run is None:
        out.print("no resolution run yet (accord resolve)", highlight=False)
        return
    shown = {k: v for k, v in run.items() if k not in ("settings", "model", "blocking")}
    table(["measure", "value"], list(_flat(shown)), title="latest run (its settings, model and blocking "
                                                           "rules: --json)")


def _flat(value: Any, prefix: str = "") -> Any:
    """Rows (name, value) of nested figures: a.b for an object's keys."""
    if isinstance(value, dict):
        if not value:
            yield [prefix, "none"]
        for k, v in value.items():
            yield from _flat(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield [prefix, "" if value is None else value]


def _show_governed_reads(result: services.DemoResult) -> None:
    sc = result.showcase
    if sc is None:
        return
    wl = sc.worklist
    out.rule("governed reads (every one recorded in the audit chain)")
    table(["person", "name", "order date", "link confidence", "records", "verification"],
          [[e.person_id, e.name or "", e.order_date or "", f"{e.link_confidence:.4f}", len(e.records),
            e.verification] for e in wl.entries],
          title=f"casey: work list {wl.agreement} ({wl.candidates} candidates, first 5)")
    if wl.excluded:
        table(["excluded because", "persons"], [[k, v] for k, v in wl.excluded.items()],
              title="excluded (counted, never listed)")
    else:
        out.print("excluded (counted, never listed): none of the candidates", highlight=False)
    p = sc.person.found_person if sc.person is not None else None
    if sc.person is not None and p is not None:
        s = sc.person.status
        sources = ", ".join(f"{g.source} ({len(g.records)})" for g in p.sources)
        out.print(f"casey: person {p.person_id}: records {sources}; "
                  f"{len(p.conflicts)} conflicting attributes; "
                  f"status [bold]{s.status if s else None}[/bold] "
                  f"(confidence {s.confidence if s else 0:.4f})", highlight=False)
        for ev in (s.evidence if s else [])[:4]:
            out.print(f"  evidence: {ev.note} ({ev.source}:{ev.record_id})", highlight=False)
    if sc.verification is not None:
        q, v = sc.verification.query, sc.verification.answer
        out.print(f"bea: verify {q.name}, born {q.dob}, A{q.a_number} -> "
                  f"[bold]{v.answer}[/bold] ({v.reason})", highlight=False)
    if sc.refused is not None:
        out.print(f"ana: enforcement work list -> [red]refused[/red]: {'; '.join(sc.refused.reasons)}",
                  highlight=False)
    arrival = result.arrival
    if arrival is not None:
        r = arrival.added.resolution
        out.print(f"dana: a {arrival.source} record arrives (POST /api/records, record "
                  f"{arrival.record_id}) -> resolved at once: person {arrival.person_id} "
                  f"{arrival.change or 'unchanged'} (version {r.run_ids[-1] if r.run_ids else '-'}; "
                  f"{r.neighbourhood} records clustered again) [{r.seconds * 1000:.0f} ms]",
                  highlight=False)
        out.print(f"  casey: person {arrival.person_id} now shows {arrival.records_after} records "
                  f"(was {arrival.records_before})", highlight=False)
        for line in arrival.history[-3:]:
            out.print(f"  casey: person {arrival.person_id} history: {line}", highlight=False)
    a = sc.audit
    out.print(f"olive: audit chain {'intact' if a.ok else 'BROKEN'}: {a.events:,} events "
              f"(accord audit events --db {describe(result.db)} --user olive)", highlight=False)
    setup = result.setup
    if setup is not None:
        out.rule("try it")
        out.print(f"start the server: accord serve --db {describe(result.db)}", highlight=False)
        out.print("  web UI: http://127.0.0.1:8000/  (sign in with a user id and its token)", highlight=False)
        out.print("  API:    http://127.0.0.1:8000/docs  (Authorization: Bearer <token>)", highlight=False)
        table(["user", "roles", "token (shown once; the store keeps only its hash)"],
              [[u, ", ".join(setup.roles.get(u, [])), setup.tokens.get(u, "")] for u in setup.users],
              title="sample users: sign in to the UI, or call the API, as any of them")
        out.print("CLI: act as a user with --user ID or ACCORD_USER=ID, e.g. "
                  f"ACCORD_USER=casey accord worklist --db {describe(result.db)} --agreement "
                  f"{sc.worklist.agreement if sc else 'CMA-ENF-<year>'}", highlight=False)


