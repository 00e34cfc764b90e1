"""Batch resolution on Spark (local mode) beside the embedded DuckDB run, on the same store, in one run.

    .venv/bin/python bench/bench_spark.py [--persons 30000 300000] [--master local[2]]
        [--partitions N] [--seed 1] [--out DIR] [--skip-duckdb]

For each size it generates one synthetic world (about 3.4 records per person), ingests it once
into an embedded store and copies that store, then resolves one copy with ``--engine duckdb`` and
the other with ``--engine spark`` (the given master), each in its own process:

- seconds: the resolve call, end to end (Spark: the session's start included);
- peak MB: the largest resident memory of the contender's whole process tree, sampled every
  0.2 s (Spark: the Python driver, the JVM and the Python workers together; DuckDB: its process);
- quality: pairwise precision, recall and F1 against the world's truth (``accord.eval``);
- same: whether the two runs wrote the same persons (entity ids of every record) and links
  (pairs, statuses and weights to 1e-6);
- Spark's shuffle: bytes written and read per step, from Spark's event log (each step's jobs
  carry its name), and the clustering's sizes (components, those clustered again, the largest).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def shuffle_by_step(log_dir: Path) -> dict[str, dict[str, float]]:
    """Shuffle bytes written and read per resolution step, from Spark's event log."""
    step_of_stage: dict[int, str] = {}
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"written_mb": 0.0, "read_mb": 0.0,
                                                           "tasks": 0})
    for f in log_dir.rglob("events_*"):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            e = json.loads(line)
            kind = e.get("Event")
            if kind == "SparkListenerJobStart":
                desc = (e.get("Properties") or {}).get("spark.job.description") or "other"
                for sid in e.get("Stage IDs", []):
                    step_of_stage[sid] = desc.removeprefix("accord resolve: ")
            elif kind == "SparkListenerTaskEnd":
                m = e.get("Task Metrics") or {}
                step = step_of_stage.get(e.get("Stage ID"), "other")
                w = (m.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
                r = m.get("Shuffle Read Metrics") or {}
                read = r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
                out[step]["written_mb"] += w / 2**20
                out[step]["read_mb"] += read / 2**20
                out[step]["tasks"] += 1
    return dict(out)


def child(args: argparse.Namespace) -> None:
    from accord.eval.metrics import evaluate
    from accord.resolve.pipeline import resolve
    from accord.store import Store

    db, world = Path(args.db), Path(args.world_dir)
    try:
        timings: dict[str, float] = {}
        compute = None
        if args.run == "spark":
            from accord.spark.resolve import on_spark
            from accord.spark.session import SparkOptions

            logs = Path(args.events)
            logs.mkdir(parents=True, exist_ok=True)
            options = SparkOptions(master=args.master, partitions=args.partitions,
                                   conf={"spark.eventLog.enabled": "true",
                                         "spark.eventLog.compress": "false",
                                         "spark.eventLog.dir": logs.as_uri()})
            compute = on_spark(options, timings=timings)
        t = time.perf_counter()
        with Store(db) as store:
            summary = resolve(store, compute=compute)
            seconds = time.perf_counter() - t
            metrics = evaluate(store, world / "truth.csv")
        out = {"seconds": seconds, "records": summary.records, "pairs": summary.pairs,
               "links": summary.links, "entities": summary.entities, "metrics": metrics,
               "steps": timings}
    except Exception:
        out = {"error": traceback.format_exc()}
    print(json.dumps(out, default=str))


def contender(name: str, db: Path, world: Path, events: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--db", str(db),
           "--world-dir", str(world), "--master", args.master, "--events", str(events)]
    if args.partitions:
        cmd += ["--partitions", str(args.partitions)]
    peak = [0.0]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    t = time.perf_counter()
    watcher.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t
    watcher.join()
    try:
        out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        out = {"error": f"exit code {proc.returncode}\n{stdout[-3000:]}"}
    out.update(process_seconds=wall, peak_mb=peak[0])
    return out


def same_results(a: Path, b: Path) -> dict[str, bool]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    persons = con.sql("""SELECT count(*) FROM a.entity_members x FULL JOIN b.entity_members y
                         USING (source, record_id) WHERE x.entity_id IS DISTINCT FROM y.entity_id"""
                      ).fetchall()[0][0]
    links = con.sql("""SELECT count(*) FROM a.links x FULL JOIN b.links y
                       USING (source_l, record_id_l, source_r, record_id_r)
                       WHERE x.status IS DISTINCT FROM y.status OR x.match_weight IS NULL
                          OR y.match_weight IS NULL OR abs(x.match_weight - y.match_weight) > 1e-6"""
                    ).fetchall()[0][0]
    return {"same_persons": persons == 0, "same_links": links == 0,
            "persons_differing": persons, "links_differing": links}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[30_000, 300_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=None)
    ap.add_argument("--out")
    ap.add_argument("--skip-duckdb", action="store_true")
    ap.add_argument("--run", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--world-dir", help=argparse.SUPPRESS)
    ap.add_argument("--events", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return
    from accord.ingest import ingest_file
    from accord.store import Store
    from accord.synth import generate

    tmp = tempfile.TemporaryDirectory(prefix="bench-spark-") if args.out is None else None
    out = Path(args.out or tmp.name)  # type: ignore[union-attr]
    out.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.persons:
            folder = out / f"{size}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            w = generate(size, args.seed, folder / "world")
            t = time.perf_counter()
            with Store(folder / "ingested.duckdb") as store:
                for ex in w.extracts:
                    ingest_file(store, ex.mapping_path)
            print(f"== {size:,} persons: ingested in {time.perf_counter() - t:.0f} s", flush=True)
            results: dict[str, dict[str, Any]] = {}
            for name in (["spark"] if args.skip_duckdb else ["duckdb", "spark"]):
                db = folder / f"{name}.duckdb"
                shutil.copy(folder / "ingested.duckdb", db)
                r = contender(name, db, folder / "world", folder / "events", args)
                results[name] = r
                if "error" in r:
                    print(f"{name} FAILED\n{r['error']}", flush=True)
                    continue
                m = r["metrics"]
                print(f"{name:7s} records {r['records']:>10,}  pairs {r['pairs']:>11,}  "
                      f"seconds {r['seconds']:8.1f}  process s {r['process_seconds']:8.1f}  "
                      f"peak MB {r['peak_mb']:7.0f}  pair P {m['pair_precision']:.4f}  "
                      f"R {m['pair_recall']:.4f}  F1 {m['pair_f1']:.4f}", flush=True)
            if "spark" in results and "error" not in results["spark"]:
                steps = results["spark"]["steps"]
                print("spark steps: " + "  ".join(
                    f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in steps.items()))
                shuffle = shuffle_by_step(folder / "events")
                results["spark"]["shuffle"] = shuffle
                for step, s in sorted(shuffle.items(), key=lambda kv: -kv[1]["written_mb"]):
                    print(f"  shuffle {step:18s} written {s['written_mb']:9.1f} MB  "
                          f"read {s['read_mb']:9.1f} MB  tasks {s['tasks']:>6}")
            if all(n in results and "error" not in results[n] for n in ("duckdb", "spark")):
                results["compare"] = same_results(folder / "duckdb.duckdb", folder / "spark.duckdb")
                print(f"same on both engines: {results['compare']}", flush=True)
            (out / f"results-{size}.json").write_text(json.dumps(results, indent=2, default=str))
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
