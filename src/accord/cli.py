"""Command line: parses, calls services, prints. No SQL and no policy here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord import __version__, services
from accord.errors import AccordError

app = typer.Typer(
    name="accord",
    help="Accord links what separate agency record systems hold about the same person, "
    "for declared, lawful purposes only, with evidence, confidence and audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

DbOption = Annotated[Path, typer.Option("--db", help="Store file (DuckDB).", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
UserOption = Annotated[str, typer.Option("--user", envvar="ACCORD_USER",
                                         help="Acting user id (or ACCORD_USER).")]


def _version(value: bool) -> None:
    if value:
        out.print(f"accord {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Accord command line."""


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Progress]:
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=err,
                        disable=not enabled or not err.is_terminal, transient=True)
    with progress:
        yield progress


def _step_callback(progress: Progress) -> Callable[[str, float], None]:
    task = progress.add_task("starting", total=1.0, detail="")

    def step(label: str, fraction: float) -> None:
        progress.update(task, description=label, completed=fraction)

    return step


def _rows_callback(progress: Progress, label: str) -> Callable[[int], None]:
    task = progress.add_task(label, total=None, detail="")

    def rows(n: int) -> None:
        progress.update(task, detail=f"{n:,} rows")

    return rows


def _fail(e: AccordError) -> None:
    err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the world into.")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="Number of people.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Generate synthetic agency extracts with mappings, truth.csv and persons.csv."""
    if fmt not in ("csv", "parquet"):
        _fail(AccordError(f"--format must be csv or parquet, not {fmt!r}"))
    try:
        with _progress() as p:
            world = services.synth(persons, seed, out_dir, fmt, progress=_step_callback(p))
    except AccordError as e:
        _fail(e)
    table = Table(title=f"{persons:,} persons, seed {seed} -> {out_dir}")
    table.add_column("source")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for ex in world.extracts:
        table.add_row(ex.source, Path(ex.data_path).name, f"{ex.rows:,}")
    out.print(table)
    out.print(f"truth: {world.truth_path}   persons: {world.persons_path}   "
              f"({world.seconds:.1f} s)")


@app.command()
def ingest(
    mapping: Annotated[Path, typer.Argument(help="Mapping YAML for the extract.")],
    file: Annotated[Path | None, typer.Argument(help="Data file (default: the mapping's file:).")]
    = None,
    db: DbOption = Path("accord.duckdb"),
    user: UserOption = "system",
    as_json: JsonOption = False,
) -> None:
    """Validate and store one extract: bad rows to quarantine, atomic, idempotent."""
    try:
        with _progress(not as_json) as p:
            result = services.ingest(db, mapping, file, user=user,
                                     progress=_rows_callback(p, f"ingest {mapping.name}"))
    except AccordError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
        return
    out.print(
        f"batch {result.batch} [bold]{result.source}[/bold] ({result.system}): "
        f"{result.rows_read:,} rows read = {result.accepted:,} accepted "
        f"({result.new_records:,} new, {result.new_versions:,} new versions) + "
        f"{result.unchanged:,} unchanged + {result.quarantined:,} quarantined "
        f"[{result.seconds:.2f} s]", highlight=False)
    if result.quarantined:
        out.print(f"see: accord quarantine --db {db} --batch {result.batch}", highlight=False)


@app.command()
def sources(db: DbOption = Path("accord.duckdb"), as_json: JsonOption = False) -> None:
    """List the sources in the store with record and version counts."""
    try:
        rows = services.sources(db)
    except AccordError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in rows]))
        return
    _table(["source", "system", "records", "versions", "quarantined (last batch)", "last batch"],
           [list(r.__dict__.values()) for r in rows])


@app.command()
def batches(db: DbOption = Path("accord.duckdb"),
            limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
            as_json: JsonOption = False) -> None:
    """List ingest batches with their reconciliation (read = accepted + unchanged + quarantined)."""
    try:
        rows = services.batches(db, limit)
    except AccordError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    keys = ["batch", "source", "file_name", "user_id", "rows_read", "accepted", "unchanged",
            "quarantined"]
    _table(keys, [[r[k] for k in keys] for r in rows])


@app.command()
def quarantine(
    db: DbOption = Path("accord.duckdb"),
    batch: Annotated[int | None, typer.Option(help="One batch (default: each source's last).")]
    = None,
    source: Annotated[str | None, typer.Option(help="One source.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise quarantined rows by field and reason, with example row numbers."""
    try:
        rows = services.quarantine_summary(db, batch, source)
    except AccordError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    _table(["batch", "source", "field", "reason", "rows", "example rows"],
           [list(r.values()) for r in rows])


@app.command()
def resolve(
    db: DbOption = Path("accord.duckdb"),
    user: UserOption = "system",
    settings: Annotated[Path | None, typer.Option(help="Settings YAML (default: built in).")]
    = None,
    model_out: Annotated[Path | None, typer.Option("--model-out",
                                                   help="Save the trained model (JSON).")] = None,
    model_in: Annotated[Path | None, typer.Option("--model", help="Use a saved model instead "
                                                  "of training.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Directory for the model charts "
                                                "(default: <db>-charts beside the store).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Link and cluster all current records into persons with stable ids."""
    try:
        with _progress(not as_json) as p:
            summary = services.resolve(db, user=user, settings=settings, model_out=model_out,
                                       model_in=model_in, charts_dir=charts,
                                       step=_step_callback(p))
    except AccordError as e:
        _fail(e)
    if as_json:
        d = summary.to_dict()
        d.pop("model")
        out.print_json(json.dumps(d))
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
    db: DbOption = Path("accord.duckdb"),
    as_json: JsonOption = False,
) -> None:
    """Linkage quality against ground truth: pairwise and B-cubed precision and recall."""
    try:
        metrics = services.evaluate(db, truth)
    except AccordError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(metrics))
        return
    _table(["metric", "value"], [[k, v] for k, v in metrics.items()])


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the demo world and store go.")]
    = Path("accord-demo"),
    persons: Annotated[int, typer.Option("--persons", min=100)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """The whole path on a synthetic world: generate, ingest, summarise."""
    try:
        with _progress() as p:
            result = services.demo(out_dir, persons, seed, step=_step_callback(p),
                                   rows=_rows_callback(p, "rows"))
    except AccordError as e:
        _fail(e)
    out.rule(f"Accord demo: {persons:,} synthetic persons, seed {seed}")
    _table(["source", "system", "rows read", "accepted", "quarantined", "seconds"],
           [[r.source, r.system, r.rows_read, r.accepted, r.quarantined, f"{r.seconds:.2f}"]
            for r in result.ingests], title=f"ingested into {result.db}")
    total = sum(r.rows_read for r in result.ingests)
    quarantined = sum(r.quarantined for r in result.ingests)
    out.print(f"{total:,} rows read, {total - quarantined:,} stored, {quarantined:,} quarantined "
              f"with reasons (accord quarantine --db {result.db})", highlight=False)
    r = result.resolution
    out.print(f"resolved: {r.records:,} records -> {r.entities:,} persons; {r.links:,} links, "
              f"{r.review:,} for review, {r.rejected_links:,} rejected by guards "
              f"[{r.seconds:.1f} s]; model charts: {', '.join(r.charts)}", highlight=False)
    q = result.quality
    _table(["measure", "value"],
           [[k, q[k]] for k in ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision",
                                "bcubed_recall", "records", "entities", "true_persons",
                                "entities_mixing_persons")],
           title=f"linkage quality against {result.world.truth_path}")


def _table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c in {"rows", "records", "versions"} else "left")
    for r in rows:
        table.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
                        for v in r])
    out.print(table)


def main() -> None:
    os.environ.setdefault("COLUMNS", "120") if not sys.stdout.isatty() else None
    app()
