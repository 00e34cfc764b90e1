"""Mapping commands: ``accord mapping check MAPPING [FILE]``, a dry run of a mapping on a sample
of its extract (no store: nothing is stored, and no value is shown)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import Deferred, JsonOption, app, as_json_out, command_group, fail, out, table
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord import services
    from accord.services.results import MappingCheckOut
else:
    services = Deferred("accord.services")   # imported when a command runs

mapping_app = command_group("Mappings: check one against its extract before ingesting.")
app.add_typer(mapping_app, name="mapping")

SAMPLE_ROWS = 10_000


@mapping_app.command("check")
def check(
    mapping: Annotated[Path, typer.Argument(metavar="MAPPING", show_default=False,
                                            help="The mapping (.yaml).")],
    file: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", show_default=False,
        help="The data file (default: the mapping's file:).")] = None,
    sample: Annotated[int, typer.Option(
        "--sample", metavar="N", min=1, help="How many rows to read from the start of the file.")]
    = SAMPLE_ROWS,
    accept_failure_rate: Annotated[float | None, typer.Option(
        "--accept-failure-rate", metavar="SHARE", min=0.0, max=1.0, show_default=False,
        help="The share of rows one field may fail on, as for `accord ingest` (default 0.2).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Dry-run a mapping on the first rows of its extract: the file's columns, per field the rows
    with a value and the rows that fail (flagged or quarantined) with the most common reason, a
    date format that reads a failing date field, whether the record system is registered, and
    whether `accord ingest` would refuse the file. Exit 0 when ingest would take it, 1 when it
    would refuse it, 2 when the mapping or the file cannot be read."""
    try:
        c = services.mapping_check(mapping, file, sample=sample, accept_failure_rate=accept_failure_rate)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(c)
    else:
        _show(c)
    if not c.ok:
        raise typer.Exit(1)


def _show(c: MappingCheckOut) -> None:
    out.print(f"{c.mapping}: source {c.source}, system {c.system}, {c.format}", highlight=False)
    if c.system_problem:
        out.print(f"[red]system:[/red] {c.system_problem}", highlight=False)
    unused = f"; not mapped: {', '.join(c.unused_columns)}" if c.unused_columns else ""
    out.print(f"{c.file}: {len(c.columns)} columns: {', '.join(c.columns)}{unused}", highlight=False,
              markup=False)
    out.print(f"{c.rows:,} rows read ({'the whole file' if c.whole_file else 'the first rows of the file'})",
              highlight=False)
    table(["field", "column", "values", "failed", "of rows", "then", "most common reason"],
          [[f.field, f.column or "", f.values, f.failed, f"{f.rate:.0%}", f.outcome if f.failed else "",
            f.reason or ""] for f in c.fields])
    for f in c.fields:
        if f.suggested_formats:
            formats = " or ".join(f'"{s}"' for s in f.suggested_formats)
            out.print(f"{f.field}: format {formats} reads {f.suggestion_reads:,} of its {f.values:,} values",
                      highlight=False, markup=False)
    limit = f"{c.max_failure_rate * 100:g}%"
    if c.refused:
        fields = ", ".join(c.refused)
        out.print(f"[red]ingest would refuse this file:[/red] more than {limit} of its rows fail {fields} "
                  "(fix the mapping, or accept the rate with --accept-failure-rate)", highlight=False)
    elif c.system_problem:
        out.print("[red]ingest would refuse this mapping:[/red] its record system is not registered",
                  highlight=False)
    else:
        out.print(f"ingest would take this file: no field fails on more than {limit} of the rows read",
                  highlight=False)
