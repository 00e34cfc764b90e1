"""What every command shares: the app, consoles, options, progress, errors and tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord import __version__
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
UserOption = Annotated[str | None, typer.Option("--user", envvar="ACCORD_USER", show_default=False,
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
def progress_bars(enabled: bool = True) -> Iterator[Progress]:
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=err,
                        disable=not enabled or not err.is_terminal, transient=True)
    with progress:
        yield progress


def step_callback(progress: Progress) -> Callable[[str, float], None]:
    task = progress.add_task("starting", total=1.0, detail="")

    def step(label: str, fraction: float) -> None:
        progress.update(task, description=label, completed=fraction)

    return step


def rows_callback(progress: Progress, label: str) -> Callable[[int], None]:
    task = progress.add_task(label, total=None, detail="")

    def rows(n: int) -> None:
        progress.update(task, detail=f"{n:,} rows")

    return rows


def fail(e: AccordError) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    tbl = Table(title=title)
    for c in columns:
        tbl.add_column(c, justify="right" if c in {"rows", "records", "versions"} else "left")
    for r in rows:
        tbl.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
                        for v in r])
    out.print(tbl)

def who(user: str | None) -> str:
    """The acting user; every command that touches a store acts as a registered user."""
    if not user:
        fail(AccordError("name the acting user with --user or ACCORD_USER "
                          "(see `accord users list`; `accord init` creates the first admin)"))
    assert user is not None
    return user


def as_json_out(value: Any) -> None:
    out.print_json(json.dumps(value, default=str))
