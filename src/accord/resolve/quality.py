"""Linkage-quality counts that need no truth file: what the latest resolution produced and what
it set aside (review queue, guard rejections, identifiers switched off, quarantined rows).

Aggregate counts only: no person ids, no record ids, no names and no identifier values — the
report is for oversight and engineering, who read no person data.
"""

from __future__ import annotations

import json
from typing import Any

from accord.ingest.reads import current_by_source, quarantined_last_batches
from accord.store import Store

# Entity size buckets (records per person id): exact to 5, then ranges.
SIZE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4", 4, 4), ("5", 5, 5),
    ("6-10", 6, 10), ("11-20", 11, 20), ("21+", 21, None),
)
LINK_STATUSES = ("linked", "review", "rejected_by_guard")
SHARED_TABLE = "resolve_shared_identifiers"  # accord.resolve.working.SHARED


def _table_exists(store: Store, name: str) -> bool:
    return bool(store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_type = 'BASE TABLE' AND table_catalog = current_database() "
        "AND table_schema = current_schema()", [name]))


def records(store: Store) -> dict[str, Any]:
    """Current records (newest version of each), in total and by source."""
    by_source = current_by_source(store)
    return {"current": sum(by_source.values()), "by_source": by_source}


def entities(store: Store) -> dict[str, Any]:
    """Person ids of the latest run and how many records each holds, bucketed."""
    rows = store.query("SELECT n, count(*) FROM (SELECT entity_id, count(*) AS n FROM entity_members "
                       "GROUP BY entity_id) e GROUP BY n ORDER BY n")
    sizes = {int(n): int(c) for n, c in rows}
    buckets = [{"size": label, "persons": sum(c for n, c in sizes.items()
                                              if n >= lo and (hi is None or n <= hi))}
               for label, lo, hi in SIZE_BUCKETS]
    persons = sum(sizes.values())
    linked_records = sum(n * c for n, c in sizes.items())
    return {"persons": persons, "records": linked_records, "singletons": sizes.get(1, 0),
            "largest": max(sizes, default=0),
            "mean_records": round(linked_records / persons, 3) if persons else 0.0,
            "size_distribution": buckets}


def links(store: Store) -> dict[str, Any]:
    """Scored links of the latest run by status; the review queue (links and the person ids
    whose records they touch, which a person must resolve before any work list lists them)."""
    counts = dict(store.query("SELECT status, count(*) FROM links GROUP BY status"))
    by_status = {s: int(counts.get(s, 0)) for s in LINK_STATUSES}
    by_status |= {str(s): int(n) for s, n in counts.items() if s not in by_status}
    persons = store.scalar("""
        SELECT count(DISTINCT m.entity_id) FROM (
            SELECT source_l AS source, record_id_l AS record_id FROM links WHERE status = 'review'
            UNION SELECT source_r, record_id_r FROM links WHERE status = 'review') r
        JOIN entity_members m USING (source, record_id)""")
    queue = {"links": by_status["review"], "persons": int(persons or 0)}
    return {"by_status": by_status, "review_queue": queue}


def shared_identifiers(store: Store) -> dict[str, Any]:
    """Identifier values the latest run switched off as evidence because several people (dates
    of birth) use them: counts by kind, never the values."""
    if not _table_exists(store, SHARED_TABLE):
        return {"total": 0, "by_kind": {}}
    rows = store.query(f"SELECT kind, count(*) FROM {SHARED_TABLE} GROUP BY kind ORDER BY kind")
    by_kind = {str(k): int(n) for k, n in rows}
    return {"total": sum(by_kind.values()), "by_kind": by_kind}


def _model_summary(model: dict[str, Any]) -> dict[str, Any]:
    comparisons = {}
    for name, c in (model.get("comparisons") or {}).items():
        comparisons[name] = {
            "term_frequency": c.get("term_frequency"),
            "levels": [{"label": lv.get("label"), "m": lv.get("m"), "u": lv.get("u"),
                        "log2_bayes_factor": lv.get("log2_bayes_factor")} for lv in c.get("levels", [])]}
    return {"kind": model.get("kind"), "created": model.get("created"), "prior": model.get("prior"),
            "em_iterations": model.get("em_iterations"), "pairs_trained": model.get("pairs_trained"),
            "comparisons": comparisons}


def latest_run(store: Store) -> dict[str, Any] | None:
    """The latest resolution run: its counts, settings, model and blocking rules."""
    rows = store.read_arrow(
        "SELECT run_id, user_id, CAST(started_at AS VARCHAR) AS started_at, "
        "CAST(finished_at AS VARCHAR) AS finished_at, records, pairs, links, review, entities, "
        "rejected_links, model, settings, blocking FROM resolution_runs ORDER BY run_id DESC LIMIT 1"
    ).to_pylist()
    if not rows:
        return None
    run = rows[0]
    events = dict(store.query("SELECT event, count(*) FROM entity_events WHERE run_id = ? GROUP BY event",
                              [run["run_id"]]))
    blocking = [{k: rule.get(k) for k in ("name", "comparisons", "blocks", "largest_block",
                                          "skipped_blocks", "skipped_records")}
                for rule in json.loads(run["blocking"])]
    return {k: run[k] for k in ("run_id", "user_id", "started_at", "finished_at", "records", "pairs", "links",
                                "review", "entities", "rejected_links")} | {
        "id_events": {str(k): int(v) for k, v in events.items()},
        "settings": json.loads(run["settings"]),
        "model": _model_summary(json.loads(run["model"])),
        "blocking": blocking,
    }


def quarantine(store: Store) -> dict[str, Any]:
    """Rows quarantined by the latest batch of each source, by source, field and reason."""
    rows = quarantined_last_batches(store)
    by_reason = [{"source": s, "field": f, "reason": r, "rows": int(n)} for s, f, r, n in rows]
    return {"rows": sum(r["rows"] for r in by_reason), "by_reason": by_reason}


def report(store: Store) -> dict[str, Any]:
    """Every count above, in one report."""
    return {"records": records(store), "entities": entities(store), "links": links(store),
            "shared_identifiers": shared_identifiers(store), "latest_run": latest_run(store),
            "quarantine": quarantine(store)}
