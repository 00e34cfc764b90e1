"""`accord serve --workers N` on a PostgreSQL store, as a real server: several worker processes
share the port; what one process changes (the CLI, here) every worker sees on its next request;
every answered request has its audit event and the chain verifies; a worker killed under load is
replaced while the others keep answering. An embedded store is refused more than one worker.

A connection stays with the worker that accepted it: the test finds that worker from outside, as
the process holding the server's end of the connection (``/proc/net/tcp`` and each worker's
open files), so the server says nothing about its processes (:func:`on_every_worker`).

The requests used are those that work on PostgreSQL today (health, users, tokens, agreements,
audit, disclosures, the UI's sign-in and account page). Person reads go in ``AUDITED`` (and in
``on_every_worker`` checks) once they work on PostgreSQL.

No duration is asserted anywhere: every wait has a generous deadline and fails only when it
passes.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

import accord
from accord import services
from accord.store.target import beside

WORKERS = 2
WAIT = 180.0               # seconds any wait may take before the test gives up (never asserted)
SOURCES = str(Path(accord.__file__).parents[1])   # the same accord for every process started here
T = TypeVar("T")


# --- the server and its workers -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(url: str, **more: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (SOURCES, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "ACCORD_DB": url, "COLUMNS": "200", **more}


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


@dataclass
class Served:
    """``accord serve --workers N`` over a PostgreSQL store made by ``accord init --samples``."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str]
    agreements_dir: Path
    markers: Iterator[int] = field(default_factory=lambda: itertools.count(10**12))

    def workers(self) -> set[int]:
        """The live worker processes under the supervisor."""
        return {c for c in children(self.process.pid) if is_worker(c) and alive(c)}

    def cli(self, *args: str, user: str = "admin", check: bool = True) -> subprocess.CompletedProcess[str]:
        """An accord command in a process of its own, on the same store."""
        done = subprocess.run([sys.executable, "-m", "accord", *args],
                              env=environment(self.url, ACCORD_USER=user), capture_output=True, text=True,
                              timeout=WAIT)
        if check:
            assert done.returncode == 0, f"accord {' '.join(args)}: {done.stderr}{done.stdout}"
        return done

    def head(self) -> int:
        with psycopg.connect(self.url) as con:
            return int(con.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0])  # type: ignore[index]

    def events_since(self, seq: int) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as con, con.cursor() as cur:
            cur.execute("SELECT seq, user_id, action, origin, decision, details FROM audit_events "
                        "WHERE seq > %s ORDER BY seq", [seq])
            names = [d.name for d in cur.description or []]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for r in rows:
            if isinstance(r["details"], str):
                r["details"] = json.loads(r["details"])
        return rows

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def wait_for(what: str, ready: Callable[[], T | None], served: Served | None = None) -> T:
    deadline = time.monotonic() + WAIT
    while True:
        found = ready()
        if found:
            return found
        if time.monotonic() > deadline:
            said = f"; server log:\n{served.server_log()}" if served else ""
            pytest.fail(f"gave up waiting for {what}{said}")
        time.sleep(0.1)


def start(url: str, tmp_path: Path, workers: int = WORKERS) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "accord", "serve", "--workers", str(workers),
                                    "--port", str(port)], env=environment(url), stdout=sink,
                                   stderr=subprocess.STDOUT)
    return process, port, log


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture
def served(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.chdir(tmp_path)
    made = services.init(pg_url, samples=True, tokens=True)
    process, port, log = start(pg_url, tmp_path)
    s = Served(pg_url, port, process, log, made.tokens, beside(pg_url, "-agreements"))
    try:
        wait_for("the server to listen", lambda: listening(port) or process.poll() is not None, s)
        assert process.poll() is None, s.server_log()
        wait_for(f"{WORKERS} workers answering", lambda: len(s.workers()) == WORKERS and len(
            on_every_worker(s, lambda c: c.worker())) == WORKERS, s)
        yield s
    finally:
        stop(process)


# --- connections, one worker each ------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for h in self.headers.get_all("set-cookie") or []:
            jar.load(h)
        return {k: m.value for k, m in jar.items()}


def server_end(server_port: int, client_port: int) -> str | None:
    """The socket inode of the server's end of a loopback connection."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote = parts[1].split(":"), parts[2].split(":")
        if int(local[1], 16) == server_port and int(remote[1], 16) == client_port:
            return parts[9]
    return None


def holder(inode: str, pids: set[int]) -> int | None:
    """Which of ``pids`` has the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except FileNotFoundError:
                continue
    return None


class Conn:
    """One keep-alive connection: every request on it is answered by the worker that accepted it."""

    def __init__(self, served: Served) -> None:
        self.served, self.port = served, served.port
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def send(self, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> Answer:
        self.http.request(method, path, body=body, headers=headers or {})
        r = self.http.getresponse()
        return Answer(r.status, r.headers, r.read())

    def get(self, path: str, token: str | None = None, **headers: str) -> Answer:
        return self.send("GET", path, {**({"Authorization": f"Bearer {token}"} if token else {}), **headers})

    def worker(self) -> int:
        """The worker holding this connection (a health check first: once answered, the
        connection has been accepted); 0 when none of the live workers holds it."""
        answer = self.get("/api/health")
        assert answer.status == 200
        assert self.http.sock is not None
        inode = server_end(self.port, self.http.sock.getsockname()[1])
        found = holder(inode, self.served.workers()) if inode else None
        return found or 0


def on_every_worker(served: Served, call: Callable[[Conn], T]) -> dict[int, T]:
    """``call`` answered once by every live worker: fresh connections until each worker has
    accepted one; the call counts for a worker when health checks on its connection just before
    and just after it name that worker."""
    done: dict[int, T] = {}
    deadline = time.monotonic() + WAIT
    while True:
        wanted = served.workers()
        if wanted and wanted <= set(done):
            return {p: done[p] for p in wanted}
        if time.monotonic() > deadline:
            pytest.fail(f"not every worker answered: {sorted(wanted)}, answered {sorted(done)}\n"
                        f"{served.server_log()}")
        with Conn(served) as c:
            pid = c.worker()
            if pid in done or pid not in wanted:
                continue
            sock = c.http.sock
            result = call(c)
            if c.http.sock is sock and c.worker() == pid:
                done[pid] = result


# --- audited requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """An API request that writes one audit event (``action`` by ``user``); ``marked`` requests
    carry a number the event records in its details, so each answer is matched to its event."""

    user: str
    action: str
    path: str
    marker: str | None = None      # the query parameter the event's details record

    def target(self, n: int) -> str:
        return f"{self.path}{'&' if '?' in self.path else '?'}{self.marker}={n}" if self.marker else self.path


# Person reads (GET /api/persons/{id}, /api/worklist ...) go here once they work on PostgreSQL.
AUDITED = (
    Call("olive", "audit.read", "/api/audit/events?limit=2", marker="before"),
    Call("olive", "disclosures.read", "/api/disclosures?limit=2", marker="as_of"),
    Call("pat", "disclosures.read", "/api/disclosures?limit=1", marker="as_of"),
    Call("admin", "users.read", "/api/users?limit=5"),
    Call("admin", "users.read", "/api/users/dana/tokens"),
    Call("olive", "agreements.read", "/api/agreements"),
)


@dataclass
class Load:
    """Requests from several client threads, each on a fresh connection (so spread over the
    workers), until stopped; what each request got is kept."""

    served: Served
    calls: tuple[Call, ...] = AUDITED
    threads: int = 6
    # call, marker, status, worker
    answered: list[tuple[Call, int, int, int | None]] = field(default_factory=list)
    failed: list[tuple[Call, int, str]] = field(default_factory=list)   # no answer (the connection broke)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def one(self, call: Call, n: int) -> None:
        token = self.served.tokens[call.user]
        try:
            with Conn(self.served) as c:
                pid = c.worker()
                answer = c.get(call.target(n), token)
        except (OSError, http.client.HTTPException) as e:
            with self._lock:
                self.failed.append((call, n, repr(e)))
            return
        with self._lock:
            self.answered.append((call, n, answer.status, pid))

    def run(self, count: int | None = None) -> None:
        """Send ``count`` requests (or until stopped), round-robin over the calls."""
        numbers = self.served.markers
        lock = threading.Lock()
        sent = itertools.count()

        def client() -> None:
            while not self.stop.is_set():
                with lock:
                    i = next(sent)
                    if count is not None and i >= count:
                        return
                    n = next(numbers)
                self.one(self.calls[i % len(self.calls)], n)

        pool = [threading.Thread(target=client) for _ in range(self.threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def background(self) -> threading.Thread:
        thread = threading.Thread(target=self.run)
        thread.start()
        return thread


def check_events(served: Served, since: int, load: Load) -> list[dict[str, Any]]:
    """Every answered request has its event (matched one to one by marker where the call is
    marked, counted by user and action otherwise); an event without an answer is one of the
    requests whose connection broke."""
    events = [e for e in served.events_since(since) if e["origin"] == "api"]
    answered = [(c, n) for c, n, status, _ in load.answered if status == 200]
    failed = {(c.user, c.action, n) for c, n, _ in load.failed}

    def mark(e: dict[str, Any]) -> int | None:
        value = (e["details"] or {}).get("before") or (e["details"] or {}).get("as_of")
        return int(value) if value else None

    marked = Counter((e["user_id"], e["action"], mark(e)) for e in events if mark(e) is not None)
    assert all(k == 1 for k in marked.values()), "an answered request has more than one event"
    for c, n in answered:
        if c.marker:
            assert (c.user, c.action, n) in marked, f"answered {c.target(n)} as {c.user} has no audit event"
    unanswered = set(marked) - {(c.user, c.action, n) for c, n in answered if c.marker}
    assert unanswered <= failed, f"events for requests never sent or answered: {sorted(unanswered)[:5]}"
    plain = Counter((e["user_id"], e["action"]) for e in events if mark(e) is None)
    want = Counter((c.user, c.action) for c, _ in answered if not c.marker)
    broken = Counter((c.user, c.action) for c, _, _ in load.failed if not c.marker)
    for key, n in want.items():
        assert n <= plain[key] <= n + broken[key], f"{key}: {n} answered, {plain[key]} events"
    assert all(e["decision"] == "allow" for e in events)
    return events


# --- the tests --------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_requests_spread_over_the_workers_all_succeed_each_with_its_audit_event(served: Served) -> None:
    since = served.head()
    load = Load(served)
    load.run(count=300)
    assert not load.failed, load.failed[:3]
    assert {status for *_, status, _ in load.answered} == {200}
    assert {pid for *_, pid in load.answered} == served.workers()       # every worker answered some
    events = check_events(served, since, load)
    assert len(events) == len(load.answered)
    verified = served.cli("audit", "verify", "--json", user="olive")
    assert json.loads(verified.stdout)["ok"] is True


@pytest.mark.postgres
@pytest.mark.slow
def test_a_token_revoked_by_the_cli_is_refused_by_every_worker_on_the_next_request(served: Served) -> None:
    token = served.tokens["olive"]
    before = on_every_worker(served, lambda c: c.get("/api/audit/events?limit=1", token).status)
    assert set(before.values()) == {200}                   # each worker has looked the token up
    served.cli("users", "revoke-token", "olive", token)
    after = on_every_worker(served, lambda c: c.get("/api/audit/events?limit=1", token).status)
    assert set(after.values()) == {401}
    others = on_every_worker(served, lambda c: c.get("/api/agreements", served.tokens["pat"]).status)
    assert set(others.values()) == {200}                   # nobody else's token is touched


def sign_in(c: Conn, user: str, token: str) -> str:
    """Sign in through the UI on this connection; the session id."""
    form = c.get("/login")
    form_token = form.cookies()["accord_login"]
    body = urllib.parse.urlencode({"user_id": user, "token": token, "form_token": form_token,
                                   "next": "/account"}).encode()
    done = c.send("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                     "Cookie": f"accord_login={form_token}",
                                     "Origin": f"http://127.0.0.1:{c.port}"}, body)
    assert done.status == 303, done.body[:500]
    return done.cookies()["accord_session"]


def account(c: Conn, session: str) -> Answer:
    return c.get("/account", None, Cookie=f"accord_session={session}")


@pytest.mark.postgres
@pytest.mark.slow
def test_a_user_deactivated_by_the_cli_is_refused_by_every_worker_and_their_session_ends(
        served: Served) -> None:
    token = served.tokens["pat"]
    with Conn(served) as c:
        session = sign_in(c, "pat", token)                 # signed in on one worker ...
    pages = on_every_worker(served, lambda c: account(c, session))
    assert {p.status for p in pages.values()} == {200}     # ... and signed in on every worker
    assert all(b"Pat Privacy" in p.body for p in pages.values())
    before = on_every_worker(served, lambda c: c.get("/api/agreements", token).status)
    assert set(before.values()) == {200}
    served.cli("users", "deactivate", "pat")
    after = on_every_worker(served, lambda c: c.get("/api/agreements", token).status)
    assert set(after.values()) == {401}
    ended = on_every_worker(served, lambda c: account(c, session))
    assert {p.status for p in ended.values()} == {303}
    assert all(p.headers["location"].startswith("/login") for p in ended.values())


@pytest.mark.postgres
@pytest.mark.slow
def test_an_agreement_added_by_the_cli_is_seen_by_every_worker_at_once(served: Served,
                                                                       tmp_path: Path) -> None:
    with Conn(served) as c:
        session = sign_in(c, "casey", served.tokens["casey"])

    def listed(c: Conn) -> tuple[set[str], bytes]:
        api = c.get("/api/agreements", served.tokens["olive"])
        assert api.status == 200
        page = account(c, session)
        assert page.status == 200
        return {a["id"] for a in api.json()["items"]}, page.body

    before = on_every_worker(served, listed)            # each worker has listed them (and kept the UI's list)
    assert all("CMA-ENF-2026" in ids and "CMA-ENF-2027" not in ids for ids, _ in before.values())
    assert all(b"CMA-ENF-2026:" in page and b"CMA-ENF-2027" not in page for _, page in before.values())
    text = (served.agreements_dir / "enforcement.agreement.yaml").read_text()
    new = tmp_path / "another.agreement.yaml"
    new.write_text(re.sub(r"(?m)^id: .*$", "id: CMA-ENF-2027", text))
    served.cli("agreements", "add", str(new), user="pat")
    after = on_every_worker(served, listed)
    assert all("CMA-ENF-2027" in ids for ids, _ in after.values())
    assert all(b"CMA-ENF-2027:" in page for _, page in after.values())


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_killed_under_load_is_replaced_and_no_answered_request_lacks_its_event(
        served: Served) -> None:
    since = served.head()
    first = served.workers()
    load = Load(served)
    thread = load.background()
    try:
        wait_for("50 answers, from every worker, before the kill",
                 lambda: len(load.answered) >= 50 and {pid for *_, pid in list(load.answered)} >= first,
                 served)
        victim = sorted(first)[0]
        answered_at_kill = len(load.answered)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for("a new worker in place of the one killed",
                            lambda: (lambda now: now if len(now) == WORKERS and victim not in now else None)(
                                served.workers()), served)
        wait_for("100 more answers, some from the new worker",
                 lambda: len(load.answered) > answered_at_kill + 100 and {
                     pid for *_, pid in load.answered[answered_at_kill:]} >= replaced - first, served)
    finally:
        load.stop.set()
        thread.join()
    assert {status for *_, status, _ in load.answered} == {200}
    assert len(load.answered) > answered_at_kill + 100                   # kept answering
    assert len(load.failed) <= load.threads * 2, load.failed[:5]         # only requests under way at the kill
    check_events(served, since, load)
    assert json.loads(served.cli("audit", "verify", "--json", user="olive").stdout)["ok"] is True
    assert set(on_every_worker(served, lambda c: c.worker())) == replaced   # the count is back


def connections(url: str) -> int:
    name = urllib.parse.urlsplit(url).path.strip("/")
    with psycopg.connect(url) as con:
        return int(con.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                               "pg_backend_pid()", [name]).fetchone()[0])  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_server_stops_cleanly_workers_and_connections_with_it(served: Served) -> None:
    workers = served.workers()
    assert connections(served.url) >= WORKERS                   # each worker holds the store open
    assert stop(served.process) == 0
    assert not any(alive(p) for p in workers)
    wait_for("the workers' connections to close", lambda: connections(served.url) == 0 or None)
    log = served.server_log()
    assert "Traceback" not in log and log.count("Application shutdown complete") == WORKERS
    # the tests' cluster runs without fsync: the server says what that risks
    assert "warning: fsync is off on the PostgreSQL server" in " ".join(log.split())


@pytest.mark.postgres
@pytest.mark.slow
def test_a_store_that_cannot_be_opened_is_said_once_before_any_worker_starts(
        pg_cluster: Any, tmp_path: Path) -> None:
    empty = pg_cluster.new_database()                   # a database without a store
    process, _, log = start(empty, tmp_path)
    assert process.wait(timeout=WAIT) == 3     # the store is missing (docs/cli.md)
    said = log.read_text()
    assert "error:" in said and "Started server process" not in said


@pytest.mark.parametrize("workers", ["2", "0"])
def test_an_embedded_store_is_refused_more_than_one_worker(tmp_path: Path, workers: str) -> None:
    db = tmp_path / "store.duckdb"
    services.init(db)
    done = subprocess.run([sys.executable, "-m", "accord", "serve", "--db", str(db), "--workers", workers,
                           "--port", str(free_port())], env=environment(str(db)), capture_output=True,
                          text=True, timeout=WAIT)
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    if workers == "2":
        assert "one process at a time" in said and "PostgreSQL" in said and "leave --workers out" in said
    else:
        assert "1 or more" in said


def test_ingest_resolve_verify_and_a_subject_report_run_from_the_cli_while_the_workers_answer(
        served: Served, tmp_path: Path) -> None:
    world = services.synth(300, 4, tmp_path / "world")
    answered: Counter[int] = Counter()
    done = threading.Event()

    def load() -> None:
        with Conn(served) as c:
            while not done.is_set():
                answered[c.get("/api/audit/head", served.tokens["olive"]).status] += 1

    clients = [threading.Thread(target=load) for _ in range(2)]
    for t in clients:
        t.start()
    try:
        for ex in world.extracts[:4]:
            served.cli("ingest", str(ex.mapping_path), user="dana")
        served.cli("resolve", user="dana")
        served.cli("audit", "verify", user="olive")
        with psycopg.connect(served.url) as con:
            person = con.execute("SELECT entity_id FROM entity_members LIMIT 1").fetchone()
        assert person is not None
        report = served.cli("subject-report", "--person", person[0], user="pat")
        assert person[0] in report.stdout
    finally:
        done.set()
        for t in clients:
            t.join(WAIT)
    assert answered[200] > 0 and set(answered) == {200}, answered
    assert served.process.poll() is None and len(served.workers()) == WORKERS
    served.cli("audit", "verify", user="olive")
