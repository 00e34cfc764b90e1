"""Load bench for the HTTP API: governed person lookups by id, every read audited durably.

Builds a demo store (or reuses one), starts `accord serve` in its own process, and drives it
from this process over loopback with concurrent clients for a fixed time. Prints requests/s,
latency percentiles, errors, and the audit events written during the run counted against the
successful requests (they must be equal: no read without its event).

    .venv/bin/python bench/bench_api.py --persons 5000 --seconds 20 --clients 16
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx2 as httpx

from accord import services


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=Path("/tmp/accord-bench-api"))
    args = ap.parse_args()

    demo = services.demo(args.out, persons=args.persons, seed=3)
    db, token = demo.db, demo.setup.tokens["casey"]
    enforcement = next(a for a in demo.setup.agreements if a.startswith("CMA-ENF"))
    con = duckdb.connect(str(db), read_only=True)   # ids only, to pick whom to look up
    ids = [r[0] for r in con.execute("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 2000")
           .fetchall()]
    con.close()

    accord = str(Path(sys.executable).with_name("accord"))
    server = subprocess.Popen([accord, "serve", "--db", str(db), "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {token}", "X-Accord-Purpose": "removal_order_enforcement",
               "X-Accord-Agreement": enforcement}
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        olive = demo.setup.tokens["olive"]
        # The framework's ceiling on this machine: the same clients on a route that does nothing.
        ceiling = _drive(base, headers, ["/api/health"], args.clients, min(args.seconds, 5.0))
        events_before = _audit_head(base, olive) + 1   # + the check's own event
        run = _drive(base, headers, [f"/api/persons/{i}" for i in ids], args.clients, args.seconds)
        events_after = _audit_head(base, olive)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"persons {args.persons}, clients {args.clients}")
    for label, (latencies, statuses, elapsed) in (("health (no data, no audit)", ceiling),
                                                  ("governed person lookups", run)):
        q = statistics.quantiles(latencies, n=100)
        print(f"{label}: {len(latencies)} requests in {elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s)  "
              f"statuses {dict(sorted(statuses.items()))}  "
              f"latency ms p50 {q[49] * 1000:.1f}  p90 {q[89] * 1000:.1f}  p99 {q[98] * 1000:.1f}")
    served = sum(v for k, v in run[1].items() if k in (200, 404))
    print(f"audit events written during the lookups: {events_after - events_before}  "
          f"(answered lookups: {served}; the chain verified intact before and after)")


def _drive(base: str, headers: dict[str, str], paths: list[str], clients: int,
           seconds: float) -> tuple[list[float], dict[int, int], float]:
    """Concurrent keep-alive clients cycling through ``paths`` for ``seconds``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            i = k
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = c.get(paths[i % len(paths)])
                latencies.append(time.perf_counter() - t0)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                i += clients

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return latencies, statuses, time.perf_counter() - t0


def _audit_head(base: str, token: str) -> int:
    """The audit head seq before this check's own event, read through the API (oversight)."""
    r = httpx.get(f"{base}/api/audit/verification", headers={"Authorization": f"Bearer {token}"}, timeout=120)
    body = r.json()
    assert body["ok"], body
    return int(body["head"]["seq"])


if __name__ == "__main__":
    main()
