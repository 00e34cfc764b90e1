"""What list commands share: the page a list prints under ``--json``, and the options and
message of an audited export (``--out FILE --format csv|jsonl``).

Under ``--json`` every list is one object: ``items``, and the paging fields the command has —
``total`` when the whole list is known, ``limit``, ``offset`` and ``next_offset`` (null on the
last page) when it pages by offset, ``next_before`` when it pages back by audit seq.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.cli.common import out

OutOption = Annotated[Path | None, typer.Option(
    "--out", show_default=False, dir_okay=False,
    help="Export the whole selection (not a page) to this new file instead of printing it: an "
         "audited export, recorded with its format and row count.")]
FormatOption = Annotated[str | None, typer.Option(
    "--format", show_default=False, help="Export format: csv or jsonl (default: from the --out suffix).")]
JsonAlwaysOption = Annotated[bool, typer.Option(
    "--json", help="Print one JSON object (this command always does; accepted like every command's).")]


def whole(items: list[Any]) -> dict[str, Any]:
    """A list printed whole: every item, and how many."""
    return {"items": items, "total": len(items), "limit": None, "offset": 0, "next_offset": None}


def fetch_size(limit: int, cap: int) -> int:
    """How many to ask a service for: one more than the page, to tell whether another follows
    (within the service's cap)."""
    return min(limit + 1, cap)


def window(items: list[Any], limit: int, offset: int, cap: int | None = None, **extra: Any) -> dict[str, Any]:
    """A page of ``items``, which were fetched with :func:`fetch_size` after ``offset``: an
    extra item says that another page follows (a full page as large as the service's ``cap``,
    that another may)."""
    more = len(items) > limit or (cap is not None and limit >= cap and len(items) >= cap)
    return {"items": items[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None, **extra}


def refuse_paging_with_out(export: Path | None, **given: int | None) -> None:
    """An export writes the whole selection: a page option beside --out is a mistake, said so."""
    named = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is not None]
    if export is not None and named:
        from accord.cli.common import fail
        from accord.errors import AccordError

        fail(AccordError(f"--out exports the whole selection; leave out {' and '.join(named)}"))


def exported(result: Any, what: str) -> None:
    """The line an export prints (its JSON form is the result itself)."""
    out.print(f"exported {result.rows:,} {what} to {result.file} ({result.format}); audit event "
              f"{result.audit_event}", highlight=False)


def export_instead(export: Path | None, fmt: str | None, as_json: bool, what: str,
                   run: Callable[[Path], Any], **paging: int | None) -> bool:
    """The export branch every listing with --out shares: with --out, run the export (``run``,
    given the target) and print it, and the command is done (True); without it, a --format is
    a mistake, and the command lists as usual (False)."""
    from accord.cli.common import as_json_out, fail
    from accord.errors import AccordError

    refuse_paging_with_out(export, **paging)
    if export is None:
        if fmt is not None:
            fail(AccordError("--format goes with --out"))
        return False
    try:
        done = run(export)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(done)
    else:
        exported(done, what)
    return True
