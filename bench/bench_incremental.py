"""Incremental resolution beside a full batch re-run, on the same store and records.

    .venv/bin/python bench/bench_incremental.py [--persons 20000] [--seed 3] [--singles 200]
        [--batch 2000] [--out DIR]

Generates one synthetic world, ingests every extract but the last and resolves them in a batch
(the model it trains is kept), then, side by side on copies of that store:

- **stream**: ingests the last extract and resolves its records through the incremental path
  (``accord resolve --redo``: updates of ``--batch`` records) — records per second, whole
  updates included (ingest timed apart);
- **singles**: ``--singles`` more records, one per call, through ``services.add_records`` (what
  ``POST /api/records`` runs, minus HTTP): p50 / p99 of the whole call (governed action, audit
  event, ingest through the mapping, update), and the process's resident set every 20 calls;
- **batch**: the same records resolved by a full ``resolve`` with the same model: its seconds,
  and the pairwise F1 between the two partitions (and each one's against the truth).

Prints one table; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accord import services
from accord.eval.metrics import evaluate
from accord.ingest import ingest_file
from accord.ingest.rows import write_rows
from accord.resolve import incremental
from accord.resolve.pipeline import resolve
from accord.sources.mapping import load_mapping, load_mapping_file
from accord.sources.readers import open_extract
from accord.store import Store
from procmem import rss_mb


def rows_of(ex: Any) -> list[dict[str, Any]]:
    mf = load_mapping_file(ex.mapping_path)
    cols = mf.spec.columns_used()
    out: list[dict[str, Any]] = []
    for b in open_extract(mf, ex.data_path).batches:
        out += [{c: r.get(c) for c in cols} for r in b.to_pylist()]
    return out


def partition(store: Store) -> dict[tuple[str, str], str]:
    return {(s, r): e for s, r, e in store.query("SELECT source, record_id, entity_id FROM entity_members")}


def pair_f1(a: dict[Any, str], b: dict[Any, str]) -> float:
    import itertools
    from collections import defaultdict

    def pairs(p: dict[Any, str]) -> set[Any]:
        by: dict[str, list[Any]] = defaultdict(list)
        for k, e in p.items():
            by[e].append(k)
        return {x for m in by.values() for x in itertools.combinations(sorted(m), 2)}

    pa, pb = pairs(a), pairs(b)
    return 2 * len(pa & pb) / max(len(pa) + len(pb), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--singles", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="keep adding single records for this long (new record ids), sampling "
                         "the resident set every 30 s: memory over a long run")
    ap.add_argument("--batch", type=int, default=incremental.BATCH)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    root = a.out or Path(tempfile.mkdtemp(prefix="accord-bench-inc-"))
    root.mkdir(parents=True, exist_ok=True)
    world = services.synth(a.persons, a.seed, root / "world")
    *first, last = world.extracts
    services.init(root / "base.duckdb", samples=True)
    base = root / "base.duckdb"
    t = time.perf_counter()
    with Store(base) as store:
        for ex in first:
            ingest_file(store, ex.mapping_path)
        resolve(store, model_path=root / "model.json")
        held = store.scalar("SELECT count(*) FROM records_current")
    print(f"base: {held:,} records resolved in a batch [{time.perf_counter() - t:.1f} s]", flush=True)
    rows = rows_of(last)
    singles, streamed = rows[:a.singles], rows[a.singles:]
    spec = load_mapping(last.mapping_path)
    stream_file = root / f"stream.{spec.format}"
    write_rows(stream_file, spec, spec.columns_used(), streamed)

    # --- stream: ingest the extract, then drain the queue -------------------------------------
    inc = root / "inc.duckdb"
    shutil.copy(base, inc)
    with Store(inc) as store:
        t = time.perf_counter()
        result = ingest_file(store, last.mapping_path, stream_file)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        updates = incremental.drain(store, batch=a.batch)
        drain_s = time.perf_counter() - t
    per_s = result.accepted / drain_s if drain_s else float("nan")
    print(f"stream: {result.accepted:,} records; ingest {ingest_s:.1f} s; incremental "
          f"{drain_s:.1f} s in {len(updates)} updates = {per_s:,.0f} records/s", flush=True)

    # --- singles: one record per call, as POST /api/records does -------------------------------
    latencies: list[float] = []
    rss: list[float] = []
    for i, row in enumerate(singles):
        t = time.perf_counter()
        services.add_records(inc, spec.source, [row], user="dana", origin="api")
        latencies.append(time.perf_counter() - t)
        if i % 20 == 0:
            rss.append(rss_mb())
    if a.minutes:
        end = time.monotonic() + a.minutes * 60
        next_sample, n = time.monotonic(), 0
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        id_col = spec.record_id_columns[0]
        while time.monotonic() < end:
            row = dict(singles[n % len(singles)])
            row[id_col] = f"LONG{n:08d}"
            t = time.perf_counter()
            services.add_records(inc, spec.source, [row], user="dana", origin="api")
            latencies.append(time.perf_counter() - t)
            n += 1
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - started, rss_mb()))
                next_sample += 30
        print(f"long run: {n} records in {a.minutes:g} min; RSS MB by elapsed s: "
              + ", ".join(f"{s:.0f}s {m:.0f}" for s, m in samples), flush=True)
        rss += [m for _, m in samples]
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
    print(f"singles: {len(latencies)} calls; p50 {p50:.0f} ms, p99 {p99:.0f} ms; RSS MB every 20 "
          f"calls: {', '.join(f'{m:.0f}' for m in rss)}", flush=True)

    # --- batch: the same records, one full run with the same model ----------------------------
    bat = root / "batch.duckdb"
    shutil.copy(inc, bat)
    with Store(bat) as store:
        t = time.perf_counter()
        resolve(store, model_in=root / "model.json")
        batch_s = time.perf_counter() - t
        batch_part = partition(store)
        batch_q = evaluate(store, world.truth_path)
    with Store(inc) as store:
        inc_part = partition(store)
        inc_q = evaluate(store, world.truth_path)
    figures = {
        "persons": a.persons, "records": len(batch_part), "stream_records": result.accepted,
        "stream_records_per_s": round(per_s), "updates": len(updates),
        "single_p50_ms": round(p50), "single_p99_ms": round(p99), "rss_mb": [round(m) for m in rss],
        "batch_rerun_s": round(batch_s, 1),
        "pairwise_f1_incremental_vs_batch": round(pair_f1(inc_part, batch_part), 5),
        "incremental_f1_vs_truth": round(inc_q["pair_f1"], 4),
        "batch_f1_vs_truth": round(batch_q["pair_f1"], 4)}
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
