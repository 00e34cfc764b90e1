"""What ``accord ingest`` is given, as the extracts to ingest one by one.

The paths are read left to right, by what each one is, so that every command line has one
meaning:

* a folder stands for every mapping in it (``*.yaml`` or ``*.yml``, not its sub-folders),
  sorted by name;
* a path ending in ``.yaml`` or ``.yml`` is a mapping, and so is the first path, whatever its
  name (``accord ingest MAPPING [FILE]`` has always taken a mapping first);
* any other path is the data file of the mapping just before it, read instead of that
  mapping's ``file:`` (``accord ingest court.yaml court-2024.csv``).

A data file with no mapping just before it (after another data file, or after a folder) is a
mistake in the command line and is refused before anything is ingested.

Then each extract is ingested on its own (:func:`ingest_each`): its own batch, its own
transaction, its own result; a file's own problem does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from rich.markup import escape

from accord.cli.common import Deferred, describe, err, fail, out, progress_bars, rows_callback
from accord.errors import AccordError, MappingError, SourceFileError, StoreError

if TYPE_CHECKING:
    from accord import services
    from accord.ingest import IngestResult
else:
    services = Deferred("accord.services")   # imported when a command runs

MAPPING_SUFFIXES = (".yaml", ".yml")
INIT_ADMIN = "admin"   # the administrator `accord ingest --init` creates, as `accord init` does


@dataclass(frozen=True)
class Extract:
    """One extract to ingest: its mapping, and the data file named for it (None: the mapping's
    ``file:``)."""

    mapping: Path
    file: Path | None = None


@dataclass(frozen=True)
class Extracts:
    items: list[Extract]
    several: bool    # a folder or more than one mapping: one result each, a list in --json


def is_mapping(path: Path) -> bool:
    return path.suffix.lower() in MAPPING_SUFFIXES


def mappings_in(folder: Path) -> list[Path]:
    """The mappings in ``folder``, sorted by name; a folder without any is an error."""
    try:
        found = sorted(p for p in folder.iterdir() if p.is_file() and is_mapping(p))
    except OSError as e:
        raise AccordError(f"{folder}: cannot list this folder ({e.strerror or e})") from None
    if not found:
        raise AccordError(f"{folder}: no mapping (*.yaml or *.yml) in this folder")
    return found


def extracts(paths: Sequence[Path]) -> Extracts:
    """The extracts ``paths`` name (see the module docstring), in order."""
    items: list[Extract] = []
    folders = False
    after_mapping = False       # whether the previous path was a mapping (so may take a data file)
    for i, path in enumerate(paths):
        if path.is_dir():
            items.extend(Extract(m) for m in mappings_in(path))
            folders, after_mapping = True, False
        elif i == 0 or is_mapping(path):
            items.append(Extract(path))
            after_mapping = True
        elif after_mapping:
            items[-1] = Extract(items[-1].mapping, path)
            after_mapping = False
        else:
            before = "a folder" if paths[i - 1].is_dir() else f"the data file {paths[i - 1]}"
            raise AccordError(
                f"{path}: a data file (not a .yaml mapping) must follow its mapping, but it follows "
                f"{before}; give it as MAPPING.yaml {path.name}")
    if not items:
        raise AccordError("name at least one mapping (MAPPING.yaml) or folder of mappings")
    return Extracts(items, several=folders or len(items) > 1)


Outcome: TypeAlias = "list[tuple[Extract, IngestResult | AccordError]]"


def ingest_each(db: str, given: Extracts, acting: str, *, init: bool,
                shown: Callable[[IngestResult, str], None] | None,
                accept_failure_rate: float | None = None) -> tuple[Outcome, AccordError | None]:
    """Ingest the extracts one by one, each its own batch, each result ``shown`` as it comes and
    each failure said on stderr (``shown`` None: nothing said, for --json). A file's own problem
    (its mapping, its data) is recorded and the next one goes ahead; any other error (the store,
    the user) would be the same for every file and stops the run: it comes back as the second
    value. A single extract's error ends the command (with its exit code, docs/cli.md)."""
    done: Outcome = []
    with progress_bars(shown is not None) as p:
        for ex in given.items:
            try:
                result = services.ingest(db, ex.mapping, ex.file, user=acting,
                                         progress=rows_callback(p, f"ingest {ex.mapping.name}"),
                                         accept_failure_rate=accept_failure_rate)
            except AccordError as e:
                if not given.several:
                    fail(missing_store_hint(e, db, init))
                done.append((ex, e))
                if not isinstance(e, (MappingError, SourceFileError)):
                    return done, e
                if shown is not None:
                    err.print(f"[red]error:[/red] {escape(failure(ex, e))}", highlight=False,
                              soft_wrap=True)
                continue
            done.append((ex, result))
            if shown is not None:
                shown(result, db)
    return done, None


def create_store(db: str, engineer: str, *, quiet: bool) -> None:
    """``accord ingest --init``: a new store (as ``accord init``) with the acting user registered
    as its data engineer, so that they can ingest and resolve in it."""
    from accord.governance.users import well_formed_user_id

    if engineer == INIT_ADMIN:
        raise AccordError(f"--init makes '{INIT_ADMIN}' the new store's administrator, who does not "
                          "ingest: give the data engineer's user id with --user")
    if not well_formed_user_id(engineer):
        raise AccordError(f"--user {engineer!r}: a user id is 2-64 lowercase letters, digits, '.', "
                          "'_' or '-' (it becomes the new store's data engineer)")
    try:
        services.init(db, admin=INIT_ADMIN)
    except StoreError as e:
        raise StoreError(f"{e}: leave out --init to ingest into it") from None
    services.add_user(db, engineer, engineer, ["data_engineer"], None, user=INIT_ADMIN)
    if not quiet:
        out.print(f"store {describe(db)} created; administrator: {INIT_ADMIN}; data engineer: {engineer}",
                  highlight=False)


def missing_store_hint(e: AccordError, db: str, init: bool) -> AccordError:
    """``e``, saying that --init creates the store when the store it could not open does not exist."""
    from accord.store.target import file_exists

    if isinstance(e, StoreError) and not init and file_exists(db) is False:
        return StoreError(f"{e}; or add --init to this command to create it")
    return e


def failure(ex: Extract, e: AccordError) -> str:
    """What failed and where: the error, led by the mapping unless it names it already."""
    message = str(e)
    if str(ex.mapping) not in message:
        message = f"{ex.mapping}: {message}"
    if isinstance(e, MappingError):
        message += " (nothing was loaded)"
    return message


def ingest_json(ex: Extract, r: IngestResult | AccordError) -> dict[str, Any]:
    """One extract's result as --json prints it: the batch's reconciliation (with the mapping and
    ``"error": null``), or the mapping, the file given and what failed."""
    if isinstance(r, AccordError):
        return {"mapping": str(ex.mapping), "file": str(ex.file) if ex.file else None,
                "error": failure(ex, r)}
    return {"mapping": str(ex.mapping), **r.to_dict(), "error": None}
