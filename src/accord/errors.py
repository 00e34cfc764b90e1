"""Errors that reach people: each says what went wrong and where.

Every error has a ``kind``, which the front ends turn into their answer: the command line's
exit code and ``--json`` error object (``accord.cli.common``), the API's status code
(``accord.api.app``). ``bad_input`` is every Accord error that says nothing more specific.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base class for errors shown to users: the request cannot be carried out as given."""

    kind = "bad_input"


class NotFound(AccordError):
    """What the request names does not exist, or is not visible under the declared purpose."""

    kind = "not_found"


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

    kind = "store_unavailable"
