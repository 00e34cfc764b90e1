r"""Ingest speed and memory: Accord vs. plain loaders on the same files, in one run.

    .venv/bin/python bench/bench_ingest.py [--rows 1000000] [--persons 0] [--pg URL]

Contenders, each in its own process (peak RSS is per process):
- accord: `ingest_file` — read, validate every field, quarantine, hash, version, store.
- duckdb-read_csv: DuckDB's own CSV reader into a table, all text, no validation (a floor).
- pyarrow-read: pyarrow's CSV reader only, nothing stored (a floor for reading).
With --pg URL (a PostgreSQL server; each contender gets a new database there, dropped after):
- accord-postgresql: `ingest_file` into a PostgreSQL store (validation in the workspace,
  accepted rows by COPY), the same guarantees as on the embedded store.
- postgresql-copy: psql's `\copy` of the file into a table of text columns, no validation (a
  floor: what the server takes at best).
With --persons N it also ingests every extract of an N-person synthetic world.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from procmem import peak_mb as _peak_mb

MAPPING = """source: bench
system: eoir-case
format: csv
record_id: case_no
fields:
  full_name: {column: alien_name, layout: "family, given"}
  dob: {column: birthdate, format: "%m/%d/%Y"}
  a_number: a_number
  ssn: ssn
  citizenship_country: nationality
  street: street
  city: city
  state: state
  zip: zip
  case_status:
    column: case_status
    values: {"REMOVAL ORDERED": final_order, PENDING: in_proceedings, CLOSED: terminated}
  case_decision_date: {column: decided, format: "%Y%m%d"}
"""


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    r = np.random.default_rng(seed)

    def pick(values: list[str]) -> np.ndarray:
        return np.array(values)[r.integers(0, len(values), rows)]

    def digits(lo: int, hi: int, width: int) -> np.ndarray:
        return np.char.zfill(r.integers(lo, hi, rows).astype(str), width)

    ssn = np.char.add(np.char.add(np.char.add(np.char.add(digits(1, 665, 3), "-"),
                                              digits(1, 99, 2)), "-"), digits(1, 9999, 4))
    dob = np.char.add(np.char.add(np.char.add(np.char.add(digits(1, 13, 2), "/"),
                                              digits(1, 29, 2)), "/"),
                      r.integers(1930, 2010, rows).astype(str))
    decided = np.char.add(np.char.add(r.integers(2000, 2025, rows).astype(str),
                                      digits(1, 13, 2)), digits(1, 29, 2))
    families = ["GARCIA", "NGUYEN", "SMITH", "WANG", "DE LA CRUZ", "AL-SAYED", "KOWALSKI"]
    givens = ["MARIA JOSE", "VAN", "JOHN A", "LI", "FATIMA", "PIOTR", "ANA"]
    table = pa.table({
        "case_no": np.char.add("C", np.char.zfill(np.arange(rows).astype(str), 9)),
        "a_number": np.char.add("A", digits(10_000_000, 999_999_999, 9)),
        "alien_name": np.char.add(np.char.add(pick(families), ", "), pick(givens)),
        "birthdate": dob, "ssn": ssn,
        "nationality": pick(["MEXICO", "GUATEMALA", "VIETNAM", "CHINA", "INDIA"]),
        "street": np.char.add(r.integers(1, 9999, rows).astype(str), pick([" MAIN ST", " OAK AVE"])),
        "city": pick(["AUSTIN", "EL PASO", "HOUSTON"]), "state": pick(["TX", "CA", "NY"]),
        "zip": digits(1001, 99999, 5),
        "case_status": pick(["PENDING", "CLOSED", "REMOVAL ORDERED"]), "decided": decided,
    })
    pacsv.write_csv(table, path)


def run_one(kind: str, csv: Path, mapping: Path, work: Path, pg: str | None = None) -> dict[str, float]:
    t = time.perf_counter()
    rows = 0
    if kind == "accord-postgresql":
        from accord.ingest import ingest_file
        from accord.store import open_store

        assert pg is not None
        with open_store(pg) as store:
            t = time.perf_counter()          # the schema's creation is not the ingest's
            res = ingest_file(store, mapping, csv)
        rows = res.rows_read
    elif kind == "postgresql-copy":
        import psycopg

        assert pg is not None
        header = csv.open(encoding="utf-8").readline().strip().split(",")
        with psycopg.connect(pg, autocommit=True) as con:
            con.execute(f"CREATE TABLE t ({', '.join(f'{c} text' for c in header)})")
        subprocess.run(["psql", pg, "-q", "-c", f"\\copy t FROM '{csv}' WITH (FORMAT csv, HEADER)"],
                       check=True)
        with psycopg.connect(pg) as con:
            row = con.execute("SELECT count(*) FROM t").fetchone()
            rows = int(row[0]) if row else 0
    elif kind == "accord":
        from accord.ingest import ingest_file
        from accord.store import Store

        with Store(work / "accord.duckdb") as store:
            res = ingest_file(store, mapping, csv)
        rows = res.rows_read
    elif kind == "duckdb-read_csv":
        import duckdb

        con = duckdb.connect(str(work / "duck.duckdb"))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
    elif kind == "pyarrow-read":
        rows = pacsv.read_csv(csv).num_rows
    seconds = time.perf_counter() - t
    peak_mb = _peak_mb()
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "peak_mb": peak_mb}


def contender(kind: str, csv: Path, mapping: Path, pg: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work, _database(pg) as url:
        proc = subprocess.run(
            [sys.executable, __file__, "--run", kind, "--csv", str(csv), "--mapping", str(mapping),
             "--work", work, *(["--pg", url] if url else [])], capture_output=True, text=True, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def _database(server: str | None) -> Iterator[str | None]:
    """A new database on the PostgreSQL server at ``server`` (its URL), dropped after."""
    if server is None:
        yield None
        return
    import psycopg

    name = f"accord_bench_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def world(persons: int, work: Path) -> None:
    from accord.ingest import ingest_file
    from accord.store import Store
    from accord.synth import generate

    w = generate(persons, 1, work / "world")
    total, t = 0, time.perf_counter()
    with Store(work / "world.duckdb") as store:
        for ex in w.extracts:
            t1 = time.perf_counter()
            res = ingest_file(store, ex.mapping_path)
            dt = time.perf_counter() - t1
            total += res.rows_read
            print(f"  {ex.source:10s} {res.rows_read:>10,} rows {dt:6.2f} s "
                  f"{res.rows_read / dt:>10,.0f} rows/s  quarantined {res.quarantined:,}")
    dt = time.perf_counter() - t
    print(f"  {'all':10s} {total:>10,} rows {dt:6.2f} s {total / dt:>10,.0f} rows/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--persons", type=int, default=0, help="also ingest an N-person world")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--mapping", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--pg", help="a PostgreSQL server URL: also ingest into PostgreSQL stores there")
    args = ap.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, Path(args.csv), Path(args.mapping), Path(args.work), args.pg)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        csv, mapping = work / "bench.csv", work / "bench.yaml"
        make_csv(csv, args.rows)
        mapping.write_text(MAPPING, encoding="utf-8")
        size = csv.stat().st_size / 1e6
        print(f"CSV: {args.rows:,} rows, 12 columns, {size:.0f} MB (11 mapped fields)")
        print(f"{'contender':18s} {'seconds':>8s} {'rows/s':>12s} {'peak MB':>9s}")
        kinds = ["accord", "duckdb-read_csv", "pyarrow-read"]
        if args.pg:
            kinds += ["accord-postgresql", "postgresql-copy"]
        for kind in kinds:
            r = contender(kind, csv, mapping, args.pg if kind.endswith(("postgresql", "copy")) else None)
            print(f"{kind:18s} {r['seconds']:8.2f} {r['rows_per_s']:12,.0f} {r['peak_mb']:9.0f}")
        if args.persons:
            print(f"synthetic world, {args.persons:,} persons (accord ingest per extract):")
            world(args.persons, work)


if __name__ == "__main__":
    main()
