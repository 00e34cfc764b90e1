"""The files audited exports are written to: CSV or JSON Lines, made only by their owner.

A target is checked before anything is read (:func:`target`), so that a mistyped path or format
fails before the gate records a read; the rows are written only after the export's audit event
has committed (:func:`write`, called by ``accord.services.exports`` once the gate returned).
An export never overwrites a file: the file is created new, readable by its owner only (0600),
and removed again if writing it fails.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import AccordError

FORMATS = ("csv", "jsonl")


class ExportError(AccordError):
    """An export file could not be written: the target, the format or the disk."""


@dataclass(frozen=True)
class Target:
    """Where an export goes and in which format."""

    path: Path
    format: str

    def describe(self) -> dict[str, Any]:
        """What the audit event records of the target: the file and the format."""
        return {"file": str(self.path), "format": self.format}


def target(path: Path, fmt: str | None) -> Target:
    """The export target ``path`` in format ``fmt`` (by default the file's suffix: .csv or
    .jsonl); refused, saying why, when the format is unknown, the folder is missing or the
    file already exists."""
    if fmt is None:
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ExportError(f"{path}: give --format csv or --format jsonl (the file's suffix "
                              f"{path.suffix or '(none)'!r} does not say which)")
    if fmt not in FORMATS:
        raise ExportError(f"--format must be csv or jsonl, not {fmt!r}")
    if path.exists():
        raise ExportError(f"{path} already exists; an export never overwrites a file: name a new one")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist")
    return Target(path.absolute(), fmt)


def _cell(value: Any) -> Any:
    """A CSV cell: empty for a missing value, JSON text for a list or an object."""
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def write(to: Target, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (each with ``columns``) to the new file ``to``; CSV has a header row."""
    try:
        fd = os.open(to.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportError(f"{to.path} already exists; an export never overwrites a file: name a new one") \
            from None
    except OSError as e:
        raise ExportError(f"{to.path}: cannot create the export file ({e.strerror})") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as f:
            if to.format == "csv":
                w = csv.writer(f)
                w.writerow(columns)
                for row in rows:
                    w.writerow([_cell(row.get(c)) for c in columns])
            else:
                for row in rows:
                    f.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, default=str))
                    f.write("\n")
    except OSError as e:
        to.path.unlink(missing_ok=True)
        raise ExportError(f"{to.path}: writing the export failed ({e.strerror}); the file was removed") \
            from None
