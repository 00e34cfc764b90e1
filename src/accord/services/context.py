"""Opening a store behind the gate: what every service operation starts with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from accord.errors import StoreError
from accord.governance.gate import Gate
from accord.store import Store


@contextlib.contextmanager
def governed(db: Path, *, origin: str = "cli", today: date | None = None,
             create: bool = False) -> Iterator[Gate]:
    """A gate over the store at ``db``. Only ``accord init`` creates a store; everything else
    needs one that exists (so a typo in --db never leaves an empty store behind)."""
    if not create and not Path(db).exists():
        raise StoreError(f"{db}: no such store (create one with `accord init --db {db}` "
                         "or run `accord demo`)")
    with Store(db) as store:
        yield Gate(store, origin=origin, today=today)
