"""Tables owned by resolution: runs, links, review queue, entities and their history, the
per-view partitions (``views.py``), and the incremental path's queue and updates
(``queue.py``, ``incremental.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.store import Store

DDL: list[str] = [
    "CREATE SEQUENCE IF NOT EXISTS resolution_run_seq START 1",
    "CREATE SEQUENCE IF NOT EXISTS entity_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS resolution_runs (
  run_id BIGINT PRIMARY KEY,
  user_id VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL,
  records BIGINT NOT NULL,
  pairs BIGINT NOT NULL,
  links BIGINT NOT NULL,
  review BIGINT NOT NULL,
  entities BIGINT NOT NULL,
  rejected_links BIGINT NOT NULL,
  model JSON NOT NULL,
  settings JSON NOT NULL,
  blocking JSON NOT NULL
)""",
    # Scored links of the latest run at or above the review threshold (rid-free: by record).
    """CREATE TABLE IF NOT EXISTS links (
  run_id BIGINT NOT NULL,
  source_l VARCHAR NOT NULL, record_id_l VARCHAR NOT NULL,
  source_r VARCHAR NOT NULL, record_id_r VARCHAR NOT NULL,
  match_weight DOUBLE NOT NULL,
  match_probability DOUBLE NOT NULL,
  status VARCHAR NOT NULL  -- linked | review | rejected_by_guard
)""",
    """CREATE TABLE IF NOT EXISTS entity_members (
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  entity_id VARCHAR NOT NULL,
  run_id BIGINT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS entity_events (
  run_id BIGINT NOT NULL,
  event_at TIMESTAMPTZ NOT NULL,
  event VARCHAR NOT NULL,     -- merge | split | retired
  entity_id VARCHAR NOT NULL,
  related_ids VARCHAR[] NOT NULL,
  records BIGINT NOT NULL,
  reason VARCHAR NOT NULL
)""",
    # Record versions waiting to be resolved (accord.resolve.queue), and what each incremental
    # update did (accord.resolve.incremental).
    "CREATE SEQUENCE IF NOT EXISTS resolution_queue_seq START 1",
    """CREATE TABLE IF NOT EXISTS resolution_queue (
  seq BIGINT PRIMARY KEY,
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,   -- the record version to resolve (0: its current one, whichever)
  reason VARCHAR NOT NULL,    -- new_version | correction | shared_identifier | block_limit
  queued_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS resolution_updates (
  run_id BIGINT PRIMARY KEY,  -- drawn from resolution_run_seq: links, members, events carry it
  base_run BIGINT NOT NULL,   -- the batch run whose settings and model scored it
  user_id VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL,
  records BIGINT NOT NULL,    -- records taken from the queue
  neighbourhood BIGINT NOT NULL,  -- records clustered again
  pairs BIGINT NOT NULL,
  persons_changed BIGINT NOT NULL,
  deferred BIGINT NOT NULL    -- records it queued for re-evaluation
)""",
    # Per-view partitions (accord.resolve.views): only where a view differs from the full run.
    """CREATE TABLE IF NOT EXISTS view_members (
  view VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  entity_id VARCHAR NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS view_links (
  view VARCHAR NOT NULL,
  source_l VARCHAR NOT NULL, record_id_l VARCHAR NOT NULL,
  source_r VARCHAR NOT NULL, record_id_r VARCHAR NOT NULL,
  status VARCHAR NOT NULL  -- linked | rejected_by_guard
)""",
]


# --- version bookkeeping (accord.migrations) ---------------------------------------------------

def latest_run(store: Store) -> int | None:
    """The latest resolution run (None before the first)."""
    run = store.scalar("SELECT max(run_id) FROM resolution_runs")
    return None if run is None else int(run)


def outdated_run(store: Store) -> int | None:
    """The latest resolution run if it was made before schema version 2 (per-view partitions,
    and statistics over the statistics base: a run since then leaves ``features.in_base``)."""
    run = latest_run(store)
    if run is None:
        return None
    since = store.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                         "current_schema() AND table_name = 'features' AND column_name = 'in_base'")
    return None if since else run
