"""End-to-end resolution: Accord vs. Splink 5 (DuckDB) on the same synthetic worlds, in one run.

    .venv/bin/python bench/bench_resolve.py [--persons 100000 400000] [--seed 1] [--out DIR]
        [--world synth|foreign] [--skip-accord] [--skip-splink] [--splink-configs heavy plain]
        [--accord-settings FILE] [--accord-memory-per-record N] [--splink-threshold 0.95]
        [--splink-plain-threshold 0.9] [--splink-em-max-pairs N] [--splink-sweep] [--verbose]

For each world size it generates one world — ``synth`` (accord.synth, whose rules Accord's
defaults were developed against) or ``foreign`` (bench/foreign_world.py: other names, layouts
and error model) — then runs each contender in its own process, so peak memory is that
contender's own:

- accord: a fresh store; ``ingest_file`` for every extract's mapping, then ``resolve`` with the
  built-in settings (or ``--accord-settings FILE``; ``--accord-memory-per-record N`` sets
  ``resources.memory_per_record``, the bytes per record of the automatic memory limit).
- splink: bench/splink_side.py — DuckDB SQL projects every extract onto one common table using
  its mapping YAML, then Splink 5 (DuckDB backend, in memory, DuckDB's default memory limit):
  TF-adjusted name comparisons, date of birth, SSN / A-number / passport / ZIP / sex, seven
  prediction blocking rules, lambda from deterministic rules, u by random sampling (1e7
  pairs), EM on two blocking rules ((first_name, family_name) and (dob); every blocked pair
  unless --splink-em-max-pairs), predict, connected components at match probability 0.95 (the
  best-F1 threshold of the --splink-sweep on seed 1 at 10k and 100k persons). This is
  ``splink-heavy``.
- splink-plain: the configuration a competent user writes first (splink_side.plain_settings):
  Jaro-Winkler on first and family name with term-frequency adjustment, Splink's date-of-birth
  comparison, Damerau-Levenshtein on SSN, exact A-number, passport and ZIP, six prediction
  blocking rules, u from 2e6 random pairs, EM on the same two rules, clusters at 0.9.

Every ratio and target is against the better Splink of the two: the faster for speed, the
smaller for memory, the higher for F1. "process s" is the contender's whole child process
(interpreter start and imports included), as a user times it.

Seconds are end to end, from the extract files to clusters (evaluation not timed). Peak MB is the
process's peak resident set (VmHWM) from its start to that point: the interpreter, the imported
libraries' code and heap, and the work, the same way for both. ("base MB" is the resident set
right after the imports; ru_maxrss is not used: Linux carries it over from the parent at fork,
and the parent has just generated the world.) Both contenders' clusters are scored by the same
code (``accord.eval.metrics.evaluate``) against truth.csv. Records a contender does not hold
(Accord quarantines malformed rows) are left out of its scores; the records column says how
many were scored.

Targets: end to end (whole processes) at least 2x faster than the faster Splink at 100k persons
and 3x at 400k, at most a third of the smaller Splink's peak memory, pairwise precision >= 0.999
and pairwise F1 above the better Splink's.
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
    """The world's extract mappings: a synthetic world's manifest lists them; another world
    holds them as ``*.mapping.yaml``."""
    if not (world / "synth.json").exists():
        return sorted(world.glob("*.mapping.yaml"))
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
    config = args.run.removeprefix("splink-")
    threshold = args.splink_threshold if config == "heavy" else args.splink_plain_threshold
    clusters, info = splink_side.run_splink(
        mapping_paths(world), seed=args.seed, threshold=threshold,
        predict_floor=min([*sweep, threshold]), em_max_pairs=args.splink_em_max_pairs,
        verbose=args.verbose, config=config)
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
            "metrics": metrics, "threshold": threshold, "sweep": swept}


CONTENDERS = {"accord": run_accord, "splink-heavy": run_splink, "splink-plain": run_splink}


def child(args: argparse.Namespace) -> None:
    world, work = Path(args.world_dir), Path(args.work)
    try:
        out = CONTENDERS[args.run](world, work, args)
    except Exception:
        out = {"error": traceback.format_exc()}
    print(json.dumps(out))


def contender(name: str, world: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--world-dir", str(world),
           "--seed", str(args.seed), "--splink-threshold", str(args.splink_threshold),
           "--splink-plain-threshold", str(args.splink_plain_threshold)]
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

def table(size: int, results: dict[str, dict[str, Any]], kind: str = "synth") -> list[str]:
    head = (f"{'contender':13s} {'records':>9s} {'seconds':>8s} {'process s':>9s} {'peak MB':>8s} "
            f"{'base MB':>8s} {'pair_P':>8s} {'pair_R':>8s} {'pair_F1':>8s} {'b3_P':>7s} "
            f"{'b3_R':>7s} {'entities':>9s} {'persons':>8s}")
    lines = [f"== {size:,} persons ({kind} world)", head, "-" * len(head)]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"{name:13s} ERROR (see above)")
            continue
        m = r["metrics"]
        lines.append(f"{name:13s} {m['records']:>9,} {r['seconds']:8.1f} "
                     f"{r.get('process_seconds', 0):9.1f} {r['peak_mb']:8.0f} "
                     f"{r.get('base_mb', 0):8.0f} "
                     f"{m['pair_precision']:8.4f} {m['pair_recall']:8.4f} {m['pair_f1']:8.4f} "
                     f"{m['bcubed_precision']:7.4f} {m['bcubed_recall']:7.4f} {m['entities']:>9,} "
                     f"{m['true_persons']:>8,}")
    a = results.get("accord")
    splinks = {n: r for n, r in results.items() if n.startswith("splink") and "error" not in r}
    if a and "error" not in a and splinks:
        # Each claim against the better Splink configuration for it.
        fast = min(splinks, key=lambda n: splinks[n]["process_seconds"])
        small = min(splinks, key=lambda n: splinks[n]["peak_mb"])
        best = max(splinks, key=lambda n: splinks[n]["metrics"]["pair_f1"])
        speed = splinks[fast]["seconds"] / a["seconds"]
        process = splinks[fast]["process_seconds"] / a["process_seconds"]
        mem = a["peak_mb"] / splinks[small]["peak_mb"]
        am = a["metrics"]
        lines.append(f"ratios: {fast} s / Accord s = {speed:.2f}x (whole processes: {process:.2f}x)"
                     f"   Accord MB / {small} MB = {mem:.2f}")
        want = 3 if size >= 400_000 else 2  # the end-to-end targets by size
        checks = [
            (f"speed >= {want}x ({fast})", process >= want),
            (f"memory <= 1/3 ({small})", mem <= 1 / 3),
            ("precision >= 0.999", am["pair_precision"] >= 0.999),
            (f"F1 > {best}", am["pair_f1"] > splinks[best]["metrics"]["pair_f1"]),
        ]
        lines.append("targets: " + "   ".join(f"{c}: {'PASS' if ok else 'FAIL'}" for c, ok in checks))
    for name, s in splinks.items():
        if s.get("sweep"):
            lines.append(f"{name} threshold sweep (same predictions, untimed): " + "  ".join(
                f"{th}: P {v['pair_precision']:.4f} R {v['pair_recall']:.4f} F1 {v['pair_f1']:.4f}"
                for th, v in s["sweep"].items()))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 400_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="directory for worlds and stores (default: a temporary directory)")
    ap.add_argument("--skip-accord", action="store_true")
    ap.add_argument("--skip-splink", action="store_true", help="run no Splink configuration")
    ap.add_argument("--splink-configs", nargs="+", choices=["heavy", "plain"],
                    default=["heavy", "plain"], help="Splink configurations to run (default both)")
    ap.add_argument("--world", choices=["synth", "foreign"], default="synth",
                    help="which generator makes the world (default synth)")
    ap.add_argument("--accord-settings",
                    help="Accord resolution settings YAML (default: the built-in settings)")
    ap.add_argument("--accord-memory-per-record", type=int,
                    help="Accord: resources.memory_per_record for the automatic memory limit "
                         "(default: the settings' own)")
    ap.add_argument("--splink-threshold", type=float, default=0.95,
                    help="Splink clustering match probability (default 0.95)")
    ap.add_argument("--splink-plain-threshold", type=float, default=0.9,
                    help="Splink plain configuration's clustering match probability (default 0.9)")
    ap.add_argument("--splink-em-max-pairs", type=float, default=None,
                    help="cap (sampled) on the pairs each Splink EM session trains on "
                         "(default: none, Splink's default)")
    ap.add_argument("--splink-sweep", action="store_true",
                    help="also score Splink's predictions at other thresholds (predicts from 0.5)")
    ap.add_argument("--verbose", action="store_true", help="step-by-step progress (and Splink's log)")
    ap.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    ap.add_argument("--world-dir", help=argparse.SUPPRESS)
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
    names = ([] if args.skip_accord else ["accord"]) + (
        [] if args.skip_splink else [f"splink-{c}" for c in args.splink_configs])
    report: list[str] = []
    try:
        for size in args.persons:
            world = out / f"{args.world}-{size}-seed{args.seed}"
            log(f"generating {args.world} world: {size:,} persons, seed {args.seed} -> {world}")
            if args.world == "synth":
                w = generate(size, args.seed, world)
                log(f"  {sum(e.rows for e in w.extracts):,} records in {len(w.extracts)} extracts, "
                    f"{w.seconds:.1f} s")
            else:
                sys.path.insert(0, str(HERE))
                import foreign_world

                fw = foreign_world.write_world(size, args.seed, world)
                log(f"  {fw.records:,} records in {len(fw.mappings)} extracts")
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
            lines = table(size, results, args.world)
            print("\n".join(lines), flush=True)
            report += [*lines, ""]
            (out / f"results-{args.world}-{size}-seed{args.seed}.json").write_text(
                json.dumps(results, indent=2, default=str), encoding="utf-8")
        if len(args.persons) > 1:
            print("\n" + "\n".join(report), flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
