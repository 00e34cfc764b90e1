"""Synthetic world generation: time, rows per extract, rows per second and peak memory.

    .venv/bin/python bench/bench_synth.py [--persons 100000 1000000] [--format csv]
                                          [--seed 1] [--out DIR]

Each size runs in its own process, so peak RSS is per world. Worlds are written to a
temporary directory (removed afterwards) unless --out is given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from procmem import peak_mb


def run_one(persons: int, seed: int, fmt: str, out: Path) -> dict[str, Any]:
    from accord.synth import generate

    start = time.perf_counter()
    result = generate(persons, seed, out, fmt=fmt)
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "persons": persons,
        "seconds": seconds,
        "rows": result.rows,
        "total_rows": sum(result.rows.values()),
        "bytes": size,
        "peak_rss_mb": peak_mb(),
    }


def report(r: dict[str, Any], fmt: str) -> None:
    total = r["total_rows"]
    print(f"\n{r['persons']:,} persons ({fmt}): {r['seconds']:.1f} s, {total:,} rows, "
          f"{total / r['seconds']:,.0f} rows/s, {r['persons'] / r['seconds']:,.0f} persons/s, "
          f"peak RSS {r['peak_rss_mb']:,.0f} MB, {r['bytes'] / 1e6:,.0f} MB written")
    for source, rows in r["rows"].items():
        print(f"  {source:<10} {rows:>12,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--out", type=Path, help="keep the worlds under this directory")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one world
    args = ap.parse_args()

    if args.one is not None:
        result = run_one(args.one, args.seed, args.format, args.out)
        print(json.dumps(result))
        return

    for persons in args.persons:
        with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
            out = (args.out / f"world-{persons}") if args.out else Path(tmp) / "world"
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(persons), "--seed", str(args.seed),
                 "--format", args.format, "--out", str(out)],
                check=True, capture_output=True, text=True)
            report(json.loads(proc.stdout.strip().splitlines()[-1]), args.format)


if __name__ == "__main__":
    main()
