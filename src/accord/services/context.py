"""Opening a store behind the gate: what every service operation starts with.

A command-line operation opens the store, works and closes it. A long-running server calls
:func:`keep_open` once: its threads then reuse one connection each to the open store instead
of opening the file for every request.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Hashable, Iterator
from datetime import date
from typing import Any, TypeVar

from accord.governance.gate import Gate
from accord.store import Store, StoreTarget, open_store, store_key

T = TypeVar("T")
_KEPT: dict[str, Store] = {}
_KEPT_LOCK = threading.Lock()
_THREAD = threading.local()


def keep_open(db: StoreTarget) -> None:
    """Keep the store at ``db`` open for this process (a server's lifetime)."""
    key = store_key(db)
    with _KEPT_LOCK:
        if key not in _KEPT:
            _KEPT[key] = open_store(db, create=False)


def release(db: StoreTarget) -> None:
    """Close a store kept open by :func:`keep_open` (each thread's connection with it)."""
    with _KEPT_LOCK:
        root = _KEPT.pop(store_key(db), None)
    if root is not None:
        root.close()


def reuse(db: StoreTarget, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, kept while the store kept open at ``db`` has the same data version
    (:meth:`accord.store.Store.reuse`); read afresh when the store is not kept open. ``None`` is
    not kept. For what a server would otherwise read for every request (the user a token
    belongs to): a token revoked or a user deactivated through any store object on the file
    moves the data version, and the next request reads it again."""
    root = _KEPT.get(_resolved(db)) if _KEPT else None
    return read() if root is None else root.reuse(key, read)


def kept(db: StoreTarget, key: Hashable) -> Any:
    """What :func:`reuse` keeps under ``key`` for the store at ``db`` at its current data
    version; None if nothing."""
    root = _KEPT.get(_resolved(db)) if _KEPT else None
    return None if root is None else root.shared.cache.get(key, root.data_version())


# What the command line says about who is acting (``cli_origin``): its operations ask for the
# default origin "cli", which becomes this while the command runs.
_CLI_ORIGIN: contextvars.ContextVar[str | None] = contextvars.ContextVar("accord_cli_origin", default=None)


@contextlib.contextmanager
def cli_origin(origin: str) -> Iterator[None]:
    """Within this block, operations asked for with origin ``cli`` record ``origin`` instead
    (the command line says whether its user was authenticated, and how)."""
    reset = _CLI_ORIGIN.set(origin)
    try:
        yield
    finally:
        _CLI_ORIGIN.reset(reset)


_RESOLVED: dict[StoreTarget, str] = {}


def _resolved(db: StoreTarget) -> str:
    """The key of ``db`` (:func:`accord.store.store_key`), remembered (resolving a path asks the
    file system every time)."""
    found = _RESOLVED.get(db)
    if found is None:
        if len(_RESOLVED) > 1024:
            _RESOLVED.clear()
        found = _RESOLVED[db] = store_key(db)
    return found


def _thread_store(key: str, root: Store) -> Store:
    stores: dict[str, tuple[Store, Store]] = _THREAD.__dict__.setdefault("stores", {})
    held = stores.get(key)
    if held is None or held[0] is not root:      # first use here, or the store was reopened
        held = (root, root.cursor())
        stores[key] = held
    return held[1]


@contextlib.contextmanager
def governed(db: StoreTarget, *, origin: str = "cli", today: date | None = None,
             create: bool = False) -> Iterator[Gate]:
    """A gate over the store at ``db``. Only ``accord init`` creates a store; everything else
    needs one that exists (so a typo in --db never leaves an empty store behind)."""
    if origin == "cli":
        origin = _CLI_ORIGIN.get() or origin
    if _KEPT:
        key = _resolved(db)
        root = _KEPT.get(key)
        if root is not None:
            store = _thread_store(key, root)
            with store.pinned():
                yield Gate(store, origin=origin, today=today)
            return
    with open_store(db, create=create) as store, store.pinned():
        yield Gate(store, origin=origin, today=today)


def gate_over(store: Store, *, origin: str = "cli", today: date | None = None) -> Gate:
    """A gate over a store the caller opened itself: the new store a store copy fills, which
    exists only once the copy begins (``accord.services.store_admin``)."""
    if origin == "cli":
        origin = _CLI_ORIGIN.get() or origin
    return Gate(store, origin=origin, today=today)
