"""Checks on the files and folders a command is given, made before anything changes: a command
that would fail writing its output refuses at the start, naming the option and the path,
instead of failing after it changed the store (and leaving data changed under a "failed"
audit event)."""

from __future__ import annotations

import os
from pathlib import Path

from accord.errors import AccordError


def input_file(path: Path, option: str, what: str = "file") -> Path:
    """``path``, a file that exists and can be read (``what`` names it: "labels file")."""
    if not path.exists():
        raise AccordError(f"{option} {path}: no such {what}")
    if not path.is_file():
        raise AccordError(f"{option} {path}: not a file (give a file, not a folder)")
    if not os.access(path, os.R_OK):
        raise AccordError(f"{option} {path}: cannot be read (permission denied)")
    return path


def output_file(path: Path, option: str) -> Path:
    """``path``, where a file can be written: not a folder, in a folder that exists and can be
    written to (an existing file is replaced)."""
    if path.is_dir():
        raise AccordError(f"{option} {path}: is a folder (give the path of a file to write)")
    folder = path.parent
    if not folder.is_dir():
        said = "does not exist" if not folder.exists() else "is not a folder"
        raise AccordError(f"{option} {path}: the folder {folder} {said} (create it first); "
                          "nothing was changed")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise AccordError(f"{option} {path}: cannot be written (permission denied); nothing was changed")
    return path


def output_folder(path: Path, option: str) -> Path:
    """``path``, a folder files can be written into: an existing folder, or one that can be made
    (its nearest existing parent is a folder that can be written to)."""
    if path.exists():
        if not path.is_dir():
            raise AccordError(f"{option} {path}: a file of that name exists (give a folder); "
                              "nothing was changed")
        if not os.access(path, os.W_OK):
            raise AccordError(f"{option} {path}: cannot be written to (permission denied); "
                              "nothing was changed")
        return path
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise AccordError(f"{option} {path}: {parent} is a file, so the folder cannot be made; "
                          "nothing was changed")
    if not os.access(parent, os.W_OK):
        raise AccordError(f"{option} {path}: the folder cannot be made in {parent} (permission denied); "
                          "nothing was changed")
    return path
