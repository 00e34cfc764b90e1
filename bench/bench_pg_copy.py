"""Bulk Arrow in and out of the PostgreSQL store: the row path vs. COPY as CSV, DuckDB beside.

    .venv/bin/python bench/bench_pg_copy.py [--rows 200000 1000000] [--url postgresql://...]
                                            [--repeat 1]

A records-like table (20 text columns with NULLs, empty strings, commas, quotes and accents;
2 dates; 1 UTC timestamp) is appended with ``Store.bulk_load`` and read back whole with
``Store.read_arrow`` by each contender, each run in its own process (peak RSS is per process,
the input table included):
- pg-rows: the PostgreSQL store's row path (``COPY ... write_row`` per row; an Arrow table built
  from the fetched Python rows), what ``bulk_load``/``read_arrow`` did before;
- pg-copy: ``bulk_load``/``read_arrow`` now (CSV batches through ``COPY`` both ways);
- pg-server: a floor, no client at all: PostgreSQL's own ``COPY`` from and to a CSV file on the
  server's disk (the file pg-copy would send; needs a superuser, as on the private cluster);
- duckdb: the embedded store (``DuckDBStore``) on a file, for reference.
PostgreSQL is a private cluster started as the tests start theirs (``tests/pgcluster.py``), a new
database per run, unless ``--url`` names a database (its ``bench_records`` table is replaced).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from procmem import peak_mb

ROOT = Path(__file__).resolve().parents[1]
TEXT_COLUMNS = 20
DDL = ("CREATE TABLE bench_records ("
       + ", ".join(f"t{i:02d} TEXT" for i in range(TEXT_COLUMNS))
       + ", dob DATE, seen DATE, loaded_at TIMESTAMPTZ)")
CONTENDERS = ("pg-rows", "pg-copy", "pg-server", "duckdb")


def make_table(rows: int, seed: int = 7) -> pa.Table:
    r = np.random.default_rng(seed)
    words = np.array(["GARCIA", "NGUYEN", "SMITH", "DE LA CRUZ", "O'BRIEN", "Müller", "José María",
                      "Smith, Jr.", 'the "quoted"', "", "AL-SAYED", "Łukasz", "1234 MAIN ST", "TX",
                      "78701", "A123456789", "555-0100", "x@example.org"])
    columns: dict[str, Any] = {}
    for i in range(TEXT_COLUMNS):
        picked = words[r.integers(0, len(words), rows)]
        if i == 0:                                            # a record id: unique, never null
            columns[f"t{i:02d}"] = pa.array(np.char.add("R", np.arange(rows).astype(str)))
            continue
        values = np.char.add(picked, r.integers(0, 1000, rows).astype(str)) if i % 4 == 1 else picked
        columns[f"t{i:02d}"] = pa.array(values, mask=r.random(rows) < 0.1)
    days = r.integers(-20_000, 20_000, rows).astype("datetime64[D]")
    columns["dob"] = pa.array(days, pa.date32(), mask=r.random(rows) < 0.05)
    columns["seen"] = pa.array(days + 365, pa.date32())
    micros = (1_700_000_000_000_000 + r.integers(0, 10**14, rows)).astype("datetime64[us]")
    columns["loaded_at"] = pa.array(micros, pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def run(kind: str, parquet: Path, target: str) -> dict[str, float]:
    """One contender in this process: load the table, then read it back."""
    from accord.store import DuckDBStore, Store

    data = pq.read_table(parquet)
    store = DuckDBStore(Path(target)) if kind == "duckdb" else Store(target)
    with store:
        with store.transaction():
            store.changed()
            store.write("DROP TABLE IF EXISTS bench_records")
            store.write(DDL)
        if kind == "pg-server":
            return server_copy(store, data)
        t = time.perf_counter()
        with store.transaction():
            if kind == "pg-rows":
                store._load_rows("bench_records", data, list(data.column_names))
                store.changed()
            else:
                store.bulk_load("bench_records", data)
        load = time.perf_counter() - t
        sql = "SELECT * FROM bench_records"
        t = time.perf_counter()
        back = (store._read_rows(sql, None) if kind == "pg-rows"
                else store.read_arrow(sql))
        read = time.perf_counter() - t
    if back.num_rows != data.num_rows:
        raise SystemExit(f"{kind}: read {back.num_rows:,} rows of {data.num_rows:,}")
    if kind != "pg-rows":                 # the row path's types differ (null type for all-NULL columns)
        order = pc.sort_indices(back, [("t00", "ascending")])
        expected = data.take(pc.sort_indices(data, [("t00", "ascending")]))
        if not back.take(order).equals(expected):
            raise SystemExit(f"{kind}: the table read back differs from the one loaded")
    rows = data.num_rows
    return {"load_s": load, "read_s": read, "load_rps": rows / load, "read_rps": rows / read,
            "peak_mb": peak_mb()}


def server_copy(store: Any, data: pa.Table) -> dict[str, float]:
    """PostgreSQL's COPY of a CSV file on its own disk, in and out (no client in the way)."""
    shared = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    shared.chmod(0o777)                     # the server may run as another user
    try:
        return _server_copy(store, data, shared / "in.csv", shared / "out.csv")
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _server_copy(store: Any, data: pa.Table, csv_in: Path, csv_out: Path) -> dict[str, float]:
    from accord.store import pg_copy

    with csv_in.open("wb") as f:
        for chunk in pg_copy._csv_batches("bench_records", data, data.column_names):
            f.write(chunk)
    csv_in.chmod(0o644)
    t = time.perf_counter()
    with store.transaction():
        store.write(f"COPY bench_records FROM '{csv_in}' WITH (FORMAT csv)")
    load = time.perf_counter() - t
    t = time.perf_counter()
    store.write(f"COPY bench_records TO '{csv_out}' WITH (FORMAT csv)")
    read = time.perf_counter() - t
    if store.scalar("SELECT count(*) FROM bench_records") != data.num_rows:
        raise SystemExit("pg-server: the file did not load whole")
    rows = data.num_rows
    return {"load_s": load, "read_s": read, "load_rps": rows / load, "read_rps": rows / read,
            "peak_mb": peak_mb()}


def contender(kind: str, parquet: Path, target: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--run", kind, "--parquet", str(parquet),
                           "--target", target], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--url", help="a PostgreSQL database to use instead of a private cluster")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--parquet", help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        print(json.dumps(run(args.run, Path(args.parquet), args.target)))
        return
    cluster = None
    if not args.url:
        sys.path.insert(0, str(ROOT / "tests"))
        from pgcluster import Cluster

        cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for rows in args.rows:
                parquet = work / f"records_{rows}.parquet"
                pq.write_table(make_table(rows), parquet)
                print(f"\n{rows:,} rows, {TEXT_COLUMNS} text + 2 date + 1 timestamptz columns "
                      f"(best of {args.repeat})")
                print(f"{'contender':10s} {'load s':>8s} {'load rows/s':>12s} {'read s':>8s} "
                      f"{'read rows/s':>12s} {'peak MB':>8s}")
                for kind in CONTENDERS:
                    runs = []
                    for i in range(args.repeat):
                        if kind == "duckdb":
                            target = str(work / f"duck_{rows}_{i}.duckdb")
                        else:
                            target = args.url or cluster.new_database()
                        runs.append(contender(kind, parquet, target))
                    load, read = min(r["load_s"] for r in runs), min(r["read_s"] for r in runs)
                    print(f"{kind:10s} {load:8.2f} {rows / load:12,.0f} {read:8.2f} {rows / read:12,.0f} "
                          f"{max(r['peak_mb'] for r in runs):8.0f}", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
