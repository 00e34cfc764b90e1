"""Serving with several worker processes (``accord serve --workers N``).

uvicorn's supervisor binds the socket once and starts ``N`` worker processes that share it; each
worker builds the app with :func:`worker_app` (an import string with ``factory=True``), finds
the store in its environment (``ACCORD_DB``, never on a command line, where a password in the
URL would show in the process list), keeps it open for its lifetime and closes it on shutdown.
The supervisor checks its workers every half second and starts a new one in place of any that
died (uvicorn >= 0.30); a worker that cannot start (the store cannot be opened) stops the whole
service instead of being restarted over and over.

Only a PostgreSQL store can be served by several processes: one process at a time may open an
embedded DuckDB file. What a worker keeps in memory is listed in docs/deploy.md with why it is
right with several workers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from accord.errors import AccordError
from accord.store.target import ENV_VAR, StoreTarget, is_url

log = logging.getLogger("accord.api")

STORE_SETTING = ENV_VAR              # how the store reaches the workers: ACCORD_DB
WORKER_APP = "accord.api.workers:worker_app"


def refuse_workers(db: StoreTarget, workers: int) -> str | None:
    """Why ``db`` cannot be served by ``workers`` processes; None when it can."""
    if workers < 1:
        return f"--workers {workers}: give the number of worker processes, 1 or more"
    if workers > 1 and not is_url(db):
        return (f"--workers {workers}: an embedded DuckDB store is opened by one process at a time, so "
                "it is served by one worker; leave --workers out, or serve a PostgreSQL store (--db "
                "postgresql://..., or ACCORD_DB) with several workers (docs/deploy.md)")
    return None


@asynccontextmanager
async def _kept_open(app: FastAPI) -> AsyncIterator[None]:
    """The worker's lifetime: the store kept open from startup (a store that cannot be opened
    fails the startup) to shutdown."""
    from accord.services.context import keep_open, release

    db: StoreTarget = app.state.db
    try:
        await run_in_threadpool(keep_open, db)
    except AccordError as e:
        log.error("worker %d: %s", os.getpid(), e)
        raise
    try:
        yield
    finally:
        await run_in_threadpool(release, db)


def worker_app() -> FastAPI:
    """The app of one worker process, over the store named by ``ACCORD_DB``."""
    from accord.api.app import create_app

    db = os.environ.get(STORE_SETTING, "").strip()
    if not db:
        raise AccordError(f"{STORE_SETTING} is not set: a worker process finds its store there "
                          "(`accord serve --workers N` sets it)")
    return create_app(db, lifespan=_kept_open)
