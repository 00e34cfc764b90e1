"""Errors that reach people: each says what went wrong and where."""

from __future__ import annotations


class AccordError(Exception):
    """Base class for errors shown to users (exit code 2 on the CLI)."""


class MappingError(AccordError):
    def __init__(self, path: str, line: int | None, key: str | None, message: str) -> None:
        self.path, self.line, self.key, self.message = path, line, key, message
        where = path + (f":{line}" if line else "")
        what = f" [{key}]" if key else ""
        super().__init__(f"{where}{what}: {message}")


class SourceFileError(AccordError):
    """A data file that cannot be read as its mapping declares; nothing was loaded."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path, self.line, self.message = path, line, message
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {message} (nothing was loaded)")


class StoreError(AccordError):
    """The store cannot be opened or is not an Accord store."""
