"""End-to-end resolution: Accord vs. Splink 5 (DuckDB) on the same synthetic worlds, in one run.

    .venv/bin/python bench/bench_resolve.py [--persons 100000 400000] [--seed 1] [--out DIR]
        [--skip-accord] [--skip-splink] [--accord-settings FILE] [--accord-memory-per-record N]
        [--splink-threshold 0.95] [--splink-em-max-pairs N] [--splink-sweep] [--verbose]

For each world size it generates one synthetic world (accord.synth), then runs each contender in
its own process, so peak memory is that contender's own:

- accord: a fresh store; ``ingest_file`` for every extract's mapping, then ``resolve`` with the
  built-in settings (or ``--accord-settings FILE``; ``--accord-memory-per-record N`` sets
  ``resources.memory_per_record``, the bytes per record of the automatic memory limit).
- splink: bench/splink_side.py — DuckDB SQL projects every extract onto one common table using
  its mapping YAML, then Splink 5 (DuckDB backend, in memory, DuckDB's default memory limit):
  TF-adjusted name comparisons, date of birth, SSN / A-number / passport / ZIP / sex, seven
  prediction blocking rules, lambda from deterministic rules, u by random sampling (1e7
  pairs), EM on two blocking rules ((first_name, family_name) and (dob); every blocked pair
  unless --splink-em-max-pairs), predict, connected components at match probability 0.95 (the
  best-F1 threshold of the --splink-sweep on seed 1 at 10k and 100k persons).

Seconds are end to end, from the extract files to clusters (evaluation not timed). Peak MB is the
process's peak resident set (VmHWM) from its start to that point: the interpreter, the imported
libraries' code and heap, and the work, the same way for both. ("base MB" is the resident set
right after the imports; ru_maxrss is not used: Linux carries it over from the parent at fork,
and the parent has just generated the world.) Both contenders' clusters are scored by the same
code (``accord.eval.metrics.evaluate``) against truth.csv. Records a contender does not hold
(Accord quarantines malformed rows) are left out of its scores; the records column says how
many were scored.

Targets (from the issue): Accord at least 3x faster, at most a third of Splink's peak memory,
pairwise precision >= 0.999 and pairwise F1 above Splink's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from procmem import peak_mb, rss_mb

HERE = Path(__file__).resolve().parent
METRICS = ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall",
           "records", "entities", "true_persons")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def mapping_paths(world: Path) -> list[Path]:
    manifest = json.loads((world / "synth.json").read_text(encoding="utf-8"))
    return [world / e["mapping"] for e in manifest["extracts"]]


# --- contenders (each runs in a child process) ---------------------------------------------

def run_accord(world: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from accord.eval.metrics import evaluate
    from accord.ingest import ingest_file
    from accord.resolve.pipeline import resolve
    from accord.resolve.settings import Settings, load_settings
    from accord.store import Store

    settings = load_settings(args.accord_settings)
    if args.accord_memory_per_record:
        data = settings.model_dump()
        data["resources"]["memory_per_record"] = args.accord_memory_per_record
        settings = Settings.model_validate(data)
    base = rss_mb()
    steps: dict[str, float] = {}
    t = time.perf_counter()
    with Store(work / "accord.duckdb") as store:
        rows = quarantined = 0
        for mp in mapping_paths(world):
            res = ingest_file(store, mp)
            rows += res.rows_read
            quarantined += res.quarantined
        steps["ingest"] = time.perf_counter() - t
        ingest_peak = peak_mb()
        log(f"  accord: ingested {rows:,} rows ({quarantined:,} quarantined) in {steps['ingest']:.1f} s")
        t1 = time.perf_counter()

        last = {"label": "", "t": t1}

        def step(label: str, frac: float) -> None:
            now = time.perf_counter()
            if last["label"]:
                steps[f"resolve: {last['label']}"] = now - float(last["t"])
            last.update(label=label, t=now)
            if args.verbose:
                log(f"  accord: resolve {label} ({now - t1:.1f} s, peak so far {peak_mb():,.0f} MB)")

        summary = resolve(store, settings, step=step)
        steps["resolve"] = time.perf_counter() - t1
        seconds = time.perf_counter() - t
        peak = peak_mb()
        log(f"  accord: resolved {summary.records:,} records, {summary.pairs:,} pairs, "
            f"{summary.entities:,} entities in {steps['resolve']:.1f} s")
        metrics = evaluate(store, world / "truth.csv")
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base, "ingest_peak_mb": ingest_peak,
            "steps": steps, "input_rows": rows, "metrics": metrics}


def run_splink(world: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import splink_side
    from accord.eval.metrics import evaluate
    from accord.store import Store

    sweep = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999] if args.splink_sweep else []
    base = rss_mb()
    t = time.perf_counter()
    clusters, info = splink_side.run_splink(
        mapping_paths(world), seed=args.seed, threshold=args.splink_threshold,
        predict_floor=min([*sweep, args.splink_threshold]), em_max_pairs=args.splink_em_max_pairs,
        verbose=args.verbose)
    seconds = time.perf_counter() - t
    peak = peak_mb()
    steps = info["steps"]
    log(f"  splink: {info['records']:,} records, {info['predicted_pairs']:,} predicted pairs; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))

    def score(table: Any, name: str) -> dict[str, Any]:
        import pyarrow as pa

        with Store(work / f"{name}.duckdb") as store:
            members = pa.table({"source": table.column("source"), "record_id": table.column("record_id"),
                                "entity_id": table.column("cluster_id").cast(pa.string()),
                                "run_id": pa.array([1] * table.num_rows, pa.int64())})
            store.bulk_load("entity_members", members)
            return evaluate(store, world / "truth.csv")

    metrics = score(clusters, "splink_eval")
    swept = {}
    for th in sweep:
        m = score(splink_side.recluster(info, th), f"splink_eval_{th}")
        swept[str(th)] = {k: m[k] for k in ("pair_precision", "pair_recall", "pair_f1", "entities")}
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base, "steps": steps,
            "input_rows": info["records"],
            "metrics": metrics, "threshold": args.splink_threshold, "sweep": swept}


CONTENDERS = {"accord": run_accord, "splink": run_splink}


def child(args: argparse.Namespace) -> None:
    world, work = Path(args.world), Path(args.work)
    try:
        out = CONTENDERS[args.run](world, work, args)
    except Exception:
        out = {"error": traceback.format_exc()}
    print(json.dumps(out))


def contender(name: str, world: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--world", str(world),
           "--seed", str(args.seed), "--splink-threshold", str(args.splink_threshold)]
    cmd += ["--splink-sweep"] if args.splink_sweep else []
    if args.accord_settings:
        cmd += ["--accord-settings", str(Path(args.accord_settings).resolve())]
    if args.accord_memory_per_record:
        cmd += ["--accord-memory-per-record", str(args.accord_memory_per_record)]
    if args.splink_em_max_pairs is not None:
        cmd += ["--splink-em-max-pairs", str(args.splink_em_max_pairs)]
    cmd += ["--verbose"] if args.verbose else []
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=args.out) as work:
        t = time.perf_counter()
        proc = subprocess.run([*cmd, "--work", work], stdout=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t
    lines = proc.stdout.strip().splitlines()
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        out = {"error": f"exit code {proc.returncode}, no result\n{proc.stdout[-4000:]}"}
    out["process_seconds"] = wall
    return out


# --- reporting ------------------------------------------------------------------------------

def table(size: int, results: dict[str, dict[str, Any]]) -> list[str]:
    head = (f"{'contender':10s} {'records':>9s} {'seconds':>8s} {'peak MB':>8s} {'base MB':>8s} "
            f"{'pair_P':>8s} {'pair_R':>8s} {'pair_F1':>8s} {'b3_P':>7s} {'b3_R':>7s} "
            f"{'entities':>9s} {'persons':>8s}")
    lines = [f"== {size:,} persons", head, "-" * len(head)]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"{name:10s} ERROR (see above)")
            continue
        m = r["metrics"]
        lines.append(f"{name:10s} {m['records']:>9,} {r['seconds']:8.1f} {r['peak_mb']:8.0f} "
                     f"{r.get('base_mb', 0):8.0f} "
                     f"{m['pair_precision']:8.4f} {m['pair_recall']:8.4f} {m['pair_f1']:8.4f} "
                     f"{m['bcubed_precision']:7.4f} {m['bcubed_recall']:7.4f} {m['entities']:>9,} "
                     f"{m['true_persons']:>8,}")
    a, s = results.get("accord"), results.get("splink")
    if a and s and "error" not in a and "error" not in s:
        speed = s["seconds"] / a["seconds"]
        mem = a["peak_mb"] / s["peak_mb"]
        am, sm = a["metrics"], s["metrics"]
        above = (a["peak_mb"] - a["base_mb"]) / max(s["peak_mb"] - s["base_mb"], 1)
        lines.append(f"ratios: Splink s / Accord s = {speed:.2f}x   Accord MB / Splink MB = {mem:.2f} "
                     f"(above each one's imports: {above:.2f})")
        checks = [
            ("speed >= 3x", speed >= 3),
            ("memory <= 1/3", mem <= 1 / 3),
            ("precision >= 0.999", am["pair_precision"] >= 0.999),
            ("F1 > Splink", am["pair_f1"] > sm["pair_f1"]),
        ]
        lines.append("targets: " + "   ".join(f"{c}: {'PASS' if ok else 'FAIL'}" for c, ok in checks))
    if s and s.get("sweep"):
        lines.append("splink threshold sweep (same predictions, untimed): " + "  ".join(
            f"{th}: P {v['pair_precision']:.4f} R {v['pair_recall']:.4f} F1 {v['pair_f1']:.4f}"
            for th, v in s["sweep"].items()))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 400_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="directory for worlds and stores (default: a temporary directory)")
    ap.add_argument("--skip-accord", action="store_true")
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--accord-settings",
                    help="Accord resolution settings YAML (default: the built-in settings)")
    ap.add_argument("--accord-memory-per-record", type=int,
                    help="Accord: resources.memory_per_record for the automatic memory limit "
                         "(default: the settings' own)")
    ap.add_argument("--splink-threshold", type=float, default=0.95,
                    help="Splink clustering match probability (default 0.95)")
    ap.add_argument("--splink-em-max-pairs", type=float, default=None,
                    help="cap (sampled) on the pairs each Splink EM session trains on "
                         "(default: none, Splink's default)")
    ap.add_argument("--splink-sweep", action="store_true",
                    help="also score Splink's predictions at other thresholds (predicts from 0.5)")
    ap.add_argument("--verbose", action="store_true", help="step-by-step progress (and Splink's log)")
    ap.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    ap.add_argument("--world", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return

    from accord.synth import generate

    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-resolve-")
        args.out = tmp.name
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in CONTENDERS if not getattr(args, f"skip_{n}")]
    report: list[str] = []
    try:
        for size in args.persons:
            world = out / f"world-{size}-seed{args.seed}"
            log(f"generating world: {size:,} persons, seed {args.seed} -> {world}")
            w = generate(size, args.seed, world)
            rows = sum(e.rows for e in w.extracts)
            log(f"  {rows:,} records in {len(w.extracts)} extracts, {w.seconds:.1f} s")
            results: dict[str, dict[str, Any]] = {}
            for name in names:
                log(f"running {name} ({size:,} persons)")
                r = contender(name, world, args)
                results[name] = r
                if "error" in r:
                    log(f"  {name} FAILED:\n{r['error']}")
                else:
                    log(f"  {name}: {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB, "
                        f"pair F1 {r['metrics']['pair_f1']:.4f}")
            lines = table(size, results)
            print("\n".join(lines), flush=True)
            report += [*lines, ""]
            (out / f"results-{size}-seed{args.seed}.json").write_text(
                json.dumps(results, indent=2, default=str), encoding="utf-8")
        if len(args.persons) > 1:
            print("\n" + "\n".join(report), flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
