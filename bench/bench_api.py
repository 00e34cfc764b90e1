"""Load bench for the HTTP API: governed person lookups by id, every read audited durably.

Builds a demo store (or reuses one), starts `accord serve` in its own process, and drives it
over loopback from separate client processes (plain keep-alive HTTP/1.1 on sockets, so the
clients spend as little of the machine as they can). Three phases, each printed with
requests/s, latency percentiles and statuses:

1. ``GET /api/health`` (no data, no audit): the ceiling of the server and clients on this
   machine.
2. Cold: each person looked up for the first time since the server started (every id once;
   nothing kept from an earlier read can answer it).
3. Warm: the same ids again for a fixed time. The server keeps what a read found for the same
   user, purpose and agreement until the store's data changes; the decision, the audit event
   and the accounting are still made and written for every lookup.

Then the audit events written are counted against the answered lookups (they must be equal:
no read without its event) and the chain is verified through the API.

    .venv/bin/python bench/bench_api.py --persons 3000 --seconds 15 --clients 8
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx2 as httpx

from accord import services

Result = tuple[list[float], dict[int, int], float]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=8, help="concurrent connections in all")
    ap.add_argument("--processes", type=int, default=2, help="client processes the connections share")
    ap.add_argument("--ids", type=int, default=2000, help="distinct persons looked up")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=Path("/tmp/accord-bench-api"))
    args = ap.parse_args()

    demo = services.demo(args.out, persons=args.persons, seed=3)
    db, token = demo.db, demo.setup.tokens["casey"]
    enforcement = next(a for a in demo.setup.agreements if a.startswith("CMA-ENF"))
    con = duckdb.connect(str(db), read_only=True)   # ids only, to pick whom to look up
    ids = [r[0] for r in con.execute("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT ?",
                                     [args.ids]).fetchall()]
    con.close()

    accord = str(Path(sys.executable).with_name("accord"))
    server = subprocess.Popen([accord, "serve", "--db", str(db), "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {token}", "X-Accord-Purpose": "removal_order_enforcement",
               "X-Accord-Agreement": enforcement}
    persons = [f"/api/persons/{i}" for i in ids]
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        olive = demo.setup.tokens["olive"]
        drive = (args.port, headers, args.clients, args.processes)
        ceiling = _drive(*drive, ["/api/health"], seconds=min(args.seconds, 5.0))
        events_before = _audit_head(base, olive) + 1   # + the check's own event
        cold = _drive(*drive, persons, once=True)
        warm = _drive(*drive, persons, seconds=args.seconds)
        events_after = _audit_head(base, olive)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"persons {args.persons}, ids {len(ids)}, connections {args.clients} "
          f"in {args.processes} client processes")
    for label, run in (("health (no data, no audit)", ceiling), ("cold lookups (first read of each)", cold),
                       ("warm lookups (read again)", warm)):
        latencies, statuses, elapsed = run
        q = statistics.quantiles(latencies, n=100)
        print(f"{label}: {len(latencies)} requests in {elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s)  "
              f"statuses {dict(sorted(statuses.items()))}  "
              f"latency ms p50 {q[49] * 1000:.1f}  p90 {q[89] * 1000:.1f}  p99 {q[98] * 1000:.1f}")
    served = sum(v for run in (cold, warm) for k, v in run[1].items() if k in (200, 404))
    print(f"audit events written during the lookups: {events_after - events_before}  "
          f"(answered lookups: {served}; the chain verified intact before and after)")


def _drive(port: int, headers: dict[str, str], clients: int, processes: int, paths: list[str], *,
           seconds: float = 0.0, once: bool = False) -> Result:
    """``clients`` keep-alive connections in ``processes`` processes, cycling through ``paths``
    for ``seconds`` (or through each path once, split between the connections)."""
    processes = max(1, min(processes, clients))
    ctx = mp.get_context("fork")
    queue: mp.Queue[Result] = ctx.Queue()
    share = [list(range(k, clients, processes)) for k in range(processes)]
    start = time.time() + 0.5            # every process starts at once
    procs = [ctx.Process(target=_client_process,
                         args=(port, headers, paths, mine, clients, start, seconds, once, queue))
             for mine in share]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r[0]]
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    return latencies, statuses, max(r[2] for r in results)


def _client_process(port: int, headers: dict[str, str], paths: list[str], mine: list[int], clients: int,
                    start: float, seconds: float, once: bool, queue: mp.Queue[Result]) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode() for p in paths]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def connection(k: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        mine_l: list[float] = []
        mine_s: dict[int, int] = {}
        deadline = start + seconds
        i = k
        while (i < len(requests)) if once else (time.time() < deadline):
            t0 = time.perf_counter()
            sock.sendall(requests[i % len(requests)])
            status = int(reader.readline().split()[1])
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            reader.read(length)
            mine_l.append(time.perf_counter() - t0)
            mine_s[status] = mine_s.get(status, 0) + 1
            i += clients
        sock.close()
        with lock:
            latencies.extend(mine_l)
            for s, n in mine_s.items():
                statuses[s] = statuses.get(s, 0) + n

    time.sleep(max(0.0, start - time.time()))
    t0 = time.perf_counter()
    threads = [threading.Thread(target=connection, args=(k,)) for k in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((latencies, statuses, time.perf_counter() - t0))


def _audit_head(base: str, token: str) -> int:
    """The audit head seq before this check's own event, read through the API (oversight)."""
    r = httpx.get(f"{base}/api/audit/verification", headers={"Authorization": f"Bearer {token}"}, timeout=120)
    body = r.json()
    assert body["ok"], body
    return int(body["head"]["seq"])


if __name__ == "__main__":
    main()
