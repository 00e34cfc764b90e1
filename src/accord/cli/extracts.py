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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from accord.errors import AccordError

MAPPING_SUFFIXES = (".yaml", ".yml")


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
