"""Where a store is: the value of ``--db`` (or ``ACCORD_DB``).

A ``postgresql://`` (or ``postgres://``) URL names a PostgreSQL store and stays a string;
anything else is the path of an embedded DuckDB store file. Every command, service and the
server take a :data:`StoreTarget`; this module is the one place that tells the two apart for
what is not the engine's business: whether the store exists yet, how to name it in a message
(never with a password) and the key under which a process keeps it open.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TypeAlias
from urllib.parse import urlsplit, urlunsplit

from accord.store.dialect import is_postgres

StoreTarget: TypeAlias = str | Path
ENV_VAR = "ACCORD_DB"


def store_target(value: str | Path) -> StoreTarget:
    """``value`` as a store target: a PostgreSQL URL as given, anything else as a path."""
    if isinstance(value, Path):
        return value
    text = value.strip()
    if is_postgres(text):
        return text
    return Path(text)


def is_url(target: StoreTarget) -> bool:
    return is_postgres(target)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe(target: StoreTarget) -> str:
    """The target as a message names it (a URL without its password)."""
    return redacted(target) if isinstance(target, str) and is_postgres(target) else str(target)


def store_key(target: StoreTarget) -> str:
    """The key a process keeps an open store under: the absolute path, or the URL."""
    if isinstance(target, str) and is_postgres(target):
        return target
    return str(Path(target).resolve())


def file_exists(target: StoreTarget) -> bool | None:
    """Whether the embedded store's file exists; None for a PostgreSQL store (the database says,
    when it is opened)."""
    if isinstance(target, str) and is_postgres(target):
        return None
    return Path(target).exists()


def beside(target: StoreTarget, suffix: str) -> Path:
    """A folder for files that go with the store (charts, sample agreements): beside the store
    file; for a PostgreSQL store, in the user's data folder (``$XDG_DATA_HOME/accord``, by
    default ``~/.local/share/accord``), named for the server and database, never in whatever
    folder the command happens to run in."""
    if isinstance(target, str) and is_postgres(target):
        parts = urlsplit(target)
        database = parts.path.strip("/") or "accord"
        server = f"{parts.hostname or 'local'}{'-' + str(parts.port) if parts.port else ''}"
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{server}-{database}")
        return data_home() / f"{name}{suffix}"
    path = Path(target)
    return path.with_name(path.stem + suffix)


def data_home() -> Path:
    """Where Accord keeps a user's files that belong to no store file: ``$XDG_DATA_HOME/accord``
    (by default ``~/.local/share/accord``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "accord"
