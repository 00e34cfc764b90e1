"""Resolution at scale, out of core: synthesise, ingest and resolve N persons under a memory limit.

    .venv/bin/python bench/bench_scale.py --persons 300000 [--seed 1] [--memory-limit 4GB]
        [--threads N] [--settings FILE] [--out DIR] [--keep] [--reuse-world]

About 3.46 records per person: 300,000 persons is about 1M records, 2,900,000 about 10M.

Three phases, each in its own process so that each peak RSS (VmHWM) is that phase's own:

- synth: ``accord.synth.generate`` writes the world (extract files, mappings, truth.csv);
- ingest: ``accord.services.init`` (a store with the sample users), then
  ``accord.services.ingest`` for every extract mapping, as the sample data engineer;
- resolve: ``accord.services.resolve`` with the default settings (or ``--settings FILE``),
  ``resources.memory_limit`` set to ``--memory-limit`` (default: the settings' own, ``auto``),
  then ``accord.services.evaluate`` against truth.csv (evaluation is timed separately).

While resolving, a sampler thread records the process's resident memory and the size of the
engine's spill directory (``<store>.tmp``) every 0.2 s, so the report shows how much was spilled
to disk: the out-of-core part. Printed: records, wall seconds per phase and per resolve stage,
peak RSS per phase, the largest spill, and pairwise and B-cubed precision/recall.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from procmem import peak_mb, rss_mb

RECORDS_PER_PERSON = 3.46  # synth's average (345,748 records for 100,000 persons)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def dir_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # a spill file may vanish while we look
                total += (Path(root) / name).stat().st_size
    return total / 2**20


class Sampler(threading.Thread):
    """Largest RSS and spill-directory size seen, sampled every ``every`` seconds."""

    def __init__(self, spill_dir: Path, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.spill_dir, self.every = spill_dir, every
        self.max_rss = self.max_spill = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.max_rss = max(self.max_rss, rss_mb())
            if self.spill_dir.exists():
                self.max_spill = max(self.max_spill, dir_mb(self.spill_dir))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- phases (each in a child process) -------------------------------------------------------

def phase_synth(args: argparse.Namespace) -> dict[str, Any]:
    from accord.synth import generate

    t = time.perf_counter()
    w = generate(args.persons, args.seed, Path(args.world))
    return {"seconds": time.perf_counter() - t, "peak_mb": peak_mb(),
            "records": sum(e.rows for e in w.extracts), "extracts": len(w.extracts)}


def phase_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from accord import services
    from accord.services.data import DEMO_ENGINEER

    world, db = Path(args.world), Path(args.db)
    manifest = json.loads((world / "synth.json").read_text(encoding="utf-8"))
    t = time.perf_counter()
    services.init(db, samples=True)
    per_extract: dict[str, float] = {}
    rows = quarantined = 0
    for e in manifest["extracts"]:
        t1 = time.perf_counter()
        res = services.ingest(db, world / e["mapping"], user=DEMO_ENGINEER)
        name = e["mapping"].split(".")[0]
        per_extract[name] = time.perf_counter() - t1
        rows += res.rows_read
        quarantined += res.quarantined
        log(f"  ingested {name}: {res.rows_read:,} rows in {per_extract[name]:.1f} s")
    return {"seconds": time.perf_counter() - t, "peak_mb": peak_mb(), "rows": rows,
            "quarantined": quarantined, "per_extract": per_extract}


def phase_resolve(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    from accord import services
    from accord.resolve.settings import load_settings
    from accord.services.data import DEMO_ENGINEER

    world, db = Path(args.world), Path(args.db)
    settings = load_settings(args.settings).model_dump()
    if args.memory_limit:
        settings["resources"]["memory_limit"] = args.memory_limit
    if args.threads:
        settings["resources"]["threads"] = args.threads
    settings_path = db.with_name("scale-settings.yaml")
    settings_path.write_text(yaml.safe_dump(settings), encoding="utf-8")

    stages: dict[str, dict[str, float]] = {}
    state = {"label": "start", "t": time.perf_counter()}

    def step(label: str, frac: float) -> None:
        now = time.perf_counter()
        stages[state["label"]] = {"seconds": now - state["t"], "peak_mb_after": peak_mb()}
        log(f"  resolve: {state['label']} {now - state['t']:.1f} s (peak so far {peak_mb():,.0f} MB)")
        state.update(label=label, t=now)

    sampler = Sampler(db.with_name(db.name + ".tmp"))
    sampler.start()
    t = time.perf_counter()
    try:
        summary = services.resolve(db, user=DEMO_ENGINEER, settings=settings_path, step=step)
    finally:
        sampler.stop()
    seconds = time.perf_counter() - t
    stages.pop("start", None)
    peak = peak_mb()
    t = time.perf_counter()
    quality = services.evaluate(db, world / "truth.csv", user=DEMO_ENGINEER)
    return {"seconds": seconds, "peak_mb": peak, "max_rss_sampled_mb": sampler.max_rss,
            "max_spill_mb": sampler.max_spill, "stages": stages, "records": summary.records,
            "pairs": summary.pairs, "entities": summary.entities, "links": summary.links,
            "evaluate_seconds": time.perf_counter() - t, "quality": quality.plain(),
            "memory_limit": settings["resources"]["memory_limit"]}


PHASES = {"synth": phase_synth, "ingest": phase_ingest, "resolve": phase_resolve}


def child(args: argparse.Namespace) -> None:
    try:
        out = PHASES[args.run](args)
    except Exception:
        out = {"error": traceback.format_exc()}
    print(json.dumps(out, default=str))


def run_phase(name: str, args: argparse.Namespace, world: Path, db: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--persons", str(args.persons),
           "--seed", str(args.seed), "--world", str(world), "--db", str(db)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.settings:
        cmd += ["--settings", str(Path(args.settings).resolve())]
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        out = {"error": f"exit code {proc.returncode}, no result\n{proc.stdout[-4000:]}"}
    out["process_seconds"] = time.perf_counter() - t
    if "error" in out:
        raise SystemExit(f"{name} failed:\n{out['error']}")
    return out


def report(args: argparse.Namespace, res: dict[str, dict[str, Any]]) -> str:
    r, q = res["resolve"], res["resolve"]["quality"]
    lines = [f"== {args.persons:,} persons, seed {args.seed}: {r['records']:,} records "
             f"({res['ingest']['rows']:,} rows read, {res['ingest']['quarantined']:,} quarantined), "
             f"memory limit {r['memory_limit']}"]
    head = f"{'phase':24s} {'seconds':>9s} {'peak MB':>9s}"
    lines += [head, "-" * len(head)]
    if "synth" in res:
        lines.append(f"{'synth':24s} {res['synth']['seconds']:9.1f} {res['synth']['peak_mb']:9,.0f}")
    lines.append(f"{'ingest':24s} {res['ingest']['seconds']:9.1f} {res['ingest']['peak_mb']:9,.0f}")
    lines.append(f"{'resolve':24s} {r['seconds']:9.1f} {r['peak_mb']:9,.0f}")
    for stage, v in r["stages"].items():
        lines.append(f"  {stage:22s} {v['seconds']:9.1f} {v['peak_mb_after']:9,.0f}")
    lines.append(f"{'evaluate':24s} {r['evaluate_seconds']:9.1f}")
    lines.append(f"largest spill to disk while resolving: {r['max_spill_mb']:,.0f} MB; "
                 f"pairs compared {r['pairs']:,}; entities {r['entities']:,}")
    lines.append(f"pair P {q['pair_precision']:.4f}  R {q['pair_recall']:.4f}  F1 {q['pair_f1']:.4f}   "
                 f"B-cubed P {q['bcubed_precision']:.4f}  R {q['bcubed_recall']:.4f}   "
                 f"entities {q['entities']:,} / true persons {q['true_persons']:,}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory-limit", help="resolve's memory limit, e.g. 4GB (default: settings, auto)")
    ap.add_argument("--threads", type=int, help="engine threads while resolving (default: one per core)")
    ap.add_argument("--settings", help="resolution settings YAML (default: the built-in settings)")
    ap.add_argument("--out", help="directory for the world and the store (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the store (with --out)")
    ap.add_argument("--reuse-world", action="store_true",
                    help="use the world already in --out (same persons and seed) instead of generating")
    ap.add_argument("--run", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--world", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return

    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-scale-")
        args.out = tmp.name
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    world = out / f"world-{args.persons}-seed{args.seed}"
    db = out / f"scale-{args.persons}.duckdb"
    for stale in (db, db.with_name(db.name + ".wal"), db.with_name("scale-settings.yaml")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)
    res: dict[str, dict[str, Any]] = {}
    try:
        if not (args.reuse_world and (world / "synth.json").exists()):
            log(f"synth: {args.persons:,} persons (about {args.persons * RECORDS_PER_PERSON:,.0f} records)")
            res["synth"] = run_phase("synth", args, world, db)
            log(f"  {res['synth']['records']:,} records in {res['synth']['seconds']:.1f} s")
        log("ingest")
        res["ingest"] = run_phase("ingest", args, world, db)
        log(f"  {res['ingest']['rows']:,} rows in {res['ingest']['seconds']:.1f} s, "
            f"peak {res['ingest']['peak_mb']:,.0f} MB")
        log(f"resolve (memory limit {args.memory_limit or 'from settings'})")
        res["resolve"] = run_phase("resolve", args, world, db)
        text = report(args, res)
        print(text, flush=True)
        (out / f"scale-{args.persons}-seed{args.seed}.json").write_text(
            json.dumps(res, indent=2, default=str), encoding="utf-8")
    finally:
        if not args.keep:
            for stale in (db, db.with_name(db.name + ".wal")):
                stale.unlink(missing_ok=True)
            shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
